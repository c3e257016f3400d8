/**
 * Option objects across the public API: an unknown key (a typo, or an option another function
 * takes) is refused with a message naming the function and the key, an out-of-range value is
 * refused naming the function and the option, and valid options still work.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Adam,
  AdamW,
  AvgPool2d,
  BatchNorm2d,
  CosineAnnealingLR,
  crossEntropy,
  CrossEntropyLoss,
  Conv1d,
  Conv2d,
  conv2d,
  ConvTranspose2d,
  DataLoader,
  distributed,
  Dropout,
  EarlyStopping,
  Embedding,
  gelu,
  gradcheck,
  gridSearch,
  historyToSvg,
  huberLoss,
  kFold,
  l1l2,
  lambdaCallback,
  LayerNorm,
  Linear,
  linspace,
  LSTM,
  makeWindows,
  maxPool2d,
  MaxPool2d,
  metrics,
  mseLoss,
  ModelCheckpoint,
  OneCycleLR,
  padSequences,
  parseCsv,
  parseIdx,
  rand,
  randn,
  randomSearch,
  readCsv,
  ReduceLROnPlateau,
  ReduceLROnPlateauCallback,
  SGD,
  SimpleRNN,
  StandardScaler,
  summarize,
  TensorDataset,
  tensor,
  Tokenizer,
  trainTestSplit,
  Vocabulary,
  zeros,
  chronologicalSplit,
  deserializeModule,
  serializeModule,
  init,
  Sequential,
  ReLU,
  choice,
  Module,
  RandomCrop,
  batchNorm,
  embedding,
  sequencePool,
} from '../src/index.js';

const x4 = (): ReturnType<typeof randn> => randn([2, 3, 8, 8], { seed: 1 });
const params = (): ReturnType<typeof zeros>[] => [zeros([3]).setRequiresGrad()];
const objective = Object.assign(async () => ({ score: 1 }), { maxEpochs: 1 });

/** [function name, a call with an unknown key, that key]. */
const unknownKey: [string, () => unknown, string][] = [
  // tensor/
  ['zeros', () => zeros([2], { dtyp: 'int32' } as never), 'dtyp'],
  ['randn', () => randn([2], { sead: 1 } as never), 'sead'],
  ['rand', () => rand([2], { mean: 0 } as never), 'mean'],
  ['tensor', () => tensor([1, 2], { requiresgrad: true } as never), 'requiresgrad'],
  ['linspace', () => linspace(0, 1, 3, { steps: 3 } as never), 'steps'],
  // ops/
  ['conv2d', () => conv2d(x4(), randn([4, 3, 3, 3]), null, { padding: 1, bias: true } as never), 'bias'],
  ['maxPool2d', () => maxPool2d(x4(), 2, { strides: 2 } as never), 'strides'],
  ['gelu', () => gelu(randn([2]), { approx: 'tanh' } as never), 'approx'],
  ['batchNorm', () => batchNorm(x4(), { affine: true } as never), 'affine'],
  [
    'embedding',
    () => embedding(tensor([1], { dtype: 'int32' }), randn([3, 2]), { padding_idx: 0 } as never),
    'padding_idx',
  ],
  ['sequencePool', () => sequencePool(randn([2, 3, 4]), 'mean', { batchFirst: true } as never), 'batchFirst'],
  // nn/ layers
  ['Linear', () => new Linear(2, 3, { useBias: false } as never), 'useBias'],
  ['Conv2d', () => new Conv2d(3, 4, 3, { pading: 1 } as never), 'pading'],
  ['Conv1d', () => new Conv1d(3, 4, 3, { outputPadding: 1 } as never), 'outputPadding'],
  ['ConvTranspose2d', () => new ConvTranspose2d(3, 4, 3, { activation: 'relu' } as never), 'activation'],
  ['MaxPool2d', () => new MaxPool2d(2, { countIncludePad: false } as never), 'countIncludePad'],
  ['AvgPool2d', () => new AvgPool2d(2, { dilation: 2 } as never), 'dilation'],
  ['BatchNorm2d', () => new BatchNorm2d(3, { elementwiseAffine: false } as never), 'elementwiseAffine'],
  ['LayerNorm', () => new LayerNorm(3, { affine: false } as never), 'affine'],
  ['LSTM', () => new LSTM(2, 3, { numlayers: 2 } as never), 'numlayers'],
  ['SimpleRNN', () => new SimpleRNN(2, 3, { activation: 'relu' } as never), 'activation'],
  ['Embedding', () => new Embedding(5, 2, { paddingIndex: 0 } as never), 'paddingIndex'],
  ['Dropout', () => new Dropout(0.5, { seeds: 1 } as never), 'seeds'],
  ['RandomCrop', () => new RandomCrop(4, { pad: 1 } as never), 'pad'],
  ['heUniform', () => init.heUniform({ fanMode: 'fanOut' } as never), 'fanMode'],
  ['l1l2', () => l1l2({ l3: 0.1 } as never), 'l3'],
  // nn/ losses
  ['mseLoss', () => mseLoss(randn([2]), randn([2]), { reduce: 'sum' } as never), 'reduce'],
  ['huberLoss', () => huberLoss(randn([2]), randn([2]), { beta: 1 } as never), 'beta'],
  [
    'crossEntropy',
    () => crossEntropy(randn([2, 3]), tensor([0, 1], { dtype: 'int32' }), { ignore_index: 1 } as never),
    'ignore_index',
  ],
  ['CrossEntropyLoss', () => CrossEntropyLoss({ labelSmoothin: 0.1 } as never), 'labelSmoothin'],
  // optim/
  ['SGD', () => new SGD(params(), { lr: 0.1, momentun: 0.9 } as never), 'momentun'],
  ['Adam', () => new Adam(params(), { beta1: 0.9 } as never), 'beta1'],
  ['AdamW', () => new AdamW(params(), { weight_decay: 0.1 } as never), 'weight_decay'],
  ['SGD.addParamGroup', () => new SGD([{ params: params(), lrr: 0.1 }] as never), 'lrr'],
  ['CosineAnnealingLR', () => new CosineAnnealingLR(new SGD(params()), { tMax: 5, eta_min: 0 } as never), 'eta_min'],
  ['OneCycleLR', () => new OneCycleLR(new SGD(params()), { maxLr: 1, totalSteps: 5, steps: 5 } as never), 'steps'],
  ['ReduceLROnPlateau', () => new ReduceLROnPlateau(new SGD(params()), { monitor: 'loss' } as never), 'monitor'],
  // train/
  ['EarlyStopping', () => new EarlyStopping({ patients: 3 } as never), 'patients'],
  ['ReduceLROnPlateauCallback', () => new ReduceLROnPlateauCallback({ threshold: 0.1 } as never), 'threshold'],
  ['ModelCheckpoint', () => new ModelCheckpoint({ filepath: 'x', saveBestOnly: true } as never), 'saveBestOnly'],
  ['lambdaCallback', () => lambdaCallback({ onEpochEnds: () => undefined } as never), 'onEpochEnds'],
  ['precision', () => metrics.precision({ averge: 'micro' } as never), 'averge'],
  ['historyToSvg', () => historyToSvg({ epoch: [0], history: { loss: [1] } }, { width: 100 } as never), 'width'],
  ['summarize', () => summarize(new Linear(2, 2), { depth: 1 } as never), 'depth'],
  ['gradcheck', () => gradcheck((t) => t.sum(), [randn([2]).setRequiresGrad()], { tol: 1 } as never), 'tol'],
  [
    'deserializeModule',
    () => deserializeModule(serializeModule(new ReLU()), 'model', { maxBytes: 5 } as never),
    'maxBytes',
  ],
  // data/
  ['DataLoader', () => new DataLoader(new TensorDataset(randn([4, 2])), { batchsize: 8 } as never), 'batchsize'],
  ['trainTestSplit', () => trainTestSplit(randn([4, 2]), null, { testSplit: 0.5 } as never), 'testSplit'],
  ['kFold', () => kFold(6, 3, { testSize: 2 } as never), 'testSize'],
  ['StandardScaler', () => new StandardScaler({ axis: 0 } as never), 'axis'],
  ['parseCsv', () => parseCsv('a,b\n1,2', { separator: ';' } as never), 'separator'],
  ['parseIdx', () => parseIdx(new Uint8Array(0), { dtpe: 'int32' } as never), 'dtpe'],
  ['Tokenizer', () => new Tokenizer({ lowerCase: false } as never), 'lowerCase'],
  ['Vocabulary.build', () => Vocabulary.build([['a']], { minCount: 1 } as never), 'minCount'],
  ['Vocabulary.encodeTexts', () => Vocabulary.build([['a']]).encodeTexts(['a'], { maxlen: 3 } as never), 'maxlen'],
  ['padSequences', () => padSequences([[1]], { maxlen: 3 } as never), 'maxlen'],
  ['makeWindows', () => makeWindows([1, 2, 3, 4], { lookback: 1, lookahead: 1 } as never), 'lookahead'],
  ['chronologicalSplit', () => chronologicalSplit(100, { testSplit: 0.2 } as never), 'testSplit'],
  // distributed/ (no MPI needed before the options are read)
  [
    'DistributedSampler',
    () => new distributed.DistributedSampler(10, { rank: 0, size: 1, shufle: false } as never),
    'shufle',
  ],
  [
    'distributedLoader',
    () => distributed.distributedLoader(randn([4, 2]), null, { rank: 0, size: 1, epochs: 2 } as never),
    'epochs',
  ],
];

