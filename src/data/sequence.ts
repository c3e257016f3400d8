/**
 * Padding a batch of variable-length sequences into one rectangular block plus the length of
 * each row: token ids into int32 (N, T), numeric steps into float32 (N, T, F). Not a masking
 * layer: the recurrent layers take `lengths` and run row r over steps [0, lengths[r]) only
 * (native/include/axon/kernels.h), which is why post-padding is the default here.
 * Tests: `npx vitest run tests/sequence-data.test.ts`.
 */
import { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys, optionKeys } from '../options.js';

/**
 * Which end of a sequence gets the padding (or loses steps when truncated): 'pre' the start,
 * 'post' the end.
 *
 * @example
 * ```ts
 * import { padSequences, type PadSide } from 'axon-nn';
 * const keepEnd: PadSide = 'pre';
 * const padded = padSequences([[1, 2, 3, 4], [5]], { maxLen: 3, truncating: keepEnd }); // rows [2, 3, 4], [5, 0, 0]
 * ```
 */
export type PadSide = 'pre' | 'post';

/**
 * padSequences's options (and, with `features`, padFloatSequences's). Unknown keys throw.
 *
 * @example
 * ```ts
 * import { padSequences, type PadOptions } from 'axon-nn';
 * const options: PadOptions = { maxLen: 4, value: -1 };
 * const { data } = padSequences([[7, 8], [9, 10, 11, 12, 13]], options); // [7, 8, -1, -1, 9, 10, 11, 12]
 * ```
 */
export interface PadOptions {
  /** Steps per row T (default: the longest sequence). Longer sequences are truncated. */
  maxLen?: number;
  /**
   * 'post' (default): valid steps first, padding after, which is what `lengths`-based
   * masking expects. 'pre' puts the padding first (Keras's default); `lengths` then do not
   * describe where the valid steps are, so use it only with models that take no lengths.
   */
  padding?: PadSide;
  /** 'post' (default): keep the first maxLen steps; 'pre': keep the last maxLen steps (Keras's default). */
  truncating?: PadSide;
  /** Fill value for padded steps (default 0, the `<pad>` id of `Vocabulary`). */
  value?: number;
}
const PAD_KEYS = optionKeys<PadOptions>({ maxLen: true, padding: true, truncating: true, value: true });

/**
 * padFloatSequences's options: PadOptions plus the feature count of flat sequences.
 *
 * @example
 * ```ts
 * import { padFloatSequences, type FloatPadOptions } from 'axon-nn';
 * const options: FloatPadOptions = { features: 2, maxLen: 3 };
 * const padded = padFloatSequences([Float32Array.of(1, 2, 3, 4), [5, 6]], options); // shape [2, 3, 2]
 * ```
 */
export interface FloatPadOptions extends PadOptions {
  /**
   * Features per step F when a sequence is given flat (a typed array or plain numbers, T_i*F
   * values); default 1. Sequences given as rows of steps (number[][]) carry F themselves.
   */
  features?: number;
}
const FLOAT_PAD_KEYS = optionKeys<FloatPadOptions>({
  maxLen: true,
  padding: true,
  truncating: true,
  value: true,
  features: true,
});

/** Most values a padded block may hold (a typed array's practical limit). */
const MAX_PADDED_VALUES = 2 ** 31 - 1;

function checkBlockSize(op: string, n: number, t: number, f: number): void {
  if (n * t * f > MAX_PADDED_VALUES)
    throw new RangeError(
      `${op}: ${n} sequences x maxLen ${t}${f > 1 ? ` x ${f} features` : ''} is more than ${MAX_PADDED_VALUES} values`,
    );
}

/**
 * int32 sequences padded to (N, T): padSequences's and Vocabulary.encodeTexts's result.
 * paddedToTensors wraps it as tensors.
 *
 * @example
 * ```ts
 * import { padSequences, type PaddedSequences } from 'axon-nn';
 * const padded: PaddedSequences = padSequences([[4, 5, 6], [7]]);
 * console.log(padded.shape, padded.lengths); // [2, 3] Int32Array [3, 1]
 * ```
 */
export interface PaddedSequences {
  /** Row-major (N, T). */
  data: Int32Array;
  /** Valid steps of each row after truncation, each in [0, T]. Pass these to the recurrent layers. */
  lengths: Int32Array;
  /** [N, T]. */
  shape: [number, number];
  /** Where the padding went: 'post' (valid steps first) or 'pre'. */
  padding: PadSide;
}

