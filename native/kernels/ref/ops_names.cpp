// Names of the op enums (axon/ops.h), used in error messages and profiles.
#include <cstddef>

#include "axon/ops.h"

namespace axon {

namespace {
constexpr const char* kUnaryNames[] = {"identity", "relu",   "leaky_relu", "elu",       "selu",
                                       "sigmoid",  "tanh",   "gelu",       "gelu_tanh", "softplus",
                                       "silu",     "exp",    "log",        "sqrt",      "abs",
                                       "neg",      "square", "reciprocal", "pow"};
static_assert(sizeof(kUnaryNames) / sizeof(kUnaryNames[0]) == size_t(UnaryOp::Count));

constexpr const char* kBinaryNames[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum"};
static_assert(sizeof(kBinaryNames) / sizeof(kBinaryNames[0]) == size_t(BinaryOp::Count));

constexpr const char* kReduceNames[] = {"sum", "mean", "max", "min"};
static_assert(sizeof(kReduceNames) / sizeof(kReduceNames[0]) == size_t(ReduceOp::Count));

constexpr const char* kArgReduceNames[] = {"argmax", "argmin"};
static_assert(sizeof(kArgReduceNames) / sizeof(kArgReduceNames[0]) == size_t(ArgReduceOp::Count));
}  // namespace

const char* op_name(UnaryOp op) { return kUnaryNames[size_t(op)]; }
const char* op_name(BinaryOp op) { return kBinaryNames[size_t(op)]; }
const char* op_name(ReduceOp op) { return kReduceNames[size_t(op)]; }
const char* op_name(ArgReduceOp op) { return kArgReduceNames[size_t(op)]; }

}  // namespace axon
