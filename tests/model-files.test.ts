/**
 * Model files and parameters (issue 7): summary, the layer registry, save/load round trips
 * for every layer type (bitwise), weights-only files and PyTorch state dicts with their load
 * reports, checksums, checkpoints restoring into the same process, ModelCheckpoint, and
 * fine-tuning (freeze, replace a head, parameter groups). The fuzz, SIGKILL and new-process
 * resume tests have their own files.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Adam,
  DataLoader,
  Dropout,
  ELU,
  Flatten,
  GELU,
  Identity,
  LeakyReLU,
  Linear,
  LogSoftmax,
  Model,
  ModelCheckpoint,
  ModelFileError,
  Module,
  ReLU,
  SELU,
  SGD,
  Sequential,
  SiLU,
  TABLE_ACTIVATION_LAYERS,
  Sigmoid,
  Softmax,
  Softplus,
  StepLR,
  Tanh,
  Tensor,
  TensorDataset,
  configReaders,
  decodeModelFile,
  defaultGenerator,
  deserializeModule,
  encodeCheckpoint,
  encodeModel,
  formatCheckpointPath,
  formatLoadReport,
  l1,
  l2,
  loadCheckpoint,
  loadModel,
  loadWeights,
  manualSeed,
  noGrad,
  randn,
  registerLayer,
  saveCheckpoint,
  saveModel,
  saveWeights,
  serializeModule,
  summarize,
  crossEntropy,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'axon-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => join(dir, name);

function forward(m: Module, x: Tensor): Float32Array {
  m.eval();
  return noGrad(() => m.forward(x)).data as Float32Array;
}

function bitwiseEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** A module of each built-in layer type, with non-default settings where there are any. */
function everyLayer(): Sequential {
  return new Sequential(
    new Flatten(1, -1),
    new Linear(12, 16, {
      activation: 'leakyRelu',
      activationParam: 0.2,
      weightInit: 'heNormal',
      biasInit: 'zeros',
      weightRegularizer: l2(1e-4),
      biasRegularizer: l1(1e-5),
    }),
    new Dropout(0.3),
    new Linear(16, 16, { activation: 'gelu' }),
    new LeakyReLU(0.05),
    new ELU(0.7),
    new SELU(),
    new GELU('tanh'),
    new Sigmoid(),
    new Tanh(),
    new Softplus(2),
    new SiLU(),
    new Identity(),
    new ReLU(),
    new Linear(16, 8, { bias: false, activation: 'softplus', activationParam: 1.5 }),
    new Linear(8, 5, { activation: 'selu' }),
    new Softmax(-1),
    new LogSoftmax(1),
    // Every parameter-free activation layer of the op table (Hardswish, Mish, ...).
    ...Object.values(TABLE_ACTIVATION_LAYERS).map((cls) => new cls()),
  );
}

