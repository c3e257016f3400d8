/**
 * Sequence layers: Embedding, LSTM, GRU, SimpleRNN (PyTorch's nn.RNN), LastStep and
 * MeanOverTime pooling, and TimeDistributed.
 *
 * The recurrent layers follow PyTorch: parameters weight_ih_l{k}, weight_hh_l{k},
 * bias_ih_l{k}, bias_hh_l{k} (suffix _reverse for the backward direction), gate order LSTM
 * (i, f, g, o) and GRU (r, z, n), every weight and bias initialised U(-1/sqrt(H), 1/sqrt(H)),
 * sequences time-major [T, N, F] unless batchFirst, so a PyTorch state dict loads unchanged.
 * Keras differences: Keras defaults to batch-first input, returns only the last output unless
 * return_sequences, initialises kernels Glorot-uniform, recurrent kernels orthogonal and
 * biases to zero (with the LSTM forget bias at 1); the options below reproduce each of those.
 *
 * Padded batches: give `lengths` (int32 [N]) to run(), or attach them to the input with
 * withLengths; an Embedding with a paddingIdx attaches them itself, so
 * Sequential([Embedding(.., {paddingIdx: 0}), LSTM(.., {batchFirst: true}), ..]) masks padding
 * with no extra code (an Embedding's output is batch-major; a time-major LSTM after it says so).
 */
import { dropout, dropoutState } from './functional.js';
import { concat, permute, reshape, row } from '../ops/layout.js';
import {
  embedding,
  gateCount,
  lengthsFor,
  rnnDirection,
  sequenceLengths,
  sequencePool,
  withLengths,
  type RnnMode,
} from '../ops/rnn.js';
import type { RandomOptions } from '../tensor/random.js';
import { seededOnce } from '../tensor/random.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { stack } from '../ops/layout.js';
import { constant, getInitializer, normal, uniform, type Initializer, type InitializerLike } from './init.js';
import { Module, Parameter } from './module.js';
import { checkOptionKeys, optionKeys } from '../options.js';

function positiveInt(op: string, v: unknown, name: string): void {
  if (!Number.isInteger(v) || (v as number) < 1)
    throw new RangeError(`${op}: ${name} must be a positive integer, got ${String(v)}`);
}

/**
 * {@link LSTM}'s, {@link GRU}'s and {@link SimpleRNN}'s options. Defaults are PyTorch's; the
 * Keras setup is `{ batchFirst: true, returnSequences: false, weightInit: 'glorotUniform',
 * recurrentInit: 'orthogonal', biasInit: 'zeros', forgetBias: 1 }`. Unknown keys throw.
 *
 * @example
 * ```ts
 * import { LSTM, randn, type RecurrentOptions } from 'axon-nn';
 * const options: RecurrentOptions = { batchFirst: true, numLayers: 2, dropout: 0.2, bidirectional: true };
 * const lstm = new LSTM(16, 32, options);
 * const y = lstm.forward(randn([4, 10, 16])); // [4, 10, 64]
 * ```
 */
export interface RecurrentOptions {
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Input and recurrent biases (default true). */
  bias?: boolean;
  /** Input and output [N, T, F] instead of [T, N, F] (default false, as PyTorch). */
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last, in training (default 0). */
  dropout?: number;
  /** A second direction over the reversed sequence; outputs concatenate (default false). */
  bidirectional?: boolean;
  /**
   * forward() returns the whole output sequence (true, default, as PyTorch's `output`) or the
   * last layer's final hidden state [N, H * directions] (false, Keras's default): for padded
   * rows the state after their last valid step.
   */
  returnSequences?: boolean;
  /** Input weights (default U(-1/sqrt(H), 1/sqrt(H)); Keras: 'glorotUniform'). */
  weightInit?: InitializerLike;
  /** Recurrent weights (default as weightInit; Keras: 'orthogonal'). */
  recurrentInit?: InitializerLike;
  /** Biases (default U(-1/sqrt(H), 1/sqrt(H)); Keras: 'zeros'). */
  biasInit?: InitializerLike;
  /** LSTM only: set the forget-gate slice of bias_ih to this (Keras's unit_forget_bias: 1). */
  forgetBias?: number;
  /** Seed or generator for the initial weights and the dropout stream. */
  init?: RandomOptions;
}
const RECURRENT_KEYS = optionKeys<RecurrentOptions>({
  numLayers: true,
  bias: true,
  batchFirst: true,
  dropout: true,
  bidirectional: true,
  returnSequences: true,
  weightInit: true,
  recurrentInit: true,
  biasInit: true,
  forgetBias: true,
  init: true,
});

