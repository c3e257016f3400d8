/**
 * The Tensor: a contiguous row-major block of float32 (or int32, for indices and labels) in a
 * JS-owned typed array, a shape, and the autograd fields. Native kernels borrow `data` for
 * the duration of a call, so there is nothing to dispose: the garbage collector frees it.
 * `reshape` and row slicing (`slice`, `row`) are zero-copy views over the same memory; every
 * other op returns a new tensor.
 *
 * This module is the bottom layer: at run time it imports only tensor/ (the autograd import is
 * type-only). The op methods (`x.add(y)`, `x.relu()`, `x.reshape()`, `x.backward()`, ...)
 * are declared and installed on Tensor.prototype by src/ops/tensor-methods.ts, which
 * src/index.ts imports first, so the ops can depend on Tensor without a cycle.
 */
import type { GradNode } from '../autograd/engine.js';
import { formatTensor } from './format.js';
import { checkShape, numel, shapeToString, type Shape } from './shape.js';

/**
 * A tensor's element type: 'float32' (the default, and the only one that can require grad) or
 * 'int32' (labels, token ids, indices).
 *
 * @example
 * ```ts
 * import { zeros, type DType } from 'axon-nn';
 * const dtype: DType = 'int32';
 * const labels = zeros([4], { dtype }); // labels.dtype === 'int32'
 * ```
 */
export type DType = 'float32' | 'int32';

/**
 * Called with every buffer Tensor.empty allocates, while set. Tracing (src/train/trace.ts)
 * hands each to the Program being recorded, which owns it from then on and zeroes it again on
 * each replay where its first use needs that (native/binding/program.cpp): ops never say
 * whether a buffer is written whole or accumulated into.
 */
let allocationHook: ((data: Float32Array) => void) | null = null;
export function setAllocationHook(hook: ((data: Float32Array) => void) | null): void {
  allocationHook = hook;
}
export function getAllocationHook(): ((data: Float32Array) => void) | null {
  return allocationHook;
}

/**
 * While set, every tensor Tensor.empty creates is added: autograd uses it to know
 * which gradients a backward function made fresh (and may hand over as `.grad` uncopied).
 */
let freshTensors: Set<Tensor> | null = null;
export function setFreshTensorSet(set: Set<Tensor> | null): void {
  freshTensors = set;
}
/**
 * While set, every tensor Tensor.empty creates first reserves its bytes here and a
 * reservation past the limit throws before anything is allocated. Model uses it when it
 * records a forward it has not run yet (an untrusted model file, a new input shape), so a
 * layer geometry that would need gigabytes of activations is refused instead of allocated.
 */
let activationBudget: { left: number; limit: number; what: string } | null = null;

/** Runs fn with at most `limitBytes` of new tensor buffers allocatable; returns fn's value and
 * the bytes it reserved. */
export function withActivationBudget<T>(limitBytes: number, what: string, fn: () => T): { value: T; bytes: number } {
  const outer = activationBudget;
  const budget = { left: limitBytes, limit: limitBytes, what };
  activationBudget = budget;
  try {
    const value = fn();
    return { value, bytes: budget.limit - budget.left };
  } finally {
    activationBudget = outer;
  }
}

/** Reserves the bytes of a new buffer of `n` 4-byte elements against the active budget. */
export function reserveActivation(n: number): void {
  const b = activationBudget;
  if (!b) return;
  const bytes = n * 4;
  if (!(bytes <= b.left))
    throw new RangeError(
      `${b.what}: the forward pass needs more than ${formatBytes(b.limit)} of activations (a ${formatBytes(bytes)} buffer with ${formatBytes(b.limit - b.left)} already reserved); raise maxActivationBytes if this model is trusted`,
    );
  b.left -= bytes;
}

