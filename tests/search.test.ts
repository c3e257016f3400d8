/**
 * Hyperparameter search: the space helpers and their argument checks, grid enumeration, seeded
 * random sampling (inside the ranges, log-uniform spread by decades), ranking and mode, the
 * table and JSON views, successive halving's rungs and promotions, and aborting. These use a
 * cheap synthetic objective whose score is a known function of the params (and budget), so the
 * expected ranking is computed here. One test trains real MLPs on a tiny separable dataset
 * through mlpObjective and checks the scores are sensible and reproducible.
 */
import { describe, expect, it } from 'vitest';
import { Generator, Tensor } from '../src/index.js';
import { choice, intRange, logUniform, sampleParams, uniform, type Params } from '../src/train/search-space.js';
import {
  gridSearch,
  halvingRungs,
  randomSearch,
  successiveHalving,
  type Budget,
  type Objective,
  type TrialRecord,
} from '../src/train/search.js';
import { mlpObjective, mlpParams, trainMlp } from '../src/train/search-mlp.js';

/** An objective that records its calls and scores params with `f`. */
function recorder(f: (p: Params, b: Budget) => number): Objective & { calls: { params: Params; epochs: number }[] } {
  const calls: { params: Params; epochs: number }[] = [];
  const objective = async (params: Params, budget: Budget) => {
    calls.push({ params, epochs: budget.epochs });
    return { score: f(params, budget), logs: { extra: 1 } };
  };
  return Object.assign(objective, { calls });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
};

describe('space helpers', () => {
  it('validate their arguments, naming the helper and the value', () => {
    expect(() => choice([])).toThrow(/choice: expected a non-empty array/);
    expect(() => choice([1, 1])).toThrow(/choice: value 1 is listed twice/);
    expect(() => choice([1, NaN])).toThrow(/choice: value 1 must be .* got NaN/);
    expect(() => choice('ab' as unknown as string[])).toThrow(/choice: expected a non-empty array of values, got "ab"/);
    expect(() => uniform(1, 1)).toThrow(/uniform: lo must be below hi, got lo 1 and hi 1/);
    expect(() => uniform(NaN, 1)).toThrow(/uniform: lo must be a finite number, got NaN/);
    expect(() => uniform(0, Infinity)).toThrow(/uniform: hi must be a finite number, got Infinity/);
    expect(() => logUniform(0, 1)).toThrow(/logUniform: lo must be > 0.*got 0/);
    expect(() => logUniform(-1, 1)).toThrow(/logUniform: lo must be > 0/);
    expect(() => intRange(1.5, 3)).toThrow(/intRange: lo must be an integer, got 1.5/);
    expect(() => intRange(1, 3.5)).toThrow(/intRange: hi must be an integer, got 3.5/);
    expect(() => intRange(3, 1)).toThrow(/intRange: lo must not exceed hi, got lo 3 and hi 1/);
    expect(() => intRange(1, 3, 0)).toThrow(/intRange: step must be a positive integer, got 0/);
    expect(choice(['a', 2, true]).values).toEqual(['a', 2, true]);
    expect(intRange(2, 2)).toEqual({ kind: 'int', lo: 2, hi: 2, step: 1 });
  });

  it('rejects spaces and objectives the searches cannot use', async () => {
    const obj = recorder(() => 0);
    await expect(gridSearch({}, obj, { epochs: 1 })).rejects.toThrow(/gridSearch: the space declares no parameters/);
    await expect(gridSearch({ a: [1, 2] as never }, obj, { epochs: 1 })).rejects.toThrow(
      /gridSearch: parameter 'a' must be made with choice\(\)/,
    );
    await expect(gridSearch({ a: uniform(0, 1) }, obj, { epochs: 1 })).rejects.toThrow(
      /parameter 'a' is a continuous uniform\(0, 1\) range; pass gridPoints/,
    );
    await expect(gridSearch({ a: uniform(0, 1) }, obj, { epochs: 1, gridPoints: 1 })).rejects.toThrow(
      /gridPoints must be an integer >= 2, got 1/,
    );
    await expect(gridSearch({ a: choice([1]) }, obj)).rejects.toThrow(/gridSearch: pass epochs/);
    await expect(randomSearch({ a: choice([1]) }, obj, { trials: 0, epochs: 1 })).rejects.toThrow(
      /randomSearch: trials must be a positive integer, got 0/,
    );
    await expect(
      randomSearch({ a: choice([1]) }, obj, { trials: 2, epochs: 1, mode: 'best' as never }),
    ).rejects.toThrow(/mode must be 'auto', 'min' or 'max', got "best"/);
    await expect(randomSearch({ a: choice([1]) }, 'f' as never, { trials: 1, epochs: 1 })).rejects.toThrow(
      /randomSearch: the objective must be a function/,
    );
    const bad = (async () => ({ value: 1 })) as unknown as Objective;
    await expect(randomSearch({ a: choice([1]) }, bad, { trials: 1, epochs: 1 })).rejects.toThrow(
      /must resolve to \{ score: number, ... \}, got an object for trial 0/,
    );
    await expect(successiveHalving({ a: choice([1]) }, obj, { trials: 3, maxEpochs: 9, eta: 1 })).rejects.toThrow(
      /successiveHalving: eta must be an integer >= 2, got 1/,
    );
    await expect(successiveHalving({ a: choice([1]) }, obj, { trials: 3, minEpochs: 4, maxEpochs: 3 })).rejects.toThrow(
      /maxEpochs \(3\) must be at least minEpochs \(4\)/,
    );
    await expect(successiveHalving({ a: choice([1]) }, obj, { trials: 3 })).rejects.toThrow(
      /successiveHalving: pass maxEpochs/,
    );
    expect(obj.calls).toHaveLength(0);
  });
});

