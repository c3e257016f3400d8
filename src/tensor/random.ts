/**
 * Seeded random numbers. `Generator` is xoshiro128** (Blackman & Vigna, 2018): fast in JS
 * (32-bit integer ops only), 2^128 - 1 period, and its whole state is four integers, so
 * checkpoints can save and restore it exactly. Normals use the Box-Muller transform in
 * float64. Every random function takes an optional `seed` (a fresh generator for that call)
 * or `generator`; otherwise it draws from the global generator that `manualSeed` resets.
 */

/**
 * A Generator's whole state, as `getState()` returns it and `setState()` restores it; plain
 * JSON, so checkpoints can store it.
 *
 * @example
 * ```ts
 * import { Generator, type GeneratorState } from 'axon-nn';
 * const g = new Generator(42);
 * const saved: GeneratorState = g.getState();
 * const a = g.nextFloat();
 * const b = g.setState(saved).nextFloat(); // b === a
 * ```
 */
export interface GeneratorState {
  /** The four xoshiro128** state words, as unsigned 32-bit integers (not all zero). */
  s: [number, number, number, number];
  /** A spare normal sample cached by Box-Muller, if any. */
  spare: number | null;
}

import { optionKeys } from '../options.js';

/** splitmix32: spreads a seed into well-mixed state words. */
function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seeded pseudo-random number generator (xoshiro128**) whose state can be saved and restored
 * exactly. Pass one as the `generator` option of rand, randn, randint or dropout (or in a
 * layer's `init`) for a stream independent of the global one; the same seed gives the same numbers.
 *
 * @example
 * ```ts
 * import { Generator, randn } from 'axon-nn';
 * const g = new Generator(123);
 * const a = randn([2, 2], { generator: g });
 * const b = randn([2, 2], { generator: g }); // continues the stream: differs from a
 * ```
 */
export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  /** A generator seeded with `seed` (default 0); see `seed()` for what a seed may be. */
  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Resets the state from a seed (any finite number; its integer part modulo 2^32 is used). */
  seed(seed: number): this {
    if (!Number.isFinite(seed)) throw new RangeError(`Generator.seed: seed must be a finite number, got ${seed}`);
    const next = splitmix32(Math.trunc(seed) >>> 0);
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spare = null;
    return this;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal (Box-Muller; the second sample of each pair is kept for the next call). */
  nextNormal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n) without modulo bias (n <= 2^32). */
  nextInt(n: number): number {
    if (!(n >= 1 && n <= 4294967296)) throw new RangeError(`Generator.nextInt: n must be in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** A copy of the current state, for `setState` to return to this point of the stream. */
  getState(): GeneratorState {
    // Unsigned words: one canonical form, however the arithmetic left them.
    return { s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spare: this.spare };
  }

  /**
   * Restores a state saved by `getState`; returns this. Throws a TypeError for a malformed
   * state and a RangeError for the all-zero state.
   */
  setState(state: GeneratorState): this {
    const s = state?.s;
    if (!Array.isArray(s) || s.length !== 4 || !s.every((v) => Number.isInteger(v) && Math.abs(v) <= 0xffffffff))
      throw new TypeError('Generator.setState: expected { s: [4 32-bit integers], spare }');
    // All zeros is xoshiro's fixed point: it would return 0 forever.
    if (s.every((v) => (v | 0) === 0))
      throw new RangeError('Generator.setState: the all-zero state is not a valid state');
    const spare = state.spare;
    if (spare !== null && spare !== undefined && !(typeof spare === 'number' && Number.isFinite(spare)))
      throw new TypeError('Generator.setState: spare must be a finite number or null');
    [this.s0, this.s1, this.s2, this.s3] = s.map((v) => v | 0) as [number, number, number, number];
    this.spare = typeof state.spare === 'number' ? state.spare : null;
    return this;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const globalGenerator = new Generator(0);

/**
 * The global generator: the one random functions use when given neither `seed` nor
 * `generator`, and that `manualSeed` reseeds.
 *
 * @example
 * ```ts
 * import { defaultGenerator, manualSeed, rand } from 'axon-nn';
 * manualSeed(0);
 * const saved = defaultGenerator().getState();
 * const a = rand([3]);
 * defaultGenerator().setState(saved);
 * const b = rand([3]); // the same values as a
 * ```
 */
export function defaultGenerator(): Generator {
  return globalGenerator;
}

/**
 * Reseeds the global generator (PyTorch's torch.manual_seed), so the random functions that use
 * it produce the same sequence again.
 *
 * @example
 * ```ts
 * import { manualSeed, randn } from 'axon-nn';
 * manualSeed(42);
 * const a = randn([3]);
 * manualSeed(42);
 * const b = randn([3]); // the same values as a
 * ```
 */
export function manualSeed(seed: number): void {
  globalGenerator.seed(seed);
}

/**
 * Where a random function draws from: a fresh generator for one `seed`, a given `generator`,
 * or (with neither) the global generator. `generator` wins when both are given.
 *
 * @example
 * ```ts
 * import { randint, type RandomOptions } from 'axon-nn';
 * const options: RandomOptions = { seed: 5 };
 * const a = randint(0, 100, [4], options);
 * const b = randint(0, 100, [4], options); // the same values as a
 * ```
 */
export interface RandomOptions {
  /** Use a fresh generator seeded with this for this call only. */
  seed?: number;
  /** Draw from this generator. */
  generator?: Generator;
}
export const RANDOM_OPTION_KEYS = optionKeys<RandomOptions>({ seed: true, generator: true });

/**
 * A `{ seed }` turned into one generator seeded with it, so a layer's successive draws (weight,
 * then bias) continue one stream instead of each restarting from the seed; anything else as
 * given. @internal
 */
export function seededOnce(random: RandomOptions | undefined): RandomOptions | undefined {
  if (random && !random.generator && random.seed !== undefined) return { generator: new Generator(random.seed) };
  return random;
}

export function pickGenerator(options?: RandomOptions): Generator {
  if (options?.generator) return options.generator;
  if (options?.seed !== undefined) return new Generator(options.seed);
  return globalGenerator;
}
