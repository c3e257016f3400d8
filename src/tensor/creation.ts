/**
 * Tensor creation: from nested arrays or typed arrays, constant fills, ranges, identity, and
 * seeded random tensors (uniform, normal, integers) drawing from `random.ts` generators.
 */
import { pickGenerator, type RandomOptions } from './random.js';
import { checkShape, numel, shapeToString } from './shape.js';
import { Tensor, type DType, type NestedArray, type TensorData } from './tensor.js';
import { checkOptionKeys, describeValue, numberOption, optionKeys } from '../options.js';

/**
 * The options every creation function takes: the element type and whether the new tensor
 * requires grad. Unknown keys are refused with a TypeError.
 *
 * @example
 * ```ts
 * import { zeros, type CreateOptions } from 'axon-nn';
 * const options: CreateOptions = { requiresGrad: true };
 * const bias = zeros([10], options); // a float32 leaf that collects gradients
 * ```
 */
export interface CreateOptions {
  /** 'float32' (default) or 'int32'. */
  dtype?: DType;
  /** Mark the new tensor as requiring grad (float32 only; default false). */
  requiresGrad?: boolean;
}
const CREATE_KEYS = optionKeys<CreateOptions>({ dtype: true, requiresGrad: true });
/**
 * tensor()'s options: CreateOptions plus a shape to give the values.
 *
 * @example
 * ```ts
 * import { tensor, type TensorOptions } from 'axon-nn';
 * const options: TensorOptions = { shape: [2, 2], dtype: 'int32' };
 * const t = tensor([1, 2, 3, 4], options); // int32, shape [2, 2]
 * ```
 */
export type TensorOptions = CreateOptions & {
  /** The shape to give the values (row-major); it must hold exactly as many elements. */
  shape?: number[];
};
const TENSOR_KEYS = optionKeys<TensorOptions>({ dtype: true, requiresGrad: true, shape: true });
/**
 * rand()'s options: the range, a `seed` or `generator`, and CreateOptions (dtype may only be
 * 'float32').
 *
 * @example
 * ```ts
 * import { rand, type RandOptions } from 'axon-nn';
 * const options: RandOptions = { low: -1, high: 1, seed: 42 };
 * const noise = rand([3, 3], options); // uniform in [-1, 1), the same on every run
 * ```
 */
export type RandOptions = CreateOptions &
  RandomOptions & {
    /** Lower bound, included (default 0). */
    low?: number;
    /** Upper bound, excluded (default 1); must be >= low. */
    high?: number;
  };
const RAND_KEYS = optionKeys<RandOptions>({
  dtype: true,
  requiresGrad: true,
  seed: true,
  generator: true,
  low: true,
  high: true,
});
/**
 * randn()'s options: the distribution's mean and standard deviation, a `seed` or `generator`,
 * and CreateOptions (dtype may only be 'float32').
 *
 * @example
 * ```ts
 * import { randn, type RandnOptions } from 'axon-nn';
 * const options: RandnOptions = { mean: 0, std: 0.02, seed: 7 };
 * const weight = randn([64, 128], options).setRequiresGrad();
 * ```
 */
export type RandnOptions = CreateOptions &
  RandomOptions & {
    /** Mean of the normal distribution (default 0). */
    mean?: number;
    /** Standard deviation (default 1); must be finite and >= 0. */
    std?: number;
  };
const RANDN_KEYS = optionKeys<RandnOptions>({
  dtype: true,
  requiresGrad: true,
  seed: true,
  generator: true,
  mean: true,
  std: true,
});
const RANDINT_KEYS = optionKeys<RandomOptions>({ seed: true, generator: true });

function alloc(dtype: DType | undefined, n: number): TensorData {
  if (dtype !== undefined && dtype !== 'float32' && dtype !== 'int32')
    throw new TypeError(`dtype must be 'float32' or 'int32', got ${String(dtype)}`);
  return dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
}

function finish(data: TensorData, shape: number[], options?: CreateOptions): Tensor {
  return new Tensor(data, shape, { requiresGrad: options?.requiresGrad });
}

