/**
 * Hyperparameter search for an MLP on Fashion-MNIST: random search (default), a grid, or
 * successive halving over layers, width, activation, learning rate, batch size, dropout and L2.
 * Each trial trains with early stopping on the last 20% of the training images; the sorted
 * table is printed and written as JSON, then the best configuration is trained again (same
 * seed, so the same weights) and scored on the test set, which the search never saw.
 * Ctrl-C stops the search between trials and reports the trials so far.
 *
 *   npx tsx examples/hyperparameter-search.ts [--mode grid|random|halving] [--trials N]
 *       [--epochs 15] [--data subset|DIR] [--out FILE] [--seed 1]
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  backendInfo,
  choice,
  gridSearch,
  intRange,
  logUniform,
  mlpObjective,
  randomSearch,
  successiveHalving,
  trainMlp,
  type MlpObjectiveOptions,
  type SearchResult,
  type SearchSpace,
  type TrialRecord,
} from 'axon-nn';
import { loadFashionMnist } from './fashion-data.js';

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'random' },
    trials: { type: 'string' },
    epochs: { type: 'string', default: '15' },
    data: { type: 'string', default: 'subset' },
    out: { type: 'string', default: join(tmpdir(), 'search-results.json') },
    seed: { type: 'string', default: '1' },
  },
});
const mode = args.mode;
if (mode !== 'grid' && mode !== 'random' && mode !== 'halving')
  throw new RangeError(`--mode must be grid, random or halving, got ${mode}`);
const seed = Number(args.seed);
const maxEpochs = Number(args.epochs);

const data = await loadFashionMnist(args.data);
const info = backendInfo();
console.log(
  `Fashion-MNIST from ${data.dir}: ${data.xTrain.shape[0]} training images (20% held out for validation),` +
    ` ${data.xTest.shape[0]} test images; kernels: ${info.isa}, ${info.threads} threads`,
);

const space: SearchSpace = {
  layers: intRange(1, 2),
  units: choice([64, 128]),
  activation: choice(['relu', 'tanh']),
  lr: logUniform(3e-4, 3e-3),
  batchSize: choice([32, 64, 128]),
  dropout: choice([0, 0.2]),
  l2: choice([0, 1e-4]),
};
// A full grid of that space (2 learning rates) would be 192 trials: the grid mode searches the
// architecture and learning rate, with batch size 64 and no dropout or L2 (16 trials).
const gridSpace: SearchSpace = {
  layers: intRange(1, 2),
  units: choice([64, 128]),
  activation: choice(['relu', 'tanh']),
  lr: logUniform(3e-4, 3e-3),
};

const objectiveOptions: MlpObjectiveOptions = {
  x: data.xTrain,
  y: data.yTrain,
  classes: 10,
  validationSplit: 0.2,
  patience: 2,
  monitor: 'val_accuracy',
  maxEpochs,
  seed,
  defaults: { batchSize: 64 },
};
const objective = mlpObjective(objectiveOptions);

// Ctrl-C ends the search after the running trial; the table shows what finished.
const controller = new AbortController();
const onSigint = (): void => {
  console.log('\nstopping after this trial...');
  controller.abort();
};
process.once('SIGINT', onSigint);
const onTrialEnd = (t: TrialRecord): void => {
  const rung = t.rungs ? ` rung ${t.rung + 1}` : '';
  console.log(
    `trial ${String(t.id).padStart(2)}${rung}: val_accuracy ${t.score.toFixed(4)} after ${t.epochs}/${t.budget} epochs` +
      ` (${t.seconds.toFixed(1)} s)  ${JSON.stringify(t.params, (_k, v) => (typeof v === 'number' ? Number(v.toPrecision(3)) : v))}`,
  );
};
const common = { onTrialEnd, signal: controller.signal };

const started = performance.now();
let result: SearchResult;
if (mode === 'grid') {
  if (args.trials !== undefined) console.log('(--trials is ignored by the grid: it runs every combination)');
  result = await gridSearch(gridSpace, objective, { ...common, gridPoints: 2 });
} else if (mode === 'random') {
  result = await randomSearch(space, objective, { ...common, trials: Number(args.trials ?? 20), seed });
} else {
  // With --epochs 15: 27 trials at 1 epoch, the best 9 at 3, the best 3 at 9 and the best at
  // 15, at most 96 epochs in all, where training all 27 for 15 epochs would take up to 405.
  result = await successiveHalving(space, objective, {
    ...common,
    trials: Number(args.trials ?? 27),
    minEpochs: 1,
    maxEpochs,
    eta: 3,
    seed,
  });
}
const seconds = (performance.now() - started) / 1000;
process.off('SIGINT', onSigint);

console.log(
  `\n${result.method} search: ${result.trials.length} trials in ${seconds.toFixed(1)} s` +
    (result.aborted ? ' (stopped early)' : '') +
    (mode === 'halving'
      ? `; rungs ${result.rungs.map((r) => `${r.trials}x${r.budget}`).join(', ')} (trials x epochs)`
      : ''),
);
console.log(result.toTable());
writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
console.log(`\nresults written to ${args.out}`);

const best = result.best;
if (best) {
  // The same params, seed and budget reproduce the trial's training, so this is its model.
  const { model, result: again } = await trainMlp(best.params, objectiveOptions, best.budget);
  const test = await model.evaluate(data.xTest, data.yTest, { batchSize: 256 });
  console.log(
    `best: trial ${best.id} ${JSON.stringify(best.params)}\n` +
      `  val_accuracy ${again.score.toFixed(4)} (search: ${best.score.toFixed(4)}), ` +
      `test accuracy ${(100 * test.accuracy).toFixed(2)}%, test loss ${test.loss.toFixed(4)}`,
  );
}
