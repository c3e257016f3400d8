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
   * Backpropagates from this tensor. Without `grad` the tensor must hold one element.
   * @throws Error when the tensor does not require grad, or the graph was already freed.
   */
  backward(grad?: Tensor, options?: BackwardOptions): void;
  // ---- layout ----------------------------------------------------------------------------
  /** Same data, new shape (one dimension may be -1). Zero-copy. */
  reshape(...shape: number[] | [readonly number[]]): Tensor;
  /** Alias of reshape. */
  view(...shape: number[] | [readonly number[]]): Tensor;
  flatten(startDim?: number, endDim?: number): Tensor;
  squeeze(axis?: number): Tensor;
  unsqueeze(axis: number): Tensor;
  /** Swaps two axes (default: the last two). */
  transpose(axis0?: number, axis1?: number): Tensor;
  /** The transpose of a 2-D tensor. */
  readonly T: Tensor;
  permute(...perm: number[] | [readonly number[]]): Tensor;
  /** Rows [start, end) along the first axis. Zero-copy. */
  slice(start: number, end?: number): Tensor;
  /** Row i along the first axis (that axis removed). Zero-copy. */
  row(i: number): Tensor;
  /** General indexing, one spec per axis: an index, [start, end, step], or null for all. */
  index(...specs: IndexSpec[]): Tensor;
  expand(...shape: number[] | [readonly number[]]): Tensor;
  // ---- elementwise -----------------------------------------------------------------------
  add(other: Tensor | number): Tensor;
  sub(other: Tensor | number): Tensor;
  mul(other: Tensor | number): Tensor;
  div(other: Tensor | number): Tensor;
  pow(exponent: Tensor | number): Tensor;
  maximum(other: Tensor | number): Tensor;
  minimum(other: Tensor | number): Tensor;
  /** this > other as float32 1 / 0 (no gradient); likewise the five below. */
  greater(other: Tensor | number): Tensor;
  greaterEqual(other: Tensor | number): Tensor;
  less(other: Tensor | number): Tensor;
  lessEqual(other: Tensor | number): Tensor;
  equal(other: Tensor | number): Tensor;
  notEqual(other: Tensor | number): Tensor;
  /** Converted to `dtype` (this itself when it already has it); see `cast`. */
  cast(dtype: 'float32' | 'int32'): Tensor;
  /** This where `cond` is true, `other` where it is false: `where(cond, this, other)` (as torch's x.where). */
  where(cond: Tensor, other: Tensor | number): Tensor;
  clamp(min: number | null, max: number | null): Tensor;
  neg(): Tensor;
  exp(): Tensor;
  log(): Tensor;
  sqrt(): Tensor;
  abs(): Tensor;
  square(): Tensor;
  reciprocal(): Tensor;
  // ---- activations -----------------------------------------------------------------------
  relu(): Tensor;
  leakyRelu(negativeSlope?: number): Tensor;
  elu(alpha?: number): Tensor;
  gelu(options?: GeluOptions): Tensor;
  softplus(beta?: number): Tensor;
  softmax(axis?: number): Tensor;
  logSoftmax(axis?: number): Tensor;
  // ---- reductions ------------------------------------------------------------------------
  sum(axis?: number | number[], keepDims?: boolean): Tensor;
  mean(axis?: number | number[], keepDims?: boolean): Tensor;
  max(axis?: number | number[], keepDims?: boolean): Tensor;
  min(axis?: number | number[], keepDims?: boolean): Tensor;
  argmax(axis?: number, keepDims?: boolean, selectLast?: boolean): Tensor;
  argmin(axis?: number, keepDims?: boolean, selectLast?: boolean): Tensor;
  // ---- linear algebra --------------------------------------------------------------------
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
  get(this: Tensor): Tensor {
    return lay.transpose(this, 0, 1);
  },
  configurable: true,
  enumerable: false,
});
