// Naive GEMM twin: the oracle for the packed kernels and the statement of their contract,
// C = act(alpha * op(A) op(B) + beta * C + bias), accumulated in double.
#include <cstddef>

#include "axon/ref.h"

namespace axon::ref {

void gemm(const GemmArgs& g) {
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = 0; j < g.n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < g.k; ++p) {
        const double a = g.trans_a == Trans::No ? g.a[i * g.lda + p] : g.a[p * g.lda + i];
        const double b = g.trans_b == Trans::No ? g.b[p * g.ldb + j] : g.b[j * g.ldb + p];
        acc += a * b;
      }
      float& c = g.c[i * g.ldc + j];
      double v = g.alpha * acc + (g.beta == 0.0f ? 0.0 : double(g.beta) * c);
      if (g.bias_mode == BiasMode::PerColumn) v += g.bias[j];
      if (g.bias_mode == BiasMode::PerRow) v += g.bias[i];
      // The fast kernel rounds to float before the activation; do the same.
      c = static_cast<float>(unary_value(g.activation, static_cast<float>(v), g.activation_param));
    }
}

void gemm_batched(const GemmBatchedArgs& b) {
  for (int64_t i = 0; i < b.batch; ++i) {
    GemmArgs g = b.gemm;
    g.a += i * b.stride_a;
    g.b += i * b.stride_b;
    g.c += i * b.stride_c;
    if (g.bias) g.bias += i * b.stride_bias;
    ref::gemm(g);
  }
}

}  // namespace axon::ref
