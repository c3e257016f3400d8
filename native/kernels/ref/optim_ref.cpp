// Naive twin of gradient-norm clipping (axon/kernels.h clip_grad_norm): one double loop over
// every element of every gradient, no SIMD, no threads. Tested in native/tests/test_optim.cpp.
#include <cmath>

#include "axon/ref.h"

namespace axon::ref {

double clip_grad_norm(float* const* grads, const int64_t* sizes, int64_t count, double max_norm,
                      double norm_type) {
  const bool inf = std::isinf(norm_type);
  double acc = 0;  // sum of squares (2) or largest |g| (inf; a NaN never compares larger)
  for (int64_t i = 0; i < count; ++i)
    for (int64_t j = 0; j < sizes[i]; ++j) {
      const double v = grads[i][j];
      if (inf) {
        if (std::fabs(v) > acc) acc = std::fabs(v);
      } else {
        acc += v * v;
      }
    }
  const double norm = inf ? acc : std::sqrt(acc);
  const double scale = max_norm / (norm + 1e-6);
  if (scale < 1)
    for (int64_t i = 0; i < count; ++i)
      for (int64_t j = 0; j < sizes[i]; ++j) grads[i][j] *= static_cast<float>(scale);
  return norm;
}

}  // namespace axon::ref
