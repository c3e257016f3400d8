/**
 * Text to padded token ids for embedding layers: a rule-based `Tokenizer` (Unicode words,
 * punctuation split off, optional lower-casing and HTML tag stripping), a frequency-ranked
 * `Vocabulary` with `<pad>` = 0 and `<unk>` = 1, and a reader for `label<TAB>text` files such
 * as data/sentiment/sentences.tsv. Not a subword (BPE/WordPiece) tokenizer, and no stemming.
 * Tests: `npx vitest run tests/text.test.ts`.
 */
import { MAX_TEXT_BYTES } from './csv.js';
import { readFileChecked } from './files.js';
import { checkOptionKeys, optionKeys } from '../options.js';
import { padSequences, type PadSide, type PaddedSequences } from './sequence.js';

/**
 * The reserved padding token; always id 0, so padded steps of `padSequences` (value 0) decode to it.
 *
 * @example
 * ```ts
 * import { Vocabulary, PAD_TOKEN } from 'axon-nn';
 * const vocab = Vocabulary.fromTexts(['a b', 'b c']);
 * console.log(vocab.tokens[0] === PAD_TOKEN); // true
 * ```
 */
export const PAD_TOKEN = '<pad>';
/**
 * The reserved out-of-vocabulary token; always id 1.
 *
 * @example
 * ```ts
 * import { Vocabulary, UNK_TOKEN } from 'axon-nn';
 * const vocab = Vocabulary.fromTexts(['a b', 'b c']);
 * console.log(vocab.decode(vocab.encode(['b', 'zebra']))); // ['b', '<unk>']
 * console.log(vocab.tokens[1] === UNK_TOKEN); // true
 * ```
 */
export const UNK_TOKEN = '<unk>';
/**
 * The id of `<pad>` (0): the fill value of padded token rows.
 *
 * @example
 * ```ts
 * import { Vocabulary, PAD_ID } from 'axon-nn';
 * const texts = ['good film', 'bad'];
 * const { data } = Vocabulary.fromTexts(texts).encodeTexts(texts); // rows of 2 steps
 * console.log(data[3] === PAD_ID); // true: 'bad' is padded after its one token
 * ```
 */
export const PAD_ID = 0;
/**
 * The id of `<unk>` (1): what tokens outside the vocabulary encode to.
 *
 * @example
 * ```ts
 * import { Vocabulary, UNK_ID } from 'axon-nn';
 * const vocab = Vocabulary.fromTexts(['good film']);
 * console.log(vocab.id('terrible') === UNK_ID); // true
 * ```
 */
export const UNK_ID = 1;

/**
 * Most tokens a vocabulary may hold (2^24, the reserved ones included): larger `maxSize`
 * values are capped to it, and `Vocabulary.fromJSON` refuses longer token lists.
 *
 * @example
 * ```ts
 * import { Vocabulary, MAX_VOCABULARY_SIZE } from 'axon-nn';
 * const vocab = Vocabulary.build([['a', 'b']], { maxSize: MAX_VOCABULARY_SIZE });
 * console.log(vocab.size); // 4
 * ```
 */
export const MAX_VOCABULARY_SIZE = 1 << 24;

/**
 * Tokenizer's options. Unknown keys throw.
 *
 * @example
 * ```ts
 * import { Tokenizer, type TokenizerOptions } from 'axon-nn';
 * const options: TokenizerOptions = { lowercase: false, punctuation: 'drop' };
 * console.log(new Tokenizer(options).tokenize('Hello, World!')); // ['Hello', 'World']
 * ```
 */
export interface TokenizerOptions {
  /** Lower-case the text (default true); `toLowerCase()`, locale-independent. */
  lowercase?: boolean;
  /** Replace HTML tags such as `<br />` with a space and decode &amp; &lt; &gt; &quot; &#39; (default true). */
  stripHtml?: boolean;
  /** 'split' (default): each punctuation or symbol character is its own token; 'drop': they are removed. */
  punctuation?: 'split' | 'drop';
  /** Unicode normalisation applied first (default 'NFC', so composed and decomposed accents agree); false for none. */
  normalize?: 'NFC' | 'NFKC' | false;
}
const TOKENIZER_KEYS = optionKeys<TokenizerOptions>({
  lowercase: true,
  stripHtml: true,
  punctuation: true,
  normalize: true,
});

