// The op enums, declared once. gen-ops.mjs writes the C++ enums of native/include/axon/ops.h
// (with their names and, for UnaryOp, each function's cost), and the TypeScript mirrors in
// src/native/ops.gen.ts. Enums that kernels.h declares itself (`declared: true`) are checked
// value by value with static_asserts instead, so neither side can drift.
//
// Each value: [CppName, 'js_name', doc?] (UnaryOp: [CppName, 'name', cost, doc?, activation?],
// cost in "simple op" units: sizes the parallel grain of the elementwise loops and the
// profiler's flops). `activation: { layer }` marks a parameter-free activation: the generator
// then also writes its functional form and Tensor method (src/ops/activations.gen.ts), its
// layer class with its model-file registration (src/nn/activations.gen.ts), and dense and
// convolution layers accept its name as `activation`.
export default {
  UnaryOp: {
    ts: 'UnaryCode',
    doc: 'Elementwise functions y = f(x; param). `param` is the negative slope of LeakyRelu, alpha of Elu, beta of Softplus and the exponent of Pow; the others ignore it.',
    values: [
      ['Identity', 'identity', 1],
      ['Relu', 'relu', 1],
      ['LeakyRelu', 'leaky_relu', 1],
      ['Elu', 'elu', 8],
      ['Selu', 'selu', 8, 'Scaled ELU with the self-normalising constants of Klambauer et al. (2017)', { layer: 'SELU' }],
      ['Sigmoid', 'sigmoid', 8, '1 / (1 + e^-x)', { layer: 'Sigmoid' }],
      ['Tanh', 'tanh', 10, 'Hyperbolic tangent', { layer: 'Tanh' }],
      ['GeluErf', 'gelu', 16, 'x * Phi(x), Phi the standard normal CDF (PyTorch gelu(approximate=none))'],
      ['GeluTanh', 'gelu_tanh', 12, '0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (approximate=tanh)'],
      ['Softplus', 'softplus', 16, 'log(1 + e^(beta x)) / beta; x when beta x > 20, as PyTorch'],
      ['Silu', 'silu', 9, 'x * sigmoid(x) (a.k.a. swish)', { layer: 'SiLU' }],
      ['Exp', 'exp', 7],
      ['Log', 'log', 8],
      ['Sqrt', 'sqrt', 3],
      ['Abs', 'abs', 1],
      ['Neg', 'neg', 1],
      ['Square', 'square', 1],
      ['Reciprocal', 'reciprocal', 3],
      ['Pow', 'pow', 12, 'x^param'],
      ['Hardswish', 'hardswish', 3, 'x * min(max(x + 3, 0), 6) / 6 (PyTorch nn.Hardswish, Howard et al. 2019)', { layer: 'Hardswish' }],
      ['Mish', 'mish', 14, 'x * tanh(softplus(x)) (PyTorch nn.Mish, Misra 2019)', { layer: 'Mish' }],
      ['Erf', 'erf', 16, 'The error function (ONNX Erf; GELU exports compute x Phi(x) through it)'],
    ],
  },
  BinaryOp: {
    ts: 'BinaryCode',
    doc: 'Elementwise a (op) b. The comparisons (Greater .. NotEqual) give 1.0f where the relation holds and 0.0f where not, IEEE: a NaN operand compares false (NotEqual true), +0 == -0; their gradient is zero for both operands (binary_backward adds nothing).',
    values: [
      ['Add', 'add'],
      ['Sub', 'sub'],
      ['Mul', 'mul'],
      ['Div', 'div'],
      ['Pow', 'pow'],
      ['Maximum', 'maximum'],
      ['Minimum', 'minimum'],
      ['Greater', 'greater', 'a > b ? 1 : 0'],
      ['GreaterEqual', 'greater_equal', 'a >= b ? 1 : 0'],
      ['Less', 'less', 'a < b ? 1 : 0'],
      ['LessEqual', 'less_equal', 'a <= b ? 1 : 0'],
      ['Equal', 'equal', 'a == b ? 1 : 0'],
      ['NotEqual', 'not_equal', 'a != b ? 1 : 0 (1 when either is NaN)'],
    ],
  },
  ReduceOp: {
    ts: 'ReduceCode',
    values: [
      ['Sum', 'sum'],
      ['Mean', 'mean'],
      ['Max', 'max'],
      ['Min', 'min'],
    ],
  },
  ArgReduceOp: {
    ts: 'ArgReduceCode',
    values: [
      ['ArgMax', 'argmax'],
      ['ArgMin', 'argmin'],
    ],
  },
  BiasMode: {
    declared: true,
    ts: 'BiasMode',
    values: [
      ['None', 'none'],
      ['PerColumn', 'per_column', 'bias[N] added to every row of C (a dense layer).'],
      ['PerRow', 'per_row', "bias[M] added to every column of C (a convolution's channels)."],
    ],
  },
  RnnMode: {
    declared: true,
    ts: 'RnnMode',
    values: [
      ['Lstm', 'lstm'],
      ['Gru', 'gru'],
      ['RnnTanh', 'rnn_tanh'],
      ['RnnRelu', 'rnn_relu'],
    ],
  },
  SequencePool: {
    declared: true,
    ts: 'SequencePoolMode',
    values: [
      ['Last', 'last'],
      ['Mean', 'mean'],
    ],
  },
};
