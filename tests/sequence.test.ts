/**
 * Sequence models end to end: padded batches behave exactly like the sequences run one by one
 * (outputs, final states and gradients), an Embedding + LSTM classifier learns through
 * Model.fit (the recorded-step path, so every sequence op must replay with new tokens and
 * lengths each batch), sequence models save and load with identical predictions, and bad
 * input gets a clear error naming the layer and the shapes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Embedding,
  GRU,
  LastStep,
  Linear,
  LSTM,
  MeanOverTime,
  Model,
  Sequential,
  SimpleRNN,
  Tensor,
  TimeDistributed,
  loadModel,
  manualSeed,
  noGrad,
  saveModel,
  sequenceLengths,
  withLengths,
  deserializeModule,
  serializeModule,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'axon-seq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const wave = (n: number, a: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(a * i + 0.3));

describe('padding and lengths', () => {
  it.each([
    [
      'LSTM bidirectional 2 layers',
      () => new LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true, init: { seed: 1 } }),
    ],
    ['GRU bidirectional', () => new GRU(3, 4, { bidirectional: true, batchFirst: true, init: { seed: 2 } })],
    ['SimpleRNN', () => new SimpleRNN(3, 4, { batchFirst: true, init: { seed: 3 } })],
  ] as const)('%s: a padded batch equals each sequence run alone, gradients included', (_n, make) => {
    const layer = make();
    const lengths = [5, 2, 4];
    const T = 5;
    const data = wave(3 * T * 3, 0.77);
    // Garbage in the padded steps: it must not matter.
    for (let r = 0; r < 3; r++)
      for (let t = lengths[r]; t < T; t++) for (let f = 0; f < 3; f++) data[(r * T + t) * 3 + f] = 50;
    const x = new Tensor(data, [3, T, 3]).setRequiresGrad();
    const batch = layer.run(x, { lengths: new Tensor(Int32Array.from(lengths), [3]) });
    batch.output.sum().add(batch.hn.sum()).backward();
    const batchGrads = layer.parameters().map((p) => Float32Array.from(p.grad!.data as Float32Array));
    layer.zeroGrad();
    const sumGrads = layer.parameters().map((p) => new Float32Array(p.size));
    for (let r = 0; r < 3; r++) {
      const L = lengths[r];
      const one = new Tensor(data.slice(r * T * 3, (r * T + L) * 3), [1, L, 3]);
      const alone = layer.run(one);
      alone.output.sum().add(alone.hn.sum()).backward();
      layer.parameters().forEach((p, i) => sumGrads[i].forEach((_, j) => (sumGrads[i][j] += p.grad!.data[j])));
      layer.zeroGrad();
      const H = batch.output.shape[2];
      for (let t = 0; t < T; t++)
        for (let h = 0; h < H; h++) {
          const got = batch.output.data[(r * T + t) * H + h];
          if (t < L) expect(got).toBeCloseTo(alone.output.data[t * H + h], 5);
          else expect(got).toBe(0);
        }
      const D = batch.hn.shape[0];
      for (let d = 0; d < D; d++)
        for (let h = 0; h < 4; h++) expect(batch.hn.data[(d * 3 + r) * 4 + h]).toBeCloseTo(alone.hn.data[d * 4 + h], 5);
      // No gradient reaches the padded inputs.
      for (let t = L; t < T; t++) for (let f = 0; f < 3; f++) expect(x.grad!.data[(r * T + t) * 3 + f]).toBe(0);
    }
    batchGrads.forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(sumGrads[i][j], 4)));
  });

  it('Embedding with paddingIdx carries the lengths to LSTM, LastStep and MeanOverTime', () => {
    manualSeed(4);
    const tokens = new Tensor(Int32Array.from([3, 1, 4, 0, 0, 5, 9, 2, 6, 0]), [2, 5]);
    expect(Array.from(sequenceLengths(tokens).data)).toEqual([3, 4]);
    const emb = new Embedding(10, 4, { paddingIdx: 0 });
    const lstm = new LSTM(4, 3, { batchFirst: true });
    const seq = lstm.forward(emb.forward(tokens));
    const last = new LastStep().forward(seq);
    const hn = new LSTM(4, 3, { batchFirst: true, returnSequences: false });
    hn.loadStateDict(lstm.stateDict());
    const h = hn.forward(emb.forward(tokens));
    // The last valid step of the output is the final hidden state.
    for (let i = 0; i < 6; i++) expect(last.data[i]).toBeCloseTo(h.data[i], 6);
    const mean = new MeanOverTime().forward(seq);
    for (let f = 0; f < 3; f++) {
      let s = 0;
      for (let t = 0; t < 3; t++) s += seq.data[t * 3 + f];
      expect(mean.data[f]).toBeCloseTo(s / 3, 6);
    }
    // TimeDistributed keeps them too.
    const td = new TimeDistributed(new Linear(3, 2)).forward(seq);
    expect(td.shape).toEqual([2, 5, 2]);
    expect(new LastStep().forward(td).shape).toEqual([2, 2]);
    const plain = withLengths(new Tensor(new Float32Array(2 * 5 * 4), [2, 5, 4]), Int32Array.from([5, 1]));
    expect(new LSTM(4, 2, { batchFirst: true }).forward(plain).shape).toEqual([2, 5, 2]);
  });
});

/** Token sequences of random length 3..12 over tokens 2..19; label 1 when token 7 appears. */
function contains7(n: number, seed: number): [Tensor, Tensor] {
  let s = seed >>> 0;
  const rnd = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const T = 12;
  const x = new Int32Array(n * T);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const len = 3 + Math.floor(rnd() * 10);
    const want = i % 2;
    for (let t = 0; t < len; t++) {
      let tok = 2 + Math.floor(rnd() * 18);
      if (tok === 7) tok = 8;
      x[i * T + t] = tok;
    }
    if (want) x[i * T + Math.floor(rnd() * len)] = 7;
    y[i] = want;
  }
  return [new Tensor(x, [n, T]), new Tensor(y, [n])];
}

