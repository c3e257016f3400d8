/**
 * The Tensor op methods (`x.add(y)`, `x.relu()`, `x.reshape(...)`, `x.sum()`, `x.backward()`,
 * ...): declared on Tensor by module augmentation and installed on Tensor.prototype here, on
 * the ops side, so that src/tensor/tensor.ts depends on no op and the ops may depend on Tensor
 * without an import cycle. src/index.ts imports this module first; anything that calls these
 * methods without going through src/index.ts must import it too (once is enough).
 */
import { runBackward, type BackwardOptions } from '../autograd/engine.js';
import { Tensor } from '../tensor/tensor.js';
import * as act from './activation.js';
import type { GeluOptions } from './activation.js';
import { tableActivationMethods, type TableActivationMethods } from './activations.gen.js';
import * as ew from './elementwise.js';
import * as lay from './layout.js';
import type { IndexSpec } from './layout.js';
import { matmul } from './linalg.js';
import * as red from './reduce.js';

/** The op methods every Tensor has (merged into the Tensor class below). */
export interface TensorOpMethods extends TableActivationMethods {
  /**
   * Backpropagates from this tensor, adding gradients into `.grad` of every leaf that requires
   * grad. Without `grad` the tensor must hold one element (seeded with 1); otherwise `grad` has
   * this tensor's shape. The graph is freed afterwards unless `{ retainGraph: true }`.
   * @throws Error when the tensor does not require grad, the shapes differ, or the graph was
   *   already freed.
   */
  backward(grad?: Tensor, options?: BackwardOptions): void;
  // ---- layout ----------------------------------------------------------------------------
  /** Same data, new shape (sizes as arguments or one array; one may be -1). Zero-copy; see `reshape`. */
  reshape(...shape: number[] | [readonly number[]]): Tensor;
  /** Alias of reshape. */
  view(...shape: number[] | [readonly number[]]): Tensor;
  /** Merges axes startDim..endDim (default: all) into one, zero-copy; see `flatten`. */
  flatten(startDim?: number, endDim?: number): Tensor;
  /** Removes axes of extent 1 (only `axis`, when given, and only if it is 1); see `squeeze`. */
  squeeze(axis?: number): Tensor;
  /** Inserts an axis of extent 1 at `axis`; see `unsqueeze`. */
  unsqueeze(axis: number): Tensor;
  /** Swaps two axes (default: the last two). */
  transpose(axis0?: number, axis1?: number): Tensor;
  /** The axes reversed, as PyTorch's and NumPy's `.T`: a matrix's transpose, [A, B, C] -> [C, B, A], 1-D unchanged (a copy). `transpose()` swaps only the last two. */
  readonly T: Tensor;
  /** Reorders the axes (as arguments or one array): out.shape[i] = this.shape[perm[i]]; see `permute`. */
  permute(...perm: number[] | [readonly number[]]): Tensor;
  /** Rows [start, end) along the first axis. Zero-copy. */
  slice(start: number, end?: number): Tensor;
  /** Row i along the first axis (that axis removed). Zero-copy. */
  row(i: number): Tensor;
  /** General indexing, one spec per axis: an index, [start, end, step], or null for all. */
  index(...specs: IndexSpec[]): Tensor;
  /** Broadcast (copied) to a larger shape given as arguments or one array; see `expand`. */
  expand(...shape: number[] | [readonly number[]]): Tensor;
  // ---- elementwise -----------------------------------------------------------------------
  /** this + other, broadcasting; see `add`. */
  add(other: Tensor | number): Tensor;
  /** this - other, broadcasting; see `sub`. */
  sub(other: Tensor | number): Tensor;
  /** this * other, broadcasting; see `mul`. */
  mul(other: Tensor | number): Tensor;
  /** this / other, broadcasting; see `div`. */
  div(other: Tensor | number): Tensor;
  /** this ** exponent, broadcasting; see `pow`. */
  pow(exponent: Tensor | number): Tensor;
  /** Elementwise maximum with other, broadcasting; see `maximum`. */
  maximum(other: Tensor | number): Tensor;
  /** Elementwise minimum with other, broadcasting; see `minimum`. */
  minimum(other: Tensor | number): Tensor;
  /** this > other as float32 1 / 0 (no gradient); likewise the five below. */
  greater(other: Tensor | number): Tensor;
  /** this >= other as float32 1 / 0 (no gradient). */
  greaterEqual(other: Tensor | number): Tensor;
  /** this < other as float32 1 / 0 (no gradient). */
  less(other: Tensor | number): Tensor;
  /** this <= other as float32 1 / 0 (no gradient). */
  lessEqual(other: Tensor | number): Tensor;
  /** this == other as float32 1 / 0 (no gradient; 0 where either is NaN). */
  equal(other: Tensor | number): Tensor;
  /** this != other as float32 1 / 0 (no gradient; 1 where either is NaN). */
  notEqual(other: Tensor | number): Tensor;
  /** Converted to `dtype` (this itself when it already has it); see `cast`. */
  cast(dtype: 'float32' | 'int32'): Tensor;
  /** This where `cond` is true, `other` where it is false: `where(cond, this, other)` (as torch's x.where). */
  where(cond: Tensor, other: Tensor | number): Tensor;
  /** Limited to [min, max]; either bound may be null; see `clamp`. */
  clamp(min: number | null, max: number | null): Tensor;
  /** -this, elementwise. */
  neg(): Tensor;
  /** e^this, elementwise. */
  exp(): Tensor;
  /** Natural logarithm, elementwise (-Infinity at 0, NaN below). */
  log(): Tensor;
  /** Square root, elementwise (NaN below 0). */
  sqrt(): Tensor;
  /** Absolute value, elementwise. */
  abs(): Tensor;
  /** this * this, elementwise. */
  square(): Tensor;
  /** 1 / this, elementwise. */
  reciprocal(): Tensor;
  // ---- activations -----------------------------------------------------------------------
  /** max(this, 0), elementwise; see `relu`. */
  relu(): Tensor;
  /** Leaky ReLU with `negativeSlope` (default 0.01); see `leakyRelu`. */
  leakyRelu(negativeSlope?: number): Tensor;
  /** ELU with `alpha` (default 1); see `elu`. */
  elu(alpha?: number): Tensor;
  /** GELU, exact unless `{ approximate: 'tanh' }`; see `gelu`. */
  gelu(options?: GeluOptions): Tensor;
  /** Softplus with `beta` (default 1); see `softplus`. */
  softplus(beta?: number): Tensor;
  /** Softmax along `axis` (default: the last); see `softmax`. */
  softmax(axis?: number): Tensor;
  /** Log-softmax along `axis` (default: the last); see `logSoftmax`. */
  logSoftmax(axis?: number): Tensor;
  // ---- reductions ------------------------------------------------------------------------
  /** Sum over `axis` (a number, a list, or all axes when omitted); see `sum`. */
  sum(axis?: number | number[], keepDims?: boolean): Tensor;
  /** Mean over `axis` (a number, a list, or all axes when omitted); see `mean`. */
  mean(axis?: number | number[], keepDims?: boolean): Tensor;
  /** Maximum over `axis` (a number, a list, or all axes when omitted); see `max`. */
  max(axis?: number | number[], keepDims?: boolean): Tensor;
  /** Minimum over `axis` (a number, a list, or all axes when omitted); see `min`. */
  min(axis?: number | number[], keepDims?: boolean): Tensor;
  /** int32 index of the maximum along `axis` (of the flattened tensor when omitted); see `argmax`. */
  argmax(axis?: number, keepDims?: boolean, selectLast?: boolean): Tensor;
  /** int32 index of the minimum along `axis` (of the flattened tensor when omitted); see `argmin`. */
  argmin(axis?: number, keepDims?: boolean, selectLast?: boolean): Tensor;
  // ---- linear algebra --------------------------------------------------------------------
  /** Matrix product with torch.matmul's rules; see `matmul`. */
  matmul(other: Tensor): Tensor;
}

