/**
 * Resize (opsets 10-18) and Upsample: each resized axis is an independent 1-D map from input
 * to output positions (ONNX's coordinate transformations), applied axis by axis. Nearest picks
 * one input element per output (a gather: exact, inf and NaN stay where they were); linear and
 * cubic are a known [out, in] weight matrix per axis applied with one GEMM, so the
 * interpolation weights are computed once per input shape, not per element per run.
 */
import { matmul } from '../ops/linalg.js';
import { permute } from '../ops/layout.js';
import { where } from '../ops/elementwise.js';
import { Tensor } from '../tensor/tensor.js';
import type { OpImpl } from './context.js';
import { gatherFloat } from './ops-shape.js';
import { floatValue } from './value.js';

type Transform = (x: number, scale: number, inLen: number, outLen: number) => number;

const TRANSFORMS: Record<string, Transform> = {
  half_pixel: (x, s) => (x + 0.5) / s - 0.5,
  pytorch_half_pixel: (x, s, _i, o) => (o > 1 ? (x + 0.5) / s - 0.5 : 0),
  align_corners: (x, _s, i, o) => (o === 1 ? 0 : (x * (i - 1)) / (o - 1)),
  asymmetric: (x, s) => x / s,
  tf_half_pixel_for_nn: (x, s) => (x + 0.5) / s,
};

const NEAREST: Record<string, (x: number) => number> = {
  round_prefer_floor: (x) => (x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x)),
  round_prefer_ceil: (x) => Math.round(x),
  floor: Math.floor,
  ceil: Math.ceil,
};

