/**
 * Learning-rate schedules (torch.optim.lr_scheduler). Call `step()` once per epoch or once
 * per batch, whichever the schedule is meant in: the counter is just "steps". Every schedule
 * sets each group's lr from its base lr by a closed form of the step count, so it composes
 * with any optimizer and resumes exactly from stateDict(). ReduceLROnPlateau instead reacts to
 * a metric.
 */
import { checkOptionKeys, enumOption, intOption, numberOption, optionKeys } from '../options.js';
import type { Optimizer } from './optimizer.js';

/**
 * Any optimizer, whatever its other hyperparameters: the type schedulers, compile and the
 * training context take.
 *
 * @example
 * ```ts
 * import { Linear, SGD, type AnyOptimizer } from 'axon-nn';
 * function halveLr(opt: AnyOptimizer): void {
 *   for (const group of opt.paramGroups) group.lr /= 2;
 * }
 * halveLr(new SGD(new Linear(4, 1).parameters(), { lr: 0.1 }));
 * ```
 */
export type AnyOptimizer = Optimizer<{
  /** The learning rate. */
  lr: number;
}>;

function checkOptimizer(name: string, opt: unknown): asserts opt is AnyOptimizer {
  if (!opt || typeof opt !== 'object' || !Array.isArray((opt as AnyOptimizer).paramGroups))
    throw new TypeError(`${name}: expected an optimizer`);
}

