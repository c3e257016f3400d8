/**
 * Checks on buffer contents run every time an op runs, not only when it is parsed: a recorded
 * Program replays its ops on new data (each step's labels, indices, tokens) without parsing
 * again. Also logScalar's stop on a non-finite loss and Program's cost estimates and clear().
 */
import { describe, expect, it } from 'vitest';
import { native } from '../src/native/binding.js';

const regs = (): Float64Array => new Float64Array([0, 0, 0, 0]);

/** crossEntropy args over n rows of c classes (mean reduction). */
function ceArgs(n: number, c: number, target: Int32Array, weight: Float32Array | null): unknown[] {
  const logits = Float32Array.from({ length: n * c }, (_, i) => Math.sin(i));
  return [
    logits,
    n,
    c,
    target,
    null,
    weight,
    0,
    -100,
    1,
    new Float32Array(1),
    new Float32Array(n),
    new Float32Array(n),
  ];
}

describe('data checks on replay', () => {
  it('lowpLinear: int8 column sums lowpPack cannot have written stop the replay (their int32 correction would overflow)', () => {
    const n = 3;
    const k = 8;
    const packed = new Int32Array(32 * 2);
    const scales = new Float32Array(n);
    const colsum = new Int32Array(n);
    native.lowpPack(
      1,
      Float32Array.from({ length: n * k }, (_, i) => Math.sin(i)),
      n,
      k,
      packed,
      scales,
      colsum,
    );
    const args = [
      1,
      new Float32Array(2 * k).fill(1),
      2,
      n,
      k,
      packed,
      scales,
      colsum,
      null,
      0,
      0,
      new Float32Array(2 * n),
    ];
    const program = new native.Program(regs());
    program.record('lowpLinear', args, true);
    expect(program.run(1)).toBe(1);
    colsum[2] = 2 ** 30;
    expect(() => program.run(1)).toThrow(/lowpLinear: colsum\[2\] = 1073741824 is outside \+-127\*k = 1016/);
  });

  it('attentionBackward: a seed cell that is not a 32-bit integer stops the replay', () => {
    const g = {
      batch: 1,
      heads: 1,
      lq: 2,
      lk: 2,
      d: 2,
      dv: 2,
      causal: false,
      maskStrideB: 0,
      maskStrideH: 0,
      maskStrideQ: 0,
    };
    const seed = new Float64Array(2);
    const f = (): Float32Array => new Float32Array(4).fill(0.5);
    const args = [f(), f(), f(), null, g, 1, 0.5, seed, f(), new Float32Array(2), f(), f(), f(), f()];
    const program = new native.Program(regs());
    program.record('attentionBackward', args, true);
    expect(program.run(1)).toBe(1);
    seed[1] = 2 ** 40;
    expect(() => program.run(1)).toThrow(
      /attentionBackward: seedUsed\[1\] = 1099511627776\.000000 must be an integer in \[0, 2\^32\)/,
    );
  });

  it('crossEntropy: a label of 2e9 with class weights stops the replay (it read classWeight out of bounds)', () => {
    const target = new Int32Array([1, 2, 0, 3]);
    const program = new native.Program(regs());
    program.record('crossEntropy', ceArgs(4, 10, target, new Float32Array(10).fill(1)), true);
    expect(program.run(1)).toBe(1);
    target[3] = 2_000_000_000;
    expect(() => program.run(1)).toThrow(
      new RangeError('crossEntropy: target 2000000000 at row 3 is outside the 10 classes [0, 9] (ignoreIndex -100)'),
    );
  });

  it('crossEntropy: label 1000 without weights no longer trains silently with loss 0', () => {
    const target = new Int32Array([1, 2, 0, 3]);
    const args = ceArgs(4, 10, target, null);
    const program = new native.Program(regs());
    program.record('crossEntropy', args, false);
    target[0] = 1000;
    expect(() => program.run(1)).toThrow(/crossEntropy: target 1000 at row 0 is outside the 10 classes/);
    // The ignore index is still allowed, and so are the direct and async calls' checks.
    target[0] = -100;
    expect(program.run(1)).toBe(1);
    target[2] = -1;
    expect(() => native.crossEntropy(...(args as Parameters<typeof native.crossEntropy>))).toThrow(RangeError);
  });

  it('crossEntropyBackward checks its labels when it runs, and the async export rejects', async () => {
    const n = 3;
    const c = 4;
    const target = new Int32Array([0, 1, 2]);
    const args: unknown[] = [
      new Float32Array(n * c),
      n,
      c,
      target,
      null,
      new Float32Array(c).fill(1),
      0,
      -100,
      1,
      new Float32Array(n),
      new Float32Array([1]),
      new Float32Array(n * c),
      new Float32Array(n),
    ];
    const program = new native.Program(regs());
    program.record('crossEntropyBackward', args, true);
    target[1] = 4;
    expect(() => program.run(1)).toThrow(/crossEntropyBackward: target 4 at row 1 is outside the 4 classes \[0, 3\]/);
  });

  it('gatherRows checks its indices every run, naming the position and the range', async () => {
    const src = new Float32Array(12);
    const indices = new Int32Array([0, 1, 2, 3]);
    const dst = new Float32Array(6);
    const program = new native.Program(regs());
    program.record('gatherRows', [src, 3, indices, 1, 2, dst], true);
    indices[2] = 4;
    expect(() => program.run(1)).toThrow("gatherRows: indices[2] = 4 is outside the 4 rows of 'src' [0, 4)");
    indices[2] = -7;
    expect(() => native.gatherRows(src, 3, indices, 1, 2, dst)).toThrow('gatherRows: indices[2] = -7 is outside');
    // The async export (the data loader's) rejects with the same error.
    await expect(native.gatherRowsAsync(src, 3, indices, 1, 2, dst)).rejects.toThrow(
      /gatherRows: indices\[2\] = -7 is outside/,
    );
    // Indices outside [start, start + rows) are not read.
    indices[2] = 0;
    indices[0] = 99;
    expect(program.run(1)).toBe(1);
  });

  it("an optimizer's hyperparameters and a random stream's state are checked when the op runs", () => {
    const n = 8;
    const hyper = new Float64Array([1e-3, 0.9, 0.999, 1e-8, 0, 0, 0, 0, 0]);
    const program = new native.Program(regs());
    program.record(
      'adamStep',
      [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n), null, hyper],
      false,
    );
    expect(program.run(2)).toBe(2);
    expect(hyper[8]).toBe(2);
    hyper[0] = NaN;
    expect(() => program.run(1)).toThrow(/adamStep: hyper\[0\] = nan must be finite/);
    hyper[0] = 1e-3;
    hyper[8] = 2 ** 60;
    expect(() => program.run(1)).toThrow(/adamStep: step must be in/);

    const state = new Float64Array([1, 2, 0]);
    const drop = new native.Program(regs());
    drop.record('dropout', [new Float32Array(n), new Float32Array(n), new Float32Array(n), 0.5, state], false);
    state[2] = -1;
    expect(() => drop.run(1)).toThrow(/dropout: state\[2\] = -1\.0+ must be an integer in \[0, 2\^53 - 1\)/);
  });
});

