/**
 * Throws 10,000+ random, partly invalid argument sets at every exported native function: the
 * process must never crash, and every rejected call must surface as a thrown Error (or a
 * rejected promise for the Async variants). Each case starts from a valid argument list for
 * the function (so mutations reach the deep checks: lengths off by one, overlapping buffers,
 * shapes that do not broadcast) and then mutates a few arguments or the argument count.
 *
 * The valid argument lists of the table's ops come from the op table (./fuzz/table-maker.ts):
 * a new op is fuzzed as soon as it is declared. Only the exports outside the table have
 * makers here.
 */
import { describe, expect, it } from 'vitest';
import { native } from '../src/native/binding.js';
import { OP_TABLE, type OpInfo } from '../src/native/ops.gen.js';
import { Generator } from '../src/tensor/random.js';
import { kindOf, tableMaker, type Kind, type Pool } from './fuzz/table-maker.js';

interface Case {
  args: unknown[];
  kinds: Kind[];
}

const g = new Generator(20261129);
const { findBases, candidate, struct, ri, pick } = tableMaker(g);
const f32 = (n: number): Float32Array => Float32Array.from({ length: n }, () => g.nextFloat() * 4 - 2);
const callable = native as unknown as Record<string, (...a: unknown[]) => unknown>;

/** A deep copy of an argument list (typed arrays, arrays, struct objects). */
const clone = (x: unknown): unknown =>
  ArrayBuffer.isView(x)
    ? (x as Float32Array).slice()
    : Array.isArray(x)
      ? x.map(clone)
      : x !== null && typeof x === 'object'
        ? { ...x }
        : x;

/** The op with these arguments (synchronously): null when it accepts them, else its error. */
function tryOp(name: string, args: unknown[]): string | null {
  try {
    callable[name](...args);
    return null;
  } catch (e) {
    return String((e as Error).message);
  }
}

// Each table op's valid bases, found by rejection sampling the first time the op is needed.
const pools = new Map<string, Pool>();
function poolOf(op: OpInfo): Pool {
  let pool = pools.get(op.name);
  if (!pool) {
    const threads = native.getNumThreads();
    pool = findBases(op, (args) => tryOp(op.name, args));
    native.setNumThreads(threads);
    pools.set(op.name, pool);
  }
  return pool;
}

const rnnDims = OP_TABLE.find((o) => o.name === 'rnn')!.args.find((a) => a.name === 'dims')!;
/** The exports outside the op table (rnnSizes takes rnn's dims). */
const handMakers: Record<string, () => Case> = {
  sumSquares: () => ({ args: [f32(ri(0, 40))], kinds: ['f32'] }),
  rnnSizes: () => ({ args: [struct(rnnDims)], kinds: ['struct'] }),
  setNumThreads: () => ({ args: [ri(1, 2)], kinds: ['int'] }),
  setConvAlgorithm: () => ({ args: [ri(0, 2)], kinds: ['int'] }),
  profilerEnable: () => ({ args: [false], kinds: ['bool'] }),
};

/** A valid case per export: a copy of one of a table op's bases, or a hand-written one. */
const makers: Record<string, () => Case> = { ...handMakers };
for (const op of OP_TABLE) {
  const kinds = op.args.map(kindOf);
  makers[op.name] = () => {
    const { bases } = poolOf(op);
    // An op without a valid base (the test below fails) is still fuzzed from candidates.
    const args = bases.length > 0 ? (clone(pick(bases)) as unknown[]) : candidate(op).args;
    return { args, kinds };
  };
}

