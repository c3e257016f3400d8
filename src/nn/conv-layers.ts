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
import { batchNorm, layerNorm, type BatchNormOptions } from '../ops/norm.js';
import { adaptiveAvgPool2d, avgPool2d, globalAvgPool2d, maxPool2d } from '../ops/pool.js';
import { activationPlan, type LinearActivation } from '../ops/linalg.js';
import { checkOptionKeys, optionKeys } from '../options.js';
import { type RandomOptions, seededOnce } from '../tensor/random.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { getInitializer, pytorchBiasDefault, pytorchDefault, type Initializer, type InitializerLike } from './init.js';
import { Module, Parameter, type NormFold } from './module.js';
import { foldNorm, foldPays } from './functional.js';
import { reserveValues } from './budget.js';
import type { Regularizer } from './regularizers.js';

/**
 * {@link Conv2d}'s options: geometry (stride, padding, dilation, groups), bias, a fused
 * activation, initialisers, regularizers and the seed of the initial weights. Defaults are
 * PyTorch's (stride 1, no padding, no dilation, one group, a bias). Unknown keys throw.
 *
 * @example
 * ```ts
 * import { Conv2d, randn, type ConvOptions } from 'axon-nn';
 * const options: ConvOptions = { stride: 2, padding: 'same', activation: 'relu' };
 * const conv = new Conv2d(3, 8, 3, options);
 * const y = conv.forward(randn([2, 3, 32, 32])); // [2, 8, 16, 16]
 * ```
 */
