/**
 * Volumetric (3-D) convolution, transposed convolution and pooling over [N, C, D, H, W]
 * (PyTorch's F.conv3d, F.conv_transpose3d, F.max_pool3d, F.avg_pool3d; ONNX's Conv,
 * ConvTranspose, MaxPool and AveragePool with three spatial axes), built from the 2-D kernels.
 * A convolution gathers each output depth's kD input slices side by side as channels and runs
 * one 2-D convolution over them (the GEMM's reduction is the whole 3-D window); a transposed
 * convolution runs one 2-D transposed convolution per depth tap and adds the results at their
 * depths; a pool takes, for each depth tap, every output depth's slice as one batch of 2-D
 * planes and combines the kD 2-D pools by max or by a per-depth mean. Gradients follow from
 * the pieces. Speed against PyTorch: bench/conv3d.bench.ts.
 */
import { conv2d, convTranspose2d } from './conv.js';
import { add, maximum, mul } from './elementwise.js';
import { concat, index, permute, reshape } from './layout.js';
import { embedding } from './rnn.js';
import { avgPool2d, maxPool2d, poolOutputSize } from './pool.js';
import { checkOptionKeys, optionKeys } from '../options.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * A size for the three spatial axes: one number for all, or `[depth, height, width]`.
 *
 * @example
 * ```ts
 * import { maxPool3d, randn, type Triple } from 'axon-nn';
 * const window: Triple = [1, 2, 2]; // pool height and width, keep every frame
 * const y = maxPool3d(randn([1, 3, 8, 16, 16]), window); // [1, 3, 8, 8, 8]
 * ```
 */
export type Triple = number | readonly [number, number, number];

/**
 * Options of {@link conv3d}: stride, zero padding (symmetric per axis, or
 * `[dBegin, hBegin, wBegin, dEnd, hEnd, wEnd]` as ONNX's pads), dilation and groups.
 *
 * @example
 * ```ts
 * import { conv3d, randn, type Conv3dOptions } from 'axon-nn';
 * const options: Conv3dOptions = { stride: [1, 2, 2], padding: 1 };
 * const y = conv3d(randn([2, 3, 8, 16, 16]), randn([4, 3, 3, 3, 3]), null, options); // [2, 4, 8, 8, 8]
 * ```
 */
export interface Conv3dOptions {
  /** Step between windows per axis (default 1). */
  stride?: Triple;
  /** Zero padding: per axis, or the six begin/end values `[dB, hB, wB, dE, hE, wE]` (default 0). */
  padding?: Triple | readonly [number, number, number, number, number, number];
  /** Spacing between kernel taps per axis (default 1). */
  dilation?: Triple;
  /** Channel groups (default 1). */
  groups?: number;
}
const CONV3D_KEYS = optionKeys<Conv3dOptions>({ stride: true, padding: true, dilation: true, groups: true });

/**
 * Options of {@link convTranspose3d}: those of conv3d (the padding is removed from the full
 * output) plus `outputPadding`, extra size at the end of each axis.
 *
 * @example
 * ```ts
 * import { convTranspose3d, randn, type ConvTranspose3dOptions } from 'axon-nn';
 * const options: ConvTranspose3dOptions = { stride: 2, padding: 1, outputPadding: 1 };
 * const y = convTranspose3d(randn([1, 4, 4, 4, 4]), randn([4, 2, 3, 3, 3]), null, options); // [1, 2, 8, 8, 8]
 * ```
 */
export interface ConvTranspose3dOptions extends Conv3dOptions {
  /** Extra output size at the end of each axis, less than the stride or the dilation (default 0). */
  outputPadding?: Triple;
}
const CONV_T3D_KEYS = optionKeys<ConvTranspose3dOptions>({
  stride: true,
  padding: true,
  dilation: true,
  groups: true,
  outputPadding: true,
});