function positive(name: string, field: string, v: number, integer = false): void {
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
    throw new RangeError(`${name}: ${field} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
}

/**
 * Base class of the closed-form learning-rate schedules (torch.optim.lr_scheduler.LRScheduler):
 * constructing one sets the step-0 lr, and each step() sets every group's lr from its base lr
 * at the new step count. Step it by hand, or let fit do it with a {@link LearningRateScheduler}
 * callback. Throws a TypeError when given something other than an optimizer.
 *
 * @example
 * ```ts
 * import { Linear, SGD, StepLR } from 'axon-nn';
 * const opt = new SGD(new Linear(4, 1).parameters(), { lr: 0.1 });
 * const scheduler = new StepLR(opt, 2, 0.5);
 * for (let epoch = 0; epoch < 4; epoch++) {
 *   // ... one epoch of training with opt ...
 *   scheduler.step();
 * }
 * console.log(scheduler.getLastLr()); // [ 0.025 ]
 * ```
 */
export abstract class LRScheduler {
  /** Steps taken (0 right after construction, which applies the step-0 lr). */
  lastStep = 0;
  /** Each group's base lr (its initialLr when the scheduler was made), which the schedule scales. */
  readonly baseLrs: number[];

  protected constructor(
    /** The schedule's class name ('StepLR', ...), checked by loadStateDict. */
    readonly name: string,
    /** The optimizer whose groups' lr this sets. */
    readonly optimizer: AnyOptimizer,
  ) {
    checkOptimizer(name, optimizer);
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr);
  }

  /** The lr of each group at step `t` (closed form). */
  protected abstract lrAt(t: number, base: number, group: number): number;

  /** Sets every group's lr to the schedule's value at lastStep. */
  protected apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.lrAt(this.lastStep, this.baseLrs[i], i);
    });
  }

  /** Advances one step (an epoch or a batch) and sets the new learning rates. */
  step(): void {
    this.lastStep += 1;
    this.apply();
  }

  /** The learning rates set by the last step. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The schedule's position, for a checkpoint (plain numbers; saveCheckpoint stores it). */
  stateDict(): {
    /** The schedule's class name. */
    name: string;
    /** Steps taken. */
    lastStep: number;
    /** Each group's base lr. */
    baseLrs: number[];
  } {
    return { name: this.name, lastStep: this.lastStep, baseLrs: [...this.baseLrs] };
  }

  /**
   * Restores a stateDict() of the same kind of schedule over as many groups, and sets the lr of
   * that step. Throws a TypeError for another schedule's state and a RangeError for bad values.
   */
  loadStateDict(sd: { name: string; lastStep: number; baseLrs: number[] }): void {
    if (sd?.name !== this.name)
      throw new TypeError(
        `${this.name}.loadStateDict: state is from ${JSON.stringify(sd?.name)?.slice(0, 40) ?? 'nothing'}`,
      );
    if (!Number.isSafeInteger(sd.lastStep) || sd.lastStep < 0)
      throw new RangeError(`${this.name}.loadStateDict: lastStep must be a non-negative integer`);
    if (Array.isArray(sd.baseLrs) && !sd.baseLrs.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0))
      throw new RangeError(`${this.name}.loadStateDict: base lrs must be finite numbers >= 0`);
    if (!Array.isArray(sd.baseLrs) || sd.baseLrs.length !== this.baseLrs.length)
      throw new RangeError(
        `${this.name}.loadStateDict: ${sd.baseLrs?.length} base lrs saved, ${this.baseLrs.length} groups here`,
      );
    this.lastStep = sd.lastStep;
    this.baseLrs.splice(0, this.baseLrs.length, ...sd.baseLrs);
    this.apply();
  }
}

/**
 * Multiplies the lr by gamma every stepSize steps: lr = base * gamma^floor(t / stepSize)
 * (torch's StepLR; default gamma 0.1). Throws a RangeError unless stepSize is a positive
 * integer and gamma positive.
 *
 * @example
 * ```ts
 * import { Linear, SGD, StepLR } from 'axon-nn';
 * const opt = new SGD(new Linear(4, 1).parameters(), { lr: 0.1 });
 * const scheduler = new StepLR(opt, 30); // 0.1 for steps 0-29, 0.01 for 30-59, ...
 * scheduler.step();
 * ```
 */
export class StepLR extends LRScheduler {
  constructor(
    optimizer: AnyOptimizer,
    /** Steps between two decays. */
    readonly stepSize: number,
    /** Factor applied at each decay (default 0.1). */
    readonly gamma = 0.1,
  ) {
    super('StepLR', optimizer);
    positive('StepLR', 'stepSize', stepSize, true);
    positive('StepLR', 'gamma', gamma);
    this.apply();
  }
  protected lrAt(t: number, base: number): number {
    return base * this.gamma ** Math.floor(t / this.stepSize);
  }
}

/**
 * Multiplies the lr by gamma at each milestone step: lr = base * gamma^(number of milestones
 * <= t) (torch's MultiStepLR; default gamma 0.1). Throws a RangeError unless the milestones
 * are non-negative integers and gamma positive.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, SGD, MultiStepLR, LearningRateScheduler, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1)));
 * const opt = new SGD(model.module.parameters(), { lr: 0.1 });
 * model.compile({ optimizer: opt, loss: 'mse' });
 * const scheduler = new MultiStepLR(opt, [2, 4], 0.5);
 * await model.fit(randn([32, 4]), randn([32, 1]), { epochs: 5, verbose: 0, callbacks: [new LearningRateScheduler(scheduler)] });
 * console.log(scheduler.getLastLr()); // [ 0.025 ]
 * ```
 */
export class MultiStepLR extends LRScheduler {
  /** The steps at which the lr is multiplied by gamma, sorted. */
  readonly milestones: number[];
  constructor(
    optimizer: AnyOptimizer,
    milestones: number[],
    /** Factor applied at each milestone (default 0.1). */
    readonly gamma = 0.1,
  ) {
    super('MultiStepLR', optimizer);
    if (!Array.isArray(milestones) || milestones.some((m) => !Number.isInteger(m) || m < 0))
      throw new RangeError('MultiStepLR: milestones must be non-negative integers');
    this.milestones = [...milestones].sort((a, b) => a - b);
    positive('MultiStepLR', 'gamma', gamma);
    this.apply();
  }
  protected lrAt(t: number, base: number): number {
    return base * this.gamma ** this.milestones.filter((m) => m <= t).length;
  }
}

/**
 * Multiplies the lr by gamma every step: lr = base * gamma^t (torch's ExponentialLR). Throws a
 * RangeError unless gamma is positive.
 *
 * @example
 * ```ts
 * import { Linear, SGD, ExponentialLR } from 'axon-nn';
 * const opt = new SGD(new Linear(4, 1).parameters(), { lr: 1 });
 * const scheduler = new ExponentialLR(opt, 0.5);
 * scheduler.step();
 * scheduler.step();
 * console.log(scheduler.getLastLr()); // [ 0.25 ]
 * ```
 */
export class ExponentialLR extends LRScheduler {
  constructor(
    optimizer: AnyOptimizer,
    /** Factor applied at every step. */
    readonly gamma: number,
  ) {
    super('ExponentialLR', optimizer);
    positive('ExponentialLR', 'gamma', gamma);
    this.apply();
  }
  protected lrAt(t: number, base: number): number {
    return base * this.gamma ** t;
  }
}

/**
 * Sets the lr to base * lambda(t) for a function of the step count (torch's LambdaLR). Throws a
 * TypeError when lambda is not a function, and a RangeError when it returns a non-finite value.
 *
 * @example
 * ```ts
 * import { Linear, Adam, LambdaLR } from 'axon-nn';
 * const opt = new Adam(new Linear(4, 1).parameters(), { lr: 1e-3 });
 * // Linear warm-up over the first 100 steps, then constant.
 * const scheduler = new LambdaLR(opt, (step) => Math.min(1, (step + 1) / 100));
 * ```
 */
export class LambdaLR extends LRScheduler {
  constructor(
    optimizer: AnyOptimizer,
    /** The factor on the base lr at each step. */
    readonly lambda: (step: number) => number,
  ) {
    super('LambdaLR', optimizer);
    if (typeof lambda !== 'function') throw new TypeError('LambdaLR: lambda must be a function');
    this.apply();
  }
  protected lrAt(t: number, base: number): number {
    const f = this.lambda(t);
    if (!Number.isFinite(f)) throw new RangeError(`LambdaLR: lambda(${t}) returned ${f}`);
    return base * f;
  }
}

/**
 * {@link CosineAnnealingLR}'s options: the cosine's length and floor, and an optional linear
 * warm-up before it.
 *
 * @example
 * ```ts
 * import { Linear, AdamW, CosineAnnealingLR, type CosineOptions } from 'axon-nn';
 * const options: CosineOptions = { tMax: 900, etaMin: 1e-5, warmupSteps: 100 };
 * const scheduler = new CosineAnnealingLR(new AdamW(new Linear(4, 1).parameters()), options);
 * ```
 */
export interface CosineOptions {
  /** Steps of the cosine phase (after warm-up). */
  tMax: number;
  /** Final learning rate (default 0). */
  etaMin?: number;
  /** Linear warm-up steps from warmupStartFactor * base up to base (default 0). */
  warmupSteps?: number;
  /** The warm-up's starting lr as a fraction of the base lr, in [0, 1] (default 0). */
  warmupStartFactor?: number;
}
const COSINE_KEYS = optionKeys<CosineOptions>({ tMax: true, etaMin: true, warmupSteps: true, warmupStartFactor: true });

/**
 * Cosine annealing (torch's CosineAnnealingLR closed form) with an optional linear warm-up:
 * t < w: base (f + (1 - f) t / w); then etaMin + (base - etaMin)(1 + cos(pi (t - w) / tMax)) / 2.
 * As in PyTorch, stepping past tMax continues along the cosine (the lr rises again); stop
 * stepping, or make tMax the whole run, to hold etaMin.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, SGD, CosineAnnealingLR, LearningRateScheduler, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1)));
 * const opt = new SGD(model.module.parameters(), { lr: 0.1, momentum: 0.9 });
 * model.compile({ optimizer: opt, loss: 'mse' });
 * const cosine = new CosineAnnealingLR(opt, { tMax: 8, warmupSteps: 2 }); // 2 epochs x 5 batches = 10 steps
 * const cb = new LearningRateScheduler(cosine, 'batch');
 * await model.fit(randn([40, 4]), randn([40, 1]), { epochs: 2, batchSize: 8, verbose: 0, callbacks: [cb] });
 * ```
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Steps of the cosine phase. */
  readonly tMax: number;
  /** The lr at the end of the cosine phase. */
  readonly etaMin: number;
  /** Steps of linear warm-up before the cosine (0: none). */
  readonly warmupSteps: number;
  /** The warm-up's starting lr as a fraction of the base lr. */
  readonly warmupStartFactor: number;
  constructor(optimizer: AnyOptimizer, options: CosineOptions) {
    super('CosineAnnealingLR', optimizer);
    if (typeof options !== 'object' || options === null)
      throw new TypeError('CosineAnnealingLR: options { tMax } are required');
    checkOptionKeys('CosineAnnealingLR', options, COSINE_KEYS);
    positive('CosineAnnealingLR', 'tMax', options.tMax, true);
    this.tMax = options.tMax;
    this.etaMin = numberOption('CosineAnnealingLR', 'etaMin', options.etaMin, 0, 0, Number.MAX_VALUE);
    this.warmupSteps = options.warmupSteps ?? 0;
    this.warmupStartFactor = options.warmupStartFactor ?? 0;
    if (!Number.isInteger(this.warmupSteps) || this.warmupSteps < 0)
      throw new RangeError(`CosineAnnealingLR: warmupSteps must be a non-negative integer, got ${this.warmupSteps}`);
    if (!(this.warmupStartFactor >= 0 && this.warmupStartFactor <= 1))
      throw new RangeError(`CosineAnnealingLR: warmupStartFactor must be in [0, 1], got ${this.warmupStartFactor}`);
    this.apply();
  }
  protected lrAt(t: number, base: number): number {
    const w = this.warmupSteps;
    if (t < w) return base * (this.warmupStartFactor + ((1 - this.warmupStartFactor) * t) / w);
    const tc = t - w;
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * tc) / this.tMax))) / 2;
  }
}

