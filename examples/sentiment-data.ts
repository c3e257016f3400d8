/**
 * The UCI "Sentiment Labelled Sentences" (3,000 sentences from Amazon, IMDb and Yelp, CC BY 4.0,
 * data/sentiment/README.md) as the sentiment examples use it: duplicates dropped, a seeded
 * 80/20 split, a vocabulary built on the training part only, sentences post-padded (token 0)
 * to the longest training sentence (at most 40 tokens).
 */
import { Tensor, Tokenizer, Vocabulary, readLabelledTsv } from 'axon-nn';

/** The split, encoded, with what the examples print. */
export interface SentimentData {
  xTrain: Tensor;
  yTrain: Tensor;
  xTest: Tensor;
  yTest: Tensor;
  vocab: Vocabulary;
  maxLen: number;
  /** Token ids of new sentences, padded as the training data. */
  encode: (texts: string[]) => Tensor;
  /** The majority class's share of the test set. */
  majority: number;
  /** A one-line description of the split. */
  summary: string;
}

export async function loadSentiment(seed: number): Promise<SentimentData> {
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
  const positives = test.labels.reduce((a, v) => a + v, 0);
  return {
    xTrain: encode(train.texts),
    yTrain: new Tensor(train.labels, [train.labels.length]),
    xTest: encode(test.texts),
    yTest: new Tensor(test.labels, [test.labels.length]),
    vocab,
    maxLen,
    encode,
    majority: Math.max(positives, test.labels.length - positives) / test.labels.length,
    summary: `${rows.length} sentences (${train.texts.length} train, ${test.texts.length} test), vocabulary ${vocab.size}, ${maxLen} steps`,
  };
}

/** New sentences the examples classify after training. */
export const NEW_SENTENCES = [
  'The battery died after two days and support never answered.',
  'Absolutely loved the food, friendly staff and great prices!',
  'The plot was dull and the acting was even worse.',
  'This phone works perfectly, I would buy it again.',
];
