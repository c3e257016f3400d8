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
 *
 * The space and its sampling are in search-space.ts, mlpObjective in search-mlp.ts; this file
 * runs trials and ranks them.
 */
import { Generator, defaultGenerator } from '../tensor/random.js';
import { checkOptionKeys, optionKeys } from '../options.js';
import type { Logs } from './callbacks.js';
import {
  checkSpace,
  describe,
  enumerateGrid,
  gridValues,
  sampleParams,
  type ParamValue,
  type Params,
  type SearchSpace,
} from './search-space.js';

// ---- objectives and results -------------------------------------------------------------------

/**
 * What a trial may spend: the number of epochs to train for (an upper bound under early stopping).
 *
 * @example
 * ```ts
 * import { mlpObjective, randn, randint, type Budget } from 'axon-nn';
 * const objective = mlpObjective({ x: randn([60, 4]), y: randint(0, 3, [60]), classes: 3 });
 * const budget: Budget = { epochs: 2 };
 * const { score } = await objective({ units: 16 }, budget); // one trial by hand
 * ```
 */
export interface Budget {
  /** Epochs the trial trains for at most. */
  epochs: number;
}

/**
 * What an objective reports for one trial. A result without a numeric score makes the search
 * reject with a TypeError.
 *
 * @example
 * ```ts
 * import { randomSearch, uniform, type Params, type Budget, type TrialResult } from 'axon-nn';
 * async function objective(params: Params, budget: Budget): Promise<TrialResult> {
 *   const score = -((Number(params.x) - 0.3) ** 2); // stands in for a training run
 *   return { score, epochs: budget.epochs, logs: { x: Number(params.x) } };
 * }
 * const result = await randomSearch({ x: uniform(0, 1) }, objective, { trials: 10, epochs: 1, mode: 'max', seed: 0 });
 * ```
 */
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
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, ReLU, gridSearch, choice, randn, type Objective } from 'axon-nn';
 * const [x, y] = [randn([64, 4]), randn([64, 1])];
 * const objective: Objective = async (params, budget) => {
 *   const units = Number(params.units);
 *   const model = new Model(new Sequential(new Linear(4, units), new ReLU(), new Linear(units, 1))).compile({ optimizer: 'adam', loss: 'mse' });
 *   const history = await model.fit(x, y, { epochs: budget.epochs, validationSplit: 0.25, verbose: 0 });
 *   return { score: history.history.val_loss[budget.epochs - 1] };
 * };
 * const result = await gridSearch({ units: choice([4, 16]) }, objective, { epochs: 2, monitor: 'val_loss' });
 * ```
 */
export type Objective = ((params: Params, budget: Budget) => Promise<TrialResult>) & {
  /** The score's name (searches default their `monitor` to it). */
  readonly monitor?: string;
  /** The epoch budget a search uses when its options give none. */
  readonly maxEpochs?: number;
};

/**
 * One trial as the search recorded it: in SearchResult.trials, and given to onTrialEnd.
 *
 * @example
 * ```ts
 * import { randomSearch, logUniform, type TrialRecord } from 'axon-nn';
 * const onTrialEnd = (t: TrialRecord): void => console.log(`trial ${t.id}: lr ${t.params.lr} -> ${t.score.toFixed(3)}`);
 * const objective = async (params: Record<string, unknown>) => ({ score: Math.log10(Number(params.lr)) });
 * await randomSearch({ lr: logUniform(1e-4, 1e-1) }, objective, { trials: 3, epochs: 1, onTrialEnd });
 * ```
 */
export interface TrialRecord {
  /** Order in which the trial was generated (grid position or random draw), from 0. */
  id: number;
  /** The trial's parameter values. */
  params: Params;
  /** The score of its last (for halving: highest-rung) training. */
  score: number;
  /** Epochs run in that training. */
  epochs: number;
  /** Epochs that training was allowed. */
  budget: number;
  /** Wall-clock seconds over all of the trial's trainings. */
  seconds: number;
  /** The logs the objective reported for that training (mlpObjective: the best epoch's). */
  logs: Logs;
  /** The last rung the trial reached (successive halving; 0 for grid and random search). */
  rung: number;
  /** Successive halving: the trial's result at each rung it reached. */
  rungs?: {
    /** The rung (0-based). */
    rung: number;
    /** Epochs allowed at that rung. */
    budget: number;
    /** The score there. */
    score: number;
    /** Epochs run there. */
    epochs: number;
    /** Seconds that training took. */
    seconds: number;
  }[];
}

/**
 * Which search made a SearchResult: gridSearch, randomSearch or successiveHalving.
 *
 * @example
 * ```ts
 * import type { SearchMethod, SearchResult } from 'axon-nn';
 * function summary(result: SearchResult): string {
 *   const method: SearchMethod = result.method;
 *   return method === 'halving' ? `${result.rungs.length} rungs` : `${result.trials.length} trials`;
 * }
 * ```
 */
export type SearchMethod = 'grid' | 'random' | 'halving';

/**
 * How results rank: 'auto' picks max for accuracy-like names, min otherwise (as EarlyStopping).
 *
 * @example
 * ```ts
 * import { gridSearch, choice, type SearchMode } from 'axon-nn';
 * const mode: SearchMode = 'max';
 * const objective = async (params: Record<string, unknown>) => ({ score: Number(params.k) % 3 });
 * const result = await gridSearch({ k: choice([1, 2, 3]) }, objective, { epochs: 1, monitor: 'remainder', mode });
 * ```
 */
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

/**
 * The outcome of a search: trials sorted best first, plus a table and JSON view.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { randomSearch, uniform } from 'axon-nn';
 * const objective = async (params: Record<string, unknown>) => ({ score: (Number(params.x) - 0.5) ** 2 });
 * const result = await randomSearch({ x: uniform(0, 1) }, objective, { trials: 8, epochs: 1, seed: 3 });
 * console.log(result.toTable()); // ranked: #, trial, x, score, epochs, seconds
 * writeFileSync('search.json', JSON.stringify(result, null, 2));
 * ```
 */
