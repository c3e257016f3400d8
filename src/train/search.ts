/**
 * Hyperparameter search: grid, random and successive-halving search over a declared space,
 * each trial scored by an objective (usually a short training run with early stopping on a
 * validation split), results as a sorted table and JSON.
 *
 * Why these three: a grid is exhaustive and easy to reason about for a few discrete choices;
 * random search covers continuous ranges better for the same number of trials, because every
 * trial tries a new value of every parameter (Bergstra & Bengio, 2012); successive halving
 * (Jamieson & Talwalkar, 2016; Hyperband's inner loop) spends most of the epochs on the
 * promising trials by training all of them briefly and promoting only the best 1/eta to a
 * budget eta times larger.
 *
 * Sampling draws from the project's seeded `Generator`, so a seed gives the same trials; the
 * ready-made `mlpObjective` also seeds its weights, dropout masks and shuffling, so a trial
 * with the same parameters reaches the same score (for a given kernel thread count).
 */
import { Dropout, Linear, Sequential } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import { l2 } from '../nn/regularizers.js';
import { LINEAR_ACTIVATIONS, type LinearActivation } from '../ops/linalg.js';
import { Generator, defaultGenerator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys, numberOption, optionKeys } from '../options.js';
import { EarlyStopping, type Logs } from './callbacks.js';
import { Model, type OptimizerName } from './model.js';

// ---- the space ------------------------------------------------------------------------------

export type ParamValue = string | number | boolean;
export type Params = Record<string, ParamValue>;

/** One of a list of values (any mix of strings, numbers and booleans). */
export interface Choice {
  readonly kind: 'choice';
  readonly values: readonly ParamValue[];
}
/** A float drawn uniformly from [lo, hi]. */
export interface UniformRange {
  readonly kind: 'uniform';
  readonly lo: number;
  readonly hi: number;
}
/** A positive float whose logarithm is uniform: each decade is as likely (learning rates, L2). */
export interface LogUniformRange {
  readonly kind: 'logUniform';
  readonly lo: number;
  readonly hi: number;
}
/** The integers lo, lo + step, ... up to hi (inclusive when reached). */
export interface IntRange {
  readonly kind: 'int';
  readonly lo: number;
  readonly hi: number;
  readonly step: number;
}
export type Range = UniformRange | LogUniformRange | IntRange;
/** Parameter name to its choices or range; parameters keep the declaration order. */
export type SearchSpace = Record<string, Choice | Range>;

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : String(v);
}

/** A parameter taking one of `values`, tried in this order by grid search. */
export function choice(values: readonly ParamValue[]): Choice {
  if (!Array.isArray(values) || values.length === 0)
    throw new RangeError(`choice: expected a non-empty array of values, got ${describe(values)}`);
  const seen = new Set<ParamValue>();
  values.forEach((v, i) => {
    const ok = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    if (!ok)
      throw new RangeError(`choice: value ${i} must be a string, a boolean or a finite number, got ${describe(v)}`);
    if (seen.has(v)) throw new RangeError(`choice: value ${describe(v)} is listed twice`);
    seen.add(v);
  });
  return { kind: 'choice', values: [...values] };
}

function checkBounds(name: string, lo: number, hi: number): void {
  if (typeof lo !== 'number' || !Number.isFinite(lo))
    throw new RangeError(`${name}: lo must be a finite number, got ${describe(lo)}`);
  if (typeof hi !== 'number' || !Number.isFinite(hi))
    throw new RangeError(`${name}: hi must be a finite number, got ${describe(hi)}`);
  if (!(lo < hi)) throw new RangeError(`${name}: lo must be below hi, got lo ${lo} and hi ${hi}`);
}

/** A float drawn uniformly from [lo, hi] (dropout rates, momentum). */
export function uniform(lo: number, hi: number): UniformRange {
  checkBounds('uniform', lo, hi);
  return { kind: 'uniform', lo, hi };
}

/** A float in [lo, hi] with a uniform logarithm, for scale parameters (learning rate, L2). */
export function logUniform(lo: number, hi: number): LogUniformRange {
  checkBounds('logUniform', lo, hi);
  if (!(lo > 0)) throw new RangeError(`logUniform: lo must be > 0 (a logarithm is taken), got ${lo}`);
  return { kind: 'logUniform', lo, hi };
}