/**
 * A Tokenizer's settings as plain JSON: what `Tokenizer.toJSON` returns and
 * `Tokenizer.fromJSON` reads (a Vocabulary saves it with its tokens).
 *
 * @example
 * ```ts
 * import { Tokenizer, type TokenizerConfig } from 'axon-nn';
 * const config: TokenizerConfig = { ...new Tokenizer().toJSON(), stripHtml: false, punctuation: 'drop' };
 * console.log(Tokenizer.fromJSON(config).tokenize('Hi <b>there</b>!')); // ['hi', 'b', 'there', 'b']
 * ```
 */
export interface TokenizerConfig {
  /** Always 'Tokenizer'. */
  type: 'Tokenizer';
  /** Whether text is lower-cased. */
  lowercase: boolean;
  /** Whether HTML tags and entities are stripped. */
  stripHtml: boolean;
  /** Punctuation handling: 'split' into tokens or 'drop'. */
  punctuation: 'split' | 'drop';
  /** Unicode normalisation form, or false for none. */
  normalize: 'NFC' | 'NFKC' | false;
}

// A word: letters, marks and digits of any script, with inner apostrophes kept ("don't",
// "l’homme") so negations stay one token. An emoji (with skin tone, variation selector and
// zero-width-joiner sequences) is one token. Anything else that is not space is one token.
const WORD = String.raw`[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*`;
const EMOJI = String.raw`\p{Extended_Pictographic}(?:\u{FE0F}|[\u{1F3FB}-\u{1F3FF}])?(?:\u200D\p{Extended_Pictographic}(?:\u{FE0F}|[\u{1F3FB}-\u{1F3FF}])?)*`;
const OTHER = String.raw`[^\s\p{L}\p{M}\p{N}]`;
const TOKEN_RE = new RegExp(`(${WORD})|${EMOJI}|${OTHER}`, 'gu');
// A tag: '<', an optional '/', a letter, then anything but angle brackets (bounded so a stray
// '<' in running text cannot swallow a whole document).
const TAG_RE = /<\/?[A-Za-z][^<>]{0,500}>/g;
const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&nbsp;': ' ' };
const ENTITY_RE = /&(?:amp|lt|gt|quot|#39|nbsp);/g;

/** A value for an error message (JSON.stringify throws on BigInt and returns undefined for functions). */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? 'an array' : typeof v;
}

/**
 * Splits text into word and punctuation tokens: words are runs of letters, marks and digits of
 * any script (inner apostrophes kept, so "don't" is one token), an emoji sequence is one token,
 * and every other non-space character is its own token (or dropped). By default the text is
 * NFC-normalised, HTML-stripped and lower-cased first.
 *
 * @example
 * ```ts
 * import { Tokenizer } from 'axon-nn';
 * const tokens = new Tokenizer().tokenize("Don't buy it!<br />Awful.");
 * console.log(tokens); // ["don't", 'buy', 'it', '!', 'awful', '.']
 * ```
 */
export class Tokenizer {
  /** Whether text is lower-cased. */
  readonly lowercase: boolean;
  /** Whether HTML tags and entities are stripped. */
  readonly stripHtml: boolean;
  /** Punctuation handling: 'split' into tokens or 'drop'. */
  readonly punctuation: 'split' | 'drop';
  /** Unicode normalisation form applied first, or false for none. */
  readonly normalize: 'NFC' | 'NFKC' | false;

  /** @throws TypeError/RangeError for an option of the wrong type or value. */
  constructor(options: TokenizerOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('Tokenizer: options must be an object');
    checkOptionKeys('Tokenizer', options, TOKENIZER_KEYS);
    const bool = (name: 'lowercase' | 'stripHtml', v: unknown): boolean => {
      if (v === undefined) return true;
      if (typeof v !== 'boolean') throw new TypeError(`Tokenizer: ${name} must be a boolean, got ${typeof v}`);
      return v;
    };
    this.lowercase = bool('lowercase', options.lowercase);
    this.stripHtml = bool('stripHtml', options.stripHtml);
    const p = options.punctuation ?? 'split';
    if (p !== 'split' && p !== 'drop')
      throw new RangeError(`Tokenizer: punctuation must be 'split' or 'drop', got ${String(p)}`);
    this.punctuation = p;
    const n = options.normalize ?? 'NFC';
    if (n !== 'NFC' && n !== 'NFKC' && n !== false)
      throw new RangeError(`Tokenizer: normalize must be 'NFC', 'NFKC' or false, got ${String(n)}`);
    this.normalize = n;
  }

