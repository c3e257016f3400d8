/**
 * Bad input fails early with an error that names the op and the shapes (or the offending
 * argument), before anything reaches a native kernel.
 */
import { describe, expect, it } from 'vitest';
import * as ax from '../src/index.js';
import { Tensor, arange, ones, tensor, zeros } from '../src/index.js';

const int32 = (shape: number[]): Tensor => zeros(shape, { dtype: 'int32' });

describe('matmul', () => {
  it('names both shapes when inner dimensions differ', () => {
    expect(() => ax.matmul(zeros([64, 784]), zeros([512, 10]))).toThrow(
      'matmul: inner dimensions differ: [64,784] x [512,10]',
    );
    expect(() => ax.matmul(zeros([64, 784]), zeros([512, 10]))).toThrow(RangeError);
    expect(() => ax.matmul(zeros([2, 3, 4]), zeros([2, 5, 6]))).toThrow(
      'matmul: inner dimensions differ: [2,3,4] x [2,5,6]',
    );
    // 1-D operands: the shapes as given, not as promoted internally
    expect(() => ax.matmul(zeros([3]), zeros([4]))).toThrow('matmul: inner dimensions differ: [3] x [4]');
    expect(() => ax.matmul(zeros([3]), zeros([4, 2]))).toThrow('matmul: inner dimensions differ: [3] x [4,2]');
    expect(() => ax.matmul(zeros([2, 3]), zeros([4]))).toThrow('matmul: inner dimensions differ: [2,3] x [4]');
    expect(() => zeros([2, 3]).matmul(zeros([2, 3]))).toThrow('matmul: inner dimensions differ: [2,3] x [2,3]');
  });

  it('names the shapes when batch dimensions do not broadcast', () => {
    expect(() => ax.matmul(zeros([2, 3, 4]), zeros([3, 4, 5]))).toThrow(
      /^matmul: batch dimensions of \[2,3,4\] x \[3,4,5\]: shapes \[2\] and \[3\] cannot be broadcast/,
    );
  });

  it('rejects 0-d operands, int32 and non-tensors', () => {
    expect(() => ax.matmul(tensor(2), zeros([3]))).toThrow(
      'matmul: both operands need at least 1 dimension, got [] x [3]',
    );
    expect(() => ax.matmul(int32([2, 2]), zeros([2, 2]))).toThrow(
      "matmul: first operand must be float32, got int32 (convert with .toType('float32'))",
    );
    expect(() => ax.matmul(zeros([2, 2]), int32([2, 2]))).toThrow(/matmul: second operand must be float32/);
    expect(() => ax.matmul(zeros([2, 2]), undefined as never)).toThrow(
      'matmul: second operand must be a Tensor, got undefined',
    );
    expect(() => ax.matmul([[1]] as never, zeros([1, 1]))).toThrow(
      'matmul: first operand must be a Tensor, got object',
    );
  });
});

describe('broadcasting', () => {
  for (const name of ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const) {
    it(`${name} names both shapes and the axis`, () => {
      expect(() => ax[name](zeros([2, 3]), zeros([4]))).toThrow(
        `${name}: shapes [2,3] and [4] cannot be broadcast (axis -1: 3 vs 4)`,
      );
      expect(() => ax[name](zeros([4, 1, 3]), zeros([5, 2, 1]))).toThrow(
        `${name}: shapes [4,1,3] and [5,2,1] cannot be broadcast (axis -3: 4 vs 5)`,
      );
    });
  }
  it('methods and broadcastShapes give the same message', () => {
    expect(() => zeros([2]).add(zeros([3]))).toThrow('add: shapes [2] and [3] cannot be broadcast (axis -1: 2 vs 3)');
    expect(() => ax.broadcastShapes('myop', [2, 3], [3, 3])).toThrow(
      'myop: shapes [2,3] and [3,3] cannot be broadcast (axis -2: 2 vs 3)',
    );
  });
});

