/** Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_), in place. */
import { native, BinaryCode } from '../native/binding.js';
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
  const gs = grads(params);
  let norm = 0;
  if (normType === 2) {
    let sq = 0;
    for (const g of gs) sq += native.sumSquares(g);
    norm = Math.sqrt(sq);
  } else {
    for (const g of gs) for (let i = 0; i < g.length; i++) norm = Math.max(norm, Math.abs(g[i]));
  }
  const scale = maxNorm / (norm + 1e-6);
  if (scale < 1) for (const g of gs) native.binaryScalar(BinaryCode.Mul, g, scale, false, g);
  return norm;
}

/** Clamps every gradient element into [-clipValue, clipValue]. */
export function clipGradValue(params: Iterable<Tensor>, clipValue: number): void {
  if (!(clipValue >= 0) || !Number.isFinite(clipValue))
    throw new RangeError(`clipGradValue: clipValue must be a finite number >= 0, got ${clipValue}`);
  for (const g of grads(params)) {
    native.binaryScalar(BinaryCode.Minimum, g, clipValue, false, g);
    native.binaryScalar(BinaryCode.Maximum, g, -clipValue, false, g);
  }
}
