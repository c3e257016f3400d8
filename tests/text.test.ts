/**
 * Text tools against hand-written expectations: tokenization (HTML, punctuation, Unicode,
 * emoji), vocabulary ids with their tie-breaking, size and frequency limits, encode/decode,
 * JSON round trips and hostile vocabulary files, encodeTexts, and the shipped sentiment corpus
 * (data/sentiment/sentences.tsv) read back with its documented counts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  MAX_VOCABULARY_SIZE,
  PAD_ID,
  Tokenizer,
  UNK_ID,
  Vocabulary,
  parseLabelledTsv,
  readLabelledTsv,
} from '../src/index.js';

const SENTIMENT = new URL('../data/sentiment/sentences.tsv', import.meta.url).pathname;

describe('Tokenizer', () => {
  const tok = new Tokenizer();

  it('lower-cases, strips tags and splits punctuation, keeping contractions whole', () => {
    expect(tok.tokenize("Don't buy it!<br />Awful, really...")).toEqual([
      "don't",
      'buy',
      'it',
      '!',
      'awful',
      ',',
      'really',
      '.',
      '.',
      '.',
    ]);
    expect(tok.tokenize('Rated 10/10 -- <i>WOW</i>')).toEqual(['rated', '10', '/', '10', '-', '-', 'wow']);
    expect(tok.tokenize('Tom &amp; Jerry &quot;great&quot;')).toEqual(['tom', '&', 'jerry', '"', 'great', '"']);
    expect(tok.tokenize('')).toEqual([]);
    expect(tok.tokenize('  \n\t ')).toEqual([]);
  });

  it('is Unicode-aware: accents (composed or not), other scripts, curly apostrophes, emoji', () => {
    expect(tok.tokenize('Crème Brûlée')).toEqual(['crème', 'brûlée']);
    // 'e' + combining acute (U+0301) normalises to the same token as the composed 'é'.
    expect(tok.tokenize('Cafe\u0301')).toEqual(tok.tokenize('Café'));
    expect(tok.tokenize('Фильм ОТЛИЧНЫЙ!')).toEqual(['фильм', 'отличный', '!']);
    expect(tok.tokenize('l’homme')).toEqual(['l’homme']);
    expect(tok.tokenize('love it😍👍🏽!')).toEqual(['love', 'it', '😍', '👍🏽', '!']);
  });

  it('honours its options', () => {
    const raw = new Tokenizer({ lowercase: false, stripHtml: false, punctuation: 'drop', normalize: false });
    expect(raw.tokenize('Good<br/>Film!')).toEqual(['Good', 'br', 'Film']);
    expect(new Tokenizer({ punctuation: 'drop' }).tokenize("It's OK, I guess?")).toEqual(["it's", 'ok', 'i', 'guess']);
    expect(new Tokenizer({ normalize: 'NFKC' }).tokenize('ｆｕｌｌ')).toEqual(['full']);
  });

  it('round-trips its configuration and rejects bad options', () => {
    const t = new Tokenizer({ lowercase: false, punctuation: 'drop' });
    const back = Tokenizer.fromJSON(JSON.parse(JSON.stringify(t)));
    expect(back.toJSON()).toEqual(t.toJSON());
    expect(() => tok.tokenize(5 as never)).toThrow(/expected a string, got number/);
    expect(() => tok.tokenizeAll(['a', null as never])).toThrow(/texts\[1\] is object/);
    expect(() => new Tokenizer({ punctuation: 'keep' as never })).toThrow(/punctuation must be 'split' or 'drop'/);
    expect(() => new Tokenizer({ lowercase: 'yes' as never })).toThrow(/lowercase must be a boolean/);
    expect(() => Tokenizer.fromJSON({ type: 'Other' })).toThrow(/not a Tokenizer/);
    expect(() => Tokenizer.fromJSON({ type: 'Tokenizer', normalize: 'NFD' })).toThrow(/normalize/);
  });
});

describe('Vocabulary', () => {
  const docs = [
    ['the', 'film', 'was', 'good'],
    ['the', 'film', 'was', 'bad'],
    ['good', 'good', 'acting'],
    ['<unk>', '<pad>', 'bad'],
  ];

  it('ranks by frequency, breaking ties by token, after <pad> and <unk>', () => {
    const v = Vocabulary.build(docs);
    // good 3; bad 2, film 2, the 2, was 2 (ties in code-unit order); acting 1.
    expect(v.tokens).toEqual(['<pad>', '<unk>', 'good', 'bad', 'film', 'the', 'was', 'acting']);
    expect(v.size).toBe(8);
    expect(v.id('film')).toBe(4);
    expect(v.id('missing')).toBe(UNK_ID);
    expect(v.has('acting')).toBe(true);
    expect(v.has('missing')).toBe(false);
    // The same counts in another document order give the same ids.
    expect(Vocabulary.build([...docs].reverse()).tokens).toEqual(v.tokens);
  });

  it('limits size (reserved tokens included) and minimum frequency', () => {
    expect(Vocabulary.build(docs, { maxSize: 4 }).tokens).toEqual(['<pad>', '<unk>', 'good', 'bad']);
    expect(Vocabulary.build(docs, { minFreq: 2 }).tokens).toEqual([
      '<pad>',
      '<unk>',
      'good',
      'bad',
      'film',
      'the',
      'was',
    ]);
    expect(Vocabulary.build(docs, { maxSize: 2 }).tokens).toEqual(['<pad>', '<unk>']);
    expect(Vocabulary.build([]).size).toBe(2);
    expect(() => Vocabulary.build(docs, { maxSize: 1 })).toThrow(/maxSize must be an integer >= 2/);
    expect(() => Vocabulary.build(docs, { minFreq: 0 })).toThrow(/minFreq must be a positive integer/);
    expect(() => Vocabulary.build([['a'], 'b' as never])).toThrow(/document 1 is string/);
    expect(() => Vocabulary.build([['a', 7 as never]])).toThrow(/document 0, token 1 is 7/);
    expect(() => Vocabulary.build([['a', '']])).toThrow(/token 1 is ""/);
    expect(() => Vocabulary.build(null as never)).toThrow(/iterable/);
  });

  it('encodes unknown tokens as <unk> and decodes ids back', () => {
    const v = Vocabulary.build(docs);
    const ids = v.encode(['the', 'plot', 'was', 'good']);
    expect(Array.from(ids)).toEqual([5, 1, 6, 2]);
    expect(v.decode(ids)).toEqual(['the', '<unk>', 'was', 'good']);
    expect(v.decode([2, 0, 0], { skipPad: true })).toEqual(['good']);
    expect(v.decode([2, 0])).toEqual(['good', '<pad>']);
    expect(() => v.decode([8])).toThrow(/id 8 at position 0 is outside \[0, 8\)/);
    expect(() => v.decode([1, -1])).toThrow(/position 1/);
    expect(() => v.decode([1.5])).toThrow(/id 1.5/);
    expect(() => v.encode(['a', 3 as never])).toThrow(/token 1 is number/);
  });

  it('encodeTexts tokenizes with the vocabulary tokenizer, encodes and post-pads', () => {
    const v = Vocabulary.fromTexts(['Good film.', 'Bad film!', 'Good, good acting'], { maxSize: 6 });
    // good 3, film 2; then ties at 1 in code-unit order: '!' ',' '.' 'acting' 'bad'.
    expect(v.tokens).toEqual(['<pad>', '<unk>', 'good', 'film', '!', ',']);
    const e = v.encodeTexts(['Good FILM, bad acting', 'film'], { maxLen: 4 });
    expect(e.shape).toEqual([2, 4]);
    expect(Array.from(e.data)).toEqual([2, 3, 5, 1, 3, PAD_ID, PAD_ID, PAD_ID]);
    expect(Array.from(e.lengths)).toEqual([4, 1]);
    const pre = v.encodeTexts(['good good good good film'], { maxLen: 2, truncating: 'pre' });
    expect(Array.from(pre.data)).toEqual([2, 3]);
    const drop = new Tokenizer({ punctuation: 'drop' });
    expect(Array.from(v.encodeTexts(['film!'], { tokenizer: drop }).data)).toEqual([3]);
    expect(() => v.encodeTexts(['ok', 3 as never])).toThrow(/texts\[1\]/);
  });

  it('round-trips through JSON with its tokenizer', () => {
    const tokenizer = new Tokenizer({ punctuation: 'drop' });
    const v = Vocabulary.fromTexts(['a b b c c c'], { tokenizer });
    const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(v)));
    expect(back.tokens).toEqual(v.tokens);
    expect(back.tokenizer?.toJSON()).toEqual(tokenizer.toJSON());
    const plain = Vocabulary.fromJSON(JSON.parse(JSON.stringify(Vocabulary.build([['x']]))));
    expect(plain.tokenizer).toBeNull();
    expect(plain.id('x')).toBe(2);
  });

  it('treats vocabulary files as hostile', () => {
    const ok = { type: 'Vocabulary', version: 1, tokens: ['<pad>', '<unk>', 'a'] };
    const bad: [unknown, RegExp][] = [
      [null, /expected an object/],
      [[1, 2], /expected an object/],
      ['vocab', /expected an object/],
      [{ ...ok, type: 'Tokenizer' }, /type must be "Vocabulary"/],
      [{ ...ok, version: 2 }, /unsupported version 2/],
      [{ ...ok, tokens: 'abc' }, /tokens must be an array/],
      [{ ...ok, tokens: ['<pad>'] }, /1 tokens; expected 2/],
      [{ ...ok, tokens: ['<unk>', '<pad>', 'a'] }, /tokens\[0\] must be "<pad>"/],
      [{ ...ok, tokens: ['<pad>', '<unk>', 'a', 5] }, /tokens\[3\] must be a non-empty string, got 5/],
      [{ ...ok, tokens: ['<pad>', '<unk>', ''] }, /tokens\[2\] must be a non-empty string/],
      [{ ...ok, tokens: ['<pad>', '<unk>', { toString: 1 }] }, /tokens\[2\].*got object/],
      [{ ...ok, tokens: ['<pad>', '<unk>', 'a', 'b', 'a'] }, /token "a" appears at ids 2 and 4/],
      [{ ...ok, tokens: ['<pad>', '<unk>', '<pad>'] }, /appears at ids 0 and 2/],
      [{ ...ok, tokenizer: { type: 'Tokenizer', punctuation: 7 } }, /Tokenizer.fromJSON: .*punctuation/],
      [{ ...ok, tokenizer: 'x' }, /not a Tokenizer/],
    ];
    for (const [j, re] of bad) expect(() => Vocabulary.fromJSON(j), JSON.stringify(j)).toThrow(re);
    // Too many tokens is refused before any token is looked at (a sparse array costs nothing).
    const huge = { ...ok, tokens: new Array(MAX_VOCABULARY_SIZE + 1) };
    expect(() => Vocabulary.fromJSON(huge)).toThrow(/16777217 tokens; expected 2 to 16777216/);
    expect(Vocabulary.fromJSON(ok).size).toBe(3);
  });
});

describe('labelled TSV files', () => {
  it('parses label and text columns and keeps the others', () => {
    const r = parseLabelledTsv('label\tsource\ttext\n1\tyelp\tGreat food.\r\n0\timdb\tBoring "plot", sadly.\n\n');
    expect(Array.from(r.labels)).toEqual([1, 0]);
    expect(r.texts).toEqual(['Great food.', 'Boring "plot", sadly.']);
    expect(r.columns.source).toEqual(['yelp', 'imdb']);
  });

  it('names the line of a malformed row', () => {
    expect(() => parseLabelledTsv('label\ttext\n1\ta\tb')).toThrow(/line 2 has 3 cells, the header 2/);
    expect(() => parseLabelledTsv('label\ttext\n1\tok\npos\tbad')).toThrow(/line 3: label "pos" is not an integer/);
    expect(() => parseLabelledTsv('label\ttext\n\tx')).toThrow(/line 2: label ""/);
    expect(() => parseLabelledTsv('y\ttext\n1\tx')).toThrow(/must name 'label' and 'text'/);
    expect(() => parseLabelledTsv('label\ttext\ttext\n1\tx\ty')).toThrow(/names column "text" twice/);
  });

  it('reads the shipped sentiment corpus with the counts its README states', async () => {
    const { labels, texts, columns } = await readLabelledTsv(SENTIMENT);
    expect(labels.length).toBe(3000);
    expect(texts.every((t) => t.length > 0 && !/[\t\n\u0080-\u009f]/.test(t))).toBe(true);
    const count = (src: string, label: number): number =>
      columns.source.filter((s, i) => s === src && labels[i] === label).length;
    for (const src of ['amazon', 'imdb', 'yelp']) {
      expect(count(src, 0)).toBe(500);
      expect(count(src, 1)).toBe(500);
    }
    const vocab = Vocabulary.fromTexts(texts);
    expect(vocab.size).toBeGreaterThan(4000);
    const e = vocab.encodeTexts(texts);
    expect(e.shape[0]).toBe(3000);
    expect(Math.min(...e.lengths)).toBeGreaterThan(0);
    // The file is what it says: every line has three cells and a 0/1 label.
    const raw = readFileSync(SENTIMENT, 'utf8').trimEnd().split('\n');
    expect(raw[0]).toBe('label\tsource\ttext');
    expect(raw.slice(1).every((l) => /^[01]\t(amazon|imdb|yelp)\t[^\t]+$/.test(l))).toBe(true);
  });
});