describe('int32 tensors into float ops', () => {
  const i = int32([2, 3]);
  const cases: [string, () => unknown, string][] = [
    ['exp', () => ax.exp(i), 'exp: input must be float32, got int32'],
    ['relu', () => i.relu(), 'relu: input must be float32, got int32'],
    ['gelu', () => ax.gelu(i), 'gelu: input must be float32, got int32'],
    ['softmax', () => ax.softmax(i), 'softmax: input must be float32, got int32'],
    ['sum', () => ax.sum(i), 'sum: input must be float32, got int32'],
    ['mean', () => i.mean(), 'mean: input must be float32, got int32'],
    ['argmax', () => ax.argmax(i), 'argmax: input must be float32, got int32'],
    ['add', () => ax.add(i, zeros([2, 3])), 'add: first operand must be float32, got int32'],
    ['mul', () => ax.mul(zeros([2, 3]), i), 'mul: second operand must be float32, got int32'],
    ['scalar', () => ax.mul(i, 2), 'mul: input must be float32, got int32'],
    ['clamp', () => ax.clamp(i, 0, 1), 'maximum: input must be float32, got int32'],
    ['linear', () => ax.linear(i, zeros([4, 3])), 'linear: input must be float32, got int32'],
    ['linear bias', () => ax.linear(zeros([2, 3]), zeros([4, 3]), int32([4])), 'linear: bias must be float32'],
    ['expand', () => ax.expand(i, [2, 2, 3]), 'expand: only float32 tensors'],
  ];
  for (const [name, f, msg] of cases) it(name, () => expect(f).toThrow(msg));
  it('layout ops accept int32', () => {
    expect(i.T.dtype).toBe('int32');
    expect(i.reshape(-1).dtype).toBe('int32');
    expect(ax.concat([i, i]).dtype).toBe('int32');
  });
});

describe('non-tensor arguments', () => {
  it('name the op and the argument', () => {
    expect(() => ax.add('a' as never, zeros([2]))).toThrow('add: first operand must be a Tensor, got string');
    expect(() => ax.add(zeros([2]), null as never)).toThrow('add: second operand must be a Tensor, got null');
    expect(() => ax.add(1, 2 as never)).toThrow('add: first operand must be a Tensor, got number');
    expect(() => ax.exp([1, 2] as never)).toThrow('exp: input must be a Tensor, got object');
    expect(() => ax.reshape(null as never, [1])).toThrow('reshape: input must be a Tensor, got null');
    expect(() => ax.permute(undefined as never, [0])).toThrow('permute: input must be a Tensor, got undefined');
    expect(() => ax.concat([zeros([2]), 1 as never])).toThrow('concat: tensors[1] must be a Tensor, got number');
    expect(() => ax.concat('x' as never)).toThrow('concat: needs a non-empty array of tensors');
    expect(() => ax.concat([])).toThrow('concat: needs a non-empty array of tensors');
    expect(() => ax.stack([])).toThrow('stack: needs a non-empty array of tensors');
    expect(() => ax.mul(zeros([2]), '2' as never)).toThrow('mul: second operand must be a Tensor, got string');
    expect(() => ax.leakyRelu(zeros([2]), 'a' as never)).toThrow(
      'leakyRelu: negativeSlope must be a number, got string',
    );
  });
});

describe('axes', () => {
  const x = zeros([2, 3, 4]);
  it('out of range or repeated', () => {
    expect(() => ax.sum(x, 3)).toThrow('sum: axis 3 is out of range for a tensor with 3 dimensions');
    expect(() => ax.mean(x, -4)).toThrow('mean: axis -4 is out of range for a tensor with 3 dimensions');
    expect(() => ax.max(x, [0, 5])).toThrow('max: axis 5 is out of range for a tensor with 3 dimensions');
    expect(() => ax.sum(x, [0, -3])).toThrow('sum: axis [0,-3] repeats an axis');
    expect(() => ax.sum(x, [])).toThrow('sum: the axis list is empty');
    expect(() => ax.argmax(x, 1.5)).toThrow('argmax: axis 1.5 is out of range for a tensor with 3 dimensions');
    expect(() => ax.argmin(x, 3)).toThrow('argmin: axis 3 is out of range');
    expect(() => ax.softmax(x, 3)).toThrow('softmax: axis 3 is out of range for a tensor with 3 dimensions');
    expect(() => ax.logSoftmax(x, -4)).toThrow('logSoftmax: axis -4 is out of range');
    expect(() => ax.squeeze(x, 3)).toThrow('squeeze: axis 3 is out of range');
    expect(() => ax.unsqueeze(x, 4)).toThrow('unsqueeze: axis 4 is out of range for a tensor with 4 dimensions');
    expect(() => ax.transpose(x, 0, 3)).toThrow('transpose: axis 3 is out of range');
    expect(() => ax.flatten(x, 2, 1)).toThrow('flatten: startDim 2 comes after endDim 1');
    expect(() => ax.concat([x, x], 3)).toThrow('concat: axis 3 is out of range');
    expect(() => ax.stack([x, x], 4)).toThrow('stack: axis 4 is out of range for a tensor with 4 dimensions');
  });
  it('permute needs every axis once', () => {
    expect(() => ax.permute(x, [0, 1])).toThrow('permute: perm [0,1] must list each of the 3 axes of [2,3,4] once');
    expect(() => ax.permute(x, [0, 1, 1])).toThrow('permute: perm [0,1,1] repeats an axis');
    expect(() => ax.permute(x, [0, 2, -1])).toThrow('permute: perm [0,2,-1] repeats an axis');
  });
  it('max/min/argmax of empty', () => {
    expect(() => ax.max(zeros([2, 0]), 1)).toThrow('max: cannot reduce an empty axis of a tensor of shape [2,0]');
    expect(() => ax.argmax(zeros([0]))).toThrow('argmax: the tensor is empty');
    expect(() => ax.argmin(zeros([0, 3]), 1)).toThrow('argmin: the tensor is empty');
  });
});