declare module '../tensor/tensor.js' {
  // Declaration merging: the class Tensor gets TensorOpMethods' members.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Tensor extends TensorOpMethods {}
}

function flatArgs(args: number[] | [readonly number[]]): number[] {
  return Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}

const methods: Omit<TensorOpMethods, 'T' | keyof TableActivationMethods> & ThisType<Tensor> = {
  backward(grad?: Tensor, options = {}) {
    runBackward(this, grad, options, (t) => new Tensor(new Float32Array(t.size).fill(1), t.shape));
  },
  // ---- layout ----------------------------------------------------------------------------
  reshape(...shape: number[] | [readonly number[]]) {
    return lay.reshape(this, flatArgs(shape));
  },
  view(...shape: number[] | [readonly number[]]) {
    return lay.reshape(this, flatArgs(shape));
  },
  flatten(startDim = 0, endDim = -1) {
    return lay.flatten(this, startDim, endDim);
  },
  squeeze(axis?: number) {
    return lay.squeeze(this, axis);
  },
  unsqueeze(axis: number) {
    return lay.unsqueeze(this, axis);
  },
  transpose(axis0 = -2, axis1 = -1) {
    return lay.transpose(this, axis0, axis1);
  },
  permute(...perm: number[] | [readonly number[]]) {
    return lay.permute(this, flatArgs(perm));
  },
  slice(start: number, end?: number) {
    return lay.sliceRows(this, start, end);
  },
  row(i: number) {
    return lay.row(this, i);
  },
  index(...specs: IndexSpec[]) {
    return lay.index(this, specs);
  },
  expand(...shape: number[] | [readonly number[]]) {
    return lay.expand(this, flatArgs(shape));
  },
  // ---- elementwise -----------------------------------------------------------------------
  add(other: Tensor | number) {
    return ew.add(this, other);
  },
  sub(other: Tensor | number) {
    return ew.sub(this, other);
  },
  mul(other: Tensor | number) {
    return ew.mul(this, other);
  },
  div(other: Tensor | number) {
    return ew.div(this, other);
  },
  pow(exponent: Tensor | number) {
    return ew.pow(this, exponent);
  },
  maximum(other: Tensor | number) {
    return ew.maximum(this, other);
  },
  minimum(other: Tensor | number) {
    return ew.minimum(this, other);
  },
  greater(other: Tensor | number) {
    return ew.greater(this, other);
  },
  greaterEqual(other: Tensor | number) {
    return ew.greaterEqual(this, other);
  },
  less(other: Tensor | number) {
    return ew.less(this, other);
  },
  lessEqual(other: Tensor | number) {
    return ew.lessEqual(this, other);
  },
  equal(other: Tensor | number) {
    return ew.equal(this, other);
  },
  notEqual(other: Tensor | number) {
    return ew.notEqual(this, other);
  },
  cast(dtype: 'float32' | 'int32') {
    return ew.cast(this, dtype);
  },
  where(cond: Tensor, other: Tensor | number) {
    return ew.where(cond, this, other);
  },
  clamp(min: number | null, max: number | null) {
    return ew.clamp(this, min, max);
  },
  neg() {
    return ew.neg(this);
  },
  exp() {
    return ew.exp(this);
  },
  log() {
    return ew.log(this);
  },
  sqrt() {
    return ew.sqrt(this);
  },
  abs() {
    return ew.abs(this);
  },
  square() {
    return ew.square(this);
  },
  reciprocal() {
    return ew.reciprocal(this);
  },
  // ---- activations -----------------------------------------------------------------------
  relu() {
    return act.relu(this);
  },
  leakyRelu(negativeSlope = 0.01) {
    return act.leakyRelu(this, negativeSlope);
  },
  elu(alpha = 1) {
    return act.elu(this, alpha);
  },
  gelu(options?: GeluOptions) {
    return act.gelu(this, options);
  },
  softplus(beta = 1) {
    return act.softplus(this, beta);
  },
  softmax(axis = -1) {
    return act.softmax(this, axis);
  },
  logSoftmax(axis = -1) {
    return act.logSoftmax(this, axis);
  },
  // ---- reductions ------------------------------------------------------------------------
  sum(axis?: number | number[], keepDims = false) {
    return red.sum(this, axis, keepDims);
  },
  mean(axis?: number | number[], keepDims = false) {
    return red.mean(this, axis, keepDims);
  },
  max(axis?: number | number[], keepDims = false) {
    return red.max(this, axis, keepDims);
  },
  min(axis?: number | number[], keepDims = false) {
    return red.min(this, axis, keepDims);
  },
  argmax(axis?: number, keepDims = false, selectLast = false) {
    return red.argmax(this, axis, keepDims, selectLast);
  },
  argmin(axis?: number, keepDims = false, selectLast = false) {
    return red.argmin(this, axis, keepDims, selectLast);
  },
  // ---- linear algebra --------------------------------------------------------------------
  matmul(other: Tensor) {
    return matmul(this, other);
  },
};

// Installed like class methods: non-enumerable, writable, configurable.
for (const [name, value] of Object.entries({ ...methods, ...tableActivationMethods }))
  Object.defineProperty(Tensor.prototype, name, { value, writable: true, configurable: true, enumerable: false });
Object.defineProperty(Tensor.prototype, 'T', {
  // All axes reversed, as PyTorch's and NumPy's .T (a matrix's transpose; a 1-D copy as is).
  get(this: Tensor): Tensor {
    return lay.permute(
      this,
      this.shape.map((_, i) => this.ndim - 1 - i),
    );
  },
  configurable: true,
  enumerable: false,
});
