/** Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_), in place. */
import { BinaryCode, ClipGradNormIo, ClipGradNormIoLength } from '../native/binding.js';
import { kernels } from '../native/executor.js';
import type { Tensor } from '../tensor/tensor.js';

function grads(params: Iterable<Tensor>): Float32Array[] {
  const out: Float32Array[] = [];
  for (const p of params) if (p.grad) out.push(p.grad.data as Float32Array);
  return out;
}

/**
 * Scales all gradients together so their global norm is at most maxNorm (scale
 * maxNorm / (norm + 1e-6), as PyTorch's clip_grad_norm_), in place; parameters without a
 * gradient are skipped. normType 2 (default) or Infinity. Returns the norm before clipping;
 * throws a RangeError for a negative or non-finite maxNorm or another normType.
 *
 * @example
 * ```ts
 * import { Linear, SGD, mseLoss, randn, clipGradNorm } from 'axon-nn';
 * const layer = new Linear(4, 1);
 * const opt = new SGD(layer.parameters(), { lr: 0.1 });
 * mseLoss(layer.forward(randn([16, 4])), randn([16, 1])).backward();
 * const norm = clipGradNorm(layer.parameters(), 1.0); // the norm before clipping
 * opt.step();
 * ```
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType: number = 2): number {
  if (!(maxNorm >= 0) || !Number.isFinite(maxNorm))
    throw new RangeError(`clipGradNorm: maxNorm must be a finite number >= 0, got ${maxNorm}`);
  if (normType !== 2 && normType !== Infinity)
    throw new RangeError(`clipGradNorm: normType must be 2 or Infinity, got ${normType}`);
  // One native op (norm and scaling together), so a recorded training step replays it.
  const io = new Float64Array(ClipGradNormIoLength);
  io[ClipGradNormIo.maxNorm] = maxNorm;
  io[ClipGradNormIo.normType] = normType;
  kernels.clipGradNorm(grads(params), io);
  return io[ClipGradNormIo.norm];
}

/**
 * Clamps every gradient element into [-clipValue, clipValue], in place (PyTorch's
 * clip_grad_value_); parameters without a gradient are skipped. Throws a RangeError for a
 * negative or non-finite clipValue.
 *
 * @example
 * ```ts
 * import { Linear, SGD, mseLoss, randn, clipGradValue } from 'axon-nn';
 * const layer = new Linear(4, 1);
 * const opt = new SGD(layer.parameters(), { lr: 0.1 });
 * mseLoss(layer.forward(randn([16, 4])), randn([16, 1])).backward();
 * clipGradValue(layer.parameters(), 0.5); // every gradient element now in [-0.5, 0.5]
 * opt.step();
 * ```
 */
export function clipGradValue(params: Iterable<Tensor>, clipValue: number): void {
  if (!(clipValue >= 0) || !Number.isFinite(clipValue))
    throw new RangeError(`clipGradValue: clipValue must be a finite number >= 0, got ${clipValue}`);
  for (const g of grads(params)) {
    kernels.binaryScalar(BinaryCode.Minimum, g, clipValue, false, g);
    kernels.binaryScalar(BinaryCode.Maximum, g, -clipValue, false, g);
  }
}
