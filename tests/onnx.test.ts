/**
 * ONNX import: PyTorch-exported models (tools/onnx/export_torch_models.py) against PyTorch's
 * outputs, the session API and its errors, fine-tuning an imported graph, and hostile files.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';
import {
  Adam,
  Linear,
  Model,
  OnnxModule,
  Sequential,
  Tensor,
  exportOnnxBytes,
  loadOnnx,
  loadOnnxSync,
  mseLoss,
  profile,
  randn,
} from '../src/index.js';
import { onnxType, readTensorFile } from '../src/onnx/proto.js';

const ROOT = join(__dirname, 'fixtures/onnx/torch');
const MODELS = readdirSync(ROOT).filter((d) => !d.endsWith('.md'));

function feedOf(dir: string, k = 0): { data: Float32Array | Int32Array; dims: number[] } {
  const t = readTensorFile(join(dir, `test_data_set_0/input_${k}.pb`));
  return t.f32 ? { data: t.f32, dims: t.dims } : { data: Int32Array.from(t.ints as Float64Array), dims: t.dims };
}

describe('PyTorch-exported models', () => {
  it('has the eleven reference models', () => expect(MODELS.length).toBe(11));
  for (const name of MODELS)
    it(`${name} matches PyTorch within 1e-4 (run, runSync, and as a Module)`, async () => {
      const dir = join(ROOT, name);
      const session = await loadOnnx(join(dir, 'model.onnx'));
      const want = readTensorFile(join(dir, 'test_data_set_0/output_0.pb')).f32 as Float32Array;
      const feeds = { [session.inputs[0].name]: feedOf(dir) };
      const check = (t: Tensor): void => {
        expect(t.size).toBe(want.length);
        for (let i = 0; i < want.length; i++) expect(Math.abs(t.data[i] - want[i])).toBeLessThan(1e-4);
      };
      check((await session.run(feeds))[session.outputs[0].name]);
      check(session.runSync(feeds)[session.outputs[0].name]);
      const f = feedOf(dir);
      const m = session.toModule().eval();
      check(m.forward(new Tensor(f.data, f.dims)));
      session.release();
    });
});

describe('session API', () => {
  const mlp = join(ROOT, 'mlp/model.onnx');
  it('describes inputs and outputs with symbolic dimensions by name', async () => {
    const s = await loadOnnx(mlp);
    expect(s.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: ['batch', 784] }]);
    expect(s.outputs).toEqual([{ name: 'output', dtype: 'float32', shape: ['batch', 10] }]);
    expect(s.opset).toBe(13);
  });
  it('rejects missing, unknown and mis-shaped feeds by name', async () => {
    const s = loadOnnxSync(readFileSync(mlp));
    expect(() => s.runSync({})).toThrow(/input 'input' is missing/);
    expect(() =>
      s.runSync({ input: new Tensor(new Float32Array(784), [1, 784]), extra: new Tensor(new Float32Array(1), [1]) }),
    ).toThrow(/'extra' is not an input/);
    expect(() => s.runSync({ input: new Tensor(new Float32Array(783), [1, 783]) })).toThrow(/shape \[batch,784\]/);
    expect(() => s.runSync({ input: { data: new Float32Array(5), dims: [1, 784] } })).toThrow(/5 values/);
    await expect(s.run({ input: { data: new Int32Array(784), dims: [1, 784] } })).rejects.toThrow(/integer data/);
  });
  it('gives the same bits for concurrent runs of different batch sizes', async () => {
    const s = await loadOnnx(mlp);
    const x = (n: number, seed: number): Tensor =>
      new Tensor(
        Float32Array.from({ length: n * 784 }, (_, i) => Math.sin(i * 0.37 + seed)),
        [n, 784],
      );
    const inputs = [1, 64, 3, 64, 1].map((n, i) => x(n, i));
    const alone = inputs.map((t) => s.runSync({ input: t }).output);
    const together = await Promise.all(inputs.map((t) => s.run({ input: t })));
    together.forEach((o, i) => expect(Array.from(o.output.data)).toEqual(Array.from(alone[i].data)));
  });
  it('shares activation memory among buffers whose lifetimes do not overlap', async () => {
    const s = await loadOnnx(join(ROOT, 'resnet_block/model.onnx'));
    s.runSync({ input: { data: new Float32Array(8 * 3 * 16 * 16), dims: [8, 3, 16, 16] } });
    const [r] = s.recordings();
    expect(r.signature).toBe('float32:8,3,16,16');
    // Measured at batch 64: 7.5 MiB of activations held in 3.0 MiB.
    expect(r.savedBytes).toBeGreaterThan(r.bytes / 2);
  });
  it('release() during a run on the thread pool waits for it; later runs record again', async () => {
    const s = await loadOnnx(join(ROOT, 'fashion_cnn/model.onnx'));
    const x = new Tensor(
      Float32Array.from({ length: 64 * 784 }, (_, i) => Math.cos(i)),
      [64, 1, 28, 28],
    );
    const first = s.run({ input: x });
    // Once recorded, the batch-64 run replays on the thread pool; release while it does.
    await new Promise((r) => setImmediate(r));
    s.release();
    const a = (await first).output;
    const b = (await s.run({ input: x })).output;
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(s.recordings()).toHaveLength(1);
  });
  it('accepts int64 token ids as BigInt64Array and Int32Array alike', async () => {
    const dir = join(ROOT, 'lstm_text');
    const s = await loadOnnx(join(dir, 'model.onnx'));
    const f = feedOf(dir);
    const a = s.runSync({ tokens: f }).output;
    const b = s.runSync({ tokens: { data: BigInt64Array.from(f.data, (v) => BigInt(v)), dims: f.dims } }).output;
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
  });
});

describe('fine-tuning an imported model', () => {
  it('trains with fit, freezes by ONNX name and keeps the session untouched', async () => {
    const session = await loadOnnx(join(ROOT, 'mlp/model.onnx'));
    const module = session.toModule();
    const names = module.namedParameters().map(([n]) => n);
    expect(names).toEqual(['net.0.weight', 'net.0.bias', 'net.2.weight', 'net.2.bias', 'net.4.weight', 'net.4.bias']);
    for (const [n, p] of module.namedParameters()) if (n.startsWith('net.0')) p.trainable = false;
    const frozen = Float32Array.from(module.namedParameters()[0][1].data);
    const x = new Tensor(
      Float32Array.from({ length: 32 * 784 }, (_, i) => Math.cos(i * 0.11)),
      [32, 784],
    );
    const y = new Tensor(
      Float32Array.from({ length: 32 * 10 }, (_, i) => (i % 10 === Math.floor(i / 10) % 10 ? 1 : 0)),
      [32, 10],
    );
    const model = new Model(module);
    model.compile({ optimizer: new Adam(module.trainableParameters(), { lr: 1e-3 }), loss: mseLoss });
    const before = session.runSync({ input: x }).output;
    const hist = await model.fit(x, y, { epochs: 5, batchSize: 8, verbose: 0 });
    const losses = hist.history.loss as number[];
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    expect(Array.from(module.namedParameters()[0][1].data)).toEqual(Array.from(frozen));
    // The session's weights are its own: training the module does not change its outputs.
    expect(Array.from(session.runSync({ input: x }).output.data)).toEqual(Array.from(before.data));
    // model.save and Model.load: the graph travels in the config, the trained weights as tensors.
    const dir = mkdtempSync(join(tmpdir(), 'axon-onnx-'));
    try {
      await model.save(join(dir, 'tuned.axon'));
      const loaded = await Model.load(join(dir, 'tuned.axon'));
      expect(loaded.module).toBeInstanceOf(OnnxModule);
      expect(Array.from((await loaded.predict(x)).data)).toEqual(Array.from((await model.predict(x)).data));
      expect(loaded.module.namedParameters()[0][1].trainable).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('OnnxModule rejects the wrong number or type of inputs, naming them', async () => {
    const m = (await loadOnnx(join(ROOT, 'lstm_text/model.onnx'))).toModule();
    expect(() => m.forward()).toThrow(/takes 1 inputs, got 0/);
    expect(() => m.forward(new Tensor(new Float32Array(12), [1, 12]))).toThrow(
      /input 'tokens' is int64, got a float32 tensor/,
    );
    expect(() => m.forwardAll({})).toThrow(/input 'tokens' is missing/);
  });
  it('rebuilds from a hostile config with clear errors', () => {
    expect(() => OnnxModule.fromConfig({ graph: 5, weights: [] })).toThrow(/graph \(base64\) and weights/);
    expect(() => OnnxModule.fromConfig({ graph: 'AAAA', weights: [] })).toThrow(
      /OnnxError|not a valid ONNX model|no graph/,
    );
  });
});

describe('unsupported content and hostile files', () => {
  const ModelProto = onnxType('ModelProto');
  const build = (nodes: object[], opset = 13): Uint8Array =>
    ModelProto.encode(
      ModelProto.fromObject({
        ir_version: 8,
        opset_import: [{ domain: '', version: opset }],
        graph: {
          name: 'g',
          node: nodes,
          input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 2 }] } } } }],
          output: [{ name: 'y', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 2 }] } } } }],
        },
      }),
    ).finish();
  it('lists every unsupported operator with its nodes and the opset, at load', () => {
    const bytes = build([
      { op_type: 'Foo', name: 'a', input: ['x'], output: ['t'] },
      { op_type: 'Bar', name: 'b', input: ['t'], output: ['u'] },
      { op_type: 'Foo', name: 'c', input: ['u'], output: ['y'] },
    ]);
    expect(() => loadOnnxSync(bytes)).toThrow(/unsupported operators \(opset 13\):\n {2}Foo: a, c\n {2}Bar: b/);
  });
  it('refuses opsets outside 7..18 and undefined inputs', () => {
    expect(() => loadOnnxSync(build([{ op_type: 'Relu', input: ['x'], output: ['y'] }], 19))).toThrow(
      /opset 19.*7 through 18/,
    );
    expect(() => loadOnnxSync(build([{ op_type: 'Relu', name: 'r', input: ['nope'], output: ['y'] }]))).toThrow(
      /reads 'nope'/,
    );
  });
  it('survives 10,000 mutated model files: each loads and runs or fails with an OnnxError', async () => {
    const seeds = ['cnn_bn', 'lstm_text', 'transformer_encoder', 'conv1d_timeseries'].map((n) => ({
      bytes: readFileSync(join(ROOT, n, 'model.onnx')),
      feed: feedOf(join(ROOT, n)),
    }));
    let state = 12345;
    const rand = (n: number): number => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state % n;
    };
    let loaded = 0;
    for (let trial = 0; trial < 10_000; trial++) {
      const seed = seeds[trial % seeds.length];
      const bytes = Uint8Array.from(seed.bytes);
      const edits = 1 + rand(4);
      for (let e = 0; e < edits; e++) {
        const at = rand(bytes.length);
        const kind = rand(3);
        if (kind === 0) bytes[at] = rand(256);
        else if (kind === 1) bytes[at] ^= 1 << rand(8);
        else bytes[at] = [0, 1, 0x7f, 0x80, 0xff][rand(5)];
      }
      try {
        const s = loadOnnxSync(bytes, { limits: { maxActivationBytes: 2 ** 26, maxFlops: 1e9 } });
        loaded++;
        if (trial % 10 === 0) {
          const name = s.inputs[0]?.name;
          if (name) s.runSync({ [name]: seed.feed });
        }
        s.release();
      } catch (e) {
        if (!(e instanceof Error) || !/OnnxError|RangeError|TypeError/.test(e.name))
          throw new Error(`trial ${trial}: ${String(e)}`);
        expect(e.message.length).toBeGreaterThan(0);
      }
    }
    expect(loaded).toBeGreaterThan(0);
  }, 300_000);
});

describe('erf', () => {
  it('matches Math-level values and rejects non-tensors naming the op', async () => {
    const { erf } = await import('../src/index.js');
    const xs = [-3, -1, -0.4, -1e-6, 0, 1e-6, 0.3, 0.5, 1, 2.5];
    // erf from its series / continued values (double precision reference).
    const ref = [
      -0.9999779095, -0.8427007929, -0.428392355, -1.1283791671e-6, 0, 1.1283791671e-6, 0.3286267595, 0.5204998778,
      0.8427007929, 0.999593048,
    ];
    const y = erf(new Tensor(Float32Array.from(xs), [xs.length]));
    ref.forEach((r, i) => expect(Math.abs(y.data[i] - r)).toBeLessThan(2e-7 + 1e-6 * Math.abs(r)));
    expect(() => erf(5 as unknown as Tensor)).toThrow(/erf/);
    expect(() => erf(new Tensor(new Int32Array(2), [2]))).toThrow(/erf/);
  });
});

describe('loadOnnx bad input', () => {
  it('rejects a non-model source, garbage bytes and a missing file clearly', async () => {
    await expect(loadOnnx(42 as unknown as string)).rejects.toThrow(
      /source must be a path, a Uint8Array or an ArrayBuffer/,
    );
    expect(() => loadOnnxSync(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(
      /not a valid ONNX model|no graph/,
    );
    expect(() => loadOnnxSync(new Uint8Array(0))).toThrow(/no graph/);
    await expect(loadOnnx('/nonexistent/model.onnx')).rejects.toThrow(/ENOENT/);
  });
});

describe('examples/onnx.ts', () => {
  it('loads the PyTorch export, fine-tunes it, saves, exports back and matches onnxruntime', () => {
    const r = runExample('examples/onnx.ts', ['--quick'], { timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const after = Number(/after two epochs of fit: ([\d.]+)%/.exec(r.stdout)?.[1]);
    // Measured 73.8% on 2,000 subset images (from 9.4% untrained).
    expect(after).toBeGreaterThan(60);
    expect(r.stdout).toContain('same predictions true');
    const diff = Number(/largest difference from ours ([\d.e+-]+)/.exec(r.stdout)?.[1]);
    expect(diff).toBeLessThan(1e-4);
  });
});

describe('masks computed from input data', () => {
  it('Where(Equal(ids, 0), -inf, scores) then Softmax: exact zeros, no NaN, as an exported attention mask', () => {
    const ModelProto = onnxType('ModelProto');
    const scalar = (name: string, type: number, raw: Uint8Array) => ({
      name,
      dims: [],
      data_type: type,
      raw_data: raw,
    });
    const bytes = ModelProto.encode(
      ModelProto.fromObject({
        ir_version: 8,
        opset_import: [{ domain: '', version: 13 }],
        graph: {
          name: 'mask',
          node: [
            { op_type: 'Equal', input: ['ids', 'zero'], output: ['pad'] },
            { op_type: 'Where', input: ['pad', 'neg_inf', 'scores'], output: ['masked'] },
            { op_type: 'Softmax', input: ['masked'], output: ['p'], attribute: [{ name: 'axis', i: -1, type: 2 }] },
          ],
          initializer: [
            scalar('zero', 7, new Uint8Array(8)),
            scalar('neg_inf', 1, new Uint8Array(Float32Array.of(-Infinity).buffer)),
          ],
          input: [
            {
              name: 'ids',
              type: { tensor_type: { elem_type: 7, shape: { dim: [{ dim_param: 'n' }, { dim_value: 5 }] } } },
            },
            {
              name: 'scores',
              type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'n' }, { dim_value: 5 }] } } },
            },
          ],
          output: [
            {
              name: 'p',
              type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'n' }, { dim_value: 5 }] } } },
            },
          ],
        },
      }),
    ).finish();
    const s = loadOnnxSync(bytes);
    const ids = [
      [7, 3, 9, 0, 0],
      [4, 0, 2, 2, 0],
    ];
    const scores = Float32Array.from({ length: 10 }, (_, i) => Math.sin(i) * 3);
    const run = () =>
      s.runSync({ ids: { data: Int32Array.from(ids.flat()), dims: [2, 5] }, scores: { data: scores, dims: [2, 5] } }).p;
    for (const p of [run(), run()]) {
      for (let r = 0; r < 2; r++) {
        const keep = ids[r].map((v) => v !== 0);
        const e = keep.map((k, j) => (k ? Math.exp(scores[r * 5 + j]) : 0));
        const total = e.reduce((a, b) => a + b, 0);
        e.forEach((v, j) => expect(p.data[r * 5 + j]).toBeCloseTo(v / total, 6));
      }
      expect(p.data.every((v) => Number.isFinite(v))).toBe(true);
    }
  });
});

/** A float32 initializer (TensorProto fields) for the hand-built graphs below. */
function f32(name: string, dims: number[], values: number[]) {
  return { name, dims, data_type: 1, raw_data: new Uint8Array(Float32Array.from(values).buffer) };
}

