/**
 * Elementwise arithmetic with NumPy broadcasting and the unary math ops, each with its
 * gradient. Forward and backward both run in the native kernels (native/kernels/cpu/
 * elementwise.cpp, activation.cpp); broadcast inputs get their gradients summed back to their
 * own shape. Also the comparisons (1 / 0 masks, no gradient), the int32 <-> float32 cast and
 * `where` (an exact elementwise select).
 */
import { record } from '../autograd/engine.js';
import { BinaryCode, UnaryCode } from '../native/binding.js';
import { kernels } from '../native/executor.js';
import { broadcastShapes, padShape, shapesEqual } from '../tensor/shape.js';
import { Tensor, reserveActivation } from '../tensor/tensor.js';
import { assertNumber, assertTensor, floatData, rawBinary, rawBroadcastTo, rawScalar, sumTo } from './util.js';

/**
 * Sets every element of t to `value` in place, through a kernel call (so a recorded training
 * step replays it). Not recorded for autograd: for gradient buffers (Module.zeroGrad).
 */
export function fillInPlace(t: Tensor, value: number): void {
  kernels.fill(t.data, value);
}

/** y = f(x; param) through the native unary kernel, with its native backward. */
export function unaryOp(op: string, code: UnaryCode, x: Tensor, param = 0): Tensor {
  const xd = floatData(op, x);
  const out = Tensor.empty(x.shape);
  const yd = out.data as Float32Array;
  kernels.unary(code, xd, yd, param);
  return record(
    out,
    op,
    [x],
    (g, fusion) => {
      if (fusion.reluApplied) return [g]; // a max pool applied the relu's gradient (engine.ts)
      const dx = Tensor.empty(x.shape);
      kernels.unaryBackward(code, xd, yd, g.data as Float32Array, dx.data as Float32Array, param);
      return [dx];
    },
    { reluOutput: code === UnaryCode.Relu },
  );
}

function scalarOp(op: string, code: BinaryCode, x: Tensor, s: number, scalarFirst: boolean): Tensor {
  const xd = floatData(op, x);
  assertNumber(op, s, 'scalar');
  const out = Tensor.empty(x.shape);
  const yd = out.data as Float32Array;
  // x ** s: the unary pow kernel (the one backward uses) computes the common exponents
  // (2, 3, 0.5, -1, -2, ...) exactly rather than as exp(s log|x|).
  if (code === BinaryCode.Pow && !scalarFirst) kernels.unary(UnaryCode.Pow, xd, yd, s);
  else kernels.binaryScalar(code, xd, s, scalarFirst, yd);
  return record(out, op, [x], (g) => {
    const gd = g.data as Float32Array;
    switch (code) {
      case BinaryCode.Add:
        return [g];
      case BinaryCode.Sub:
        return [scalarFirst ? rawScalar(BinaryCode.Mul, g, -1) : g];
      case BinaryCode.Mul:
        return [rawScalar(BinaryCode.Mul, g, s)];
      case BinaryCode.Div:
        if (!scalarFirst) return [rawScalar(BinaryCode.Div, g, s)];
        // d(s/x)/dx = -s/x^2 = -y/x
        return [
          rawScalar(
            BinaryCode.Mul,
            rawBinary(BinaryCode.Div, rawBinary(BinaryCode.Mul, g, out, x.shape), x, x.shape),
            -1,
          ),
        ];
      case BinaryCode.Pow: {
        const dx = Tensor.empty(x.shape);
        if (!scalarFirst) {
          kernels.unaryBackward(UnaryCode.Pow, xd, yd, gd, dx.data as Float32Array, s);
          return [dx];
        }
        // d(s^x)/dx = s^x ln s
        return [rawScalar(BinaryCode.Mul, rawBinary(BinaryCode.Mul, g, out, x.shape), Math.log(s))];
      }
      default: {
        // maximum / minimum against a constant: same rule as the tensor case (ties split).
        const sv = new Float32Array(x.size).fill(s);
        const dx = Tensor.empty(x.shape);
        const [a, b] = scalarFirst ? [sv, xd] : [xd, sv];
        const da = scalarFirst ? null : (dx.data as Float32Array);
        const db = scalarFirst ? (dx.data as Float32Array) : null;
        kernels.binaryBackward(code, a, b, yd, gd, da, db);
        return [dx];
      }
    }
  });
}

