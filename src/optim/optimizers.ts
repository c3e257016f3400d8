/**
 * SGD, Adam, AdamW, RMSprop and Adagrad. Each class's doc states its exact update; names,
 * defaults and formulas follow torch.optim (Keras differences noted). Every update is one
 * fused native kernel per parameter tensor (native/kernels/cpu/optim.cpp).
 */
import {
  AdagradStepHyper as AdagradH,
  AdagradStepHyperLength,
  AdamStepHyper as AdamH,
  AdamStepHyperLength,
  RmspropStepHyper as RmspropH,
  RmspropStepHyperLength,
  SgdStepHyper as SgdH,
  SgdStepHyperLength,
} from '../native/binding.js';
import { kernels } from '../native/executor.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys, optionKeys } from '../options.js';
import { Optimizer, type ParamGroup, type ParamGroupInput, type ParamState } from './optimizer.js';

/** `options` after refusing keys outside `keys` (an optimizer's constructor options). */
function known<T>(op: string, options: T, keys: readonly string[]): T {
  checkOptionKeys(op, options, keys);
  return options;
}

function checkRange(opt: string, name: string, v: unknown, lo: number, hi: number, hiOpen = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || (hiOpen ? v >= hi : v > hi))
    throw new RangeError(`${opt}: ${name} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${String(v)}`);
}

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}
const SGD_KEYS = optionKeys<SGDOptions>({
  lr: true,
  momentum: true,
  dampening: true,
  weightDecay: true,
  nesterov: true,
  maximize: true,
});

/**
 * Stochastic gradient descent (torch.optim.SGD):
 *   g = grad + weightDecay * p
 *   b = g on the first step, else momentum * b + (1 - dampening) * g   (when momentum != 0)
 *   g = nesterov ? g + momentum * b : b
 *   p = p - lr * g
 * Keras's SGD folds lr into its velocity (v = momentum v - lr g); with a constant lr the
 * trajectories agree.
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Tensor[] | ParamGroupInput<SGDOptions>[], options: Partial<SGDOptions> = {}) {
    super('SGD', params, {
      lr: 1e-3,
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      maximize: false,
      ...known('SGD', options, SGD_KEYS),
    });
  }
  protected override validate(o: SGDOptions, where: string): void {
    super.validate(o, where);
    checkRange('SGD', 'momentum', o.momentum, 0, Infinity);
    checkRange('SGD', 'dampening', o.dampening, 0, 1);
    checkRange('SGD', 'weightDecay', o.weightDecay, 0, Infinity);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0))
      throw new RangeError('SGD: Nesterov momentum requires a momentum > 0 and zero dampening');
  }
  protected readonly hyperSize = SgdStepHyperLength;
  protected readonly stepCell = SgdH.step;
  protected writeHyper(h: Float64Array, g: ParamGroup<SGDOptions>): void {
    h[SgdH.lr] = g.lr;
    h[SgdH.momentum] = g.momentum;
    h[SgdH.dampening] = g.dampening;
    h[SgdH.weightDecay] = g.weightDecay;
    h[SgdH.nesterov] = g.nesterov ? 1 : 0;
    h[SgdH.maximize] = g.maximize ? 1 : 0;
  }
  protected override restoreHyper(h: Float64Array, st: ParamState): void {
    h[SgdH.started] = st.buffers.momentumBuffer ? 1 : 0;
  }
  protected initState(p: Tensor, g: ParamGroup<SGDOptions>): Record<string, Float32Array> {
    // The momentum buffer starts as the first gradient (PyTorch); the `started` cell records
    // whether that happened, so the buffer can be allocated up front.
    return g.momentum !== 0 ? { momentumBuffer: new Float32Array(p.size) } : {};
  }
  protected update(param: Float32Array, grad: Float32Array, st: ParamState, g: ParamGroup<SGDOptions>): void {
    if (g.momentum !== 0 && !st.buffers.momentumBuffer) {
      st.buffers.momentumBuffer = new Float32Array(param.length);
      st.hyper[SgdH.started] = 0;
    }
    kernels.sgdStep(param, grad, g.momentum !== 0 ? st.buffers.momentumBuffer : null, st.hyper);
  }
}

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
  /** AdamW: decay the weights by lr * weightDecay directly instead of adding it to the gradient. */
  decoupledWeightDecay: boolean;
}
const ADAM_KEYS = optionKeys<AdamOptions>({
  lr: true,
  betas: true,
  eps: true,
  weightDecay: true,
  amsgrad: true,
  maximize: true,
  decoupledWeightDecay: true,
});

