import { describe, expect, it } from 'vitest';
import { tensor, matmul, backendInfo } from '../src/index.js';

describe('smoke', () => {
  it('loads the addon and multiplies', () => {
    expect(backendInfo().threads).toBeGreaterThan(0);
    expect(backendInfo().backend).toBe('cpu');
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = tensor([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    expect(matmul(a, b).toArray()).toEqual([
      [4, 5],
      [10, 11],
    ]);
    console.log(String(matmul(a, b)));
  });
});