describe('gridSearch', () => {
  it('enumerates every combination, the last parameter fastest, with gridPoints for ranges', async () => {
    const obj = recorder(() => 0);
    const space = { act: choice(['relu', 'tanh']), n: intRange(1, 5, 2), lr: logUniform(1e-4, 1e-2) };
    const result = await gridSearch(space, obj, { epochs: 4, gridPoints: 3 });
    expect(obj.calls).toHaveLength(2 * 3 * 3);
    expect(obj.calls.every((c) => c.epochs === 4)).toBe(true);
    const lrs = [1e-4, 1e-3, 1e-2];
    const expected: Params[] = [];
    for (const act of ['relu', 'tanh']) for (const n of [1, 3, 5]) for (const lr of lrs) expected.push({ act, n, lr });
    expect(obj.calls.length).toBe(expected.length);
    obj.calls.forEach((c, i) => {
      expect(c.params.act).toBe(expected[i].act);
      expect(c.params.n).toBe(expected[i].n);
      expect(c.params.lr as number).toBeCloseTo(expected[i].lr as number, 12);
    });
    // Ends exact, middle log-spaced (not the linear midpoint 0.00505).
    expect(obj.calls[0].params.lr).toBe(1e-4);
    expect(obj.calls[2].params.lr).toBe(1e-2);
    expect(result.trials.map((t) => t.id).sort((a, b) => a - b)).toEqual([...Array(18).keys()]);
    expect(result.rungs).toEqual([{ budget: 4, trials: 18 }]);
    expect(result.aborted).toBe(false);

    const lin = recorder(() => 0);
    await gridSearch({ d: uniform(0, 0.5) }, lin, { epochs: 1, gridPoints: 3 });
    expect(lin.calls.map((c) => c.params.d)).toEqual([0, 0.25, 0.5]);
  });

  it('ranks by score in the mode the monitor implies, NaN last, ties by trial order', async () => {
    const space = { a: choice([3, 1, 2, 0, 4]) };
    const score = (p: Params): number => (p.a === 0 ? NaN : p.a === 4 ? 2 : (p.a as number));
    const loss = await gridSearch(space, recorder(score), { epochs: 1, monitor: 'val_loss' });
    expect(loss.mode).toBe('min');
    expect(loss.trials.map((t) => t.params.a)).toEqual([1, 2, 4, 3, 0]);
    expect(loss.best?.params.a).toBe(1);
    // NaN stays in the right-aligned score column.
    const table = loss.toTable().split('\n');
    expect(table[6]).toMatch(/ NaN {2}/);
    expect(table[6].indexOf('NaN') + 3).toBe(table[0].indexOf('val_loss') + 'val_loss'.length);
    const acc = await gridSearch(space, recorder(score), { epochs: 1, monitor: 'val_accuracy' });
    expect(acc.mode).toBe('max');
    expect(acc.trials.map((t) => t.params.a)).toEqual([3, 2, 4, 1, 0]);
    const forced = await gridSearch(space, recorder(score), { epochs: 1, monitor: 'val_loss', mode: 'max' });
    expect(forced.trials.map((t) => t.params.a)).toEqual([3, 2, 4, 1, 0]);
    // The objective's own monitor and maxEpochs are used when the options give none.
    const declared = Object.assign(recorder(score), { monitor: 'val_accuracy', maxEpochs: 7 });
    const viaObjective = await gridSearch(space, declared, {});
    expect(viaObjective.monitor).toBe('val_accuracy');
    expect(viaObjective.mode).toBe('max');
    expect(declared.calls[0].epochs).toBe(7);
    const unnamed = await gridSearch(space, recorder(score), { epochs: 1 });
    expect([unnamed.monitor, unnamed.mode]).toEqual(['score', 'min']);
  });

  it('prints an aligned table and JSON with every trial', async () => {
    const space = { act: choice(['relu', 'tanh']), lr: choice([0.001, 0.0001]) };
    const obj = recorder((p) => (p.act === 'tanh' ? 0.9 : 0.8) + (p.lr === 0.001 ? 0.05 : 0));
    const result = await gridSearch(space, obj, { epochs: 2, monitor: 'val_accuracy' });
    const lines = result.toTable().split('\n');
    expect(lines).toHaveLength(2 + 4);
    expect(lines[0].split(/\s+/)).toEqual(['#', 'trial', 'act', 'lr', 'val_accuracy', 'epochs', 'seconds']);
    expect(lines[1]).toMatch(/^-+( +-+)+$/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[2].split(/\s+/).slice(0, 6)).toEqual(['1', '2', 'tanh', '1.00e-3', '0.9500', '2']);
    expect(lines[5].split(/\s+/).slice(0, 6)).toEqual(['4', '1', 'relu', '1.00e-4', '0.8000', '2']);
    // Text left-aligned, numbers right-aligned.
    const col = lines[0].indexOf('act');
    expect(lines[2].slice(col, col + 4)).toBe('tanh');
    expect(lines[3].slice(col, col + 4)).toBe('tanh');

    const json = JSON.parse(JSON.stringify(result));
    expect(json.method).toBe('grid');
    expect(json.monitor).toBe('val_accuracy');
    expect(json.mode).toBe('max');
    expect(json.trials).toHaveLength(4);
    expect(json.best.params).toEqual({ act: 'tanh', lr: 0.001 });
    expect(json.best.score).toBeCloseTo(0.95, 12);
    expect(json.trials[0]).toMatchObject({ id: 2, epochs: 2, budget: 2, rung: 0, logs: { extra: 1 } });
    expect(typeof json.trials[0].seconds).toBe('number');
  });
});