/** [function name, a call with an out-of-range value, the option]. */
const badValue: [string, () => unknown, string][] = [
  ['rand', () => rand([2], { low: NaN }), 'low'],
  ['randn', () => randn([2], { mean: Infinity }), 'mean'],
  ['batchNorm', () => batchNorm(x4(), { momentum: 2 }), 'momentum'],
  ['Conv2d', () => new Conv2d(3, 4, 3, { activation: 'rleu' as never }), 'activation'],
  ['LayerNorm', () => new LayerNorm(3, { eps: Infinity }), 'eps'],
  ['heNormal', () => init.heNormal({ mode: 'fan_in' as never }), 'mode'],
  ['huberLoss', () => huberLoss(randn([2]), randn([2]), { delta: Infinity }), 'delta'],
  ['OneCycleLR', () => new OneCycleLR(new SGD(params()), { maxLr: 1, totalSteps: 5, divFactor: -1 }), 'divFactor'],
  [
    'OneCycleLR',
    () => new OneCycleLR(new SGD(params()), { maxLr: 1, totalSteps: 5, annealStrategy: 'cosine' as never }),
    'annealStrategy',
  ],
  ['ReduceLROnPlateau', () => new ReduceLROnPlateau(new SGD(params()), { cooldown: 1.5 }), 'cooldown'],
  [
    'ReduceLROnPlateau',
    () => new ReduceLROnPlateau(new SGD(params()), { thresholdMode: 'relative' as never }),
    'thresholdMode',
  ],
  ['CosineAnnealingLR', () => new CosineAnnealingLR(new SGD(params()), { tMax: 5, etaMin: NaN }), 'etaMin'],
  ['EarlyStopping', () => new EarlyStopping({ mode: 'minimum' as never }), 'mode'],
  ['ReduceLROnPlateauCallback', () => new ReduceLROnPlateauCallback({ patience: -1 }), 'patience'],
  ['ModelCheckpoint', () => new ModelCheckpoint({ filepath: 'x', mode: 'best' as never }), 'mode'],
  ['recall', () => metrics.recall({ average: 'weigthed' as never }), 'average'],
  ['historyToSvg', () => historyToSvg({ epoch: [0], history: { loss: [1] } }, { panelWidth: 1e9 }), 'panelWidth'],
  ['gradcheck', () => gradcheck((t) => t.sum(), [randn([2]).setRequiresGrad()], { eps: -1 }), 'eps'],
  ['summarize', () => summarize(new Linear(2, 2), { maxDepth: -1 }), 'maxDepth'],
  ['DataLoader', () => new DataLoader(new TensorDataset(randn([4, 2])), { batchSize: 2 ** 40 }), 'batchSize'],
  ['DataLoader', () => new DataLoader(new TensorDataset(randn([4, 2])), { batchSize: 2.5 }), 'batchSize'],
  ['kFold', () => kFold(5.5, 2), 'n'],
  ['parseIdx', () => parseIdx(new Uint8Array(0), { maxBytes: -1 }), 'maxBytes'],
  ['padSequences', () => padSequences([[1], [2]], { maxLen: 2 ** 31 }), 'maxLen'],
  [
    'distributedLoader',
    () => distributed.distributedLoader(randn([4, 2]), null, { rank: 0, size: 1, startEpoch: -1 }),
    'startEpoch',
  ],
];

