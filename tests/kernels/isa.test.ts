import { describe, expect, it } from 'vitest';
import { backendInfo } from '../../src/index.js';

describe('SIMD level selection', () => {
  it('uses the level AXON_SIMD asks for when the CPU has it', () => {
    const info = backendInfo();
    const wanted = process.env.AXON_SIMD;
    expect(info.isaAvailable).toContain('scalar');
    if (wanted && info.isaAvailable.includes(wanted)) {
      expect(info.isa).toBe(wanted);
      expect(info.isaReason).toBe(`AXON_SIMD=${wanted}`);
    } else {
      expect(info.isa).toBe(info.isaAvailable[info.isaAvailable.length - 1]);
    }
  });
});
