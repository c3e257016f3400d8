/**
 * Convolutional, pooling and normalisation layers (PyTorch's names, shapes and defaults):
 * Conv1d, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, GlobalAvgPool2d, AdaptiveAvgPool2d,
 * BatchNorm1d, BatchNorm2d, LayerNorm. Weights are [Cout, Cin/groups, kH, kW] (ConvTranspose2d:
 * [Cin, Cout/groups, kH, kW]) and buffers are named running_mean / running_var, so PyTorch
 * state dicts load by name. Each layer reports its output shape for an input shape
 * (outputShape) and explains impossible geometry when built or first run.
 */
import {
  conv1d,
  conv1dPadding,
  conv2d,
  convPlan,
  convTranspose2d,
  type Conv1dOptions as Conv1dFunctionOptions,
  type Conv2dOptions as Conv2dFunctionOptions,
  type ConvTranspose2dOptions as ConvTranspose2dFunctionOptions,
  type Pair,
  type Padding,
} from '../ops/conv.js';
import { batchNorm, layerNorm } from '../ops/norm.js';
import { adaptiveAvgPool2d, avgPool2d, globalAvgPool2d, maxPool2d } from '../ops/pool.js';
import { activationPlan, type LinearActivation } from '../ops/linalg.js';
import { checkOptionKeys, optionKeys } from '../options.js';
import { Generator, type RandomOptions } from '../tensor/random.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { getInitializer, pytorchBiasDefault, pytorchDefault, type Initializer, type InitializerLike } from './init.js';
import { Module, Parameter, type NormFold } from './module.js';
import { foldNorm, foldPays } from './functional.js';
import { reserveValues } from './budget.js';
import type { Regularizer } from './regularizers.js';

export interface ConvOptions {
  stride?: Pair;
  padding?: Padding;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  /** Activation fused into the convolution's store (default 'none'). */
  activation?: LinearActivation;
  activationParam?: number;
  /** Default: PyTorch's (kaiming uniform, a = sqrt(5)); Keras: 'glorotUniform'. */
  weightInit?: InitializerLike;
  biasInit?: InitializerLike;
  weightRegularizer?: Regularizer | null;
  biasRegularizer?: Regularizer | null;
  /** Seed or generator for the initial weights (default: the global generator). */
  init?: RandomOptions;
}
const CONV_KEYS = optionKeys<ConvOptions>({
  stride: true,
  padding: true,
  dilation: true,
  groups: true,
  bias: true,
  activation: true,
  activationParam: true,
  weightInit: true,
  biasInit: true,
  weightRegularizer: true,
  biasRegularizer: true,
  init: true,
});

/** The fused activation, checked when the layer is built rather than on its first forward. */
function checkActivation(op: string, activation: unknown, param: unknown): void {
  if (param !== undefined && (typeof param !== 'number' || !Number.isFinite(param)))
    throw new RangeError(`${op}: activationParam must be a finite number, got ${String(param)}`);
  if (activation !== undefined) activationPlan(op, activation as LinearActivation, param as number | undefined);
}