/**
 * {@link RecurrentBase.run}'s optional inputs: initial states and per-sequence lengths.
 * Omitted states start at zero. Unknown keys throw.
 *
 * @example
 * ```ts
 * import { GRU, randn, tensor, type RecurrentState } from 'axon-nn';
 * const gru = new GRU(8, 16);
 * const state: RecurrentState = { h0: randn([1, 2, 16]), lengths: tensor([5, 3], { dtype: 'int32' }) };
 * const { output, hn } = gru.run(randn([5, 2, 8]), state); // [5, 2, 16] and [1, 2, 16]
 * ```
 */
export interface RecurrentState {
  /** Initial hidden states [layers * directions, N, H]. */
  h0?: Tensor | null;
  /** Initial LSTM cell states [layers * directions, N, H]. */
  c0?: Tensor | null;
  /** Valid steps per sequence, int32 [N] (default: the input's withLengths, else all). */
  lengths?: Tensor | null;
}
const RECURRENT_STATE_KEYS = optionKeys<RecurrentState>({ h0: true, c0: true, lengths: true });

/**
 * What {@link RecurrentBase.run} returns: the last layer's output sequence and every layer's
 * final states, as PyTorch's (output, h_n) or (output, (h_n, c_n)).
 *
 * @example
 * ```ts
 * import { LSTM, randn, type RecurrentResult } from 'axon-nn';
 * const lstm = new LSTM(8, 16, { numLayers: 2 });
 * const r: RecurrentResult = lstm.run(randn([5, 3, 8]));
 * console.log(r.output.shape, r.hn.shape, r.cn?.shape); // [5, 3, 16] [2, 3, 16] [2, 3, 16]
 * ```
 */
export interface RecurrentResult {
  /** [T, N, H * directions] ([N, T, ..] with batchFirst); zeros at padded steps. */
  output: Tensor;
  /** Final hidden states [layers * directions, N, H]. */
  hn: Tensor;
  /** Final LSTM cell states [layers * directions, N, H]; null otherwise. */
  cn: Tensor | null;
}

/**
 * The base of LSTM, GRU and SimpleRNN: the parameters (PyTorch's names and layouts), options,
 * run() with initial states and lengths, and forward(). Not constructed directly; use it as a
 * type for "any recurrent layer".
 *
 * @example
 * ```ts
 * import { GRU, LSTM, RecurrentBase, randn } from 'axon-nn';
 * const layers: RecurrentBase[] = [new LSTM(8, 16), new GRU(8, 16)];
 * const finals = layers.map((rnn) => rnn.run(randn([5, 2, 8])).hn); // each [1, 2, 16]
 * ```
 */
export abstract class RecurrentBase extends Module {
  /** Stacked layers. */
  readonly numLayers: number;
  /** Whether the layers have input and recurrent biases. */
  readonly bias: boolean;
  /** Whether input and output are [N, T, F] rather than [T, N, F]. */
  readonly batchFirst: boolean;
  /** Dropout probability between stacked layers, in training. */
  readonly dropout: number;
  /** Whether a second direction runs over the reversed sequence. */
  readonly bidirectional: boolean;
  /** Whether forward() returns the output sequence (true) or the final hidden state [N, H * directions]. */
  readonly returnSequences: boolean;
  /** The input weights' initialiser (kept for getConfig). */
  readonly weightInit: Initializer;
  /** The recurrent weights' initialiser. */
  readonly recurrentInit: Initializer;
  /** The biases' initialiser. */
  readonly biasInit: Initializer;
  /** The LSTM forget-gate bias the layer was built with, if any. */
  readonly forgetBias: number | undefined;
  /** The inter-layer dropout's counter-based random stream [seedHigh, seedLow, counter]. */
  readonly rngState: Float64Array;

