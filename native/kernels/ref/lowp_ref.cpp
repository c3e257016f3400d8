// Naive twin of lowp_linear: the packed weights decoded element by element from the layout
// kernels.h states, x rounded or quantised by the same rules (lowp_internal.h: those rules
// define the method), the products summed in double, then bias and activation in double.
// Tested against the fast path and the float fallback in native/tests/test_lowp.cpp.
#include <cmath>
#include <vector>

#include "../cpu/lowp_internal.h"
#include "axon/ref.h"

namespace axon::ref {

void lowp_linear(const LowpWeights& w, const float* x, int64_t m, const float* bias, UnaryOp act,
                 float act_param, float* y) {
  const bool bf16 = w.format == LowpFormat::Bf16;
  const int64_t per_word = bf16 ? 2 : 4;
  const int64_t steps = (w.k + per_word - 1) / per_word;
  std::vector<double> wd(size_t(w.n * w.k));
  for (int64_t j = 0; j < w.n; ++j)
    for (int64_t i = 0; i < w.k; ++i) {
      const uint32_t word =
          static_cast<uint32_t>(w.packed[((j / 32) * steps + i / per_word) * 32 + j % 32]);
      if (bf16) {
        wd[size_t(j * w.k + i)] = lowp::from_bf16(static_cast<uint16_t>(i % 2 ? word >> 16 : word));
      } else {
        const auto q = static_cast<int8_t>(word >> (8 * (i % 4)));
        wd[size_t(j * w.k + i)] = double(q) * double(w.scales[j]);
      }
    }
  std::vector<double> xd(size_t(w.k));
  for (int64_t r = 0; r < m; ++r) {
    const float* src = x + r * w.k;
    float amax = 0.0f;
    for (int64_t i = 0; i < w.k; ++i) amax = std::fmax(amax, std::fabs(src[i]));
    const float scale = lowp::int8_scale(amax);
    for (int64_t i = 0; i < w.k; ++i)
      xd[size_t(i)] = bf16 ? double(lowp::from_bf16(lowp::to_bf16(src[i])))
                           : double(lowp::quantize(src[i], scale)) * double(scale);
    for (int64_t j = 0; j < w.n; ++j) {
      double acc = bias ? double(bias[j]) : 0.0;
      for (int64_t i = 0; i < w.k; ++i) acc += xd[size_t(i)] * wd[size_t(j * w.k + i)];
      y[r * w.n + j] = static_cast<float>(unary_value(act, acc, act_param));
    }
  }
}

}  // namespace axon::ref
