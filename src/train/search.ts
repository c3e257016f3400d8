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
