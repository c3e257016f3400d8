/**
 * The sentiment task of ./sentiment.ts with a small transformer encoder instead of the LSTM:
 * token embeddings plus learned positions -> 2 pre-norm TransformerEncoderLayers (d 64, 4
 * heads, FFN 128, dropout 0.1) that ignore padding (a key padding mask) -> the mean over the
 * real tokens -> linear logits. Trained with Model.fit (each step recorded once and replayed,
 * attention on the fused kernel), then compared with the majority class; run ./sentiment.ts
 * for the BiLSTM's accuracy and time on the same split.
 *
 *   npx tsx examples/transformer-sentiment.ts [--epochs 10] [--seed 1]
 */
import { parseArgs } from 'node:util';
import {
  Embedding,
  LayerNorm,
  Linear,
  Model,
  Module,
  PositionalEmbedding,
  Tensor,
  TransformerEncoder,
  TransformerEncoderLayer,
  div,
  embedding,
  manualSeed,
  mul,
  reshape,
  softmax,
  sum,
} from 'axon-nn';
import { NEW_SENTENCES, loadSentiment } from './sentiment-data.js';
import { reportPrecisions } from './precision-report.js';

const { values: args } = parseArgs({
  options: { epochs: { type: 'string', default: '10' }, seed: { type: 'string', default: '1' } },
});
const seed = Number(args.seed);
manualSeed(seed);
const { xTrain, yTrain, xTest, yTest, vocab, maxLen, encode, majority, summary } = await loadSentiment(seed);
console.log(summary);

/**
 * Token ids [batch, length] to two logits. The padding masks come from lookups in two frozen
 * one-column tables indexed by token id (-Infinity / 0 at the padding id): a kernel computes
 * them from each batch's tokens, so a recorded training step replays them on new batches.
 */
class TextTransformer extends Module {
  embed: Embedding;
  positions: PositionalEmbedding;
  encoder: TransformerEncoder;
  head: Linear;
  constructor(vocabSize: number, length: number, dim = 64) {
    super();
    this.embed = new Embedding(vocabSize, dim, { paddingIdx: 0 });
    this.positions = new PositionalEmbedding(length, dim, { batchFirst: true });
    const layer = new TransformerEncoderLayer(dim, 4, {
      dimFeedforward: 2 * dim,
      dropout: 0.1,
      batchFirst: true,
      normFirst: true,
    });
    this.encoder = new TransformerEncoder(layer, 2, { norm: new LayerNorm(dim) });
    this.head = new Linear(dim, 2);
    const hidden = new Float32Array(vocabSize);
    hidden[0] = -Infinity;
    const real = new Float32Array(vocabSize).fill(1);
    real[0] = 0;
    this.registerBuffer('paddingScores', new Tensor(hidden, [vocabSize, 1]));
    this.registerBuffer('realTokens', new Tensor(real, [vocabSize, 1]));
  }
  forward(tokens: Tensor): Tensor {
    const [n, length] = tokens.shape;
    const padding = reshape(embedding(tokens, this.buffer('paddingScores')), [n, length]);
    const h = this.encoder.call(this.positions.forward(this.embed.forward(tokens)), { srcKeyPaddingMask: padding });
    const real = embedding(tokens, this.buffer('realTokens')); // [n, length, 1]
    const pooled = div(sum(mul(h, real), 1), sum(real, 1)); // mean over the real tokens
    return this.head.forward(pooled);
  }
}

const net = new TextTransformer(vocab.size, maxLen);
const model = new Model(net).compile({
  optimizer: 'adamw',
  learningRate: 1e-3,
  loss: 'crossEntropy',
  metrics: ['accuracy'],
});
console.log(model.summary([maxLen], { inputDtype: 'int32' }));
const t0 = performance.now();
await model.fit(xTrain, yTrain, { epochs: Number(args.epochs), batchSize: 32, seed, verbose: 1 });
const seconds = (performance.now() - t0) / 1000;

const { accuracy } = await model.evaluate(xTest, yTest);
console.log(`trained in ${seconds.toFixed(1)} s`);
console.log(`test accuracy ${(accuracy * 100).toFixed(2)}% (majority-class baseline ${(majority * 100).toFixed(2)}%)`);
await reportPrecisions(model, xTest, yTest);

const probs = softmax(await model.predict(encode(NEW_SENTENCES)), 1).data;
NEW_SENTENCES.forEach((e, i) => console.log(`  ${(probs[2 * i + 1] * 100).toFixed(0).padStart(3)}% positive  ${e}`));