function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * True while an op sequence is being recorded without running (fit's traced step): tensor
 * values are placeholders then, so an op that would read them in JavaScript must refuse.
 */
let recordingOnly = false;
export function isRecordingOnly(): boolean {
  return recordingOnly;
}
export function setRecordingOnly(on: boolean): void {
  recordingOnly = on;
}

/**
 * The typed array behind a tensor's `data`: a Float32Array for float32, an Int32Array for
 * int32. `new Tensor(data, shape)` wraps one without copying.
 *
 * @example
 * ```ts
 * import { Tensor, type TensorData } from 'axon-nn';
 * const data: TensorData = new Float32Array([1, 2, 3, 4, 5, 6]);
 * const x = new Tensor(data, [2, 3]); // shares data's memory
 * ```
 */
export type TensorData = Float32Array | Int32Array;
/**
 * A nested JS array of numbers, as `tensor()` accepts and `toArray()` returns (a plain number
 * for a 0-d tensor).
 *
 * @example
 * ```ts
 * import { tensor, type NestedArray } from 'axon-nn';
 * const rows: NestedArray = [[1, 2], [3, 4]];
 * const back = tensor(rows).toArray(); // [[1, 2], [3, 4]]
 * ```
 */
export type NestedArray = number | NestedArray[];

/**
 * An n-dimensional array of float32 (or int32) elements with autograd: a contiguous row-major
 * typed array in `data`, a frozen `shape`, and the gradient fields. Create tensors with
 * `tensor()`, `zeros()`, `randn()` and friends; the ops are also methods (`x.add(y)`,
 * `x.relu()`, `x.sum()`, `x.backward()`). There is nothing to dispose: the garbage collector
 * frees the memory.
 *
 * @example
 * ```ts
 * import { tensor } from 'axon-nn';
 * const x = tensor([[1, 2], [3, 4]]).setRequiresGrad();
 * const loss = x.mul(x).sum(); // 30
 * loss.backward();
 * console.log(x.grad?.toArray()); // [[2, 4], [6, 8]]
 * ```
 */
export class Tensor {
  /** Contiguous row-major elements; length equals the element count. */
  readonly data: TensorData;
  /** The extent of each axis (frozen); `[]` for a 0-d tensor. */
  readonly shape: readonly number[];
  /** 'float32' or 'int32', from the typed array in `data`. */
  readonly dtype: DType;
  /** Whether gradients flow to (and accumulate in) this tensor. */
  requiresGrad = false;
  /** Accumulated gradient (same shape), filled by backward() on leaves and retainGrad() tensors. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it was recorded for autograd. */
  gradFn: GradNode | null = null;
  /** Keep `.grad` on this non-leaf tensor during backward (PyTorch's retain_grad). */
  retainsGrad = false;

  /**
   * Wraps a typed array without copying (its dtype follows the array). Prefer `tensor()`,
   * `zeros()` and friends.
   * @throws RangeError when data.length does not match the shape, or the shape is invalid.
   * @throws TypeError when data is neither a Float32Array nor an Int32Array, or requiresGrad is
   *   asked of int32 data.
   */
  constructor(data: TensorData, shape: readonly number[], options?: { requiresGrad?: boolean }) {
    const s = checkShape('Tensor', shape);
    if (data.length !== numel(s))
      throw new RangeError(`Tensor: ${data.length} elements do not fill shape ${shapeToString(s)} (${numel(s)})`);
    this.data = data;
    this.shape = Object.freeze(s);
    this.dtype = data instanceof Int32Array ? 'int32' : 'float32';
    if (!(data instanceof Float32Array) && !(data instanceof Int32Array))
      throw new TypeError('Tensor: data must be a Float32Array or an Int32Array');
    if (options?.requiresGrad) this.setRequiresGrad(true);
  }

  /**
   * A zero-filled float32 tensor for a kernel to write or accumulate into: every op output.
   * Inside a recorded step the Program owns it and keeps it zero where a replay needs that.
   */
  static empty(shape: Shape): Tensor {
    reserveActivation(numel(shape));
    const data = new Float32Array(numel(shape));
    if (allocationHook) allocationHook(data);
    const t = new Tensor(data, shape);
    freshTensors?.add(t);
    return t;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }
  /** Number of axes (0 for a scalar tensor). */
  get ndim(): number {
    return this.shape.length;
  }
  /** True for tensors not produced by a recorded op (parameters, inputs). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /**
   * Marks this (leaf) tensor as needing gradients, or not with `false`; returns it. PyTorch's
   * requires_grad_(). Throws a TypeError for an int32 tensor, and an Error when turning it off
   * on a tensor made by a recorded op (use `detach()`).
   */
  setRequiresGrad(on = true): this {
    if (on && this.dtype !== 'float32') throw new TypeError('setRequiresGrad: only float32 tensors can require grad');
    if (!on && this.gradFn) throw new Error('setRequiresGrad: cannot turn off grad on a non-leaf tensor; use detach()');
    this.requiresGrad = on;
    return this;
  }

  /** Keep this non-leaf tensor's gradient in `.grad` during backward. */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /** Sets `.grad` to null (the next backward allocates it again). */
  zeroGrad(): void {
    this.grad = null;
  }

  /** A new tensor sharing the same memory, without autograd history (not requiring grad). */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** A copy with its own memory (not recorded for autograd; see `copy()` for that). */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** The single element of a one-element tensor (any shape); throws a RangeError otherwise. */
  item(): number {
    if (this.size !== 1)
      throw new RangeError(`item: tensor of shape ${shapeToString(this.shape)} has ${this.size} elements, not 1`);
    return this.data[0];
  }

  /** Nested JS arrays (a number for a 0-d tensor). */
  toArray(): NestedArray {
    if (this.ndim === 0) return this.data[0];
    const build = (axis: number, offset: number, stride: number): NestedArray[] => {
      const n = this.shape[axis];
      const inner = stride / Math.max(n, 1);
      const out: NestedArray[] = new Array(n);
      for (let i = 0; i < n; i++)
        out[i] = axis === this.ndim - 1 ? this.data[offset + i] : build(axis + 1, offset + i * inner, inner);
      return out;
    };
    return build(0, 0, this.size);
  }

  /**
   * Converts to another dtype, always a copy and not recorded for autograd. float -> int
   * truncates toward zero, as `cast`.
   * @throws RangeError for a NaN or a value outside int32 (naming it and its index), instead
   *   of a silent 0 or a wrapped value.
   */
  toType(dtype: DType): Tensor {
    if (dtype === this.dtype) return this.clone();
    if (dtype === 'int32') {
      const out = new Int32Array(this.size);
      for (let i = 0; i < out.length; i++) {
        const v = Math.trunc(this.data[i]);
        if (!(v >= -2147483648 && v <= 2147483647))
          throw new RangeError(
            `toType: ${this.data[i]} at index ${i} of ${shapeToString(this.shape)} has no int32 value (NaN, or outside [-2^31, 2^31))`,
          );
        out[i] = v;
      }
      return new Tensor(out, this.shape);
    }
    return new Tensor(Float32Array.from(this.data), this.shape);
  }

  /** PyTorch-style text, e.g. `tensor([1., 2.], requires_grad=true)`; long tensors are elided with `...`. */
  toString(): string {
    const suffix: string[] = [];
    if (this.dtype === 'int32') suffix.push('dtype=int32');
    if (this.gradFn) suffix.push(`grad_fn=<${this.gradFn.name}>`);
    else if (this.requiresGrad) suffix.push('requires_grad=true');
    return formatTensor(this.data, this.shape, { isInt: this.dtype === 'int32', suffix });
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
