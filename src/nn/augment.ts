/**
 * Image augmentation as layers (Keras's preprocessing layers): RandomCrop (from the image
 * zero-padded by `padding`) and RandomHorizontalFlip act only in training mode, through one
 * native kernel each call, so inside Model.fit they run in the recorded training step on the
 * thread pool, off the main thread, with no per-batch JS. Their random stream is counter-based
 * like Dropout's (`rngState`, saved in checkpoints). Normalize standardises each channel.
 * Augmentation layers pass no gradient: put them first, on the input.
 */
import { randomCropFlip } from '../ops/augment.js';
import { div, sub } from '../ops/elementwise.js';
import { floatData } from '../ops/util.js';
import { RANDOM_OPTION_KEYS, type RandomOptions } from '../tensor/random.js';
import { checkOptionKeys, optionKeys } from '../options.js';

/**
 * {@link RandomCrop}'s options: zero padding before cropping, and the crop positions' random
 * stream (a seed or generator; default the global generator).
 *
 * @example
 * ```ts
 * import { RandomCrop, type RandomCropOptions } from 'axon-nn';
 * const options: RandomCropOptions = { padding: 4, seed: 0 };
 * const crop = new RandomCrop(32, options); // CIFAR-10's usual augmentation
 * ```
 */
export interface RandomCropOptions extends RandomOptions {
  /** Zero padding on every side before the crop (default 0). */
  padding?: number;
}
const RANDOM_CROP_KEYS = optionKeys<RandomCropOptions>({ padding: true, seed: true, generator: true });
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { dropoutState } from './functional.js';
import { Module } from './module.js';

function cropFlip(
  op: string,
  x: Tensor,
  oh: number,
  ow: number,
  pad: number,
  flipP: number,
  random: boolean,
  state: Float64Array,
): Tensor {
  const xd = floatData(op, x);
  if (x.ndim !== 4) throw new RangeError(`${op}: input must be [N, C, H, W], got ${shapeToString(x.shape)}`);
  const [n, c, h, w] = x.shape;
  if (oh > h + 2 * pad || ow > w + 2 * pad)
    throw new RangeError(
      `${op}: crop ${oh}x${ow} is larger than the padded image ${h + 2 * pad}x${w + 2 * pad} (input ${shapeToString(x.shape)})`,
    );
  return randomCropFlip(xd, { n, c, h, w, outH: oh, outW: ow, pad }, flipP, random, state);
}

/**
 * Crops a random size x size window of NCHW images (training) or the centre (evaluation), after
 * zero-padding them by `padding` in training (torchvision's RandomCrop, Keras's RandomCrop).
 * Each image gets its own position. Throws a RangeError for a non-4-D input or a crop larger
 * than the padded image.
 *
 * @example
 * ```ts
 * import { RandomCrop, randn } from 'axon-nn';
 * const crop = new RandomCrop(32, { padding: 4 });
 * const y = crop.forward(randn([8, 3, 32, 32])); // [8, 3, 32, 32], shifted by up to 4 pixels
 * ```
 */
export class RandomCrop extends Module {
  /** The crop's [height, width]. */
  readonly size: [number, number];
  /** Zero padding on every side before a training crop. */
  readonly padding: number;
  /** The crop positions' counter-based random stream [seedHigh, seedLow, counter] (saved in checkpoints). */
  readonly rngState: Float64Array;
  constructor(size: number | readonly [number, number], options: RandomCropOptions = {}) {
    super();
    checkOptionKeys('RandomCrop', options, RANDOM_CROP_KEYS);
    this.size = typeof size === 'number' ? [size, size] : [size[0], size[1]];
    this.padding = options.padding ?? 0;
    if (!this.size.every((v) => Number.isInteger(v) && v >= 1))
      throw new RangeError(`RandomCrop: size must be positive integers, got ${JSON.stringify(size)}`);
    if (!Number.isInteger(this.padding) || this.padding < 0)
      throw new RangeError(`RandomCrop: padding must be a non-negative integer, got ${this.padding}`);
    this.rngState = dropoutState(options);
  }
  /** A random crop of each image of x [N, C, H, W] in training, the centre crop in evaluation. */
  forward(x: Tensor): Tensor {
    const [oh, ow] = this.size;
    if (!this.training && x.ndim === 4 && x.shape[2] === oh && x.shape[3] === ow) return x;
    return cropFlip('RandomCrop', x, oh, ow, this.training ? this.padding : 0, 0, this.training, this.rngState);
  }
  override getConfig(): Record<string, unknown> {
    return { size: this.size, padding: this.padding };
  }
}