describe('randomSearch', () => {
  const space = {
    act: choice(['relu', 'tanh', 'gelu']),
    layers: intRange(1, 7, 3),
    dropout: uniform(0.1, 0.5),
    lr: logUniform(1e-5, 1e-1),
  };

  it('draws the same trials for the same seed, inside the declared ranges', async () => {
    const a = recorder(() => 0);
    const b = recorder(() => 0);
    const c = recorder(() => 0);
    await randomSearch(space, a, { trials: 200, seed: 5, epochs: 1 });
    await randomSearch(space, b, { trials: 200, seed: 5, epochs: 1 });
    await randomSearch(space, c, { trials: 200, seed: 6, epochs: 1 });
    expect(b.calls).toEqual(a.calls);
    expect(c.calls).not.toEqual(a.calls);
    const ps = a.calls.map((x) => x.params);
    expect(new Set(ps.map((p) => p.act))).toEqual(new Set(['relu', 'tanh', 'gelu']));
    expect(new Set(ps.map((p) => p.layers))).toEqual(new Set([1, 4, 7]));
    for (const p of ps) {
      expect(p.dropout).toBeGreaterThanOrEqual(0.1);
      expect(p.dropout).toBeLessThanOrEqual(0.5);
      expect(p.lr).toBeGreaterThanOrEqual(1e-5);
      expect(p.lr).toBeLessThanOrEqual(1e-1);
    }
  });

  it('spreads logUniform draws evenly over decades and uniform draws evenly over the range', () => {
    const g = new Generator(11);
    const draws = Array.from({ length: 4000 }, () => sampleParams({ lr: logUniform(1e-5, 1e-1), d: uniform(0, 1) }, g));
    const logs = draws.map((p) => Math.log10(p.lr as number));
    // Median of a log-uniform over 1e-5..1e-1 is 1e-3 (a uniform draw's would be 0.05).
    expect(median(logs)).toBeGreaterThan(-3.15);
    expect(median(logs)).toBeLessThan(-2.85);
    const perDecade = [0, 0, 0, 0];
    for (const l of logs) perDecade[Math.min(3, Math.floor(l + 5))]++;
    for (const n of perDecade) expect(Math.abs(n - 1000)).toBeLessThan(150);
    expect(median(draws.map((p) => p.d as number))).toBeCloseTo(0.5, 1);
  });

  it('stops between trials when aborted and keeps the finished ones', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const result = await randomSearch(
      space,
      recorder(() => 1),
      {
        trials: 10,
        seed: 1,
        epochs: 1,
        signal: controller.signal,
        onTrialEnd: (r: TrialRecord) => {
          seen.push(r.id);
          if (seen.length === 3) controller.abort();
        },
      },
    );
    expect(seen).toEqual([0, 1, 2]);
    expect(result.trials).toHaveLength(3);
    expect(result.aborted).toBe(true);

    const early = new AbortController();
    early.abort();
    const none = await randomSearch(
      space,
      recorder(() => 1),
      { trials: 3, seed: 1, epochs: 1, signal: early.signal },
    );
    expect(none.trials).toEqual([]);
    expect(none.best).toBeNull();
    expect(none.toTable().split('\n')).toHaveLength(2);
  });
});