describe('reshape and views', () => {
  const x = zeros([2, 3]);
  it('reshape to the wrong size names both shapes and counts', () => {
    expect(() => ax.reshape(x, [4, 2])).toThrow('reshape: cannot reshape [2,3] (6 elements) to [4,2] (8 elements)');
    expect(() => x.reshape(4, -1)).toThrow('reshape: cannot reshape [2,3] (6 elements) to [4,-1]');
    expect(() => x.reshape(-1, -1)).toThrow('reshape: only one dimension can be -1, got [-1,-1]');
    expect(() => x.reshape(0, -1)).toThrow('reshape: cannot reshape [2,3] (6 elements) to [0,-1]');
    expect(() => x.reshape(-2, -3)).toThrow('reshape: invalid shape [-2,-3]');
    expect(() => x.reshape(2.5, 2)).toThrow('reshape: invalid shape [2.5,2]');
  });
  it('index, row and slice out of range', () => {
    expect(() => ax.index(x, [2])).toThrow('index: index 2 is out of range for axis 0 of size 2');
    expect(() => x.index(0, -4)).toThrow('index: index -4 is out of range for axis 1 of size 3');
    expect(() => x.index(0, 0, 0)).toThrow('index: 3 specs for a tensor with 2 axes ([2,3])');
    expect(() => x.index([0, 2, 0])).toThrow('index: step must be a non-zero integer, got 0');
    expect(() => x.index([0.5, 2])).toThrow('index: slice bounds must be integers, got 0.5');
    expect(() => x.row(2)).toThrow('row: index 2 is out of range for 2 rows (shape [2,3])');
    expect(() => x.row(-3)).toThrow('row: index -3 is out of range for 2 rows (shape [2,3])');
    expect(() => tensor(1).row(0)).toThrow('row: a 0-d tensor has no rows');
    expect(() => tensor(1).slice(0)).toThrow('slice: cannot slice a 0-d tensor');
    expect(() => x.slice(0.5)).toThrow('slice: start and end must be integers, got 0.5, undefined');
  });
  it('expand to an incompatible shape', () => {
    expect(() => ax.expand(x, [3, 3])).toThrow('expand: shapes [2,3] and [3,3] cannot be broadcast (axis -2: 2 vs 3)');
    expect(() => ax.expand(x, [3])).toThrow('expand: cannot expand [2,3] to [3]');
  });
  it('concat / stack with mismatched pieces', () => {
    expect(() => ax.concat([x, zeros([2, 4])])).toThrow(
      'concat: tensors[1] has shape [2,4], incompatible with [2,3] along axis 0',
    );
    expect(() => ax.concat([x, zeros([2])])).toThrow('concat: tensors[1] has shape [2], incompatible with [2,3]');
    expect(() => ax.concat([x, int32([2, 3])])).toThrow('concat: tensors[1] is int32, tensors[0] is float32');
    expect(() => ax.concat([tensor(1), tensor(2)])).toThrow('concat: cannot concatenate 0-d tensors (use stack)');
    expect(() => ax.stack([zeros([2]), zeros([3])])).toThrow('stack: tensors[1] has shape [3], tensors[0] [2]');
  });
});

describe('linear', () => {
  const x = zeros([4, 3]);
  it('wrong weight, input or bias shapes', () => {
    expect(() => ax.linear(x, zeros([3]))).toThrow('linear: weight must be [out, in], got [3]');
    expect(() => ax.linear(x, zeros([5, 4]))).toThrow('linear: input [4,3] does not end in 4 features (weight [5,4])');
    expect(() => ax.linear(tensor(1), zeros([5, 1]))).toThrow(
      'linear: input [] does not end in 1 features (weight [5,1])',
    );
    expect(() => ax.linear(x, zeros([5, 3]), zeros([4]))).toThrow('linear: bias must be [5], got [4]');
    expect(() => ax.linear(x, zeros([5, 3]), zeros([1, 5]))).toThrow('linear: bias must be [5], got [1,5]');
  });
  it('unknown activation or bad parameter', () => {
    expect(() => ax.linear(x, zeros([5, 3]), null, 'swish' as never)).toThrow("linear: unknown activation 'swish'");
    expect(() => ax.linear(x, zeros([5, 3]), null, 'softplus', -1)).toThrow(
      'linear: softplus beta must be positive, got -1',
    );
    expect(() => ax.linear(x, zeros([5, 3]), null, 'softplus', 0)).toThrow(
      'linear: softplus beta must be positive, got 0',
    );
  });
});