/**
 * {@link OneCycleLR}'s options (torch's OneCycleLR arguments, camelCased): the peak lr, the
 * number of steps, and the shape of the cycle.
 *
 * @example
 * ```ts
 * import { Linear, SGD, OneCycleLR, type OneCycleOptions } from 'axon-nn';
 * const opt = new SGD(new Linear(4, 1).parameters(), { lr: 0.01, momentum: 0.9 });
 * const options: OneCycleOptions = { maxLr: 0.1, totalSteps: 1000, pctStart: 0.25, annealStrategy: 'linear' };
 * const scheduler = new OneCycleLR(opt, options);
 * ```
 */
export interface OneCycleOptions {
  /** Peak learning rate, one for all groups or one per group. */
  maxLr: number | number[];
  /** Steps in the cycle (epochs x batches per epoch); stepping past it throws a RangeError. */
  totalSteps: number;
  /** Fraction of steps spent increasing (default 0.3). */
  pctStart?: number;
  /** How the lr moves between its points: 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** initial lr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** final lr = initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, back down to the initial lr, then annihilation to the final lr) instead of two (default false). */
  threePhase?: boolean;
  /** Cycle SGD momentum / Adam beta1 inversely to the lr (default true when present). */
  cycleMomentum?: boolean;
  /** The momentum (or beta1) at the lr's peak, in [0, 1] (default 0.85). */
  baseMomentum?: number;
  /** The momentum (or beta1) at the lr's lowest points, in [0, 1] (default 0.95). */
  maxMomentum?: number;
}
const ONE_CYCLE_KEYS = optionKeys<OneCycleOptions>({
  maxLr: true,
  totalSteps: true,
  pctStart: true,
  annealStrategy: true,
  divFactor: true,
  finalDivFactor: true,
  threePhase: true,
  cycleMomentum: true,
  baseMomentum: true,
  maxMomentum: true,
});