  protected constructor(
    /** The layer's class name, used in error messages. */
    readonly op: string,
    /** The cell: 'lstm', 'gru', 'rnnTanh' or 'rnnRelu'. */
    readonly mode: RnnMode,
    /** Features of each input step (F). */
    readonly inputSize: number,
    /** Features of the hidden state (H). */
    readonly hiddenSize: number,
    options: RecurrentOptions,
  ) {
    super();
    positiveInt(op, inputSize, 'inputSize');
    positiveInt(op, hiddenSize, 'hiddenSize');
    this.numLayers = options.numLayers ?? 1;
    positiveInt(op, this.numLayers, 'numLayers');
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1))
      throw new RangeError(`${op}: dropout must be in [0, 1], got ${this.dropout}`);
    this.bidirectional = options.bidirectional ?? false;
    this.returnSequences = options.returnSequences ?? true;
    const k = 1 / Math.sqrt(hiddenSize);
    this.weightInit = options.weightInit ? getInitializer(options.weightInit) : uniform(-k, k);
    this.recurrentInit = options.recurrentInit ? getInitializer(options.recurrentInit) : this.weightInit;
    this.biasInit = options.biasInit ? getInitializer(options.biasInit) : uniform(-k, k);
    this.forgetBias = options.forgetBias;
    if (this.forgetBias !== undefined && (mode !== 'lstm' || !Number.isFinite(this.forgetBias)))
      throw new RangeError(`${op}: forgetBias is an LSTM option and must be finite`);
    const random = seededOnce(options.init);
    this.rngState = dropoutState(random);
    const G = gateCount(mode) * hiddenSize;
    const self = this as unknown as Record<string, Parameter>;
    for (let l = 0; l < this.numLayers; l++)
      for (const suffix of this.directionSuffixes()) {
        const inF = l === 0 ? inputSize : hiddenSize * this.directions;
        const fans = (fanIn: number) => ({ ...random, fans: { fanIn, fanOut: G } });
        // Each gate block is its own matrix for fan-based and orthogonal initialisers.
        self[`weight_ih_l${l}${suffix}`] = new Parameter(this.blocks(this.weightInit, [hiddenSize, inF], random));
        self[`weight_hh_l${l}${suffix}`] = new Parameter(
          this.blocks(this.recurrentInit, [hiddenSize, hiddenSize], random),
        );
        if (this.bias) {
          const bi = this.biasInit.create([G], fans(inF));
          if (this.forgetBias !== undefined)
            (bi.data as Float32Array).fill(this.forgetBias, hiddenSize, 2 * hiddenSize);
          self[`bias_ih_l${l}${suffix}`] = new Parameter(bi);
          self[`bias_hh_l${l}${suffix}`] = new Parameter(this.biasInit.create([G], fans(hiddenSize)));
        }
      }
  }

  /** 2 when bidirectional, else 1. */
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  private directionSuffixes(): string[] {
    return this.bidirectional ? ['', '_reverse'] : [''];
  }

  /** G gate blocks [H, F] drawn one after another into a [G*H, F] tensor. */
  private blocks(init: Initializer, block: [number, number], random: RandomOptions | undefined): Tensor {
    const G = gateCount(this.mode);
    // Each block goes through the initialiser (which charges a loading file's allocation
    // budget) before the joined copy is allocated, so a hostile size fails before it is built.
    const parts: Tensor[] = [];
    for (let g = 0; g < G; g++)
      parts.push(init.create(block, { ...random, fans: { fanIn: block[1], fanOut: block[0] } }));
    const out = new Float32Array(G * block[0] * block[1]);
    parts.forEach((p, g) => out.set(p.data as Float32Array, g * block[0] * block[1]));
    return new Tensor(out, [G * block[0], block[1]]);
  }

  private param(name: string): Parameter | null {
    return (this as unknown as Record<string, Parameter | undefined>)[name] ?? null;
  }

  /** Runs every layer and direction; returns the output sequence and the final states. */
  run(x: Tensor, state: RecurrentState = {}): RecurrentResult {
    checkOptionKeys(`${this.op}.run`, state, RECURRENT_STATE_KEYS);
    return this.compute(x, state, true);
  }

  /** run(), leaving out the batch-first output copy when only the final states are wanted. */
  private compute(x: Tensor, state: RecurrentState, wantOutput: boolean): RecurrentResult {
    const op = this.op;
    if (!(x instanceof Tensor)) throw new TypeError(`${op}: input must be a Tensor`);
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize)
      throw new RangeError(
        `${op}(${this.inputSize}, ${this.hiddenSize}): input must be ${this.batchFirst ? '[batch, steps' : '[steps, batch'}, ${this.inputSize}], got ${shapeToString(x.shape)}`,
      );
    const lengths =
      state.lengths ?? lengthsFor(op, x, !this.batchFirst, `batchFirst: ${this.batchFirst ? 'false' : 'true'}`);
    let seq = this.batchFirst ? permute(x, [1, 0, 2]) : x;
    const N = seq.shape[1];
    const LD = this.numLayers * this.directions;
    for (const [s, name] of [
      [state.h0, 'h0'],
      [state.c0, 'c0'],
    ] as const)
      if (s && (s.ndim !== 3 || s.shape[0] !== LD || s.shape[1] !== N || s.shape[2] !== this.hiddenSize))
        throw new RangeError(
          `${op}: ${name} must be [${LD}, ${N}, ${this.hiddenSize}] (layers * directions, batch, hidden), got ${shapeToString(s.shape)}`,
        );
    if (state.c0 && this.mode !== 'lstm') throw new RangeError(`${op}: only an LSTM has a cell state (c0)`);
    const hns: Tensor[] = [];
    const cns: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Tensor[] = [];
      this.directionSuffixes().forEach((suffix, d) => {
        const k = l * this.directions + d;
        const r = rnnDirection(
          this.mode,
          seq,
          {
            wIh: this.param(`weight_ih_l${l}${suffix}`) as Parameter,
            wHh: this.param(`weight_hh_l${l}${suffix}`) as Parameter,
            bIh: this.param(`bias_ih_l${l}${suffix}`),
            bHh: this.param(`bias_hh_l${l}${suffix}`),
          },
          {
            h0: state.h0 ? row(state.h0, k) : null,
            c0: state.c0 ? row(state.c0, k) : null,
            lengths,
            reverse: d === 1,
          },
        );
        outs.push(r.output);
        hns.push(r.hn);
        if (r.cn) cns.push(r.cn);
      });
      seq = outs.length === 1 ? outs[0] : concat(outs, 2);
      if (l < this.numLayers - 1 && this.dropout > 0 && this.training)
        seq = dropout(seq, this.dropout, true, { state: this.rngState });
    }
    const output = this.batchFirst && wantOutput ? permute(seq, [1, 0, 2]) : seq;
    if (lengths && wantOutput) withLengths(output, lengths, { timeMajor: !this.batchFirst });
    return {
      output,
      hn: hns.length === 1 ? reshape(hns[0], [1, ...hns[0].shape]) : stack(hns, 0),
      cn: cns.length === 0 ? null : cns.length === 1 ? reshape(cns[0], [1, ...cns[0].shape]) : stack(cns, 0),
    };
  }

  /** The output sequence, or with returnSequences false the final state [N, H * directions]. */
  forward(x: Tensor): Tensor {
    const r = this.compute(x, {}, this.returnSequences);
    if (this.returnSequences) return r.output;
    const last = this.numLayers - 1;
    if (this.directions === 1) return row(r.hn, last);
    return concat([row(r.hn, 2 * last), row(r.hn, 2 * last + 1)], 1);
  }

  override getConfig(): Record<string, unknown> {
    return {
      inputSize: this.inputSize,
      hiddenSize: this.hiddenSize,
      numLayers: this.numLayers,
      bias: this.bias,
      batchFirst: this.batchFirst,
      dropout: this.dropout,
      bidirectional: this.bidirectional,
      returnSequences: this.returnSequences,
      weightInit: { name: this.weightInit.name, config: { ...this.weightInit.config } },
      recurrentInit: { name: this.recurrentInit.name, config: { ...this.recurrentInit.config } },
      biasInit: { name: this.biasInit.name, config: { ...this.biasInit.config } },
      ...(this.forgetBias !== undefined ? { forgetBias: this.forgetBias } : {}),
    };
  }

  override extraRepr(): string {
    const extras = [
      this.numLayers > 1 ? `numLayers=${this.numLayers}` : '',
      this.bias ? '' : 'bias=false',
      this.batchFirst ? 'batchFirst=true' : '',
      this.dropout ? `dropout=${this.dropout}` : '',
      this.bidirectional ? 'bidirectional=true' : '',
      this.returnSequences ? '' : 'returnSequences=false',
    ].filter(Boolean);
    return [`${this.inputSize}, ${this.hiddenSize}`, ...extras].join(', ');
  }
}

