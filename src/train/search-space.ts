/**
 * The search space of a hyperparameter search (search.ts): the parameters and the values
 * each may take (choice, uniform, logUniform, intRange), the grid a grid search walks and the
 * random points random search and successive halving draw.
 *
 * Sampling draws from the project's seeded `Generator`, so a seed gives the same trials.
 * This file imports nothing from the rest of the search: the runner (search.ts) and the
 * MLP objective (search-mlp.ts) build on it.
 */
import type { Generator } from '../tensor/random.js';

/**
 * One hyperparameter's value in a trial: a string, a finite number or a boolean.
 *
 * @example
 * ```ts
 * import { choice, type ParamValue } from 'axon-nn';
 * const widths: ParamValue[] = [32, 64, 128];
 * const units = choice(widths);
 * ```
 */
export type ParamValue = string | number | boolean;
/**
 * One trial's hyperparameters by name, as an objective receives them.
 *
 * @example
 * ```ts
 * import { mlpParams, type Params } from 'axon-nn';
 * const params: Params = { layers: 2, units: 64, activation: 'gelu', lr: 1e-3 };
 * const checked = mlpParams(params); // the MLP objective's reading of them
 * ```
 */
export type Params = Record<string, ParamValue>;

/**
 * One of a list of values (any mix of strings, numbers and booleans).
 *
 * @example
 * ```ts
 * import { choice, type Choice } from 'axon-nn';
 * const optimizer: Choice = choice(['adam', 'sgd']);
 * console.log(optimizer.values); // [ 'adam', 'sgd' ]
 * ```
 */
export interface Choice {
  /** Always 'choice'. */
  readonly kind: 'choice';
  /** The values, in the order grid search tries them. */
  readonly values: readonly ParamValue[];
}
/**
 * A float drawn uniformly from [lo, hi].
 *
 * @example
 * ```ts
 * import { uniform, type UniformRange } from 'axon-nn';
 * const dropout: UniformRange = uniform(0, 0.5);
 * ```
 */
export interface UniformRange {
  /** Always 'uniform'. */
  readonly kind: 'uniform';
  /** Lower bound. */
  readonly lo: number;
  /** Upper bound. */
  readonly hi: number;
}
/**
 * A positive float whose logarithm is uniform: each decade is as likely (learning rates, L2).
 *
 * @example
 * ```ts
 * import { logUniform, type LogUniformRange } from 'axon-nn';
 * const lr: LogUniformRange = logUniform(1e-4, 1e-1);
 * ```
 */
export interface LogUniformRange {
  /** Always 'logUniform'. */
  readonly kind: 'logUniform';
  /** Lower bound (> 0). */
  readonly lo: number;
  /** Upper bound. */
  readonly hi: number;
}
/**
 * The integers lo, lo + step, ... up to hi (inclusive when reached).
 *
 * @example
 * ```ts
 * import { intRange, type IntRange } from 'axon-nn';
 * const units: IntRange = intRange(32, 256, 32); // 32, 64, ..., 256
 * ```
 */
export interface IntRange {
  /** Always 'int'. */
  readonly kind: 'int';
  /** The first value. */
  readonly lo: number;
  /** The largest value allowed. */
  readonly hi: number;
  /** Distance between values. */
  readonly step: number;
}
/**
 * A numeric range of a search space: uniform, log-uniform or integer (exported as SearchRange).
 *
 * @example
 * ```ts
 * import { uniform, logUniform, type SearchRange } from 'axon-nn';
 * const ranges: Record<string, SearchRange> = { dropout: uniform(0, 0.5), lr: logUniform(1e-4, 1e-2) };
 * ```
 */
export type Range = UniformRange | LogUniformRange | IntRange;
/**
 * Parameter name to its choices or range; parameters keep the declaration order.
 *
 * @example
 * ```ts
 * import { choice, intRange, logUniform, type SearchSpace } from 'axon-nn';
 * const space: SearchSpace = {
 *   layers: intRange(1, 3),
 *   activation: choice(['relu', 'gelu']),
 *   lr: logUniform(1e-4, 1e-2),
 * };
 * ```
 */