/**
 * Options of {@link maxPool3d} and {@link avgPool3d}: stride (default the kernel), padding (as
 * conv3d's; at most half the kernel), dilation (max only), ceilMode, and for the average
 * whether padded positions count in the divisor (default true, as PyTorch).
 *
 * @example
 * ```ts
 * import { maxPool3d, randn, type Pool3dOptions } from 'axon-nn';
 * const options: Pool3dOptions = { stride: 2, padding: 1, ceilMode: true };
 * const y = maxPool3d(randn([1, 2, 7, 7, 7]), 3, options); // [1, 2, 4, 4, 4]
 * ```
 */
export interface Pool3dOptions {
  /** Step between windows per axis (default: the kernel size). */
  stride?: Triple;
  /** Padding: per axis, or the six begin/end values (default 0). */
  padding?: Triple | readonly [number, number, number, number, number, number];
  /** Spacing between window taps per axis (max pooling only; default 1). */
  dilation?: Triple;
  /** Round the output size up (a last, partial window) instead of down (default false). */
  ceilMode?: boolean;
  /** Average pooling: count padded positions in the divisor (default true). */
  countIncludePad?: boolean;
}
const POOL3D_KEYS = optionKeys<Pool3dOptions>({
  stride: true,
  padding: true,
  dilation: true,
  ceilMode: true,
  countIncludePad: true,
});

function triple(op: string, v: Triple | undefined, name: string, fallback: Triple, min: number): number[] {
  const t = v ?? fallback;
  const out = typeof t === 'number' ? [t, t, t] : Array.isArray(t) ? [...(t as number[])] : [];
  if (out.length !== 3 || !out.every((x) => Number.isInteger(x) && x >= min))
    throw new RangeError(
      `${op}: ${name} must be ${min === 0 ? 'non-negative' : 'positive'} integers (one, or [d, h, w]), got ${JSON.stringify(v)}`,
    );
  return out;
}

/** [begin d, h, w, end d, h, w] from a padding option. */
function pads6(op: string, v: Conv3dOptions['padding']): number[] {
  if (Array.isArray(v) && v.length === 6) {
    if (!v.every((x) => Number.isInteger(x) && x >= 0))
      throw new RangeError(`${op}: padding must be non-negative integers, got ${JSON.stringify(v)}`);
    return [...(v as number[])];
  }
  const p = triple(op, v as Triple | undefined, 'padding', 0, 0);
  return [...p, ...p];
}

type Spacing3dOptions = {
  stride?: Triple;
  padding?: Conv3dOptions['padding'];
  dilation?: Triple;
  outputPadding?: Triple;
};

/** Stride (default `strideDefault`), dilation, the six pads and the output padding, per axis
 * [d, h, w], each checked: what every 3-D op and layer reads from its options. */
function spacing3d(
  op: string,
  options: Spacing3dOptions,
  strideDefault: Triple,
): { stride: number[]; dilation: number[]; pads: number[]; outputPadding: number[] } {
  return {
    stride: triple(op, options.stride, 'stride', strideDefault, 1),
    dilation: triple(op, options.dilation, 'dilation', 1, 1),
    pads: pads6(op, options.padding),
    outputPadding: triple(op, options.outputPadding, 'outputPadding', 0, 0),
  };
}

/** A 3-D layer's geometry, every option resolved: kernel, stride (default 1 or the kernel),
 * dilation, the six pads and the output padding, per axis [d, h, w]. @internal */
export function geometry3d(
  op: string,
  kernelSize: Triple,
  options: Spacing3dOptions,
  strideDefault: 'one' | 'kernel',
): { kernel: number[]; stride: number[]; dilation: number[]; pads: number[]; outputPadding: number[] } {
  const kernel = triple(op, kernelSize, 'kernelSize', 1, 1);
  return { kernel, ...spacing3d(op, options, strideDefault === 'kernel' ? [kernel[0], kernel[1], kernel[2]] : 1) };
}

/** Checks 3-D geometry options (stride, padding, dilation, outputPadding) now, as layers do
 * when built; returns the kernel as [d, h, w]. @internal */