/** The integers lo, lo + step, ... <= hi: layer counts, widths in steps. Both ends inclusive. */
export function intRange(lo: number, hi: number, step = 1): IntRange {
  if (!Number.isSafeInteger(lo)) throw new RangeError(`intRange: lo must be an integer, got ${describe(lo)}`);
  if (!Number.isSafeInteger(hi)) throw new RangeError(`intRange: hi must be an integer, got ${describe(hi)}`);
  if (lo > hi) throw new RangeError(`intRange: lo must not exceed hi, got lo ${lo} and hi ${hi}`);
  if (!Number.isSafeInteger(step) || step < 1)
    throw new RangeError(`intRange: step must be a positive integer, got ${describe(step)}`);
  return { kind: 'int', lo, hi, step };
}

function intValues(r: IntRange): number[] {
  const out: number[] = [];
  for (let v = r.lo; v <= r.hi; v += r.step) out.push(v);
  return out;
}

function checkSpace(op: string, space: SearchSpace): [string, Choice | Range][] {
  if (!space || typeof space !== 'object' || Array.isArray(space))
    throw new TypeError(
      `${op}: the space must be an object of name: choice([...]) | uniform() | logUniform() | intRange()`,
    );
  const entries = Object.entries(space);
  if (entries.length === 0) throw new RangeError(`${op}: the space declares no parameters`);
  for (const [name, p] of entries) {
    const kind = (p as { kind?: unknown } | null)?.kind;
    if (kind !== 'choice' && kind !== 'uniform' && kind !== 'logUniform' && kind !== 'int')
      throw new TypeError(
        `${op}: parameter '${name}' must be made with choice(), uniform(), logUniform() or intRange(), got ${describe(p)}`,
      );
  }
  return entries;
}

/** n points from lo to hi inclusive, evenly spaced (or evenly in log space). */
function gridOf(r: UniformRange | LogUniformRange, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = i / (n - 1);
    out.push(r.kind === 'uniform' ? r.lo + (r.hi - r.lo) * t : Math.exp(Math.log(r.lo) * (1 - t) + Math.log(r.hi) * t));
  }
  // The ends exactly as declared (exp/log and the float interpolation round).
  out[0] = r.lo;
  out[n - 1] = r.hi;
  return out;
}

/**
 * The values grid search tries for each parameter, in the space's order. A continuous range has
 * no natural grid, so it needs `gridPoints` (n points including both ends; log-spaced for
 * logUniform) rather than a silently chosen resolution.
 */
export function gridValues(space: SearchSpace, gridPoints?: number): [string, ParamValue[]][] {
  const entries = checkSpace('gridSearch', space);
  if (gridPoints !== undefined && !(Number.isInteger(gridPoints) && gridPoints >= 2))
    throw new RangeError(`gridSearch: gridPoints must be an integer >= 2, got ${describe(gridPoints)}`);
  return entries.map(([name, p]) => {
    if (p.kind === 'choice') return [name, [...p.values]];
    if (p.kind === 'int') return [name, intValues(p)];
    if (gridPoints === undefined)
      throw new RangeError(
        `gridSearch: parameter '${name}' is a continuous ${p.kind}(${p.lo}, ${p.hi}) range; pass gridPoints (values per range) or use choice()`,
      );
    return [name, gridOf(p, gridPoints)];
  });
}

/** Every combination, the last parameter varying fastest (itertools.product's order). */
function enumerateGrid(values: [string, ParamValue[]][]): Params[] {
  let out: Params[] = [{}];
  for (const [name, vs] of values) {
    const next: Params[] = [];
    for (const base of out) for (const v of vs) next.push({ ...base, [name]: v });
    out = next;
  }
  return out;
}

/** One random point of the space, parameters drawn in declaration order from `g`. */
export function sampleParams(space: SearchSpace, g: Generator): Params {
  const params: Params = {};
  for (const [name, p] of checkSpace('sampleParams', space)) {
    switch (p.kind) {
      case 'choice':
        params[name] = p.values[g.nextInt(p.values.length)];
        break;
      case 'uniform':
        params[name] = p.lo + (p.hi - p.lo) * g.nextFloat();
        break;
      case 'logUniform':
        params[name] = Math.exp(Math.log(p.lo) + (Math.log(p.hi) - Math.log(p.lo)) * g.nextFloat());
        break;
      case 'int':
        params[name] = p.lo + p.step * g.nextInt(Math.floor((p.hi - p.lo) / p.step) + 1);
        break;
    }
  }
  return params;
}

// ---- objectives and results -------------------------------------------------------------------

/** What a trial may spend: the number of epochs to train for (an upper bound under early stopping). */
export interface Budget {
  epochs: number;
}

/** What an objective reports for one trial. */
export interface TrialResult {
  /** The value compared between trials (NaN ranks last). */
  score: number;
  /** Epochs actually run (default: the budget). */
  epochs?: number;
  /** Any other numbers worth keeping (a training run's logs). */
  logs?: Logs;
}