describe('successiveHalving', () => {
  it('computes rung budgets and survivor counts', () => {
    expect(halvingRungs(9, 1, 9, 3)).toEqual([
      { budget: 1, trials: 9 },
      { budget: 3, trials: 3 },
      { budget: 9, trials: 1 },
    ]);
    // The cap truncates the last budget; a lone survivor still reaches maxEpochs.
    expect(halvingRungs(4, 2, 10, 2)).toEqual([
      { budget: 2, trials: 4 },
      { budget: 4, trials: 2 },
      { budget: 8, trials: 1 },
      { budget: 10, trials: 1 },
    ]);
    expect(halvingRungs(27, 1, 3, 3)).toEqual([
      { budget: 1, trials: 27 },
      { budget: 3, trials: 9 },
    ]);
    expect(halvingRungs(5, 4, 4, 3)).toEqual([{ budget: 4, trials: 5 }]);
    // Arguments that would loop forever or mean nothing are refused.
    expect(() => halvingRungs(9, 1, 9, 1)).toThrow('halvingRungs: eta must be an integer >= 2, got 1');
    expect(() => halvingRungs(9, 0, 9, 3)).toThrow('halvingRungs: minEpochs must be an integer >= 1, got 0');
    expect(() => halvingRungs(9, 5, 4, 3)).toThrow('halvingRungs: maxEpochs (4) must be at least minEpochs (5)');
    expect(() => halvingRungs(1.5, 1, 4, 3)).toThrow('halvingRungs: trials must be an integer >= 1, got 1.5');
    // The top floor(n / eta) go on.
    expect(halvingRungs(17, 1, 9, 3).map((r) => r.trials)).toEqual([17, 5, 1]);
  });

  it('trains 9, 3, 1 trials at 1, 3, 9 epochs and promotes the best', async () => {
    // Quality depends on params only; a longer budget scales it without changing the order.
    const quality = (p: Params): number => -Math.abs(Math.log10(p.lr as number) + 3) - (p.units === 64 ? 0.3 : 0);
    const obj = recorder((p, b) => quality(p) * (1 + 1 / b.epochs));
    const space = { lr: logUniform(1e-5, 1e-1), units: choice([64, 128]) };
    const result = await successiveHalving(space, obj, {
      trials: 9,
      minEpochs: 1,
      maxEpochs: 9,
      eta: 3,
      seed: 3,
      mode: 'max',
    });
    expect(obj.calls.map((c) => c.epochs)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 9]);
    expect(result.rungs.map((r) => r.trials)).toEqual([9, 3, 1]);
    expect(result.trials).toHaveLength(9);
    const first = obj.calls.slice(0, 9).map((c) => c.params);
    const byQuality = first.map((p, i) => [quality(p), i] as const).sort((a, b) => b[0] - a[0]);
    // Rung 1 trains the top third of rung 0, rung 2 the best of those.
    expect(new Set(obj.calls.slice(9, 12).map((c) => first.findIndex((p) => p.lr === c.params.lr)))).toEqual(
      new Set(byQuality.slice(0, 3).map(([, i]) => i)),
    );
    expect(first.findIndex((p) => p.lr === obj.calls[12].params.lr)).toBe(byQuality[0][1]);
    expect(result.best?.id).toBe(byQuality[0][1]);
    expect(result.best?.rung).toBe(2);
    expect(result.best?.budget).toBe(9);
    expect(result.best?.rungs?.map((r) => r.budget)).toEqual([1, 3, 9]);
    expect(result.trials.map((t) => t.rung)).toEqual([2, 1, 1, 0, 0, 0, 0, 0, 0]);
    // The table shows where each trial stopped.
    const table = result.toTable().split('\n');
    expect(table[0]).toMatch(/\brung\b/);
    expect(table[2]).toMatch(/\b3\/3\b/);
    expect(table[3]).toMatch(/\b2\/3\b/);
    expect(table[10]).toMatch(/\b1\/3\b/);
    // Same seed, same trials and same promotions.
    const again = recorder((p, b) => quality(p) * (1 + 1 / b.epochs));
    await successiveHalving(space, again, { trials: 9, minEpochs: 1, maxEpochs: 9, eta: 3, seed: 3, mode: 'max' });
    expect(again.calls).toEqual(obj.calls);
  });

  it('ranks by the highest rung reached, then by the score there', async () => {
    // Ranking flips with budget: at 1 epoch the score is q, at 3 epochs it is -q (below every
    // rung-0 score, yet rung-1 trials still rank first since their budget was larger).
    const obj = recorder((p, b) => (b.epochs === 1 ? (p.q as number) : -(p.q as number)));
    const result = await successiveHalving({ q: uniform(0, 1) }, obj, {
      trials: 9,
      maxEpochs: 3,
      seed: 4,
      monitor: 'accuracy',
    });
    const qs = obj.calls.slice(0, 9).map((c) => c.params.q as number);
    const promoted = [...qs].sort((a, b) => b - a).slice(0, 3);
    expect(obj.calls.slice(9).map((c) => c.params.q)).toEqual(promoted);
    expect(result.trials.map((t) => t.params.q)).toEqual([
      ...[...promoted].sort((a, b) => a - b),
      ...[...qs].sort((a, b) => b - a).slice(3),
    ]);
    expect(result.trials.map((t) => t.rung)).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(result.best?.score).toBe(-promoted[2]);
    expect(result.best?.rungs?.map((r) => r.score)).toEqual([promoted[2], -promoted[2]]);
  });

  it('stops between trials when aborted', async () => {
    const controller = new AbortController();
    let n = 0;
    const result = await successiveHalving(
      { lr: logUniform(1e-4, 1e-2) },
      recorder(() => 1),
      {
        trials: 9,
        maxEpochs: 9,
        seed: 0,
        signal: controller.signal,
        onTrialEnd: () => {
          if (++n === 10) controller.abort();
        },
      },
    );
    expect(result.aborted).toBe(true);
    expect(result.trials).toHaveLength(9);
    expect(result.trials.filter((t) => t.rung === 1)).toHaveLength(1);
  });
});