describe('summary', () => {
  it('lists every layer with output shape, parameters, trainable flag and FLOPs per sample', () => {
    manualSeed(1);
    const net = new Sequential(new Linear(784, 256, { activation: 'relu' }), new Dropout(0.2), new Linear(256, 10));
    const model = new Model(net);
    const s = summarize(net, { inputShape: [784] });
    const rows = Object.fromEntries(s.rows.map((r) => [r.name, r]));
    expect(rows['0'].outputShape).toEqual([-1, 256]);
    expect(rows['1'].outputShape).toEqual([-1, 256]);
    expect(rows['2'].outputShape).toEqual([-1, 10]);
    expect(rows['0'].params).toBe(784 * 256 + 256);
    expect(rows['2'].params).toBe(256 * 10 + 10);
    expect(rows['0'].trainable).toBe('yes');
    expect(rows['1'].trainable).toBe('');
    // One GEMM per Linear: 2 * in * out per sample (bias and relu are fused into its store).
    expect(rows['0'].flops).toBe(2 * 784 * 256);
    expect(rows['2'].flops).toBe(2 * 256 * 10);
    expect(s.flopsPerSample).toBe(2 * 784 * 256 + 2 * 256 * 10);
    expect(s.totalParams).toBe(784 * 256 + 256 + 2570);
    expect(s.trainableParams).toBe(s.totalParams);
    expect(s.memoryBytes).toBe(4 * s.totalParams);
    const text = model.summary([784]);
    for (const want of [
      'Linear',
      'Dropout',
      '[batch,256]',
      '200,960',
      'Total params:',
      'Trainable params:',
      'Non-trainable params: 0',
      'Weights and buffers:',
      'Forward FLOPs/sample: 406.53 kFLOP',
    ])
      expect(text).toContain(want);
    // Frozen parameters move to the non-trainable total; the layer shows 'no'.
    model.freeze(0);
    const frozen = summarize(net, { inputShape: [784] });
    expect(frozen.nonTrainableParams).toBe(784 * 256 + 256);
    expect(frozen.rows.find((r) => r.name === '0')?.trainable).toBe('no');
    net.layers[0].parameters()[1].trainable = true;
    expect(summarize(net).rows.find((r) => r.name === '0')?.trainable).toBe('partly');
  });

  it('works without an input shape (no shapes or FLOPs) and explains a bad one', () => {
    const net = new Sequential(new Linear(4, 3), new ReLU());
    const s = summarize(net);
    expect(s.flopsPerSample).toBeNull();
    expect(s.rows.every((r) => r.outputShape === null)).toBe(true);
    expect(s.toString()).toContain('Forward FLOPs/sample: ? (pass an input shape)');
    expect(() => summarize(net, { inputShape: [5] })).toThrow(
      /summary: the forward pass failed for input shape \[1,5\]: Linear\(4, 3\)/,
    );
    expect(() => summarize(net, { inputShape: [0] })).toThrow('summary: inputShape must be positive integers');
    // The forward wrappers are gone afterwards: the module still runs and serialises.
    expect(forward(net, randn([2, 4])).length).toBe(6);
    expect(Object.keys(net)).not.toContain('forward');
  });
});