export type SearchSpace = Record<string, Choice | Range>;

/** A value for an error message: strings quoted, arrays and objects named (shared by the search files). */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : String(v);
}

/**
 * A parameter taking one of `values`, tried in this order by grid search. Throws a RangeError
 * for an empty list, a repeated value, or a value that is not a string, boolean or finite number.
 *
 * @example
 * ```ts
 * import { choice, intRange, type SearchSpace } from 'axon-nn';
 * const space: SearchSpace = { activation: choice(['relu', 'gelu', 'tanh']), layers: intRange(1, 3) };
 * ```
 */
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

/**
 * A float drawn uniformly from [lo, hi] (dropout rates, momentum). Throws a RangeError unless
 * lo < hi, both finite.
 *
 * @example
 * ```ts
 * import { uniform, logUniform, type SearchSpace } from 'axon-nn';
 * const space: SearchSpace = { dropout: uniform(0, 0.5), lr: logUniform(1e-4, 1e-2) };
 * ```
 */
export function uniform(lo: number, hi: number): UniformRange {
  checkBounds('uniform', lo, hi);
  return { kind: 'uniform', lo, hi };
}

/**
 * A float in [lo, hi] with a uniform logarithm, for scale parameters (learning rate, L2).
 * Throws a RangeError unless 0 < lo < hi, both finite.
 *
 * @example
 * ```ts
 * import { logUniform, type SearchSpace } from 'axon-nn';
 * const space: SearchSpace = { lr: logUniform(1e-5, 1e-1), l2: logUniform(1e-6, 1e-3) };
 * ```
 */
export function logUniform(lo: number, hi: number): LogUniformRange {
  checkBounds('logUniform', lo, hi);
  if (!(lo > 0)) throw new RangeError(`logUniform: lo must be > 0 (a logarithm is taken), got ${lo}`);
  return { kind: 'logUniform', lo, hi };
}

/**
 * The integers lo, lo + step, ... <= hi: layer counts, widths in steps. Both ends inclusive
 * (hi when a step lands on it); default step 1. Throws a RangeError for non-integers, lo > hi
 * or a step below 1.
 *
 * @example
 * ```ts
 * import { intRange, type SearchSpace } from 'axon-nn';
 * const space: SearchSpace = { layers: intRange(1, 4), units: intRange(32, 256, 32) };
 * ```
 */
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

export function checkSpace(op: string, space: SearchSpace): [string, Choice | Range][] {
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
 * logUniform) rather than a silently chosen resolution: without it such a range throws a
 * RangeError, as does a gridPoints below 2.
 *
 * @example
 * ```ts
 * import { gridValues, intRange, uniform } from 'axon-nn';
 * console.log(gridValues({ units: intRange(32, 128, 32), dropout: uniform(0, 0.5) }, 3));
 * // [ [ 'units', [ 32, 64, 96, 128 ] ], [ 'dropout', [ 0, 0.25, 0.5 ] ] ]
 * ```
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
export function enumerateGrid(values: [string, ParamValue[]][]): Params[] {
  let out: Params[] = [{}];
  for (const [name, vs] of values) {
    const next: Params[] = [];
    for (const base of out) for (const v of vs) next.push({ ...base, [name]: v });
    out = next;
  }
  return out;
}

/**
 * One random point of the space, parameters drawn in declaration order from `g`: the same
 * generator state gives the same point. Throws a TypeError for a malformed space.
 *
 * @example
 * ```ts
 * import { sampleParams, logUniform, choice, Generator } from 'axon-nn';
 * const space = { lr: logUniform(1e-4, 1e-1), optimizer: choice(['adam', 'sgd']) };
 * const a = sampleParams(space, new Generator(7));
 * const b = sampleParams(space, new Generator(7)); // the same draw as a
 * ```
 */
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
