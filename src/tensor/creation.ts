/**
 * Tensor creation: from nested arrays or typed arrays, constant fills, ranges, identity, and
 * seeded random tensors (uniform, normal, integers) drawing from `random.ts` generators.
 */
import { pickGenerator, type RandomOptions } from './random.js';
import { checkShape, numel, shapeToString } from './shape.js';
import { Tensor, type DType, type NestedArray, type TensorData } from './tensor.js';
import { checkOptionKeys, numberOption, optionKeys } from '../options.js';

export interface CreateOptions {
  /** 'float32' (default) or 'int32'. */
  dtype?: DType;
  requiresGrad?: boolean;
}
const CREATE_KEYS = optionKeys<CreateOptions>({ dtype: true, requiresGrad: true });
/** tensor()'s options: CreateOptions plus a shape to give the values. */
export type TensorOptions = CreateOptions & { shape?: number[] };
const TENSOR_KEYS = optionKeys<TensorOptions>({ dtype: true, requiresGrad: true, shape: true });
/** rand()'s options. */
export type RandOptions = CreateOptions & RandomOptions & { low?: number; high?: number };
const RAND_KEYS = optionKeys<RandOptions>({
  dtype: true,
  requiresGrad: true,
  seed: true,
  generator: true,
  low: true,
  high: true,
});
/** randn()'s options. */
export type RandnOptions = CreateOptions & RandomOptions & { mean?: number; std?: number };
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
 * A tensor from nested arrays (shape inferred; rows must be equal), a typed array, or a number
 * (0-d). Copies the data. Numbers default to float32 (unlike torch.tensor, which infers int64
 * from integers); pass { dtype: 'int32' } for labels and indices.
 * @example tensor([[1, 2], [3, 4]])  // shape [2, 2]
 */