/** Broadcasting a (op) b; either side may be a number. */
export function binaryOp(op: string, code: BinaryCode, a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number') {
    assertTensor(op, a, 'first operand');
    return scalarOp(op, code, a, b, false);
  }
  if (typeof a === 'number') {
    assertTensor(op, b, 'second operand');
    return scalarOp(op, code, b, a, true);
  }
  const ad = floatData(op, a, 'first operand');
  const bd = floatData(op, b, 'second operand');
  const outShape = broadcastShapes(op, a.shape, b.shape);
  const r = outShape.length;
  const out = Tensor.empty(outShape);
  const yd = out.data as Float32Array;
  kernels.binary(code, ad, padShape(a.shape, r), bd, padShape(b.shape, r), yd, outShape);
  return record(out, op, [a, b], (g) => {
    const wantA = a.requiresGrad;
    const wantB = b.requiresGrad;
    if (shapesEqual(a.shape, outShape) && shapesEqual(b.shape, outShape)) {
      const da = wantA ? Tensor.empty(outShape) : null;
      const db = wantB ? Tensor.empty(outShape) : null;
      kernels.binaryBackward(
        code,
        ad,
        bd,
        yd,
        g.data as Float32Array,
        (da?.data as Float32Array) ?? null,
        (db?.data as Float32Array) ?? null,
      );
      return [da, db];
    }
    switch (code) {
      case BinaryCode.Add:
        return [wantA ? sumTo(g, a.shape) : null, wantB ? sumTo(g, b.shape) : null];
      case BinaryCode.Sub:
        return [wantA ? sumTo(g, a.shape) : null, wantB ? sumTo(rawScalar(BinaryCode.Mul, g, -1), b.shape) : null];
      case BinaryCode.Mul:
        return [
          wantA ? sumTo(rawBinary(BinaryCode.Mul, g, b, outShape), a.shape) : null,
          wantB ? sumTo(rawBinary(BinaryCode.Mul, g, a, outShape), b.shape) : null,
        ];
      case BinaryCode.Div:
        return [
          wantA ? sumTo(rawBinary(BinaryCode.Div, g, b, outShape), a.shape) : null,
          wantB
            ? sumTo(
                rawScalar(
                  BinaryCode.Mul,
                  rawBinary(BinaryCode.Div, rawBinary(BinaryCode.Mul, g, out, outShape), b, outShape),
                  -1,
                ),
                b.shape,
              )
            : null,
        ];
      default: {
        // pow / maximum / minimum: expand both operands, use the same-shape kernel, sum back.
        const aE = rawBroadcastTo(a, outShape);
        const bE = rawBroadcastTo(b, outShape);
        const da = wantA ? Tensor.empty(outShape) : null;
        const db = wantB ? Tensor.empty(outShape) : null;
        kernels.binaryBackward(
          code,
          aE.data as Float32Array,
          bE.data as Float32Array,
          yd,
          g.data as Float32Array,
          (da?.data as Float32Array) ?? null,
          (db?.data as Float32Array) ?? null,
        );
        return [da ? sumTo(da, a.shape) : null, db ? sumTo(db, b.shape) : null];
      }
    }
  });
}

/**
 * a + b elementwise with NumPy broadcasting; either operand may be a number. Float32 tensors
 * only (a TypeError for int32); a RangeError when the shapes do not broadcast. Gradients of
 * broadcast operands are summed back to their shapes.
 * @example
 * ```ts
 * import { add, randn, zeros } from 'axon-nn';
 * const x = randn([4, 3]);
 * const b = zeros([3]);
 * const y = add(x, b); // b broadcast over the 4 rows: [4, 3]
 * const z = add(x, 1); // the same as x.add(1)
 * ```
 */
export const add = (a: Tensor | number, b: Tensor | number): Tensor => binaryOp('add', BinaryCode.Add, a, b);
/**
 * a - b elementwise with broadcasting; either operand may be a number (`sub(1, x)` is 1 - x).
 * Float32 only; throws as {@link add}.
 * @example
 * ```ts
 * import { sub, tensor } from 'axon-nn';
 * const x = tensor([[1, 2], [3, 4]]);
 * const centred = sub(x, x.mean(0)); // [[-1, -1], [1, 1]]
 * const flipped = sub(1, x); // [[0, -1], [-2, -3]]
 * ```
 */