describe('option objects', () => {
  it(`refuse an unknown key naming the function and the key (${unknownKey.length} functions)`, () => {
    expect(new Set(unknownKey.map(([op]) => op)).size).toBeGreaterThanOrEqual(25);
    for (const [op, call, key] of unknownKey) {
      let message = '';
      try {
        call();
      } catch (e) {
        message = (e as Error).message;
        expect(e, op).toBeInstanceOf(TypeError);
      }
      expect(message, op).toContain(`${op}: unknown option '${key}'`);
    }
  });

  it('refuse out-of-range values naming the function and the option', () => {
    for (const [op, call, option] of badValue) {
      let message = '';
      try {
        call();
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, op).toMatch(new RegExp(`^${op.replace('.', '\\.')}: .*${option}`));
    }
  });

  it('async entry points reject before doing any work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-options-'));
    const csv = join(dir, 't.csv');
    writeFileSync(csv, 'a,b\n1,2\n');
    await expect(readCsv(csv, { headers: false } as never)).rejects.toThrow("readCsv: unknown option 'headers'");
    await expect(gridSearch({ a: choice([1, 2]) }, objective, { trials: 2 } as never)).rejects.toThrow(
      "gridSearch: unknown option 'trials'",
    );
    await expect(randomSearch({ a: choice([1, 2]) }, objective, { trials: 2, gridPoints: 3 } as never)).rejects.toThrow(
      "randomSearch: unknown option 'gridPoints'",
    );
    await expect(randomSearch({ a: choice([1, 2]) }, objective, { trials: 1e9 })).rejects.toThrow(
      /randomSearch: trials must be at most/,
    );
  });

  it('suggest the closest key and list the ones taken', () => {
    expect(() => new DataLoader(new TensorDataset(randn([4, 2])), { batchsize: 8 } as never)).toThrow(
      "DataLoader: unknown option 'batchsize' (did you mean 'batchSize'?); it takes 'batchSize',",
    );
    expect(() => new Linear(2, 2, 'relu' as never)).toThrow('Linear: options must be an object, got "relu"');
  });

  it('valid options behave as before', async () => {
    const loader = new DataLoader(new TensorDataset(randn([10, 2], { seed: 3 })), {
      batchSize: 4,
      shuffle: true,
      dropLast: true,
      seed: 1,
    });
    expect([...loader].length).toBe(2);
    expect(zeros([2], { dtype: 'int32', requiresGrad: false }).dtype).toBe('int32');
    expect(rand([3], { low: 2, high: 3, seed: 1 }).max().item()).toBeLessThan(3);
    const conv = new Conv2d(3, 4, 3, {
      padding: 'same',
      activation: 'relu',
      weightInit: 'glorotUniform',
      init: { seed: 1 },
    });
    expect(conv.forward(x4()).shape).toEqual([2, 4, 8, 8]);
    const convT = new ConvTranspose2d(3, 2, 2, { stride: 2, bias: false });
    expect(convT.forward(x4()).shape).toEqual([2, 2, 16, 16]);
    expect(new Conv1d(3, 2, 3, { padding: 'same' }).forward(randn([1, 3, 5])).shape).toEqual([1, 2, 5]);
    expect(new MaxPool2d(2, { stride: 2, ceilMode: true }).forward(x4()).shape).toEqual([2, 3, 4, 4]);
    const emb = Embedding.fromPretrained(randn([5, 2]), { freeze: false, paddingIdx: 0 });
    expect(emb.weight.trainable).toBe(true);
    const lstm = new LSTM(2, 3, { numLayers: 2, batchFirst: true, bidirectional: true, init: { seed: 1 } });
    expect(lstm.run(randn([2, 4, 2]), { lengths: tensor([4, 2], { dtype: 'int32' }) }).output.shape).toEqual([2, 4, 6]);
    const sgd = new SGD([{ params: params(), lr: 0.5 }], { lr: 0.1, momentum: 0.9, nesterov: true });
    expect(sgd.paramGroups[0].lr).toBe(0.5);
    new ReduceLROnPlateau(sgd, { mode: 'max', factor: 0.5, cooldown: 1, thresholdMode: 'abs', minLr: [0] });
    new OneCycleLR(new Adam(params()), { maxLr: 0.1, totalSteps: 10, annealStrategy: 'linear' });
    expect(
      CrossEntropyLoss({ labelSmoothing: 0.1, reduction: 'sum' })(randn([2, 3]), tensor([0, 2], { dtype: 'int32' }))
        .ndim,
    ).toBe(0);
    expect(metrics.f1({ average: 'micro' }).name).toBe('f1');
    expect(padSequences([[1, 2, 3], [4]], { maxLen: 2, truncating: 'pre', padding: 'post', value: 0 }).shape).toEqual([
      2, 2,
    ]);
    expect(new Tokenizer({ lowercase: false, punctuation: 'drop' }).tokenize('Hi, you')).toEqual(['Hi', 'you']);
    expect(trainTestSplit(randn([10, 2]), null, { testSize: 0.2, shuffle: false }).xTest.shape).toEqual([2, 2]);
    expect(summarize(new Sequential(new Linear(2, 2), new ReLU()), { inputShape: [2], maxDepth: 1 }).rows.length).toBe(
      3,
    );
    const m = deserializeModule(
      serializeModule(new Sequential(new Linear(2, 3, { activation: 'leakyRelu' }))),
      'model',
      {
        maxElements: 100,
      },
    );
    expect(m).toBeInstanceOf(Module);
    expect(historyToSvg({ epoch: [0, 1], history: { loss: [1, 0.5] } }, { title: 't', panelWidth: 300 })).toContain(
      '<svg',
    );
    const result = await gridSearch({ a: choice([1, 2]) }, objective, { mode: 'max', monitor: 'score' });
    expect(result.trials.length).toBe(2);
  });
});