/**
 * Long short-term memory (nn.LSTM / keras.layers.LSTM), gates (i, f, g, o), over [T, N, F]
 * (or [N, T, F] with batchFirst). forward() returns the output sequence [T, N, H * directions]
 * (or the final hidden state with returnSequences: false); run() also gives the final h and c.
 *
 * @example
 * ```ts
 * import { LSTM, randn } from 'axon-nn';
 * const lstm = new LSTM(16, 32, { batchFirst: true });
 * const y = lstm.forward(randn([4, 10, 16])); // [4, 10, 32]
 * ```
 */
export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    checkOptionKeys('LSTM', options, RECURRENT_KEYS);
    super('LSTM', 'lstm', inputSize, hiddenSize, options);
  }
}

/**
 * Gated recurrent unit (nn.GRU; Keras's GRU with reset_after=True), gates (r, z, n), over
 * [T, N, F] (or [N, T, F] with batchFirst).
 *
 * @example
 * ```ts
 * import { GRU, randn } from 'axon-nn';
 * const gru = new GRU(16, 32, { batchFirst: true, returnSequences: false });
 * const last = gru.forward(randn([4, 10, 16])); // [4, 32]
 * ```
 */
export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    checkOptionKeys('GRU', options, RECURRENT_KEYS);
    super('GRU', 'gru', inputSize, hiddenSize, options);
  }
}