/** A wrong value of roughly the right kind, or of another kind entirely. */
function mutate(value: unknown, kind: Kind, others: unknown[]): unknown {
  const junk = [undefined, null, 'x', {}, [], true, Symbol('s'), () => 1, 3n, new Float64Array(3)];
  if (g.nextFloat() < 0.15) return pick(junk);
  switch (kind) {
    case 'int':
    case 'num': {
      const v = typeof value === 'number' ? value : 0;
      return pick([
        NaN,
        Infinity,
        -Infinity,
        -1,
        v + 1,
        v - 1,
        v * 2 + 1,
        0.5,
        2 ** 31,
        2 ** 40 + 1,
        -(2 ** 53),
        1e300,
        0,
        19,
        7,
      ]);
    }
    case 'bool':
      return pick([0, 1, 'true', null]);
    case 'f64': {
      const arr = value instanceof Float64Array ? value : new Float64Array(3);
      return pick([
        new Float64Array(Math.max(0, arr.length - 1)),
        new Float64Array(arr.length + 1),
        Float64Array.from(arr, (v, i) => (i === 0 ? NaN : v)),
        Float64Array.from(arr, (v, i) => (i === arr.length - 1 ? -5 : v)),
        Float64Array.from(arr, () => 1e300),
        new Float32Array(arr.length),
        Float64Array.from(arr, (v, i) => (i === 1 ? 2 ** 60 : v)),
      ]);
    }
    case 'f32':
    case 'f32?':
    case 'words':
    case 'i32':
    case 'i32?': {
      const arr = value instanceof Float32Array || value instanceof Int32Array ? value : new Float32Array(4);
      const other = others.find((o) => o instanceof Float32Array && o !== value) as Float32Array | undefined;
      // Another argument's memory seen as this argument's type (tokens over an output, an
      // output over lengths): overlap checks must hold across element types too.
      const anyOther = others.find((o) => (o instanceof Float32Array || o instanceof Int32Array) && o !== value) as
        Float32Array | Int32Array | undefined;
      const alias = anyOther
        ? new (arr instanceof Int32Array ? Int32Array : Float32Array)(
            anyOther.buffer as ArrayBuffer,
            anyOther.byteOffset,
            Math.min(anyOther.length, Math.max(arr.length, 1)),
          )
        : arr;
      return pick([
        alias,
        alias,
        new Float32Array(Math.max(0, arr.length - 1)),
        new Float32Array(arr.length + 1),
        new Float32Array(0),
        new Int32Array(arr.length),
        new Float32Array(arr.length),
        new Uint8Array(arr.length * 4),
        Array.from(arr),
        arr.subarray(1),
        other ?? arr,
        other ? other.subarray(0, Math.min(other.length, arr.length)) : arr,
        new Float32Array(new SharedArrayBuffer(arr.length * 4)),
      ]);
    }
    case 'shape':
    case 'list': {
      const s = Array.isArray(value) ? (value as number[]) : [];
      return pick([
        [...s, 2],
        s.slice(1),
        s.map((d) => d + 1),
        s.map(() => -1),
        s.map(() => 1.5),
        s.map(() => NaN),
        [2 ** 40, 2 ** 40, 2 ** 40],
        Array.from({ length: 9 }, () => 1),
        s.map(() => 'a'),
        s.map((d) => d * 0),
        [0, 0, 0],
      ]);
    }
    case 'struct': {
      // A field out of range, of the wrong type, missing or unknown, or the whole struct as
      // the positional array it used to be.
      const o = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
      const keys = Object.keys(o);
      const k = keys.length > 0 ? pick(keys) : 'x';
      const v = typeof o[k] === 'number' ? o[k] : 0;
      const rest = Object.fromEntries(Object.entries(o).filter(([key]) => key !== k));
      return pick([
        { ...o, [k]: -1 },
        { ...o, [k]: v + 1 },
        { ...o, [k]: v - 1 },
        { ...o, [k]: 0 },
        { ...o, [k]: 0.5 },
        { ...o, [k]: NaN },
        { ...o, [k]: 2 ** 31 },
        { ...o, [k]: 2 ** 40 + 1 },
        { ...o, [k]: typeof o[k] === 'boolean' ? 1 : true },
        { ...o, [k]: undefined },
        { ...o, [k]: 'a' },
        rest,
        { ...o, extra: 1 },
        Object.values(o),
      ]);
    }
    case 'inputs': {
      const list = Array.isArray(value) ? (value as unknown[]) : [];
      return pick([[], [new Float32Array(1)], list.concat([new Int32Array(2)]), [null], list.slice(1), 'x']);
    }
  }
}

function makeCase(name: string): unknown[] {
  const base = makers[name]();
  const args = [...base.args];
  const roll = g.nextFloat();
  if (roll < 0.1) return args; // valid call
  if (roll < 0.2) return args.slice(0, g.nextInt(args.length + 1)); // missing arguments
  if (roll < 0.25) return [...args, 1, null]; // extra arguments
  const count = ri(1, 2);
  for (let c = 0; c < count; c++) {
    const i = g.nextInt(args.length);
    args[i] = mutate(args[i], base.kinds[i], args);
  }
  return args;
}