export const sub = (a: Tensor | number, b: Tensor | number): Tensor => binaryOp('sub', BinaryCode.Sub, a, b);
/**
 * a * b elementwise with broadcasting; either operand may be a number. Float32 only; throws as
 * {@link add}.
 * @example
 * ```ts
 * import { mul, tensor } from 'axon-nn';
 * const x = tensor([[1, 2], [3, 4]]);
 * const scaled = mul(x, tensor([10, 100])); // [[10, 200], [30, 400]]
 * const halved = mul(x, 0.5);
 * ```
 */
export const mul = (a: Tensor | number, b: Tensor | number): Tensor => binaryOp('mul', BinaryCode.Mul, a, b);
/**
 * a / b elementwise with broadcasting; either operand may be a number (`div(1, x)` is 1 / x).
 * Division by zero gives ±Infinity or NaN, as in IEEE float. Float32 only; throws as {@link add}.
 * @example
 * ```ts
 * import { div, tensor } from 'axon-nn';
 * const counts = tensor([[2, 6], [1, 3]]);
 * const frac = div(counts, counts.sum(1, true)); // rows sum to 1: [[0.25, 0.75], [0.25, 0.75]]
 * ```
 */
export const div = (a: Tensor | number, b: Tensor | number): Tensor => binaryOp('div', BinaryCode.Div, a, b);
/**
 * a ** b elementwise with broadcasting; either operand may be a number. A negative base needs
 * an integer exponent, else NaN (as Math.pow). Float32 only; throws as {@link add}.
 * @example
 * ```ts
 * import { pow, tensor } from 'axon-nn';
 * const x = tensor([1, 2, 3]);
 * const cubes = pow(x, 3); // [1, 8, 27]
 * const powersOfTwo = pow(2, x); // [2, 4, 8]
 * ```
 */
export const pow = (a: Tensor | number, b: Tensor | number): Tensor => binaryOp('pow', BinaryCode.Pow, a, b);
/**
 * Elementwise maximum of a and b with broadcasting; either may be a number. NaN if either is
 * NaN; at ties the gradient is split between the two. Float32 only; throws as {@link add}.
 * @example
 * ```ts
 * import { maximum, tensor } from 'axon-nn';
 * const x = tensor([-2, 0.5, 3]);
 * const y = maximum(x, 0); // [0, 0.5, 3], a relu
 * ```
 */
export const maximum = (a: Tensor | number, b: Tensor | number): Tensor =>
  binaryOp('maximum', BinaryCode.Maximum, a, b);
/**
 * Elementwise minimum of a and b with broadcasting; either may be a number. NaN if either is
 * NaN; at ties the gradient is split between the two. Float32 only; throws as {@link add}.
 * @example
 * ```ts
 * import { minimum, tensor } from 'axon-nn';
 * const x = tensor([-2, 0.5, 3]);
 * const y = minimum(x, 1); // [-2, 0.5, 1]
 * ```
 */
export const minimum = (a: Tensor | number, b: Tensor | number): Tensor =>
  binaryOp('minimum', BinaryCode.Minimum, a, b);

/**
 * a (op) b for a comparison: 1 where it holds, 0 where not (float32), broadcasting like
 * binaryOp. Not recorded for autograd: the result never requires grad (its gradient is zero
 * wherever it exists; the kernel's binaryBackward adds nothing for these codes).
 */
function compareOp(op: string, code: BinaryCode, a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === 'number' || typeof b === 'number') {
    const scalarFirst = typeof a === 'number';
    const x = scalarFirst ? b : a;
    const s = scalarFirst ? a : b;
    assertTensor(op, x, scalarFirst ? 'second operand' : 'first operand');
    const xd = floatData(op, x, scalarFirst ? 'second operand' : 'first operand');
    assertNumber(op, s, 'scalar');
    const out = Tensor.empty(x.shape);
    kernels.binaryScalar(code, xd, s, scalarFirst, out.data as Float32Array);
    return out;
  }
  const ad = floatData(op, a, 'first operand');
  const bd = floatData(op, b, 'second operand');
  const outShape = broadcastShapes(op, a.shape, b.shape);
  const r = outShape.length;
  const out = Tensor.empty(outShape);
  kernels.binary(code, ad, padShape(a.shape, r), bd, padShape(b.shape, r), out.data as Float32Array, outShape);
  return out;
}

