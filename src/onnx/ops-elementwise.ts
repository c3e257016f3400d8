/**
 * Elementwise ONNX operators: arithmetic and comparisons with numpy broadcasting, the unary
 * functions and activations, Clip, Where and Cast. Floating inputs run on our ops; integer and
 * bool inputs known at load run exactly on the host (host.ts).
 */
import { elu, leakyRelu, relu, softplus, gelu } from '../ops/activation.js';
import { hardswish, selu, sigmoid, tanh } from '../ops/activations.gen.js';
import {
  abs,
  add,
  cast as castTensor,
  clamp,
  div,
  equal,
  erf,
  exp,
  greater,
  greaterEqual,
  less,
  lessEqual,
  log,
  maximum,
  minimum,
  mul,
  neg,
  notEqual,
  pow,
  reciprocal,
  sqrt,
  sub,
  where as whereTensors,
} from '../ops/elementwise.js';
import { Tensor } from '../tensor/tensor.js';
import { OpContext, type OpImpl } from './context.js';
import { binaryHost, broadcast } from './host.js';
import { elemCode, elemTypeOf, isFloatType, isIntType, type ElemType } from './proto.js';
import { dynIntValue, floatValue, intValue, type Value } from './value.js';

type FloatBinary = (a: Tensor, b: Tensor) => Tensor;
type HostBinary = (x: number, y: number) => number;

/**
 * An integer or bool value as float32 data for the float kernels: known values exactly,
 * run-time int32 data through the cast kernel (exact below 2^24 in magnitude: token ids,
 * positions, masks).
 */
function asFloat(v: Value): Tensor {
  if (v.isFloat) return v.tensor as Tensor;
  if (v.ints) return new Tensor(Float32Array.from(v.ints), v.shape);
  return castTensor(v.tensor as Tensor, 'float32');
}

/** Float results of integer arithmetic or comparisons back to int32 data (truncating). */
function intResult(type: ElemType, t: Tensor): Value {
  return dynIntValue(type, castTensor(t, 'int32'));
}

/** a (op) b: floats through `f`; integers through `h` when known at load, else through `f`
 * on their float32 values (`trunc`: integer division's rounding). */
function binaryValues(c: OpContext, a: Value, b: Value, f: FloatBinary, h: HostBinary): Value {
  if (a.isFloat !== b.isFloat) throw c.error(`inputs must have one type, got ${a.type} and ${b.type}`);
  if (a.isFloat) return floatValue(f(a.tensor as Tensor, b.tensor as Tensor), a.type);
  if (a.known && b.known) {
    const r = binaryHost(c.what, c.knownValues(a, 'A'), c.knownValues(b, 'B'), h);
    return intValue(a.type, r.shape, r.data);
  }
  return intResult(a.type, f(asFloat(a), asFloat(b)));
}

function binary(f: FloatBinary, h: HostBinary): OpImpl {
  return (c) => [binaryValues(c, c.input(0, 'A'), c.input(1, 'B'), f, h)];
}

function intDiv(x: number, y: number): number {
  if (y === 0) throw new RangeError('integer division by zero');
  return Math.trunc(x / y);
}

/** Sum/Mean/Min/Max over any number of inputs. */
function variadic(f: FloatBinary, h: HostBinary, mean = false): OpImpl {
  return (c) => {
    let acc = c.input(0, 'data_0');
    for (let i = 1; i < c.inputs.length; i++) acc = binaryValues(c, acc, c.input(i, `data_${i}`), f, h);
    if (!mean || c.inputs.length === 1) return [acc];
    if (!acc.isFloat) throw c.error('Mean needs floating inputs');
    return [floatValue(div(acc.tensor as Tensor, c.inputs.length), acc.type)];
  };
}

/** A comparison or logical op giving bool: on the host when both inputs are known, else a
 * 1/0 mask from `f` on the float32 values (bools as 1/0). */