describe('architecture registry', () => {
  it('round-trips every built-in layer: same config, bitwise-identical predictions', async () => {
    manualSeed(3);
    const net = everyLayer();
    const spec = serializeModule(net);
    const rebuilt = deserializeModule(JSON.parse(JSON.stringify(spec)));
    expect(serializeModule(rebuilt)).toEqual(spec);
    await saveModel(net, file('every.axon'));
    const loaded = await loadModel(file('every.axon'));
    expect(serializeModule(loaded)).toEqual(spec);
    const x = randn([7, 3, 4]);
    expect(bitwiseEqual(forward(loaded, x), forward(net, x))).toBe(true);
    // Settings survive: regularizers, initialisers, activation parameters.
    const l = (loaded as Sequential).layers[1] as Linear;
    expect(l.weight.regularizer?.config).toEqual({ l2: 1e-4 });
    expect(l.bias?.regularizer?.config).toEqual({ l1: 1e-5 });
    expect(l.activationParam).toBe(0.2);
    expect(l.weightInit.name).toBe('heNormal');
    expect(((loaded as Sequential).layers[2] as Dropout).p).toBe(0.3);
    expect(((loaded as Sequential).layers[14] as Linear).bias).toBeNull();
  });

  it('custom layers save and load once registered; unregistered ones are named in the error', async () => {
    class Scale extends Module {
      factor: number;
      constructor(config: { factor: number }) {
        super();
        this.factor = configReaders.field(
          config as Record<string, unknown>,
          'factor',
          configReaders.isNumber,
          'a number',
        );
      }
      forward(x: Tensor): Tensor {
        return x.mul(this.factor);
      }
      override getConfig(): Record<string, unknown> {
        return { factor: this.factor };
      }
    }
    const net = new Sequential(new Linear(3, 2), new Scale({ factor: 2.5 }));
    expect(() => serializeModule(net)).toThrow(
      /model\.1 is a Scale, which is not registered; call registerLayer\(Scale\)/,
    );
    registerLayer(Scale);
    await saveModel(net, file('custom.axon'));
    const loaded = (await loadModel(file('custom.axon'))) as Sequential;
    expect((loaded.layers[1] as Scale).factor).toBe(2.5);
    const x = randn([4, 3]);
    expect(bitwiseEqual(forward(loaded, x), forward(net, x))).toBe(true);
    expect(() => deserializeModule({ class: 'NoSuchLayer', config: {} })).toThrow(
      "deserializeModule: model is a 'NoSuchLayer', which is not a registered layer",
    );
    expect(() => deserializeModule({ class: 'Scale', config: { factor: 'big' } })).toThrow(
      'deserializeModule: model (Scale): config.factor must be a number, got "big"',
    );
    expect(() => registerLayer(class Other extends Scale {}, { name: 'Scale' })).toThrow(
      "'Scale' is already registered",
    );
  });

  it('rejects bad architecture JSON with the path and the rule', () => {
    const bad: [unknown, RegExp][] = [
      [
        { class: 'Linear', config: { inFeatures: 0, outFeatures: 3 } },
        /model \(Linear\): Linear: inFeatures must be a positive integer, got 0/,
      ],
      [
        { class: 'Linear', config: { inFeatures: 2.5, outFeatures: 3 } },
        /config\.inFeatures must be a positive integer, got 2\.5/,
      ],
      [
        { class: 'Linear', config: { inFeatures: 2, outFeatures: 3, activation: 'swish' } },
        /config\.activation 'swish' is unknown/,
      ],
      [
        { class: 'Sequential', config: { layers: [{ class: 'ReLU', config: {} }, 7] } },
        /model\.1 must be an object \{ class, config \}/,
      ],
      [{ class: 'Dropout', config: { p: 2 } }, /Dropout: p must be in \[0, 1\], got 2/],
      [
        { class: 'Linear', config: { inFeatures: 2, outFeatures: 3, weightInit: { name: 'bogus', config: {} } } },
        /unknown initializer 'bogus'/,
      ],
      [{ class: '__proto__', config: {} }, /'__proto__', which is not a registered layer/],
      [{ class: 'ReLU' }, /model \(ReLU\) config must be an object/],
    ];
    for (const [spec, msg] of bad) expect(() => deserializeModule(spec)).toThrow(msg);
    let deep: unknown = { class: 'ReLU', config: {} };
    for (let i = 0; i < 100; i++) deep = { class: 'Sequential', config: { layers: [deep] } };
    expect(() => deserializeModule(deep)).toThrow('nesting deeper than 64');
  });
});