/** Keys' cubic convolution weight at distance d with coefficient a. */
function cubicWeight(d: number, a: number): number {
  const t = Math.abs(d);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

const resize: OpImpl = (c) => {
  const x = c.floatInput(0, 'X');
  const r = x.ndim;
  const mode = c.string('mode', 'nearest');
  // Opset 10 (and Upsample): X, scales; asymmetric coordinates, nearest rounding down.
  const old = c.node.opType === 'Upsample' || c.opset < 11;
  const transformName = old ? 'asymmetric' : c.string('coordinate_transformation_mode', 'half_pixel');
  const crop = transformName === 'tf_crop_and_resize';
  const transform = TRANSFORMS[transformName];
  if (!transform && !crop)
    throw c.error(
      `coordinate_transformation_mode '${transformName}' is not supported (${[...Object.keys(TRANSFORMS), 'tf_crop_and_resize'].join(', ')})`,
    );
  // tf_crop_and_resize: the region of interest [starts..., ends...] (fractions of each axis,
  // known at load) is resampled; outputs whose position falls outside the input get
  // extrapolation_value.
  const roi = crop ? Array.from(c.knownInts(1, 'roi').data) : null;
  if (roi && roi.length !== 2 * r) throw c.error(`roi needs ${2 * r} values (starts, then ends), got ${roi.length}`);
  const extrapolation = c.float('extrapolation_value', 0);
  if (!['nearest', 'linear', 'cubic'].includes(mode))
    throw c.error(`mode '${mode}' is not one of nearest, linear, cubic`);
  if (c.int('antialias', 0) !== 0) throw c.error('antialias = 1 is not supported');
  if (c.has('axes') || c.has('keep_aspect_ratio_policy'))
    throw c.error("the 'axes' and 'keep_aspect_ratio_policy' attributes are not supported");
  const round = NEAREST[old ? 'floor' : c.string('nearest_mode', 'round_prefer_floor')];
  if (!round) throw c.error(`nearest_mode '${c.string('nearest_mode', '')}' is unknown`);
  const a = c.float('cubic_coeff_a', -0.75);
  const exclude = c.int('exclude_outside', 0) === 1;

  let scales: number[] | null = null;
  let sizes: number[] | null = null;
  if (c.node.opType === 'Upsample' && c.opset < 9) scales = c.floats('scales');
  else if (old) scales = Array.from(c.knownInts(1, 'scales').data);
  else {
    if (c.optional(3) && c.optional(3)?.size) sizes = Array.from(c.knownInts(3, 'sizes').data);
    else if (c.optional(2) && c.optional(2)?.size) scales = Array.from(c.knownInts(2, 'scales').data);
  }
  if (!scales && !sizes) throw c.error('needs scales or sizes');
  if ((scales ?? (sizes as number[])).length !== r) throw c.error(`scales/sizes need ${r} entries, one per axis`);
  const outShape = sizes ?? x.shape.map((d, i) => Math.floor(d * (scales as number[])[i]));
  if (outShape.some((d) => !Number.isSafeInteger(d) || d < 1 || d > 2 ** 24))
    throw c.error(`output shape [${outShape.join(',')}] is invalid`);
  const scaleOf = (i: number): number => (scales ? scales[i] : outShape[i] / x.shape[i]);

  let y = x;
  for (let axis = 0; axis < r; axis++) {
    const inLen = x.shape[axis];
    const outLen = outShape[axis];
    if (inLen === outLen && scaleOf(axis) === 1) continue;
    // The transforms take the resized length as in * scale, unrounded, when scales are given
    // (ONNX's reference: align_corners over a 0.6 scale of 4 divides by 2.4 - 1, not 2 - 1).
    const lengthF = scales ? inLen * scales[axis] : outLen;
    const pos = Array.from({ length: outLen }, (_, o) => {
      if (!roi) return transform(o, scaleOf(axis), inLen, lengthF);
      const [start, end] = [roi[axis], roi[r + axis]];
      return outLen > 1
        ? start * (inLen - 1) + (o * (end - start) * (inLen - 1)) / (outLen - 1)
        : 0.5 * (start + end) * (inLen - 1);
    });
    const outside = roi ? pos.map((p) => p < 0 || p > inLen - 1) : null;
    if (outside?.some(Boolean)) {
      // The inside positions resized as usual, the outside ones replaced (an exact select).
      const shape = y.shape.map((d, i) => (i === axis ? outLen : 1));
      const mask = new Tensor(
        Float32Array.from(outside, (o) => (o ? 1 : 0)),
        shape,
      );
      y = where(mask, extrapolation, resizeAxis(y, axis, inLen, outLen, pos, mode, round, a, exclude));
      continue;
    }
    y = resizeAxis(y, axis, inLen, outLen, pos, mode, round, a, exclude);
  }
  return [floatValue(y)];
};

/** One axis of y resized from inLen to outLen samples at the input positions `pos`. */
function resizeAxis(
  y: Tensor,
  axis: number,
  inLen: number,
  outLen: number,
  pos: number[],
  mode: string,
  round: (x: number) => number,
  a: number,
  exclude: boolean,
): Tensor {
  {
    if (mode === 'nearest') {
      const idx = Int32Array.from(pos, (p) => Math.min(Math.max(round(p), 0), inLen - 1));
      return gatherFloat(y, axis, new Tensor(idx, [outLen]));
    }
    // Weights W^T [in, out]: linear (edge-clamped) or cubic (clamped, or renormalised inside).
    const w = new Float32Array(outLen * inLen);
    const at = (o: number, i: number): number => i * outLen + o;
    for (let o = 0; o < outLen; o++) {
      const p = pos[o];
      if (mode === 'linear') {
        const q = Math.min(Math.max(p, 0), inLen - 1);
        const i0 = Math.floor(q);
        const i1 = Math.min(i0 + 1, inLen - 1);
        w[at(o, i0)] += 1 - (q - i0);
        w[at(o, i1)] += q - i0;
      } else {
        const i0 = Math.floor(p);
        let total = 0;
        const taps: [number, number][] = [];
        for (let k = -1; k <= 2; k++) {
          const i = i0 + k;
          const wk = cubicWeight(p - i, a);
          if (exclude && (i < 0 || i >= inLen)) continue;
          taps.push([Math.min(Math.max(i, 0), inLen - 1), wk]);
          total += wk;
        }
        for (const [i, wk] of taps) w[at(o, i)] += exclude ? wk / total : wk;
      }
    }
    const weightsT = new Tensor(w, [inLen, outLen]);
    // Axis last, times W^T, axis back.
    const last = y.ndim - 1;
    const perm = y.shape.map((_, i) => i);
    perm.splice(axis, 1);
    perm.push(axis);
    const moved = axis === last ? y : permute(y, perm);
    const out = matmul(moved, weightsT);
    const back = perm.map((_, i) => perm.indexOf(i));
    return axis === last ? out : permute(out, back);
  }
}

export const RESIZE_OPS: Record<string, OpImpl> = { Resize: resize, Upsample: resize };