  /**
   * The tokens of one document.
   *
   * @param text one document.
   * @returns its tokens in order (empty for text without any).
   * @throws TypeError when text is not a string.
   */
  tokenize(text: string): string[] {
    if (typeof text !== 'string') throw new TypeError(`Tokenizer.tokenize: expected a string, got ${typeof text}`);
    let s = this.normalize ? text.normalize(this.normalize) : text;
    if (this.stripHtml) s = s.replace(TAG_RE, ' ').replace(ENTITY_RE, (e) => ENTITIES[e]);
    if (this.lowercase) s = s.toLowerCase();
    const out: string[] = [];
    for (const m of s.matchAll(TOKEN_RE)) if (m[1] !== undefined || this.punctuation === 'split') out.push(m[0]);
    return out;
  }

  /** Tokenizes each text; the error for a non-string names its index. */
  tokenizeAll(texts: readonly string[]): string[][] {
    if (!Array.isArray(texts)) throw new TypeError(`Tokenizer.tokenizeAll: expected an array of strings, got ${typeof texts}`);
    return texts.map((t, i) => {
      if (typeof t !== 'string') throw new TypeError(`Tokenizer.tokenizeAll: texts[${i}] is ${typeof t}, expected a string`);
      return this.tokenize(t);
    });
  }

  /** The settings as plain JSON, for fromJSON (used by JSON.stringify). */
  toJSON(): TokenizerConfig {
    return {
      type: 'Tokenizer',
      lowercase: this.lowercase,
      stripHtml: this.stripHtml,
      punctuation: this.punctuation,
      normalize: this.normalize,
    };
  }

  /**
   * A Tokenizer from toJSON's output (missing settings take their defaults).
   *
   * @throws TypeError when j is not a Tokenizer configuration or holds a bad setting.
   */
  static fromJSON(j: unknown): Tokenizer {
    if (j === null || typeof j !== 'object' || (j as { type?: unknown }).type !== 'Tokenizer')
      throw new TypeError('Tokenizer.fromJSON: not a Tokenizer configuration (expected type "Tokenizer")');
    const c = j as Partial<TokenizerConfig>;
    try {
      return new Tokenizer({
        lowercase: c.lowercase,
        stripHtml: c.stripHtml,
        punctuation: c.punctuation,
        normalize: c.normalize,
      });
    } catch (e) {
      throw new TypeError(`Tokenizer.fromJSON: ${(e as Error).message}`);
    }
  }
}

/**
 * Vocabulary.build's options. Unknown keys throw.
 *
 * @example
 * ```ts
 * import { Vocabulary, type VocabularyOptions } from 'axon-nn';
 * const options: VocabularyOptions = { maxSize: 3, minFreq: 2 };
 * const vocab = Vocabulary.build([['a', 'b', 'a'], ['b', 'c']], options);
 * console.log(vocab.tokens); // ['<pad>', '<unk>', 'a']
 * ```
 */
export interface VocabularyOptions {
  /** Most tokens kept, the two reserved ones included (so an embedding table needs at most maxSize rows). */
  maxSize?: number;
  /** Tokens seen fewer times are left out (they encode as `<unk>`); default 1. */
  minFreq?: number;
}
const VOCABULARY_KEYS = optionKeys<VocabularyOptions>({ maxSize: true, minFreq: true });
/**
 * Vocabulary.fromTexts's options: the build options plus the tokenizer to keep.
 *
 * @example
 * ```ts
 * import { Tokenizer, Vocabulary, type FromTextsOptions } from 'axon-nn';
 * const options: FromTextsOptions = { tokenizer: new Tokenizer({ punctuation: 'drop' }), minFreq: 1 };
 * const vocab = Vocabulary.fromTexts(['Great film!', 'Bad film.'], options);
 * console.log(vocab.tokens); // ['<pad>', '<unk>', 'film', 'bad', 'great']
 * ```
 */