/**
 * {@link SimpleRNN}'s options: {@link RecurrentOptions} plus the nonlinearity.
 *
 * @example
 * ```ts
 * import { SimpleRNN, type SimpleRNNOptions } from 'axon-nn';
 * const options: SimpleRNNOptions = { nonlinearity: 'relu', batchFirst: true };
 * const rnn = new SimpleRNN(8, 16, options);
 * ```
 */
export interface SimpleRNNOptions extends RecurrentOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}
const SIMPLE_RNN_KEYS = optionKeys<SimpleRNNOptions>({
  numLayers: true,
  bias: true,
  batchFirst: true,
  dropout: true,
  bidirectional: true,
  returnSequences: true,
  weightInit: true,
  recurrentInit: true,
  biasInit: true,
  forgetBias: true,
  init: true,
  nonlinearity: true,
});

/**
 * Elman RNN h = act(W_ih x + b_ih + W_hh h + b_hh) (PyTorch's nn.RNN, Keras's SimpleRNN), with
 * tanh (default) or relu, over [T, N, F] (or [N, T, F] with batchFirst).
 *
 * @example
 * ```ts
 * import { SimpleRNN, randn } from 'axon-nn';
 * const rnn = new SimpleRNN(8, 16);
 * const y = rnn.forward(randn([5, 2, 8])); // [5, 2, 16]
 * ```
 */
