/**
 * The image-augmentation kernel behind src/nn/augment.ts's RandomCrop and RandomHorizontalFlip
 * (which check the arguments): one native call crops (from the zero-padded image) and flips a
 * batch, drawing positions and flips from a counter-based stream. Not recorded for autograd.
 */
import type { CropFlipGeometry } from '../native/binding.js';
import { kernels } from '../native/executor.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Crops an outH x outW window of each image of `xd` (random positions when `random`, else the
 * centre) and flips it horizontally with probability flipP, advancing `state`.
 * @returns the [N, C, outH, outW] batch.
 */
export function randomCropFlip(
  xd: Float32Array,
  g: CropFlipGeometry,
  flipP: number,
  random: boolean,
  state: Float64Array,
): Tensor {
  const out = Tensor.empty([g.n, g.c, g.outH, g.outW]);
  if (out.size > 0) kernels.randomCropFlip(xd, g, flipP, random, state, out.data as Float32Array);
  return out;
}