/**
 * Adam (torch.optim.Adam), at step t:
 *   g = grad + weightDecay * p        (coupled decay; AdamW instead does p *= 1 - lr * weightDecay)
 *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,  vmax = max(vmax, v) with amsgrad
 *   p = p - lr / (1 - b1^t) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)
 * eps is added after the bias correction, as PyTorch does; Keras adds its epsilon (default
 * 1e-7) the same way in recent versions.
 */
export class Adam extends Optimizer<AdamOptions> {
  constructor(params: Tensor[] | ParamGroupInput<AdamOptions>[], options: Partial<AdamOptions> = {}, name = 'Adam') {
    super(name, params, {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
      maximize: false,
      decoupledWeightDecay: false,
      ...known(name, options, ADAM_KEYS),
    });
  }
  protected override validate(o: AdamOptions, where: string): void {
    super.validate(o, where);
    if (!Array.isArray(o.betas) || o.betas.length !== 2)
      throw new RangeError(`${this.name}: betas must be [beta1, beta2]`);
    checkRange(this.name, 'betas[0]', o.betas[0], 0, 1, true);
    checkRange(this.name, 'betas[1]', o.betas[1], 0, 1, true);
    checkRange(this.name, 'eps', o.eps, 0, Infinity);
    checkRange(this.name, 'weightDecay', o.weightDecay, 0, Infinity);
  }
  protected initState(p: Tensor, g: ParamGroup<AdamOptions>): Record<string, Float32Array> {
    const s: Record<string, Float32Array> = { expAvg: new Float32Array(p.size), expAvgSq: new Float32Array(p.size) };
    if (g.amsgrad) s.maxExpAvgSq = new Float32Array(p.size);
    return s;
  }
  protected readonly hyperSize = AdamStepHyperLength;
  protected readonly stepCell = AdamH.step;
  protected writeHyper(h: Float64Array, g: ParamGroup<AdamOptions>): void {
    h[AdamH.lr] = g.lr;
    h[AdamH.beta1] = g.betas[0];
    h[AdamH.beta2] = g.betas[1];
    h[AdamH.eps] = g.eps;
    h[AdamH.weightDecay] = g.weightDecay;
    h[AdamH.decoupled] = g.decoupledWeightDecay ? 1 : 0;
    h[AdamH.amsgrad] = g.amsgrad ? 1 : 0;
    h[AdamH.maximize] = g.maximize ? 1 : 0;
  }
  protected update(param: Float32Array, grad: Float32Array, st: ParamState, g: ParamGroup<AdamOptions>): void {
    if (g.amsgrad && !st.buffers.maxExpAvgSq) st.buffers.maxExpAvgSq = new Float32Array(param.length);
    kernels.adamStep(
      param,
      grad,
      st.buffers.expAvg,
      st.buffers.expAvgSq,
      g.amsgrad ? st.buffers.maxExpAvgSq : null,
      st.hyper,
    );
  }
}

/**
 * AdamW (torch.optim.AdamW): Adam with decoupled weight decay, p *= 1 - lr * weightDecay
 * before the Adam step; default weightDecay 0.01.
 */
export class AdamW extends Adam {
  constructor(params: Tensor[] | ParamGroupInput<AdamOptions>[], options: Partial<AdamOptions> = {}) {
    super(params, { weightDecay: 1e-2, ...known('AdamW', options, ADAM_KEYS), decoupledWeightDecay: true }, 'AdamW');
  }
}

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}
const RMSPROP_KEYS = optionKeys<RMSpropOptions>({
  lr: true,
  alpha: true,
  eps: true,
  weightDecay: true,
  momentum: true,
  centered: true,
  maximize: true,
});

