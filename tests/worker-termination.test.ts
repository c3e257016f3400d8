/**
 * Terminating a worker_thread while it has native async work in flight (a `fit` replaying its
 * recorded step, an async `predict` of more than 64 rows, `Program.runAsync`, a raw
 * `native.gemmAsync`) must not take the process down. Before the fix the completion callback
 * ran during the worker's teardown, resolving the promise threw, and the C++ exception left a
 * Node-API callback: std::terminate, SIGABRT for the whole process.
 *
 * The workers run in a child process (tests/fixtures/worker-termination-child.ts) so that a
 * crash fails this test instead of killing vitest: 200 workers, terminated 0-50 ms after their
 * work starts, and the child must exit 0.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./fixtures/worker-termination-child.ts', import.meta.url));

describe('worker_thread termination during native async work', () => {
  it('never aborts or crashes the process (200 workers over fit, predict, runAsync, gemmAsync)', () => {
    const seed = 1 + Math.floor(Math.random() * 1e6);
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, '200', String(seed), '3'], {
      encoding: 'utf8',
      timeout: 110_000,
    });
    const why = `seed ${seed}: status ${r.status}, signal ${r.signal}\n${r.stderr.slice(-4000)}`;
    expect(r.signal, why).toBeNull();
    expect(r.status, why).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop() as string) as {
      rounds: number;
      counts: Record<string, number>;
    };
    expect(summary.rounds).toBe(200);
    expect(summary.counts).toEqual({ fit: 50, predict: 50, program: 50, rawAsync: 50 });
  }, 120_000);
});