describe('activation parameters', () => {
  const x = ones([3]);
  it('gelu approximate must be none or tanh', () => {
    expect(() => ax.gelu(x, { approximate: 'exact' as never })).toThrow(
      "gelu: approximate must be 'none' or 'tanh', got exact",
    );
    expect(() => x.gelu({ approximate: 'TANH' as never })).toThrow("gelu: approximate must be 'none' or 'tanh'");
  });
  it('softplus beta must be positive and finite', () => {
    expect(() => ax.softplus(x, 0)).toThrow('softplus: beta must be positive, got 0');
    expect(() => ax.softplus(x, -2)).toThrow('softplus: beta must be positive, got -2');
    expect(() => x.softplus(NaN)).toThrow('softplus: beta must be finite, got NaN');
    expect(() => ax.softplus(x, Infinity)).toThrow('softplus: beta must be finite, got Infinity');
  });
  it('leakyRelu slope and elu alpha must be finite', () => {
    expect(() => ax.leakyRelu(x, NaN)).toThrow('leakyRelu: negativeSlope must be finite, got NaN');
    expect(() => ax.elu(x, Infinity)).toThrow('elu: alpha must be finite, got Infinity');
  });
  it('clamp min must not exceed max', () => {
    expect(() => ax.clamp(x, 2, 1)).toThrow('clamp: min 2 is greater than max 1');
  });
});

describe('creation', () => {
  it('bad shapes', () => {
    expect(() => zeros([-1])).toThrow('zeros: shape [-1] must hold non-negative integers');
    expect(() => ones([1.5])).toThrow('full: shape [1.5] must hold non-negative integers');
    expect(() => zeros(5 as never)).toThrow('zeros: shape must be an array of integers');
    expect(() => zeros([1, 1, 1, 1, 1, 1, 1, 1, 1])).toThrow('zeros: shape [1,1,1,1,1,1,1,1,1] has 9 axes; at most 8');
    expect(() => ax.randn([2, -2])).toThrow('randn: shape [2,-2] must hold non-negative integers');
    expect(() => ax.eye(-1)).toThrow('eye: shape [-1,-1] must hold non-negative integers');
  });
  it('bad dtypes and values', () => {
    expect(() => zeros([2], { dtype: 'float64' as never })).toThrow("dtype must be 'float32' or 'int32', got float64");
    expect(() => ax.full([2], '1' as never)).toThrow('full: value must be a number, got string');
  });
  it('bad ranges', () => {
    expect(() => arange(0, 5, 0)).toThrow('arange: step must not be 0');
    expect(() => arange(NaN)).toThrow('arange: end must be a finite number, got NaN');
    expect(() => arange(0, Infinity)).toThrow('arange: end must be a finite number, got Infinity');
    expect(() => ax.linspace(0, 1, -1)).toThrow('linspace: steps must be a non-negative integer, got -1');
    expect(() => ax.linspace(0, 1, 2.5)).toThrow('linspace: steps must be a non-negative integer, got 2.5');
  });
  it('bad random parameters', () => {
    expect(() => ax.rand([2], { low: 1, high: 0 })).toThrow('rand: high 0 must be >= low 1');
    expect(() => ax.randn([2], { std: -1 })).toThrow('randn: std must be a finite number >= 0, got -1');
    expect(() => ax.randint(5, 5, [2])).toThrow('randint: need integers low < high, got 5, 5');
    expect(() => ax.randint(0.5, 3, [2])).toThrow('randint: need integers low < high, got 0.5, 3');
    expect(() => new ax.Generator(1).nextInt(0)).toThrow('Generator.nextInt: n must be in [1, 2^32], got 0');
  });
});

describe('table activations reject bad input', () => {
  // Every parameter-free activation generated from the op table (hardswish, mish, ...).
  for (const name of Object.keys(ax.TABLE_ACTIVATIONS)) {
    const fn = (ax as unknown as Record<string, (t: unknown) => unknown>)[name];
    it(`${name}: int32 and non-tensors are TypeErrors naming the op`, () => {
      expect(() => fn(int32([2]))).toThrow(new RegExp(`^${name}: input must be float32`));
      expect(() => fn([1, 2])).toThrow(TypeError);
      expect(() => fn(null)).toThrow(new RegExp(`^${name}: `));
    });
  }
});