/**
 * float32 sequences padded to (N, T, F): padFloatSequences's result. paddedToTensors wraps it
 * as tensors.
 *
 * @example
 * ```ts
 * import { padFloatSequences, type PaddedFloatSequences } from 'axon-nn';
 * const padded: PaddedFloatSequences = padFloatSequences([[[0.1, 1], [0.2, 2]], [[0.3, 3]]]);
 * console.log(padded.shape, padded.lengths); // [2, 2, 2] Int32Array [2, 1]
 * ```
 */
export interface PaddedFloatSequences {
  /** Row-major (N, T, F). */
  data: Float32Array;
  /** Valid steps of each row after truncation, each in [0, T]. Pass these to the recurrent layers. */
  lengths: Int32Array;
  /** [N, T, F]. */
  shape: [number, number, number];
  /** Where the padding went: 'post' (valid steps first) or 'pre'. */
  padding: PadSide;
}

/**
 * A token-id sequence: plain integers or an Int32Array.
 *
 * @example
 * ```ts
 * import { padSequences, type IdSequence } from 'axon-nn';
 * const seqs: IdSequence[] = [[2, 9, 4], Int32Array.of(5, 3)];
 * const { data } = padSequences(seqs); // [2, 9, 4, 5, 3, 0]
 * ```
 */
export type IdSequence = readonly number[] | Int32Array;
/**
 * A numeric sequence: T_i steps of F features, as rows of steps (`[[f0, f1], ...]`) or flat
 * (T_i*F values: numbers, a Float32Array or a Float64Array).
 *
 * @example
 * ```ts
 * import { padFloatSequences, type FloatSequence } from 'axon-nn';
 * const seqs: FloatSequence[] = [[[1, 10], [2, 20]], Float32Array.of(3, 30)];
 * const { shape } = padFloatSequences(seqs, { features: 2 }); // [2, 2, 2]
 * ```
 */
export type FloatSequence = readonly (readonly number[])[] | readonly number[] | Float32Array | Float64Array;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

interface ResolvedPad {
  padding: PadSide;
  truncating: PadSide;
  value: number;
}

function resolveSides(op: string, options: PadOptions, keys: readonly string[]): ResolvedPad {
  if (options === null || typeof options !== 'object') throw new TypeError(`${op}: options must be an object`);
  checkOptionKeys(op, options, keys);
  const padding = options.padding ?? 'post';
  const truncating = options.truncating ?? 'post';
  if (padding !== 'pre' && padding !== 'post')
    throw new RangeError(`${op}: padding must be 'pre' or 'post', got ${String(padding)}`);
  if (truncating !== 'pre' && truncating !== 'post')
    throw new RangeError(`${op}: truncating must be 'pre' or 'post', got ${String(truncating)}`);
  const value = options.value ?? 0;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new RangeError(`${op}: value must be a finite number, got ${String(value)}`);
  return { padding, truncating, value };
}

function resolveMaxLen(op: string, maxLen: number | undefined, longest: number): number {
  if (maxLen === undefined) return longest;
  if (!Number.isSafeInteger(maxLen) || maxLen < 1)
    throw new RangeError(`${op}: maxLen must be a positive integer, got ${String(maxLen)}`);
  return maxLen;
}

function checkList(op: string, seqs: unknown): asserts seqs is readonly unknown[] {
  if (!Array.isArray(seqs)) throw new TypeError(`${op}: expected an array of sequences, got ${typeof seqs}`);
}

/** The source range [from, from+len) kept from a sequence of n steps, and where it lands in a row of T. */
function placement(n: number, T: number, sides: ResolvedPad): { from: number; len: number; at: number } {
  const len = Math.min(n, T);
  const from = n > T && sides.truncating === 'pre' ? n - T : 0;
  const at = sides.padding === 'pre' ? T - len : 0;
  return { from, len, at };
}

/**
 * Pads (and truncates) token-id sequences into one int32 block (N, T).
 *
 * @param seqs N sequences of integer ids (plain arrays or Int32Arrays); empty ones get length 0.
 * @param options maxLen, padding and truncating side ('post' by default for both), fill value (0).
 * @returns `{ data, lengths, shape: [N, T], padding }`; `lengths[r]` counts the valid steps of row r.
 * @throws TypeError when seqs is not an array of sequences; RangeError for a non-integer id
 *   (naming the sequence and step), a bad maxLen, padding side or value.
 * @example
 * ```ts
 * import { padSequences } from 'axon-nn';
 * const padded = padSequences([[5, 6, 7], [8]], { maxLen: 2 });
 * console.log(padded.data, padded.lengths, padded.shape); // Int32Array [5, 6, 8, 0] Int32Array [2, 1] [2, 2]
 * ```
 */