/**
 * Mirrors each NCHW image left-right with probability p (default 0.5), in training only
 * (torchvision's RandomHorizontalFlip). Throws a RangeError for p outside [0, 1] or a non-4-D input.
 *
 * @example
 * ```ts
 * import { RandomCrop, RandomHorizontalFlip, Sequential } from 'axon-nn';
 * const augment = new Sequential(new RandomCrop(32, { padding: 4 }), new RandomHorizontalFlip());
 * ```
 */
export class RandomHorizontalFlip extends Module {
  /** The flips' counter-based random stream [seedHigh, seedLow, counter] (saved in checkpoints). */
  readonly rngState: Float64Array;
  constructor(
    /** The probability of flipping each image. */
    readonly p = 0.5,
    random?: RandomOptions,
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`RandomHorizontalFlip: p must be in [0, 1], got ${p}`);
    checkOptionKeys('RandomHorizontalFlip', random, RANDOM_OPTION_KEYS);
    this.rngState = dropoutState(random);
  }
  /** x with each image flipped with probability p in training; x itself in evaluation. */
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    if (x.ndim !== 4)
      throw new RangeError(`RandomHorizontalFlip: input must be [N, C, H, W], got ${shapeToString(x.shape)}`);
    return cropFlip('RandomHorizontalFlip', x, x.shape[2], x.shape[3], 0, this.p, true, this.rngState);
  }
  override getConfig(): Record<string, unknown> {
    return { p: this.p };
  }
}

/**
 * (x - mean[c]) / std[c] per channel of [N, C, ...] (torchvision's Normalize), in training and
 * evaluation alike. Throws a RangeError unless mean and std have one finite value per channel
 * each and every std is positive.
 *
 * @example
 * ```ts
 * import { Normalize, rand } from 'axon-nn';
 * const norm = new Normalize([0.4914, 0.4822, 0.4465], [0.247, 0.243, 0.261]); // CIFAR-10
 * const y = norm.forward(rand([8, 3, 32, 32])); // [8, 3, 32, 32]
 * ```
 */
export class Normalize extends Module {
  private readonly meanT: Tensor;
  private readonly stdT: Tensor;
  constructor(
    /** Per-channel means. */
    readonly mean: readonly number[],
    /** Per-channel standard deviations. */
    readonly std: readonly number[],
  ) {
    super();
    if (mean.length === 0 || mean.length !== std.length)
      throw new RangeError('Normalize: mean and std need one value per channel each');
    if (!mean.every(Number.isFinite) || !std.every((s) => Number.isFinite(s) && s > 0))
      throw new RangeError('Normalize: mean must be finite and std finite and positive');
    this.meanT = new Tensor(Float32Array.from(mean), [mean.length]);
    this.stdT = new Tensor(Float32Array.from(std), [std.length]);
  }
  /** Standardises each channel of x (axis 1). */
  forward(x: Tensor): Tensor {
    const c = this.mean.length;
    if (x.ndim < 2 || x.shape[1] !== c)
      throw new RangeError(`Normalize: input ${shapeToString(x.shape)} must have ${c} channels on axis 1`);
    const shape = [1, c, ...x.shape.slice(2).map(() => 1)];
    return div(sub(x, this.meanT.reshape(shape)), this.stdT.reshape(shape));
  }
  override getConfig(): Record<string, unknown> {
    return { mean: [...this.mean], std: [...this.std] };
  }
}