export interface FromTextsOptions extends VocabularyOptions {
  /** Tokenizer for the texts (default `new Tokenizer()`); kept by the vocabulary for encodeTexts and toJSON. */
  tokenizer?: Tokenizer;
}
const FROM_TEXTS_KEYS = optionKeys<FromTextsOptions>({ maxSize: true, minFreq: true, tokenizer: true });
/**
 * Vocabulary.decode's options.
 *
 * @example
 * ```ts
 * import { Vocabulary, type DecodeOptions } from 'axon-nn';
 * const vocab = Vocabulary.fromTexts(['a long text', 'short']);
 * const options: DecodeOptions = { skipPad: true };
 * const { data, shape } = vocab.encodeTexts(['a long text', 'short']); // shape [2, 3]
 * const row1 = data.subarray(shape[1], 2 * shape[1]); // 'short' and two <pad>
 * console.log(vocab.decode(row1, options)); // ['short']
 * ```
 */
export interface DecodeOptions {
  /** Drop `<pad>` (id 0) entries (default false). */
  skipPad?: boolean;
}
const DECODE_KEYS = optionKeys<DecodeOptions>({ skipPad: true });

/**
 * A saved Vocabulary: what `toJSON` returns and `Vocabulary.fromJSON` reads back.
 *
 * @example
 * ```ts
 * import { Vocabulary, type VocabularyJSON } from 'axon-nn';
 * const saved: VocabularyJSON = { type: 'Vocabulary', version: 1, tokens: ['<pad>', '<unk>', 'yes', 'no'] };
 * console.log(Vocabulary.fromJSON(saved).id('no')); // 3
 * ```
 */
export interface VocabularyJSON {
  /** Always 'Vocabulary'. */
  type: 'Vocabulary';
  /** The format version (1). */
  version: 1;
  /** Token of each id; tokens[0] = '<pad>', tokens[1] = '<unk>'. */
  tokens: string[];
  /** The tokenizer the vocabulary was built with, when known. */
  tokenizer?: TokenizerConfig;
}

/**
 * Vocabulary.encodeTexts's options. Unknown keys throw.
 *
 * @example
 * ```ts
 * import { Vocabulary, type EncodeTextsOptions } from 'axon-nn';
 * const vocab = Vocabulary.fromTexts(['one two three four']);
 * const options: EncodeTextsOptions = { maxLen: 2, truncating: 'pre' };
 * console.log(vocab.decode(vocab.encodeTexts(['one two three four'], options).data)); // ['three', 'four']
 * ```
 */
export interface EncodeTextsOptions {
  /** Tokenizer for the texts (default: the one the vocabulary was built with, else `new Tokenizer()`). */
  tokenizer?: Tokenizer;
  /** Steps per row (default: the longest text). */
  maxLen?: number;
  /** 'post' (default): what lengths-based masking in the recurrent layers expects. */
  padding?: PadSide;
  /** 'post' (default) keeps the beginning of a long text, 'pre' its end. */
  truncating?: PadSide;
}
const ENCODE_TEXTS_KEYS = optionKeys<EncodeTextsOptions>({
  tokenizer: true,
  maxLen: true,
  padding: true,
  truncating: true,
});

/**
 * Token <-> id table. Ids: 0 = `<pad>`, 1 = `<unk>`, then tokens by descending frequency,
 * ties broken by code-unit order of the token (locale-independent), so the same corpus gives
 * the same ids on every machine. Build with `fromTexts` or `build`; save with toJSON / fromJSON.
 *
 * @example
 * ```ts
 * import { Tokenizer, Vocabulary } from 'axon-nn';
 * const trainTexts = ['A great film.', 'A dull, slow film.', 'Great acting!'];
 * const vocab = Vocabulary.fromTexts(trainTexts, { tokenizer: new Tokenizer(), maxSize: 10000, minFreq: 2 });
 * const { data, lengths, shape } = vocab.encodeTexts(['A great plot.'], { maxLen: 6 });
 * console.log(vocab.tokens); // ['<pad>', '<unk>', '.', 'a', 'film', 'great']
 * console.log(data, lengths, shape); // Int32Array [3, 5, 1, 2, 0, 0] Int32Array [4] [1, 6]
 * ```
 */