/**
 * checkOptionKeys, with a hint for a dtype passed as a bare string (TensorFlow.js's
 * `tf.zeros([2, 3], 'int32')`), which goes in the options here.
 */
function checkCreateOptions(op: string, options: unknown, allowed: readonly string[], example: string): void {
  if (options === 'float32' || options === 'int32')
    throw new TypeError(
      `${op}: options must be an object, got ${describeValue(options)} (a dtype goes in the options: ${example.replace('DTYPE', options)})`,
    );
  checkOptionKeys(op, options, allowed);
}

/**
 * Refuses a number as the shape of zeros, ones, rand and randn before the options are looked
 * at, so PyTorch's `zeros(2, 3)` is told to pass one array rather than that 3 is not an
 * options object.
 */
function sizesAsArray(op: string, shape: unknown, second: unknown): void {
  if (typeof shape === 'number')
    throw new TypeError(
      `${op}: shape must be an array of integers, got ${describeValue(shape)} (pass the sizes as one array: ${op}([${
        typeof second === 'number' ? `${shape}, ${second}` : shape
      }]))`,
    );
}

/** The count check of tensor(values, shape): the RangeError names both. */
function checkFills(shape: number[], count: number, what: string): void {
  if (numel(shape) !== count)
    throw new RangeError(
      `tensor: ${count} ${count === 1 ? 'value does' : 'values do'} not fill shape ${shapeToString(shape)} (${numel(shape)} elements; the values are ${what})`,
    );
}

/**
 * tensor()'s second and third arguments as one options object: a shape array (TensorFlow.js's
 * `tf.tensor(values, shape)`) then optional CreateOptions, or one TensorOptions object. Anything
 * else is refused, naming what came.
 */
function tensorArguments(second: unknown, third: unknown): TensorOptions | undefined {
  if (Array.isArray(second) || ((second === undefined || second === null) && third !== undefined)) {
    // tensor(values, shape, options), or tensor(values, null, options) with the shape inferred.
    checkCreateOptions('tensor', third, CREATE_KEYS, "tensor(values, shape, { dtype: 'DTYPE' })");
    const options = (third ?? {}) as CreateOptions;
    return Array.isArray(second) ? { ...options, shape: checkShape('tensor', second as number[]) } : options;
  }
  if (third !== undefined)
    throw new TypeError(
      `tensor: a third argument (options) follows only a shape array, as in tensor(values, [2, 3], { dtype: 'int32' }); the second argument is ${describeValue(second)}`,
    );
  if (second === undefined || second === null) return undefined;
  if (typeof second !== 'object' || ArrayBuffer.isView(second)) {
    const hint =
      typeof second === 'number'
        ? ` (a shape is an array: tensor(values, [${second}]))`
        : second === 'float32' || second === 'int32'
          ? ` (a dtype goes in the options: tensor(values, { dtype: '${second}' }))`
          : ArrayBuffer.isView(second)
            ? ' (pass the shape as a plain array: Array.from(shape))'
            : '';
    throw new TypeError(
      `tensor: the second argument must be a shape array, as in tensor([1, 2, 3, 4, 5, 6], [2, 3]), or an options object { dtype, requiresGrad, shape }, got ${describeValue(second)}${hint}`,
    );
  }
  checkOptionKeys('tensor', second, TENSOR_KEYS);
  const options = second as TensorOptions;
  return options.shape === undefined ? options : { ...options, shape: checkShape('tensor', options.shape) };
}