describe('logScalar stopOnNonFinite', () => {
  it('logs the non-finite loss, then stops the replay before the step’s later ops', () => {
    const loss = new Float32Array([0.5]);
    const log = new Float32Array(10);
    const r = regs();
    const after = new Float32Array(1);
    const program = new native.Program(r);
    program.record('logScalar', [loss, log, r, true], false);
    // A later op of the step (standing in for the backward pass): counts the steps it ran.
    program.record('binaryScalar', [0, after, 1, false, after], false);
    expect(program.run(3)).toBe(3);
    expect(Array.from(log.subarray(0, 3))).toEqual([0.5, 0.5, 0.5]);
    expect(after[0]).toBe(3);
    loss[0] = NaN;
    expect(() => program.run(5)).toThrow(new RangeError('logScalar: non-finite loss NaN at step 3'));
    expect(Number.isNaN(log[3])).toBe(true); // logged before stopping
    expect(after[0]).toBe(3); // the later op did not run on the failing step
    expect(r[1]).toBe(3); // regs[1] holds the failing step's index
    loss[0] = -Infinity;
    expect(() => program.run(1)).toThrow('logScalar: non-finite loss -Infinity at step 3');
    loss[0] = 0.25;
    expect(program.run(1)).toBe(1);
    expect(log[3]).toBe(0.25);
    expect(after[0]).toBe(4);
  });

  it('is off by default, and the async replay rejects with the same message', async () => {
    const loss = new Float32Array([Infinity]);
    const log = new Float32Array(4);
    const r = regs();
    const program = new native.Program(r);
    program.record('logScalar', [loss, log, r], false);
    expect(program.run(2)).toBe(2);
    expect(log[1]).toBe(Infinity);
    const stopping = new native.Program(r);
    stopping.record('logScalar', [loss, log, r, true], false);
    await expect(stopping.runAsync(2)).rejects.toThrow(new RangeError('logScalar: non-finite loss Infinity at step 2'));
    expect(r[1]).toBe(2);
    expect(() => native.logScalar(loss, log, r, 1 as unknown as boolean)).toThrow(TypeError);
  });
});

describe('Program cost and release', () => {
  it('sums the recorded ops’ flops and bytes estimates', () => {
    const [m, n, k] = [3, 5, 7];
    const a = new Float32Array(m * k);
    const b = new Float32Array(k * n);
    const c = new Float32Array(m * n);
    const program = new native.Program(regs());
    expect(program.flops).toBe(0);
    expect(program.bytes).toBe(0);
    const gemm = [false, false, m, n, k, 1, a, k, b, n, 0, c, n, null, 0, 0, 0];
    program.record('gemm', gemm, false);
    expect(program.flops).toBe(2 * m * n * k);
    expect(program.bytes).toBe(4 * (m * k + k * n + 2 * m * n));
    program.record('gemm', gemm, false);
    expect(program.flops).toBe(4 * m * n * k);
    expect(Object.getOwnPropertyDescriptor(Object.getPrototypeOf(program), 'flops')?.set).toBeUndefined();
    program.clear();
    expect(program.length).toBe(0);
    expect(program.flops).toBe(0);
    expect(program.bytes).toBe(0);
    expect(program.run(1)).toBe(1);
  });
});