export class Vocabulary {
  /** Token of each id. */
  readonly tokens: readonly string[];
  /** The tokenizer used by `fromTexts` (and saved with toJSON), or null. */
  readonly tokenizer: Tokenizer | null;
  private readonly index: Map<string, number>;

  private constructor(tokens: string[], tokenizer: Tokenizer | null) {
    this.tokens = Object.freeze(tokens);
    this.tokenizer = tokenizer;
    this.index = new Map(tokens.map((t, i) => [t, i]));
  }

  /**
   * Counts tokens over token streams (one array of tokens per document) and keeps the most frequent.
   * Occurrences of the literal strings `<pad>` and `<unk>` are not counted.
   *
   * @throws TypeError for a stream that is not an array of strings (naming document and position);
   *   RangeError for maxSize < 2 or minFreq < 1.
   */
  static build(streams: Iterable<readonly string[]>, options: VocabularyOptions = {}): Vocabulary {
    checkOptionKeys('Vocabulary.build', options, VOCABULARY_KEYS);
    return Vocabulary.buildWith(streams, options, null);
  }

  /** Tokenizes `texts` and builds from the tokens; the tokenizer is kept for encodeTexts and toJSON. */
  static fromTexts(
    texts: readonly string[],
    options: FromTextsOptions = {},
  ): Vocabulary {
    checkOptionKeys('Vocabulary.fromTexts', options, FROM_TEXTS_KEYS);
    const tokenizer = options.tokenizer ?? new Tokenizer();
    if (!(tokenizer instanceof Tokenizer)) throw new TypeError('Vocabulary.fromTexts: tokenizer must be a Tokenizer');
    return Vocabulary.buildWith(tokenizer.tokenizeAll(texts), options, tokenizer);
  }

  private static buildWith(
    streams: Iterable<readonly string[]>,
    options: VocabularyOptions,
    tokenizer: Tokenizer | null,
  ): Vocabulary {
    const op = 'Vocabulary.build';
    const { maxSize, minFreq = 1 } = options ?? {};
    if (maxSize !== undefined && (!Number.isSafeInteger(maxSize) || maxSize < 2))
      throw new RangeError(`${op}: maxSize must be an integer >= 2 (it counts <pad> and <unk>), got ${String(maxSize)}`);
    if (!Number.isSafeInteger(minFreq) || minFreq < 1)
      throw new RangeError(`${op}: minFreq must be a positive integer, got ${String(minFreq)}`);
    if (streams === null || typeof (streams as Iterable<unknown>)[Symbol.iterator] !== 'function')
      throw new TypeError(`${op}: expected an iterable of token arrays`);
    const counts = new Map<string, number>();
    let doc = 0;
    for (const tokens of streams) {
      if (!Array.isArray(tokens)) throw new TypeError(`${op}: document ${doc} is ${typeof tokens}, expected an array of tokens`);
      tokens.forEach((t, i) => {
        if (typeof t !== 'string' || t.length === 0)
          throw new TypeError(`${op}: document ${doc}, token ${i} is ${show(t)}, expected a non-empty string`);
        if (t !== PAD_TOKEN && t !== UNK_TOKEN) counts.set(t, (counts.get(t) ?? 0) + 1);
      });
      doc++;
    }
    const ranked = [...counts].filter(([, c]) => c >= minFreq);
    ranked.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const limit = Math.min(maxSize ?? MAX_VOCABULARY_SIZE, MAX_VOCABULARY_SIZE) - 2;
    return new Vocabulary([PAD_TOKEN, UNK_TOKEN, ...ranked.slice(0, limit).map(([t]) => t)], tokenizer);
  }

  /** Number of ids (the embedding table's row count). */
  get size(): number {
    return this.tokens.length;
  }

  /** Whether the token has its own id (`<pad>` and `<unk>` included). */
  has(token: string): boolean {
    return this.index.has(token);
  }

  /** The id of a token, `UNK_ID` when it is not in the vocabulary. */
  id(token: string): number {
    return this.index.get(token) ?? UNK_ID;
  }

