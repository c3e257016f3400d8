/**
 * The Tensor class and creation functions: construction from JS values, constant fills and
 * ranges, seeded random tensors (checked against an independent xoshiro128** and against
 * statistics), conversion, PyTorch-style printing and views.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  Generator,
  Tensor,
  arange,
  defaultGenerator,
  eye,
  full,
  fullLike,
  linspace,
  manualSeed,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  tensor,
  zeros,
  zerosLike,
} from '../src/index.js';

const data = (t: Tensor): number[] => Array.from(t.data);

describe('tensor()', () => {
  it('from nested arrays infers the shape and copies', () => {
    const src = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    const t = tensor(src);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(data(t)).toEqual([1, 2, 3, 4, 5, 6]);
    src[0][0] = 100;
    expect(t.data[0]).toBe(1);
    const t3 = tensor([
      [[1], [2]],
      [[3], [4]],
      [[5], [6]],
    ]);
    expect(t3.shape).toEqual([3, 2, 1]);
    expect(data(t3)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.size).toBe(6);
    expect(t.ndim).toBe(2);
  });

  it('rounds to float32 and accepts dtype int32', () => {
    expect(tensor([0.1]).data[0]).toBe(Math.fround(0.1));
    const i = tensor([1, -2, 3], { dtype: 'int32' });
    expect(i.dtype).toBe('int32');
    expect(i.data).toBeInstanceOf(Int32Array);
    expect(data(i)).toEqual([1, -2, 3]);
  });

  it('from typed arrays (copied) and array-likes', () => {
    const f = new Float32Array([1, 2, 3, 4]);
    const t = tensor(f);
    expect(t.shape).toEqual([4]);
    f[0] = 9;
    expect(t.data[0]).toBe(1);
    expect(t.data).not.toBe(f);
    const i = tensor(new Int32Array([5, 6]));
    expect(i.dtype).toBe('int32');
    expect(data(i)).toEqual([5, 6]);
    const d = tensor(new Float64Array([0.1, 2]));
    expect(d.dtype).toBe('float32');
    expect(data(d)).toEqual([Math.fround(0.1), 2]);
    expect(tensor(new Float32Array([1.5, 2.5]), { dtype: 'int32' }).dtype).toBe('int32');
    expect(data(tensor({ length: 2, 0: 7, 1: 8 }))).toEqual([7, 8]);
  });

  it('from numbers: a 0-d tensor', () => {
    const s = tensor(3.5);
    expect(s.shape).toEqual([]);
    expect(s.ndim).toBe(0);
    expect(s.size).toBe(1);
    expect(s.item()).toBe(3.5);
    expect(tensor(7, { dtype: 'int32' }).dtype).toBe('int32');
  });

  it('with a shape option', () => {
    expect(tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] }).toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(tensor(new Float32Array(6), { shape: [3, 2] }).shape).toEqual([3, 2]);
    expect(
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { shape: [4] },
      ).shape,
    ).toEqual([4]);
    expect(tensor(5, { shape: [1, 1] }).shape).toEqual([1, 1]);
    expect(() => tensor(new Float32Array(4), { shape: [3] })).toThrow('tensor: 4 values do not fill shape [3]');
  });

  it('empty arrays', () => {
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[]]).shape).toEqual([1, 0]);
    expect(tensor([[], []]).shape).toEqual([2, 0]);
  });

  it('ragged arrays: the error names the path', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow('tensor: ragged nested array: [1] has 1 entries, expected 2');
    expect(() =>
      tensor([
        [[1], [2]],
        [[3], [4], [5]],
      ]),
    ).toThrow('tensor: ragged nested array: [1] has 3 entries, expected 2');
    expect(() =>
      tensor([
        [
          [1, 2],
          [3, 4],
        ],
        [[5, 6], [7]],
      ]),
    ).toThrow('tensor: ragged nested array: [1][1] has 1 entries, expected 2');
    expect(() => tensor([[1], 2] as never)).toThrow('tensor: ragged nested array: [1] has no entries, expected 1');
    expect(() => tensor([1, [2]] as never)).toThrow('tensor: element at [1] is an array, expected a number');
    expect(() =>
      tensor([
        [1, 2],
        [3, 'x'],
      ] as never),
    ).toThrow('tensor: element at [1][1] is string, expected a number');
  });

  it('rejects non-numeric input', () => {
    expect(() => tensor('abc' as never)).toThrow('tensor: expected a number, an array or a typed array, got string');
    expect(() => tensor(null as never)).toThrow(/tensor: expected a number/);
    expect(() => tensor(undefined as never)).toThrow(/tensor: expected a number/);
  });

  it('the Tensor constructor wraps without copying and checks its arguments', () => {
    const d = new Float32Array(6);
    const t = new Tensor(d, [2, 3]);
    expect(t.data).toBe(d);
    expect(Object.isFrozen(t.shape)).toBe(true);
    expect(() => new Tensor(new Float32Array(5), [2, 3])).toThrow('Tensor: 5 elements do not fill shape [2,3] (6)');
    expect(() => new Tensor(new Float64Array(2) as never, [2])).toThrow(
      'Tensor: data must be a Float32Array or an Int32Array',
    );
    expect(() => new Tensor(new Float32Array(1), [-1] as never)).toThrow(/non-negative integers/);
    expect(Tensor.empty([2, 2]).toArray()).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });
});

describe('constant fills, ranges, identity', () => {
  it('zeros / ones / full and the *Like variants', () => {
    expect(data(zeros([2, 3]))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(zeros([2, 3]).shape).toEqual([2, 3]);
    expect(data(ones([3]))).toEqual([1, 1, 1]);
    expect(data(full([2, 2], -1.5))).toEqual([-1.5, -1.5, -1.5, -1.5]);
    expect(zeros([]).shape).toEqual([]);
    expect(zeros([]).size).toBe(1);
    expect(zeros([0, 4]).size).toBe(0);
    const i = ones([2], { dtype: 'int32' });
    expect(i.dtype).toBe('int32');
    expect(data(full([2], 2.7, { dtype: 'int32' }))).toEqual([2, 2]);
    const like = zerosLike(i);
    expect(like.dtype).toBe('int32');
    expect(like.shape).toEqual([2]);
    expect(data(onesLike(tensor([[1, 2]])))).toEqual([1, 1]);
    expect(onesLike(tensor([[1, 2]])).shape).toEqual([1, 2]);
    expect(data(fullLike(tensor([1, 2, 3]), 4))).toEqual([4, 4, 4]);
    expect(fullLike(i, 4, { dtype: 'float32' }).dtype).toBe('float32');
    expect(zeros([2], { requiresGrad: true }).requiresGrad).toBe(true);
  });

  it('arange with 1, 2 and 3 arguments, negative steps', () => {
    expect(data(arange(5))).toEqual([0, 1, 2, 3, 4]);
    expect(data(arange(2, 5))).toEqual([2, 3, 4]);
    expect(data(arange(0, 1, 0.25))).toEqual([0, 0.25, 0.5, 0.75]);
    expect(data(arange(10, 0, -3))).toEqual([10, 7, 4, 1]);
    expect(data(arange(1, -1, -0.5))).toEqual([1, 0.5, 0, -0.5]);
    expect(arange(5, 0).shape).toEqual([0]);
    expect(arange(0).shape).toEqual([0]);
    // (end - start) / step is not a whole number: the last value stays below end
    expect(data(arange(0, 0.3, 0.1))).toEqual([0, 0.1, 0.2].map(Math.fround));
    expect(data(arange(0, 10, 3))).toEqual([0, 3, 6, 9]);
    const i = arange(3, undefined, 1, { dtype: 'int32' });
    expect(i.dtype).toBe('int32');
    expect(data(i)).toEqual([0, 1, 2]);
  });

  it('linspace includes both ends', () => {
    expect(data(linspace(0, 1, 5))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(data(linspace(1, -1, 3))).toEqual([1, 0, -1]);
    expect(data(linspace(2, 3, 1))).toEqual([2]);
    expect(linspace(0, 1, 0).shape).toEqual([0]);
    const l = linspace(-3, 7, 11);
    expect(data(l)).toEqual([-3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7]);
    const odd = linspace(0, 1, 7);
    expect(odd.data[6]).toBe(1);
    expect(odd.data[3]).toBe(0.5);
  });

  it('eye', () => {
    expect(eye(3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(eye(3, 2).toArray()).toEqual([
      [1, 0],
      [0, 1],
      [0, 0],
    ]);
    expect(eye(2, 2, { dtype: 'int32' }).dtype).toBe('int32');
    expect(eye(0).shape).toEqual([0, 0]);
  });
});

/** xoshiro128** (Blackman & Vigna), written from the reference C with BigInt arithmetic. */
function xoshiro128ss(state: [number, number, number, number]): () => number {
  const M = 0xffffffffn;
  let [s0, s1, s2, s3] = state.map((v) => BigInt(v >>> 0));
  const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & M;
  return () => {
    const result = (rotl((s1 * 5n) & M, 7n) * 9n) & M;
    const t = (s1 << 9n) & M;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11n);
    return Number(result);
  };
}