// The comparisons: float32 1 / 0 with NumPy broadcasting, either operand may be a number (it
// is rounded to float32 first, as the tensor's elements are). IEEE: a NaN compares false
// (notEqual true), -0 equals +0. The results do not require grad.
/**
 * a > b elementwise as a float32 mask of 1 / 0, with broadcasting; either may be a number.
 * The result never requires grad; NaN compares false.
 * @example
 * ```ts
 * import { greater, tensor } from 'axon-nn';
 * const x = tensor([-1, 0, 2]);
 * const positive = greater(x, 0); // [0, 0, 1]
 * ```
 */
export const greater = (a: Tensor | number, b: Tensor | number): Tensor =>
  compareOp('greater', BinaryCode.Greater, a, b);
/**
 * a >= b elementwise as a float32 mask of 1 / 0, broadcasting as {@link greater}; no gradient.
 * @example
 * ```ts
 * import { greaterEqual, tensor } from 'axon-nn';
 * const x = tensor([-1, 0, 2]);
 * const nonNegative = greaterEqual(x, 0); // [0, 1, 1]
 * ```
 */
export const greaterEqual = (a: Tensor | number, b: Tensor | number): Tensor =>
  compareOp('greaterEqual', BinaryCode.GreaterEqual, a, b);
/**
 * a < b elementwise as a float32 mask of 1 / 0, broadcasting as {@link greater}; no gradient.
 * @example
 * ```ts
 * import { less, tensor } from 'axon-nn';
 * const x = tensor([-1, 0, 2]);
 * const negative = less(x, 0); // [1, 0, 0]
 * ```
 */
export const less = (a: Tensor | number, b: Tensor | number): Tensor => compareOp('less', BinaryCode.Less, a, b);
/**
 * a <= b elementwise as a float32 mask of 1 / 0, broadcasting as {@link greater}; no gradient.
 * @example
 * ```ts
 * import { lessEqual, tensor } from 'axon-nn';
 * const x = tensor([-1, 0, 2]);
 * const nonPositive = lessEqual(x, 0); // [1, 1, 0]
 * ```
 */
export const lessEqual = (a: Tensor | number, b: Tensor | number): Tensor =>
  compareOp('lessEqual', BinaryCode.LessEqual, a, b);
/**
 * a == b elementwise as a float32 mask of 1 / 0 (0 where either is NaN; -0 equals +0),
 * broadcasting as {@link greater}; no gradient.
 * @example
 * ```ts
 * import { equal, tensor } from 'axon-nn';
 * const predicted = tensor([2, 0, 1]);
 * const target = tensor([2, 1, 1]);
 * const accuracy = equal(predicted, target).mean().item(); // 2 / 3
 * ```
 */
export const equal = (a: Tensor | number, b: Tensor | number): Tensor => compareOp('equal', BinaryCode.Equal, a, b);
/**
 * a != b elementwise as a float32 mask of 1 / 0 (1 where either is NaN), broadcasting as
 * {@link greater}; no gradient.
 * @example
 * ```ts
 * import { notEqual, tensor } from 'axon-nn';
 * const tokens = tensor([5, 9, 0, 0]);
 * const mask = notEqual(tokens, 0); // [1, 1, 0, 0]
 * ```
 */
export const notEqual = (a: Tensor | number, b: Tensor | number): Tensor =>
  compareOp('notEqual', BinaryCode.NotEqual, a, b);

/**
 * x converted to `dtype`. int32 -> float32 rounds to nearest (exact for |x| < 2^24);
 * float32 -> int32 truncates toward zero (ONNX Cast, C) and throws a RangeError naming the op
 * (`castFloat32ToInt32: element i is NaN ...` / `... is outside the int32 range ...`) for a
 * NaN or a value outside int32 — checked each time the kernel runs, so a recorded program
 * replayed on new data checks it too. Casting to the dtype x already has returns x itself
 * (no copy, autograd unchanged). No gradient flows through a cast that changes the dtype (an
 * int32 tensor cannot require grad): the result of float32 -> int32 is int32, and that of
 * int32 -> float32 starts a new leaf.
 * @throws TypeError when x is not a Tensor or dtype is neither 'float32' nor 'int32'.
 * @example
 * ```ts
 * import { cast, tensor } from 'axon-nn';
 * const scores = tensor([0.9, 2.7, -1.5]);
 * const ids = cast(scores, 'int32'); // int32 [0, 2, -1]
 * const back = cast(ids, 'float32'); // float32 [0, 2, -1]
 * ```
 */