function positiveInt(op: string, v: number, name: string): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${op}: ${name} must be a positive integer, got ${v}`);
}

function kernelPair(op: string, k: Pair): [number, number] {
  const p: [number, number] = typeof k === 'number' ? [k, k] : [k[0], k[1]];
  if (!p.every((x) => Number.isInteger(x) && x >= 1))
    throw new RangeError(`${op}: kernelSize must be positive integers, got ${JSON.stringify(k)}`);
  return p;
}

function seeded(random: RandomOptions | undefined): RandomOptions | undefined {
  if (random && !random.generator && random.seed !== undefined) return { generator: new Generator(random.seed) };
  return random;
}

/** Shared by the convolution layers: weight and bias creation, config, regularizers. */
abstract class ConvBase extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly weightInit: Initializer;
  readonly biasInit: Initializer | null;

  protected constructor(
    readonly op: string,
    weightShape: number[],
    fanIn: number,
    outForBias: number,
    readonly options: ConvOptions,
  ) {
    super();
    const random = seeded(options.init);
    this.weightInit = options.weightInit ? getInitializer(options.weightInit) : pytorchDefault();
    this.weight = new Parameter(this.weightInit.create(weightShape, random));
    this.weight.regularizer = options.weightRegularizer ?? null;
    if (options.bias ?? true) {
      this.biasInit = options.biasInit ? getInitializer(options.biasInit) : pytorchBiasDefault();
      this.bias = new Parameter(this.biasInit.create([outForBias], { ...random, fans: { fanIn, fanOut: outForBias } }));
      this.bias.regularizer = options.biasRegularizer ?? null;
    } else {
      this.bias = null;
      this.biasInit = null;
    }
  }

  protected baseConfig(): Record<string, unknown> {
    const reg = (r: Regularizer | null): { name: string; config: Record<string, number | undefined> } | null =>
      r ? { name: r.name, config: { ...r.config } } : null;
    return {
      stride: this.options.stride ?? 1,
      padding: this.options.padding ?? 0,
      dilation: this.options.dilation ?? 1,
      groups: this.options.groups ?? 1,
      bias: this.bias !== null,
      activation: this.options.activation ?? 'none',
      ...(this.options.activationParam !== undefined ? { activationParam: this.options.activationParam } : {}),
      weightInit: { name: this.weightInit.name, config: { ...this.weightInit.config } },
      biasInit: this.biasInit ? { name: this.biasInit.name, config: { ...this.biasInit.config } } : null,
      weightRegularizer: reg(this.weight.regularizer),
      biasRegularizer: reg(this.bias?.regularizer ?? null),
    };
  }
}

/** 2-D convolution over [N, Cin, H, W] (PyTorch's nn.Conv2d, Keras's Conv2D). */
export class Conv2d extends ConvBase {
  readonly kernelSize: [number, number];
  /** The options conv2d takes (the layer's own, less initialisers and regularizers). */
  private readonly convOptions: Conv2dFunctionOptions;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: ConvOptions = {},
  ) {
    checkOptionKeys('Conv2d', options, CONV_KEYS);
    checkActivation('Conv2d', options.activation, options.activationParam);
    const k = kernelPair('Conv2d', kernelSize);
    positiveInt('Conv2d', inChannels, 'inChannels');
    positiveInt('Conv2d', outChannels, 'outChannels');
    const groups = options.groups ?? 1;
    positiveInt('Conv2d', groups, 'groups');
    if (inChannels % groups || outChannels % groups)
      throw new RangeError(
        `Conv2d: inChannels ${inChannels} and outChannels ${outChannels} must be divisible by groups ${groups}`,
      );
    const cinG = inChannels / groups;
    super('Conv2d', [outChannels, cinG, k[0], k[1]], cinG * k[0] * k[1], outChannels, options);
    this.kernelSize = k;
    this.convOptions = {
      stride: options.stride,
      padding: options.padding,
      dilation: options.dilation,
      groups: options.groups,
      activation: options.activation,
      activationParam: options.activationParam,
    };
    // Geometry that cannot work on any input (bad stride, padding...) fails now, not mid-fit.
    convPlan('Conv2d', [1, inChannels, 1 << 16, 1 << 16], this.weight.shape, options);
  }
  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels)
      throw new RangeError(
        `Conv2d(${this.inChannels}, ${this.outChannels}): input must be [N, ${this.inChannels}, H, W], got ${shapeToString(x.shape)}`,
      );
    return conv2d(x, this.weight, this.bias, this.convOptions);
  }
  /**
   * The forward with a following batch norm folded into the weights (and `activation`, the
   * layer after that norm, fused), or null when this layer cannot absorb it (an activation of
   * its own, or another channel count).
   * @internal
   */
  forwardFolded(x: Tensor, norm: NormFold, activation?: LinearActivation): Tensor | null {
    if ((this.convOptions.activation ?? 'none') !== 'none' || norm.features !== this.outChannels) return null;
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels || !norm.ranks.includes(4)) return null;
    if (!foldPays(this.outputShape(x.shape), this.weight)) return null;
    const f = foldNorm(this.weight, this.bias, norm);
    return conv2d(x, f.weight, f.bias, { ...this.convOptions, activation });
  }
  /** Output shape for an input shape (with the batch axis). */
  outputShape(input: readonly number[]): number[] {
    return convPlan('Conv2d', input, this.weight.shape, this.options).outShape;
  }
  override getConfig(): Record<string, unknown> {
    return {
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: this.kernelSize,
      ...this.baseConfig(),
    };
  }
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=${this.kernelSize.join('x')}`;
  }
}