/**
 * RMSprop (torch.optim.RMSprop):
 *   g = grad + weightDecay * p
 *   s = alpha s + (1 - alpha) g^2;  centered: a = alpha a + (1 - alpha) g, d = sqrt(s - a^2) + eps
 *   otherwise d = sqrt(s) + eps      (eps outside the square root; Keras puts it inside)
 *   momentum > 0: b = momentum b + g / d, p -= lr b;  else p -= lr g / d
 * Default lr 0.01 (Keras: 0.001), alpha 0.99 (Keras's rho 0.9).
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: Tensor[] | ParamGroupInput<RMSpropOptions>[], options: Partial<RMSpropOptions> = {}) {
    super('RMSprop', params, {
      lr: 1e-2,
      alpha: 0.99,
      eps: 1e-8,
      weightDecay: 0,
      momentum: 0,
      centered: false,
      maximize: false,
      ...known('RMSprop', options, RMSPROP_KEYS),
    });
  }
  protected override validate(o: RMSpropOptions, where: string): void {
    super.validate(o, where);
    checkRange('RMSprop', 'alpha', o.alpha, 0, 1);
    checkRange('RMSprop', 'eps', o.eps, 0, Infinity);
    checkRange('RMSprop', 'weightDecay', o.weightDecay, 0, Infinity);
    checkRange('RMSprop', 'momentum', o.momentum, 0, Infinity);
  }
  protected initState(p: Tensor, g: ParamGroup<RMSpropOptions>): Record<string, Float32Array> {
    const s: Record<string, Float32Array> = { squareAvg: new Float32Array(p.size) };
    if (g.centered) s.gradAvg = new Float32Array(p.size);
    if (g.momentum > 0) s.momentumBuffer = new Float32Array(p.size);
    return s;
  }
  protected readonly hyperSize = RmspropStepHyperLength;
  protected readonly stepCell = RmspropH.step;
  protected writeHyper(h: Float64Array, g: ParamGroup<RMSpropOptions>): void {
    h[RmspropH.lr] = g.lr;
    h[RmspropH.alpha] = g.alpha;
    h[RmspropH.eps] = g.eps;
    h[RmspropH.weightDecay] = g.weightDecay;
    h[RmspropH.momentum] = g.momentum;
    h[RmspropH.centered] = g.centered ? 1 : 0;
    h[RmspropH.maximize] = g.maximize ? 1 : 0;
  }
  protected update(param: Float32Array, grad: Float32Array, st: ParamState, g: ParamGroup<RMSpropOptions>): void {
    if (g.centered) st.buffers.gradAvg ??= new Float32Array(param.length);
    if (g.momentum > 0) st.buffers.momentumBuffer ??= new Float32Array(param.length);
    kernels.rmspropStep(
      param,
      grad,
      st.buffers.squareAvg,
      g.centered ? st.buffers.gradAvg : null,
      g.momentum > 0 ? st.buffers.momentumBuffer : null,
      st.hyper,
    );
  }
}

export interface AdagradOptions {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}
const ADAGRAD_KEYS = optionKeys<AdagradOptions>({
  lr: true,
  lrDecay: true,
  weightDecay: true,
  initialAccumulatorValue: true,
  eps: true,
  maximize: true,
});

/**
 * Adagrad (torch.optim.Adagrad), at step t:
 *   g = grad + weightDecay * p;  clr = lr / (1 + (t - 1) lrDecay)
 *   sum += g^2;  p -= clr g / (sqrt(sum) + eps)
 * Keras's Adagrad starts the accumulator at 0.1 (initialAccumulatorValue) with epsilon 1e-7.
 */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: Tensor[] | ParamGroupInput<AdagradOptions>[], options: Partial<AdagradOptions> = {}) {
    super('Adagrad', params, {
      lr: 1e-2,
      lrDecay: 0,
      weightDecay: 0,
      initialAccumulatorValue: 0,
      eps: 1e-10,
      maximize: false,
      ...known('Adagrad', options, ADAGRAD_KEYS),
    });
  }
  protected override validate(o: AdagradOptions, where: string): void {
    super.validate(o, where);
    checkRange('Adagrad', 'lrDecay', o.lrDecay, 0, Infinity);
    checkRange('Adagrad', 'weightDecay', o.weightDecay, 0, Infinity);
    checkRange('Adagrad', 'initialAccumulatorValue', o.initialAccumulatorValue, 0, Infinity);
    checkRange('Adagrad', 'eps', o.eps, 0, Infinity);
  }
  protected initState(p: Tensor, g: ParamGroup<AdagradOptions>): Record<string, Float32Array> {
    return { sum: new Float32Array(p.size).fill(g.initialAccumulatorValue) };
  }
  protected readonly hyperSize = AdagradStepHyperLength;
  protected readonly stepCell = AdagradH.step;
  protected writeHyper(h: Float64Array, g: ParamGroup<AdagradOptions>): void {
    h[AdagradH.lr] = g.lr;
    h[AdagradH.lrDecay] = g.lrDecay;
    h[AdagradH.eps] = g.eps;
    h[AdagradH.weightDecay] = g.weightDecay;
    h[AdagradH.maximize] = g.maximize ? 1 : 0;
  }
  protected update(param: Float32Array, grad: Float32Array, st: ParamState): void {
    kernels.adagradStep(param, grad, st.buffers.sum, st.hyper);
  }
}
