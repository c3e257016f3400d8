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

/**
 * {@link SGD}'s hyperparameters (torch.optim.SGD's, camelCased). The constructor takes any
 * subset, and a parameter group may override any of them; out-of-range values throw a RangeError.
 *
 * @example
 * ```ts
 * import { Linear, SGD, type SGDOptions } from 'axon-nn';
 * const options: Partial<SGDOptions> = { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 };
 * const opt = new SGD(new Linear(4, 2).parameters(), options);
 * ```
 */
export interface SGDOptions {
  /** Learning rate (default 1e-3, as PyTorch; compile's 'sgd' uses Keras's 0.01). */
  lr: number;
  /** Momentum factor, >= 0 (default 0: plain SGD). */
  momentum: number;
  /** Dampening of the momentum, in [0, 1] (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient as weightDecay * p (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximise the objective instead of minimising it (default false). */
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
 * Stochastic gradient descent (torch.optim.SGD), default lr 1e-3 and no momentum:
 * ```text
 * g = grad + weightDecay * p
 * b = g on the first step, else momentum * b + (1 - dampening) * g   (when momentum != 0)
 * g = nesterov ? g + momentum * b : b
 * p = p - lr * g
 * ```
 * Keras's SGD folds lr into its velocity (v = momentum v - lr g); with a constant lr the
 * trajectories agree.
 *
 * @example
 * ```ts
 * import { Linear, SGD, mseLoss, randn } from 'axon-nn';
 * const layer = new Linear(4, 1);
 * const opt = new SGD(layer.parameters(), { lr: 0.01, momentum: 0.9, nesterov: true });
 * mseLoss(layer.forward(randn([16, 4])), randn([16, 1])).backward();
 * opt.step();
 * opt.zeroGrad();
 * ```
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

/**
 * {@link Adam}'s and {@link AdamW}'s hyperparameters (torch.optim.Adam's, camelCased). The
 * constructor takes any subset, and a parameter group may override any of them; out-of-range
 * values throw a RangeError.
 *
 * @example
 * ```ts
 * import { Linear, Adam, type AdamOptions } from 'axon-nn';
 * const options: Partial<AdamOptions> = { lr: 3e-4, betas: [0.9, 0.98], amsgrad: true };
 * const opt = new Adam(new Linear(4, 2).parameters(), options);
 * ```
 */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the gradient's running mean and running square, each in [0, 1) (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator after the bias correction (default 1e-8; Keras: 1e-7). */
  eps: number;
  /** Weight decay factor (default 0 for Adam, 0.01 for AdamW). */
  weightDecay: number;
  /** Use the running maximum of the squared-gradient average (AMSGrad; default false). */
  amsgrad: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
  /** AdamW: decay the weights by lr * weightDecay directly instead of adding it to the gradient (default false; AdamW always sets it). */
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
 * Adam (torch.optim.Adam; default lr 1e-3, betas [0.9, 0.999], eps 1e-8), at step t:
 * ```text
 * g = grad + weightDecay * p        (coupled decay; AdamW instead does p *= 1 - lr * weightDecay)
 * m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,  vmax = max(vmax, v) with amsgrad
 * p = p - lr / (1 - b1^t) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)
 * ```
 * eps is added after the bias correction, as PyTorch does; Keras adds its epsilon (default
 * 1e-7) the same way in recent versions.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, ReLU, Adam, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 1)));
 * model.compile({ optimizer: new Adam(model.module.parameters(), { lr: 3e-4 }), loss: 'mse' });
 * await model.fit(randn([32, 4]), randn([32, 1]), { epochs: 1, verbose: 0 });
 * ```
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
 * before the Adam step; default weightDecay 0.01 (the other defaults are Adam's).
 *
 * @example
 * ```ts
 * import { Linear, AdamW } from 'axon-nn';
 * const layer = new Linear(16, 4);
 * const [weight, bias] = layer.parameters();
 * // Decay the weight matrix but not the bias, a common recipe.
 * const opt = new AdamW([{ params: [weight] }, { params: [bias], weightDecay: 0 }], { lr: 1e-3 });
 * ```
 */
export class AdamW extends Adam {
  constructor(params: Tensor[] | ParamGroupInput<AdamOptions>[], options: Partial<AdamOptions> = {}) {
    super(params, { weightDecay: 1e-2, ...known('AdamW', options, ADAM_KEYS), decoupledWeightDecay: true }, 'AdamW');
  }
}

/**
 * {@link RMSprop}'s hyperparameters (torch.optim.RMSprop's, camelCased). The constructor takes
 * any subset, and a parameter group may override any of them; out-of-range values throw a
 * RangeError.
 *
 * @example
 * ```ts
 * import { Linear, RMSprop, type RMSpropOptions } from 'axon-nn';
 * const options: Partial<RMSpropOptions> = { lr: 1e-3, alpha: 0.9, centered: true }; // Keras's defaults, centered
 * const opt = new RMSprop(new Linear(4, 2).parameters(), options);
 * ```
 */
export interface RMSpropOptions {
  /** Learning rate (default 0.01, as PyTorch; compile's 'rmsprop' uses Keras's 1e-3). */
  lr: number;
  /** Smoothing constant of the squared-gradient average, in [0, 1] (default 0.99; Keras's rho is 0.9). */
  alpha: number;
  /** Added to the denominator outside the square root (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient as weightDecay * p (default 0). */
  weightDecay: number;
  /** Momentum factor, >= 0 (default 0). */
  momentum: number;
  /** Normalise by the gradient's estimated variance instead of its raw second moment (default false). */
  centered: boolean;
  /** Maximise the objective instead of minimising it (default false). */
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
 * ```text
 * g = grad + weightDecay * p
 * s = alpha s + (1 - alpha) g^2;  centered: a = alpha a + (1 - alpha) g, d = sqrt(s - a^2) + eps
 * otherwise d = sqrt(s) + eps      (eps outside the square root; Keras puts it inside)
 * momentum > 0: b = momentum b + g / d, p -= lr b;  else p -= lr g / d
 * ```
 * Default lr 0.01 (Keras: 0.001), alpha 0.99 (Keras's rho 0.9).
 *
 * @example
 * ```ts
 * import { Linear, RMSprop, mseLoss, randn } from 'axon-nn';
 * const layer = new Linear(4, 1);
 * const opt = new RMSprop(layer.parameters(), { lr: 1e-3, momentum: 0.9 });
 * mseLoss(layer.forward(randn([16, 4])), randn([16, 1])).backward();
 * opt.step();
 * ```
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

/**
 * {@link Adagrad}'s hyperparameters (torch.optim.Adagrad's, camelCased). The constructor takes
 * any subset, and a parameter group may override any of them; out-of-range values throw a
 * RangeError.
 *
 * @example
 * ```ts
 * import { Linear, Adagrad, type AdagradOptions } from 'axon-nn';
 * const options: Partial<AdagradOptions> = { lr: 1e-3, initialAccumulatorValue: 0.1, eps: 1e-7 }; // Keras's defaults
 * const opt = new Adagrad(new Linear(4, 2).parameters(), options);
 * ```
 */
export interface AdagradOptions {
  /** Learning rate (default 0.01). */
  lr: number;
  /** Learning-rate decay per step: lr / (1 + (t - 1) lrDecay) (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient as weightDecay * p (default 0). */
  weightDecay: number;
  /** Starting value of the squared-gradient sum (default 0; Keras: 0.1). Read when a parameter's state is created. */
  initialAccumulatorValue: number;
  /** Added to the denominator (default 1e-10; Keras: 1e-7). */
  eps: number;
  /** Maximise the objective instead of minimising it (default false). */
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
 * Adagrad (torch.optim.Adagrad; default lr 0.01), at step t:
 * ```text
 * g = grad + weightDecay * p;  clr = lr / (1 + (t - 1) lrDecay)
 * sum += g^2;  p -= clr g / (sqrt(sum) + eps)
 * ```
 * Keras's Adagrad starts the accumulator at 0.1 (initialAccumulatorValue) with epsilon 1e-7.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, Adagrad, randn, randint } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 3)));
 * model.compile({ optimizer: new Adagrad(model.module.parameters(), { lr: 0.05 }), loss: 'crossEntropy' });
 * await model.fit(randn([32, 4]), randint(0, 3, [32]), { epochs: 1, verbose: 0 });
 * ```
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
