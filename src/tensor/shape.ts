/**
 * Shape helpers shared by every op: element counts, broadcasting, axis normalisation and the
 * `[64,784]` notation errors use.
 */
import { describeValue } from '../options.js';

/**
 * A tensor shape: the extent of each axis, outermost first (`[]` for a 0-d tensor). Read-only,
 * so a tensor's frozen `shape` can be passed where one is expected.
 *
 * @example
 * ```ts
 * import { numel, zeros, type Shape } from 'axon-nn';
 * const shape: Shape = [2, 3, 4];
 * const n = numel(shape); // 24
 * const x = zeros(shape);
 * ```
 */
export type Shape = readonly number[];

/** The maximum rank the native kernels accept. */
export const MAX_DIMS = 8;

/**
 * The number of elements a tensor of `shape` holds: the product of its extents (1 for `[]`).
 * It does not validate the shape.
 *
 * @example
 * ```ts
 * import { numel, randn } from 'axon-nn';
 * const x = randn([8, 3, 32, 32]);
 * const perImage = numel(x.shape.slice(1)); // 3072
 * ```
 */
export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeToString(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Validates a user-given shape: non-negative safe integers, at most MAX_DIMS axes. */
export function checkShape(op: string, shape: readonly number[]): number[] {
  if (!Array.isArray(shape))
    throw new TypeError(`${op}: shape must be an array of integers, got ${describeValue(shape)}`);
  if (shape.length > MAX_DIMS)
    throw new RangeError(`${op}: shape ${shapeToString(shape)} has ${shape.length} axes; at most ${MAX_DIMS}`);
  for (const d of shape)
    if (!Number.isSafeInteger(d) || d < 0)
      throw new RangeError(`${op}: shape ${shapeToString(shape)} must hold non-negative integers`);
  const n = numel(shape);
  if (n > 2 ** 32) throw new RangeError(`${op}: shape ${shapeToString(shape)} has ${n} elements; too many`);
  return [...shape];
}

/**
 * The shape two shapes broadcast to under NumPy rules (axes aligned from the right; extents
 * must match or one of them be 1). `op` only names the caller in the RangeError thrown when
 * they do not broadcast.
 *
 * @example
 * ```ts
 * import { broadcastShapes } from 'axon-nn';
 * const out = broadcastShapes('myOp', [8, 1, 5], [3, 1]); // [8, 3, 5]
 * ```
 */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new RangeError(
        `${op}: shapes ${shapeToString(a)} and ${shapeToString(b)} cannot be broadcast (axis ${i - n}: ${da} vs ${db})`,
      );
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** `shape` left-padded with 1s to `rank` axes. */
export function padShape(shape: Shape, rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

/**
 * Maps a possibly negative axis into [0, ndim); throws naming the op. A 0-d tensor accepts
 * axis 0 and -1 (as PyTorch), both mapping to 0.
 */
export function normalizeAxis(op: string, axis: number, ndim: number): number {
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(axis) || axis < -n || axis >= n)
    throw new RangeError(`${op}: axis ${axis} is out of range for a tensor with ${ndim} dimensions`);
  return axis < 0 ? axis + n : axis;
}

/** (outer, r, inner) view of a shape around one axis. */
export function splitAt(shape: Shape, axis: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[axis] ?? 1, inner];
}
