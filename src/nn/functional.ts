/**
 * Stateless layer functions that need more than an elementwise kernel: dropout. (The rest of
 * the functional API is the ops in src/ops and the losses in losses.ts.)
 */
import { record } from '../autograd/engine.js';
import { native, BinaryCode } from '../native/binding.js';
import { floatData } from '../ops/util.js';
import { pickGenerator, type RandomOptions } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p), so
 * evaluation needs no rescaling; identity when not training. The mask comes from a native
 * counter-based generator seeded from the JS generator (global, per-call seed, or given), so
 * it honours manualSeed and does not depend on the thread count.
 */
export function dropout(x: Tensor, p = 0.5, training = true, options?: RandomOptions): Tensor {
  const xd = floatData('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const g = pickGenerator(options);
  const out = Tensor.empty(x.shape);
  const mask = new Float32Array(x.size);
  native.dropout(xd, out.data as Float32Array, mask, p, g.nextUint32(), g.nextUint32());
  return record(out, 'dropout', [x], (grad) => {
    const dx = Tensor.empty(x.shape);
    native.binary(BinaryCode.Mul, grad.data as Float32Array, x.shape, mask, x.shape, dx.data as Float32Array, x.shape);
    return [dx];
  });
}