export class SimpleRNN extends RecurrentBase {
  /** The activation: 'tanh' or 'relu'. */
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, options: SimpleRNNOptions = {}) {
    checkOptionKeys('SimpleRNN', options, SIMPLE_RNN_KEYS);
    const nl = options.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu')
      throw new RangeError(`SimpleRNN: nonlinearity must be 'tanh' or 'relu', got ${String(nl)}`);
    super('SimpleRNN', nl === 'tanh' ? 'rnnTanh' : 'rnnRelu', inputSize, hiddenSize, options);
    this.nonlinearity = nl;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), nonlinearity: this.nonlinearity };
  }
}

/**
 * {@link Embedding}'s options (PyTorch's nn.Embedding arguments). Unknown keys throw.
 *
 * @example
 * ```ts
 * import { Embedding, type EmbeddingLayerOptions } from 'axon-nn';
 * const options: EmbeddingLayerOptions = { paddingIdx: 0, weightInit: 'uniform' }; // Keras's init
 * const embed = new Embedding(10_000, 64, options);
 * ```
 */
export interface EmbeddingLayerOptions {
  /** Token whose vector is zero at init and never trained; its runs at the end of a row are
   * padding: the output carries the rows' valid lengths for the sequence layers after it. */
  paddingIdx?: number;
  /** Table rows looked up with a norm above this are rescaled to it, in place, as PyTorch's (> 0; default none). */
  maxNorm?: number;
  /** The p of the p-norm maxNorm uses (default 2; Infinity for the max-norm). */
  normType?: number;
  /** Default N(0, 1) as PyTorch (Keras: uniform(-0.05, 0.05)). */
  weightInit?: InitializerLike;
  /** Seed or generator for the initial vectors (default: the global generator). */
  init?: RandomOptions;
}
const EMBEDDING_KEYS = optionKeys<EmbeddingLayerOptions>({
  paddingIdx: true,
  maxNorm: true,
  normType: true,
  weightInit: true,
  init: true,
});
/**
 * {@link Embedding.fromPretrained}'s options: the layer's, less the initialiser, plus freeze.
 *
 * @example
 * ```ts
 * import { Embedding, randn, type FromPretrainedOptions } from 'axon-nn';
 * const options: FromPretrainedOptions = { freeze: false, paddingIdx: 0 }; // fine-tune the vectors
 * const embed = Embedding.fromPretrained(randn([1000, 50]), options);
 * ```
 */
export interface FromPretrainedOptions extends Omit<EmbeddingLayerOptions, 'weightInit'> {
  /** Keep the vectors fixed in training (default true). */
  freeze?: boolean;
}
const FROM_PRETRAINED_KEYS = optionKeys<FromPretrainedOptions>({
  paddingIdx: true,
  maxNorm: true,
  normType: true,
  init: true,
  freeze: true,
});
/**
 * {@link LastStep}'s and {@link MeanOverTime}'s options.
 *
 * @example
 * ```ts
 * import { LastStep, type SequencePoolingOptions } from 'axon-nn';
 * const options: SequencePoolingOptions = { timeMajor: true }; // after a time-major LSTM
 * const last = new LastStep(options);
 * ```
 */
export interface SequencePoolingOptions {
  /** Input [T, N, F] instead of [N, T, F] (default false). */
  timeMajor?: boolean;
}
const SEQUENCE_POOLING_KEYS = optionKeys<SequencePoolingOptions>({ timeMajor: true });

/**
 * Token ids (int32, any shape) to vectors: output tokens.shape + [embeddingDim] (nn.Embedding,
 * Keras's Embedding). With a paddingIdx, a [N, T] batch's output carries each row's valid
 * length, so the LSTM/GRU/pooling layers after it skip the padding. Throws a RangeError for an
 * id outside [0, numEmbeddings).
 *
 * @example
 * ```ts
 * import { Embedding, tensor } from 'axon-nn';
 * const embed = new Embedding(1000, 8, { paddingIdx: 0 });
 * const vectors = embed.forward(tensor([[5, 9, 0], [7, 0, 0]], { dtype: 'int32' })); // [2, 3, 8]
 * ```
 */