describe('attention written as nodes runs on the fused kernel', () => {
  // PyTorch 1.13's MultiheadAttention export: Q divided by sqrt(d), K^T = Transpose(K', [1, 2, 0])
  // of a [L, batch*heads, d] tensor, an additive mask, Softmax(-1), MatMul with V.
  const ModelProto = onnxType('ModelProto');
  const input = (name: string, dims: number[]) => ({
    name,
    type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => ({ dim_value: d })) } } },
  });
  const mask = Array.from({ length: 25 }, (_, i) => (i % 7 === 3 ? -Infinity : Math.cos(i)));
  const graph = (alsoScores: boolean) =>
    ModelProto.encode(
      ModelProto.fromObject({
        ir_version: 8,
        opset_import: [{ domain: '', version: 14 }],
        graph: {
          name: 'attn',
          node: [
            { op_type: 'Div', input: ['q', 'root_d'], output: ['qs'] },
            {
              op_type: 'Transpose',
              input: ['kx'],
              output: ['kt'],
              attribute: [{ name: 'perm', ints: [1, 2, 0], type: 7 }],
            },
            { op_type: 'MatMul', input: ['qs', 'kt'], output: ['s'] },
            { op_type: 'Add', input: ['s', 'mask'], output: ['sm'] },
            { op_type: 'Softmax', input: ['sm'], output: ['p'], attribute: [{ name: 'axis', i: -1, type: 2 }] },
            { op_type: 'MatMul', input: ['p', 'v'], output: ['o'] },
          ],
          initializer: [f32('root_d', [], [2]), f32('mask', [5, 5], mask)],
          input: [input('q', [2, 5, 4]), input('kx', [5, 2, 4]), input('v', [2, 5, 3])],
          output: [
            { name: 'o', type: { tensor_type: { elem_type: 1 } } },
            ...(alsoScores ? [{ name: 'p', type: { tensor_type: { elem_type: 1 } } }] : []),
          ],
        },
      }),
    ).finish();
  const q = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i * 0.7));
  const kx = Float32Array.from({ length: 40 }, (_, i) => Math.cos(i * 0.3));
  const v = Float32Array.from({ length: 30 }, (_, i) => Math.sin(i * 1.3));
  // float64 reference: K[b, j, c] = kx[j, b, c].
  const want = new Float64Array(30);
  for (let b = 0; b < 2; b++)
    for (let i = 0; i < 5; i++) {
      const s = Array.from({ length: 5 }, (_, j) => {
        let dot = 0;
        for (let c = 0; c < 4; c++) dot += (q[(b * 5 + i) * 4 + c] / 2) * kx[(j * 2 + b) * 4 + c];
        return dot + mask[i * 5 + j];
      });
      const m = Math.max(...s);
      const e = s.map((x) => Math.exp(x - m));
      const t = e.reduce((a, x) => a + x, 0);
      for (let c = 0; c < 3; c++)
        want[(b * 5 + i) * 3 + c] = e.reduce((a, x, j) => a + (x / t) * v[(b * 5 + j) * 3 + c], 0);
    }
  const feeds = { q: { data: q, dims: [2, 5, 4] }, kx: { data: kx, dims: [5, 2, 4] }, v: { data: v, dims: [2, 5, 3] } };

  it('matched: one attention kernel call, no softmax, the same values', () => {
    const s = loadOnnxSync(graph(false));
    const report = profile(() => s.runSync(feeds));
    const ops = new Set(report.rows().map((r) => r.op));
    expect(ops.has('attention')).toBe(true);
    expect(ops.has('softmax')).toBe(false);
    const o = s.runSync(feeds).o.data;
    want.forEach((w, i) => expect(Math.abs(o[i] - w)).toBeLessThan(1e-5));
  });

  it('not matched when the weights are an output too: the nodes run as written, same values', () => {
    const s = loadOnnxSync(graph(true));
    const report = profile(() => s.runSync(feeds));
    expect(new Set(report.rows().map((r) => r.op)).has('attention')).toBe(false);
    const o = s.runSync(feeds).o.data;
    want.forEach((w, i) => expect(Math.abs(o[i] - w)).toBeLessThan(1e-5));
  });
});