describe('mlpObjective', () => {
  it('checks its params', () => {
    expect(() => mlpParams({ unit: 3 })).toThrow(/mlpObjective: unknown parameter 'unit'/);
    expect(() => mlpParams({ activation: 'swish' })).toThrow(/activation must be one of .*got "swish"/);
    expect(() => mlpParams({ dropout: 1 })).toThrow(/dropout must be in \[0, 1\), got 1/);
    expect(() => mlpParams({ layers: 1.5 })).toThrow(/layers must be an integer >= 0, got 1.5/);
    expect(() => mlpParams({ lr: 0 })).toThrow(/lr must be a finite number > 0, got 0/);
    expect(() => mlpParams({ optimizer: 'lbfgs' })).toThrow(/optimizer must be one of/);
    expect(mlpParams({ units: 16 }, { batchSize: 8 })).toMatchObject({ layers: 1, units: 16, batchSize: 8 });
    const x = new Tensor(new Float32Array(8), [4, 2]);
    expect(() => mlpObjective({ x, y: x, classes: 0 })).toThrow(/mlpObjective: classes must be a positive integer/);
    expect(() => mlpObjective({ x: [] as never, y: x, classes: 2 })).toThrow(/mlpObjective: x and y must be Tensors/);
    expect(() => mlpObjective({ x, y: x, classes: 2, monitor: 'loss' as never })).toThrow(
      /monitor must be 'val_accuracy' or 'val_loss', got "loss"/,
    );
  });

  /** 200 points in 4-D, class = sign of x0 + x1 (linearly separable), `noise` of labels flipped. */
  function dataset(noise: number): { x: Tensor; y: Tensor } {
    const n = 200;
    const g = new Generator(42);
    const xs = new Float32Array(n * 4);
    const ys = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < 4; j++) xs[i * 4 + j] = g.nextNormal();
      ys[i] = xs[i * 4] + xs[i * 4 + 1] > 0 !== g.nextFloat() < noise ? 1 : 0;
    }
    return { x: new Tensor(xs, [n, 4]), y: new Tensor(ys, [n]) };
  }

  it('trains MLPs with early stopping, reproducibly for a seed', async () => {
    const { x, y } = dataset(0);
    const options = { x, y, classes: 2, maxEpochs: 3, seed: 7 };
    const space = {
      units: choice([8, 16]),
      activation: choice(['relu', 'tanh']),
      lr: logUniform(1e-2, 5e-2),
      batchSize: choice([16, 32]),
      dropout: choice([0, 0.1]),
      l2: choice([0, 1e-4]),
    };
    const run = () => randomSearch(space, mlpObjective(options), { trials: 2, seed: 9 });
    const first = await run();
    expect(first.monitor).toBe('val_accuracy');
    expect(first.mode).toBe('max');
    expect(first.trials).toHaveLength(2);
    for (const t of first.trials) {
      expect(t.budget).toBe(3);
      expect(t.epochs).toBeGreaterThanOrEqual(1);
      expect(t.epochs).toBeLessThanOrEqual(3);
      expect(t.logs.val_accuracy).toBe(t.score);
      expect(Object.keys(t.logs).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    }
    expect(first.best!.score).toBeGreaterThan(0.85);
    expect(first.best!.score).toBeGreaterThanOrEqual(first.trials[1].score);

    const second = await run();
    expect(second.trials.map((t) => [t.params, t.score, t.epochs, t.logs])).toEqual(
      first.trials.map((t) => [t.params, t.score, t.epochs, t.logs]),
    );
    // trainMlp gives back the best trial's model, with the same score.
    const { model, result } = await trainMlp(first.best!.params, options, first.best!.budget);
    expect(result.score).toBe(first.best!.score);
    const val = await model.evaluate(x.slice(160), y.slice(160));
    expect(val.accuracy).toBeCloseTo(first.best!.score, 6);
  });

  it('keeps the best epoch: its score, its logs and its weights', async () => {
    // Noisy labels and a high learning rate make the validation loss jump around, so early
    // stopping ends training (epoch 5 of 40 here) a few epochs after the best one, and the kept
    // score, logs and weights must all be that best epoch's, not the last's.
    const { x, y } = dataset(0.25);
    const options = { x, y, classes: 2, monitor: 'val_loss' as const, patience: 2, seed: 3 };
    const params = { layers: 2, units: 64, lr: 0.03, batchSize: 16 };
    const { model, result } = await trainMlp(params, options, 40);
    expect(result.epochs).toBeLessThan(40);
    expect(result.logs!.val_loss).toBe(result.score);
    const val = await model.evaluate(x.slice(160), y.slice(160), { batchSize: 16 });
    expect(val.loss).toBeCloseTo(result.score, 5);
    expect(val.accuracy).toBe(result.logs!.val_accuracy);
    const objective = mlpObjective(options);
    expect([objective.monitor, objective.maxEpochs]).toEqual(['val_loss', undefined]);
    expect(await objective(params, { epochs: 40 })).toEqual(result);
  });
});