/**
 * A tensor from nested arrays (shape inferred; rows must be equal), a typed array, or a number
 * (0-d). Copies the data. Numbers default to float32 (unlike torch.tensor, which infers int64
 * from integers); pass { dtype: 'int32' } for labels and indices.
 *
 * A shape, given as the second argument (as TensorFlow.js's `tf.tensor(values, shape)`) or as
 * `options.shape`, must hold as many elements as the values; nested values are then reshaped
 * to it (row-major, as `reshape`).
 * @param values Nested arrays of numbers, a Float32Array or Int32Array (its dtype is kept
 *   unless options.dtype says otherwise), another array-like of numbers, or one number.
 * @param options dtype ('float32' default, or 'int32') and requiresGrad; after a shape array
 *   it may not hold a shape too.
 * @returns A new tensor owning a copy of the values.
 * @throws TypeError for a second argument that is neither a shape array nor an options object
 *   (a number, a string, a boolean), or an element that is not a number.
 * @throws RangeError when the shape does not hold as many elements as the values, or nested
 *   arrays are ragged.
 * @example
 * ```ts
 * import { tensor } from 'axon-nn';
 * const a = tensor([[1, 2], [3, 4]]); // shape [2, 2], float32
 * const b = tensor([1, 2, 3, 4, 5, 6], [2, 3]); // shape [2, 3], as tf.tensor
 * const labels = tensor([0, 2, 1], { dtype: 'int32' });
 * const scalar = tensor(3.5); // 0-d, shape []
 * ```
 */
export function tensor(
  values: NestedArray | Float32Array | Int32Array | ArrayLike<number>,
  options?: TensorOptions,
): Tensor;
/**
 * The same with the shape as the second argument, as TensorFlow.js's `tf.tensor(values, shape)`.
 * @param values As above.
 * @param shape The shape to give the values: an array of non-negative integers holding as many
 *   elements as the values.
 * @param options dtype and requiresGrad (not a shape: it was given).
 */