describe('dense layers written as MatMul + Add [+ exact GELU] run as one linear call', () => {
  it("PyTorch's export of Linear + GELU on a 3-D input: bias and GELU in the GEMM's store, the same values", () => {
    const ModelProto = onnxType('ModelProto');
    const constant = (output: string, v: number) => ({
      op_type: 'Constant',
      output: [output],
      attribute: [{ name: 'value', t: f32('', [], [v]), type: 4 }],
    });
    const W = Array.from({ length: 6 * 5 }, (_, i) => Math.sin(i * 0.9) * 0.5);
    const B = Array.from({ length: 5 }, (_, i) => Math.cos(i) * 0.3);
    const bytes = ModelProto.encode(
      ModelProto.fromObject({
        ir_version: 8,
        opset_import: [{ domain: '', version: 14 }],
        graph: {
          name: 'dense',
          node: [
            { op_type: 'MatMul', input: ['x', 'W'], output: ['mm'] },
            { op_type: 'Add', input: ['b', 'mm'], output: ['y'] },
            constant('root2', Math.SQRT2),
            { op_type: 'Div', input: ['y', 'root2'], output: ['d'] },
            { op_type: 'Erf', input: ['d'], output: ['e'] },
            constant('one', 1),
            { op_type: 'Add', input: ['e', 'one'], output: ['e1'] },
            { op_type: 'Mul', input: ['y', 'e1'], output: ['m'] },
            constant('half', 0.5),
            { op_type: 'Mul', input: ['m', 'half'], output: ['out'] },
          ],
          initializer: [f32('W', [6, 5], W), f32('b', [5], B)],
          input: [
            {
              name: 'x',
              type: {
                tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 2 }, { dim_value: 3 }, { dim_value: 6 }] } },
              },
            },
          ],
          output: [{ name: 'out', type: { tensor_type: { elem_type: 1 } } }],
        },
      }),
    ).finish();
    const s = loadOnnxSync(bytes);
    const x = Float32Array.from({ length: 36 }, (_, i) => Math.sin(i * 0.37) * 2);
    const feeds = { x: { data: x, dims: [2, 3, 6] } };
    const report = profile(() => s.runSync(feeds));
    const ops = report.rows().map((r) => r.op);
    expect(ops).toContain('gemm');
    expect(ops).not.toContain('unary');
    expect(ops).not.toContain('binary');
    const o = s.runSync(feeds).out.data;
    // float64: gelu(x W + b), erf by its series (|z| < 3 here).
    const erf = (z: number): number => {
      let sum = 0;
      let term = z;
      for (let n = 0; n < 60; n++) {
        sum += term / (2 * n + 1);
        term *= (-z * z) / (n + 1);
      }
      return (2 / Math.sqrt(Math.PI)) * sum;
    };
    for (let r = 0; r < 6; r++)
      for (let j = 0; j < 5; j++) {
        let y = B[j];
        for (let k = 0; k < 6; k++) y += x[r * 6 + k] * Math.fround(W[k * 5 + j]);
        const want = 0.5 * y * (1 + erf(y / Math.SQRT2));
        expect(Math.abs(o[r * 5 + j] - want)).toBeLessThan(1e-5);
      }
  });
});