/**
 * Scores one set of parameters within a budget. `monitor` names the score (for the table and
 * for choosing min or max) and `maxEpochs` is the budget used when a search passes none; both
 * optional, set by mlpObjective.
 */
export type Objective = ((params: Params, budget: Budget) => Promise<TrialResult>) & {
  readonly monitor?: string;
  readonly maxEpochs?: number;
};

/** One trial as the search recorded it. */
export interface TrialRecord {
  /** Order in which the trial was generated (grid position or random draw), from 0. */
  id: number;
  params: Params;
  /** The score of its last (for halving: highest-rung) training. */
  score: number;
  /** Epochs run in that training. */
  epochs: number;
  /** Epochs that training was allowed. */
  budget: number;
  /** Wall-clock seconds over all of the trial's trainings. */
  seconds: number;
  logs: Logs;
  /** The last rung the trial reached (successive halving; 0 for grid and random search). */
  rung: number;
  /** Successive halving: the trial's result at each rung it reached. */
  rungs?: { rung: number; budget: number; score: number; epochs: number; seconds: number }[];
}

export type SearchMethod = 'grid' | 'random' | 'halving';

/** How results rank: 'auto' picks max for accuracy-like names, min otherwise (as EarlyStopping). */
export type SearchMode = 'auto' | 'min' | 'max';

function resolveMode(monitor: string, mode: SearchMode): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return /acc|precision|recall|f1|r2|auc/.test(monitor) ? 'max' : 'min';
}

/** Sorts best first: higher rungs first (their scores come from larger budgets), then score, NaN last, then id. */
function compareTrials(mode: 'min' | 'max'): (a: TrialRecord, b: TrialRecord) => number {
  return (a, b) => {
    if (a.rung !== b.rung) return b.rung - a.rung;
    const an = Number.isNaN(a.score);
    const bn = Number.isNaN(b.score);
    if (an !== bn) return an ? 1 : -1;
    if (!an && a.score !== b.score) return mode === 'max' ? b.score - a.score : a.score - b.score;
    return a.id - b.id;
  };
}

