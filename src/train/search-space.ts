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

/** A value for an error message: strings quoted, arrays and objects named (shared by the search files). */
export function describe(v: unknown): string {
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
export function enumerateGrid(values: [string, ParamValue[]][]): Params[] {
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
