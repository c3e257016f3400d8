/**
 * The sequence examples run end to end on the data shipped in the repo: the sentiment LSTM
 * and transformer clearly beat the majority class, and the CO2 forecaster beats the naive forecast on the
 * held-out years (the claims the README makes).
 */
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

const run = (script: string, args: string[]): string => {
  const r = runExample(script, args);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
};

describe('sequence examples', () => {
  it('sentiment: Embedding + bidirectional LSTM beats the majority class by 20 points', () => {
    const out = run('examples/sentiment.ts', ['--epochs', '8']);
    const m = /test accuracy (\d+\.\d+)% \(majority-class baseline (\d+\.\d+)%\)/.exec(out);
    expect(m, out).not.toBeNull();
    const [acc, base] = [Number(m![1]), Number(m![2])];
    // Measured 77.5-79.7% against 50.8% (seed 1, 4-12 epochs).
    expect(acc).toBeGreaterThan(base + 20);
  });

  it('transformer sentiment: a 2-layer encoder with key padding masks beats the majority class by 20 points', () => {
    const out = run('examples/transformer-sentiment.ts', ['--epochs', '8']);
    const m = /test accuracy (\d+\.\d+)% \(majority-class baseline (\d+\.\d+)%\)/.exec(out);
    expect(m, out).not.toBeNull();
    // Measured 78.4% against 50.8% (seed 1, 10 epochs).
    expect(Number(m![1])).toBeGreaterThan(Number(m![2]) + 20);
  });

  it('forecast: the LSTM beats the naive last-value forecast on held-out CO2', () => {
    const out = run('examples/forecast.ts', ['--epochs', '30']);
    const rmse = (name: string): number => Number(new RegExp(`${name}\\s+RMSE (\\d+\\.\\d+)`).exec(out)?.[1]);
    const [lstm, naive] = [rmse('LSTM'), rmse('naive \\(last value\\)')];
    expect(Number.isFinite(lstm) && Number.isFinite(naive), out).toBe(true);
    // Measured 0.32 against 1.27 ppm (60 epochs).
    expect(lstm).toBeLessThan(0.6 * naive);
  });
});