function formatValue(v: ParamValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return String(v);
  // Learning rates and penalties in one style (3.00e-4, 1.20e-3), others as short decimals.
  const a = Math.abs(v);
  if (a < 1e-2 || a >= 1e6) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** The outcome of a search: trials sorted best first, plus a table and JSON view. */
export class SearchResult {
  /** Trials best first (see compareTrials: rung, then score). */
  readonly trials: TrialRecord[];
  /** The first of `trials`; null only when the search was aborted before any trial ended. */
  readonly best: TrialRecord | null;

  constructor(
    readonly method: SearchMethod,
    readonly monitor: string,
    readonly mode: 'min' | 'max',
    trials: TrialRecord[],
    /** The parameter names, in the space's order (the table's columns). */
    readonly paramNames: string[],
    /** Budgets and trial counts per rung (one rung for grid and random search). */
    readonly rungs: { budget: number; trials: number }[],
    /** True when an AbortSignal stopped the search before every planned trial ran. */
    readonly aborted: boolean,
  ) {
    this.trials = [...trials].sort(compareTrials(mode));
    this.best = this.trials[0] ?? null;
  }

  /** One row per trial, best first: rank, trial id, each parameter, (rung,) score, epochs, seconds. */
  toTable(): string {
    const halving = this.method === 'halving';
    const header = ['#', 'trial', ...this.paramNames, ...(halving ? ['rung'] : []), this.monitor, 'epochs', 'seconds'];
    const rows = this.trials.map((t, i) => [
      String(i + 1),
      String(t.id),
      ...this.paramNames.map((n) => formatValue(t.params[n])),
      ...(halving ? [`${t.rung + 1}/${this.rungs.length}`] : []),
      Number.isNaN(t.score) ? 'NaN' : t.score.toFixed(4),
      String(t.epochs),
      t.seconds.toFixed(2),
    ]);
    // Numbers right-aligned, text left-aligned; a column is numeric when every cell parses.
    const numeric = header.map(
      (_, c) => rows.length > 0 && rows.every((r) => r[c] === '' || r[c] === 'NaN' || !Number.isNaN(Number(r[c]))),
    );
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (cells: string[]): string =>
      cells
        .map((s, c) => (numeric[c] ? s.padStart(widths[c]) : s.padEnd(widths[c])))
        .join('  ')
        .trimEnd();
    return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
  }

  /** A plain object for JSON.stringify (NaN scores become null there). */
  toJSON(): {
    method: SearchMethod;
    monitor: string;
    mode: 'min' | 'max';
    aborted: boolean;
    rungs: { budget: number; trials: number }[];
    best: TrialRecord | null;
    trials: TrialRecord[];
  } {
    return {
      method: this.method,
      monitor: this.monitor,
      mode: this.mode,
      aborted: this.aborted,
      rungs: this.rungs,
      best: this.best,
      trials: this.trials,
    };
  }
}

// ---- searches ---------------------------------------------------------------------------------

export interface SearchOptions {
  /** Name of the score in the table (default: the objective's `monitor`, else 'score'). */
  monitor?: string;
  /** 'max' for accuracy-like scores, 'min' for losses; 'auto' (default) guesses from `monitor`. */
  mode?: SearchMode;
  /** Called after each training (each rung's, for halving), in order; awaited. */
  onTrialEnd?: (record: TrialRecord) => void | Promise<void>;
  /** Stops the search between trials; the result then holds the trials that ended. */
  signal?: AbortSignal;
}

export interface GridSearchOptions extends SearchOptions {
  /** Epochs per trial (default: the objective's maxEpochs). */
  epochs?: number;
  /** Values tried per continuous range (required when the space has one). */
  gridPoints?: number;
}

export interface RandomSearchOptions extends SearchOptions {
  trials: number;
  /** Seed of the sampling (default: drawn from the global generator). */
  seed?: number;
  /** Epochs per trial (default: the objective's maxEpochs). */
  epochs?: number;
}

export interface HalvingOptions extends SearchOptions {
  /** Trials sampled at random for the first rung. */
  trials: number;
  /** Budget of the first rung (default 1). */
  minEpochs?: number;
  /** Budget cap, reached by the last rung (default: the objective's maxEpochs). */
  maxEpochs?: number;
  /** Budget growth and survivor ratio between rungs: the top 1/eta go on (default 3). */
  eta?: number;
  /** Seed of the sampling (default: drawn from the global generator). */
  seed?: number;
}

const GRID_SEARCH_KEYS = optionKeys<GridSearchOptions>({
  monitor: true,
  mode: true,
  onTrialEnd: true,
  signal: true,
  epochs: true,
  gridPoints: true,
});
const RANDOM_SEARCH_KEYS = optionKeys<RandomSearchOptions>({
  monitor: true,
  mode: true,
  onTrialEnd: true,
  signal: true,
  trials: true,
  seed: true,
  epochs: true,
});
const HALVING_KEYS = optionKeys<HalvingOptions>({
  monitor: true,
  mode: true,
  onTrialEnd: true,
  signal: true,
  trials: true,
  minEpochs: true,
  maxEpochs: true,
  eta: true,
  seed: true,
});
/** Most trials one search samples (each is a model trained at least once). */
const MAX_TRIALS = 1_000_000;

function trialCount(op: string, v: unknown): number {
  const n = positiveInt(op, 'trials', v);
  if (n > MAX_TRIALS) throw new RangeError(`${op}: trials must be at most ${MAX_TRIALS}, got ${n}`);
  return n;
}

function checkObjective(op: string, objective: Objective): void {
  if (typeof objective !== 'function')
    throw new TypeError(`${op}: the objective must be a function (params, { epochs }) => Promise<{ score }>`);
}

function positiveInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw new RangeError(`${op}: ${name} must be a positive integer, got ${describe(v)}`);
  return v;
}

function budgetOf(op: string, epochs: number | undefined, objective: Objective, option = 'epochs'): number {
  const v = epochs ?? objective.maxEpochs;
  if (v === undefined)
    throw new RangeError(`${op}: pass ${option} (the epoch budget per trial); the objective declares no maxEpochs`);
  return positiveInt(op, option, v);
}

class Runner {
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  constructor(
    readonly op: string,
    readonly objective: Objective,
    readonly options: SearchOptions,
  ) {
    checkObjective(op, objective);
    this.monitor = options.monitor ?? objective.monitor ?? 'score';
    const mode = options.mode ?? 'auto';
    if (mode !== 'auto' && mode !== 'min' && mode !== 'max')
      throw new RangeError(`${op}: mode must be 'auto', 'min' or 'max', got ${describe(mode)}`);
    this.mode = resolveMode(this.monitor, mode);
    if (options.onTrialEnd !== undefined && typeof options.onTrialEnd !== 'function')
      throw new TypeError(`${op}: onTrialEnd must be a function`);
  }

  get aborted(): boolean {
    return this.options.signal?.aborted ?? false;
  }