export function tensor(
  values: NestedArray | Float32Array | Int32Array | ArrayLike<number>,
  shape: readonly number[],
  options?: CreateOptions,
): Tensor;
export function tensor(
  values: NestedArray | Float32Array | Int32Array | ArrayLike<number>,
  shapeOrOptions?: readonly number[] | TensorOptions,
  createOptions?: CreateOptions,
): Tensor {
  const options = tensorArguments(shapeOrOptions, createOptions);
  if (typeof values === 'number') {
    const d = alloc(options?.dtype, 1);
    d[0] = values;
    const shape = options?.shape ?? [];
    checkFills(shape, 1, 'one number');
    return finish(d, shape, options);
  }
  if (
    ArrayBuffer.isView(values) ||
    (!Array.isArray(values) &&
      typeof values === 'object' &&
      values !== null &&
      typeof (values as ArrayLike<number>).length === 'number')
  ) {
    const src = values as ArrayLike<number>;
    const dtype = options?.dtype ?? (values instanceof Int32Array ? 'int32' : 'float32');
    const d = alloc(dtype, src.length);
    d.set(src as ArrayLike<number>);
    const shape = options?.shape ?? [src.length];
    checkFills(shape, src.length, ArrayBuffer.isView(values) ? describeValue(values) : 'an array-like');
    return finish(d, shape, { ...options, dtype });
  }
  if (!Array.isArray(values))
    throw new TypeError(`tensor: expected a number, an array or a typed array, got ${typeof values}`);
  // Infer the shape from the first element along each axis, then check every row matches.
  const shape: number[] = [];
  for (let v: NestedArray = values; Array.isArray(v); v = v[0] as NestedArray) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  const d = alloc(options?.dtype, numel(shape));
  let k = 0;
  const walk = (v: NestedArray, axis: number, path: string): void => {
    if (axis === shape.length) {
      if (typeof v !== 'number')
        throw new TypeError(
          `tensor: element at ${path || '[]'} is ${Array.isArray(v) ? 'an array' : typeof v}, expected a number`,
        );
      d[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[axis])
      throw new RangeError(
        `tensor: ragged nested array: ${path || 'the top level'} has ${Array.isArray(v) ? v.length : 'no'} entries, expected ${shape[axis]}`,
      );
    for (let i = 0; i < v.length; i++) walk(v[i], axis + 1, `${path}[${i}]`);
  };
  walk(values, 0, '');
  if (options?.shape) checkFills(options.shape, d.length, `nested arrays of shape ${shapeToString(shape)}`);
  return finish(d, options?.shape ?? shape, options);
}

/**
 * A tensor of `shape` filled with zeros (float32 unless `options.dtype` says 'int32').
 * @throws TypeError when the sizes are passed as separate numbers (`zeros(2, 3)`) or the
 *   options hold an unknown key; RangeError for a shape that is not non-negative integers.
 * @example
 * ```ts
 * import { zeros } from 'axon-nn';
 * const h0 = zeros([2, 16]); // float32 zeros, shape [2, 16]
 * const counts = zeros([5], { dtype: 'int32' });
 * ```
 */
export function zeros(shape: readonly number[], options?: CreateOptions): Tensor {
  sizesAsArray('zeros', shape, options);
  checkCreateOptions('zeros', options, CREATE_KEYS, "zeros(shape, { dtype: 'DTYPE' })");
  const s = checkShape('zeros', shape);
  return finish(alloc(options?.dtype, numel(s)), s, options);
}

/**
 * A tensor of `shape` filled with ones (float32 unless `options.dtype` says 'int32').
 * @throws TypeError when the sizes are passed as separate numbers (`ones(2, 3)`) or the
 *   options hold an unknown key; RangeError for a shape that is not non-negative integers.
 * @example
 * ```ts
 * import { ones } from 'axon-nn';
 * const gamma = ones([64], { requiresGrad: true }); // a trainable scale, all 1
 * ```
 */
export function ones(shape: readonly number[], options?: CreateOptions): Tensor {
  sizesAsArray('ones', shape, options);
  checkCreateOptions('ones', options, CREATE_KEYS, "ones(shape, { dtype: 'DTYPE' })");
  return full(shape, 1, options);
}

/**
 * A tensor of `shape` with every element set to `value` (float32 unless `options.dtype` says
 * 'int32').
 * @throws TypeError when value is not a number; RangeError for an invalid shape.
 * @example
 * ```ts
 * import { full } from 'axon-nn';
 * const mask = full([2, 3], -Infinity); // every element -inf
 * ```
 */
export function full(shape: readonly number[], value: number, options?: CreateOptions): Tensor {
  checkCreateOptions('full', options, CREATE_KEYS, "full(shape, value, { dtype: 'DTYPE' })");
  const s = checkShape('full', shape);
  if (typeof value !== 'number') throw new TypeError(`full: value must be a number, got ${typeof value}`);
  const d = alloc(options?.dtype, numel(s));
  d.fill(value);
  return finish(d, s, options);
}

/**
 * Zeros with t's shape and dtype (options may override the dtype and set requiresGrad).
 * @example
 * ```ts
 * import { randn, zerosLike } from 'axon-nn';
 * const w = randn([3, 4]);
 * const velocity = zerosLike(w); // float32 zeros, shape [3, 4]
 * ```
 */
export const zerosLike = (t: Tensor, options?: CreateOptions): Tensor => {
  checkOptionKeys('zerosLike', options, CREATE_KEYS);
  return zeros(t.shape, { dtype: t.dtype, ...options });
};
/**
 * Ones with t's shape and dtype (options may override the dtype and set requiresGrad).
 * @example
 * ```ts
 * import { onesLike, randn } from 'axon-nn';
 * const y = randn([2, 5]);
 * const upstream = onesLike(y); // the gradient of y.sum() with respect to y
 * ```
 */
export const onesLike = (t: Tensor, options?: CreateOptions): Tensor => {
  checkOptionKeys('onesLike', options, CREATE_KEYS);
  return ones(t.shape, { dtype: t.dtype, ...options });
};
/**
 * A tensor with t's shape and dtype, every element `value` (options may override the dtype and
 * set requiresGrad).
 * @example
 * ```ts
 * import { fullLike, tensor } from 'axon-nn';
 * const labels = tensor([0, 1, 1], { dtype: 'int32' });
 * const ignored = fullLike(labels, -100); // int32 [-100, -100, -100]
 * ```
 */
export const fullLike = (t: Tensor, value: number, options?: CreateOptions): Tensor => {
  checkOptionKeys('fullLike', options, CREATE_KEYS);
  return full(t.shape, value, { dtype: t.dtype, ...options });
};

/**
 * A 1-D tensor of the values start, start + step, ... up to but not including `end` (with one
 * argument: 0 to `start`, exclusive). Float32 unless `options.dtype` is 'int32'; step may be
 * negative or fractional.
 * @throws RangeError when an argument is not a finite number or step is 0.
 * @example
 * ```ts
 * import { arange } from 'axon-nn';
 * const a = arange(5); // [0, 1, 2, 3, 4]
 * const b = arange(1, 2, 0.25); // [1, 1.25, 1.5, 1.75]
 * const ids = arange(0, 4, 1, { dtype: 'int32' });
 * ```
 */
export function arange(start: number, end?: number, step = 1, options?: CreateOptions): Tensor {
  checkCreateOptions('arange', options, CREATE_KEYS, "arange(start, end, step, { dtype: 'DTYPE' })");
  if (end === undefined) [start, end] = [0, start];
  for (const [v, name] of [
    [start, 'start'],
    [end, 'end'],
    [step, 'step'],
  ] as const) {
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      throw new TypeError(
        `arange: ${name} must be a finite number, got an object (options come fourth: arange(0, 5, 1, { dtype: 'int32' }))`,
      );
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new RangeError(`arange: ${name} must be a finite number, got ${describeValue(v)}`);
  }
  if (step === 0) throw new RangeError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  if (n > 2 ** 31) throw new RangeError(`arange: ${n} elements is too many`);
  const d = alloc(options?.dtype, n);
  for (let i = 0; i < n; i++) d[i] = start + i * step;
  return finish(d, [n], options);
}

/**
 * A 1-D tensor of `steps` evenly spaced values from start to end, both included (just `start`
 * when steps is 1, empty when 0).
 * @throws RangeError when start or end is not finite, or steps is not a non-negative integer.
 * @example
 * ```ts
 * import { linspace } from 'axon-nn';
 * const xs = linspace(0, 1, 5); // [0, 0.25, 0.5, 0.75, 1]
 * ```
 */
export function linspace(start: number, end: number, steps: number, options?: CreateOptions): Tensor {
  checkCreateOptions('linspace', options, CREATE_KEYS, "linspace(start, end, steps, { dtype: 'DTYPE' })");
  for (const [v, name] of [
    [start, 'start'],
    [end, 'end'],
  ] as const)
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new RangeError(`linspace: ${name} must be a finite number, got ${describeValue(v)}`);
  if (!Number.isInteger(steps) || steps < 0)
    throw new RangeError(`linspace: steps must be a non-negative integer, got ${describeValue(steps)}`);
  const d = alloc(options?.dtype, steps);
  for (let i = 0; i < steps; i++) d[i] = steps === 1 ? start : start + ((end - start) * i) / (steps - 1);
  return finish(d, [steps], options);
}

/**
 * An n x m matrix with ones on the main diagonal and zeros elsewhere (m defaults to n; options
 * come third).
 * @example
 * ```ts
 * import { eye } from 'axon-nn';
 * const i3 = eye(3); // 3 x 3 identity
 * const wide = eye(2, 4); // [[1, 0, 0, 0], [0, 1, 0, 0]]
 * ```
 */
export function eye(n: number, m = n, options?: CreateOptions): Tensor {
  checkCreateOptions('eye', options, CREATE_KEYS, "eye(n, m, { dtype: 'DTYPE' })");
  if (typeof m === 'object' && m !== null)
    throw new TypeError(
      `eye: m (the column count) must be an integer, got ${describeValue(m)} (options come third: eye(${n}, ${n}, { dtype: 'int32' }))`,
    );
  const s = checkShape('eye', [n, m]);
  const d = alloc(options?.dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) d[i * m + i] = 1;
  return finish(d, s, options);
}

/** rand and randn draw float32 only: an int32 request would otherwise be ignored. */
function floatOnly(op: string, dtype: unknown): void {
  if (dtype !== undefined && dtype !== 'float32')
    throw new RangeError(
      `${op}: dtype must be 'float32', got ${describeValue(dtype)}${dtype === 'int32' ? ' (randint draws integers)' : ''}`,
    );
}

/**
 * A float32 tensor of `shape` drawn uniformly from [low, high) (default [0, 1)), from the
 * global generator unless options give a `seed` or `generator`.
 * @throws RangeError when high < low or dtype is 'int32' (use randint); TypeError for sizes
 *   passed as separate numbers.
 * @example
 * ```ts
 * import { rand } from 'axon-nn';
 * const u = rand([2, 3]); // uniform in [0, 1)
 * const v = rand([4], { low: -0.1, high: 0.1, seed: 1 }); // reproducible
 * ```
 */
export function rand(shape: readonly number[], options?: RandOptions): Tensor {
  sizesAsArray('rand', shape, options);
  checkOptionKeys('rand', options, RAND_KEYS);
  const s = checkShape('rand', shape);
  floatOnly('rand', options?.dtype);
  const g = pickGenerator(options);
  const low = numberOption('rand', 'low', options?.low, 0, -Number.MAX_VALUE, Number.MAX_VALUE);
  const high = numberOption('rand', 'high', options?.high, 1, -Number.MAX_VALUE, Number.MAX_VALUE);
  if (!(high >= low)) throw new RangeError(`rand: high ${high} must be >= low ${low}`);
  const d = new Float32Array(numel(s));
  for (let i = 0; i < d.length; i++) d[i] = low + (high - low) * g.nextFloat();
  return finish(d, s, options);
}

/**
 * A float32 tensor of `shape` drawn from a normal distribution (mean 0 and std 1 unless
 * given), from the global generator unless options give a `seed` or `generator`.
 * @throws RangeError when std is negative or infinite, or dtype is 'int32'; TypeError for
 *   sizes passed as separate numbers.
 * @example
 * ```ts
 * import { randn } from 'axon-nn';
 * const x = randn([64, 784], { seed: 1 }); // the same values on every run
 * const w = randn([10, 784], { std: 0.01 }).setRequiresGrad();
 * ```
 */
export function randn(shape: readonly number[], options?: RandnOptions): Tensor {
  sizesAsArray('randn', shape, options);
  checkOptionKeys('randn', options, RANDN_KEYS);
  const s = checkShape('randn', shape);
  floatOnly('randn', options?.dtype);
  const g = pickGenerator(options);
  const mean = numberOption('randn', 'mean', options?.mean, 0, -Number.MAX_VALUE, Number.MAX_VALUE);
  const std = options?.std ?? 1;
  if (typeof std !== 'number' || !(std >= 0) || std === Infinity)
    throw new RangeError(`randn: std must be a finite number >= 0, got ${describeValue(std)}`);
  const d = new Float32Array(numel(s));
  for (let i = 0; i < d.length; i++) d[i] = mean + std * g.nextNormal();
  return finish(d, s, options);
}

/**
 * An int32 tensor of `shape` with integers drawn uniformly from [low, high) (note the argument
 * order: low, high, then shape), from the global generator unless options give a `seed` or
 * `generator`.
 * @throws RangeError unless low and high are integers with low < high; TypeError when a shape
 *   array is passed as `high` (PyTorch's randint(high, size)).
 * @example
 * ```ts
 * import { randint } from 'axon-nn';
 * const labels = randint(0, 10, [32], { seed: 3 }); // class ids 0..9
 * ```
 */
export function randint(low: number, high: number, shape: readonly number[], options?: RandomOptions): Tensor {
  // PyTorch's randint(high, size) would land the size in `high`.
  if (Array.isArray(high))
    throw new TypeError(
      `randint: high must be an integer, got an array (the arguments are (low, high, shape): for [0, ${describeValue(low)}) write randint(0, ${describeValue(low)}, ${shapeToString(high)}))`,
    );
  checkOptionKeys('randint', options, RANDINT_KEYS);
  const s = checkShape('randint', shape);
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low)
    throw new RangeError(`randint: need integers low < high, got ${describeValue(low)}, ${describeValue(high)}`);
  const g = pickGenerator(options);
  const d = new Int32Array(numel(s));
  for (let i = 0; i < d.length; i++) d[i] = low + g.nextInt(high - low);
  return new Tensor(d, s);
}