export function tensor(
  values: NestedArray | Float32Array | Int32Array | ArrayLike<number>,
  options?: TensorOptions,
): Tensor {
  checkOptionKeys('tensor', options, TENSOR_KEYS);
  if (typeof values === 'number') {
    const d = alloc(options?.dtype, 1);
    d[0] = values;
    return finish(d, options?.shape ?? [], options);
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
    const shape = options?.shape ? checkShape('tensor', options.shape) : [src.length];
    if (numel(shape) !== src.length)
      throw new RangeError(`tensor: ${src.length} values do not fill shape ${shapeToString(shape)}`);
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
  if (options?.shape) return finish(d, shape, options).reshape(options.shape);
  return finish(d, shape, options);
}

export function zeros(shape: readonly number[], options?: CreateOptions): Tensor {
  checkOptionKeys('zeros', options, CREATE_KEYS);
  const s = checkShape('zeros', shape);
  return finish(alloc(options?.dtype, numel(s)), s, options);
}

export function ones(shape: readonly number[], options?: CreateOptions): Tensor {
  checkOptionKeys('ones', options, CREATE_KEYS);
  return full(shape, 1, options);
}

export function full(shape: readonly number[], value: number, options?: CreateOptions): Tensor {
  checkOptionKeys('full', options, CREATE_KEYS);
  const s = checkShape('full', shape);
  if (typeof value !== 'number') throw new TypeError(`full: value must be a number, got ${typeof value}`);
  const d = alloc(options?.dtype, numel(s));
  d.fill(value);
  return finish(d, s, options);
}

export const zerosLike = (t: Tensor, options?: CreateOptions): Tensor => {
  checkOptionKeys('zerosLike', options, CREATE_KEYS);
  return zeros(t.shape, { dtype: t.dtype, ...options });
};
export const onesLike = (t: Tensor, options?: CreateOptions): Tensor => {
  checkOptionKeys('onesLike', options, CREATE_KEYS);
  return ones(t.shape, { dtype: t.dtype, ...options });
};
export const fullLike = (t: Tensor, value: number, options?: CreateOptions): Tensor => {
  checkOptionKeys('fullLike', options, CREATE_KEYS);
  return full(t.shape, value, { dtype: t.dtype, ...options });
};

/**
 * [start, end) in steps of `step` (one argument: [0, end)).
 * @example arange(5) // [0, 1, 2, 3, 4]
 */
export function arange(start: number, end?: number, step = 1, options?: CreateOptions): Tensor {
  checkOptionKeys('arange', options, CREATE_KEYS);
  if (end === undefined) [start, end] = [0, start];
  for (const [v, name] of [
    [start, 'start'],
    [end, 'end'],
    [step, 'step'],
  ] as const)
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new RangeError(`arange: ${name} must be a finite number, got ${v}`);
  if (step === 0) throw new RangeError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  if (n > 2 ** 31) throw new RangeError(`arange: ${n} elements is too many`);
  const d = alloc(options?.dtype, n);
  for (let i = 0; i < n; i++) d[i] = start + i * step;
  return finish(d, [n], options);
}

/** `steps` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, options?: CreateOptions): Tensor {
  checkOptionKeys('linspace', options, CREATE_KEYS);
  if (!Number.isInteger(steps) || steps < 0)
    throw new RangeError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const d = alloc(options?.dtype, steps);
  for (let i = 0; i < steps; i++) d[i] = steps === 1 ? start : start + ((end - start) * i) / (steps - 1);
  return finish(d, [steps], options);
}

/** Identity matrix n x m (m defaults to n). */
export function eye(n: number, m = n, options?: CreateOptions): Tensor {
  checkOptionKeys('eye', options, CREATE_KEYS);
  const s = checkShape('eye', [n, m]);
  const d = alloc(options?.dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) d[i * m + i] = 1;
  return finish(d, s, options);
}

/** Uniform [low, high) (default [0, 1)). */
export function rand(shape: readonly number[], options?: RandOptions): Tensor {
  checkOptionKeys('rand', options, RAND_KEYS);
  const s = checkShape('rand', shape);
  const g = pickGenerator(options);
  const low = numberOption('rand', 'low', options?.low, 0, -Number.MAX_VALUE, Number.MAX_VALUE);
  const high = numberOption('rand', 'high', options?.high, 1, -Number.MAX_VALUE, Number.MAX_VALUE);
  if (!(high >= low)) throw new RangeError(`rand: high ${high} must be >= low ${low}`);
  const d = new Float32Array(numel(s));
  for (let i = 0; i < d.length; i++) d[i] = low + (high - low) * g.nextFloat();
  return finish(d, s, options);
}

/** Normal with mean 0, std 1 (or the given mean/std). */
export function randn(shape: readonly number[], options?: RandnOptions): Tensor {
  checkOptionKeys('randn', options, RANDN_KEYS);
  const s = checkShape('randn', shape);
  const g = pickGenerator(options);
  const mean = numberOption('randn', 'mean', options?.mean, 0, -Number.MAX_VALUE, Number.MAX_VALUE);
  const std = options?.std ?? 1;
  if (!(std >= 0)) throw new RangeError(`randn: std must be >= 0, got ${std}`);
  if (std === Infinity) throw new RangeError('randn: std must be finite, got Infinity');
  const d = new Float32Array(numel(s));
  for (let i = 0; i < d.length; i++) d[i] = mean + std * g.nextNormal();
  return finish(d, s, options);
}

/** Uniform integers in [low, high) as int32. */
export function randint(low: number, high: number, shape: readonly number[], options?: RandomOptions): Tensor {
  checkOptionKeys('randint', options, RANDINT_KEYS);
  const s = checkShape('randint', shape);
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low)
    throw new RangeError(`randint: need integers low < high, got ${low}, ${high}`);
  const g = pickGenerator(options);
  const d = new Int32Array(numel(s));
  for (let i = 0; i < d.length; i++) d[i] = low + g.nextInt(high - low);
  return new Tensor(d, s);
}