describe('OnnxSession.prepareInference', () => {
  it('bf16 and int8 dense products on an exported MLP, refused past maxRelativeError, float32 restores it bitwise', async () => {
    const net = new Sequential(
      new Linear(20, 64, { activation: 'relu', init: { seed: 1 } }),
      new Linear(64, 5, { init: { seed: 2 } }),
    );
    const s = loadOnnxSync(exportOnnxBytes(net, { inputShape: [20] }).bytes);
    const x = randn([16, 20], { seed: 3 });
    const exact = s.runSync({ input: x }).output.data.slice();
    const bf16 = await s.prepareInference({ precision: 'bf16', validation: { feeds: { input: x } } });
    expect(bf16.weights).toBe(2);
    expect(bf16.relativeError?.output).toBeGreaterThan(0);
    expect(bf16.relativeError?.output).toBeLessThan(0.01);
    const int8 = await s.prepareInference({ precision: 'int8', validation: { feeds: { input: x } } });
    expect(int8.relativeError?.output).toBeLessThan(0.03);
    const int8Out = s.runSync({ input: x }).output.data.slice();
    await expect(
      s.prepareInference({ precision: 'bf16', validation: { feeds: { input: x }, maxRelativeError: 1e-9 } }),
    ).rejects.toThrow(/bf16 changes output 'output' by .* more than maxRelativeError 1e-9; the session is unchanged/);
    expect(Array.from(s.runSync({ input: x }).output.data)).toEqual(Array.from(int8Out));
    await s.prepareInference({ precision: 'float32' });
    expect(Array.from(s.runSync({ input: x }).output.data)).toEqual(Array.from(exact));
    await expect(s.prepareInference({ precision: 'fp16' as never })).rejects.toThrow(
      /precision must be 'bf16', 'int8' or 'float32'/,
    );
  });
});

