/**
 * Bring a model from PyTorch, fine-tune it here, and send it back.
 *
 *   npx tsx examples/onnx.ts                 # the Fashion CNN exported by tools/ (committed)
 *   npx tsx examples/onnx.ts --from-python   # export it afresh: python3 + torch (Debian's python3-torch)
 *
 * 1. The model: tools/onnx/export_torch_models.py exports a PyTorch Fashion-MNIST CNN with
 *    torch.onnx.export (its weights are PyTorch's initialisation: untrained).
 * 2. loadOnnx runs it (accuracy before), toModule() makes it trainable, fit fine-tunes it for
 *    two epochs on Fashion-MNIST (the full set when installed, else the shipped subset).
 * 3. model.save writes our model file; exportOnnx writes ONNX again, which onnxruntime-node
 *    runs (when tests/peers is installed: `node tools/test-peers.mjs`) to the same predictions.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Adam, crossEntropy, exportOnnx, loadOnnx, Model, Tensor } from 'axon-nn';
import { loadFashionMnist } from './fashion-data.js';

/** The part of onnxruntime-node's API this example uses (it is an optional peer, not a dependency). */
interface OrtLike {
  InferenceSession: {
    create(path: string): Promise<{ run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>> }>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}

/** onnxruntime-node from the project (npm install onnxruntime-node), else this repo's test peer. */
async function loadOrt(): Promise<OrtLike | null> {
  // A name in a variable: the type-checker does not look for a package the project may not have.
  const name = 'onnxruntime-node';
  try {
    return (await import(name)) as OrtLike;
  } catch {
    const peer = join(root, 'tests/peers/node_modules/onnxruntime-node');
    return existsSync(peer) ? (createRequire(import.meta.url)(peer) as OrtLike) : null;
  }
}

const root = join(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'axon-onnx-example-'));
const quick = process.argv.includes('--quick');

// 1. The PyTorch model, as ONNX.
let modelPath = join(root, 'tests/fixtures/onnx/torch/fashion_cnn/model.onnx');
if (process.argv.includes('--from-python')) {
  const r = spawnSync('python3', [join(root, 'tools/onnx/export_torch_models.py'), join(out, 'torch')], {
    stdio: 'inherit',
  });
  if (r.status !== 0)
    throw new Error('tools/onnx/export_torch_models.py failed (needs python3-torch and python3-onnx)');
  modelPath = join(out, 'torch/fashion_cnn/model.onnx');
}
const session = await loadOnnx(modelPath);
console.log(`loaded ${modelPath}`);
console.log('inputs ', JSON.stringify(session.inputs));
console.log('outputs', JSON.stringify(session.outputs));

// 2. Predict, fine-tune, predict again.
const data = await loadFashionMnist(quick ? 'subset' : undefined);
const asImages = (x: Tensor): Tensor => x.reshape([x.shape[0], 1, 28, 28]);
const trainX = asImages(quick ? data.xTrain.slice(0, 2000) : data.xTrain);
const trainY = quick ? data.yTrain.slice(0, 2000) : data.yTrain;
const testX = asImages(data.xTest);

function accuracy(logits: Tensor, labels: Tensor): number {
  const [n, k] = logits.shape;
  let right = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits.data[i * k + j] > logits.data[i * k + best]) best = j;
    if (best === labels.data[i]) right++;
  }
  return right / n;
}

const before = (await session.run({ input: testX })).output;
console.log(`test accuracy as exported (untrained): ${(100 * accuracy(before, data.yTest)).toFixed(1)}%`);

const module = session.toModule();
const model = new Model(module);
model.compile({ optimizer: new Adam(module.trainableParameters(), { lr: 1e-3 }), loss: crossEntropy });
await model.fit(trainX, trainY, { epochs: 2, batchSize: 64, verbose: quick ? 0 : 1 });
const tuned = await model.predict(testX);
console.log(`test accuracy after two epochs of fit: ${(100 * accuracy(tuned, data.yTest)).toFixed(1)}%`);

// 3. Save, export back, run the export in onnxruntime-node.
await model.save(join(out, 'fashion_cnn.axon'));
const reloaded = await Model.load(join(out, 'fashion_cnn.axon'));
const same = (await reloaded.predict(testX)).data.every((v, i) => v === tuned.data[i]);
console.log(`saved and reloaded ${join(out, 'fashion_cnn.axon')}: same predictions ${same}`);

const exported = join(out, 'fashion_cnn_tuned.onnx');
const info = await exportOnnx(model, exported);
console.log(`exported ${exported} (${info.nodes} nodes: ${info.opTypes.join(', ')})`);
const ort = await loadOrt();
if (ort) {
  const theirs = await ort.InferenceSession.create(exported);
  const x = testX.slice(0, 256);
  const o = (await theirs.run({ input: new ort.Tensor('float32', x.data as Float32Array, [...x.shape]) })).output;
  const ours = await model.predict(x);
  let worst = 0;
  for (let i = 0; i < ours.size; i++) worst = Math.max(worst, Math.abs((o.data as Float32Array)[i] - ours.data[i]));
  console.log(`onnxruntime-node on the export: largest difference from ours ${worst.toExponential(2)}`);
} else console.log('onnxruntime-node not installed (npm install onnxruntime-node): skipped running the export there');