export interface Conv1dOptions extends Omit<ConvOptions, 'stride' | 'padding' | 'dilation'> {
  stride?: number;
  padding?: 'valid' | 'same' | number | readonly [number, number];
  dilation?: number;
}
const CONV1D_KEYS = optionKeys<Conv1dOptions>({
  stride: true,
  padding: true,
  dilation: true,
  groups: true,
  bias: true,
  activation: true,
  activationParam: true,
  weightInit: true,
  biasInit: true,
  weightRegularizer: true,
  biasRegularizer: true,
  init: true,
});

/** 1-D convolution over [N, Cin, L] (nn.Conv1d, Keras's Conv1D). */
export class Conv1d extends ConvBase {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly options1d: Conv1dOptions = {},
  ) {
    checkOptionKeys('Conv1d', options1d, CONV1D_KEYS);
    checkActivation('Conv1d', options1d.activation, options1d.activationParam);
    positiveInt('Conv1d', kernelSize, 'kernelSize');
    positiveInt('Conv1d', inChannels, 'inChannels');
    positiveInt('Conv1d', outChannels, 'outChannels');
    const groups = options1d.groups ?? 1;
    positiveInt('Conv1d', groups, 'groups');
    if (inChannels % groups || outChannels % groups)
      throw new RangeError(
        `Conv1d: inChannels ${inChannels} and outChannels ${outChannels} must be divisible by groups ${groups}`,
      );
    const cinG = inChannels / groups;
    super('Conv1d', [outChannels, cinG, kernelSize], cinG * kernelSize, outChannels, options1d as ConvOptions);
    this.convOptions = {
      stride: options1d.stride,
      padding: options1d.padding,
      dilation: options1d.dilation,
      groups: options1d.groups,
      activation: options1d.activation,
      activationParam: options1d.activationParam,
    };
  }
  /** The options conv1d takes (the layer's own, less initialisers and regularizers). */
  private readonly convOptions: Conv1dFunctionOptions;
  forward(x: Tensor): Tensor {
    if (x.ndim !== 3 || x.shape[1] !== this.inChannels)
      throw new RangeError(
        `Conv1d(${this.inChannels}, ${this.outChannels}): input must be [N, ${this.inChannels}, L], got ${shapeToString(x.shape)}`,
      );
    return conv1d(x, this.weight, this.bias, this.convOptions);
  }
  /** As Conv2d.forwardFolded. @internal */
  forwardFolded(x: Tensor, norm: NormFold, activation?: LinearActivation): Tensor | null {
    if ((this.convOptions.activation ?? 'none') !== 'none' || norm.features !== this.outChannels) return null;
    if (x.ndim !== 3 || x.shape[1] !== this.inChannels || !norm.ranks.includes(3)) return null;
    const w = this.weight.shape;
    const lifted = convPlan('Conv1d', [x.shape[0], x.shape[1], 1, x.shape[2]], [w[0], w[1], 1, w[2]], {
      stride: [1, this.convOptions.stride ?? 1],
      dilation: [1, this.convOptions.dilation ?? 1],
      padding: conv1dPadding(this.convOptions.padding),
      groups: this.convOptions.groups,
    });
    if (!foldPays(lifted.outShape, this.weight)) return null;
    const f = foldNorm(this.weight, this.bias, norm);
    return conv1d(x, f.weight, f.bias, { ...this.convOptions, activation });
  }
  override getConfig(): Record<string, unknown> {
    return {
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: this.kernelSize,
      ...this.baseConfig(),
    };
  }
}