describe('model and weights files', () => {
  it('stores the weights as standard safetensors tensors, the architecture and a checksum in metadata', async () => {
    manualSeed(4);
    const net = new Sequential(new Linear(5, 4, { activation: 'relu' }), new Linear(4, 2));
    await saveModel(net, file('plain.axon'), { metadata: { author: 'tests' } });
    const c = decodeModelFile(readFileSync(file('plain.axon')));
    expect([...c.tensors.keys()].sort()).toEqual(['0.bias', '0.weight', '1.bias', '1.weight']);
    expect(c.tensors.get('0.weight')?.shape).toEqual([4, 5]);
    expect(bitwiseEqual(c.tensors.get('1.weight')?.data as Float32Array, net.layers[1].parameters()[0].data)).toBe(
      true,
    );
    expect(c.metadata.author).toBe('tests');
    expect(c.metadata.format).toBe('pt');
    expect(c.metadata['axon.checksum']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(c.architecture?.class).toBe('Sequential');
    expect(() => encodeModel(net, { metadata: { 'axon.checksum': 'x' } })).toThrow(
      "metadata key 'axon.checksum' is reserved",
    );
  });

  it('detects corruption the structural checks cannot see, in weights and in the architecture', async () => {
    const net = new Sequential(new Linear(5, 4, { activation: 'relu' }), new Linear(4, 2));
    const bytes = Buffer.from(encodeModel(net));
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 3] ^= 0x10; // a bit inside the last weight
    expect(() => decodeModelFile(flipped, 'flipped')).toThrow(
      /flipped: checksum mismatch \(the file is corrupt or was modified\)/,
    );
    const text = bytes.toString('latin1');
    const i = text.indexOf('\\"outFeatures\\":4');
    expect(i).toBeGreaterThan(0);
    const edited = Buffer.from(bytes);
    edited.write('5', i + '\\"outFeatures\\":'.length, 'latin1'); // 4 -> 5 keeps the JSON valid
    expect(() => decodeModelFile(edited, 'edited')).toThrow(/edited: checksum mismatch/);
    const wrongVersion = Buffer.from(text.replace('"axon.version":"1"', '"axon.version":"9"'), 'latin1');
    expect(() => decodeModelFile(wrongVersion, 'v9')).toThrow(
      'v9: format version "9" is not supported (this build reads version 1)',
    );
  });

  it('weights-only files: load by name; missing, unexpected and mis-shaped tensors are reported', async () => {
    manualSeed(5);
    const a = new Sequential(new Linear(5, 4, { activation: 'relu' }), new Linear(4, 2));
    await saveWeights(a, file('a.weights'));
    await expect(loadModel(file('a.weights'))).rejects.toThrow('the file holds weights only (no architecture)');
    const b = new Sequential(new Linear(5, 4, { activation: 'relu' }), new Linear(4, 2));
    const report = await loadWeights(b, file('a.weights'));
    expect(report).toEqual({ missing: [], unexpected: [], mismatched: [] });
    const x = randn([3, 5]);
    expect(bitwiseEqual(forward(b, x), forward(a, x))).toBe(true);
    // A different model: strict throws listing every problem; non-strict loads what fits.
    const c = new Sequential(new Linear(5, 4), new Linear(4, 3), new Linear(3, 1));
    await expect(loadWeights(c, file('a.weights'))).rejects.toThrow(
      /missing: 2\.weight, 2\.bias; 1\.bias: expected shape \[3\], got \[2\]; 1\.weight: expected shape \[3,4\], got \[2,4\]\)/,
    );
    const before = Float32Array.from(c.layers[1].parameters()[0].data);
    const r = await loadWeights(c, file('a.weights'), { strict: false });
    expect(r.missing).toEqual(['2.weight', '2.bias']);
    expect(r.mismatched.map((m) => m.name).sort()).toEqual(['1.bias', '1.weight']);
    expect(bitwiseEqual(c.layers[0].parameters()[0].data, a.layers[0].parameters()[0].data)).toBe(true);
    expect(bitwiseEqual(c.layers[1].parameters()[0].data, before)).toBe(true); // mis-shaped: untouched
    expect(formatLoadReport(r)).toBe(
      'missing (2): 2.weight, 2.bias\nmis-shaped: 1.bias expected [3], got [2]\nmis-shaped: 1.weight expected [3,4], got [2,4]',
    );
  });

  it("loads PyTorch state dicts (f32, f16, bf16, f64) with renaming, matching torch's outputs", async () => {
    const fx = JSON.parse(readFileSync('tests/fixtures/torch-mlp.json', 'utf8')) as {
      input: number[];
      inputShape: number[];
      outputs: Record<string, number[]>;
    };
    const x = new Tensor(Float32Array.from(fx.input), fx.inputShape);
    for (const [suffix, dtype, tol] of [
      ['', 'F32', 1e-6],
      ['-f16', 'F16', 1e-6],
      ['-bf16', 'BF16', 1e-6],
      ['-f64', 'F64', 1e-6],
    ] as const) {
      const net = new Sequential(new Linear(6, 5, { activation: 'relu' }), new Linear(5, 3));
      const path = `tests/fixtures/torch-mlp${suffix}.safetensors`;
      // torch's nn.Sequential numbers the ReLU too: its second Linear is '2'.
      const report = await loadWeights(net, path, { strict: false });
      expect(report.missing).toEqual(['1.weight', '1.bias']);
      expect(report.unexpected.sort()).toEqual(['2.bias', '2.weight']);
      await loadWeights(net, path, { rename: { '2.weight': '1.weight', '2.bias': '1.bias' } });
      const y = forward(net, x);
      for (let i = 0; i < y.length; i++) expect(Math.abs(y[i] - fx.outputs[dtype][i])).toBeLessThanOrEqual(tol * 4);
    }
  });
});

