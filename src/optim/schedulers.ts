/**
 * Learning-rate schedules (torch.optim.lr_scheduler). Call `step()` once per epoch or once
 * per batch, whichever the schedule is meant in: the counter is just "steps". Every schedule
 * sets each group's lr from its base lr by a closed form of the step count, so it composes
 * with any optimizer and resumes exactly from stateDict(). ReduceLROnPlateau instead reacts to
 * a metric.
 */
import { checkOptionKeys, enumOption, intOption, numberOption, optionKeys } from '../options.js';
import type { Optimizer } from './optimizer.js';

export type AnyOptimizer = Optimizer<{ lr: number }>;

function checkOptimizer(name: string, opt: unknown): asserts opt is AnyOptimizer {
  if (!opt || typeof opt !== 'object' || !Array.isArray((opt as AnyOptimizer).paramGroups))
    throw new TypeError(`${name}: expected an optimizer`);
}

function positive(name: string, field: string, v: number, integer = false): void {
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
    throw new RangeError(`${name}: ${field} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
}

export abstract class LRScheduler {
  /** Steps taken (0 right after construction, which applies the step-0 lr). */
  lastStep = 0;
  readonly baseLrs: number[];

  protected constructor(
    readonly name: string,
    readonly optimizer: AnyOptimizer,
  ) {
    checkOptimizer(name, optimizer);
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr);
  }

  /** The lr of each group at step `t` (closed form). */
  protected abstract lrAt(t: number, base: number, group: number): number;

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

  stateDict(): { name: string; lastStep: number; baseLrs: number[] } {
    return { name: this.name, lastStep: this.lastStep, baseLrs: [...this.baseLrs] };
  }

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

/** lr = base * gamma^floor(t / stepSize). */
export class StepLR extends LRScheduler {
  constructor(
    optimizer: AnyOptimizer,
    readonly stepSize: number,
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

/** lr = base * gamma^(number of milestones <= t). */
export class MultiStepLR extends LRScheduler {
  readonly milestones: number[];
  constructor(
    optimizer: AnyOptimizer,
    milestones: number[],
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

/** lr = base * gamma^t. */
export class ExponentialLR extends LRScheduler {
  constructor(
    optimizer: AnyOptimizer,
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

/** lr = base * lambda(t). */
export class LambdaLR extends LRScheduler {
  constructor(
    optimizer: AnyOptimizer,
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

export interface CosineOptions {
  /** Steps of the cosine phase (after warm-up). */
  tMax: number;
  /** Final learning rate. */
  etaMin?: number;
  /** Linear warm-up steps from warmupStartFactor * base up to base (default 0). */
  warmupSteps?: number;
  warmupStartFactor?: number;
}
const COSINE_KEYS = optionKeys<CosineOptions>({ tMax: true, etaMin: true, warmupSteps: true, warmupStartFactor: true });

/**
 * Cosine annealing (torch's CosineAnnealingLR closed form) with an optional linear warm-up:
 * t < w: base (f + (1 - f) t / w); then etaMin + (base - etaMin)(1 + cos(pi (t - w) / tMax)) / 2.
 * As in PyTorch, stepping past tMax continues along the cosine (the lr rises again); stop
 * stepping, or make tMax the whole run, to hold etaMin.
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  readonly warmupSteps: number;
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

export interface OneCycleOptions {
  maxLr: number | number[];
  totalSteps: number;
  /** Fraction of steps spent increasing (default 0.3). */
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  /** initial lr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** final lr = initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  threePhase?: boolean;
  /** Cycle SGD momentum / Adam beta1 inversely to the lr (default true when present). */
  cycleMomentum?: boolean;
  baseMomentum?: number;
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

/** The 1cycle policy (Smith & Topin 2017; torch's OneCycleLR), stepped once per batch. */
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

export interface PlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  minLr?: number | number[];
  /** Changes smaller than eps are not applied. */
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

/** Multiplies the lr by `factor` when a metric stops improving for `patience` checks. */
export class ReduceLROnPlateau {
  best: number;
  numBadSteps = 0;
  cooldownCounter = 0;
  private readonly o: Required<Omit<PlateauOptions, 'minLr'>> & { minLr: number[] };
  constructor(
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

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): { best: number; numBadSteps: number; cooldownCounter: number } {
    return { best: this.best, numBadSteps: this.numBadSteps, cooldownCounter: this.cooldownCounter };
  }

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