export interface ConvOptions {
  /** Step between windows, one number or [h, w] (default 1). */
  stride?: Pair;
  /** Zero padding: 'valid', 'same', a number or [h, w] for both sides, or [top, left, bottom, right] (default 0). */
  padding?: Padding;
  /** Spacing between kernel taps, one number or [h, w] (default 1). */
  dilation?: Pair;
  /** Channel groups; inChannels and outChannels must both divide by it (default 1; inChannels for depthwise). */
  groups?: number;
  /** Add a per-output-channel bias (default true). */
  bias?: boolean;
  /** Activation fused into the convolution's store (default 'none'). */
  activation?: LinearActivation;
  /** The fused activation's parameter: leakyRelu's slope, elu's alpha, softplus's beta. */
  activationParam?: number;
  /** Default: PyTorch's (kaiming uniform, a = sqrt(5)); Keras: 'glorotUniform'. */
  weightInit?: InitializerLike;
  /** Default: PyTorch's U(+-1/sqrt(fanIn)); Keras: 'zeros'. */
  biasInit?: InitializerLike;
  /** Penalty on the weight, added by regularizationLoss() (default none). */
  weightRegularizer?: Regularizer | null;
  /** Penalty on the bias, added by regularizationLoss() (default none). */
  biasRegularizer?: Regularizer | null;
  /** Seed or generator for the initial weights (default: the global generator). */
  init?: RandomOptions;
}
export const CONV_KEYS = optionKeys<ConvOptions>({
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

/** Shared by the convolution layers: weight and bias creation, config, regularizers. */
/** What the convolution layers share: weight, bias, initialisers, regularizers. @internal */
export abstract class ConvBase extends Module {
  /** The kernel: [Cout, Cin/groups, ...kernel] (ConvTranspose2d: [Cin, Cout/groups, kH, kW]). */
  weight: Parameter;
  /** The bias, [Cout], or null when built with `bias: false`. */
  bias: Parameter | null;
  /** The initialiser the weight was drawn with (kept for getConfig). */
  readonly weightInit: Initializer;
  /** The bias's initialiser, or null without a bias. */
  readonly biasInit: Initializer | null;

  protected constructor(
    /** The layer's class name, used in error messages. */
    readonly op: string,
    weightShape: number[],
    fanIn: number,
    outForBias: number,
    /** The options the layer was built with. */
    readonly options: ConvOptions,
  ) {
    super();
    const random = seededOnce(options.init);
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

  /** The settings every convolution saves in its getConfig (geometry, bias, activation, initialisers, regularizers). */
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

/**
 * 2-D convolution over NCHW input [N, Cin, H, W] giving [N, Cout, H', W'] (PyTorch's nn.Conv2d,
 * with its weight layout [Cout, Cin/groups, kH, kW] and default initialisation; Keras's Conv2D,
 * which is NHWC, needs its input permuted). Geometry that cannot work throws a RangeError when
 * the layer is built; an input with the wrong rank or channel count throws when run.
 *
 * @example
 * ```ts
 * import { Conv2d, randn } from 'axon-nn';
 * const conv = new Conv2d(3, 16, 3, { padding: 1 });
 * const y = conv.forward(randn([8, 3, 32, 32])); // [8, 16, 32, 32]
 * ```
 */
export class Conv2d extends ConvBase {
  /** The kernel's [height, width]. */
  readonly kernelSize: [number, number];
  /** The options conv2d takes (the layer's own, less initialisers and regularizers). */
  private readonly convOptions: Conv2dFunctionOptions;
  constructor(
    /** Channels of the input (axis 1). */
    readonly inChannels: number,
    /** Channels of the output (axis 1). */
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
  /** Convolves x [N, inChannels, H, W] into [N, outChannels, H', W']. */
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

/**
 * {@link Conv1d}'s options: {@link ConvOptions} with one-number geometry. Exported from the
 * package root under this name; the conv1d function's own options are Conv1dFunctionOptions.
 *
 * @example
 * ```ts
 * import { Conv1d, randn, type Conv1dOptions } from 'axon-nn';
 * const options: Conv1dOptions = { padding: 'same', dilation: 2 };
 * const conv = new Conv1d(8, 16, 5, options);
 * const y = conv.forward(randn([4, 8, 100])); // [4, 16, 100]
 * ```
 */
export interface Conv1dOptions extends Omit<ConvOptions, 'stride' | 'padding' | 'dilation'> {
  /** Step between windows (default 1). */
  stride?: number;
  /** Zero padding: 'valid', 'same', a number for both ends, or [left, right] (default 0). */
  padding?: 'valid' | 'same' | number | readonly [number, number];
  /** Spacing between kernel taps (default 1). */
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

/**
 * 1-D convolution over [N, Cin, L] giving [N, Cout, L'] (nn.Conv1d, weight [Cout, Cin/groups, k];
 * Keras's Conv1D takes [N, L, C], so permute its input). Throws a RangeError for impossible
 * sizes when built, or an input that is not [N, inChannels, L] when run.
 *
 * @example
 * ```ts
 * import { Conv1d, randn } from 'axon-nn';
 * const conv = new Conv1d(8, 16, 5, { padding: 'same' });
 * const y = conv.forward(randn([4, 8, 100])); // [4, 16, 100]
 * ```
 */
export class Conv1d extends ConvBase {
  constructor(
    /** Channels of the input (axis 1). */
    readonly inChannels: number,
    /** Channels of the output (axis 1). */
    readonly outChannels: number,
    /** The kernel's length. */
    readonly kernelSize: number,
    /** The options the layer was built with, as given. */
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
  /** Convolves x [N, inChannels, L] into [N, outChannels, L']. */
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

/**
 * {@link ConvTranspose2d}'s options: {@link ConvOptions} without a fused activation, with
 * PyTorch's meaning of padding (removed from the output) and an outputPadding.
 *
 * @example
 * ```ts
 * import { ConvTranspose2d, randn, type ConvTransposeOptions } from 'axon-nn';
 * const options: ConvTransposeOptions = { stride: 2, padding: 1, outputPadding: 1 };
 * const up = new ConvTranspose2d(16, 8, 3, options);
 * const y = up.forward(randn([1, 16, 14, 14])); // [1, 8, 28, 28]
 * ```
 */
export interface ConvTransposeOptions extends Omit<ConvOptions, 'padding' | 'activation' | 'activationParam'> {
  /** PyTorch's padding: rows/columns trimmed from each side of the output, one number or [h, w] (default 0). */
  padding?: Pair;
  /** Extra rows/columns on the bottom/right of the output, to pick among the sizes a stride allows (default 0). */
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

/**
 * Transposed 2-D convolution (nn.ConvTranspose2d, weight [Cin, Cout/groups, kH, kW]): the
 * gradient of a convolution, used to upsample NCHW maps by `stride`. The output side is
 * (in - 1) * stride - 2 * padding + dilation * (k - 1) + outputPadding + 1.
 *
 * @example
 * ```ts
 * import { ConvTranspose2d, randn } from 'axon-nn';
 * const up = new ConvTranspose2d(16, 8, 2, { stride: 2 });
 * const y = up.forward(randn([1, 16, 14, 14])); // [1, 8, 28, 28]
 * ```
 */
export class ConvTranspose2d extends ConvBase {
  /** The kernel's [height, width]. */
  readonly kernelSize: [number, number];
  constructor(
    /** Channels of the input (axis 1). */
    readonly inChannels: number,
    /** Channels of the output (axis 1). */
    readonly outChannels: number,
    kernelSize: Pair,
    /** The options the layer was built with, as given. */
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
  /** Upsamples x [N, inChannels, H, W] into [N, outChannels, H', W']. */
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

/**
 * {@link MaxPool2d}'s options (PyTorch's defaults: stride = the kernel size, no padding, no
 * dilation, floor rounding). Unknown keys throw.
 *
 * @example
 * ```ts
 * import { MaxPool2d, randn, type PoolOptions } from 'axon-nn';
 * const options: PoolOptions = { stride: 2, padding: 1 };
 * const pool = new MaxPool2d(3, options);
 * const y = pool.forward(randn([1, 3, 32, 32])); // [1, 3, 16, 16]
 * ```
 */
export interface PoolOptions {
  /** Step between windows, one number or [h, w] (default: the kernel size). */
  stride?: Pair;
  /** Padding on both sides, one number or [h, w], at most half the kernel (PyTorch's rule; default 0). */
  padding?: Pair;
  /** Spacing between window taps, one number or [h, w] (default 1). */
  dilation?: Pair;
  /** Round the output size up rather than down, so a partial last window counts (default false). */
  ceilMode?: boolean;
}
const POOL_KEYS = optionKeys<PoolOptions>({ stride: true, padding: true, dilation: true, ceilMode: true });
/**
 * {@link AvgPool2d}'s options: {@link PoolOptions} without dilation, plus countIncludePad
 * (divide by the whole window, padding included: default true, as PyTorch).
 *
 * @example
 * ```ts
 * import { AvgPool2d, randn, type AvgPoolOptions } from 'axon-nn';
 * const options: AvgPoolOptions = { stride: 1, padding: 1, countIncludePad: false };
 * const blur = new AvgPool2d(3, options);
 * const y = blur.forward(randn([1, 3, 8, 8])); // [1, 3, 8, 8]
 * ```
 */
export type AvgPoolOptions = Omit<PoolOptions, 'dilation'> & {
  /** Divide by the whole window, padding included (default true, as PyTorch); false divides by the input cells only. */
  countIncludePad?: boolean;
};
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

/**
 * 2-D max pooling over NCHW input (nn.MaxPool2d); stride defaults to the kernel size. Padding
 * over half the kernel throws a RangeError on the first forward, as PyTorch's does.
 *
 * @example
 * ```ts
 * import { MaxPool2d, randn } from 'axon-nn';
 * const pool = new MaxPool2d(2);
 * const y = pool.forward(randn([1, 3, 32, 32])); // [1, 3, 16, 16]
 * ```
 */
export class MaxPool2d extends Module {
  constructor(
    /** The window's size, one number or [h, w]. */
    readonly kernelSize: Pair,
    /** The options the layer was built with. */
    readonly options: PoolOptions = {},
  ) {
    super();
    checkOptionKeys('MaxPool2d', options, POOL_KEYS);
    kernelPair('MaxPool2d', kernelSize);
  }
  /** The maximum of each window of x [N, C, H, W]: [N, C, H', W']. */
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

/**
 * 2-D average pooling over NCHW input (nn.AvgPool2d); stride defaults to the kernel size and
 * countIncludePad to true, as PyTorch. Padding over half the kernel throws on the first forward.
 *
 * @example
 * ```ts
 * import { AvgPool2d, randn } from 'axon-nn';
 * const pool = new AvgPool2d(2);
 * const y = pool.forward(randn([1, 3, 32, 32])); // [1, 3, 16, 16]
 * ```
 */
export class AvgPool2d extends Module {
  constructor(
    /** The window's size, one number or [h, w]. */
    readonly kernelSize: Pair,
    /** The options the layer was built with. */
    readonly options: AvgPoolOptions = {},
  ) {
    super();
    checkOptionKeys('AvgPool2d', options, AVG_POOL_KEYS);
    kernelPair('AvgPool2d', kernelSize);
  }
  /** The mean of each window of x [N, C, H, W]: [N, C, H', W']. */
  forward(x: Tensor): Tensor {
    checkHalfKernelPadding('AvgPool2d', this.kernelSize, this.options.padding);
    return avgPool2d(x, this.kernelSize, this.options);
  }
  override getConfig(): Record<string, unknown> {
    return { kernelSize: this.kernelSize, ...this.options };
  }
}

/**
 * Mean over H and W: [N, C, H, W] -> [N, C] (Keras's GlobalAveragePooling2D; PyTorch writes
 * AdaptiveAvgPool2d(1) and a flatten). No parameters.
 *
 * @example
 * ```ts
 * import { GlobalAvgPool2d, randn } from 'axon-nn';
 * const y = new GlobalAvgPool2d().forward(randn([2, 64, 7, 7])); // [2, 64]
 * ```
 */
export class GlobalAvgPool2d extends Module {
  /** Averages x [N, C, H, W] over its spatial axes, giving [N, C]. */
  forward(x: Tensor): Tensor {
    return globalAvgPool2d(x);
  }
}

/**
 * Average pooling to a fixed output size whatever the input's (nn.AdaptiveAvgPool2d): windows
 * are chosen per output cell as PyTorch does. Keeps the spatial axes: [N, C, H, W] -> [N, C, oh, ow].
 *
 * @example
 * ```ts
 * import { AdaptiveAvgPool2d, randn } from 'axon-nn';
 * const pool = new AdaptiveAvgPool2d([2, 3]);
 * const y = pool.forward(randn([2, 4, 7, 9])); // [2, 4, 2, 3]
 * ```
 */
export class AdaptiveAvgPool2d extends Module {
  constructor(
    /** The output's [height, width], or one number for both. */
    readonly outputSize: Pair,
  ) {
    super();
    kernelPair('AdaptiveAvgPool2d', outputSize);
  }
  /** Pools x [N, C, H, W] to [N, C, ...outputSize]. */
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
  override getConfig(): Record<string, unknown> {
    return { outputSize: this.outputSize };
  }
}

/**
 * {@link BatchNorm1d}'s and {@link BatchNorm2d}'s options (PyTorch's defaults). Note that
 * momentum is PyTorch's convention, the weight of the new batch: Keras's momentum 0.99 is 0.01 here.
 *
 * @example
 * ```ts
 * import { BatchNorm2d, type BatchNormLayerOptions } from 'axon-nn';
 * const options: BatchNormLayerOptions = { momentum: 0.01, eps: 1e-3 }; // Keras's BatchNormalization
 * const bn = new BatchNorm2d(16, options);
 * ```
 */
export interface BatchNormLayerOptions {
  /** Added to the variance (default 1e-5, > 0). */
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
/**
 * {@link LayerNorm}'s options.
 *
 * @example
 * ```ts
 * import { LayerNorm, type LayerNormOptions } from 'axon-nn';
 * const options: LayerNormOptions = { eps: 1e-6, elementwiseAffine: false };
 * const norm = new LayerNorm([10, 64], options); // no parameters
 * ```
 */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5, > 0). */
  eps?: number;
  /** Learnable scale and shift (default true). */
  elementwiseAffine?: boolean;
}
const LAYER_NORM_KEYS = optionKeys<LayerNormOptions>({ eps: true, elementwiseAffine: true });

/** The input a batch norm of that rank takes, for error messages. @internal */
export const batchNormInputName = (rank: number): string =>
  ['[N, C]', '[N, C, L]', '[N, C, H, W]', '[N, C, D, H, W]'][rank - 2] ?? `${rank}-D`;

/** What BatchNorm1d, BatchNorm2d and SyncBatchNorm share: parameters, buffers, the fused
 * forward and the inference fold. @internal */
export abstract class BatchNormBase extends Module {
  /** The learnable scale (gamma), [numFeatures] of ones at first, or null when not affine. */
  weight: Parameter | null;
  /** The learnable shift (beta), [numFeatures] of zeros at first, or null when not affine. */
  bias: Parameter | null;
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** Weight of each new batch's statistics in the running ones. */
  readonly momentum: number;
  constructor(
    /** The layer's class name, used in error messages. */
    readonly name: string,
    /** Channels (C, axis 1 of the input). */
    readonly numFeatures: number,
    /** The input ranks the layer accepts. */
    readonly ranks: number[],
    /** The options the layer was built with. */
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
  /** Normalises each channel: batch statistics in training (updating the running ones), the running ones in eval. */
  forward(x: Tensor): Tensor {
    return this.forwardFused(x, {});
  }
  /**
   * The norm followed by a residual add and / or a relu, as one fused pass over the
   * activations forward and one backward: `forwardFused(x, { residual: shortcut, activation:
   * 'relu' })` is `relu(forward(x).add(shortcut))`, the end of a ResNet basic block, with the
   * same results up to rounding. Sequential fuses a norm and the ReLU after it by itself.
   *
   * @example
   * ```ts
   * import { BatchNorm2d, randn } from 'axon-nn';
   * const bn = new BatchNorm2d(16);
   * const shortcut = randn([4, 16, 8, 8]);
   * const y = bn.forwardFused(randn([4, 16, 8, 8]), { residual: shortcut, activation: 'relu' });
   * ```
   */
  forwardFused(x: Tensor, fuse: Pick<BatchNormOptions, 'residual' | 'activation'> = {}): Tensor {
    checkOptionKeys(`${this.name}.forwardFused`, fuse, ['residual', 'activation']);
    if (!this.ranks.includes(x.ndim) || x.shape[1] !== this.numFeatures)
      throw new RangeError(
        `${this.name}(${this.numFeatures}): input must be ${this.ranks.map(batchNormInputName).join(' or ')} with C = ${this.numFeatures}, got ${shapeToString(x.shape)}`,
      );
    const useBatch = this.training || !this.tracking;
    return batchNorm(x, {
      syncStatistics: useBatch ? this.statisticsSync() : null,
      residual: fuse.residual,
      activation: fuse.activation,
      weight: this.weight,
      bias: this.bias,
      runningMean: this.tracking ? this.buffer('running_mean') : null,
      runningVar: this.tracking ? this.buffer('running_var') : null,
      training: useBatch,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
  override extraRepr(): string {
    const extra = [String(this.numFeatures)];
    if (this.eps !== 1e-5) extra.push(`eps=${this.eps}`);
    if (this.momentum !== 0.1) extra.push(`momentum=${this.momentum}`);
    if (!this.weight) extra.push('affine=false');
    if (!this.tracking) extra.push('trackRunningStats=false');
    return extra.join(', ');
  }
  /** How batch statistics are shared with other replicas (SyncBatchNorm): null here, each
   * batch normalised by its own. @internal */
  protected statisticsSync(): ((sums: Float64Array) => void) | null {
    return null;
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

/**
 * Batch normalisation over [N, C] or [N, C, L] (nn.BatchNorm1d): per channel, statistics over
 * the batch (and length) axes in training, running statistics (buffers running_mean and
 * running_var, as PyTorch names them) in evaluation. Throws a RangeError for another rank or C.
 *
 * @example
 * ```ts
 * import { BatchNorm1d, Linear, ReLU, Sequential, randn } from 'axon-nn';
 * const net = new Sequential(new Linear(20, 64), new BatchNorm1d(64), new ReLU());
 * const y = net.forward(randn([32, 20])); // [32, 64]
 * ```
 */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super('BatchNorm1d', numFeatures, [2, 3], options);
  }
}

/**
 * Batch normalisation over NCHW input [N, C, H, W] (nn.BatchNorm2d): per channel, statistics
 * over N, H and W in training, the running_mean / running_var buffers in evaluation.
 *
 * @example
 * ```ts
 * import { BatchNorm2d, Conv2d, ReLU, Sequential, randn } from 'axon-nn';
 * const block = new Sequential(new Conv2d(3, 16, 3, { padding: 1, bias: false }), new BatchNorm2d(16), new ReLU());
 * const y = block.forward(randn([4, 3, 32, 32])); // [4, 16, 32, 32]
 * ```
 */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super('BatchNorm2d', numFeatures, [4], options);
  }
}

/**
 * Layer normalisation over the trailing `normalizedShape` axes of each sample (nn.LayerNorm),
 * with a learnable elementwise scale and shift of that shape; the same in training and
 * evaluation. Throws a RangeError for non-positive sizes or eps.
 *
 * @example
 * ```ts
 * import { LayerNorm, randn } from 'axon-nn';
 * const norm = new LayerNorm(64);
 * const y = norm.forward(randn([2, 10, 64])); // [2, 10, 64], each row mean 0, variance 1
 * ```
 */
export class LayerNorm extends Module {
  /** The normalised trailing axes' sizes. */
  readonly normalizedShape: number[];
  /** The learnable scale, of normalizedShape (ones at first), or null without elementwiseAffine. */
  weight: Parameter | null;
  /** The learnable shift, of normalizedShape (zeros at first), or null without elementwiseAffine. */
  bias: Parameter | null;
  constructor(
    normalizedShape: number | readonly number[],
    /** The options the layer was built with. */
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
  /** Normalises x over its trailing normalizedShape axes. */
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
