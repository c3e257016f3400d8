/**
 * Transformer encoders side by side (issue 21's figures), one script so the ratios share a
 * machine state:
 *
 * 1. Inference of a DistilBERT-sized encoder (6 x TransformerEncoderLayer(768, 12 heads, FFN
 *    3072, gelu), ~11 GFLOP per 128-token sequence) at sequence 128, batch 1 and 16, 1 and 2
 *    threads: built from our layers (Model.predict in float32, and after prepareInference
 *    bf16 and int8), the same weights exported from PyTorch 1.13 to ONNX (opset 14) and
 *    imported (loadOnnx), and that ONNX file in onnxruntime-node;
 *    interleaved rounds, medians, each call including its input's creation. PyTorch 1.13 on the
 *    same weights (its inference fast path) in its own process after.
 * 2. Training throughput of one encoder layer (batch 16 x 128 tokens, MSE, SGD momentum,
 *    dropout 0.1): Model.fit against PyTorch's loop.
 * 3. (run first, while the process is small) Attention at sequence 1024 and 4096, forward and
 *    backward, with the peak memory it added next to the size of one materialised score matrix.
 *
 *   node tools/test-peers.mjs          # onnxruntime-node into tests/peers
 *   npx tsx bench/transformer.bench.ts [--quick]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Model,
  SGD,
  Tensor,
  TransformerEncoder,
  TransformerEncoderLayer,
  encodeSafetensors,
  loadOnnx,
  machineInfo,
  randn,
  scaledDotProductAttention,
  setNumThreads,
} from '../src/index.js';
import { ort } from '../tests/peers/ort.js';
import { runTorchPeer } from './torch-peer.js';

const quick = process.argv.includes('--quick');
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const wave = (n: number, a: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * a));
const D = 768;

// First, while the process is small: the peak memory it adds is then visible in maxRSS (its
// inputs and their gradients are 6 x 4 x length x 64 floats: 24 MiB at 4096).
{
  console.log('## Long sequences: scaledDotProductAttention, 1 batch x 4 heads x 64 features, 2 threads\n');
  console.log('| length | forward ms | forward + backward ms | peak memory added | one score matrix (4 heads) |');
  console.log('|---|---|---|---|---|');
  setNumThreads(2);
  for (const L of [1024, 4096]) {
    const q = randn([1, 4, L, 64], { seed: 3 }).setRequiresGrad();
    const k = randn([1, 4, L, 64], { seed: 4 }).setRequiresGrad();
    const v = randn([1, 4, L, 64], { seed: 5 }).setRequiresGrad();
    const before = process.resourceUsage().maxRSS;
    let t0 = performance.now();
    const o = scaledDotProductAttention(q, k, v, { causal: false });
    const fwd = performance.now() - t0;
    t0 = performance.now();
    o.sum().backward();
    const both = fwd + performance.now() - t0;
    const added = (process.resourceUsage().maxRSS - before) / 1024;
    const scores = (4 * L * L * 4) / 2 ** 20;
    console.log(
      `| ${L} | ${fwd.toFixed(0)} | ${both.toFixed(0)} | ${added.toFixed(0)} MiB | ${scores.toFixed(0)} MiB |`,
    );
  }
}
console.log();

// After the long sequences: measuring DRAM bandwidth allocates a large buffer (maxRSS).
const info = machineInfo();
console.log(
  `CPU: ${cpus()[0].model} (${info.cpu.microarchitecture}), fp32 FMA peak ${info.peakGflopsPerCore.toFixed(0)} GFLOP/s per core\n`,
);
const dir = mkdtempSync(join(tmpdir(), 'axon-tf-bench-'));
try {
  const encoder = new TransformerEncoder(
    new TransformerEncoderLayer(D, 12, {
      dimFeedforward: 3072,
      activation: 'gelu',
      batchFirst: true,
      init: { seed: 1 },
    }),
    6,
  );
  // Distinct weights per layer (TransformerEncoder copies its first layer, as PyTorch's deep
  // copy does): identical layers would let the ONNX exporter share one set of initializers, and
  // six layers' weights (170 MB) would not be the 28 MB one engine reads six times.
  encoder.layers.forEach((layer, i) => {
    if (i > 0)
      layer.loadStateDict(
        new TransformerEncoderLayer(D, 12, {
          dimFeedforward: 3072,
          activation: 'gelu',
          batchFirst: true,
          init: { seed: 1 + i },
        }).stateDict(),
      );
  });
  encoder.eval();
  const weights = join(dir, 'encoder.safetensors');
  const onnxFile = join(dir, 'encoder.onnx');
  writeFileSync(weights, encodeSafetensors(encoder.stateDict()));
  runTorchPeer('torch_encoder.py', ['export', weights, onnxFile], 1);
  const model = new Model(encoder);

  console.log('## Inference, sequence 128 (ms per call, medians of interleaved rounds)\n');
  const bf16 = new Model(encoder);
  const int8 = new Model(encoder);
  const b16 = await bf16.prepareInference({ precision: 'bf16' });
  const i8 = await int8.prepareInference({ precision: 'int8' });
  {
    const probe = new Tensor(wave(128 * D, 0.37), [1, 128, D]);
    const exact = await model.predict(probe);
    const rel = (t: Tensor): string => {
      let e = 0;
      let n = 0;
      for (let i = 0; i < t.size; i++) {
        e += ((t.data[i] as number) - (exact.data[i] as number)) ** 2;
        n += (exact.data[i] as number) ** 2;
      }
      return Math.sqrt(e / n).toExponential(1);
    };
    console.log(
      `(bf16 native: ${b16.native}, int8 native: ${i8.native}; relative RMS change of the encoder's output: bf16 ${rel(await bf16.predict(probe))}, int8 ${rel(await int8.predict(probe))})\n`,
    );
  }
  console.log(
    '| batch | threads | layers fp32 | layers bf16 | layers int8 | import fp32 | import bf16 | import int8 | onnxruntime-node fp32 | PyTorch 1.13 | layers fp32 / ORT | bf16 / ORT | int8 / ORT | import fp32 / ORT | import bf16 / ORT | import int8 / ORT |',
  );
  console.log(`|${'---|'.repeat(16)}`);
  for (const threads of [1, 2])
    for (const batch of quick ? [1] : [1, 16]) {
      setNumThreads(threads);
      const imported = await loadOnnx(onnxFile);
      const importedBf16 = await loadOnnx(onnxFile);
      const importedInt8 = await loadOnnx(onnxFile);
      await importedBf16.prepareInference({ precision: 'bf16' });
      await importedInt8.prepareInference({ precision: 'int8' });
      const session = await ort.InferenceSession.create(onnxFile, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
      });
      const dims = [batch, 128, D];
      const data = wave(batch * 128 * D, 0.37);
      const engines: [string, () => Promise<unknown>][] = [
        ['layers', () => model.predict(new Tensor(data, dims))],
        ['bf16', () => bf16.predict(new Tensor(data, dims))],
        ['int8', () => int8.predict(new Tensor(data, dims))],
        ['import', () => imported.run({ input: { data, dims } })],
        ['import bf16', () => importedBf16.run({ input: { data, dims } })],
        ['import int8', () => importedInt8.run({ input: { data, dims } })],
        ['ort', () => session.run({ input: new ort.Tensor('float32', data, dims) })],
      ];
      const calls = batch === 1 ? (quick ? 5 : 10) : 2;
      for (const [, run] of engines) for (let i = 0; i < 2; i++) await run();
      const times = new Map<string, number[]>(engines.map(([n]) => [n, []]));
      for (let round = 0; round < (quick ? 2 : 4); round++)
        for (const [name, run] of engines)
          for (let i = 0; i < calls; i++) {
            const t0 = performance.now();
            await run();
            times.get(name)?.push(performance.now() - t0);
          }
      for (const sess of [imported, importedBf16, importedInt8]) sess.release();
      await session.release();
      const torch = runTorchPeer<{ ms: number }>(
        'torch_encoder.py',
        ['infer', weights, String(batch), '128', String(calls * 3)],
        threads,
      );
      const [l, b, q, i, ib, iq, o] = ['layers', 'bf16', 'int8', 'import', 'import bf16', 'import int8', 'ort'].map(
        (n) => median(times.get(n) ?? []),
      );
      const r = (v: number): string => (v / o).toFixed(2);
      console.log(
        `| ${batch} | ${threads} | ${[l, b, q, i, ib, iq, o, torch.ms].map((v) => v.toFixed(1)).join(' | ')} | ${[l, b, q, i, ib, iq].map(r).join(' | ')} |`,
      );
    }

  console.log('\n## Training one encoder layer, batch 16 x 128 tokens, SGD momentum 0.9, dropout 0.1 (ms per step)\n');
  console.log('| threads | axon-nn fit | PyTorch 1.13 | PyTorch / axon-nn |');
  console.log('|---|---|---|---|');
  const steps = quick ? 2 : 4;
  const n = 16 * steps;
  const x = new Tensor(wave(n * 128 * D, 0.37), [n, 128, D]);
  const y = new Tensor(
    Float32Array.from({ length: n * 128 * D }, (_, i) => Math.cos(i * 0.11)),
    [n, 128, D],
  );
  for (const threads of [1, 2]) {
    setNumThreads(threads);
    const layer = new TransformerEncoderLayer(D, 12, {
      dimFeedforward: 3072,
      activation: 'gelu',
      batchFirst: true,
      init: { seed: 2 },
    });
    const m = new Model(layer).compile({
      optimizer: new SGD(layer.parameters(), { lr: 1e-3, momentum: 0.9 }),
      loss: 'mse',
    });
    await m.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0, shuffle: false }); // records the step
    const epochs: number[] = [];
    for (let e = 0; e < (quick ? 1 : 3); e++) {
      const t0 = performance.now();
      await m.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0, shuffle: false });
      epochs.push((performance.now() - t0) / steps);
    }
    const ours = median(epochs);
    const torch = runTorchPeer<{ ms: number }>(
      'torch_encoder.py',
      ['train', '16', '128', String(quick ? 2 : 5)],
      threads,
    );
    console.log(`| ${threads} | ${ours.toFixed(0)} | ${torch.ms.toFixed(0)} | ${(torch.ms / ours).toFixed(2)} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