describe('checkpoints', () => {
  function setup(seed: number): {
    net: Sequential;
    opt: Adam;
    sched: StepLR;
    loader: DataLoader;
    x: Tensor;
    y: Tensor;
  } {
    manualSeed(seed);
    const net = new Sequential(new Linear(6, 16, { activation: 'relu' }), new Dropout(0.25), new Linear(16, 3));
    const opt = new Adam(net.parameters(), { lr: 0.01 });
    const sched = new StepLR(opt, 3, 0.5);
    const g = new Tensor(
      Float32Array.from({ length: 120 }, (_, i) => Math.sin(i * 1.7)),
      [20, 6],
    );
    const labels = new Tensor(
      Int32Array.from({ length: 20 }, (_, i) => i % 3),
      [20],
    );
    const loader = new DataLoader(new TensorDataset(g, labels), { batchSize: 6, shuffle: true, seed: 11 });
    return { net, opt, sched, loader, x: g, y: labels };
  }

  function steps(s: ReturnType<typeof setup>, n: number, losses: number[]): void {
    for (let i = 0; i < n; i++) {
      let batch = s.loader[Symbol.iterator]().next();
      if (batch.done) batch = s.loader[Symbol.iterator]().next();
      const [xb, yb] = batch.value;
      s.opt.zeroGrad();
      const loss = crossEntropy(s.net.forward(xb), yb as Tensor);
      loss.backward();
      s.opt.step();
      s.sched.step();
      losses.push(loss.item());
    }
  }

  it('restores weights, optimizer moments and steps, scheduler, loader position and every random stream', async () => {
    // The loader iterator above restarts each call at the saved position: one batch per call.
    const straight = setup(21);
    const ls: number[] = [];
    steps(straight, 10, ls);

    const first = setup(21);
    const l1s: number[] = [];
    steps(first, 4, l1s);
    await saveCheckpoint(file('run.ckpt'), {
      model: first.net,
      optimizer: first.opt,
      schedulers: { lr: first.sched },
      loaders: { train: first.loader },
      counters: { step: 4 },
      extra: { note: 'mid-epoch' },
    });
    const second = setup(99); // different init, seed and streams: all must be overwritten
    const info = await loadCheckpoint(file('run.ckpt'), {
      model: second.net,
      optimizer: second.opt,
      schedulers: { lr: second.sched },
      loaders: { train: second.loader },
    });
    expect(info.counters).toEqual({ step: 4 });
    expect(info.extra).toEqual({ note: 'mid-epoch' });
    expect(second.opt.paramGroups[0].lr).toBe(first.opt.paramGroups[0].lr);
    steps(second, 6, l1s);
    expect(l1s).toEqual(ls);
    for (const [a, b] of second.net.parameters().map((p, i) => [p, straight.net.parameters()[i]] as const))
      expect(bitwiseEqual(a.data, b.data)).toBe(true);
    // A checkpoint is also a model file.
    const asModel = await loadModel(file('run.ckpt'));
    expect(serializeModule(asModel)).toEqual(serializeModule(first.net));
  });

  it('refuses a checkpoint that does not fit, changing nothing', async () => {
    const s = setup(1);
    steps(s, 2, []);
    const bytes = encodeCheckpoint({ model: s.net, optimizer: s.opt });
    writeFileSync(file('fit.ckpt'), bytes);
    const other = setup(2);
    const sgd = new SGD(other.net.parameters(), { lr: 0.1 });
    const before = other.net.parameters().map((p) => Float32Array.from(p.data));
    await expect(loadCheckpoint(file('fit.ckpt'), { model: other.net, optimizer: sgd })).rejects.toThrow(
      'optimizer is Adam in the file, SGD here',
    );
    const wider = new Sequential(new Linear(6, 8, { activation: 'relu' }), new Dropout(0.25), new Linear(8, 3));
    await expect(loadCheckpoint(file('fit.ckpt'), { model: wider })).rejects.toThrow(
      'the model does not match the checkpoint (mis-shaped 0.bias, mis-shaped 0.weight, mis-shaped 2.weight)',
    );
    await expect(
      loadCheckpoint(file('fit.ckpt'), { model: other.net, optimizer: other.opt, loaders: { train: other.loader } }),
    ).rejects.toThrow("no state for loader 'train'");
    other.net.parameters().forEach((p, i) => expect(bitwiseEqual(p.data, before[i])).toBe(true));
    await saveModel(other.net, file('not-a-ckpt.axon'));
    await expect(loadCheckpoint(file('not-a-ckpt.axon'), { model: other.net })).rejects.toThrow(ModelFileError);
  });

  it('ModelCheckpoint: every k epochs, keeps the last n, saves the best by the monitored metric; fit resumes exactly', async () => {
    const data = (): [Tensor, Tensor] => {
      const x = new Tensor(
        Float32Array.from({ length: 64 * 4 }, (_, i) => Math.cos(i * 0.37)),
        [64, 4],
      );
      const y = new Tensor(
        Int32Array.from({ length: 64 }, (_, i) => (i * 7) % 3),
        [64],
      );
      return [x, y];
    };
    const build = (): Model => {
      manualSeed(8);
      return new Model(
        new Sequential(new Linear(4, 12, { activation: 'tanh' }), new Dropout(0.1), new Linear(12, 3)),
      ).compile({
        optimizer: 'adam',
        learningRate: 0.02,
        loss: 'sparseCategoricalCrossentropy',
        metrics: ['accuracy'],
      });
    };
    const [x, y] = data();
    const straight = build();
    const hs = await straight.fit(x, y, { epochs: 6, batchSize: 10, verbose: 0, seed: 5, validationSplit: 0.25 });

    // A directory that does not exist yet: ModelCheckpoint creates it, as Keras's does.
    const sub = join(dir, 'ckpts', 'run-1');
    rmSync(join(dir, 'ckpts'), { recursive: true, force: true });
    const cb = new ModelCheckpoint({
      filepath: join(sub, 'epoch-{epoch:02d}.ckpt'),
      bestFilepath: join(sub, 'best.ckpt'),
      every: 1,
      keepLast: 2,
      monitor: 'val_loss',
    });
    const first = build();
    const h1 = await first.fit(x, y, {
      epochs: 3,
      batchSize: 10,
      verbose: 0,
      seed: 5,
      validationSplit: 0.25,
      callbacks: [cb],
    });
    expect(
      readdirSync(sub)
        .filter((f) => f.startsWith('epoch-'))
        .sort(),
    ).toEqual(['epoch-02.ckpt', 'epoch-03.ckpt']);
    expect(readdirSync(sub)).toContain('best.ckpt');
    expect(cb.best).toBe(Math.min(...h1.history.val_loss));

    const resumed = build();
    defaultGenerator().seed(12345); // the checkpoint must restore the global stream too
    await loadCheckpoint(join(sub, 'epoch-03.ckpt'), { model: resumed });
    const h2 = await resumed.fit(x, y, {
      epochs: 6,
      initialEpoch: 3,
      batchSize: 10,
      verbose: 0,
      validationSplit: 0.25,
    });
    expect([...h1.history.loss, ...h2.history.loss]).toEqual(hs.history.loss);
    expect([...h1.history.val_loss, ...h2.history.val_loss]).toEqual(hs.history.val_loss);
    resumed.module
      .parameters()
      .forEach((p, i) => expect(bitwiseEqual(p.data, straight.module.parameters()[i].data)).toBe(true));
  });

  it('formats checkpoint paths', () => {
    expect(formatCheckpointPath('m-{epoch}.ckpt', 3, {})).toBe('m-3.ckpt');
    expect(formatCheckpointPath('m-{epoch:03d}-{val_loss:.3f}.ckpt', 7, { val_loss: 0.12345 })).toBe(
      'm-007-0.123.ckpt',
    );
    expect(() => formatCheckpointPath('{nope}', 1, { loss: 1 })).toThrow("'{nope}' in the path names no log value");
    expect(() => new ModelCheckpoint({})).toThrow('give filepath');
  });
});