  /** Runs the objective for one trial at one budget and updates (or creates) its record. */
  async run(
    id: number,
    params: Params,
    epochs: number,
    rung: number,
    prev?: Pick<TrialRecord, 'seconds' | 'rungs'>,
  ): Promise<TrialRecord> {
    const t0 = performance.now();
    // A copy: an objective that edits its params must not change the record.
    const result = await this.objective({ ...params }, { epochs });
    const seconds = (performance.now() - t0) / 1000;
    if (!result || typeof result !== 'object' || typeof result.score !== 'number')
      throw new TypeError(
        `${this.op}: the objective must resolve to { score: number, ... }, got ${describe(result)} for trial ${id}`,
      );
    const ran = result.epochs ?? epochs;
    if (typeof ran !== 'number' || !Number.isInteger(ran) || ran < 0)
      throw new RangeError(`${this.op}: the objective reported epochs ${describe(ran)} for trial ${id}`);
    const record: TrialRecord = {
      id,
      params,
      score: result.score,
      epochs: ran,
      budget: epochs,
      seconds: (prev?.seconds ?? 0) + seconds,
      logs: { ...(result.logs ?? {}) },
      rung,
    };
    if (prev?.rungs)
      record.rungs = [...prev.rungs, { rung, budget: epochs, score: result.score, epochs: ran, seconds }];
    await this.options.onTrialEnd?.(record);
    return record;
  }

  /** Each params at one budget, in order, stopping early on abort. */
  async runAll(method: SearchMethod, all: Params[], epochs: number, paramNames: string[]): Promise<SearchResult> {
    const records: TrialRecord[] = [];
    for (let i = 0; i < all.length && !this.aborted; i++) records.push(await this.run(i, all[i], epochs, 0));
    return new SearchResult(
      method,
      this.monitor,
      this.mode,
      records,
      paramNames,
      [{ budget: epochs, trials: all.length }],
      records.length < all.length,
    );
  }
}

/**
 * Tries every combination of the space's values (choices, intRange values, and `gridPoints`
 * points per continuous range), the last parameter varying fastest, each for `epochs`.
 */
export async function gridSearch(
  space: SearchSpace,
  objective: Objective,
  options: GridSearchOptions = {},
): Promise<SearchResult> {
  checkOptionKeys('gridSearch', options, GRID_SEARCH_KEYS);
  const runner = new Runner('gridSearch', objective, options);
  const values = gridValues(space, options.gridPoints);
  const epochs = budgetOf('gridSearch', options.epochs, objective);
  return runner.runAll('grid', enumerateGrid(values), epochs, Object.keys(space));
}

function seedOf(op: string, seed: number | undefined): number {
  if (seed === undefined) return defaultGenerator().nextUint32();
  if (typeof seed !== 'number' || !Number.isFinite(seed))
    throw new RangeError(`${op}: seed must be a finite number, got ${describe(seed)}`);
  return seed;
}

/**
 * `trials` independent draws from the space (uniform over choices and intRange values, uniform
 * or log-uniform over ranges), each trained for `epochs`. The same seed draws the same trials.
 * Draws are not de-duplicated: a small discrete space may repeat a combination.
 */
