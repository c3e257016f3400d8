/**
 * Chaos: random mixes of concurrent fits, predicts, evaluates, saves, checkpoints, loads,
 * aborts and worker threads created and terminated under load, in a child process
 * (tests/fixtures/chaos-child.ts) so a crash is a failed test. The child checks that calls
 * issued concurrently give bitwise what the same calls awaited one by one give, and that
 * every file written loads; this test checks it exited cleanly and did what it says.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./fixtures/chaos-child.ts', import.meta.url));

describe('chaos', () => {
  for (const seed of [1, 2])
    it(`seed ${seed}: the process survives, results match a sequential replay, every file loads`, () => {
      const run = spawnSync(process.execPath, ['--import', 'tsx', child, String(seed), '500', '25'], {
        encoding: 'utf8',
        timeout: 150_000,
      });
      if (run.status !== 0)
        throw new Error(`chaos child failed (status ${run.status}, signal ${run.signal}):\n${run.stderr.slice(-4000)}`);
      const report = JSON.parse(run.stdout.trim().split('\n').pop() as string) as Record<string, number>;
      expect(report.ops).toBeGreaterThan(400);
      expect(report.files).toBeGreaterThan(20);
      expect(report.workers).toBeGreaterThanOrEqual(25);
      expect(report.fits + report.aborted).toBeGreaterThan(0);
      expect(report.saves).toBeGreaterThan(0);
    });
});