/**
 * The 1cycle policy (Smith & Topin 2017; torch's OneCycleLR), stepped once per batch: the lr
 * rises from maxLr / divFactor to maxLr, then anneals far below its start, while the
 * momentum moves the other way. As in PyTorch it overrides the groups' lr (and initialLr) with
 * maxLr / divFactor, and stepping beyond totalSteps throws a RangeError.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, SGD, OneCycleLR, LearningRateScheduler, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1)));
 * const opt = new SGD(model.module.parameters(), { lr: 0.01, momentum: 0.9 });
 * model.compile({ optimizer: opt, loss: 'mse' });
 * const oneCycle = new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 2 * 4 }); // 2 epochs of 4 batches
 * const cb = new LearningRateScheduler(oneCycle, 'batch');
 * await model.fit(randn([32, 4]), randn([32, 1]), { epochs: 2, batchSize: 8, verbose: 0, callbacks: [cb] });
 * ```
 */
export class OneCycleLR extends LRScheduler {
  private readonly phases: { end: number; lr: [string, string]; mom: [string, string] }[];
  private readonly maxLrs: number[];
  private readonly o: Required<Omit<OneCycleOptions, 'maxLr'>>;
  constructor(optimizer: AnyOptimizer, options: OneCycleOptions) {
    super('OneCycleLR', optimizer);
    const op = 'OneCycleLR';
    if (typeof options !== 'object' || options === null)
      throw new TypeError('OneCycleLR: options { maxLr, totalSteps } are required');
    checkOptionKeys(op, options, ONE_CYCLE_KEYS);
    positive('OneCycleLR', 'totalSteps', options.totalSteps, true);
    const n = optimizer.paramGroups.length;
    this.maxLrs = Array.isArray(options.maxLr) ? options.maxLr : new Array<number>(n).fill(options.maxLr);
    if (this.maxLrs.length !== n)
      throw new RangeError(`OneCycleLR: ${this.maxLrs.length} maxLr values for ${n} groups`);
    this.maxLrs.forEach((v) => positive('OneCycleLR', 'maxLr', v));
    this.o = {
      totalSteps: options.totalSteps,
      pctStart: options.pctStart ?? 0.3,
      annealStrategy: enumOption(op, 'annealStrategy', options.annealStrategy, 'cos', ['cos', 'linear'] as const),
      divFactor: numberOption(op, 'divFactor', options.divFactor, 25, Number.MIN_VALUE, Number.MAX_VALUE),
      finalDivFactor: numberOption(
        op,
        'finalDivFactor',
        options.finalDivFactor,
        1e4,
        Number.MIN_VALUE,
        Number.MAX_VALUE,
      ),
      threePhase: options.threePhase ?? false,
      cycleMomentum: options.cycleMomentum ?? true,
      baseMomentum: numberOption(op, 'baseMomentum', options.baseMomentum, 0.85, 0, 1),
      maxMomentum: numberOption(op, 'maxMomentum', options.maxMomentum, 0.95, 0, 1),
    };
    if (!(this.o.pctStart > 0 && this.o.pctStart < 1))
      throw new RangeError(`OneCycleLR: pctStart must be in (0, 1), got ${this.o.pctStart}`);
    const T = this.o.totalSteps;
    this.phases = this.o.threePhase
      ? [
          { end: this.o.pctStart * T - 1, lr: ['initial', 'max'], mom: ['maxM', 'baseM'] },
          { end: 2 * this.o.pctStart * T - 2, lr: ['max', 'initial'], mom: ['baseM', 'maxM'] },
          { end: T - 1, lr: ['initial', 'min'], mom: ['maxM', 'maxM'] },
        ]
      : [
          { end: this.o.pctStart * T - 1, lr: ['initial', 'max'], mom: ['maxM', 'baseM'] },
          { end: T - 1, lr: ['max', 'min'], mom: ['baseM', 'maxM'] },
        ];
    // torch overrides the groups' lr (and initial lr) with maxLr / divFactor.
    optimizer.paramGroups.forEach((g, i) => {
      this.baseLrs[i] = this.maxLrs[i] / this.o.divFactor;
      g.initialLr = this.baseLrs[i];
    });
    this.apply();
  }
  private anneal(start: number, end: number, pct: number): number {
    return this.o.annealStrategy === 'cos'
      ? end + ((start - end) / 2) * (1 + Math.cos(Math.PI * pct))
      : (end - start) * pct + start;
  }
  private value(key: string, i: number): number {
    const initial = this.maxLrs[i] / this.o.divFactor;
    switch (key) {
      case 'initial':
        return initial;
      case 'max':
        return this.maxLrs[i];
      case 'min':
        return initial / this.o.finalDivFactor;
      case 'maxM':
        return this.o.maxMomentum;
      default:
        return this.o.baseMomentum;
    }
  }
  protected lrAt(t: number, _base: number, i: number): number {
    if (t > this.o.totalSteps)
      throw new RangeError(`OneCycleLR: stepped ${t} times, beyond totalSteps = ${this.o.totalSteps}`);
    let start = 0;
    for (const [k, ph] of this.phases.entries()) {
      if (t <= ph.end || k === this.phases.length - 1) {
        const pct = (t - start) / (ph.end - start);
        if (this.o.cycleMomentum)
          this.setMomentum(i, this.anneal(this.value(ph.mom[0], i), this.value(ph.mom[1], i), pct));
        return this.anneal(this.value(ph.lr[0], i), this.value(ph.lr[1], i), pct);
      }
      start = ph.end;
    }
    return this.value('min', i);
  }
  private setMomentum(i: number, m: number): void {
    const g = this.optimizer.paramGroups[i] as unknown as { betas?: [number, number]; momentum?: number };
    if (Array.isArray(g.betas)) g.betas = [m, g.betas[1]];
    else if (typeof g.momentum === 'number' && g.momentum > 0) g.momentum = m;
  }
}

