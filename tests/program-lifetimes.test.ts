/**
 * A recorded Program owns the buffers allocated while recording (Program.own) and zeroes each
 * before its first use on every replay, unless that use writes all of it or the op can be
 * switched to overwriting it (native/binding/program.cpp). Buffers it does not own keep their
 * contents across replays.
 */
import { describe, expect, it } from 'vitest';
import { native, BinaryCode, UnaryCode } from '../src/native/binding.js';

const regs = (): Float64Array => new Float64Array(4);

describe('Program buffer lifetimes', () => {
  const a = Float32Array.from([1, -2, 3, -4]);
  const b = Float32Array.from([5, 6, -7, 8]);
  const y = new Float32Array(4);
  const dy = Float32Array.from([1, 1, 1, 1]);

  it('zeroes an owned buffer before an accumulating first use, every replay', () => {
    const da = new Float32Array(4);
    const p = new native.Program(regs());
    p.own(da);
    // da += dy * d(a*b)/da = b
    p.record('binaryBackward', [BinaryCode.Mul, a, b, y, dy, da, null], false);
    expect(p.ops).toEqual(['zero', 'binaryBackward']);
    da.fill(100); // stale data from an earlier replay
    p.run(3);
    expect(Array.from(da)).toEqual(Array.from(b));
    expect(p.used(da)).toBe(true);
  });

  it('leaves a buffer it does not own accumulating across replays', () => {
    const da = new Float32Array(4);
    const p = new native.Program(regs());
    p.record('binaryBackward', [BinaryCode.Mul, a, b, y, dy, da, null], false);
    expect(p.ops).toEqual(['binaryBackward']);
    p.run(3);
    expect(Array.from(da)).toEqual(Array.from(b, (v) => 3 * v));
    expect(p.used(da)).toBe(false);
  });

  it("sets an op's overwrite flag instead of zeroing, when the op has one", () => {
    const x = Float32Array.from([-1, 2, -3, 4]);
    const out = Float32Array.from([0, 2, 0, 4]);
    const dx = new Float32Array(4);
    const p = new native.Program(regs());
    p.own(dx);
    p.record('unaryBackward', [UnaryCode.Relu, x, out, dy, dx, 0], false);
    expect(p.ops).toEqual(['unaryBackward']);
    dx.fill(100);
    p.run(2);
    expect(Array.from(dx)).toEqual([0, 1, 0, 1]);
  });

  it('needs no zeroing where the first use writes all of the buffer', () => {
    const out = new Float32Array(4);
    const p = new native.Program(regs());
    p.own(out);
    p.record('unary', [UnaryCode.Relu, a, out, 0], false);
    // A later accumulating use of the same buffer: it is not a first use, so no zeroing.
    p.record('binaryBackward', [BinaryCode.Mul, a, b, y, dy, out, null], false);
    expect(p.ops).toEqual(['unary', 'binaryBackward']);
    p.run(2);
    expect(Array.from(out)).toEqual([1 + 5, 0 + 6, 3 - 7, 0 + 8]);
  });

  it('refuses to own a buffer overlapping one it owns', () => {
    const buf = new Float32Array(8);
    const p = new native.Program(regs());
    p.own(buf.subarray(0, 4));
    expect(() => p.own(buf.subarray(2, 6))).toThrow(/overlaps one it owns/);
  });
});

describe('Program.own and Program.used reject bad input', () => {
  it('names the method and the argument', () => {
    const p = new native.Program(regs());
    const own = p.own.bind(p) as unknown as (b: unknown) => void;
    const used = p.used.bind(p) as unknown as (b: unknown) => boolean;
    expect(() => own(new Float64Array(2))).toThrow(
      /^Program\.own: argument 'buffer' must be a Float32Array or an Int32Array/,
    );
    expect(() => own([1, 2])).toThrow(TypeError);
    expect(() => used(undefined)).toThrow(/^Program\.used: /);
    expect(used(new Float32Array(2))).toBe(false);
  });
});

describe('Program.compact shares memory among buffers by liveness', () => {
  // x -> t1 = relu(x) -> t2 = exp(t1) -> t3 = t2 + x -> t4 = tanh(t3) -> out = t4 * x:
  // t1 and t3 (and t2 and t4) are never live at once, so they can share memory.
  function chain(compact: boolean): { p: ReturnType<typeof build>['p']; out: Float32Array; saved: number } {
    const { p, out } = build();
    const saved = compact ? p.compact([out]) : 0;
    return { p, out, saved };
  }
  const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 2);
  function build() {
    const p = new native.Program(regs());
    const t = [0, 1, 2, 3].map(() => new Float32Array(1000));
    const out = new Float32Array(1000);
    for (const b of [...t, out]) p.own(b);
    p.record('unary', [UnaryCode.Relu, x, t[0], 0], false);
    p.record('unary', [UnaryCode.Exp, t[0], t[1], 0], false);
    p.record('binary', [BinaryCode.Add, t[1], [1000], x, [1000], t[2], [1000]], false);
    p.record('unary', [UnaryCode.Tanh, t[2], t[3], 0], false);
    p.record('binary', [BinaryCode.Mul, t[3], [1000], x, [1000], out, [1000]], false);
    return { p, out };
  }

  it('gives the same bits as the uncompacted program, replay after replay, and saves memory', () => {
    const plain = chain(false);
    const packed = chain(true);
    plain.p.run(1);
    packed.p.run(3);
    expect(Array.from(packed.out)).toEqual(Array.from(plain.out));
    // Four 4000-byte intermediates fit in two slots of 4032 bytes (64-byte aligned).
    expect(packed.saved).toBe(4 * 4000 - 2 * 4032);
  });

  it('saves nothing, and moves nothing, when no two buffers can share (never a negative saving)', () => {
    // One 12-byte intermediate: the arena's 64-byte rounding would cost more than it holds.
    const p = new native.Program(regs());
    const t = new Float32Array(3);
    const out = new Float32Array(3);
    p.own(t);
    p.own(out);
    const small = Float32Array.of(1, -2, 3);
    p.record('unary', [UnaryCode.Relu, small, t, 0], false);
    p.record('unary', [UnaryCode.Exp, t, out, 0], false);
    expect(p.compact([out])).toBe(0);
    p.run(1);
    expect(Array.from(out)).toEqual([Math.fround(Math.E), 1, Math.fround(Math.exp(3))]);
    expect(Array.from(t)).toEqual([1, 0, 3]); // still the program's buffer
  });

  it('refuses to record after compacting, to compact twice, and a bad keep list', () => {
    const { p, out } = build();
    expect(() => p.compact([out, 5 as unknown as Float32Array])).toThrow(
      /^Program\.compact: keep\[1\] is not a typed array/,
    );
    const q = build();
    q.p.compact([q.out]);
    expect(() => q.p.record('unary', [UnaryCode.Relu, x, q.out, 0], false)).toThrow(/compacted; record no more/);
    expect(() => q.p.compact([])).toThrow(/already compacted/);
    expect(() => (p.compact as unknown as (k: unknown) => number)(undefined)).toThrow(/expected an array/);
  });
});
