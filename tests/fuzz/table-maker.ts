/**
 * The binding fuzz's generic maker: random argument lists for any op of the op table
 * (OP_TABLE, generated from native/optable/), and a pool of valid ones per op found by
 * rejection sampling, so a new op is fuzzed without anyone writing a maker for it.
 *
 * A candidate draws the scalars, shapes and structs first (ints in their fuzz range), then the
 * list counts and int lists, then every buffer with the length the table gives (len, minLen +
 * 0..2, the fuzz-only fuzzLen, else 0..8). Checks the table cannot state live in hand-written
 * check() functions, so candidates are tried on the op itself until it accepts some.
 */
import type { OpArgInfo, OpInfo } from '../../src/native/ops.gen.js';
import type { Generator } from '../../src/tensor/random.js';

/** How `mutate` treats an argument. */
export type Kind =
  'f32' | 'f32?' | 'f64' | 'i32' | 'i32?' | 'words' | 'int' | 'num' | 'bool' | 'shape' | 'list' | 'struct' | 'inputs';

const KINDS: Record<OpArgInfo['kind'], Kind> = {
  f32: 'f32',
  i32: 'i32',
  f64: 'f64',
  words: 'words',
  wordsList: 'inputs',
  f32List: 'inputs',
  int: 'int',
  enum: 'int',
  num: 'num',
  bool: 'bool',
  shape: 'shape',
  intList: 'list',
  struct: 'struct',
};
export const kindOf = (a: OpArgInfo): Kind =>
  a.optional && (a.kind === 'f32' || a.kind === 'i32') ? `${a.kind}?` : KINDS[a.kind];

/** The argument values by name, as the table's len/minLen/fuzzLen functions read them. */
type Values = Parameters<NonNullable<OpArgInfo['len']>>[0];

const BUFFERS = new Set(['f32', 'i32', 'f64', 'words']);
/** Numbers without a fuzz range, and the cells of Float64Arrays (hyperparameters, registers). */
const NUMS = [0, 0.1, 0.5, 1, 2];
const CELLS = [0, 0, 0.5, 1, 2, Infinity];

/** A valid op's arguments, and how many candidates it took to find the first. */
export interface Pool {
  bases: unknown[][];
  attempts: number;
}