export async function randomSearch(
  space: SearchSpace,
  objective: Objective,
  options: RandomSearchOptions,
): Promise<SearchResult> {
  const op = 'randomSearch';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${op}: options { trials } are required`);
  checkOptionKeys(op, options, RANDOM_SEARCH_KEYS);
  const runner = new Runner(op, objective, options);
  checkSpace(op, space);
  const trials = trialCount(op, options.trials);
  const epochs = budgetOf(op, options.epochs, objective);
  const g = new Generator(seedOf(op, options.seed));
  const all = Array.from({ length: trials }, () => sampleParams(space, g));
  return runner.runAll('random', all, epochs, Object.keys(space));
}

/**
 * The rung budgets of successive halving: minEpochs * eta^r, capped at maxEpochs, until the
 * cap is reached; and the trials each rung trains (the top floor(n / eta) of the previous, at
 * least one).
 */
export function halvingRungs(
  trials: number,
  minEpochs: number,
  maxEpochs: number,
  eta: number,
): { budget: number; trials: number }[] {
  const rungs: { budget: number; trials: number }[] = [];
  let budget = minEpochs;
  let n = trials;
  for (;;) {
    rungs.push({ budget: Math.min(budget, maxEpochs), trials: n });
    if (budget >= maxEpochs) return rungs;
    budget *= eta;
    n = Math.max(1, Math.floor(n / eta));
  }
}

/**
 * Successive halving: `trials` random draws each trained for minEpochs, the best 1/eta of them
 * trained again for eta times as many epochs, and so on up to maxEpochs (e.g. 9 trials with
 * eta 3 and 1..9 epochs: 9 at 1 epoch, 3 at 3, 1 at 9). Weak trials stop after a cheap rung;
 * the table shows where each stopped, and ranks trials of higher rungs first since their
 * scores come from longer training.
 *
 * Each rung retrains a promoted trial from scratch with the larger budget (the objective sees
 * only params and a budget, so any objective works, and a seeded objective reproduces its
 * earlier epochs anyway). This costs up to 1/(eta - 1) more epochs than resuming would: with
 * eta 3, at most half again.
 */
export async function successiveHalving(
  space: SearchSpace,
  objective: Objective,
  options: HalvingOptions,
): Promise<SearchResult> {
  const op = 'successiveHalving';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${op}: options { trials } are required`);
  checkOptionKeys(op, options, HALVING_KEYS);
  const runner = new Runner(op, objective, options);
  checkSpace(op, space);
  const trials = trialCount(op, options.trials);
  const minEpochs = positiveInt(op, 'minEpochs', options.minEpochs ?? 1);
  const maxEpochs = budgetOf(op, options.maxEpochs, objective, 'maxEpochs');
  if (maxEpochs < minEpochs)
    throw new RangeError(`${op}: maxEpochs (${maxEpochs}) must be at least minEpochs (${minEpochs})`);
  const eta = options.eta ?? 3;
  if (typeof eta !== 'number' || !Number.isSafeInteger(eta) || eta < 2)
    throw new RangeError(`${op}: eta must be an integer >= 2, got ${describe(eta)}`);
  const g = new Generator(seedOf(op, options.seed));
  const all = Array.from({ length: trials }, () => sampleParams(space, g));
  const rungs = halvingRungs(trials, minEpochs, maxEpochs, eta);
  const records = new Map<number, TrialRecord>();
  const compare = compareTrials(runner.mode);
  let survivors = all.map((_, i) => i);
  let aborted = false;
  for (let r = 0; r < rungs.length && !aborted; r++) {
    if (r > 0) {
      // Promote the best of the previous rung (all survivors reached it unless aborted).
      const ranked = survivors.map((i) => records.get(i) as TrialRecord).sort(compare);
      survivors = ranked.slice(0, rungs[r].trials).map((t) => t.id);
    }
    for (const i of survivors) {
      if (runner.aborted) {
        aborted = true;
        break;
      }
      records.set(i, await runner.run(i, all[i], rungs[r].budget, r, records.get(i) ?? { seconds: 0, rungs: [] }));
    }
  }
  return new SearchResult(
    'halving',
    runner.monitor,
    runner.mode,
    [...records.values()],
    Object.keys(space),
    rungs,
    aborted,
  );
}

// ---- a ready-made objective: an MLP classifier --------------------------------------------

/** The parameters mlpObjective reads; any it is not given take these defaults. */
export interface MlpParams {
  /** Hidden layers (0: a linear classifier). */
  layers: number;
  /** Width of each hidden layer. */
  units: number;
  activation: LinearActivation;
  /** Dropout rate after each hidden layer (none when 0). */
  dropout: number;
  /** L2 factor on every weight matrix (Keras's l2: λ Σ w²). */
  l2: number;
  /** Learning rate (default: the optimizer's own). */
  lr?: number;
  batchSize: number;
  optimizer: OptimizerName;
}

export const MLP_DEFAULTS: Readonly<MlpParams> = {
  layers: 1,
  units: 64,
  activation: 'relu',
  dropout: 0,
  l2: 0,
  batchSize: 32,
  optimizer: 'adam',
};

const ACTIVATIONS: readonly LinearActivation[] = LINEAR_ACTIVATIONS;
const OPTIMIZERS: readonly OptimizerName[] = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'];