export interface ConvTransposeOptions extends Omit<ConvOptions, 'padding' | 'activation' | 'activationParam'> {
  padding?: Pair;
  outputPadding?: Pair;
}
const CONV_TRANSPOSE_KEYS = optionKeys<ConvTransposeOptions>({
  stride: true,
  padding: true,
  outputPadding: true,
  dilation: true,
  groups: true,
  bias: true,
  weightInit: true,
  biasInit: true,
  weightRegularizer: true,
  biasRegularizer: true,
  init: true,
});

/** Transposed 2-D convolution (nn.ConvTranspose2d): upsampling by `stride`. */
export class ConvTranspose2d extends ConvBase {
  readonly kernelSize: [number, number];
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    readonly optionsT: ConvTransposeOptions = {},
  ) {
    checkOptionKeys('ConvTranspose2d', optionsT, CONV_TRANSPOSE_KEYS);
    const k = kernelPair('ConvTranspose2d', kernelSize);
    positiveInt('ConvTranspose2d', inChannels, 'inChannels');
    positiveInt('ConvTranspose2d', outChannels, 'outChannels');
    const groups = optionsT.groups ?? 1;
    positiveInt('ConvTranspose2d', groups, 'groups');
    if (inChannels % groups || outChannels % groups)
      throw new RangeError(
        `ConvTranspose2d: inChannels ${inChannels} and outChannels ${outChannels} must be divisible by groups ${groups}`,
      );
    // PyTorch computes the fans of [Cin, Cout/groups, kH, kW] as for any weight: fanIn = dim 1.
    super(
      'ConvTranspose2d',
      [inChannels, outChannels / groups, k[0], k[1]],
      (outChannels / groups) * k[0] * k[1],
      outChannels,
      optionsT as ConvOptions,
    );
    this.kernelSize = k;
    this.convOptions = {
      stride: optionsT.stride,
      padding: optionsT.padding,
      outputPadding: optionsT.outputPadding,
      dilation: optionsT.dilation,
      groups: optionsT.groups,
    };
  }
  /** The options convTranspose2d takes (the layer's own, less initialisers and regularizers). */
  private readonly convOptions: ConvTranspose2dFunctionOptions;
  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels)
      throw new RangeError(
        `ConvTranspose2d(${this.inChannels}, ${this.outChannels}): input must be [N, ${this.inChannels}, H, W], got ${shapeToString(x.shape)}`,
      );
    return convTranspose2d(x, this.weight, this.bias, this.convOptions);
  }
  override getConfig(): Record<string, unknown> {
    const base = this.baseConfig();
    delete base.activation;
    return {
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: this.kernelSize,
      ...base,
      padding: this.optionsT.padding ?? 0,
      outputPadding: this.optionsT.outputPadding ?? 0,
    };
  }
}

export interface PoolOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}
const POOL_KEYS = optionKeys<PoolOptions>({ stride: true, padding: true, dilation: true, ceilMode: true });
/** AvgPool2d's options: no dilation; countIncludePad (default true, as PyTorch). */
export type AvgPoolOptions = Omit<PoolOptions, 'dilation'> & { countIncludePad?: boolean };
const AVG_POOL_KEYS = optionKeys<AvgPoolOptions>({
  stride: true,
  padding: true,
  ceilMode: true,
  countIncludePad: true,
});

/**
 * PyTorch's rule for its pooling layers: padding at most half the kernel (maxPool2d and
 * avgPool2d take up to the window extent - 1, for ONNX). Other padding problems are left to the op.
 */
