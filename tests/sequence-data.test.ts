/**
 * padSequences / padFloatSequences against small worked examples written out by hand (every
 * padding and truncating side), their tensors and masks, and bad input giving errors that name
 * the offending sequence and step.
 */
import { describe, expect, it } from 'vitest';
import { lengthsToMask, padFloatSequences, padSequences, paddedToTensors } from '../src/index.js';

describe('padSequences', () => {
  const seqs = [[1, 2, 3, 4], [5, 6], [7]];

  it('pads after and keeps the first steps by default', () => {
    const p = padSequences(seqs, { maxLen: 3 });
    expect(p.shape).toEqual([3, 3]);
    expect(Array.from(p.data)).toEqual([1, 2, 3, 5, 6, 0, 7, 0, 0]);
    expect(Array.from(p.lengths)).toEqual([3, 2, 1]);
    expect(p.padding).toBe('post');
  });

  it('uses the longest sequence as T when maxLen is absent', () => {
    const p = padSequences(seqs);
    expect(p.shape).toEqual([3, 4]);
    expect(Array.from(p.data)).toEqual([1, 2, 3, 4, 5, 6, 0, 0, 7, 0, 0, 0]);
    expect(Array.from(p.lengths)).toEqual([4, 2, 1]);
  });

  it("pre padding and pre truncation (Keras's defaults)", () => {
    const p = padSequences(seqs, { maxLen: 3, padding: 'pre', truncating: 'pre' });
    expect(Array.from(p.data)).toEqual([2, 3, 4, 0, 5, 6, 0, 0, 7]);
    expect(Array.from(p.lengths)).toEqual([3, 2, 1]);
    expect(p.padding).toBe('pre');
  });

  it('post padding with pre truncation keeps the end of long sequences', () => {
    const p = padSequences(seqs, { maxLen: 2, truncating: 'pre', value: -1 });
    expect(Array.from(p.data)).toEqual([3, 4, 5, 6, 7, -1]);
  });

  it('accepts Int32Arrays, empty sequences and an empty batch', () => {
    const p = padSequences([Int32Array.of(9, 8), Int32Array.of()], { maxLen: 3 });
    expect(Array.from(p.data)).toEqual([9, 8, 0, 0, 0, 0]);
    expect(Array.from(p.lengths)).toEqual([2, 0]);
    const empty = padSequences([]);
    expect(empty.shape).toEqual([0, 0]);
    expect(empty.data.length).toBe(0);
    expect(padSequences([], { maxLen: 5 }).shape).toEqual([0, 5]);
  });

  it('rejects bad input with errors naming the problem', () => {
    expect(() => padSequences('abc' as never)).toThrow(/expected an array of sequences/);
    expect(() => padSequences([[1], 'x' as never])).toThrow(/sequence 1 must be an array/);
    expect(() => padSequences([[1, 2.5]])).toThrow(/sequence 0, step 1: 2.5 is not an int32 integer/);
    expect(() => padSequences([[1], [NaN]])).toThrow(/sequence 1, step 0: NaN/);
    expect(() => padSequences([[2 ** 31]])).toThrow(/not an int32/);
    // A bad id past maxLen is still reported: it is a bug upstream either way.
    expect(() => padSequences([[1, 2, 3.5]], { maxLen: 1 })).toThrow(/step 2/);
    expect(() => padSequences(seqs, { maxLen: 0 })).toThrow(/maxLen must be a positive integer, got 0/);
    expect(() => padSequences(seqs, { maxLen: 2.5 })).toThrow(/maxLen/);
    expect(() => padSequences(seqs, { padding: 'left' as never })).toThrow(/padding must be 'pre' or 'post', got left/);
    expect(() => padSequences(seqs, { truncating: 'end' as never })).toThrow(/truncating/);
    expect(() => padSequences(seqs, { value: 0.5 })).toThrow(/value must be an int32 integer/);
    expect(() => padSequences(seqs, { value: NaN })).toThrow(/value must be a finite number/);
  });
});

describe('padFloatSequences', () => {
  it('pads rows of steps to (N, T, F)', () => {
    const p = padFloatSequences(
      [
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        [[7, 8]],
      ],
      { maxLen: 2 },
    );
    expect(p.shape).toEqual([2, 2, 2]);
    expect(Array.from(p.data)).toEqual([1, 2, 3, 4, 7, 8, 0, 0]);
    expect(Array.from(p.lengths)).toEqual([2, 1]);
  });

  it('takes flat sequences with a feature count, and plain numbers as one feature', () => {
    const p = padFloatSequences([Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6)], {
      features: 2,
      padding: 'pre',
      value: -1,
    });
    expect(p.shape).toEqual([2, 2, 2]);
    expect(Array.from(p.data)).toEqual([1, 2, 3, 4, -1, -1, 5, 6]);
    const q = padFloatSequences([[0.5, 1.5, 2.5], [3.5]], { truncating: 'pre', maxLen: 2 });
    expect(q.shape).toEqual([2, 2, 1]);
    expect(Array.from(q.data)).toEqual([1.5, 2.5, 3.5, 0]);
    expect(Array.from(q.lengths)).toEqual([2, 1]);
  });

  it('rejects ragged features, NaN and mismatched feature counts', () => {
    expect(() => padFloatSequences([[[1, 2]], [[1, 2, 3]]])).toThrow(
      /sequence 1 has 3 features per step, earlier ones 2/,
    );
    expect(() => padFloatSequences([[[1, 2], [3]]])).toThrow(/sequence 0, step 1 has 1 features, expected 2/);
    expect(() => padFloatSequences([[[1, NaN]]])).toThrow(/sequence 0, step 0, feature 1: NaN is not a finite number/);
    expect(() => padFloatSequences([Float32Array.of(1, Infinity)])).toThrow(/step 1, feature 0: Infinity/);
    expect(() => padFloatSequences([Float32Array.of(1, 2, 3)], { features: 2 })).toThrow(
      /not a multiple of features=2/,
    );
    expect(() => padFloatSequences([[[1, 2]]], { features: 3 })).toThrow(/options.features is 3/);
    expect(() => padFloatSequences([null as never])).toThrow(/sequence 0 must be/);
  });
});

describe('tensors and masks', () => {
  it('wraps padded ids as int32 and numeric steps as float32, without copying', () => {
    const ids = padSequences([[3, 4], [5]]);
    const { x, lengths } = paddedToTensors(ids);
    expect(x.dtype).toBe('int32');
    expect(x.shape).toEqual([2, 2]);
    expect(x.data).toBe(ids.data);
    expect(lengths.dtype).toBe('int32');
    expect(lengths.toArray()).toEqual([2, 1]);
    const f = paddedToTensors(padFloatSequences([[[1, 2]], []]));
    expect(f.x.dtype).toBe('float32');
    expect(f.x.shape).toEqual([2, 1, 2]);
    expect(() => paddedToTensors({} as never)).toThrow(/expected the result of padSequences/);
  });

  it('lengthsToMask marks the first lengths[r] steps', () => {
    expect(lengthsToMask(Int32Array.of(2, 0, 3), 3).toArray()).toEqual([
      [1, 1, 0],
      [0, 0, 0],
      [1, 1, 1],
    ]);
    expect(() => lengthsToMask([4], 3)).toThrow(/lengths\[0\] = 4 is outside \[0, 3\]/);
    expect(() => lengthsToMask([-1], 3)).toThrow(/outside/);
    expect(() => lengthsToMask([1], -2)).toThrow(/maxLen/);
  });
});