export function cast(x: Tensor, dtype: 'float32' | 'int32'): Tensor {
  assertTensor('cast', x);
  if (dtype !== 'float32' && dtype !== 'int32')
    throw new TypeError(`cast: dtype must be 'float32' or 'int32', got ${JSON.stringify(dtype)}`);
  if (dtype === x.dtype) return x;
  if (dtype === 'float32') {
    const out = Tensor.empty(x.shape);
    kernels.castInt32ToFloat32(x.data as Int32Array, out.data as Float32Array);
    return out;
  }
  reserveActivation(x.size);
  const out = new Tensor(new Int32Array(x.size), x.shape);
  kernels.castFloat32ToInt32(x.data as Float32Array, out.data as Int32Array);
  return out;
}

/**
 * `where(cond, x, y)`: x where cond is true, y where it is false, elementwise (ONNX Where,
 * torch.where, numpy.where). All three broadcast together (NumPy rules) to the result's shape.
 *
 * - `cond` is a float32 tensor (the 1 / 0 masks of `greater`, `equal`, ...) or an int32 one
 *   (converted with `cast`). Truthiness is C's: any non-zero element is true, NaN included;
 *   only +0 and -0 are false.
 * - `x` and `y` are float32 tensors or numbers (rounded to float32, as a tensor's elements;
 *   `-Infinity` and `NaN` are fine: `where(mask, scores, -Infinity)`).
 * - Exact: each element is copied from the operand it selects (native `select`, a blend, no
 *   arithmetic), so an inf or NaN in the operand not chosen there never reaches the result,
 *   unlike `x * c + y * (1 - c)`. Likewise backward: x's gradient is the upstream gradient where
 *   cond is true and 0 elsewhere, y's the reverse, each summed back to its operand's shape; a
 *   NaN or inf in the upstream gradient reaches only the side it belongs to. cond gets no
 *   gradient.
 *
 * Operands already of the result's shape are used as they are; the others are broadcast into
 * a copy first (`x * 1` over the expanded axes, which keeps inf, NaN and -0).
 * @throws TypeError when cond is not a Tensor, or x / y is neither a float32 Tensor nor a
 *   number; RangeError when the shapes do not broadcast.
 * @example
 * ```ts
 * import { greater, tensor, where } from 'axon-nn';
 * const scores = tensor([[0.2, 1.5], [3, -1]]);
 * const keep = greater(scores, 0);
 * const masked = where(keep, scores, -Infinity); // [[0.2, 1.5], [3, -inf]]
 * ```
 */
export function where(cond: Tensor, x: Tensor | number, y: Tensor | number): Tensor {
  assertTensor('where', cond, 'cond');
  const xt = selectOperand(x, 'x');
  const yt = selectOperand(y, 'y');
  let outShape = broadcastShapes('where', cond.shape, xt?.shape ?? []);
  outShape = broadcastShapes('where', outShape, yt?.shape ?? []);
  const c = broadcastData(cast(cond, 'float32'), outShape);
  const xd = typeof x === 'number' ? filled(outShape, x) : broadcastData(x, outShape);
  const yd = typeof y === 'number' ? filled(outShape, y) : broadcastData(y, outShape);
  const out = Tensor.empty(outShape);
  kernels.select(c, xd, yd, out.data as Float32Array);
  return record(out, 'where', [xt, yt], (g) => {
    const dx = xt?.requiresGrad ? Tensor.empty(outShape) : null;
    const dy = yt?.requiresGrad ? Tensor.empty(outShape) : null;
    kernels.selectBackward(
      c,
      g.data as Float32Array,
      (dx?.data as Float32Array) ?? null,
      (dy?.data as Float32Array) ?? null,
    );
    return [dx && xt ? sumTo(dx, xt.shape) : null, dy && yt ? sumTo(dy, yt.shape) : null];
  });
}

/** A tensor operand of where (checked float32), or null for a number. */
function selectOperand(v: Tensor | number, name: string): Tensor | null {
  if (typeof v === 'number') return null;
  if (!(v instanceof Tensor))
    throw new TypeError(`where: ${name} must be a Tensor or a number, got ${v === null ? 'null' : typeof v}`);
  floatData('where', v, name);
  return v;
}