describe('GatherElements on indices from input data', () => {
  it('gathers along the axis and refuses an out-of-range index when it runs', () => {
    const ModelProto = onnxType('ModelProto');
    const io = (name: string, type: number) => ({
      name,
      type: { tensor_type: { elem_type: type, shape: { dim: [{ dim_value: 2 }, { dim_value: 3 }] } } },
    });
    const s = loadOnnxSync(
      ModelProto.encode(
        ModelProto.fromObject({
          ir_version: 8,
          opset_import: [{ domain: '', version: 13 }],
          graph: {
            name: 'ge',
            node: [
              {
                op_type: 'GatherElements',
                input: ['x', 'i'],
                output: ['y'],
                attribute: [{ name: 'axis', i: 0, type: 2 }],
              },
            ],
            input: [io('x', 1), io('i', 7)],
            output: [io('y', 1)],
          },
        }),
      ).finish(),
    );
    const x = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), dims: [2, 3] };
    const run = (i: number[]) => s.runSync({ x, i: { data: Int32Array.from(i), dims: [2, 3] } }).y;
    expect(Array.from(run([1, 0, -1, 0, 1, -2]).data)).toEqual([4, 2, 6, 1, 5, 3]);
    // Index 2 on an axis of 2 would read the next column's row in a flat gather: refused.
    expect(() => run([2, 0, 0, 0, 0, 0])).toThrow(/outside|out of range|vocabulary/);
    expect(() => run([0, 0, 0, 0, 0, -3])).toThrow(/outside|out of range|vocabulary/);
    expect(Array.from(run([0, 0, 0, 1, 1, 1]).data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('external data', () => {
  const ModelProto = onnxType('ModelProto');
  // y = x W^T + b with W [3, 4] and b [3] kept in `file` at the given offsets.
  function write(dir: string, location: string, offsets = { w: 0, b: 48 }): string {
    const w = Float32Array.from({ length: 12 }, (_, i) => i / 10 - 0.5);
    const b = Float32Array.from([0.1, -0.2, 0.3]);
    const blob = new Uint8Array(64);
    // The file always holds W at 0 and b at 48; `offsets` is what the model claims.
    blob.set(new Uint8Array(w.buffer), 0);
    blob.set(new Uint8Array(b.buffer), 48);
    writeFileSync(join(dir, 'weights.bin'), blob);
    const ext = (offset: number, length: number) => ({
      data_location: 1,
      external_data: [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(length) },
      ],
    });
    const bytes = ModelProto.encode(
      ModelProto.fromObject({
        ir_version: 8,
        opset_import: [{ domain: '', version: 13 }],
        graph: {
          name: 'ext',
          node: [
            { op_type: 'Gemm', input: ['x', 'W', 'B'], output: ['y'], attribute: [{ name: 'transB', i: 1, type: 2 }] },
          ],
          initializer: [
            { name: 'W', dims: [3, 4], data_type: 1, ...ext(offsets.w, 48) },
            { name: 'B', dims: [3], data_type: 1, ...ext(offsets.b, 12) },
          ],
          input: [
            {
              name: 'x',
              type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'n' }, { dim_value: 4 }] } } },
            },
          ],
          output: [
            {
              name: 'y',
              type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'n' }, { dim_value: 3 }] } } },
            },
          ],
        },
      }),
    ).finish();
    const path = join(dir, 'model.onnx');
    writeFileSync(path, bytes);
    return path;
  }
  it('reads initializers from a file next to the model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-onnx-ext-'));
    try {
      const s = await loadOnnx(write(dir, 'weights.bin'));
      const y = s.runSync({ x: new Tensor(Float32Array.from([1, 2, 3, 4]), [1, 4]) }).y;
      // row j of W is (4j .. 4j+3)/10 - 0.5
      const want = [0, 1, 2].map(
        (j) => [0, 1, 2, 3].reduce((a, k) => a + (k + 1) * ((4 * j + k) / 10 - 0.5), 0) + [0.1, -0.2, 0.3][j],
      );
      want.forEach((v, j) => expect(y.data[j]).toBeCloseTo(v, 5));
      // From bytes there is no folder to read it from.
      expect(() => loadOnnxSync(readFileSync(join(dir, 'model.onnx')))).toThrow(
        /external file; load the model from a path/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('refuses locations outside the folder, missing files and ranges past the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-onnx-ext-'));
    try {
      await expect(loadOnnx(write(dir, '../weights.bin'))).rejects.toThrow(
        /outside the model's folder|not found next to the model/,
      );
      await expect(loadOnnx(write(dir, '/etc/passwd'))).rejects.toThrow(/is absolute/);
      await expect(loadOnnx(write(dir, 'nope.bin'))).rejects.toThrow(/'nope.bin' not found next to the model/);
      await expect(loadOnnx(write(dir, 'weights.bin', { w: 0, b: 60 }))).rejects.toThrow(/lie past the end/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Dropout in training mode', () => {
  // training_mode true is refused unless the ratio is 0 and known at load: any other ratio
  // draws random masks that no other runtime reproduces.
  const ModelProto = onnxType('ModelProto');
  const model = (ratio: number | null) =>
    ModelProto.encode(
      ModelProto.fromObject({
        ir_version: 8,
        opset_import: [{ domain: '', version: 13 }],
        graph: {
          name: 'dropout',
          node: [{ op_type: 'Dropout', input: ['x', ratio === null ? 'r_in' : 'r', 't'], output: ['y', 'mask'] }],
          initializer: [
            ...(ratio === null ? [] : [f32('r', [], [ratio])]),
            { name: 't', dims: [], data_type: 9, raw_data: Uint8Array.of(1) },
          ],
          input: [
            {
              name: 'x',
              type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 2 }, { dim_value: 3 }] } } },
            },
            ...(ratio === null ? [{ name: 'r_in', type: { tensor_type: { elem_type: 1, shape: { dim: [] } } } }] : []),
          ],
          output: [
            { name: 'y', type: { tensor_type: { elem_type: 1 } } },
            { name: 'mask', type: { tensor_type: { elem_type: 9 } } },
          ],
        },
      }),
    ).finish();

  it('ratio 0 keeps every value and a mask of ones; other ratios are refused at load, by name', () => {
    const x = Float32Array.from([1, -2, 3, -4, 5, -6]);
    const out = loadOnnxSync(model(0)).runSync({ x: { data: x, dims: [2, 3] } });
    expect(Array.from(out.y.data)).toEqual(Array.from(x));
    expect(Array.from(out.mask.data)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(() => loadOnnxSync(model(0.5))).toThrow(
      /Dropout \(node .*\): training_mode = true runs only with a ratio of 0 known at load \(other ratios draw random masks\), got 0\.5/,
    );
    expect(() => loadOnnxSync(model(null))).toThrow(/got a ratio computed from input data/);
  });
});

