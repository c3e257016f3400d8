/**
 * The image-augmentation kernel behind src/nn/augment.ts's RandomCrop and RandomHorizontalFlip
 * (which check the arguments): one native call crops (from the zero-padded image) and flips a
 * batch, drawing positions and flips from a counter-based stream. Not recorded for autograd.
 */
import { native } from '../native/binding.js';
import { Tensor } from '../tensor/tensor.js';

/** randomCropFlip's geometry: the input [N, C, H, W], the crop size and the zero padding. */
export interface CropFlipGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  pad: number;
}

/**
 * Crops an oh x ow window of each image of `xd` (random positions when `random`, else the
 * centre) and flips it horizontally with probability flipP, advancing `state`.
 * @returns the [N, C, oh, ow] batch.
 */
export function randomCropFlip(
  xd: Float32Array,
  g: CropFlipGeometry,
  flipP: number,
  random: boolean,
  state: Float64Array,
): Tensor {
  const out = Tensor.output([g.n, g.c, g.oh, g.ow]);
  if (out.size > 0)
    native.randomCropFlip(xd, [g.n, g.c, g.h, g.w, g.oh, g.ow, g.pad], flipP, random, state, out.data as Float32Array);
  return out;
}