export function tableMaker(g: Generator) {
  const ri = (lo: number, hi: number): number => lo + g.nextInt(hi - lo + 1);
  const pick = <T>(xs: readonly T[]): T => xs[g.nextInt(xs.length)];
  const chance = (p: number): boolean => g.nextFloat() < p;
  const floats = (n: number): Float32Array => {
    const [lo, hi] = chance(0.5) ? [-2, 2] : [0, 1];
    return Float32Array.from({ length: n }, () => lo + g.nextFloat() * (hi - lo));
  };
  // Indices, labels, tokens and lengths: small non-negative ints, so most are in range.
  const ints = (n: number): Int32Array => {
    const r = g.nextFloat();
    return Int32Array.from({ length: n }, () => (r < 0.15 ? 1 : r < 0.3 ? 0 : ri(0, 1)));
  };
  const inRange = (r: readonly [number, number]): number => ri(r[0], r[1]);
  const struct = (a: OpArgInfo): Record<string, number | boolean> =>
    Object.fromEntries((a.fields ?? []).map((f) => [f.name, f.bool ? chance(0.5) : inRange(f.fuzz)]));

  /** A random argument list for op; `guessed` names the buffers whose length the table does not give. */
  function candidate(op: OpInfo): { args: unknown[]; guessed: Set<string> } {
    const v: Values = {};
    const byName = new Map(op.args.map((a) => [a.name, a]));
    // One shape per case; each shape argument is it with some axes 1 (broadcasts, sums,
    // slices), or now and then one of its own.
    const shape = Array.from({ length: ri(0, 3) }, () => ri(1, 4));
    for (const a of op.args) {
      if (a.kind === 'int') v[a.name] = inRange(a.fuzz ?? [a.min ?? 0, (a.min ?? 0) + 4]);
      else if (a.kind === 'enum') v[a.name] = g.nextInt(a.count ?? 1);
      else if (a.kind === 'bool') v[a.name] = chance(0.5);
      else if (a.kind === 'num') v[a.name] = a.fuzz ? a.fuzz[0] + g.nextFloat() * (a.fuzz[1] - a.fuzz[0]) : pick(NUMS);
      else if (a.kind === 'struct') v[a.name] = struct(a);
      else if (a.kind === 'shape')
        v[a.name] = chance(0.2)
          ? Array.from({ length: ri(0, 3) }, () => ri(1, 4))
          : shape.map((d) => (chance(0.3) ? 1 : d));
      // List counts before anything sized by them (len(inputs)).
      else if (a.kind === 'wordsList') v[a.name] = new Array(ri(1, 3));
      else if (a.kind === 'f32List') v[a.name] = new Array(ri(0, 3));
    }
    // Buffer lengths, each computed when first asked for (one may depend on another's).
    const lengths = new Map<string, number>();
    const guessed = new Set<string>();
    const of = (f: OpArgInfo['len']): number | undefined => (f ? count(() => f(v, L)) : undefined);
    const L = (name: string): number => {
      const known = lengths.get(name);
      if (known !== undefined) return known;
      lengths.set(name, NaN); // a length that depends on itself
      const a = byName.get(name);
      let n = of(a?.len);
      if (n === undefined) {
        const min = of(a?.minLen);
        n = min !== undefined ? min + ri(0, 2) : of(a?.fuzzLen);
      }
      if (n === undefined) {
        guessed.add(name);
        n = ri(0, 8);
      }
      lengths.set(name, n);
      return n;
    };
    for (const a of op.args)
      if (a.kind === 'intList') {
        const n = of(a.listLen) ?? ri(0, 3);
        v[a.name] = Array.from({ length: n }, () => inRange(a.fuzz ?? [a.min ?? 0, (a.min ?? 0) + 2]));
      }
    const intWords = chance(0.3); // all words of one case share a type
    const buffer = (kind: OpArgInfo['kind'], n: number): Float32Array | Int32Array | Float64Array =>
      kind === 'f64'
        ? Float64Array.from({ length: n }, () => pick(CELLS))
        : kind === 'i32' || ((kind === 'words' || kind === 'wordsList') && intWords)
          ? ints(n)
          : floats(n);
    for (const a of op.args) {
      if (BUFFERS.has(a.kind)) v[a.name] = a.optional && chance(0.3) ? null : buffer(a.kind, L(a.name));
      else if (a.kind === 'wordsList' || a.kind === 'f32List')
        v[a.name] = Array.from(v[a.name] as unknown[], (_, i) =>
          buffer(a.kind, (a.eachLen && count(() => a.eachLen!(v, i))) ?? ri(0, 8)),
        );
    }
    const args = op.args.map((a) => v[a.name]);
    // Trailing optional arguments may be left out (null then).
    if (chance(0.2)) while (args.length > 0 && op.args[args.length - 1].optional && chance(0.7)) args.pop();
    return { args, guessed };
  }

  /** Which arguments are null, and the lengths of shapes and lists: what makes two bases differ. */
  const signature = (args: unknown[]): string =>
    args.map((x) => (x == null ? 'n' : Array.isArray(x) ? x.length : '')).join();

  /**
   * Up to `size` valid argument lists for op, drawn until `call` (which runs the op and returns
   * its error message, or null when it accepts the arguments) has accepted `size` of them or
   * `maxAttempts` candidates were drawn. A base joins the pool when it differs from the others
   * in which arguments are null or in the rank of a shape (the length of a list), or after 30
   * draws without such a one. A length only the binding knows (a derived value without JS,
   * such as rnn's workspace) is taken from its "expected N" error and the candidate retried.
   */
  function findBases(op: OpInfo, call: (args: unknown[]) => string | null, size = 8, maxAttempts = 300): Pool {
    const bases: unknown[][] = [];
    const seen = new Set<string>();
    let attempts = 0;
    let lastNew = 0;
    for (let drawn = 1; drawn <= maxAttempts && bases.length < size; drawn++) {
      const { args, guessed } = candidate(op);
      let error = call(args);
      for (let fix = 0; error !== null && fix < 4; fix++) {
        const m = /^\w+: argument '(\w+)' has \d+ elements, (?:expected|needs at least) (\d+)/.exec(error);
        const at = m && guessed.has(m[1]) ? op.args.findIndex((a) => a.name === m[1]) : -1;
        if (at < 0 || !ArrayBuffer.isView(args[at])) break;
        args[at] = resize(args[at] as Float32Array | Int32Array | Float64Array, Number(m![2]));
        error = call(args);
      }
      if (error !== null) continue;
      if (bases.length === 0) attempts = drawn;
      const sig = signature(args);
      if (seen.has(sig) && drawn - lastNew <= 30) continue;
      if (!seen.has(sig)) lastNew = drawn;
      seen.add(sig);
      bases.push(args);
    }
    return { bases, attempts };
  }
  /** x's kind of data, n long. */
  const resize = (x: Float32Array | Int32Array | Float64Array, n: number): unknown =>
    x instanceof Float64Array
      ? Float64Array.from({ length: n }, () => pick(CELLS))
      : x instanceof Int32Array
        ? ints(n)
        : floats(n);

  return { candidate, findBases, struct, ri, pick };
}

/** f() when it is a usable length or count (an integer in [0, 100000]), else undefined. */
function count(f: () => number): number | undefined {
  try {
    const n = f();
    return Number.isInteger(n) && n >= 0 && n <= 100_000 ? n : undefined;
  } catch {
    return undefined;
  }
}