function checkHalfKernelPadding(op: string, kernelSize: Pair, padding: Pair | undefined): void {
  if (padding === undefined) return;
  const k = kernelPair(op, kernelSize);
  const p: number[] = typeof padding === 'number' ? [padding, padding] : Array.from(padding as readonly number[]);
  // [h, w], or [top, left, bottom, right] from an untyped caller.
  const over = p.some((v, i) => typeof v === 'number' && 2 * v > k[i % 2]);
  if (over)
    throw new RangeError(
      `${op}: padding ${JSON.stringify(p)} must be at most half the kernel ${JSON.stringify(k)} (PyTorch's rule; maxPool2d and avgPool2d allow up to the window extent - 1)`,
    );
}

/** Max pooling (nn.MaxPool2d); stride defaults to the kernel size. */
export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: PoolOptions = {},
  ) {
    super();
    checkOptionKeys('MaxPool2d', options, POOL_KEYS);
    kernelPair('MaxPool2d', kernelSize);
  }
  forward(x: Tensor): Tensor {
    checkHalfKernelPadding('MaxPool2d', this.kernelSize, this.options.padding);
    return maxPool2d(x, this.kernelSize, this.options);
  }
  override getConfig(): Record<string, unknown> {
    return { kernelSize: this.kernelSize, ...this.options };
  }
  override extraRepr(): string {
    return `kernelSize=${JSON.stringify(this.kernelSize)}`;
  }
}

/** Average pooling (nn.AvgPool2d); countIncludePad defaults to true as PyTorch. */
export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: AvgPoolOptions = {},
  ) {
    super();
    checkOptionKeys('AvgPool2d', options, AVG_POOL_KEYS);
    kernelPair('AvgPool2d', kernelSize);
  }
  forward(x: Tensor): Tensor {
    checkHalfKernelPadding('AvgPool2d', this.kernelSize, this.options.padding);
    return avgPool2d(x, this.kernelSize, this.options);
  }
  override getConfig(): Record<string, unknown> {
    return { kernelSize: this.kernelSize, ...this.options };
  }
}

/** Mean over H and W: [N, C, H, W] -> [N, C] (Keras's GlobalAveragePooling2D). */
export class GlobalAvgPool2d extends Module {
  forward(x: Tensor): Tensor {
    return globalAvgPool2d(x);
  }
}

/** Average pooling to a fixed output size (nn.AdaptiveAvgPool2d). */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) {
    super();
    kernelPair('AdaptiveAvgPool2d', outputSize);
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
  override getConfig(): Record<string, unknown> {
    return { outputSize: this.outputSize };
  }
}

export interface BatchNormLayerOptions {
  eps?: number;
  /** Weight of the new batch statistics in the running ones (default 0.1, PyTorch). */
  momentum?: number;
  /** Learnable scale and shift (default true). */
  affine?: boolean;
  /** Keep running statistics for evaluation (default true). */
  trackRunningStats?: boolean;
}
const BATCH_NORM_KEYS = optionKeys<BatchNormLayerOptions>({
  eps: true,
  momentum: true,
  affine: true,
  trackRunningStats: true,
});
/** LayerNorm's options. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5, > 0). */
  eps?: number;
  /** Learnable scale and shift (default true). */
  elementwiseAffine?: boolean;
}
const LAYER_NORM_KEYS = optionKeys<LayerNormOptions>({ eps: true, elementwiseAffine: true });

