/**
 * Exact resume across processes (issue 7): train 2N steps straight; train N steps, checkpoint,
 * then in a new process load and train N more. The per-step losses and the final weights must
 * be bitwise identical (one thread). Covered twice: an explicit PyTorch-style loop (DataLoader
 * shuffling mid-epoch, Dropout masks, Adam moments, a StepLR schedule and noise from the
 * global generator) and Model.fit with a ModelCheckpoint callback and initialEpoch.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'axon-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(kind: string, mode: string, n: number, ckpt: string): { losses: number[]; hash: string } {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', 'tests/fixtures/resume-run.ts', kind, mode, String(n), ckpt],
    {
      encoding: 'utf8',
      env: { ...process.env, AXON_NUM_THREADS: '1' },
    },
  );
  return JSON.parse(out.trim().split('\n').pop() as string) as { losses: number[]; hash: string };
}

describe('resume in a new process', () => {
  for (const kind of ['loop', 'fit'] as const)
    it(`${kind}: N + checkpoint + new process + N equals 2N straight, bitwise`, () => {
      const n = kind === 'loop' ? 9 : 2; // 9 steps stop mid-epoch (6 batches per epoch)
      const ckpt = join(dir, `${kind}.ckpt`);
      const straight = run(kind, 'straight', n, ckpt);
      const first = run(kind, 'first', n, ckpt);
      const second = run(kind, 'second', n, ckpt);
      expect(straight.losses.length).toBe(kind === 'loop' ? 2 * n : 2 * n * 6);
      expect([...first.losses, ...second.losses]).toEqual(straight.losses);
      expect(second.hash).toBe(straight.hash);
      expect(first.hash).not.toBe(straight.hash);
    }, 60_000);
});
