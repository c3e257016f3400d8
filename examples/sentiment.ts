/**
 * Sentiment classification of short reviews with word embeddings and an LSTM: the UCI
 * sentences (./sentiment-data.ts: tokenised, a vocabulary built on the training part only,
 * post-padded to the longest training sentence), then Embedding(paddingIdx 0) -> bidirectional
 * LSTM (padding masked through the lengths the embedding attaches) -> dropout -> linear
 * logits. Reports test accuracy next to the majority-class baseline and classifies a few
 * new sentences.
 *
 *   npx tsx examples/sentiment.ts [--epochs 12] [--seed 1]
 */
import { parseArgs } from 'node:util';
import { Dropout, Embedding, LSTM, Linear, Model, Sequential, manualSeed, softmax } from 'axon-nn';
import { NEW_SENTENCES, loadSentiment } from './sentiment-data.js';

const { values: args } = parseArgs({
  options: { epochs: { type: 'string', default: '12' }, seed: { type: 'string', default: '1' } },
});
const seed = Number(args.seed);
manualSeed(seed);

const { xTrain, yTrain, xTest, yTest, vocab, maxLen, encode, majority, summary } = await loadSentiment(seed);
console.log(summary);

const net = new Sequential(
  new Embedding(vocab.size, 64, { paddingIdx: 0 }),
  new LSTM(64, 64, { batchFirst: true, bidirectional: true, returnSequences: false }),
  new Dropout(0.4),
  new Linear(128, 2),
);
const model = new Model(net).compile({
  optimizer: 'adam',
  learningRate: 3e-3,
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

const probs = softmax(await model.predict(encode(NEW_SENTENCES)), 1).data;
NEW_SENTENCES.forEach((e, i) => console.log(`  ${(probs[2 * i + 1] * 100).toFixed(0).padStart(3)}% positive  ${e}`));