describe('random numbers', () => {
  it('Generator is xoshiro128**', () => {
    const state: [number, number, number, number] = [1, 2, 3, 4];
    const ref = xoshiro128ss(state);
    const gen = new Generator().setState({ s: state, spare: null });
    // The reference C's first outputs for state {1, 2, 3, 4}.
    const first = Array.from({ length: 5 }, () => gen.nextUint32());
    expect(first[0]).toBe(11520);
    expect(first[1]).toBe(0);
    gen.setState({ s: state, spare: null });
    for (let i = 0; i < 1000; i++) expect(gen.nextUint32()).toBe(ref());
    // a state with high bits set (signed/unsigned handling)
    const hi: [number, number, number, number] = [0xdeadbeef, 0x80000000, 0xffffffff, 0x12345678];
    const ref2 = xoshiro128ss(hi);
    gen.setState({ s: hi.map((v) => v | 0) as [number, number, number, number], spare: null });
    for (let i = 0; i < 1000; i++) expect(gen.nextUint32()).toBe(ref2());
  });

  it('nextFloat is in [0, 1) and nextInt in [0, n)', () => {
    const gen = new Generator(3);
    for (let i = 0; i < 10000; i++) {
      const f = gen.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
      const k = gen.nextInt(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
    }
    expect(gen.nextInt(1)).toBe(0);
  });

  it('the same seed gives identical data; different seeds differ', () => {
    expect(data(randn([100], { seed: 42 }))).toEqual(data(randn([100], { seed: 42 })));
    expect(data(rand([100], { seed: 42 }))).toEqual(data(rand([100], { seed: 42 })));
    expect(data(randint(0, 1000, [100], { seed: 42 }))).toEqual(data(randint(0, 1000, [100], { seed: 42 })));
    expect(data(randn([100], { seed: 42 }))).not.toEqual(data(randn([100], { seed: 43 })));
    // seeds are taken modulo 2^32 after truncation
    expect(data(rand([5], { seed: 2 ** 32 + 5 }))).toEqual(data(rand([5], { seed: 5 })));
    expect(data(rand([5], { seed: 5.9 }))).toEqual(data(rand([5], { seed: 5 })));
  });

  it('manualSeed resets the global generator', () => {
    manualSeed(123);
    const a = data(randn([50]));
    const a2 = data(rand([10]));
    manualSeed(123);
    expect(data(randn([50]))).toEqual(a);
    expect(data(rand([10]))).toEqual(a2);
    manualSeed(124);
    expect(data(randn([50]))).not.toEqual(a);
  });

  it('a per-call seed or generator does not disturb the global stream', () => {
    manualSeed(7);
    const expected = data(rand([20]));
    manualSeed(7);
    randn([30], { seed: 99 });
    rand([30], { generator: new Generator(5) });
    randint(0, 9, [30], { seed: 1 });
    expect(data(rand([20]))).toEqual(expected);
  });

  it('a generator option draws from (and advances) that generator', () => {
    const g1 = new Generator(11);
    const a = data(rand([4], { generator: g1 }));
    const b = data(rand([4], { generator: g1 }));
    expect(a).not.toEqual(b);
    const g2 = new Generator(11);
    expect(data(rand([8], { generator: g2 }))).toEqual([...a, ...b]);
    // rand with seed s is the same as a fresh Generator(s)
    expect(data(rand([4], { seed: 11 }))).toEqual(a);
  });

  it('getState / setState round-trips the stream, including the cached normal', () => {
    const gen = new Generator(2024);
    gen.nextUint32();
    gen.nextNormal(); // leaves a spare normal cached
    const state = gen.getState();
    expect(state.spare).not.toBeNull();
    const saved = JSON.parse(JSON.stringify(state));
    const seq = (g: Generator): number[] => [
      g.nextNormal(),
      g.nextUint32(),
      g.nextFloat(),
      g.nextNormal(),
      g.nextInt(10),
    ];
    const first = seq(gen);
    gen.setState(saved);
    expect(seq(gen)).toEqual(first);
    // restoring into a different generator works too
    expect(seq(new Generator(1).setState(saved))).toEqual(first);
    // and through the global generator
    const global = defaultGenerator();
    manualSeed(3);
    const s = global.getState();
    const x = data(randn([7]));
    global.setState(s);
    expect(data(randn([7]))).toEqual(x);
    expect(() => gen.setState({ s: [1, 2, 3], spare: null } as never)).toThrow('Generator.setState');
    expect(() => new Generator(NaN)).toThrow('Generator.seed: seed must be a finite number, got NaN');
  });

  it('randn mean and std over 100k samples', () => {
    const t = randn([100_000], { seed: 1, mean: 3, std: 2 });
    let s = 0;
    for (const v of t.data) s += v;
    const mean = s / t.size;
    let v2 = 0;
    for (const v of t.data) v2 += (v - mean) ** 2;
    const std = Math.sqrt(v2 / (t.size - 1));
    // standard errors: 2 / sqrt(1e5) = 0.0063 for the mean, ~0.0045 for the std; allow ~5 sigma
    expect(Math.abs(mean - 3)).toBeLessThan(0.03);
    expect(Math.abs(std - 2)).toBeLessThan(0.025);
    // roughly normal: ~68.3% within one std, ~95.4% within two
    let in1 = 0;
    let in2 = 0;
    for (const v of t.data) {
      if (Math.abs(v - 3) < 2) in1++;
      if (Math.abs(v - 3) < 4) in2++;
    }
    expect(Math.abs(in1 / t.size - 0.6827)).toBeLessThan(0.01);
    expect(Math.abs(in2 / t.size - 0.9545)).toBeLessThan(0.005);
    const std0 = randn([10], { std: 0, mean: 1.5, seed: 2 });
    expect(data(std0)).toEqual(new Array(10).fill(1.5));
  });

  it('rand is uniform in [low, high)', () => {
    const t = rand([100_000], { seed: 2, low: -2, high: 6 });
    let s = 0;
    let lo = Infinity;
    let hi = -Infinity;
    const bins = new Array(8).fill(0);
    for (const v of t.data) {
      s += v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      bins[Math.floor(v + 2)]++;
    }
    expect(lo).toBeGreaterThanOrEqual(-2);
    expect(hi).toBeLessThan(6);
    expect(Math.abs(s / t.size - 2)).toBeLessThan(0.05); // SE 8/sqrt(12e5) = 0.0073
    for (const b of bins) expect(Math.abs(b - 12_500)).toBeLessThan(600); // SE ~105
    const r = rand([2, 3]);
    expect(r.shape).toEqual([2, 3]);
  });

  it('randint stays within [low, high) and is roughly uniform', () => {
    const t = randint(-3, 4, [70_000], { seed: 3 });
    expect(t.dtype).toBe('int32');
    const counts = new Map<number, number>();
    for (const v of t.data) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    // each count ~ Binomial(70000, 1/7): mean 10000, sd ~93
    for (const c of counts.values()) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(data(randint(5, 6, [4]))).toEqual([5, 5, 5, 5]);
    const big = randint(0, 2 ** 31 - 1, [1000], { seed: 4 });
    for (const v of big.data) expect(v >= 0 && v < 2 ** 31 - 1).toBe(true);
  });
});

describe('conversion', () => {
  it('toArray and item', () => {
    const t = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(t.toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(tensor([1, 2, 3, 4, 5, 6, 7, 8], { shape: [2, 2, 2] }).toArray()).toEqual([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ]);
    expect(tensor(2.5).toArray()).toBe(2.5);
    expect(zeros([2, 0]).toArray()).toEqual([[], []]);
    expect(zeros([0, 3]).toArray()).toEqual([]);
    expect(tensor([[7]]).item()).toBe(7);
    expect(tensor([4], { dtype: 'int32' }).item()).toBe(4);
    expect(() => tensor([1, 2]).item()).toThrow('item: tensor of shape [2] has 2 elements, not 1');
    expect(() => zeros([0]).item()).toThrow('item: tensor of shape [0] has 0 elements, not 1');
  });

  it('toType', () => {
    const f = tensor([1.7, -1.7, 2.5, -0.2, 3]);
    const i = f.toType('int32');
    expect(i.dtype).toBe('int32');
    expect(data(i)).toEqual([1, -1, 2, 0, 3]); // truncation toward zero
    const back = i.toType('float32');
    expect(back.dtype).toBe('float32');
    expect(data(back)).toEqual([1, -1, 2, 0, 3]);
    const same = f.toType('float32');
    expect(same.data).not.toBe(f.data);
    expect(data(same)).toEqual(data(f));
    expect(f.reshape(5, 1).toType('int32').shape).toEqual([5, 1]);
    // No silent 0 for NaN, no wrapped value past int32: refused, naming the value and index.
    expect(() => tensor([1, NaN]).toType('int32')).toThrow(
      'toType: NaN at index 1 of [2] has no int32 value (NaN, or outside [-2^31, 2^31))',
    );
    expect(() => tensor([3e9]).toType('int32')).toThrow(/toType: 3000000000 at index 0 of \[1\]/);
    expect(Array.from(tensor([-2147483648, 2147483520, -7.9]).toType('int32').data)).toEqual([
      -2147483648, 2147483520, -7,
    ]);
  });
});

describe('printing', () => {
  it('small floats: 4 decimals, aligned columns', () => {
    expect(String(tensor([0.1, -2, 3, 4], { shape: [2, 2] }))).toBe(
      'tensor([[ 0.1000, -2.0000],\n        [ 3.0000,  4.0000]])',
    );
    expect(String(tensor([1.25, -3, 100, 2], { shape: [2, 2] }))).toBe(
      'tensor([[  1.2500,  -3.0000],\n        [100.0000,   2.0000]])',
    );
    expect(String(tensor([0.5, 0.25]))).toBe('tensor([0.5000, 0.2500])');
  });

  it('integral floats print as "1."', () => {
    expect(String(tensor([1, 2, 3]))).toBe('tensor([1., 2., 3.])');
    expect(String(tensor([-1, 10]))).toBe('tensor([-1., 10.])');
    expect(String(tensor(2))).toBe('tensor(2.)');
  });

  it('int32 shows dtype=int32', () => {
    expect(String(tensor([1, 2, 3], { dtype: 'int32' }))).toBe('tensor([1, 2, 3], dtype=int32)');
    expect(String(tensor([-10, 5], { dtype: 'int32' }))).toBe('tensor([-10,   5], dtype=int32)');
    expect(String(tensor(5, { dtype: 'int32' }))).toBe('tensor(5, dtype=int32)');
  });

  it('scientific notation for wide ranges and extremes', () => {
    expect(String(tensor([1e-5, 1, 1000]))).toBe('tensor([1.0000e-05, 1.0000e+00, 1.0000e+03])');
    expect(String(tensor([1e10, 1]))).toBe('tensor([1.0000e+10, 1.0000e+00])');
    expect(String(tensor([0.5, 100000]))).toBe('tensor([5.0000e-01, 1.0000e+05])');
    expect(String(tensor([1e-5]))).toBe('tensor([1.0000e-05])');
  });

  it('nan and inf', () => {
    expect(String(tensor([NaN, Infinity, -Infinity, 1.5]))).toBe('tensor([   nan,    inf,   -inf, 1.5000])');
  });

  it('0-d and empty tensors', () => {
    expect(String(tensor(3.5))).toBe('tensor(3.5000)');
    expect(String(zeros([0]))).toBe('tensor([], size=[0])');
    expect(String(zeros([2, 0]))).toBe('tensor([], size=[2, 0])');
  });

  it('3-D tensors separate blocks with a blank line', () => {
    expect(String(zeros([2, 2, 2]))).toBe(
      'tensor([[[0., 0.],\n         [0., 0.]],\n\n        [[0., 0.],\n         [0., 0.]]])',
    );
  });

  it('over 1000 elements are elided with ...', () => {
    expect(String(arange(2000))).toBe('tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.])');
    expect(String(arange(1200).reshape(40, 30))).toBe(
      [
        'tensor([[   0.,    1.,    2., ...,   27.,   28.,   29.],',
        '        [  30.,   31.,   32., ...,   57.,   58.,   59.],',
        '        [  60.,   61.,   62., ...,   87.,   88.,   89.],',
        '        ...,',
        '        [1110., 1111., 1112., ..., 1137., 1138., 1139.],',
        '        [1140., 1141., 1142., ..., 1167., 1168., 1169.],',
        '        [1170., 1171., 1172., ..., 1197., 1198., 1199.]])',
      ].join('\n'),
    );
    // exactly 1000 elements: printed in full
    const s = String(arange(1000));
    expect(s).not.toContain('...');
    expect(s.split(', ').length).toBe(1000);
  });

  it('autograd suffixes and util.inspect', () => {
    const x = tensor([1, 2]).setRequiresGrad();
    expect(String(x)).toBe('tensor([1., 2.], requires_grad=true)');
    expect(String(x.mul(2))).toBe('tensor([2., 4.], grad_fn=<mul>)');
    expect(inspect(tensor([0.5]))).toBe('tensor([0.5000])');
  });
});

describe('views', () => {
  it('reshape / view / flatten share memory', () => {
    const x = arange(6);
    const r = x.reshape(2, 3);
    const v = x.view([3, 2]);
    const f = r.flatten();
    r.data[4] = -1;
    expect(x.data[4]).toBe(-1);
    expect(v.data[4]).toBe(-1);
    expect(f.data[4]).toBe(-1);
    expect(r.data.buffer).toBe(x.data.buffer);
  });

  it('slice and row share memory; clone does not', () => {
    const x = arange(12).reshape(4, 3);
    const s = x.slice(1, 3);
    s.data[0] = 100;
    expect(x.toArray()).toEqual([
      [0, 1, 2],
      [100, 4, 5],
      [6, 7, 8],
      [9, 10, 11],
    ]);
    x.data[7] = -7;
    expect(s.toArray()).toEqual([
      [100, 4, 5],
      [6, -7, 8],
    ]);
    const r = x.row(2);
    r.data[2] = 42;
    expect(x.data[8]).toBe(42);
    const c = x.clone();
    c.data[0] = 55;
    expect(x.data[0]).toBe(0);
    expect(c.data.buffer).not.toBe(x.data.buffer);
    expect(c.shape).toEqual([4, 3]);
    const d = x.detach();
    d.data[1] = 11;
    expect(x.data[1]).toBe(11);
  });
});