  /**
   * Maps tokens to ids.
   *
   * @returns the ids of `tokens` (unknown tokens -> 1).
   * @throws TypeError when a token is not a string.
   */
  encode(tokens: readonly string[]): Int32Array {
    if (!Array.isArray(tokens)) throw new TypeError(`Vocabulary.encode: expected an array of tokens, got ${typeof tokens}`);
    const out = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (typeof t !== 'string') throw new TypeError(`Vocabulary.encode: token ${i} is ${typeof t}, expected a string`);
      out[i] = this.index.get(t) ?? UNK_ID;
    }
    return out;
  }

  /**
   * Maps ids back to tokens.
   *
   * @param ids token ids, e.g. one row of `encodeTexts(...).data`.
   * @param options skipPad: drop `<pad>` (id 0) entries (default false).
   * @throws RangeError for an id that is not an integer in [0, size).
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string[] {
    checkOptionKeys('Vocabulary.decode', options, DECODE_KEYS);
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const k = ids[i];
      if (!Number.isInteger(k) || k < 0 || k >= this.tokens.length)
        throw new RangeError(`Vocabulary.decode: id ${String(k)} at position ${i} is outside [0, ${this.tokens.length})`);
      if (k === PAD_ID && options.skipPad) continue;
      out.push(this.tokens[k]);
    }
    return out;
  }

  /**
   * Tokenizes, encodes and pads texts into int32 ids (N, T) plus each row's length, ready for
   * an embedding layer followed by a recurrent layer that takes the lengths.
   *
   * @throws TypeError for a non-string text (naming its index); RangeError for bad pad options.
   */
  encodeTexts(texts: readonly string[], options: EncodeTextsOptions = {}): PaddedSequences {
    checkOptionKeys('Vocabulary.encodeTexts', options, ENCODE_TEXTS_KEYS);
    const tokenizer = options.tokenizer ?? this.tokenizer ?? new Tokenizer();
    if (!(tokenizer instanceof Tokenizer))
      throw new TypeError('Vocabulary.encodeTexts: tokenizer must be a Tokenizer');
    const ids = tokenizer.tokenizeAll(texts).map((t) => this.encode(t));
    return padSequences(ids, {
      maxLen: options.maxLen,
      padding: options.padding,
      truncating: options.truncating,
      value: PAD_ID,
    });
  }

  /** The tokens (and tokenizer settings, if any) as plain JSON, for fromJSON (used by JSON.stringify). */
  toJSON(): VocabularyJSON {
    const j: VocabularyJSON = { type: 'Vocabulary', version: 1, tokens: [...this.tokens] };
    if (this.tokenizer) j.tokenizer = this.tokenizer.toJSON();
    return j;
  }

  /**
   * Reads a saved vocabulary, treating it as untrusted: every field is type- and bounds-checked.
   *
   * @throws TypeError naming the first problem (wrong type or version, reserved tokens not at
   *   ids 0 and 1, an empty, non-string or duplicated token, too many tokens, bad tokenizer).
   */
  static fromJSON(j: unknown): Vocabulary {
    const op = 'Vocabulary.fromJSON';
    if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new TypeError(`${op}: expected an object`);
    const v = j as Partial<VocabularyJSON> & Record<string, unknown>;
    if (v.type !== 'Vocabulary') throw new TypeError(`${op}: type must be "Vocabulary", got ${show(v.type)}`);
    if (v.version !== 1) throw new TypeError(`${op}: unsupported version ${show(v.version)} (this reader knows 1)`);
    const tokens: unknown = v.tokens;
    if (!Array.isArray(tokens)) throw new TypeError(`${op}: tokens must be an array of strings`);
    if (tokens.length < 2 || tokens.length > MAX_VOCABULARY_SIZE)
      throw new TypeError(`${op}: ${tokens.length} tokens; expected 2 to ${MAX_VOCABULARY_SIZE}`);
    if (tokens[PAD_ID] !== PAD_TOKEN || tokens[UNK_ID] !== UNK_TOKEN)
      throw new TypeError(`${op}: tokens[0] must be "${PAD_TOKEN}" and tokens[1] "${UNK_TOKEN}"`);
    const seen = new Map<string, number>();
    for (let i = 0; i < tokens.length; i++) {
      const t: unknown = tokens[i];
      if (typeof t !== 'string' || t.length === 0)
        throw new TypeError(`${op}: tokens[${i}] must be a non-empty string, got ${show(t)}`);
      const prev = seen.get(t);
      if (prev !== undefined) throw new TypeError(`${op}: token ${JSON.stringify(t)} appears at ids ${prev} and ${i}`);
      seen.set(t, i);
    }
    const tokenizer = v.tokenizer === undefined ? null : Tokenizer.fromJSON(v.tokenizer);
    return new Vocabulary(tokens as string[], tokenizer);
  }
}