describe('fine-tuning', () => {
  const data = (n: number, classes: number): [Tensor, Tensor] => [
    new Tensor(
      Float32Array.from({ length: n * 8 }, (_, i) => Math.sin(i * 0.91) + ((i >> 3) % classes) * 0.3),
      [n, 8],
    ),
    new Tensor(
      Int32Array.from({ length: n }, (_, i) => i % classes),
      [n],
    ),
  ];

  it('frozen layers stay bitwise unchanged through fit; the rest trains', async () => {
    manualSeed(2);
    const model = new Model(
      new Sequential(
        new Linear(8, 16, { activation: 'relu' }),
        new Linear(16, 16, { activation: 'relu' }),
        new Linear(16, 4),
      ),
    );
    model.freeze(0, '1.bias');
    model.compile({
      optimizer: new Adam(model.module.trainableParameters(), { lr: 0.01, weightDecay: 0.01 }),
      loss: 'crossEntropy',
    });
    const before = model.module.parameters().map((p) => Float32Array.from(p.data));
    const [x, y] = data(48, 4);
    await model.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0 });
    const after = model.module.parameters();
    expect(bitwiseEqual(after[0].data, before[0])).toBe(true); // 0.weight
    expect(bitwiseEqual(after[1].data, before[1])).toBe(true); // 0.bias
    expect(bitwiseEqual(after[3].data, before[3])).toBe(true); // 1.bias
    expect(bitwiseEqual(after[2].data, before[2])).toBe(false); // 1.weight trains
    expect(bitwiseEqual(after[4].data, before[4])).toBe(false);
    expect(() => model.freeze('9')).toThrow("freeze: no module or parameter named '9'");
    expect(() => model.freeze(5)).toThrow('freeze: index 5 is out of range for 3 layers');
    // Unfreezing after compile: fit refuses until the optimizer holds the parameters.
    model.unfreeze(0);
    await expect(model.fit(x, y, { epochs: 1, verbose: 0 })).rejects.toThrow(
      "fit: trainable parameter '0.weight' is not in the optimizer (compile again after replacing layers or unfreezing)",
    );
  });

  it('replaces the head and trains parameter groups at their own learning rates', async () => {
    manualSeed(6);
    const model = new Model(new Sequential(new Linear(8, 16, { activation: 'relu' }), new Linear(16, 4)));
    model.compile({ optimizer: 'adam', loss: 'crossEntropy' });
    model.replaceLayer(-1, new Linear(16, 2));
    const [x, y] = data(32, 2);
    await expect(model.fit(x, y, { epochs: 1, verbose: 0 })).rejects.toThrow("'1.weight' is not in the optimizer");
    const body = model.parametersOf(0);
    const head = model.parametersOf('1');
    const opt = new SGD([
      { params: body, lr: 0 },
      { params: head, lr: 0.1 },
    ]);
    model.compile({ optimizer: opt, loss: 'crossEntropy' });
    const bodyBefore = body.map((p) => Float32Array.from(p.data));
    const headBefore = head.map((p) => Float32Array.from(p.data));
    await model.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
    body.forEach((p, i) => expect(bitwiseEqual(p.data, bodyBefore[i])).toBe(true)); // lr 0
    head.forEach((p, i) => expect(bitwiseEqual(p.data, headBefore[i])).toBe(false));
    expect((await model.predict(x)).shape).toEqual([32, 2]);
    expect(() => model.replaceLayer('7', new ReLU())).toThrow("setSubmodule: no module named '7'");
  });

  it('setSubmodule reaches nested children and arrays of modules', () => {
    class Net extends Module {
      enc = new Sequential(new Linear(2, 3), new ReLU());
      heads = [new Linear(3, 1), new Linear(3, 1)];
      forward(x: Tensor): Tensor {
        return this.heads[1].forward(this.enc.forward(x));
      }
    }
    const n = new Net();
    const h = new Linear(3, 1);
    n.setSubmodule('heads.1', h);
    expect(n.heads[1]).toBe(h);
    const e = new Linear(2, 3);
    n.setSubmodule('enc.0', e);
    expect(n.enc.layers[0]).toBe(e);
    expect(n.getSubmodule('enc.0')).toBe(e);
    expect(() => n.setSubmodule('enc.5', e)).toThrow("no module named 'enc.5'");
  });
});