function compare(h: HostBinary, f: FloatBinary): OpImpl {
  return (c) => {
    const a = c.input(0, 'A');
    const b = c.input(1, 'B');
    if (a.isFloat !== b.isFloat) throw c.error(`inputs must have one type, got ${a.type} and ${b.type}`);
    if (a.known && b.known) {
      const r = binaryHost(c.what, c.knownInts(0, 'A'), c.knownInts(1, 'B'), h);
      return [intValue('bool', r.shape, r.data)];
    }
    return [intResult('bool', f(asFloat(a), asFloat(b)))];
  };
}

function unary(f: (x: Tensor) => Tensor, h?: (x: number) => number): OpImpl {
  return (c) => {
    const x = c.input(0, 'X');
    if (x.isFloat) return [floatValue(f(x.tensor as Tensor), x.type)];
    if (!h) throw c.error(`input must be a floating tensor, got ${x.type}`);
    if (!x.known) return [intResult(x.type, f(asFloat(x)))];
    const k = c.knownInts(0, 'X');
    return [intValue(x.type, k.shape, k.data.map(h))];
  };
}

function floatUnary(f: (c: OpContext, x: Tensor) => Tensor): OpImpl {
  return (c) => {
    const x = c.input(0, 'X');
    return [floatValue(f(c, c.floatInput(0, 'X')), x.type)];
  };
}

const clip: OpImpl = (c) => {
  let lo: number | null = null;
  let hi: number | null = null;
  if (c.opset < 11) {
    lo = c.float('min', -Infinity);
    hi = c.float('max', Infinity);
  } else {
    const x = c.input(0, 'input');
    const bound = (i: number, name: string): Value | null => {
      const v = c.optional(i);
      if (v && v.size !== 1) throw c.error(`input '${name}' must be a scalar, got shape [${v.shape.join(',')}]`);
      return v;
    };
    const [vmin, vmax] = [bound(1, 'min'), bound(2, 'max')];
    // Bounds computed from input data: max/min against them, elementwise.
    if (x.isFloat && ((vmin && !vmin.known) || (vmax && !vmax.known))) {
      let t = x.tensor as Tensor;
      if (vmin) t = maximum(t, c.floatInput(1, 'min'));
      if (vmax) t = minimum(t, c.floatInput(2, 'max'));
      return [floatValue(t, x.type)];
    }
    lo = vmin ? c.knownInts(1, 'min').data[0] : null;
    hi = vmax ? c.knownInts(2, 'max').data[0] : null;
  }
  const x = c.input(0, 'input');
  if (!x.isFloat) {
    const k = c.knownInts(0, 'input');
    return [
      intValue(
        x.type,
        k.shape,
        k.data.map((v) => Math.min(Math.max(v, lo ?? -Infinity), hi ?? Infinity)),
      ),
    ];
  }
  const fin = (v: number | null): number | null => (v === null || !Number.isFinite(v) ? null : v);
  return [floatValue(clamp(x.tensor as Tensor, fin(lo), fin(hi)), x.type)];
};

const where: OpImpl = (c) => {
  const cv = c.input(0, 'condition');
  const x = c.input(1, 'X');
  const y = c.input(2, 'Y');
  if (x.isFloat !== y.isFloat) throw c.error(`X and Y must have one type, got ${x.type} and ${y.type}`);
  if (!x.isFloat && cv.known && x.known && y.known) {
    const cond = c.knownInts(0, 'condition');
    const shape = broadcast(c.what, broadcast(c.what, cond.shape, x.shape), y.shape);
    const pick = binaryHost(c.what, cond, c.knownInts(1, 'X'), (k, v) => (k ? v : NaN));
    const r = binaryHost(c.what, pick, c.knownInts(2, 'Y'), (p, v) => (Number.isNaN(p) ? v : p));
    return [intValue(x.type, shape, r.data)];
  }
  // The select kernel: exact (no arithmetic), so inf/NaN in the unselected operand stay out.
  const out = whereTensors(asFloat(cv), asFloat(x), asFloat(y));
  return [x.isFloat ? floatValue(out, x.type) : intResult(x.type, out)];
};