/**
 * Rows of a labelled text file, as parseLabelledTsv and readLabelledTsv return them.
 *
 * @example
 * ```ts
 * import { parseLabelledTsv, Vocabulary, type LabelledTexts } from 'axon-nn';
 * const rows: LabelledTexts = parseLabelledTsv('label\ttext\n1\tloved it\n0\tboring\n');
 * const vocab = Vocabulary.fromTexts(rows.texts);
 * console.log(rows.labels, rows.columns.label); // Int32Array [1, 0] ['1', '0']
 * ```
 */
export interface LabelledTexts {
  /** Integer label of each row. */
  labels: Int32Array;
  /** The text column of each row. */
  texts: string[];
  /** Every column by header name, as strings (label and text included). */
  columns: Record<string, string[]>;
}

/**
 * Parses tab-separated text with a header naming a `label` column (integers) and a `text`
 * column, e.g. data/sentiment/sentences.tsv (`label<TAB>source<TAB>text`). No quoting: a
 * cell runs to the next tab, so texts must not contain tabs or newlines.
 *
 * @throws RangeError naming the line for a wrong cell count or a non-integer label, or a
 *   header without label or text (or naming a column twice); TypeError for a non-string.
 * @example
 * ```ts
 * import { parseLabelledTsv } from 'axon-nn';
 * const { labels, texts, columns } = parseLabelledTsv('label\tsource\ttext\n1\timdb\tA gem.\n0\tyelp\tCold food.\n');
 * console.log(labels, texts, columns.source); // Int32Array [1, 0] ['A gem.', 'Cold food.'] ['imdb', 'yelp']
 * ```
 */
export function parseLabelledTsv(content: string): LabelledTexts {
  const op = 'parseLabelledTsv';
  if (typeof content !== 'string') throw new TypeError(`${op}: expected the file's text, got ${typeof content}`);
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = lines[0].split('\t');
  const li = header.indexOf('label');
  const ti = header.indexOf('text');
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) throw new RangeError(`${op}: the header names column ${show(dup)} twice`);
  if (li < 0 || ti < 0)
    throw new RangeError(`${op}: the header must name 'label' and 'text' columns, got ${JSON.stringify(header)}`);
  const columns: Record<string, string[]> = Object.fromEntries(header.map((h) => [h, [] as string[]]));
  const labels: number[] = [];
  for (let n = 1; n < lines.length; n++) {
    if (lines[n] === '') continue;
    const cells = lines[n].split('\t');
    if (cells.length !== header.length)
      throw new RangeError(`${op}: line ${n + 1} has ${cells.length} cells, the header ${header.length}`);
    const label = Number(cells[li]);
    if (cells[li].trim() === '' || !Number.isInteger(label) || Math.abs(label) > 2 ** 31 - 1)
      throw new RangeError(`${op}: line ${n + 1}: label ${JSON.stringify(cells[li])} is not an integer`);
    labels.push(label);
    header.forEach((h, c) => columns[h].push(cells[c]));
  }
  return { labels: Int32Array.from(labels), texts: columns.text, columns };
}

/**
 * Reads a file for parseLabelledTsv (UTF-8; a regular file of at most 256 MiB, a leading BOM
 * ignored).
 *
 * @throws what parseLabelledTsv throws, an Error for a refused file, or the system error (ENOENT, ...).
 * @example
 * ```ts
 * import { readLabelledTsv } from 'axon-nn';
 * import { writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * const path = `${tmpdir()}/reviews.tsv`;
 * writeFileSync(path, 'label\ttext\n1\tLoved it.\n0\tToo long.\n');
 * const { labels, texts } = await readLabelledTsv(path); // Int32Array [1, 0], ['Loved it.', 'Too long.']
 * ```
 */
export async function readLabelledTsv(path: string): Promise<LabelledTexts> {
  return parseLabelledTsv((await readFileChecked(path, MAX_TEXT_BYTES)).toString('utf8'));
}
