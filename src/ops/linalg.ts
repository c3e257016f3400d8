/**
 * Matrix products on the native GEMM: `matmul` (1-D, 2-D and batched with broadcast batch
 * axes, as torch.matmul) and `linear`, the dense layer's forward x W^T + b with the activation
 * fused into the GEMM's store when its gradient needs only the output.
 */
import { needsGrad, record } from '../autograd/engine.js';
import { BiasMode, ReduceCode, UnaryCode, native } from '../native/binding.js';
import { kernels } from '../native/executor.js';
import { broadcastShapes, numel, shapeToString, shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { unaryOp } from './elementwise.js';
import { expand, reshape, squeeze, unsqueeze } from './layout.js';
import { floatData } from './util.js';
import { TABLE_ACTIVATIONS, type TableActivation } from './activations.gen.js';

/** C = op(A) op(B) for row-major matrices, written into a new tensor (no autograd). */
function gemm2d(
  a: Float32Array,
  transA: boolean,
  b: Float32Array,
  transB: boolean,
  m: number,
  n: number,
  k: number,
): Tensor {
  const out = Tensor.empty([m, n]);
  // An empty product: nothing to compute (and k = 0 would make the leading dimensions 0).
  if (m === 0 || n === 0 || k === 0) return out;
  kernels.gemm(
    transA,
    transB,
    m,
    n,
    k,
    1,
    a,
    transA ? m : k,
    b,
    transB ? k : n,
    0,
    out.data as Float32Array,
    n,
    null,
    BiasMode.None,
    UnaryCode.Identity,
    0,
  );
  return out;
}

function batchedGemm(
  a: Float32Array,
  transA: boolean,
  b: Float32Array,
  transB: boolean,
  batch: number,
  m: number,
  n: number,
  k: number,
  outShape: number[],
): Tensor {
  const out = Tensor.empty(outShape);
  if (batch === 0 || m === 0 || n === 0 || k === 0) return out;
  kernels.gemmBatched(
    batch,
    transA,
    transB,
    m,
    n,
    k,
    1,
    a,
    m * k,
    transA ? m : k,
    b,
    k * n,
    transB ? k : n,
    0,
    out.data as Float32Array,
    m * n,
    n,
    null,
    BiasMode.None,
    0,
    UnaryCode.Identity,
    0,
  );
  return out;
}

/**
 * Matrix product with torch.matmul's rules: 1-D x 1-D is a dot product, a 1-D operand gains
 * (and loses) a unit axis, and batch axes of N-D operands broadcast. Float32 operands only.
 * @throws RangeError `matmul: inner dimensions differ: [64,784] x [512,10]`, or for a 0-d operand.
 * @example
 * ```ts
 * import { matmul, randn } from 'axon-nn';
 * const x = randn([64, 784]);
 * const w = randn([10, 784]);
 * const y = matmul(x, w.T); // [64, 784] x [784, 10] -> [64, 10]
 * const batched = matmul(randn([8, 5, 3]), randn([3, 2])); // [8, 5, 2]
 * ```
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const ad = floatData('matmul', a, 'first operand');
  const bd = floatData('matmul', b, 'second operand');
  if (a.ndim === 0 || b.ndim === 0)
    throw new RangeError(
      `matmul: both operands need at least 1 dimension, got ${shapeToString(a.shape)} x ${shapeToString(b.shape)}`,
    );
  // Checked here so the error shows the shapes as given, not with 1-D operands promoted.
  const kA = a.shape[a.ndim - 1];
  const kB = b.shape[b.ndim === 1 ? 0 : b.ndim - 2];
  if (kA !== kB)
    throw new RangeError(`matmul: inner dimensions differ: ${shapeToString(a.shape)} x ${shapeToString(b.shape)}`);
  if (a.ndim === 1 && b.ndim === 1) return squeeze(squeeze(matmul(unsqueeze(a, 0), unsqueeze(b, 1)), 1), 0);
  if (a.ndim === 1) return squeeze(matmul(unsqueeze(a, 0), b), -2);
  if (b.ndim === 1) return squeeze(matmul(a, unsqueeze(b, 1)), -1);
  const m = a.shape[a.ndim - 2];
  const k = a.shape[a.ndim - 1];
  const k2 = b.shape[b.ndim - 2];
  const n = b.shape[b.ndim - 1];
  if (k !== k2)
    throw new RangeError(`matmul: inner dimensions differ: ${shapeToString(a.shape)} x ${shapeToString(b.shape)}`);
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  if (aBatch.length === 0 && bBatch.length === 0) {
    const out = gemm2d(ad, false, bd, false, m, n, k);
    return record(out, 'matmul', [a, b], (g) => {
      const gd = g.data as Float32Array;
      return [
        a.requiresGrad ? gemm2d(gd, false, bd, true, m, k, n) : null, // dA = G B^T
        b.requiresGrad ? gemm2d(ad, true, gd, false, k, n, m) : null, // dB = A^T G
      ];
    });
  }
  // A batched left operand times a plain matrix: fold the batch into M, one GEMM.
  if (bBatch.length === 0) {
    const rows = numel(aBatch) * m;
    const out2 = matmul(reshape(a, [rows, k]), b);
    return reshape(out2, [...aBatch, m, n]);
  }
  const batchShape = broadcastShapes(
    `matmul: batch dimensions of ${shapeToString(a.shape)} x ${shapeToString(b.shape)}`,
    aBatch,
    bBatch,
  );
  const aFull = shapesEqual(aBatch, batchShape) ? a : expand(a, [...batchShape, m, k]);
  const bFull = shapesEqual(bBatch, batchShape) ? b : expand(b, [...batchShape, k, n]);
  const batch = numel(batchShape);
  const afd = aFull.data as Float32Array;
  const bfd = bFull.data as Float32Array;
  const out = batchedGemm(afd, false, bfd, false, batch, m, n, k, [...batchShape, m, n]);
  return record(out, 'matmul', [aFull, bFull], (g) => {
    const gd = g.data as Float32Array;
    return [
      aFull.requiresGrad ? batchedGemm(gd, false, bfd, true, batch, m, k, n, [...batchShape, m, k]) : null,
      bFull.requiresGrad ? batchedGemm(afd, true, gd, false, batch, k, n, m, [...batchShape, k, n]) : null,
    ];
  });
}

/**
 * A Linear weight converted for reduced-precision inference (lowpPack): bf16 pairs, or int8
 * values with per-channel scales and column sums. Made by {@link prepareWeight}; used by
 * {@link linear} inside {@link withPreparedWeights}, when no gradient is needed.
 * @internal
 */
export interface PreparedWeight {
  readonly precision: 'bf16' | 'int8';
  readonly n: number;
  readonly k: number;
  readonly packed: Int32Array;
  readonly scales: Float32Array;
  readonly colsum: Int32Array;
}

/** Whether this CPU runs `precision` on its own instructions (backendInfo().lowpNative). @internal */
export function lowpNative(precision: 'bf16' | 'int8'): boolean {
  return native.backendInfo().lowpNative[precision];
}

/** Converts a [out, in] weight once (its current values). @internal */
export function prepareWeight(weight: Tensor, precision: 'bf16' | 'int8'): PreparedWeight {
  const wd = floatData('prepareWeight', weight, 'weight');
  if (weight.ndim !== 2)
    throw new RangeError(`prepareWeight: weight must be [out, in], got ${shapeToString(weight.shape)}`);
  const [n, k] = weight.shape;
  const format = precision === 'bf16' ? 0 : 1;
  const steps = format === 0 ? Math.ceil(k / 2) : Math.ceil(k / 4);
  const packed = new Int32Array(Math.ceil(n / 32) * 32 * steps);
  const scales = new Float32Array(n);
  const colsum = new Int32Array(n);
  kernels.lowpPack(format, wd, n, k, packed, scales, colsum);
  return { precision, n, k, packed, scales, colsum };
}

/** Where linear looks up a weight's prepared form (a Map, or a session converting on first use). @internal */
export interface PreparedLookup {
  get(weight: Tensor): PreparedWeight | undefined;
}

let activePrepared: PreparedLookup | null = null;

/**
 * Runs fn with `weights` standing in for their float32 tensors in every {@link linear} call
 * that needs no gradient (a model's prepared predict and evaluate). @internal
 */
export function withPreparedWeights<T>(weights: PreparedLookup | null, fn: () => T): T {
  const previous = activePrepared;
  activePrepared = weights;
  try {
    return fn();
  } finally {
    activePrepared = previous;
  }
}

const PARAM_ACTIVATIONS = ['none', 'relu', 'leakyRelu', 'elu', 'gelu', 'geluTanh', 'softplus'] as const;
/**
 * The activations a dense or convolution layer can apply to its output (`activation` of
 * {@link linear}, {@link Linear}, {@link Conv2d}, ...). `activationParam` sets leakyRelu's slope,
 * elu's alpha and softplus's beta.
 *
 * @example
 * ```ts
 * import { Linear, type LinearActivation } from 'axon-nn';
 * const activation: LinearActivation = 'leakyRelu';
 * const layer = new Linear(16, 8, { activation, activationParam: 0.2 });
 * ```
 */
export type LinearActivation =
  | 'none'
  | 'relu'
  | 'leakyRelu'
  | 'elu'
  | 'gelu'
  | 'geluTanh'
  | 'softplus'
  | 'selu'
  | 'sigmoid'
  | 'tanh'
  | 'silu'
  | 'hardswish'
  | 'mish';
// Written out for readers of the API reference; the compiler holds it to the two lists.
type SameUnion<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
void (true satisfies SameUnion<LinearActivation, (typeof PARAM_ACTIVATIONS)[number] | TableActivation>);
/**
 * Every {@link LinearActivation} name, for validating configuration (config readers and the
 * hyperparameter search check against this one list).
 *
 * @example
 * ```ts
 * import { LINEAR_ACTIVATIONS } from 'axon-nn';
 * const ok = LINEAR_ACTIVATIONS.includes('gelu'); // true
 * ```
 */
export const LINEAR_ACTIVATIONS: readonly LinearActivation[] = [
  ...PARAM_ACTIVATIONS,
  ...(Object.keys(TABLE_ACTIVATIONS) as TableActivation[]),
];

// Activations whose derivative can be computed from the output alone are fused into the
// GEMM's store; the others run as a separate elementwise op on the GEMM's output.
const FUSED: Partial<Record<LinearActivation, UnaryCode>> = {
  none: UnaryCode.Identity,
  relu: UnaryCode.Relu,
  leakyRelu: UnaryCode.LeakyRelu,
  elu: UnaryCode.Elu,
  sigmoid: UnaryCode.Sigmoid,
  tanh: UnaryCode.Tanh,
};
/** The standalone activations' defaults, used when `activationParam` is not given. */
const DEFAULT_PARAM: Partial<Record<LinearActivation, number>> = { leakyRelu: 0.01, elu: 1, softplus: 1 };
const SEPARATE: Partial<Record<LinearActivation, UnaryCode>> = {
  gelu: UnaryCode.GeluErf,
  geluTanh: UnaryCode.GeluTanh,
  softplus: UnaryCode.Softplus,
  ...TABLE_ACTIVATIONS,
};

/**
 * How a layer applies `activation`: fused into its kernel's store (when the derivative needs
 * only the output) or as a separate elementwise op afterwards. Shared by linear and conv.
 */
export function activationPlan(
  op: string,
  activation: LinearActivation,
  activationParam?: number,
): { fused: UnaryCode | null; separate: UnaryCode | null; param: number } {
  const param = activationParam ?? DEFAULT_PARAM[activation] ?? 0;
  if (activation === 'softplus' && !(param > 0))
    throw new RangeError(`${op}: softplus beta must be positive, got ${param}`);
  let code = FUSED[activation];
  if ((activation === 'leakyRelu' || activation === 'elu') && param < 0) code = undefined;
  if (code !== undefined) return { fused: code, separate: null, param };
  const separate =
    activation === 'leakyRelu' ? UnaryCode.LeakyRelu : activation === 'elu' ? UnaryCode.Elu : SEPARATE[activation];
  if (separate === undefined) throw new RangeError(`${op}: unknown activation '${String(activation)}'`);
  return { fused: null, separate, param };
}

/**
 * y = act(x W^T + b): x (..., in), weight (out, in) as PyTorch's Linear, bias (out) or null.
 * One GEMM pass computes the product, the bias and (for none/relu/leakyRelu/elu/sigmoid/tanh)
 * the activation. `activationParam`: leakyRelu's slope (default 0.01), elu's alpha (default 1),
 * softplus's beta (default 1), as the standalone activations.
 * @throws RangeError when the shapes do not fit or the activation is unknown; TypeError for int32 operands.
 * @example
 * ```ts
 * import { linear, randn, zeros } from 'axon-nn';
 * const x = randn([32, 20]);
 * const weight = randn([10, 20], { std: 0.1 }).setRequiresGrad();
 * const bias = zeros([10], { requiresGrad: true });
 * const y = linear(x, weight, bias, 'relu'); // [32, 10]
 * ```
 */
export function linear(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  activation: LinearActivation = 'none',
  activationParam?: number,
): Tensor {
  const xd = floatData('linear', x, 'input');
  const wd = floatData('linear', weight, 'weight');
  const bd = bias === null ? null : floatData('linear', bias, 'bias');
  if (weight.ndim !== 2) throw new RangeError(`linear: weight must be [out, in], got ${shapeToString(weight.shape)}`);
  const [outF, inF] = weight.shape;
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inF)
    throw new RangeError(
      `linear: input ${shapeToString(x.shape)} does not end in ${inF} features (weight ${shapeToString(weight.shape)})`,
    );
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== outF))
    throw new RangeError(`linear: bias must be [${outF}], got ${shapeToString(bias.shape)}`);
  const param = activationParam ?? DEFAULT_PARAM[activation] ?? 0;
  if (activation === 'softplus' && !(param > 0))
    throw new RangeError(`linear: softplus beta must be positive, got ${param}`);
  // Without a backward every activation can run in the GEMM's store (the separate ones exist
  // because their derivative needs the input, which a fused store overwrites).
  const gradFree = !needsGrad(x, weight, bias);
  const inference = gradFree ? (FUSED[activation] ?? SEPARATE[activation]) : undefined;
  if (inference !== undefined) {
    const prepared = activePrepared?.get(weight);
    if (prepared && inF > 0) return lowpLinear(x, prepared, bd, inference, param);
  }
  let code = inference ?? FUSED[activation];
  // A negative leaky slope (or elu alpha) flips the output's sign on the negative branch, so
  // the output no longer tells the branch: with a backward, run those activations separately.
  if (!gradFree && (activation === 'leakyRelu' || activation === 'elu') && param < 0) code = undefined;
  if (code === undefined) {
    const separate =
      activation === 'leakyRelu' ? UnaryCode.LeakyRelu : activation === 'elu' ? UnaryCode.Elu : SEPARATE[activation];
    if (separate === undefined) throw new RangeError(`linear: unknown activation '${String(activation)}'`);
    return unaryOp(activation, separate, linear(x, weight, bias), param);
  }
  const fused = code;
  const rows = numel(x.shape.slice(0, -1));
  const outShape = [...x.shape.slice(0, -1), outF];
  const out = Tensor.empty(outShape);
  const yd = out.data as Float32Array;
  if (inF === 0) {
    // No features: the product is 0, so the output is act(bias). Written by kernels, not a JS
    // loop, so a recorded step sets it again on every replay (the bias may have changed).
    if (yd.length > 0) {
      if (bd) kernels.gatherRows(bd, outF, new Int32Array(rows), 0, rows, yd);
      else kernels.fill(yd, 0);
      kernels.unary(fused, yd, yd, param);
    }
  } else if (yd.length > 0)
    kernels.gemm(
      false,
      true,
      rows,
      outF,
      inF,
      1,
      xd,
      inF,
      wd,
      inF,
      0,
      yd,
      outF,
      bd,
      bd ? BiasMode.PerColumn : BiasMode.None,
      fused,
      param,
    );
  return record(out, 'linear', [x, weight, bias], (g) => {
    let gd = g.data as Float32Array;
    if (fused !== UnaryCode.Identity) {
      // Gradient of the pre-activation from the output (relu/leaky/elu test y > 0, which has
      // the sign of the input).
      const pre = Tensor.empty(out.shape).data as Float32Array;
      kernels.unaryBackward(fused, yd, yd, gd, pre, param);
      gd = pre;
    }
    const dx = x.requiresGrad ? Tensor.empty(x.shape) : null;
    if (dx && dx.size > 0 && outF > 0)
      kernels.gemm(
        false,
        false,
        rows,
        inF,
        outF,
        1,
        gd,
        outF,
        wd,
        inF,
        0,
        dx.data as Float32Array,
        inF,
        null,
        BiasMode.None,
        UnaryCode.Identity,
        0,
      );
    const dw = weight.requiresGrad ? Tensor.empty(weight.shape) : null;
    if (dw && dw.size > 0 && rows > 0)
      kernels.gemm(
        true,
        false,
        outF,
        inF,
        rows,
        1,
        gd,
        outF,
        xd,
        inF,
        0,
        dw.data as Float32Array,
        inF,
        null,
        BiasMode.None,
        UnaryCode.Identity,
        0,
      );
    const db = bias?.requiresGrad ? Tensor.empty([outF]) : null;
    if (db) kernels.reduce(ReduceCode.Sum, gd, 1, rows, outF, db.data as Float32Array);
    return [dx, dw, db];
  });
}

/** linear without a backward on a prepared weight: x [..., k] -> [..., n]. */
function lowpLinear(x: Tensor, w: PreparedWeight, bias: Float32Array | null, act: UnaryCode, param: number): Tensor {
  const rows = numel(x.shape.slice(0, -1));
  const out = Tensor.empty([...x.shape.slice(0, -1), w.n]);
  if (out.size > 0)
    kernels.lowpLinear(
      w.precision === 'bf16' ? 0 : 1,
      x.data as Float32Array,
      rows,
      w.n,
      w.k,
      w.packed,
      w.scales,
      w.colsum,
      bias,
      act,
      param,
      out.data as Float32Array,
    );
  return out;
}
