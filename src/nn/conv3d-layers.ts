/**
 * Volumetric layers (PyTorch's nn.Conv3d, nn.ConvTranspose3d, nn.MaxPool3d, nn.AvgPool3d,
 * nn.BatchNorm3d) over [N, C, D, H, W]: video clips, medical volumes. The ops are in
 * src/ops/conv3d.ts; weights use PyTorch's layouts and default initialisation, so state
 * dicts load unchanged.
 */
import {
  avgPool3d,
  check3dGeometry,
  conv3d,
  convTranspose3d,
  maxPool3d,
  type Conv3dOptions,
  type ConvTranspose3dOptions,
  type Pool3dOptions,
  type Triple,
} from '../ops/conv3d.js';
import { checkOptionKeys, optionKeys } from '../options.js';
import type { RandomOptions } from '../tensor/random.js';
import { shapeToString } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { BatchNormBase, ConvBase, type BatchNormLayerOptions, type ConvOptions } from './conv-layers.js';
import type { InitializerLike } from './init.js';
import { Module } from './module.js';
import type { Regularizer } from './regularizers.js';

/**
 * Options of {@link Conv3d}: the geometry of {@link conv3d} plus the bias, initialisers,
 * regularizers and seed of Conv2d's options.
 *
 * @example
 * ```ts
 * import { Conv3d, type Conv3dLayerOptions } from 'axon-nn';
 * const options: Conv3dLayerOptions = { stride: [1, 2, 2], padding: 1, bias: false };
 * const conv = new Conv3d(3, 16, 3, options);
 * ```
 */
