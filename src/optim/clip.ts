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
 * maxNorm / (norm + 1e-6), as PyTorch). normType 2 (default) or Infinity. Returns the norm
 * before clipping.
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

/** Clamps every gradient element into [-clipValue, clipValue]. */
export function clipGradValue(params: Iterable<Tensor>, clipValue: number): void {
  if (!(clipValue >= 0) || !Number.isFinite(clipValue))
    throw new RangeError(`clipGradValue: clipValue must be a finite number >= 0, got ${clipValue}`);
  for (const g of grads(params)) {
    kernels.binaryScalar(BinaryCode.Minimum, g, clipValue, false, g);
    kernels.binaryScalar(BinaryCode.Maximum, g, -clipValue, false, g);
  }
}
