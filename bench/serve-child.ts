/**
 * One inference server for bench/serve.bench.ts, in its own process: examples/serve.ts's
 * createInferenceServer around either axon-nn (a saved .axon model) or onnxruntime-node (the
 * same weights exported to ONNX) behind the same batcher. Prints `listening <port>` when ready;
 * SIGTERM drains and exits.
 *
 *   npx tsx bench/serve-child.ts axon model.axon [maxBatch] [maxDelayMs]
 *   npx tsx bench/serve-child.ts ort model.onnx [maxBatch] [maxDelayMs]
 */
import { Model, Tensor, getNumThreads, type BatchPredictor } from '../src/index.js';
import { createInferenceServer } from '../examples/serve.js';
import { ort } from '../tests/peers/ort.js';

const [engine, file, maxBatch = '32', maxDelay = '0'] = process.argv.slice(2);
let predictor: Model | BatchPredictor;
if (engine === 'axon') {
  predictor = await Model.load(file);
} else if (engine === 'ort') {
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: getNumThreads(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const input = session.inputNames[0];
  const output = session.outputNames[0];
  predictor = async (x: Tensor): Promise<Tensor> => {
    const r = await session.run({ [input]: new ort.Tensor('float32', x.data as Float32Array, x.shape) });
    const y = r[output];
    return new Tensor(y.data as Float32Array, y.dims as number[]);
  };
} else throw new Error(`serve-child: engine must be axon or ort, got ${engine}`);

const server = createInferenceServer({
  predictor,
  sampleShape: [784],
  batcher: { maxBatchSize: Number(maxBatch), maxDelayMs: Number(maxDelay), maxQueue: 4096 },
});
const { port } = await server.listen(0, '127.0.0.1');
console.log(`listening ${port}`);
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
