/**
 * Finite-difference gradient checker. The checked function runs in float32 (the kernels'
 * precision), but the loss it is reduced to and the central differences are computed in
 * float64, and the step is the one float32 can actually represent, so the comparison measures
 * the analytic gradient, not rounding in the checker.
 */
import { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from './engine.js';
import { checkOptionKeys, intOption, numberOption, optionKeys } from '../options.js';

/**
 * gradcheck()'s options: the finite-difference step, the tolerances, the seed of the output
 * weighting and how many elements to check.
 *
 * @example
 * ```ts
 * import { gradcheck, randn, type GradcheckOptions } from 'axon-nn';
 * const options: GradcheckOptions = { eps: 1e-2, atol: 1e-3, maxElements: 20 };
 * const result = gradcheck((x) => x.sigmoid().sum(), [randn([10, 10]).setRequiresGrad()], options);
 * ```
 */
export interface GradcheckOptions {
  /** Relative step: h = eps * max(1, |x|). Default 1e-3. */
  eps?: number;
  /** Pass when |analytic - numeric| <= atol + rtol * |numeric|. Defaults 1e-4 and 1e-3. */
  atol?: number;
  /** Relative tolerance of the pass test above (default 1e-3). */
  rtol?: number;
  /** Seed of the random output weights (the loss is sum(w * f(x)) in float64). */
  seed?: number;
  /** Check at most this many elements per input (spread evenly); default all. */
  maxElements?: number;
}
const GRADCHECK_KEYS = optionKeys<GradcheckOptions>({
  eps: true,
  atol: true,
  rtol: true,
  seed: true,
  maxElements: true,
});

/**
 * What gradcheck reports: whether every checked element passed, the worst tolerance ratio and
 * relative error, and the first failing element.
 *
 * @example
 * ```ts
 * import { gradcheck, randn, type GradcheckResult } from 'axon-nn';
 * const result: GradcheckResult = gradcheck((x) => x.exp().sum(), [randn([4]).setRequiresGrad()]);
 * if (!result.ok) console.log(result.failure); // { input, index, analytic, numeric }
 * ```
 */
export interface GradcheckResult {
  /** True when every checked element is within tolerance (worstRatio <= 1). */
  ok: boolean;
  /** max |a - n| / (atol + rtol |n|) over all checked elements: <= 1 passes. */
  worstRatio: number;
  /** max |a - n| / max(|n|, 1e-6 scale) over checked elements. */
  maxRelativeError: number;
  /** The first failing element, if any. */
  failure?: {
    /** Position of the input in `inputs`. */
    input: number;
    /** Flat (row-major) index of the element within that input. */
    index: number;
    /** The autograd gradient there. */
    analytic: number;
    /** The central-difference estimate there. */
    numeric: number;
  };
}

/**
 * Compares the autograd gradient of `fn` with central differences for every float input that
 * requires grad. The output is reduced to a scalar with random weights, so `fn` may return any
 * shape. Inputs are modified during the check and restored; their `.grad` is reset first and
 * left holding the weighted analytic gradient.
 *
 * @example
 * ```ts
 * import { gradcheck, randn } from 'axon-nn';
 * const x = randn([3, 4]).setRequiresGrad();
 * const result = gradcheck((t) => t.tanh().sum(), [x]);
 * console.log(result.ok); // true
 * ```
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: GradcheckOptions = {},
): GradcheckResult {
  const op = 'gradcheck';
  checkOptionKeys(op, options, GRADCHECK_KEYS);
  const eps = numberOption(op, 'eps', options.eps, 1e-3, Number.MIN_VALUE, 1);
  const atol = numberOption(op, 'atol', options.atol, 1e-4, 0, Number.MAX_VALUE);
  const rtol = numberOption(op, 'rtol', options.rtol, 1e-3, 0, Number.MAX_VALUE);
  intOption(op, 'maxElements', options.maxElements, 1, 1, Number.MAX_SAFE_INTEGER);
  const gen = new Generator(options.seed ?? 1234);
  const out = fn(...inputs);
  const weights = new Float64Array(out.size);
  for (let i = 0; i < weights.length; i++) weights[i] = gen.nextFloat() * 2 - 1;
  const loss = (t: Tensor): number => {
    let s = 0;
    for (let i = 0; i < t.size; i++) s += weights[i] * t.data[i];
    return s;
  };
  for (const x of inputs) x.grad = null;
  out.backward(new Tensor(Float32Array.from(weights), out.shape));
  let worstRatio = 0;
  let maxRel = 0;
  let failure: GradcheckResult['failure'];
  inputs.forEach((x, xi) => {
    if (!x.requiresGrad) return;
    const data = x.data as Float32Array;
    const analytic = x.grad?.data ?? new Float32Array(x.size);
    const count = Math.min(x.size, options.maxElements ?? x.size);
    for (let c = 0; c < count; c++) {
      const i = count === x.size ? c : Math.floor((c * x.size) / count);
      const v = data[i];
      const h = eps * Math.max(1, Math.abs(v));
      data[i] = v + h;
      const up = data[i];
      const fPlus = noGrad(() => loss(fn(...inputs)));
      data[i] = v - h;
      const down = data[i];
      const fMinus = noGrad(() => loss(fn(...inputs)));
      data[i] = v;
      const numeric = (fPlus - fMinus) / (up - down);
      const a = analytic[i];
      const ratio = Math.abs(a - numeric) / (atol + rtol * Math.abs(numeric));
      const rel = Math.abs(a - numeric) / Math.max(Math.abs(numeric), 1e-6);
      if (Number.isNaN(ratio) || ratio > worstRatio) worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
      if (rel > maxRel) maxRel = rel;
      if (!(ratio <= 1) && !failure) failure = { input: xi, index: i, analytic: a, numeric };
    }
  });
  return { ok: worstRatio <= 1, worstRatio, maxRelativeError: maxRel, failure };
}