abstract class BatchNormBase extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly eps: number;
  readonly momentum: number;
  constructor(
    readonly name: string,
    readonly numFeatures: number,
    readonly ranks: number[],
    readonly opts: BatchNormLayerOptions,
  ) {
    super();
    checkOptionKeys(name, opts, BATCH_NORM_KEYS);
    positiveInt(name, numFeatures, 'numFeatures');
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    if (!(this.eps > 0 && this.eps < Infinity))
      throw new RangeError(`${name}: eps must be > 0 and finite, got ${this.eps}`);
    if (!(this.momentum >= 0 && this.momentum <= 1))
      throw new RangeError(`${name}: momentum must be in [0, 1], got ${this.momentum}`);
    const affine = opts.affine ?? true;
    reserveValues(name, numFeatures * ((affine ? 2 : 0) + ((opts.trackRunningStats ?? true) ? 2 : 0)));
    this.weight = affine ? new Parameter(new Tensor(new Float32Array(numFeatures).fill(1), [numFeatures])) : null;
    this.bias = affine ? new Parameter(new Tensor(new Float32Array(numFeatures), [numFeatures])) : null;
    if (opts.trackRunningStats ?? true) {
      this.registerBuffer('running_mean', new Tensor(new Float32Array(numFeatures), [numFeatures]));
      this.registerBuffer('running_var', new Tensor(new Float32Array(numFeatures).fill(1), [numFeatures]));
    }
  }
  private get tracking(): boolean {
    return this.opts.trackRunningStats ?? true;
  }
  /** This norm as an affine map for the layer before it, when it uses running statistics
   * (evaluation mode, tracking them); null otherwise.
   * @internal */
  inferenceFold(): NormFold | null {
    if (this.training || !this.tracking) return null;
    return {
      runningMean: this.buffer('running_mean'),
      runningVar: this.buffer('running_var'),
      weight: this.weight,
      bias: this.bias,
      eps: this.eps,
      features: this.numFeatures,
      ranks: this.ranks,
    };
  }
  forward(x: Tensor): Tensor {
    if (!this.ranks.includes(x.ndim) || x.shape[1] !== this.numFeatures)
      throw new RangeError(
        `${this.name}(${this.numFeatures}): input must be ${this.ranks.map((r) => (r === 2 ? '[N, C]' : r === 3 ? '[N, C, L]' : '[N, C, H, W]')).join(' or ')} with C = ${this.numFeatures}, got ${shapeToString(x.shape)}`,
      );
    const useBatch = this.training || !this.tracking;
    return batchNorm(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.tracking ? this.buffer('running_mean') : null,
      runningVar: this.tracking ? this.buffer('running_var') : null,
      training: useBatch,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
  override getConfig(): Record<string, unknown> {
    return {
      numFeatures: this.numFeatures,
      eps: this.eps,
      momentum: this.momentum,
      affine: this.weight !== null,
      trackRunningStats: this.tracking,
    };
  }
}

/** Batch norm over [N, C] or [N, C, L] (nn.BatchNorm1d). */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super('BatchNorm1d', numFeatures, [2, 3], options);
  }
}

/** Batch norm over [N, C, H, W] (nn.BatchNorm2d). */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super('BatchNorm2d', numFeatures, [4], options);
  }
}

/** Layer norm over the trailing `normalizedShape` axes (nn.LayerNorm). */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  weight: Parameter | null;
  bias: Parameter | null;
  constructor(
    normalizedShape: number | readonly number[],
    readonly options: LayerNormOptions = {},
  ) {
    super();
    checkOptionKeys('LayerNorm', options, LAYER_NORM_KEYS);
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (this.normalizedShape.length === 0 || !this.normalizedShape.every((d) => Number.isInteger(d) && d >= 1))
      throw new RangeError(
        `LayerNorm: normalizedShape must be positive integers, got ${JSON.stringify(normalizedShape)}`,
      );
    const n = this.normalizedShape.reduce((a, b) => a * b, 1);
    const affine = options.elementwiseAffine ?? true;
    reserveValues('LayerNorm', affine ? 2 * n : 0);
    this.weight = affine ? new Parameter(new Tensor(new Float32Array(n).fill(1), this.normalizedShape)) : null;
    this.bias = affine ? new Parameter(new Tensor(new Float32Array(n), this.normalizedShape)) : null;
    const eps = options.eps ?? 1e-5;
    if (!(eps > 0 && eps < Infinity)) throw new RangeError(`LayerNorm: eps must be > 0 and finite, got ${eps}`);
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.options.eps ?? 1e-5);
  }
  override getConfig(): Record<string, unknown> {
    return {
      normalizedShape: this.normalizedShape,
      eps: this.options.eps ?? 1e-5,
      elementwiseAffine: this.weight !== null,
    };
  }
}