/** A corrupt value for one element of a recorded buffer (labels, indices, registers, state). */
function corrupt(arr: Int32Array | Float32Array | Float64Array): void {
  if (arr.length === 0) return;
  const at = g.nextInt(arr.length);
  if (arr instanceof Int32Array) {
    const v = arr[at];
    const bad = pick([-1, arr.length, 1000, 2_000_000_000, -2147483648, 2147483647, v + 1, v - 1, ri(-3, 12)]);
    if (g.nextFloat() < 0.2) arr.fill(bad);
    else arr[at] = bad;
  } else if (arr instanceof Float64Array) {
    arr[at] = pick([NaN, Infinity, -Infinity, -1, -0.5, 0.5, 1e300, 2 ** 53, 2 ** 60, arr[at] + 1]);
  } else {
    arr[at] = pick([NaN, Infinity, -Infinity, 1e30, -1e30]);
  }
}

/** The typed arrays an argument list passes directly (not inside lists). */
function dataBuffers(args: unknown[]): (Int32Array | Float32Array | Float64Array)[] {
  return args.filter(
    (a): a is Int32Array | Float32Array | Float64Array =>
      a instanceof Int32Array || a instanceof Float32Array || a instanceof Float64Array,
  );
}

describe('recorded programs replayed on corrupted data', () => {
  // Ops whose arguments include data read as indices, counts or state when the op runs (an
  // Int32Array or a Float64Array): derived from the makers' argument kinds.
  const recordable = (name: string): boolean => {
    try {
      new native.Program(new Float64Array(4)).record(name, makers[name]().args, false);
      return true;
    } catch (e) {
      return !(e instanceof TypeError && e.message.includes('unknown op'));
    }
  };
  const indexOps = Object.keys(makers).filter(
    (name) => makers[name]().kinds.some((k) => k === 'i32' || k === 'i32?' || k === 'f64') && recordable(name),
  );

  it('covers the ops with index-like arguments', () => {
    expect(indexOps).toEqual(
      expect.arrayContaining([
        'crossEntropy',
        'crossEntropyBackward',
        'gatherRows',
        'gatherRowsAt',
        'putRowsAt',
        'logScalar',
        'embedding',
        'embeddingBackward',
        'embeddingRenorm',
        'rnn',
        'rnnBackward',
        'sequencePool',
        'sequencePoolBackward',
        'maxPool2dBackward',
        'confusionUpdate',
        'topKUpdate',
        'dropout',
        'randomCropFlip',
        'adamStep',
        'sgdStep',
        'clipGradNorm',
      ]),
    );
  });

  it('either replays or stops with a RangeError naming the op, never crashes', async () => {
    const threads = native.getNumThreads();
    const bad: string[] = [];
    const rejectedBy = new Map<string, number>();
    let runs = 0;
    for (const name of indexOps) {
      for (let c = 0; c < 40; c++) {
        const { args } = makers[name]();
        const program = new native.Program(new Float64Array([0, 0, 0, 0]));
        program.record(name, args, false);
        const buffers = dataBuffers(args);
        for (let round = 0; round < 4; round++) {
          const indexLike = buffers.filter((b) => !(b instanceof Float32Array));
          const target = indexLike.length > 0 && g.nextFloat() < 0.8 ? pick(indexLike) : pick(buffers);
          if (target) corrupt(target);
          runs++;
          // Every third round goes through the async export with the same (corrupted) data.
          const viaAsync = round === 3 && c % 3 === 0 && typeof callable[`${name}Async`] === 'function';
          try {
            if (viaAsync) await callable[`${name}Async`](...args);
            else program.run(1);
          } catch (e) {
            if (!(e instanceof RangeError) || !e.message.startsWith(`${name}: `))
              bad.push(`${name}${viaAsync ? 'Async' : ''}: ${String(e)}`);
            else rejectedBy.set(name, (rejectedBy.get(name) ?? 0) + 1);
          }
        }
        program.clear();
      }
    }
    native.setNumThreads(threads);
    expect(bad).toEqual([]);
    expect(runs).toBeGreaterThan(indexOps.length * 100);
    // The checks fire on replay (not only when the op was recorded) for every op that reads
    // an index, a label, a length or state from a buffer.
    for (const name of [
      'crossEntropy',
      'crossEntropyBackward',
      'gatherRows',
      'gatherRowsAt',
      'embedding',
      'embeddingBackward',
      'sequencePool',
      'maxPool2dBackward',
      'dropout',
      'adamStep',
      'clipGradNorm',
    ])
      expect(rejectedBy.get(name) ?? 0, name).toBeGreaterThan(0);
  });
});