export function padSequences(seqs: readonly IdSequence[], options: PadOptions = {}): PaddedSequences {
  const op = 'padSequences';
  checkList(op, seqs);
  const sides = resolveSides(op, options, PAD_KEYS);
  if (!Number.isInteger(sides.value) || sides.value < INT32_MIN || sides.value > INT32_MAX)
    throw new RangeError(`${op}: value must be an int32 integer for id sequences, got ${sides.value}`);
  let longest = 0;
  seqs.forEach((s, i) => {
    if (!(s instanceof Int32Array) && !Array.isArray(s))
      throw new TypeError(
        `${op}: sequence ${i} must be an array of integers or an Int32Array, got ${s === null ? 'null' : typeof s}`,
      );
    longest = Math.max(longest, s.length);
  });
  const T = resolveMaxLen(op, options.maxLen, longest);
  const N = seqs.length;
  checkBlockSize(op, N, T, 1);
  const data = new Int32Array(N * T);
  if (sides.value !== 0) data.fill(sides.value);
  const lengths = new Int32Array(N);
  for (let r = 0; r < N; r++) {
    const s = seqs[r];
    const { from, len, at } = placement(s.length, T, sides);
    if (!(s instanceof Int32Array))
      for (let t = 0; t < s.length; t++) {
        const v = s[t];
        // Every step is checked, kept or truncated: a bad id is a bug upstream either way.
        if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX)
          throw new RangeError(`${op}: sequence ${r}, step ${t}: ${String(v)} is not an int32 integer`);
      }
    for (let t = 0; t < len; t++) data[r * T + at + t] = s[from + t];
    lengths[r] = len;
  }
  return { data, lengths, shape: [N, T], padding: sides.padding };
}

/** Steps and features of one float sequence, checking every value is finite. */
function floatSteps(op: string, s: unknown, r: number, F: number | null): { steps: number; F: number } {
  if (s instanceof Float32Array || s instanceof Float64Array || (Array.isArray(s) && !Array.isArray(s[0]))) {
    const flat = s as ArrayLike<number>;
    const f = F ?? 1;
    if (flat.length % f !== 0)
      throw new RangeError(`${op}: sequence ${r} has ${flat.length} values, not a multiple of features=${f}`);
    for (let i = 0; i < flat.length; i++)
      if (typeof flat[i] !== 'number' || !Number.isFinite(flat[i]))
        throw new RangeError(
          `${op}: sequence ${r}, step ${Math.floor(i / f)}, feature ${i % f}: ${String(flat[i])} is not a finite number`,
        );
    return { steps: flat.length / f, F: f };
  }
  if (!Array.isArray(s))
    throw new TypeError(`${op}: sequence ${r} must be rows of steps, numbers or a Float32Array, got ${typeof s}`);
  const rows = s as readonly unknown[];
  const f = (rows[0] as unknown[]).length;
  rows.forEach((row, t) => {
    if (!Array.isArray(row) || row.length !== f)
      throw new RangeError(
        `${op}: sequence ${r}, step ${t} has ${Array.isArray(row) ? row.length : 'no'} features, expected ${f} (as step 0)`,
      );
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new RangeError(`${op}: sequence ${r}, step ${t}, feature ${j}: ${String(v)} is not a finite number`);
    });
  });
  return { steps: rows.length, F: f };
}

/**
 * Pads (and truncates) numeric sequences of F features per step into one float32 block (N, T, F).
 *
 * @param seqs N sequences, each rows of steps (`[[f0, f1], [f0, f1], ...]`) or flat values
 *   (numbers or a Float32Array, `features` per step).
 * @param options as padSequences, plus `features` for flat sequences (default 1).
 * @returns `{ data, lengths, shape: [N, T, F], padding }`.
 * @throws RangeError when sequences disagree on F, a value is NaN or infinite (naming
 *   sequence, step and feature), or an option is invalid.
 * @example
 * ```ts
 * import { padFloatSequences } from 'axon-nn';
 * const padded = padFloatSequences([[[1, 2], [3, 4]], [[5, 6]]]);
 * console.log(padded.data); // Float32Array [1, 2, 3, 4, 5, 6, 0, 0]
 * console.log(padded.lengths, padded.shape); // Int32Array [2, 1] [2, 2, 2]
 * ```
 */