export interface Conv3dLayerOptions extends Conv3dOptions {
  /** Add a per-output-channel bias (default true). */
  bias?: boolean;
  /** Default: PyTorch's (kaiming uniform, a = sqrt(5)). */
  weightInit?: InitializerLike;
  /** Default: PyTorch's U(+-1/sqrt(fanIn)). */
  biasInit?: InitializerLike;
  /** Penalty on the weight, added by regularizationLoss() (default none). */
  weightRegularizer?: Regularizer | null;
  /** Penalty on the bias (default none). */
  biasRegularizer?: Regularizer | null;
  /** Seed or generator for the initial weights (default: the global generator). */
  init?: RandomOptions;
}
const CONV3D_LAYER_KEYS = optionKeys<Conv3dLayerOptions>({
  stride: true,
  padding: true,
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
 * Options of {@link ConvTranspose3d}: Conv3d's plus `outputPadding`.
 *
 * @example
 * ```ts
 * import { ConvTranspose3d, type ConvTranspose3dLayerOptions } from 'axon-nn';
 * const options: ConvTranspose3dLayerOptions = { stride: 2, padding: 1, outputPadding: 1 };
 * const up = new ConvTranspose3d(16, 8, 3, options); // doubles D, H and W
 * ```
 */
export interface ConvTranspose3dLayerOptions extends Conv3dLayerOptions {
  /** Extra output size at the end of each axis, less than the stride or the dilation (default 0). */
  outputPadding?: Triple;
}

function channels(op: string, inChannels: number, outChannels: number, groups: number): void {
  for (const [name, v] of [
    ['inChannels', inChannels],
    ['outChannels', outChannels],
    ['groups', groups],
  ] as const)
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${op}: ${name} must be a positive integer, got ${v}`);
  if (inChannels % groups || outChannels % groups)
    throw new RangeError(
      `${op}: inChannels ${inChannels} and outChannels ${outChannels} must be divisible by groups ${groups}`,
    );
}

function checkInput(layer: { inChannels: number; outChannels: number }, op: string, x: Tensor): void {
  if (x.ndim !== 5 || x.shape[1] !== layer.inChannels)
    throw new RangeError(
      `${op}(${layer.inChannels}, ${layer.outChannels}): input must be [N, ${layer.inChannels}, D, H, W], got ${shapeToString(x.shape)}`,
    );
}

/** A 3-D convolution layer's config: channels, kernel, its own geometry and the shared
 * settings (bias, initialisers, regularizers) with ConvBase's 2-D geometry left out. */
function config3d(layer: Conv3d | ConvTranspose3d, base: Record<string, unknown>): Record<string, unknown> {
  const { stride: _s, padding: _p, dilation: _d, groups: _g, activation: _a, ...rest } = base;
  const o = layer.options3d;
  return {
    inChannels: layer.inChannels,
    outChannels: layer.outChannels,
    kernelSize: layer.kernelSize,
    stride: o.stride ?? 1,
    padding: o.padding ?? 0,
    dilation: o.dilation ?? 1,
    groups: o.groups ?? 1,
    ...(layer instanceof ConvTranspose3d ? { outputPadding: layer.options3d.outputPadding ?? 0 } : {}),
    ...rest,
  };
}

/**
 * 3-D convolution over [N, Cin, D, H, W] (PyTorch's nn.Conv3d: weight [Cout, Cin/groups, kD,
 * kH, kW], the same default initialisation). Geometry that cannot work throws when the layer is
 * built; an input of another rank or channel count throws when run.
 *
 * @example
 * ```ts
 * import { Conv3d, randn } from 'axon-nn';
 * const conv = new Conv3d(3, 16, 3, { padding: 1 });
 * const y = conv.forward(randn([2, 3, 8, 32, 32])); // [2, 16, 8, 32, 32]
 * ```
 */
export class Conv3d extends ConvBase {
  /** The kernel's [depth, height, width]. */
  readonly kernelSize: [number, number, number];
  constructor(
    /** Channels of the input (axis 1). */
    readonly inChannels: number,
    /** Channels of the output (axis 1). */
    readonly outChannels: number,
    kernelSize: Triple,
    /** The options the layer was built with. */
    readonly options3d: Conv3dLayerOptions = {},
  ) {
    checkOptionKeys('Conv3d', options3d, CONV3D_LAYER_KEYS);
    const k = check3dGeometry('Conv3d', kernelSize, options3d);
    const groups = options3d.groups ?? 1;
    channels('Conv3d', inChannels, outChannels, groups);
    const cinG = inChannels / groups;
    super('Conv3d', [outChannels, cinG, ...k], cinG * k[0] * k[1] * k[2], outChannels, options3d as ConvOptions);
    this.kernelSize = k;
  }
  /** Convolves x [N, inChannels, D, H, W] into [N, outChannels, D', H', W']. */
  forward(x: Tensor): Tensor {
    checkInput(this, 'Conv3d', x);
    const o = this.options3d;
    return conv3d(x, this.weight, this.bias, {
      stride: o.stride,
      padding: o.padding,
      dilation: o.dilation,
      groups: o.groups,
    });
  }
  override getConfig(): Record<string, unknown> {
    return config3d(this, this.baseConfig());
  }
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=${this.kernelSize.join('x')}`;
  }
}

/**
 * 3-D transposed convolution over [N, Cin, D, H, W] (PyTorch's nn.ConvTranspose3d: weight
 * [Cin, Cout/groups, kD, kH, kW]), the usual upsampling step of a volumetric decoder.
 *
 * @example
 * ```ts
 * import { ConvTranspose3d, randn } from 'axon-nn';
 * const up = new ConvTranspose3d(16, 8, 2, { stride: 2 });
 * const y = up.forward(randn([1, 16, 4, 8, 8])); // [1, 8, 8, 16, 16]
 * ```
 */
export class ConvTranspose3d extends ConvBase {
  /** The kernel's [depth, height, width]. */
  readonly kernelSize: [number, number, number];
  constructor(
    /** Channels of the input (axis 1). */
    readonly inChannels: number,
    /** Channels of the output (axis 1). */
    readonly outChannels: number,
    kernelSize: Triple,
    /** The options the layer was built with. */
    readonly options3d: ConvTranspose3dLayerOptions = {},
  ) {
    checkOptionKeys('ConvTranspose3d', options3d, [...CONV3D_LAYER_KEYS, 'outputPadding']);
    const k = check3dGeometry('ConvTranspose3d', kernelSize, options3d);
    const groups = options3d.groups ?? 1;
    channels('ConvTranspose3d', inChannels, outChannels, groups);
    const coutG = outChannels / groups;
    // PyTorch's fans of [Cin, Cout/groups, kD, kH, kW], as for any weight: fanIn = dim 1 x kernel.
    super(
      'ConvTranspose3d',
      [inChannels, coutG, ...k],
      coutG * k[0] * k[1] * k[2],
      outChannels,
      options3d as ConvOptions,
    );
    this.kernelSize = k;
  }
  /** Upsamples x [N, inChannels, D, H, W] into [N, outChannels, D', H', W']. */
  forward(x: Tensor): Tensor {
    checkInput(this, 'ConvTranspose3d', x);
    const o = this.options3d;
    const fn: ConvTranspose3dOptions = {
      stride: o.stride,
      padding: o.padding,
      dilation: o.dilation,
      groups: o.groups,
      outputPadding: o.outputPadding,
    };
    return convTranspose3d(x, this.weight, this.bias, fn);
  }
  override getConfig(): Record<string, unknown> {
    return config3d(this, this.baseConfig());
  }
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=${this.kernelSize.join('x')}`;
  }
}

/** What the 3-D pooling layers share: the window, the options, config and printing. */
abstract class Pool3dLayer extends Module {
  protected constructor(
    /** The window's size, one number or [d, h, w]. */
    readonly kernelSize: Triple,
    /** The options the layer was built with. */
    readonly options: Pool3dOptions,
    private readonly pool: (x: Tensor, kernelSize: Triple, options: Pool3dOptions) => Tensor,
  ) {
    super();
  }
  /** The pooled windows of x [N, C, D, H, W]. */
  forward(x: Tensor): Tensor {
    return this.pool(x, this.kernelSize, this.options);
  }
  override getConfig(): Record<string, unknown> {
    return { kernelSize: this.kernelSize, ...this.options };
  }
  override extraRepr(): string {
    return `kernelSize=${JSON.stringify(this.kernelSize)}`;
  }
}

/**
 * 3-D max pooling over [N, C, D, H, W] (nn.MaxPool3d); stride defaults to the kernel size.
 *
 * @example
 * ```ts
 * import { MaxPool3d, randn } from 'axon-nn';
 * const pool = new MaxPool3d([1, 2, 2]); // halve height and width, keep every frame
 * const y = pool.forward(randn([1, 8, 6, 32, 32])); // [1, 8, 6, 16, 16]
 * ```
 */
export class MaxPool3d extends Pool3dLayer {
  /**
   * @param kernelSize the window, one number or [d, h, w].
   * @param options stride, padding, dilation, ceilMode.
   */
  constructor(kernelSize: Triple, options: Pool3dOptions = {}) {
    check3dGeometry('MaxPool3d', kernelSize, options);
    if (options.countIncludePad !== undefined)
      throw new RangeError('MaxPool3d: countIncludePad is for average pooling');
    super(kernelSize, options, maxPool3d);
  }
}

/**
 * 3-D average pooling over [N, C, D, H, W] (nn.AvgPool3d); stride defaults to the kernel size
 * and countIncludePad to true, as PyTorch.
 *
 * @example
 * ```ts
 * import { AvgPool3d, randn } from 'axon-nn';
 * const pool = new AvgPool3d(2);
 * const y = pool.forward(randn([1, 8, 6, 32, 32])); // [1, 8, 3, 16, 16]
 * ```
 */
export class AvgPool3d extends Pool3dLayer {
  /**
   * @param kernelSize the window, one number or [d, h, w].
   * @param options stride, padding, ceilMode, countIncludePad.
   */
  constructor(kernelSize: Triple, options: Pool3dOptions = {}) {
    check3dGeometry('AvgPool3d', kernelSize, options);
    if (options.dilation !== undefined) throw new RangeError('AvgPool3d: average pooling has no dilation');
    super(kernelSize, options, avgPool3d);
  }
}

/**
 * Batch normalisation over [N, C, D, H, W] (nn.BatchNorm3d): per channel, statistics over N, D,
 * H and W in training, the running_mean / running_var buffers in evaluation.
 *
 * @example
 * ```ts
 * import { BatchNorm3d, Conv3d, ReLU, Sequential, randn } from 'axon-nn';
 * const block = new Sequential(new Conv3d(3, 8, 3, { padding: 1, bias: false }), new BatchNorm3d(8), new ReLU());
 * const y = block.forward(randn([2, 3, 4, 16, 16])); // [2, 8, 4, 16, 16]
 * ```
 */
export class BatchNorm3d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super('BatchNorm3d', numFeatures, [5], options);
  }
}
