/**
 * The MLP trained with an explicit, PyTorch-style loop instead of fit():
 *   opt.zeroGrad(); const loss = lossFn(model.forward(x), y); loss.backward(); opt.step();
 * with a DataLoader, a per-batch one-cycle schedule and gradient clipping.
 *
 *   npx tsx examples/explicit-loop.ts [--data DIR] [--epochs 3]
 */
import { parseArgs } from 'node:util';
import {
  Adam,
  DataLoader,
  Linear,
  OneCycleLR,
  Sequential,
  TensorDataset,
  argmax,
  clipGradNorm,
  crossEntropy,
  manualSeed,
  noGrad,
} from 'axon-nn';
import { loadFashionMnist } from './fashion-data.js';

const { values: args } = parseArgs({
  options: { data: { type: 'string', default: 'subset' }, epochs: { type: 'string', default: '3' } },
});
manualSeed(3);
const data = await loadFashionMnist(args.data);
const model = new Sequential(
  new Linear(784, 256, { activation: 'relu' }),
  new Linear(256, 128, { activation: 'relu' }),
  new Linear(128, 10),
);
const loader = new DataLoader(new TensorDataset(data.xTrain, data.yTrain), { batchSize: 64, shuffle: true, seed: 1 });
const epochs = Number(args.epochs);
const opt = new Adam(model.parameters(), { lr: 1e-3 });
const schedule = new OneCycleLR(opt, { maxLr: 3e-3, totalSteps: epochs * loader.numBatches });

for (let epoch = 0; epoch < epochs; epoch++) {
  model.train();
  let total = 0;
  let batches = 0;
  for await (const [x, y] of loader) {
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(x), y!);
    loss.backward();
    clipGradNorm(model.parameters(), 5);
    opt.step();
    schedule.step();
    total += loss.item();
    batches++;
  }
  model.eval();
  const correct = noGrad(() => {
    const pred = argmax(model.forward(data.xTest), 1);
    let c = 0;
    for (let i = 0; i < pred.size; i++) c += pred.data[i] === data.yTest.data[i] ? 1 : 0;
    return c;
  });
  console.log(
    `epoch ${epoch + 1}: train loss ${(total / batches).toFixed(4)}, test accuracy ${((100 * correct) / data.yTest.size).toFixed(2)}%, lr ${opt.paramGroups[0].lr.toExponential(2)}`,
  );
}