/**
 * {@link ReduceLROnPlateau}'s options (torch's ReduceLROnPlateau arguments, camelCased).
 * Out-of-range values throw a RangeError.
 *
 * @example
 * ```ts
 * import { Linear, Adam, ReduceLROnPlateau, type PlateauOptions } from 'axon-nn';
 * const options: PlateauOptions = { mode: 'max', factor: 0.5, patience: 3, minLr: 1e-5 };
 * const plateau = new ReduceLROnPlateau(new Adam(new Linear(4, 1).parameters()), options);
 * plateau.step(0.81); // e.g. this epoch's validation accuracy
 * ```
 */
export interface PlateauOptions {
  /** 'min' (default): lower is better, as for a loss; 'max': higher is better, as for accuracy. */
  mode?: 'min' | 'max';
  /** Factor the lr is multiplied by, in (0, 1) (default 0.1). */
  factor?: number;
  /** Steps without improvement tolerated before the lr is lowered (default 10). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** Whether threshold is relative to the best value ('rel', default) or absolute ('abs'). */
  thresholdMode?: 'rel' | 'abs';
  /** Steps to wait after lowering the lr before counting bad steps again (default 0). */
  cooldown?: number;
  /** Floor of the lr, one for all groups or one per group (default 0). */
  minLr?: number | number[];
  /** Changes smaller than eps are not applied (default 1e-8). */
  eps?: number;
}
const PLATEAU_KEYS = optionKeys<PlateauOptions>({
  mode: true,
  factor: true,
  patience: true,
  threshold: true,
  thresholdMode: true,
  cooldown: true,
  minLr: true,
  eps: true,
});

