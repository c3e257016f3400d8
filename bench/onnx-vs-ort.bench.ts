/**
 * Imported ONNX models, side by side with onnxruntime-node in one process: the 784-256-128-10
 * MLP and the Fashion CNN (tests/fixtures/onnx/torch, exported from PyTorch) at batch 1 and 64,
 * 1 and 2 threads. Each cell times `await session.run(feeds)` including the feed's creation
 * (as ../shared/BENCH-NOTES.md says), medians over 5 interleaved rounds of 200 calls per engine
 * after 50 warm-ups each. Then the load time of a ~100 MB model next to reading its file.
 *
 *   node tools/test-peers.mjs    # onnxruntime-node into tests/peers (npm test does it too)
 *   npx tsx bench/onnx-vs-ort.bench.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOnnx, setNumThreads } from '../src/index.js';
import { onnxType } from '../src/onnx/proto.js';
import { ort } from '../tests/peers/ort.js';

const FIXTURES = join(import.meta.dirname, '../tests/fixtures/onnx/torch');

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function data(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
}

async function cell(model: string, sample: number[], batch: number, threads: number): Promise<void> {
  const path = join(FIXTURES, model, 'model.onnx');
  setNumThreads(threads);
  const ours = await loadOnnx(path);
  const theirs = await ort.InferenceSession.create(path, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const dims = [batch, ...sample];
  const x = data(dims.reduce((a, b) => a * b, 1));
  const runOurs = (): Promise<unknown> => ours.run({ input: { data: x, dims } });
  const runTheirs = (): Promise<unknown> => theirs.run({ input: new ort.Tensor('float32', x, dims) });
  for (let i = 0; i < 50; i++) {
    await runOurs();
    await runTheirs();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < 5; round++)
    for (const [run, into] of [
      [runOurs, a],
      [runTheirs, b],
    ] as const)
      for (let i = 0; i < 200; i++) {
        const t0 = process.hrtime.bigint();
        await run();
        into.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
  const ma = median(a);
  const mb = median(b);
  console.log(`| ${model} | ${batch} | ${threads} | ${ma.toFixed(1)} | ${mb.toFixed(1)} | ${(ma / mb).toFixed(2)} |`);
  ours.release();
  await theirs.release();
}

console.log('| model | batch | threads | axon-nn us | onnxruntime-node us | ratio |');
console.log('|---|---|---|---|---|---|');
for (const threads of [1, 2])
  for (const batch of [1, 64]) {
    await cell('mlp', [784], batch, threads);
    await cell('fashion_cnn', [1, 28, 28], batch, threads);
  }

// Load time: a 5120-5120-1000 MLP (~125 MB of float32 weights) written with our schema.
const dir = mkdtempSync(join(tmpdir(), 'axon-onnx-'));
try {
  const ModelProto = onnxType('ModelProto');
  const tensor = (name: string, dims: number[]) => ({
    name,
    dims,
    data_type: 1,
    raw_data: Buffer.from(data(dims.reduce((p, q) => p * q, 1)).buffer),
  });
  const bytes = ModelProto.encode(
    ModelProto.fromObject({
      ir_version: 8,
      opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'big',
        node: [
          {
            op_type: 'Gemm',
            input: ['input', 'w1', 'b1'],
            output: ['h'],
            attribute: [{ name: 'transB', i: 1, type: 2 }],
          },
          { op_type: 'Relu', input: ['h'], output: ['r'] },
          {
            op_type: 'Gemm',
            input: ['r', 'w2', 'b2'],
            output: ['output'],
            attribute: [{ name: 'transB', i: 1, type: 2 }],
          },
        ],
        initializer: [
          tensor('w1', [5120, 5120]),
          tensor('b1', [5120]),
          tensor('w2', [1000, 5120]),
          tensor('b2', [1000]),
        ],
        input: [
          {
            name: 'input',
            type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'batch' }, { dim_value: 5120 }] } } },
          },
        ],
        output: [
          {
            name: 'output',
            type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'batch' }, { dim_value: 1000 }] } } },
          },
        ],
      },
    }),
  ).finish();
  const file = join(dir, 'big.onnx');
  writeFileSync(file, bytes);
  const reads: number[] = [];
  const loads: number[] = [];
  const orts: number[] = [];
  for (let i = 0; i < 5; i++) {
    let t0 = performance.now();
    await readFile(file);
    reads.push(performance.now() - t0);
    t0 = performance.now();
    const s = await loadOnnx(file);
    loads.push(performance.now() - t0);
    s.release();
    t0 = performance.now();
    const o = await ort.InferenceSession.create(file);
    orts.push(performance.now() - t0);
    await o.release();
  }
  console.log(
    `\nload of a ${(bytes.length / 2 ** 20).toFixed(0)} MiB model (medians of 5): read the file ${median(reads).toFixed(1)} ms, loadOnnx ${median(loads).toFixed(1)} ms (${(median(loads) / median(reads)).toFixed(2)}x the read), onnxruntime-node ${median(orts).toFixed(1)} ms`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