/** t's data when it already has `shape`, else an unrecorded broadcast copy's. */
function broadcastData(t: Tensor, shape: readonly number[]): Float32Array {
  return (shapesEqual(t.shape, shape) ? t : rawBroadcastTo(t, shape)).data as Float32Array;
}

/** A fresh buffer of `shape` holding `value` (through the fill kernel, so a trace refills it). */
function filled(shape: readonly number[], value: number): Float32Array {
  const t = Tensor.empty(shape);
  kernels.fill(t.data, value);
  return t.data as Float32Array;
}

/**
 * Limits x elementwise to [min, max]; either bound may be null for no limit (both null: a
 * copy). The gradient flows where x is inside the bounds.
 * @throws RangeError when min > max.
 * @example
 * ```ts
 * import { clamp, tensor } from 'axon-nn';
 * const x = tensor([-2, 0.5, 3]);
 * const y = clamp(x, 0, 1); // [0, 0.5, 1]
 * const z = clamp(x, null, 1); // [-2, 0.5, 1]
 * ```
 */
export function clamp(x: Tensor, min: number | null, max: number | null): Tensor {
  if (min !== null && max !== null && min > max) throw new RangeError(`clamp: min ${min} is greater than max ${max}`);
  let y = x;
  if (min !== null) y = maximum(y, min);
  if (max !== null) y = minimum(y, max);
  return y === x ? unaryOp('clamp', UnaryCode.Identity, x) : y;
}

/**
 * -x elementwise (float32; differentiable).
 * @example
 * ```ts
 * import { neg, tensor } from 'axon-nn';
 * const y = neg(tensor([1, -2, 0.5])); // [-1, 2, -0.5]
 * ```
 */
export const neg = (x: Tensor): Tensor => unaryOp('neg', UnaryCode.Neg, x);
/**
 * e^x elementwise (float32; differentiable).
 * @example
 * ```ts
 * import { exp, tensor } from 'axon-nn';
 * const y = exp(tensor([0, 1])); // [1, 2.7183]
 * ```
 */
export const exp = (x: Tensor): Tensor => unaryOp('exp', UnaryCode.Exp, x);
/**
 * The natural logarithm elementwise: -Infinity at 0, NaN below 0 (float32; differentiable).
 * @example
 * ```ts
 * import { log, tensor } from 'axon-nn';
 * const y = log(tensor([1, Math.E, 0])); // [0, 1, -inf]
 * ```
 */
export const log = (x: Tensor): Tensor => unaryOp('log', UnaryCode.Log, x);
/**
 * The square root elementwise: NaN below 0 (float32; differentiable).
 * @example
 * ```ts
 * import { sqrt, tensor } from 'axon-nn';
 * const y = sqrt(tensor([4, 9, 2])); // [2, 3, 1.4142]
 * ```
 */
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', UnaryCode.Sqrt, x);
/**
 * The absolute value elementwise (float32; differentiable).
 * @example
 * ```ts
 * import { abs, tensor } from 'axon-nn';
 * const y = abs(tensor([-1.5, 0, 2])); // [1.5, 0, 2]
 * ```
 */
export const abs = (x: Tensor): Tensor => unaryOp('abs', UnaryCode.Abs, x);
/**
 * x * x elementwise (float32; differentiable).
 * @example
 * ```ts
 * import { square, tensor } from 'axon-nn';
 * const y = square(tensor([-3, 0.5])); // [9, 0.25]
 * ```
 */
export const square = (x: Tensor): Tensor => unaryOp('square', UnaryCode.Square, x);
/**
 * 1 / x elementwise: ±Infinity at ±0 (float32; differentiable).
 * @example
 * ```ts
 * import { reciprocal, tensor } from 'axon-nn';
 * const y = reciprocal(tensor([2, -4])); // [0.5, -0.25]
 * ```
 */
export const reciprocal = (x: Tensor): Tensor => unaryOp('reciprocal', UnaryCode.Reciprocal, x);
/**
 * The error function erf(x) = 2/sqrt(pi) * integral of e^(-t^2) from 0 to x, elementwise
 * (float32; differentiable).
 * @example
 * ```ts
 * import { erf, tensor } from 'axon-nn';
 * const y = erf(tensor([0, 1, -1])); // [0, 0.8427, -0.8427]
 * ```
 */
export const erf = (x: Tensor): Tensor => unaryOp('erf', UnaryCode.Erf, x);
