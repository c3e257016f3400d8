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
import { Generator } from '../tensor/random.js';
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

function seeded(random: RandomOptions | undefined): RandomOptions | undefined {
  if (random && !random.generator && random.seed !== undefined) return { generator: new Generator(random.seed) };
  return random;
}

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

export interface RecurrentState {
  /** Initial hidden states [layers * directions, N, H]. */
  h0?: Tensor | null;
  /** Initial LSTM cell states [layers * directions, N, H]. */
  c0?: Tensor | null;
  /** Valid steps per sequence, int32 [N] (default: the input's withLengths, else all). */
  lengths?: Tensor | null;
}
const RECURRENT_STATE_KEYS = optionKeys<RecurrentState>({ h0: true, c0: true, lengths: true });

export interface RecurrentResult {
  /** [T, N, H * directions] ([N, T, ..] with batchFirst); zeros at padded steps. */
  output: Tensor;
  /** Final hidden states [layers * directions, N, H]. */
  hn: Tensor;
  /** Final LSTM cell states [layers * directions, N, H]; null otherwise. */
  cn: Tensor | null;
}

/** Shared by LSTM, GRU and SimpleRNN. */
export abstract class RecurrentBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly returnSequences: boolean;
  readonly weightInit: Initializer;
  readonly recurrentInit: Initializer;
  readonly biasInit: Initializer;
  readonly forgetBias: number | undefined;
  readonly rngState: Float64Array;

  protected constructor(
    readonly op: string,
    readonly mode: RnnMode,
    readonly inputSize: number,
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
    const random = seeded(options.init);
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

/** Long short-term memory (nn.LSTM / keras.layers.LSTM), gates (i, f, g, o). */
export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    checkOptionKeys('LSTM', options, RECURRENT_KEYS);
    super('LSTM', 'lstm', inputSize, hiddenSize, options);
  }
}

/** Gated recurrent unit (nn.GRU; Keras's GRU with reset_after=True), gates (r, z, n). */
export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    checkOptionKeys('GRU', options, RECURRENT_KEYS);
    super('GRU', 'gru', inputSize, hiddenSize, options);
  }
}

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

/** Elman RNN h = act(W_ih x + b_ih + W_hh h + b_hh) (PyTorch's nn.RNN, Keras's SimpleRNN). */
export class SimpleRNN extends RecurrentBase {
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

export interface EmbeddingLayerOptions {
  /** Token whose vector is zero at init and never trained; its runs at the end of a row are
   * padding: the output carries the rows' valid lengths for the sequence layers after it. */
  paddingIdx?: number;
  maxNorm?: number;
  normType?: number;
  /** Default N(0, 1) as PyTorch (Keras: uniform(-0.05, 0.05)). */
  weightInit?: InitializerLike;
  init?: RandomOptions;
}
const EMBEDDING_KEYS = optionKeys<EmbeddingLayerOptions>({
  paddingIdx: true,
  maxNorm: true,
  normType: true,
  weightInit: true,
  init: true,
});
/** Embedding.fromPretrained's options: the layer's, less the initialiser, plus freeze. */
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
/** LastStep's and MeanOverTime's options. */
export interface SequencePoolingOptions {
  /** Input [T, N, F] instead of [N, T, F] (default false). */
  timeMajor?: boolean;
}
const SEQUENCE_POOLING_KEYS = optionKeys<SequencePoolingOptions>({ timeMajor: true });

/** Token ids (int32, any shape) to vectors: output tokens.shape + [embeddingDim]. */
export class Embedding extends Module {
  weight: Parameter;
  readonly paddingIdx: number | undefined;
  readonly maxNorm: number | undefined;
  readonly normType: number;
  readonly weightInit: Initializer;

  constructor(
    readonly numEmbeddings: number,
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
    const w = this.weightInit.create([numEmbeddings, embeddingDim], seeded(options.init));
    if (pad !== undefined) (w.data as Float32Array).fill(0, pad * embeddingDim, (pad + 1) * embeddingDim);
    this.weight = new Parameter(w);
  }

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
    readonly timeMajor: boolean,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    const op = this.mode === 'last' ? 'LastStep' : 'MeanOverTime';
    const lengths = lengthsFor(op, x, this.timeMajor, `{ timeMajor: ${this.timeMajor ? 'false' : 'true'} }`);
    return sequencePool(x, this.mode, { lengths, timeMajor: this.timeMajor });
  }
  override getConfig(): Record<string, unknown> {
    return { timeMajor: this.timeMajor };
  }
}

/** The last valid step of each sequence: [N, T, F] -> [N, F] (timeMajor: [T, N, F]). */
export class LastStep extends SequencePooling {
  constructor(options: SequencePoolingOptions = {}) {
    checkOptionKeys('LastStep', options, SEQUENCE_POOLING_KEYS);
    super('last', options.timeMajor ?? false);
  }
}

/** The mean over each sequence's valid steps: [N, T, F] -> [N, F] (timeMajor: [T, N, F]). */
export class MeanOverTime extends SequencePooling {
  constructor(options: SequencePoolingOptions = {}) {
    checkOptionKeys('MeanOverTime', options, SEQUENCE_POOLING_KEYS);
    super('mean', options.timeMajor ?? false);
  }
}

/**
 * Applies a layer to every step: [N, T, ...] runs as [N*T, ...] through the layer and comes
 * back as [N, T, ...out] (Keras's TimeDistributed). Lengths attached to the input carry over.
 */
export class TimeDistributed extends Module {
  constructor(readonly layer: Module) {
    super();
    if (!(layer instanceof Module)) throw new TypeError('TimeDistributed: expected a Module');
  }
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
