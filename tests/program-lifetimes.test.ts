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