/** Reads and checks MlpParams out of a trial's params, naming the parameter at fault. */
export function mlpParams(params: Params, defaults: Partial<MlpParams> = {}): MlpParams {
  const op = 'mlpObjective';
  const known = new Set<string>([...Object.keys(MLP_DEFAULTS), 'lr']);
  for (const k of Object.keys(params))
    if (!known.has(k)) throw new RangeError(`${op}: unknown parameter '${k}' (it reads ${[...known].join(', ')})`);
  const p = { ...MLP_DEFAULTS, ...defaults, ...params } as Record<string, unknown>;
  const int = (k: string, min: number): number => {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
      throw new RangeError(`${op}: ${k} must be an integer >= ${min}, got ${describe(v)}`);
    return v;
  };
  const out: MlpParams = {
    layers: int('layers', 0),
    units: int('units', 1),
    activation: p.activation as LinearActivation,
    dropout: p.dropout as number,
    l2: p.l2 as number,
    batchSize: int('batchSize', 1),
    optimizer: p.optimizer as OptimizerName,
  };
  if (!ACTIVATIONS.includes(out.activation))
    throw new RangeError(`${op}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${describe(out.activation)}`);
  if (!OPTIMIZERS.includes(out.optimizer))
    throw new RangeError(`${op}: optimizer must be one of ${OPTIMIZERS.join(', ')}, got ${describe(out.optimizer)}`);
  if (typeof out.dropout !== 'number' || !(out.dropout >= 0 && out.dropout < 1))
    throw new RangeError(`${op}: dropout must be in [0, 1), got ${describe(out.dropout)}`);
  if (typeof out.l2 !== 'number' || !(out.l2 >= 0 && Number.isFinite(out.l2)))
    throw new RangeError(`${op}: l2 must be a finite number >= 0, got ${describe(out.l2)}`);
  if (p.lr !== undefined) {
    if (typeof p.lr !== 'number' || !(p.lr > 0 && Number.isFinite(p.lr)))
      throw new RangeError(`${op}: lr must be a finite number > 0, got ${describe(p.lr)}`);
    out.lr = p.lr;
  }
  return out;
}

export interface MlpObjectiveOptions {
  /** Inputs (N, features) and int32 class labels (N). */
  x: Tensor;
  y: Tensor;
  /** Input width (default: x's row size). */
  inputFeatures?: number;
  classes: number;
  /** Fraction held out for validation: the last rows, as fit does (default 0.2). */
  validationSplit?: number;
  /** Explicit validation data, used instead of validationSplit. */
  validationData?: [Tensor, Tensor];
  /** Epochs without improvement before early stopping (default 3). */
  patience?: number;
  /** The score and early-stopping metric (default 'val_accuracy'). */
  monitor?: 'val_accuracy' | 'val_loss';
  /** The budget when a search passes none (grid/random `epochs`, halving `maxEpochs`). */
  maxEpochs?: number;
  /** Seeds the weights, dropout masks and shuffling of every trial (default 0). */
  seed?: number;
  /** Values for MlpParams the space does not declare. */
  defaults?: Partial<MlpParams>;
}
const MLP_OBJECTIVE_KEYS = optionKeys<MlpObjectiveOptions>({
  x: true,
  y: true,
  inputFeatures: true,
  classes: true,
  validationSplit: true,
  validationData: true,
  patience: true,
  monitor: true,
  maxEpochs: true,
  seed: true,
  defaults: true,
});

/** mlpModel's options. */
export interface MlpModelOptions {
  /** Input width. */
  inputFeatures: number;
  /** Output logits (classes). */
  classes: number;
  /** Seeds the weights and dropout masks (default 0). */
  seed?: number;
  /** Values for MlpParams the params do not give. */
  defaults?: Partial<MlpParams>;
}
const MLP_MODEL_KEYS = optionKeys<MlpModelOptions>({ inputFeatures: true, classes: true, seed: true, defaults: true });

/** The MlpObjectiveOptions checks shared by mlpObjective (when built) and trainMlp. */
function checkMlpOptions(op: string, options: MlpObjectiveOptions): void {
  if (!options || typeof options !== 'object') throw new TypeError(`${op}: expected { x, y, classes, ... }`);
  checkOptionKeys(op, options, MLP_OBJECTIVE_KEYS);
  if (options.inputFeatures !== undefined) positiveInt(op, 'inputFeatures', options.inputFeatures);
  numberOption(op, 'validationSplit', options.validationSplit, 0.2, 0, 0.999999);
  if (options.seed !== undefined && (typeof options.seed !== 'number' || !Number.isFinite(options.seed)))
    throw new RangeError(`${op}: seed must be a finite number, got ${describe(options.seed)}`);
}

/**
 * The MLP a set of params describes, compiled for sparse cross-entropy with accuracy:
 * `layers` hidden Linear(units, activation) layers with l2(factor) weight penalties and
 * Dropout after each when dropout > 0, then Linear(units, classes) producing logits.
 * Weights and dropout masks come from a generator seeded with `seed`, not the global one, so
 * building a trial's model neither depends on nor disturbs the caller's random stream.
 */