export function padFloatSequences(seqs: readonly FloatSequence[], options: FloatPadOptions = {}): PaddedFloatSequences {
  const op = 'padFloatSequences';
  checkList(op, seqs);
  const sides = resolveSides(op, options, FLOAT_PAD_KEYS);
  const featuresOpt = options.features;
  if (featuresOpt !== undefined && (!Number.isSafeInteger(featuresOpt) || featuresOpt < 1))
    throw new RangeError(`${op}: features must be a positive integer, got ${String(featuresOpt)}`);
  let F: number | null = null;
  let longest = 0;
  const steps = seqs.map((s, r) => {
    // An empty sequence says nothing about F.
    if ((Array.isArray(s) || ArrayBuffer.isView(s)) && (s as ArrayLike<unknown>).length === 0) return 0;
    const info = floatSteps(op, s, r, featuresOpt ?? null);
    if (featuresOpt !== undefined && info.F !== featuresOpt)
      throw new RangeError(`${op}: sequence ${r} has ${info.F} features per step, options.features is ${featuresOpt}`);
    if (F === null) F = info.F;
    else if (info.F !== F) throw new RangeError(`${op}: sequence ${r} has ${info.F} features per step, earlier ones ${F}`);
    longest = Math.max(longest, info.steps);
    return info.steps;
  });
  const width: number = F ?? featuresOpt ?? 1;
  const T = resolveMaxLen(op, options.maxLen, longest);
  const N = seqs.length;
  checkBlockSize(op, N, T, width);
  const data = new Float32Array(N * T * width);
  if (sides.value !== 0) data.fill(sides.value);
  const lengths = new Int32Array(N);
  for (let r = 0; r < N; r++) {
    const { from, len, at } = placement(steps[r], T, sides);
    const s = seqs[r];
    const base = (r * T + at) * width;
    if (len > 0 && Array.isArray(s) && Array.isArray(s[0])) {
      const rows = s as readonly (readonly number[])[];
      for (let t = 0; t < len; t++) for (let j = 0; j < width; j++) data[base + t * width + j] = rows[from + t][j];
    } else {
      const flat = s as ArrayLike<number>;
      for (let i = 0; i < len * width; i++) data[base + i] = flat[from * width + i];
    }
    lengths[r] = len;
  }
  return { data, lengths, shape: [N, T, width], padding: sides.padding };
}

/**
 * Wraps padded sequences as tensors without copying: `x` int32 (N, T) for ids or float32
 * (N, T, F) for numeric steps, and `lengths` int32 (N). The tensors share the padded arrays.
 *
 * @throws TypeError when padded is not a padSequences or padFloatSequences result.
 * @example
 * ```ts
 * import { padSequences, paddedToTensors } from 'axon-nn';
 * const ids = [[3, 9, 4], [7]];
 * const { x, lengths } = paddedToTensors(padSequences(ids, { maxLen: 50 }));
 * console.log(x.dtype, x.shape, lengths.toArray()); // int32 [2, 50] [3, 1]
 * ```
 */
export function paddedToTensors(padded: PaddedSequences | PaddedFloatSequences): {
  /** The padded block: int32 (N, T) or float32 (N, T, F). */
  x: Tensor;
  /** int32 (N): each row's valid steps. */
  lengths: Tensor;
} {
  if (!padded || !(padded.data instanceof Int32Array || padded.data instanceof Float32Array))
    throw new TypeError('paddedToTensors: expected the result of padSequences or padFloatSequences');
  return { x: new Tensor(padded.data, padded.shape), lengths: new Tensor(padded.lengths, [padded.lengths.length]) };
}

/**
 * A float32 (N, T) mask, 1 on each row's first lengths[r] steps and 0 after (post-padding),
 * for losses or poolings computed outside the recurrent layers.
 *
 * @throws RangeError when a length is negative, not an integer or longer than maxLen.
 * @example
 * ```ts
 * import { lengthsToMask } from 'axon-nn';
 * const mask = lengthsToMask([3, 1], 3);
 * console.log(mask.toArray()); // [[1, 1, 1], [1, 0, 0]]
 * ```
 */
export function lengthsToMask(lengths: ArrayLike<number>, maxLen: number): Tensor {
  if (!Number.isSafeInteger(maxLen) || maxLen < 0)
    throw new RangeError(`lengthsToMask: maxLen must be a non-negative integer, got ${String(maxLen)}`);
  const N = lengths.length;
  const out = new Float32Array(N * maxLen);
  for (let r = 0; r < N; r++) {
    const n = lengths[r];
    if (!Number.isInteger(n) || n < 0 || n > maxLen)
      throw new RangeError(`lengthsToMask: lengths[${r}] = ${String(n)} is outside [0, ${maxLen}]`);
    out.fill(1, r * maxLen, r * maxLen + n);
  }
  return new Tensor(out, [N, maxLen]);
}
