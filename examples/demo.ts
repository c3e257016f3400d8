/**
 * The demo (`npm run demo`): trains a 784-256-128-10 ReLU network on Fashion-MNIST with Adam,
 * shows the progress, prints the test accuracy and a few predictions, and writes the training
 * curves to demo-output/history.svg and .html.
 *
 *   npm run demo                      # full 60k/10k set if installed, else the shipped subset
 *   npm run demo -- --data subset     # the 10k/2k subset in data/fashion-mnist-subset
 *   npm run demo -- --data DIR --epochs 5 --batch-size 64 --out demo-output
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  EarlyStopping,
  Linear,
  Model,
  Sequential,
  backendInfo,
  historyToHtml,
  historyToSvg,
  manualSeed,
} from 'axon-nn';
import { CLASS_NAMES, loadFashionMnist } from './fashion-data.js';
import { reportPrecisions } from './precision-report.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    epochs: { type: 'string', default: '5' },
    'batch-size': { type: 'string', default: '64' },
    lr: { type: 'string', default: '0.001' },
    out: { type: 'string', default: 'demo-output' },
    seed: { type: 'string', default: '42' },
    quiet: { type: 'boolean', default: false },
  },
});

manualSeed(Number(args.seed));
const data = await loadFashionMnist(args.data);
const info = backendInfo();
console.log(
  `Fashion-MNIST from ${data.dir}: ${data.xTrain.shape[0]} training and ${data.xTest.shape[0]} test images` +
    ` (${data.full ? 'full set' : 'subset'}); kernels: ${info.isa}, ${info.threads} threads`,
);

const model = new Model(
  new Sequential(
    new Linear(784, 256, { activation: 'relu' }),
    new Linear(256, 128, { activation: 'relu' }),
    new Linear(128, 10),
  ),
);
model.compile({
  optimizer: 'adam',
  learningRate: Number(args.lr),
  loss: 'sparseCategoricalCrossentropy',
  metrics: ['accuracy'],
});
const counts = model.countParameters();
console.log(`model: 784-256-128-10 ReLU MLP, ${counts.total.toLocaleString('en-US')} parameters`);

const started = performance.now();
const history = await model.fit(data.xTrain, data.yTrain, {
  epochs: Number(args.epochs),
  batchSize: Number(args['batch-size']),
  validationSplit: 0.1,
  verbose: args.quiet ? 0 : 1,
  callbacks: [new EarlyStopping({ monitor: 'val_loss', patience: 3, restoreBestWeights: true })],
});
const seconds = (performance.now() - started) / 1000;

const test = await model.evaluate(data.xTest, data.yTest, { batchSize: 256 });
console.log(
  `\ntrained in ${seconds.toFixed(1)} s; test loss ${test.loss.toFixed(4)}, test accuracy ${(100 * test.accuracy).toFixed(2)}%`,
);

await reportPrecisions(model, data.xTest, data.yTest);

// A few predictions: batch of 8 runs synchronously (no thread hand-off for small requests).
const sample = data.xTest.slice(0, 8);
const probs = (await model.predict(sample)).softmax(-1);
const predicted = probs.argmax(1).data;
console.log('\nsample predictions:');
for (let i = 0; i < 8; i++) {
  const truth = CLASS_NAMES[data.yTest.data[i]];
  const guess = CLASS_NAMES[predicted[i]];
  const p = probs.data[i * 10 + predicted[i]];
  console.log(
    `  #${i}: ${guess.padEnd(12)} (${(100 * p).toFixed(1)}%)  true: ${truth}${guess === truth ? '' : '   <- wrong'}`,
  );
}

mkdirSync(args.out, { recursive: true });
const title = `Fashion-MNIST MLP (${data.full ? '60k' : 'subset'}), test accuracy ${(100 * test.accuracy).toFixed(2)}%`;
writeFileSync(join(args.out, 'history.svg'), historyToSvg(history, { title }));
writeFileSync(join(args.out, 'history.html'), historyToHtml(history, { title }));
writeFileSync(
  join(args.out, 'result.json'),
  JSON.stringify({ testAccuracy: test.accuracy, testLoss: test.loss, seconds, history: history.history }, null, 2),
);
console.log(`\ntraining curves: ${join(args.out, 'history.svg')} (and history.html)`);
