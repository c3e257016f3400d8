/**
 * The examples users copy run as written (they import 'axon-nn'): each of those not run by
 * another test runs here on the data in the repo with its smallest settings, and prints the
 * lines its header promises. Slower runs with accuracy bars: demo.test.ts,
 * sequence-examples.test.ts, onnx.test.ts, serve.test.ts, concurrency.test.ts (workers).
 * examples/distributed-mlp.ts is exercised through tests/distributed's rank scripts.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

const run = (script: string, args: string[], cwd?: string): string => {
  const r = runExample(join(process.cwd(), 'examples', script), args, { timeout: 120_000, cwd });
  expect(r.status, `${script}: ${r.stderr.slice(-3000)}`).toBe(0);
  return r.stdout;
};

describe('examples run as written', () => {
  it('mlp-classifier: trains, evaluates on the test set and serialises the scaler', () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-mlp-example-'));
    let out: string;
    try {
      out = run('mlp-classifier.ts', ['--epochs', '1'], dir); // it writes its CSV log to the working directory
      expect(readdirSync(dir)).toContain('mlp-classifier-history.csv');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(out).toMatch(/test \{[\s\S]*accuracy: 0\.\d+/);
    expect(out).toMatch(/scaler JSON for deployment has \d+ bytes/);
  });

  it('explicit-loop: the PyTorch-style loop reports loss and accuracy per epoch', () => {
    expect(run('explicit-loop.ts', ['--epochs', '1'])).toMatch(/epoch 1: train loss \d+\.\d+, test accuracy \d+\.\d+%/);
  });

  it('cnn: one epoch on the subset, then sample predictions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-cnn-example-'));
    try {
      const out = run('cnn.ts', ['--data', 'subset', '--epochs', '1', '--save', join(dir, 'cnn.axon')]);
      expect(out).toMatch(/image \d+: .*\(\d+\.\d+%\), true: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('transfer-learning: the frozen backbone and from-scratch rows', () => {
    expect(run('transfer-learning.ts', ['--shots', '2', '--epochs', '2'])).toMatch(/from scratch\s+\d+\.\d+%/);
  });

  it('hyperparameter-search: a 2-trial search, then the best retrained and scored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-search-example-'));
    try {
      const out = run('hyperparameter-search.ts', ['--trials', '2', '--epochs', '1', '--out', join(dir, 'r.json')]);
      expect(out).toMatch(/test accuracy \d+\.\d+%/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('regression-csv: beats the predict-the-mean baseline', () => {
    const out = run('regression-csv.ts', []);
    const m = /test RMSE: network (\d+\.\d+), predict-the-mean baseline (\d+\.\d+)/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(Number(m![2]) / 2);
  });
});
