// The op enums shared by kernels, binding and tests. Every table indexed by one of these
// enums has a static_assert on its Count, so adding an op without its table entry fails to
// compile.
#pragma once

#include <cstdint>

namespace axon {

// Elementwise functions y = f(x; param). `param` is the negative slope of LeakyRelu, alpha of
// Elu, beta of Softplus and the exponent of Pow; the others ignore it.
enum class UnaryOp : uint8_t {
  Identity,
  Relu,
  LeakyRelu,
  Elu,
  Selu,
  Sigmoid,
  Tanh,
  GeluErf,   // x * Phi(x), Phi the standard normal CDF (PyTorch gelu(approximate='none'))
  GeluTanh,  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (approximate='tanh')
  Softplus,  // log(1 + e^(beta x)) / beta; x when beta x > 20, as PyTorch
  Silu,      // x * sigmoid(x)
  Exp,
  Log,
  Sqrt,
  Abs,
  Neg,
  Square,
  Reciprocal,
  Pow,  // x^param
  Count
};

enum class BinaryOp : uint8_t { Add, Sub, Mul, Div, Pow, Maximum, Minimum, Count };

enum class ReduceOp : uint8_t { Sum, Mean, Max, Min, Count };

enum class ArgReduceOp : uint8_t { ArgMax, ArgMin, Count };

const char* op_name(UnaryOp op);
const char* op_name(BinaryOp op);
const char* op_name(ReduceOp op);
const char* op_name(ArgReduceOp op);

// Rough cost of one element of a unary op in "simple op" units; sizes the parallel grain
// (the table: native/kernels/cpu/unary_cost.h).
int unary_cost(UnaryOp op);

}  // namespace axon