export class SearchResult {
  /** Trials best first (see compareTrials: rung, then score). */
  readonly trials: TrialRecord[];
  /** The first of `trials`; null only when the search was aborted before any trial ended. */
  readonly best: TrialRecord | null;

  constructor(
    /** The search that ran. */
    readonly method: SearchMethod,
    /** The score's name. */
    readonly monitor: string,
    /** Whether lower ('min') or higher ('max') scores rank first. */
    readonly mode: 'min' | 'max',
    trials: TrialRecord[],
    /** The parameter names, in the space's order (the table's columns). */
    readonly paramNames: string[],
    /** Budgets and trial counts per rung (one rung for grid and random search). */
    readonly rungs: {
      /** Epochs per trial at this rung. */
      budget: number;
      /** Trials planned at this rung. */
      trials: number;
    }[],
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
    /** The search that ran. */
    method: SearchMethod;
    /** The score's name. */
    monitor: string;
    /** The ranking direction. */
    mode: 'min' | 'max';
    /** Whether an AbortSignal cut the search short. */
    aborted: boolean;
    /** Budgets and trial counts per rung. */
    rungs: {
      /** Epochs per trial at this rung. */
      budget: number;
      /** Trials planned at this rung. */
      trials: number;
    }[];
    /** The best trial, or null. */
    best: TrialRecord | null;
    /** Every trial, best first. */
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

/**
 * The options every search takes (gridSearch, randomSearch and successiveHalving add their own).
 *
 * @example
 * ```ts
 * import { gridSearch, choice, type SearchOptions } from 'axon-nn';
 * const common: SearchOptions = { monitor: 'val_accuracy', mode: 'max', signal: AbortSignal.timeout(60_000) };
 * const objective = async (params: Record<string, unknown>) => ({ score: params.units === 64 ? 0.9 : 0.8 });
 * const result = await gridSearch({ units: choice([32, 64]) }, objective, { ...common, epochs: 5 });
 * ```
 */
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

/**
 * gridSearch's options. A bad value makes it reject (an unknown key with a TypeError, a bad
 * count with a RangeError).
 *
 * @example
 * ```ts
 * import { gridSearch, uniform, choice, type GridSearchOptions } from 'axon-nn';
 * const options: GridSearchOptions = { epochs: 3, gridPoints: 4, mode: 'min' };
 * const objective = async (params: Record<string, unknown>) => ({ score: Math.abs(Number(params.dropout) - 0.2) });
 * const result = await gridSearch({ dropout: uniform(0, 0.6), batchNorm: choice([true, false]) }, objective, options); // 8 trials
 * ```
 */
export interface GridSearchOptions extends SearchOptions {
  /** Epochs per trial (default: the objective's maxEpochs). */
  epochs?: number;
  /** Values tried per continuous range (required when the space has one). */
  gridPoints?: number;
}

/**
 * randomSearch's options (`trials` is required). A bad value makes it reject (an unknown key
 * with a TypeError, a bad count with a RangeError).
 *
 * @example
 * ```ts
 * import { randomSearch, logUniform, type RandomSearchOptions } from 'axon-nn';
 * const options: RandomSearchOptions = { trials: 20, seed: 42, epochs: 1, mode: 'min' };
 * const objective = async (params: Record<string, unknown>) => ({ score: Math.abs(Math.log10(Number(params.lr)) + 3) });
 * const result = await randomSearch({ lr: logUniform(1e-5, 1e-1) }, objective, options);
 * ```
 */
export interface RandomSearchOptions extends SearchOptions {
  /** Number of random draws to train (at most 1,000,000). */
  trials: number;
  /** Seed of the sampling (default: drawn from the global generator). */
  seed?: number;
  /** Epochs per trial (default: the objective's maxEpochs). */
  epochs?: number;
}

/**
 * successiveHalving's options (`trials` is required). A bad value makes it reject (an unknown
 * key with a TypeError, a bad count with a RangeError).
 *
 * @example
 * ```ts
 * import { successiveHalving, uniform, type HalvingOptions } from 'axon-nn';
 * const options: HalvingOptions = { trials: 9, minEpochs: 1, maxEpochs: 9, eta: 3, seed: 0, mode: 'min' };
 * const objective = async (params: Record<string, unknown>, budget: { epochs: number }) => ({ score: Number(params.x) / budget.epochs });
 * const result = await successiveHalving({ x: uniform(0, 1) }, objective, options); // 9 trials at 1 epoch, 3 at 3, 1 at 9
 * ```
 */
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

/** Also checks search-mlp.ts's counts (inputFeatures, classes, maxEpochs), with the same message. */
export function positiveInt(op: string, name: string, v: unknown): number {
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
 * points per continuous range), the last parameter varying fastest, each for `epochs`
 * (itertools.product's order). Rejects on a malformed space or options, or when no epoch
 * budget is given by options or objective.
 *
 * @example
 * ```ts
 * import { gridSearch, mlpObjective, choice, intRange, randn, randint } from 'axon-nn';
 * const objective = mlpObjective({ x: randn([120, 4]), y: randint(0, 3, [120]), classes: 3, maxEpochs: 3 });
 * const result = await gridSearch({ units: choice([8, 16]), layers: intRange(1, 2) }, objective);
 * console.log(result.toTable()); // 4 trials, best val_accuracy first
 * ```
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
 *
 * @example
 * ```ts
 * import { randomSearch, mlpObjective, logUniform, uniform, randn, randint } from 'axon-nn';
 * const objective = mlpObjective({ x: randn([120, 4]), y: randint(0, 3, [120]), classes: 3, maxEpochs: 3 });
 * const space = { lr: logUniform(1e-4, 1e-1), dropout: uniform(0, 0.5) };
 * const result = await randomSearch(space, objective, { trials: 4, seed: 1 });
 * console.log(result.best?.params);
 * ```
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
 * least one). For planning a search's cost; it does not check its arguments (successiveHalving does).
 *
 * @example
 * ```ts
 * import { halvingRungs } from 'axon-nn';
 * const rungs = halvingRungs(27, 1, 27, 3); // 27 trials at 1 epoch, 9 at 3, 3 at 9, 1 at 27
 * console.log(rungs.reduce((epochs, r) => epochs + r.budget * r.trials, 0)); // 108
 * ```
 */
export function halvingRungs(
  trials: number,
  minEpochs: number,
  maxEpochs: number,
  eta: number,
): {
  /** Epochs per trial at this rung. */
  budget: number;
  /** Trials trained at this rung. */
  trials: number;
}[] {
  const op = 'halvingRungs';
  for (const [name, v] of [
    ['trials', trials],
    ['minEpochs', minEpochs],
    ['maxEpochs', maxEpochs],
  ] as const)
    if (!Number.isSafeInteger(v) || v < 1)
      throw new RangeError(`${op}: ${name} must be an integer >= 1, got ${describe(v)}`);
  if (maxEpochs < minEpochs)
    throw new RangeError(`${op}: maxEpochs (${maxEpochs}) must be at least minEpochs (${minEpochs})`);
  if (!Number.isSafeInteger(eta) || eta < 2)
    throw new RangeError(`${op}: eta must be an integer >= 2, got ${describe(eta)}`);
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
 * Successive halving (Hyperband's inner loop): `trials` random draws each trained for minEpochs, the best 1/eta of them
 * trained again for eta times as many epochs, and so on up to maxEpochs (e.g. 9 trials with
 * eta 3 and 1..9 epochs: 9 at 1 epoch, 3 at 3, 1 at 9). Weak trials stop after a cheap rung;
 * the table shows where each stopped, and ranks trials of higher rungs first since their
 * scores come from longer training.
 *
 * Each rung retrains a promoted trial from scratch with the larger budget (the objective sees
 * only params and a budget, so any objective works, and a seeded objective reproduces its
 * earlier epochs anyway). This costs up to 1/(eta - 1) more epochs than resuming would: with
 * eta 3, at most half again.
 *
 * @example
 * ```ts
 * import { successiveHalving, mlpObjective, choice, logUniform, randn, randint } from 'axon-nn';
 * const objective = mlpObjective({ x: randn([120, 4]), y: randint(0, 3, [120]), classes: 3 });
 * const space = { units: choice([8, 16, 32]), lr: logUniform(1e-3, 1e-1) };
 * const result = await successiveHalving(space, objective, { trials: 9, maxEpochs: 9, seed: 0 });
 * console.log(result.rungs); // [ { budget: 1, trials: 9 }, { budget: 3, trials: 3 }, { budget: 9, trials: 1 } ]
 * ```
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