describe('BatchNormalization in training mode', () => {
  // training_mode = 1 normalises with the batch's statistics, also right after a Conv (whose
  // inference-time fold with the running statistics must not apply), and reports ONNX's
  // running statistics: input * momentum + batch * (1 - momentum), variances biased.
  const ModelProto = onnxType('ModelProto');
  const model = (runningOutputs: boolean) =>
    ModelProto.encode(
      ModelProto.fromObject({
        ir_version: 8,
        opset_import: [{ domain: '', version: 15 }],
        graph: {
          name: 'bn_train',
          node: [
            { op_type: 'Conv', input: ['x', 'w'], output: ['c'] },
            {
              op_type: 'BatchNormalization',
              input: ['c', 'scale', 'b', 'mean', 'var'],
              output: runningOutputs ? ['y', 'rm', 'rv'] : ['y'],
              attribute: [
                { name: 'training_mode', i: 1, type: 2 },
                { name: 'momentum', f: 0.75, type: 1 },
              ],
            },
          ],
          initializer: [
            f32('w', [2, 2, 1, 1], [1, 0, 0, 1]),
            f32('scale', [2], [1, 2]),
            f32('b', [2], [0, 1]),
            f32('mean', [2], [0, 0]),
            f32('var', [2], [1, 1]),
          ],
          input: [
            {
              name: 'x',
              type: { tensor_type: { elem_type: 1, shape: { dim: [2, 2, 1, 3].map((d) => ({ dim_value: d })) } } },
            },
          ],
          output: ['y', ...(runningOutputs ? ['rm', 'rv'] : [])].map((name) => ({
            name,
            type: { tensor_type: { elem_type: 1 } },
          })),
        },
      }),
    ).finish();
  const x = Float32Array.from([5, 6, 7, 1, 2, 3, 8, 9, 10, 4, 5, 6]); // [2, 2, 1, 3]
  const channel = (c: number): number[] =>
    [0, 1].flatMap((n) => Array.from(x.subarray((n * 2 + c) * 3, (n * 2 + c) * 3 + 3)));

  it('normalises by the batch, after a Conv too, and updates the running statistics as ONNX', () => {
    for (const withRunning of [false, true]) {
      const out = loadOnnxSync(model(withRunning)).runSync({ x: { data: x, dims: [2, 2, 1, 3] } });
      for (let c = 0; c < 2; c++) {
        const v = channel(c);
        const m = v.reduce((a, b) => a + b, 0) / v.length;
        const variance = v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length;
        const got = [0, 1].flatMap((n) => Array.from(out.y.data.subarray((n * 2 + c) * 3, (n * 2 + c) * 3 + 3)));
        got.forEach((g, i) =>
          expect(g).toBeCloseTo(((v[i] - m) / Math.sqrt(variance + 1e-5)) * [1, 2][c] + [0, 1][c], 4),
        );
        if (withRunning) {
          expect(out.rm.data[c]).toBeCloseTo(0.25 * m, 5);
          expect(out.rv.data[c]).toBeCloseTo(0.75 + 0.25 * variance, 5);
        }
      }
    }
  });
});