/**
 * Multiplies the lr by `factor` when a metric stops improving for `patience` checks (torch's
 * ReduceLROnPlateau): call step(metric) once per epoch. For fit, the callback
 * {@link ReduceLROnPlateauCallback} (Keras's form) reads the metric from the logs itself.
 *
 * @example
 * ```ts
 * import { Linear, SGD, ReduceLROnPlateau } from 'axon-nn';
 * const opt = new SGD(new Linear(4, 1).parameters(), { lr: 0.1 });
 * const plateau = new ReduceLROnPlateau(opt, { factor: 0.5, patience: 1 });
 * for (const valLoss of [1.0, 0.9, 0.95, 0.96]) plateau.step(valLoss);
 * console.log(plateau.getLastLr()); // [ 0.05 ]
 * ```
 */
export class ReduceLROnPlateau {
  /** The best metric value so far (Infinity or -Infinity before the first step). */
  best: number;
  /** Steps since the last improvement. */
  numBadSteps = 0;
  /** Steps of cooldown left after the last reduction. */
  cooldownCounter = 0;
  private readonly o: Required<Omit<PlateauOptions, 'minLr'>> & { minLr: number[] };
  constructor(
    /** The optimizer whose groups' lr this lowers. */
    readonly optimizer: AnyOptimizer,
    options: PlateauOptions = {},
  ) {
    const op = 'ReduceLROnPlateau';
    checkOptimizer(op, optimizer);
    checkOptionKeys(op, options, PLATEAU_KEYS);
    const n = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    for (const v of Array.isArray(minLr) ? minLr : [minLr]) numberOption(op, 'minLr', v, 0, 0, Number.MAX_VALUE);
    this.o = {
      mode: options.mode ?? 'min',
      factor: options.factor ?? 0.1,
      patience: options.patience ?? 10,
      threshold: numberOption(op, 'threshold', options.threshold, 1e-4, 0, Number.MAX_VALUE),
      thresholdMode: enumOption(op, 'thresholdMode', options.thresholdMode, 'rel', ['rel', 'abs'] as const),
      cooldown: intOption(op, 'cooldown', options.cooldown, 0, 0, Number.MAX_SAFE_INTEGER),
      eps: numberOption(op, 'eps', options.eps, 1e-8, 0, Number.MAX_VALUE),
      minLr: Array.isArray(minLr) ? minLr : new Array<number>(n).fill(minLr),
    };
    if (!(this.o.factor > 0 && this.o.factor < 1))
      throw new RangeError(`ReduceLROnPlateau: factor must be in (0, 1), got ${this.o.factor}`);
    if (this.o.mode !== 'min' && this.o.mode !== 'max')
      throw new RangeError(`ReduceLROnPlateau: mode must be 'min' or 'max'`);
    if (!Number.isInteger(this.o.patience) || this.o.patience < 0)
      throw new RangeError('ReduceLROnPlateau: patience must be a non-negative integer');
    if (this.o.minLr.length !== n)
      throw new RangeError(`ReduceLROnPlateau: ${this.o.minLr.length} minLr values for ${n} groups`);
    this.best = this.o.mode === 'min' ? Infinity : -Infinity;
  }