const cast: OpImpl = (c) => {
  const to = elemTypeOf(c.int('to', 1), c.what);
  const x = c.input(0, 'input');
  if (isFloatType(to)) return [floatValue(asFloat(x), to)];
  if (!isIntType(to)) throw c.error(`cast to ${to} is not supported`);
  if (!x.known) {
    // Run-time data: floats truncate through the cast kernel (NaN or out of int32 range is a
    // run-time error); integers are int32 data whatever their ONNX type; bool is x != 0.
    if (to === 'bool') return [intResult('bool', notEqual(asFloat(x), 0))];
    return [x.isFloat ? intResult(to, x.tensor as Tensor) : dynIntValue(to, x.tensor as Tensor)];
  }
  const k = c.knownInts(0, 'input');
  const data = to === 'bool' ? k.data.map((v) => (v !== 0 ? 1 : 0)) : k.data.map((v) => Math.trunc(v));
  return [intValue(to, k.shape, data)];
};

/** CastLike: Cast to the element type of input 1. */
const castLike: OpImpl = (c) => {
  const like = c.input(1, 'target_type');
  const attrs = new Map(c.node.attrs);
  attrs.set('to', { kind: 'int', value: elemCode(like.type) });
  return cast(new OpContext({ ...c.node, attrs }, c.opset, c.inputs.slice(0, 1), c.allKnown, c.inference, c.fold));
};

const not: OpImpl = (c) => {
  const x = c.input(0, 'X');
  if (!x.known) return [intResult('bool', equal(asFloat(x), 0))];
  const k = c.knownInts(0, 'X');
  return [
    intValue(
      'bool',
      k.shape,
      k.data.map((v) => (v ? 0 : 1)),
    ),
  ];
};

const selu2: OpImpl = (c) => {
  const x = c.floatInput(0, 'X');
  const alpha = c.float('alpha', 1.67326319217681884765625);
  const gamma = c.float('gamma', 1.05070102214813232421875);
  if (Math.abs(alpha - 1.6732632423543772) < 1e-6 && Math.abs(gamma - 1.0507009873554805) < 1e-6)
    return [floatValue(selu(x))];
  return [floatValue(mul(elu(x, alpha), gamma))];
};