export function mlpModel(params: Params, options: MlpModelOptions): Model {
  if (!options || typeof options !== 'object') throw new TypeError('mlpModel: expected { inputFeatures, classes }');
  checkOptionKeys('mlpModel', options, MLP_MODEL_KEYS);
  positiveInt('mlpModel', 'inputFeatures', options.inputFeatures);
  positiveInt('mlpModel', 'classes', options.classes);
  const p = mlpParams(params, options.defaults);
  const g = new Generator(options.seed ?? 0);
  const reg = p.l2 > 0 ? l2(p.l2) : null;
  const layers: Module[] = [];
  let width = options.inputFeatures;
  for (let i = 0; i < p.layers; i++) {
    layers.push(
      new Linear(width, p.units, { activation: p.activation, weightRegularizer: reg, init: { generator: g } }),
    );
    if (p.dropout > 0) layers.push(new Dropout(p.dropout, { generator: g }));
    width = p.units;
  }
  layers.push(new Linear(width, options.classes, { weightRegularizer: reg, init: { generator: g } }));
  return new Model(new Sequential(...layers)).compile({
    optimizer: p.optimizer,
    learningRate: p.lr,
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
}

/**
 * Trains the MLP of `params` for up to `epochs` with early stopping on the monitored
 * validation metric (restoring the best epoch's weights) and returns the model with its
 * trial result: the best epoch's score and logs (those of the weights kept) and the epochs run.
 * mlpObjective is this without the model; call it again with a trial's params and budget to get
 * that trial's trained model back (same seed, same weights).
 */
export async function trainMlp(
  params: Params,
  options: MlpObjectiveOptions,
  epochs: number,
): Promise<{ model: Model; result: TrialResult }> {
  const op = 'mlpObjective';
  checkMlpOptions('trainMlp', options);
  const { x, y } = options;
  if (!(x instanceof Tensor) || !(y instanceof Tensor) || x.ndim === 0)
    throw new TypeError(`${op}: x and y must be Tensors with a batch axis`);
  const inputFeatures = options.inputFeatures ?? x.size / x.shape[0];
  const monitor = options.monitor ?? 'val_accuracy';
  if (monitor !== 'val_accuracy' && monitor !== 'val_loss')
    throw new RangeError(`${op}: monitor must be 'val_accuracy' or 'val_loss', got ${describe(monitor)}`);
  const seed = options.seed ?? 0;
  const p = mlpParams(params, options.defaults);
  const model = mlpModel(params, { inputFeatures, classes: options.classes, seed, defaults: options.defaults });
  const stopper = new EarlyStopping({ monitor, patience: options.patience ?? 3, restoreBestWeights: true });
  const history = await model.fit(x, y, {
    epochs,
    batchSize: p.batchSize,
    ...(options.validationData
      ? { validationData: options.validationData }
      : { validationSplit: options.validationSplit ?? 0.2 }),
    callbacks: [stopper],
    verbose: 0,
    seed,
  });
  const ran = history.epoch.length;
  const at = stopper.bestEpoch >= 0 ? history.epoch.indexOf(stopper.bestEpoch) : ran - 1;
  const logs: Logs = {};
  for (const [k, series] of Object.entries(history.history)) logs[k] = series[at];
  return { model, result: { score: logs[monitor] ?? NaN, epochs: ran, logs } };
}

/**
 * An objective that trains an MLP classifier per trial (see mlpModel and trainMlp). It reads
 * the params layers, units, activation, dropout, l2, lr, batchSize and optimizer, and rejects
 * any other name, since a misspelt parameter would otherwise be searched without effect.
 */
export function mlpObjective(options: MlpObjectiveOptions): Objective {
  const op = 'mlpObjective';
  checkMlpOptions(op, options);
  if (!(options.x instanceof Tensor) || !(options.y instanceof Tensor) || options.x.ndim === 0)
    throw new TypeError(`${op}: x and y must be Tensors with a batch axis`);
  positiveInt(op, 'classes', options.classes);
  if (options.monitor !== undefined && options.monitor !== 'val_accuracy' && options.monitor !== 'val_loss')
    throw new RangeError(`${op}: monitor must be 'val_accuracy' or 'val_loss', got ${describe(options.monitor)}`);
  if (options.maxEpochs !== undefined) positiveInt(op, 'maxEpochs', options.maxEpochs);
  if (options.patience !== undefined && !(Number.isInteger(options.patience) && options.patience >= 0))
    throw new RangeError(`${op}: patience must be a non-negative integer, got ${describe(options.patience)}`);
  if (options.defaults) mlpParams({}, options.defaults);
  const monitor = options.monitor ?? 'val_accuracy';
  const objective = async (params: Params, budget: Budget): Promise<TrialResult> =>
    (await trainMlp(params, options, budget.epochs)).result;
  return Object.assign(objective, { monitor, maxEpochs: options.maxEpochs });
}