describe('native binding fuzz', () => {
  it('survives 10,000+ random, partly invalid calls with clean JS errors', async () => {
    const names = Object.keys(makers);
    const threads = native.getNumThreads();
    let calls = 0;
    let rejected = 0;
    const badErrors: string[] = [];
    const perFunction = Math.ceil(10_000 / names.length) + 20;
    for (const name of names) {
      for (let c = 0; c < perFunction; c++) {
        const useAsync = c % 5 === 0 && typeof callable[`${name}Async`] === 'function';
        const args = makeCase(name);
        calls++;
        try {
          const r = callable[useAsync ? `${name}Async` : name](...args);
          if (r instanceof Promise) await r;
        } catch (e) {
          rejected++;
          if (!(e instanceof Error)) badErrors.push(`${name}: threw a non-Error ${String(e)}`);
          else if (!e.message.startsWith(`${name}:`) && !/^(\w+): /.test(e.message))
            badErrors.push(`${name}: ${e.message}`);
        }
      }
    }
    native.setNumThreads(threads);
    native.setConvAlgorithm(0);
    native.profilerEnable(false);
    native.profilerTake();
    expect(badErrors).toEqual([]);
    expect(calls).toBeGreaterThanOrEqual(10_000);
    // Most cases are invalid by construction; make sure the fuzzer is not only testing that.
    expect(rejected).toBeGreaterThan(calls * 0.5);
    expect(rejected).toBeLessThan(calls);
  });

  it('starts every function from valid arguments (so mutations reach the deep checks)', () => {
    const threads = native.getNumThreads();
    // Every op of the table got a valid base by sampling (else: a fuzz hint in its table entry).
    const noBase = OP_TABLE.filter((op) => poolOf(op).bases.length === 0).map((op) => op.name);
    expect(noBase).toEqual([]);
    const failures: string[] = [];
    for (const name of Object.keys(makers))
      for (let c = 0; c < 20; c++) {
        const { args } = makers[name]();
        try {
          callable[name](...args);
        } catch (e) {
          failures.push(`${name}: ${(e as Error).message}`);
          break;
        }
      }
    native.setNumThreads(threads);
    native.setConvAlgorithm(0);
    native.profilerEnable(false);
    expect(failures).toEqual([]);
  });

  it('covers every kernel export', () => {
    // machineMeasure takes no arguments and runs for about half a second (tests/profiler.test.ts).
    const notKernels = new Set([
      'backendInfo',
      'getNumThreads',
      'getConvAlgorithm',
      'profilerTake',
      'machineMeasure',
      'Program',
    ]);
    // The bench CLI's peers (native/binding/peers.cpp): a valid call needs OpenBLAS / oneDNN
    // installed and loaded; their argument checks are tested in tests/cli.test.ts.
    for (const k of Object.keys(native)) if (k.startsWith('peer')) notKernels.add(k);
    const missing = Object.keys(native).filter((k) => !k.endsWith('Async') && !(k in makers) && !notKernels.has(k));
    expect(missing).toEqual([]);
  });

  it('names the op and the argument in its errors', () => {
    expect(() =>
      native.gemm(
        false,
        false,
        2,
        2,
        3,
        1,
        new Float32Array(5),
        3,
        new Float32Array(6),
        2,
        0,
        new Float32Array(4),
        2,
        null,
        0,
        0,
        0,
      ),
    ).toThrow("gemm: argument 'a' has 5 elements, needs at least 6");
    expect(() => native.unary(0, new Float32Array(3), new Float32Array(4), 0)).toThrow(
      "unary: argument 'y' has 4 elements, expected 3",
    );
    expect(() => native.permute(new Float32Array(6), [2, 3], [0, 0], new Float32Array(6))).toThrow(
      'permute: perm must be a permutation',
    );
    const buf = new Float32Array(10);
    expect(() =>
      native.gemm(
        false,
        false,
        2,
        2,
        2,
        1,
        buf.subarray(0, 4),
        2,
        buf.subarray(4, 8),
        2,
        0,
        buf.subarray(2, 6),
        2,
        null,
        0,
        0,
        0,
      ),
    ).toThrow("gemm: 'c' and 'a' overlap in memory");
  });
});