export class Embedding extends Module {
  /** The table of vectors, [numEmbeddings, embeddingDim]. */
  weight: Parameter;
  /** The padding token's id, if any. */
  readonly paddingIdx: number | undefined;
  /** The norm looked-up rows of the table are renormalised to (in place), if any. */
  readonly maxNorm: number | undefined;
  /** The p of maxNorm's p-norm. */
  readonly normType: number;
  /** The initialiser the table was drawn with (kept for getConfig). */
  readonly weightInit: Initializer;

  constructor(
    /** Vocabulary size: ids run from 0 to numEmbeddings - 1. */
    readonly numEmbeddings: number,
    /** Length of each vector. */
    readonly embeddingDim: number,
    options: EmbeddingLayerOptions = {},
  ) {
    super();
    checkOptionKeys('Embedding', options, EMBEDDING_KEYS);
    positiveInt('Embedding', numEmbeddings, 'numEmbeddings');
    positiveInt('Embedding', embeddingDim, 'embeddingDim');
    const pad = options.paddingIdx;
    if (pad !== undefined && (!Number.isInteger(pad) || pad < 0 || pad >= numEmbeddings))
      throw new RangeError(`Embedding: paddingIdx ${pad} is outside [0, ${numEmbeddings - 1}]`);
    if (options.maxNorm !== undefined && !(options.maxNorm > 0 && Number.isFinite(options.maxNorm)))
      throw new RangeError(`Embedding: maxNorm must be a finite number > 0, got ${options.maxNorm}`);
    this.paddingIdx = pad;
    this.maxNorm = options.maxNorm;
    this.normType = options.normType ?? 2;
    if (!(this.normType > 0)) throw new RangeError(`Embedding: normType must be > 0, got ${this.normType}`);
    this.weightInit = options.weightInit ? getInitializer(options.weightInit) : normal(0, 1);
    const w = this.weightInit.create([numEmbeddings, embeddingDim], seededOnce(options.init));
    if (pad !== undefined) (w.data as Float32Array).fill(0, pad * embeddingDim, (pad + 1) * embeddingDim);
    this.weight = new Parameter(w);
  }

  /** Looks up each id of tokens (int32): output tokens.shape + [embeddingDim]. */
  forward(tokens: Tensor): Tensor {
    if (!(tokens instanceof Tensor)) throw new TypeError('Embedding: input must be an int32 Tensor of token ids');
    const out = embedding(tokens, this.weight, {
      paddingIdx: this.paddingIdx,
      maxNorm: this.maxNorm,
      normType: this.normType,
    });
    if (this.paddingIdx !== undefined && tokens.ndim === 2)
      withLengths(out, sequenceLengths(tokens, this.paddingIdx), { timeMajor: false });
    return out;
  }

  /** An Embedding holding the given [vocab, dim] vectors (e.g. pretrained), optionally frozen. */
  static fromPretrained(vectors: Tensor, options: FromPretrainedOptions = {}): Embedding {
    checkOptionKeys('Embedding.fromPretrained', options, FROM_PRETRAINED_KEYS);
    if (!(vectors instanceof Tensor) || vectors.ndim !== 2 || vectors.dtype !== 'float32')
      throw new RangeError('Embedding.fromPretrained: vectors must be a float32 tensor [vocab, dim]');
    const { freeze = true, ...layer } = options;
    const e = new Embedding(vectors.shape[0], vectors.shape[1], { ...layer, weightInit: constant(0) });
    (e.weight.data as Float32Array).set(vectors.data as Float32Array);
    if (freeze) e.weight.trainable = false;
    return e;
  }

