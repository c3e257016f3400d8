/**
 * Sentiment classification of short reviews with word embeddings and an LSTM: the UCI
 * "Sentiment Labelled Sentences" (3,000 sentences from Amazon, IMDb and Yelp, CC BY 4.0,
 * data/sentiment/README.md), tokenised, a vocabulary built on the training part only,
 * post-padded to the longest training sentence, then Embedding(paddingIdx 0) -> bidirectional
 * LSTM (padding masked through the lengths the embedding attaches) -> dropout -> linear
 * logits. Reports test accuracy next to the majority-class baseline and classifies a few
 * new sentences.
 *
 *   npx tsx examples/sentiment.ts [--epochs 12] [--seed 1]
 */
import { parseArgs } from 'node:util';
import {
  Dropout,
  Embedding,
  LSTM,
  Linear,
  Model,
  Sequential,
  Tensor,
  Tokenizer,
  Vocabulary,
  manualSeed,
  readLabelledTsv,
  softmax,
} from 'axon-nn';

const { values: args } = parseArgs({
  options: { epochs: { type: 'string', default: '12' }, seed: { type: 'string', default: '1' } },
});
const seed = Number(args.seed);
manualSeed(seed);

const corpus = await readLabelledTsv(new URL('../data/sentiment/sentences.tsv', import.meta.url).pathname);
// The corpus repeats 18 sentences; keep the first of each so no test sentence is seen in training.
const seen = new Set<string>();
const rows: number[] = [];
corpus.texts.forEach((t, i) => {
  const key = t.trim().toLowerCase();
  if (seen.has(key)) return;
  seen.add(key);
  rows.push(i);
});
// A seeded shuffle, then 80% train / 20% test.
let s = seed >>> 0 || 1;
const rnd = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
for (let i = rows.length - 1; i > 0; i--) {
  const j = Math.floor(rnd() * (i + 1));
  [rows[i], rows[j]] = [rows[j], rows[i]];
}
const nTrain = Math.round(rows.length * 0.8);
const pick = (idx: number[]): { texts: string[]; labels: Int32Array } => ({
  texts: idx.map((i) => corpus.texts[i]),
  labels: Int32Array.from(idx, (i) => corpus.labels[i]),
});
const train = pick(rows.slice(0, nTrain));
const test = pick(rows.slice(nTrain));

const tokenizer = new Tokenizer({ lowercase: true });
const vocab = Vocabulary.fromTexts(train.texts, { tokenizer, minFreq: 1, maxSize: 6000 });
const maxLen = Math.min(40, Math.max(...train.texts.map((t) => tokenizer.tokenize(t).length)));
const encode = (texts: string[]): Tensor => {
  const p = vocab.encodeTexts(texts, { maxLen });
  return new Tensor(p.data, p.shape);
};
const xTrain = encode(train.texts);
const xTest = encode(test.texts);
const yTrain = new Tensor(train.labels, [train.labels.length]);
const yTest = new Tensor(test.labels, [test.labels.length]);
console.log(
  `${rows.length} sentences (${train.texts.length} train, ${test.texts.length} test), vocabulary ${vocab.size}, ${maxLen} steps`,
);

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

const positives = test.labels.reduce((a, v) => a + v, 0);
const majority = Math.max(positives, test.labels.length - positives) / test.labels.length;
const { accuracy } = await model.evaluate(xTest, yTest);
console.log(`trained in ${seconds.toFixed(1)} s`);
console.log(`test accuracy ${(accuracy * 100).toFixed(2)}% (majority-class baseline ${(majority * 100).toFixed(2)}%)`);

const examples = [
  'The battery died after two days and support never answered.',
  'Absolutely loved the food, friendly staff and great prices!',
  'The plot was dull and the acting was even worse.',
  'This phone works perfectly, I would buy it again.',
];
const probs = softmax(await model.predict(encode(examples)), 1).data;
examples.forEach((e, i) => console.log(`  ${(probs[2 * i + 1] * 100).toFixed(0).padStart(3)}% positive  ${e}`));
