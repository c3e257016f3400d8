/**
 * Stateless layer functions that need more than an elementwise kernel: dropout. (The rest of
 * the functional API is the ops in src/ops and the losses in losses.ts.)
 */
import { dropoutMasked } from '../ops/dropout.js';
import { floatData } from '../ops/util.js';
import { pickGenerator, type RandomOptions } from '../tensor/random.js';
import { checkOptionKeys, optionKeys } from '../options.js';

/** dropout's options: a seed or generator for the mask, or a module's own mask stream. */
export interface DropoutOptions extends RandomOptions {
  /** A mask stream from dropoutState, advanced by each call (a Dropout module's own). */
  state?: Float64Array;
}
const DROPOUT_KEYS = optionKeys<DropoutOptions>({ seed: true, generator: true, state: true });
import { Tensor } from '../tensor/tensor.js';

/** A dropout random stream: [seedHigh, seedLow, counter], advanced by each native call. */
export function dropoutState(options?: RandomOptions): Float64Array {
  const g = pickGenerator(options);
  return new Float64Array([g.nextUint32(), g.nextUint32(), 0]);
}

/**
 * Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p), so
 * evaluation needs no rescaling; identity when not training. The mask comes from a native
 * counter-based generator whose seed is drawn from the JS generator (global, per-call seed, or
 * given), so it honours manualSeed and does not depend on the thread count. A Dropout module
 * passes its own `state`, so successive calls (and replays of a recorded step) differ.
 */
export function dropout(x: Tensor, p = 0.5, training = true, options?: DropoutOptions): Tensor {
  checkOptionKeys('dropout', options, DROPOUT_KEYS);
  const xd = floatData('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const state = options?.state ?? dropoutState(options);
  return dropoutMasked(x, xd, p, state);
}