  override getConfig(): Record<string, unknown> {
    return {
      numEmbeddings: this.numEmbeddings,
      embeddingDim: this.embeddingDim,
      ...(this.paddingIdx !== undefined ? { paddingIdx: this.paddingIdx } : {}),
      ...(this.maxNorm !== undefined ? { maxNorm: this.maxNorm } : {}),
      // JSON has no Infinity: the max-norm is written as the string 'inf'.
      normType: Number.isFinite(this.normType) ? this.normType : 'inf',
      weightInit: { name: this.weightInit.name, config: { ...this.weightInit.config } },
    };
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== undefined ? `, paddingIdx=${this.paddingIdx}` : ''}`;
  }
}

/** Shared by LastStep and MeanOverTime: pooling [N, T, F] (or [T, N, F]) over valid steps. */
abstract class SequencePooling extends Module {
  protected constructor(
    private readonly mode: 'last' | 'mean',
    /** Whether the input is [T, N, F] rather than [N, T, F]. */
    readonly timeMajor: boolean,
  ) {
    super();
  }
  /** Pools x over its valid steps (the lengths attached to it, else all): [N, F]. */
  forward(x: Tensor): Tensor {
    const op = this.mode === 'last' ? 'LastStep' : 'MeanOverTime';
    const lengths = lengthsFor(op, x, this.timeMajor, `{ timeMajor: ${this.timeMajor ? 'false' : 'true'} }`);
    return sequencePool(x, this.mode, { lengths, timeMajor: this.timeMajor });
  }
  override getConfig(): Record<string, unknown> {
    return { timeMajor: this.timeMajor };
  }
}

/**
 * The last valid step of each sequence: [N, T, F] -> [N, F] (timeMajor: [T, N, F]). Valid
 * lengths come from the input (an Embedding with paddingIdx, or withLengths); without them
 * every step counts.
 *
 * @example
 * ```ts
 * import { LastStep, randn } from 'axon-nn';
 * const y = new LastStep().forward(randn([4, 10, 32])); // [4, 32]
 * ```
 */
export class LastStep extends SequencePooling {
  constructor(options: SequencePoolingOptions = {}) {
    checkOptionKeys('LastStep', options, SEQUENCE_POOLING_KEYS);
    super('last', options.timeMajor ?? false);
  }
}

/**
 * The mean over each sequence's valid steps: [N, T, F] -> [N, F] (timeMajor: [T, N, F];
 * Keras's GlobalAveragePooling1D with a mask). Valid lengths come from the input, as LastStep's.
 *
 * @example
 * ```ts
 * import { Embedding, Linear, MeanOverTime, Sequential, tensor } from 'axon-nn';
 * const net = new Sequential(new Embedding(100, 16, { paddingIdx: 0 }), new MeanOverTime(), new Linear(16, 2));
 * const logits = net.forward(tensor([[4, 8, 0, 0]], { dtype: 'int32' })); // [1, 2], mean of 2 steps
 * ```
 */
export class MeanOverTime extends SequencePooling {
  constructor(options: SequencePoolingOptions = {}) {
    checkOptionKeys('MeanOverTime', options, SEQUENCE_POOLING_KEYS);
    super('mean', options.timeMajor ?? false);
  }
}

/**
 * Applies a layer to every step: [N, T, ...] runs as [N*T, ...] through the layer and comes
 * back as [N, T, ...out] (Keras's TimeDistributed). Lengths attached to the input carry over.
 * Throws a RangeError for an input of fewer than 3 axes.
 *
 * @example
 * ```ts
 * import { Linear, TimeDistributed, randn } from 'axon-nn';
 * const perStep = new TimeDistributed(new Linear(32, 5));
 * const y = perStep.forward(randn([4, 10, 32])); // [4, 10, 5]
 * ```
 */
export class TimeDistributed extends Module {
  constructor(
    /** The layer applied to every step. */
    readonly layer: Module,
  ) {
    super();
    if (!(layer instanceof Module)) throw new TypeError('TimeDistributed: expected a Module');
  }
  /** Runs the layer on every step of x [N, T, ...]. */
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor) || x.ndim < 3)
      throw new RangeError(
        `TimeDistributed: input must be [batch, steps, ...], got ${x instanceof Tensor ? shapeToString(x.shape) : typeof x}`,
      );
    const [n, t] = x.shape;
    const y = this.layer.forward(reshape(x, [n * t, ...x.shape.slice(2)]));
    const out = reshape(y, [n, t, ...y.shape.slice(1)]);
    const lengths = lengthsFor('TimeDistributed', x, false, 'a batch-major input [batch, steps, ...]');
    if (lengths) withLengths(out, lengths);
    return out;
  }
}
