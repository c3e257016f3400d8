/**
 * An MLP classifier, Keras style: standardised inputs, dropout and L2 regularisation, a
 * cosine learning-rate schedule, early stopping, a CSV log, and evaluation with precision,
 * recall and F1. Runs on the Fashion-MNIST subset shipped in data/ (or --data DIR).
 *
 *   npx tsx examples/mlp-classifier.ts [--data DIR] [--epochs 8]
 */
import { parseArgs } from 'node:util';
import {
  Adam,
  CosineAnnealingLR,
  CSVLogger,
  Dropout,
  EarlyStopping,
  LearningRateScheduler,
  Linear,
  Model,
  Sequential,
  StandardScaler,
  l2,
  manualSeed,
  metrics,
} from 'axon-nn';
import { loadFashionMnist } from './fashion-data.js';

const { values: args } = parseArgs({
  options: { data: { type: 'string', default: 'subset' }, epochs: { type: 'string', default: '8' } },
});
manualSeed(1);
const data = await loadFashionMnist(args.data);

// Fit the scaler on the training images only, then apply it to both splits.
const scaler = new StandardScaler().fit(data.xTrain);
const xTrain = scaler.transform(data.xTrain);
const xTest = scaler.transform(data.xTest);

const net = new Sequential(
  new Linear(784, 512, { activation: 'relu', weightInit: 'heNormal', biasInit: 'zeros', weightRegularizer: l2(1e-5) }),
  new Dropout(0.3),
  new Linear(512, 256, { activation: 'relu', weightInit: 'heNormal', biasInit: 'zeros', weightRegularizer: l2(1e-5) }),
  new Dropout(0.3),
  new Linear(256, 10),
);
const epochs = Number(args.epochs);
const optimizer = new Adam(net.parameters(), { lr: 1e-3 });
const model = new Model(net).compile({
  optimizer,
  loss: 'sparseCategoricalCrossentropy',
  metrics: ['accuracy', metrics.precision(), metrics.recall(), metrics.f1(), metrics.topKAccuracy(3)],
});

const history = await model.fit(xTrain, data.yTrain, {
  epochs,
  batchSize: 128,
  validationSplit: 0.15,
  callbacks: [
    new LearningRateScheduler(new CosineAnnealingLR(optimizer, { tMax: epochs, etaMin: 1e-5 })),
    new EarlyStopping({ monitor: 'val_accuracy', patience: 3, restoreBestWeights: true }),
    new CSVLogger('mlp-classifier-history.csv'),
  ],
});
console.log('best val_accuracy', Math.max(...history.history.val_accuracy).toFixed(4));
console.log('test', await model.evaluate(xTest, data.yTest, { batchSize: 512 }));
console.log('scaler JSON for deployment has', JSON.stringify(scaler.toJSON()).length, 'bytes');