describe('Resize tf_crop_and_resize', () => {
  it('resamples the region of interest; positions outside the input get extrapolation_value', () => {
    const ModelProto = onnxType('ModelProto');
    const bytes = ModelProto.encode(
      ModelProto.fromObject({
        ir_version: 8,
        opset_import: [{ domain: '', version: 13 }],
        graph: {
          name: 'crop',
          node: [
            {
              op_type: 'Resize',
              input: ['x', 'roi', '', 'sizes'],
              output: ['y'],
              attribute: [
                { name: 'mode', s: new TextEncoder().encode('linear'), type: 3 },
                { name: 'coordinate_transformation_mode', s: new TextEncoder().encode('tf_crop_and_resize'), type: 3 },
                { name: 'extrapolation_value', f: 9, type: 1 },
              ],
            },
          ],
          initializer: [
            f32('roi', [8], [0, 0, 0, -0.5, 1, 1, 1, 1.5]),
            { name: 'sizes', dims: [4], data_type: 7, int64_data: [1, 1, 1, 5] },
          ],
          input: [
            {
              name: 'x',
              type: { tensor_type: { elem_type: 1, shape: { dim: [1, 1, 1, 4].map((d) => ({ dim_value: d })) } } },
            },
          ],
          output: [{ name: 'y', type: { tensor_type: { elem_type: 1 } } }],
        },
      }),
    ).finish();
    // Positions -1.5, 0, 1.5, 3, 4.5 on an axis of 4: the first and last fall outside.
    const y = loadOnnxSync(bytes).runSync({ x: { data: Float32Array.from([10, 20, 40, 80]), dims: [1, 1, 1, 4] } }).y;
    expect(Array.from(y.data)).toEqual([9, 10, 30, 80, 9]);
  });
});
