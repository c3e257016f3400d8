/**
 * Regression on a tabular CSV with standardisation: predict US real investment from the other
 * macroeconomic series (data/macrodata, public domain). Scalers are fitted on the training
 * part only, targets are standardised too and predictions mapped back to the original units.
 * Compares the network with a predict-the-mean baseline.
 *
 *   npx tsx examples/regression-csv.ts
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Linear, Model, Sequential, StandardScaler, csvColumns, manualSeed, readCsv, trainTestSplit } from 'axon-nn';

manualSeed(7);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const table = await readCsv(join(root, 'data', 'macrodata', 'macrodata.csv'));
const features = [
  'realgdp',
  'realcons',
  'realgovt',
  'realdpi',
  'cpi',
  'm1',
  'tbilrate',
  'unemp',
  'pop',
  'infl',
  'realint',
];
const x = csvColumns(table, features);
const y = csvColumns(table, ['realinv']);
const { xTrain, xTest, yTrain, yTest } = trainTestSplit(x, y, { testSize: 0.2, seed: 3 });

const xs = new StandardScaler().fit(xTrain);
const ys = new StandardScaler().fit(yTrain!);
const model = new Model(
  new Sequential(
    new Linear(features.length, 32, { activation: 'tanh' }),
    new Linear(32, 16, { activation: 'tanh' }),
    new Linear(16, 1),
  ),
);
model.compile({ optimizer: 'adam', learningRate: 0.01, loss: 'mse', metrics: ['mae', 'r2'] });
await model.fit(xs.transform(xTrain), ys.transform(yTrain!), { epochs: 300, batchSize: 32, verbose: 0 });

const pred = ys.inverseTransform(await model.predict(xs.transform(xTest)));
const truth = yTest!;
let sse = 0;
let sseMean = 0;
const mean = yTrain!.mean().item();
for (let i = 0; i < truth.size; i++) {
  sse += (pred.data[i] - truth.data[i]) ** 2;
  sseMean += (mean - truth.data[i]) ** 2;
}
const rmse = Math.sqrt(sse / truth.size);
const rmseMean = Math.sqrt(sseMean / truth.size);
console.log(
  `test RMSE: network ${rmse.toFixed(1)}, predict-the-mean baseline ${rmseMean.toFixed(1)} (billions of 2005 dollars)`,
);
console.log(`test R^2: ${(1 - sse / sseMean).toFixed(3)}`);