describe('training and model files', () => {
  it('Embedding + LSTM learns a token-presence task through fit and evaluates above 95%', async () => {
    manualSeed(7);
    const net = new Sequential(
      new Embedding(20, 8, { paddingIdx: 0 }),
      new LSTM(8, 16, { batchFirst: true, returnSequences: false }),
      new Linear(16, 2),
    );
    const model = new Model(net).compile({
      optimizer: 'adam',
      learningRate: 0.02,
      loss: 'crossEntropy',
      metrics: ['accuracy'],
    });
    const [x, y] = contains7(512, 1);
    const [xt, yt] = contains7(256, 2);
    const h = await model.fit(x, y, { epochs: 15, batchSize: 32, verbose: 0, seed: 1 });
    expect(h.history.loss.at(-1)).toBeLessThan(h.history.loss[0]);
    expect((await model.evaluate(xt, yt)).accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it('sequence models save and load with bitwise-identical predictions', async () => {
    manualSeed(9);
    const net = new Sequential(
      new Embedding(30, 6, { paddingIdx: 0, maxNorm: 3 }),
      new GRU(6, 5, { batchFirst: true, bidirectional: true, numLayers: 2, dropout: 0.2 }),
      new TimeDistributed(new Linear(10, 4)),
      new SimpleRNN(4, 3, { batchFirst: true, nonlinearity: 'relu' }),
      new MeanOverTime(),
    );
    const path = join(dir, 'seq.axon');
    await saveModel(net, path);
    const back = (await loadModel(path)) as unknown as Sequential;
    const tokens = new Tensor(Int32Array.from([1, 5, 9, 0, 2, 2, 28, 4]), [2, 4]);
    net.eval();
    back.eval();
    const a = noGrad(() => net.forward(tokens)).data;
    const b = noGrad(() => back.forward(tokens)).data;
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(back.namedParameters().map(([n]) => n)).toEqual(net.namedParameters().map(([n]) => n));
  });
});

describe('layouts, empty rows and hostile configs', () => {
  it('a layer reading the other layout than the attached lengths refuses, even when N == T', () => {
    const emb = new Embedding(10, 3, { paddingIdx: 0 });
    // 4 sequences of 4 steps: a time-major LSTM would read the batch axis as time.
    const tokens = new Tensor(Int32Array.from([1, 2, 0, 0, 3, 0, 0, 0, 4, 5, 6, 7, 8, 0, 0, 0]), [4, 4]);
    expect(() => new LSTM(3, 2).forward(emb.forward(tokens))).toThrow(/construct it with batchFirst: true/);
    expect(() => new LastStep({ timeMajor: true }).forward(emb.forward(tokens))).toThrow(/timeMajor: false/);
    // A time-major layer passes time-major lengths on; a batch-major pooling layer refuses them.
    const x = new Tensor(new Float32Array(4 * 4 * 3), [4, 4, 3]);
    const seq = new GRU(3, 2).run(x, { lengths: new Tensor(Int32Array.from([1, 2, 3, 4]), [4]) }).output;
    expect(() => new MeanOverTime().forward(seq)).toThrow(/timeMajor: true/);
    expect(new MeanOverTime({ timeMajor: true }).forward(seq).shape).toEqual([4, 2]);
  });

  it('a zero-length row keeps its initial state, outputs zeros and gets no gradient', () => {
    const lstm = new LSTM(2, 3, { batchFirst: true, init: { seed: 5 } });
    const x = new Tensor(wave(2 * 3 * 2, 0.4), [2, 3, 2]).setRequiresGrad();
    const h0 = new Tensor(wave(2 * 3, 0.9), [1, 2, 3]).setRequiresGrad();
    const c0 = new Tensor(wave(2 * 3, 1.3), [1, 2, 3]);
    const r = lstm.run(x, { h0, c0, lengths: new Tensor(Int32Array.from([0, 3]), [2]) });
    for (let i = 0; i < 3; i++) {
      expect(r.hn.data[i]).toBe(h0.data[i]);
      expect(r.cn!.data[i]).toBe(c0.data[i]);
      for (let t = 0; t < 3; t++) expect(r.output.data[t * 3 + i]).toBe(0);
    }
    r.output.sum().add(r.hn.sum()).backward();
    for (let i = 0; i < 6; i++) expect(x.grad!.data[i]).toBe(0);
    for (let i = 0; i < 3; i++) expect(h0.grad!.data[i]).toBe(1); // straight through
    expect(Array.from(x.grad!.data.slice(6)).some((v) => v !== 0)).toBe(true);
  });

  it('a hostile config cannot allocate past the file budget; Infinity max-norm round-trips', () => {
    for (const cls of ['LSTM', 'GRU', 'SimpleRNN'])
      expect(() =>
        deserializeModule({ class: cls, config: { inputSize: 16384, hiddenSize: 16384 } }, 'model', {
          maxElements: 10_000,
        }),
      ).toThrow(/would exceed/);
    expect(() =>
      deserializeModule({ class: 'Embedding', config: { numEmbeddings: 1e9, embeddingDim: 1e3 } }, 'model', {
        maxElements: 10_000,
      }),
    ).toThrow(/would exceed|must be/);
    const e = new Embedding(4, 2, { maxNorm: 1, normType: Infinity });
    const back = deserializeModule(JSON.parse(JSON.stringify(serializeModule(e)))) as Embedding;
    expect(back.normType).toBe(Infinity);
  });
});

describe('bad input', () => {
  it('names the layer, the shapes and the offending value', () => {
    const lstm = new LSTM(3, 4);
    expect(() => lstm.forward(new Tensor(new Float32Array(2 * 2 * 5), [2, 2, 5]))).toThrow(
      /LSTM\(3, 4\): input must be \[steps, batch, 3\], got \[2,2,5\]/,
    );
    const x = new Tensor(new Float32Array(4 * 2 * 3), [4, 2, 3]);
    expect(() => lstm.run(x, { lengths: new Tensor(Int32Array.from([4, 7]), [2]) })).toThrow(
      /lengths\[1\] = 7 is outside \[0, 4\] steps/,
    );
    expect(() => lstm.run(x, { lengths: new Tensor(Int32Array.from([4, 1, 1]), [3]) })).toThrow(
      /lengths must be an int32 tensor \[2\]/,
    );
    expect(() => lstm.run(x, { h0: new Tensor(new Float32Array(8), [1, 2, 4]).reshape([2, 1, 4]) })).toThrow(
      /h0 must be \[1, 2, 4\]/,
    );
    expect(() => new GRU(3, 4).run(x, { c0: new Tensor(new Float32Array(8), [1, 2, 4]) })).toThrow(
      /only an LSTM has a cell state/,
    );
    const emb = new Embedding(10, 3);
    expect(() => emb.forward(new Tensor(Int32Array.from([1, 10, 2, 3]), [2, 2]))).toThrow(
      /embedding: token 10 at \[0, 1\] is outside the vocabulary of 10/,
    );
    expect(() => emb.forward(new Tensor(Int32Array.from([-1]), [1]))).toThrow(/token -1/);
    expect(() => emb.forward(new Tensor(new Float32Array([1, 2]), [2]))).toThrow(/tokens must be an int32 tensor/);
    expect(() => new Embedding(10, 3, { paddingIdx: 10 })).toThrow(/paddingIdx 10 is outside/);
    expect(() => new LSTM(0, 4)).toThrow(/inputSize must be a positive integer/);
    expect(() => new LSTM(3, 4, { dropout: 2 })).toThrow(/dropout must be in \[0, 1\]/);
    expect(() => new LastStep().forward(new Tensor(new Float32Array(6), [2, 3]))).toThrow(
      /lastStep: input must be \[batch, steps, features\]/,
    );
  });
});