export function check3dGeometry(op: string, kernelSize: Triple, options: Spacing3dOptions): [number, number, number] {
  const { kernel: k } = geometry3d(op, kernelSize, options, 'one');
  return [k[0], k[1], k[2]];
}

function check5d(op: string, x: Tensor, name = 'input'): void {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: ${name} must be a Tensor`);
  if (x.ndim !== 5) throw new RangeError(`${op}: ${name} must be [N, C, D, H, W], got ${shapeToString(x.shape)}`);
}

/** x [N, C, D, H, W] as [D, N, C, H, W] with `before` and `after` depth slices of `fill`. */
function depthMajor(x: Tensor, before: number, after: number, fill: number): Tensor {
  const t = permute(x, [2, 0, 1, 3, 4]);
  if (before === 0 && after === 0) return t;
  const slab = (k: number): Tensor => {
    const shape = [k, ...t.shape.slice(1)];
    return new Tensor(new Float32Array(k * (t.size / Math.max(t.shape[0], 1))).fill(fill), shape);
  };
  return concat([...(before ? [slab(before)] : []), t, ...(after ? [slab(after)] : [])], 0);
}

/** The slices start, start + step, ... (count of them) of a depth-major t, as one batch of planes. */
function planesAt(t: Tensor, start: number, count: number, step: number): Tensor {
  const s = index(t, [[start, start + (count - 1) * step + 1, step]]);
  return reshape(s, [count * t.shape[1], ...t.shape.slice(2)]);
}

/** [D, N, C, H, W] planes (a batch of D x N) back to [N, C, D, H, W]. */
function fromDepthMajor(y: Tensor, depth: number): Tensor {
  const t = reshape(y, [depth, y.shape[0] / Math.max(depth, 1), ...y.shape.slice(1)]);
  return permute(t, [1, 2, 0, 3, 4]);
}

/**
 * 3-D convolution (PyTorch's F.conv3d): x [N, C_in, D, H, W], weight [C_out, C_in / groups,
 * kD, kH, kW], bias [C_out] or null; returns [N, C_out, D_out, H_out, W_out].
 * @throws RangeError for other ranks, channels that do not match, or a kernel larger than the
 *   padded input.
 * @example
 * ```ts
 * import { conv3d, randn } from 'axon-nn';
 * const clip = randn([1, 3, 8, 32, 32]); // a short video: 8 frames of 32x32 RGB
 * const y = conv3d(clip, randn([16, 3, 3, 3, 3]), null, { padding: 1 }); // [1, 16, 8, 32, 32]
 * ```
 */
export function conv3d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv3dOptions = {}): Tensor {
  const op = 'conv3d';
  checkOptionKeys(op, options, CONV3D_KEYS);
  check5d(op, x);
  check5d(op, weight, 'weight');
  const { stride, dilation: dil, pads } = spacing3d(op, options, 1);
  const groups = options.groups ?? 1;
  if (
    !Number.isInteger(groups) ||
    groups < 1 ||
    weight.shape[0] % groups !== 0 ||
    x.shape[1] !== weight.shape[1] * groups
  )
    throw new RangeError(
      `${op}: input ${shapeToString(x.shape)} has ${x.shape[1]} channels but weight ${shapeToString(weight.shape)} with groups ${groups} expects ${weight.shape[1] * groups} (and output channels divisible by groups)`,
    );
  const kD = weight.shape[2];
  const span = x.shape[2] + pads[0] + pads[3] - dil[0] * (kD - 1) - 1;
  if (span < 0)
    throw new RangeError(
      `${op}: kernel depth ${kD} (dilation ${dil[0]}) is larger than the padded input depth ${x.shape[2] + pads[0] + pads[3]} (input ${shapeToString(x.shape)})`,
    );
  const dOut = Math.floor(span / stride[0]) + 1;
  // x as [N, D, C, H, W] rows (zero slices for the depth padding), and the kD depth taps of
  // every output depth gathered side by side as channels, [N D_out, kD C_in, H, W], in one
  // pass (the embedding kernel's row gather); the weight as [C_out, kD C_in / G, kH, kW] in the
  // same order. One 2-D convolution then reduces over the whole 3-D window (K = kD C_in kH kW
  // / G), not kD thin ones (a 3-channel stem ran 4.9x PyTorch's time that way).
  const [n, cin, d, h, w] = x.shape;
  const [cout, cinG] = weight.shape;
  const dPad = d + pads[0] + pads[3];
  let nd = permute(x, [0, 2, 1, 3, 4]);
  if (pads[0] || pads[3]) {
    const slab = (k: number): Tensor => new Tensor(new Float32Array(n * k * cin * h * w), [n, k, cin, h, w]);
    nd = concat([...(pads[0] ? [slab(pads[0])] : []), nd, ...(pads[3] ? [slab(pads[3])] : [])], 1);
  }
  const rows = new Int32Array(n * dOut * kD);
  for (let s = 0, i = 0; s < n; s++)
    for (let od = 0; od < dOut; od++)
      for (let kd = 0; kd < kD; kd++) rows[i++] = s * dPad + od * stride[0] + kd * dil[0];
  const gathered = embedding(new Tensor(rows, [rows.length]), reshape(nd, [n * dPad, cin * h * w]));
  const b = n * dOut;
  // Grouped: each group's channels together, (kD, C_in / G) within it, as the weight's.
  const taps =
    groups === 1 || kD === 1 ? gathered : permute(reshape(gathered, [b, kD, groups, cinG, h * w]), [0, 2, 1, 3, 4]);
  const planes = reshape(taps, [b, kD * cin, h, w]);
  const w2 = reshape(permute(weight, [0, 2, 1, 3, 4]), [cout, kD * cinG, weight.shape[3], weight.shape[4]]);
  const y = conv2d(planes, w2, bias, {
    stride: [stride[1], stride[2]],
    dilation: [dil[1], dil[2]],
    padding: [pads[1], pads[2], pads[4], pads[5]],
    groups,
  });
  return permute(reshape(y, [n, dOut, ...y.shape.slice(1)]), [0, 2, 1, 3, 4]);
}

/**
 * 3-D transposed convolution (PyTorch's F.conv_transpose3d): x [N, C_in, D, H, W], weight
 * [C_in, C_out / groups, kD, kH, kW], bias [C_out] or null; each axis grows to (n - 1) stride
 * + (k - 1) dilation + 1, less the padding, plus outputPadding.
 * @throws RangeError for other ranks, mismatched channels, or outputPadding not below the stride
 *   or the dilation.
 * @example
 * ```ts
 * import { convTranspose3d, randn } from 'axon-nn';
 * const y = convTranspose3d(randn([1, 8, 4, 4, 4]), randn([8, 4, 2, 2, 2]), null, { stride: 2 }); // [1, 4, 8, 8, 8]
 * ```
 */
export function convTranspose3d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: ConvTranspose3dOptions = {},
): Tensor {
  const op = 'convTranspose3d';
  checkOptionKeys(op, options, CONV_T3D_KEYS);
  check5d(op, x);
  check5d(op, weight, 'weight');
  const { stride, dilation: dil, pads, outputPadding: outPad } = spacing3d(op, options, 1);
  for (let i = 0; i < 3; i++)
    if (outPad[i] >= Math.max(stride[i], dil[i]))
      throw new RangeError(
        `${op}: outputPadding ${JSON.stringify(outPad)} must be smaller than stride or dilation on each axis`,
      );
  const groups = options.groups ?? 1;
  if (bias !== null && !(bias instanceof Tensor)) throw new TypeError(`${op}: bias must be a Tensor or null`);
  const [n, , dIn] = x.shape;
  const kD = weight.shape[2];
  const full = x.shape.slice(2).map((s, i) => (s - 1) * stride[i] + (weight.shape[2 + i] - 1) * dil[i] + 1);
  const t = depthMajor(x, 0, 0, 0);
  const planes = reshape(t, [dIn * n, ...t.shape.slice(2)]);
  let acc: Tensor | null = null;
  for (let kd = 0; kd < kD; kd++) {
    // Every input depth's planes through the 2-D transposed convolution of this depth tap, put
    // at depths id * stride + kd * dilation of the full output (zeros between).
    const z = convTranspose2d(planes, index(weight, [null, null, kd]), null, {
      stride: [stride[1], stride[2]],
      dilation: [dil[1], dil[2]],
      groups,
    });
    const rest = z.size / Math.max(dIn, 1);
    let rows = reshape(z, [dIn, 1, rest]);
    if (stride[0] > 1)
      rows = concat([rows, new Tensor(new Float32Array(dIn * (stride[0] - 1) * rest), [dIn, stride[0] - 1, rest])], 1);
    let placed = index(reshape(rows, [dIn * stride[0], rest]), [[0, (dIn - 1) * stride[0] + 1]]);
    const before = kd * dil[0];
    const after = full[0] - before - placed.shape[0];
    const zeros = (k: number): Tensor => new Tensor(new Float32Array(k * rest), [k, rest]);
    if (before || after)
      placed = concat([...(before ? [zeros(before)] : []), placed, ...(after ? [zeros(after)] : [])], 0);
    acc = acc ? add(acc, placed) : placed;
  }
  const cOut = weight.shape[1] * groups;
  let y = permute(reshape(acc as Tensor, [full[0], n, cOut, full[1], full[2]]), [1, 2, 0, 3, 4]);
  // outputPadding grows the end of each axis (zeros, then the bias); the padding is cut off.
  for (let i = 0; i < 3; i++)
    if (outPad[i] > 0) {
      const shape = [...y.shape];
      shape[2 + i] = outPad[i];
      y = concat([y, new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape)], 2 + i);
    }
  const ends = [0, 1, 2].map((i) => full[i] + outPad[i] - pads[3 + i]);
  if (ends.some((e, i) => e <= pads[i]))
    throw new RangeError(`${op}: padding ${JSON.stringify(pads)} leaves no output for input ${shapeToString(x.shape)}`);
  y = index(y, [null, null, [pads[0], ends[0]], [pads[1], ends[1]], [pads[2], ends[2]]]);
  if (bias) y = add(y, reshape(bias, [bias.size, 1, 1, 1]));
  return y;
}

interface Pool3dPlan {
  kernel: number[];
  stride: number[];
  dil: number[];
  pads: number[];
  dOut: number;
  /** Depth slices past the padded input that the last (ceil mode) windows reach. */
  overhang: number;
}

function pool3dPlan(op: string, x: Tensor, kernelSize: Triple, options: Pool3dOptions): Pool3dPlan {
  checkOptionKeys(op, options, POOL3D_KEYS);
  check5d(op, x);
  const { kernel, stride, dilation: dil, pads } = geometry3d(op, kernelSize, options, 'kernel');
  for (let i = 0; i < 3; i++)
    if (pads[i] > Math.floor(kernel[i] / 2) || pads[3 + i] > Math.floor(kernel[i] / 2))
      throw new RangeError(
        `${op}: padding ${JSON.stringify(pads)} must be at most half the kernel ${JSON.stringify(kernel)}`,
      );
  const d = x.shape[2];
  const dOut = poolOutputSize(d, kernel[0], stride[0], pads[0], pads[3], dil[0], options.ceilMode ?? false);
  if (dOut <= 0)
    throw new RangeError(`${op}: window ${JSON.stringify(kernel)} does not fit input ${shapeToString(x.shape)}`);
  const reach = (dOut - 1) * stride[0] + (kernel[0] - 1) * dil[0] + 1;
  return { kernel, stride, dil, pads, dOut, overhang: Math.max(0, reach - (d + pads[0] + pads[3])) };
}

function hwOptions(p: Pool3dPlan, options: Pool3dOptions) {
  return {
    stride: [p.stride[1], p.stride[2]] as [number, number],
    padding: [p.pads[1], p.pads[2], p.pads[4], p.pads[5]] as [number, number, number, number],
    ceilMode: options.ceilMode ?? false,
  };
}

/**
 * 3-D max pooling (PyTorch's F.max_pool3d) over [N, C, D, H, W].
 * @throws RangeError for another rank, padding above half the kernel, or a window that does not fit.
 * @example
 * ```ts
 * import { maxPool3d, randn } from 'axon-nn';
 * const y = maxPool3d(randn([1, 4, 8, 8, 8]), 2); // [1, 4, 4, 4, 4]
 * ```
 */
export function maxPool3d(x: Tensor, kernelSize: Triple, options: Pool3dOptions = {}): Tensor {
  const op = 'maxPool3d';
  const p = pool3dPlan(op, x, kernelSize, options);
  if (options.countIncludePad !== undefined) throw new RangeError(`${op}: countIncludePad is for average pooling`);
  const t = depthMajor(x, p.pads[0], p.pads[3] + p.overhang, -Infinity);
  let acc: Tensor | null = null;
  for (let kd = 0; kd < p.kernel[0]; kd++) {
    const y = maxPool2d(planesAt(t, kd * p.dil[0], p.dOut, p.stride[0]), [p.kernel[1], p.kernel[2]], {
      ...hwOptions(p, options),
      dilation: [p.dil[1], p.dil[2]],
    });
    acc = acc ? maximum(acc, y) : y;
  }
  return fromDepthMajor(acc as Tensor, p.dOut);
}

/**
 * 3-D average pooling (PyTorch's F.avg_pool3d) over [N, C, D, H, W]: padded positions count in
 * the divisor when countIncludePad (default), positions past the padded input (ceilMode's last
 * windows) never do.
 * @throws RangeError for another rank, a dilation, padding above half the kernel, or a window that does not fit.
 * @example
 * ```ts
 * import { avgPool3d, randn } from 'axon-nn';
 * const y = avgPool3d(randn([1, 4, 8, 8, 8]), 2, { stride: 2 }); // [1, 4, 4, 4, 4]
 * ```
 */
export function avgPool3d(x: Tensor, kernelSize: Triple, options: Pool3dOptions = {}): Tensor {
  const op = 'avgPool3d';
  if (options.dilation !== undefined) throw new RangeError(`${op}: average pooling has no dilation`);
  const p = pool3dPlan(op, x, kernelSize, options);
  const includePad = options.countIncludePad ?? true;
  const t = depthMajor(x, p.pads[0], p.pads[3] + p.overhang, 0);
  let acc: Tensor | null = null;
  for (let kd = 0; kd < p.kernel[0]; kd++) {
    const y = avgPool2d(planesAt(t, kd, p.dOut, p.stride[0]), [p.kernel[1], p.kernel[2]], {
      ...hwOptions(p, options),
      countIncludePad: includePad,
    });
    acc = acc ? add(acc, y) : y;
  }
  // Each output depth's divisor: its depth taps inside the input (or inside the padded input).
  const d = x.shape[2];
  const inv = Float32Array.from({ length: p.dOut }, (_, od) => {
    let count = 0;
    for (let kd = 0; kd < p.kernel[0]; kd++) {
      const at = od * p.stride[0] + kd - p.pads[0];
      if (includePad ? at < d + p.pads[3] : at >= 0 && at < d) count++;
    }
    return 1 / Math.max(count, 1);
  });
  const y = acc as Tensor;
  const scaled = mul(reshape(y, [p.dOut, y.size / Math.max(p.dOut, 1)]), new Tensor(inv, [p.dOut, 1]));
  return fromDepthMajor(reshape(scaled, y.shape), p.dOut);
}