export const ELEMENTWISE_OPS: Record<string, OpImpl> = {
  Add: binary(add, (x, y) => x + y),
  Sub: binary(sub, (x, y) => x - y),
  Mul: binary(mul, (x, y) => x * y),
  Div: binary(div, intDiv),
  Pow: (c) => {
    const a = c.input(0, 'X');
    const b = c.input(1, 'Y');
    if (!a.isFloat && !b.isFloat) return binary(pow, (x, y) => Math.trunc(x ** y))(c);
    // An integer base with a float exponent (opset 12+): the base's type, the float power
    // truncated toward zero (as numpy's astype); exact integer powers come out exact.
    if (!a.isFloat) {
      if (!(a.known && b.known)) return [intResult(a.type, pow(asFloat(a), b.tensor as Tensor))];
      const r = binaryHost(c.what, c.knownValues(a, 'X'), c.knownValues(b, 'Y'), (x, y) => Math.trunc(x ** y));
      return [intValue(a.type, r.shape, r.data)];
    }
    const e = b.isFloat ? (b.tensor as Tensor) : new Tensor(Float32Array.from(c.knownInts(1, 'Y').data), b.shape);
    return [floatValue(pow(a.tensor as Tensor, e), a.type)];
  },
  Mod: (c) => {
    // fmod = 1: the sign of the dividend (C's fmod); 0: the sign of the divisor (Python's %).
    const fmod = c.int('fmod', 0) === 1;
    return binary(
      (x, y) => {
        // Floats: C's fmod, x - y trunc(x / y), the quotient truncated through the cast kernel
        // (a quotient beyond int32 is a run-time error, never a wrong result).
        if (!fmod)
          throw new RangeError('Mod with fmod = 0 (the sign of the divisor) runs only on integers known at load');
        return sub(x, mul(y, castTensor(castTensor(div(x, y), 'int32'), 'float32')));
      },
      (x, y) => {
        if (y === 0) throw new RangeError('integer modulo by zero');
        const r = x % y;
        return fmod || r === 0 || r < 0 === y < 0 ? r : r + y;
      },
    )(c);
  },
  Sum: variadic(add, (x, y) => x + y),
  Mean: variadic(add, (x, y) => x + y, true),
  Min: variadic(minimum, Math.min),
  Max: variadic(maximum, Math.max),
  Equal: compare((x, y) => (x === y ? 1 : 0), equal),
  Less: compare((x, y) => (x < y ? 1 : 0), less),
  LessOrEqual: compare((x, y) => (x <= y ? 1 : 0), lessEqual),
  Greater: compare((x, y) => (x > y ? 1 : 0), greater),
  GreaterOrEqual: compare((x, y) => (x >= y ? 1 : 0), greaterEqual),
  // Bools are 1/0: and = both non-zero, or = either, xor = they differ.
  And: compare(
    (x, y) => (x && y ? 1 : 0),
    (a, b) => mul(notEqual(a, 0), notEqual(b, 0)),
  ),
  Or: compare(
    (x, y) => (x || y ? 1 : 0),
    (a, b) => maximum(notEqual(a, 0), notEqual(b, 0)),
  ),
  Xor: compare(
    (x, y) => (!x !== !y ? 1 : 0),
    (a, b) => notEqual(notEqual(a, 0), notEqual(b, 0)),
  ),
  Not: not,
  Where: where,
  Cast: cast,
  Clip: clip,
  Neg: unary(neg, (x) => -x),
  Abs: unary(abs, Math.abs),
  Sqrt: unary(sqrt),
  Erf: unary(erf),
  Exp: unary(exp),
  Log: unary(log),
  Reciprocal: unary(reciprocal),
  Relu: unary(relu, (x) => Math.max(x, 0)),
  Sigmoid: unary(sigmoid),
  Tanh: unary(tanh),
  Softplus: unary((x) => softplus(x)),
  Softsign: unary((x) => div(x, add(abs(x), 1))),
  HardSwish: unary(hardswish),
  HardSigmoid: floatUnary((c, x) => clamp(add(mul(x, c.float('alpha', 0.2)), c.float('beta', 0.5)), 0, 1)),
  LeakyRelu: floatUnary((c, x) => leakyRelu(x, c.float('alpha', 0.01))),
  Elu: floatUnary((c, x) => elu(x, c.float('alpha', 1))),
  Celu: floatUnary((c, x) => {
    const alpha = c.float('alpha', 1);
    return alpha === 1 ? elu(x, 1) : mul(elu(div(x, alpha), 1), alpha);
  }),
  Selu: selu2,
  Gelu: floatUnary((c, x) => gelu(x, { approximate: c.string('approximate', 'none') === 'tanh' ? 'tanh' : 'none' })),
  Identity: (c) => [c.input(0, 'input')],
  CastLike: castLike,
  ThresholdedRelu: floatUnary((c, x) => whereTensors(greater(x, c.float('alpha', 1)), x, 0)),
  IsNaN: (c) => [intResult('bool', notEqual(c.floatInput(0, 'X'), c.floatInput(0, 'X')))],
  IsInf: (c) => {
    const x = c.floatInput(0, 'X');
    const pos = c.int('detect_positive', 1) === 1;
    const neg = c.int('detect_negative', 1) === 1;
    const hits =
      pos && neg ? equal(abs(x), Infinity) : pos ? equal(x, Infinity) : neg ? equal(x, -Infinity) : mul(x, 0);
    return [intResult('bool', pos || neg ? hits : equal(hits, 1))];
  },
};