  private isBetter(a: number): boolean {
    const { mode, thresholdMode, threshold } = this.o;
    if (mode === 'min') return thresholdMode === 'rel' ? a < this.best * (1 - threshold) : a < this.best - threshold;
    return thresholdMode === 'rel' ? a > this.best * (1 + threshold) : a > this.best + threshold;
  }

  /** Reports this epoch's metric; lowers the lr when it has not improved for `patience` steps. */
  step(metric: number): void {
    if (typeof metric !== 'number' || Number.isNaN(metric))
      throw new RangeError(`ReduceLROnPlateau.step: metric must be a number, got ${metric}`);
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadSteps = 0;
    } else {
      this.numBadSteps++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadSteps = 0;
    }
    if (this.numBadSteps > this.o.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const next = Math.max(g.lr * this.o.factor, this.o.minLr[i]);
        if (g.lr - next > this.o.eps) g.lr = next;
      });
      this.cooldownCounter = this.o.cooldown;
      this.numBadSteps = 0;
    }
  }

  /** The current learning rate of each group. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The counters, for a checkpoint (the lr itself lives in the optimizer's state). */
  stateDict(): {
    /** The best metric value so far. */
    best: number;
    /** Steps since the last improvement. */
    numBadSteps: number;
    /** Steps of cooldown left. */
    cooldownCounter: number;
  } {
    return { best: this.best, numBadSteps: this.numBadSteps, cooldownCounter: this.cooldownCounter };
  }

  /** Restores a stateDict(); throws a TypeError or RangeError for a bad best value or counter. */
  loadStateDict(sd: { best: number; numBadSteps: number; cooldownCounter: number }): void {
    if (typeof sd?.best !== 'number' || Number.isNaN(sd.best))
      throw new TypeError('ReduceLROnPlateau.loadStateDict: best must be a number');
    if (![sd.numBadSteps, sd.cooldownCounter].every((v) => Number.isSafeInteger(v) && v >= 0))
      throw new RangeError('ReduceLROnPlateau.loadStateDict: counters must be non-negative integers');
    this.best = sd.best;
    this.numBadSteps = sd.numBadSteps;
    this.cooldownCounter = sd.cooldownCounter;
  }
}
