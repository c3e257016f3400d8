// Batch and layer normalisation (compiled once; channels or rows are threaded over the pool).
// Statistics accumulate in double: a channel can hold millions of values, and float sums of
// that many squares lose the variance of offset data.
#include <cmath>
#include <cstdint>

#include "axon/kernels.h"
#include "axon/thread_pool.h"

namespace axon {

void batch_norm_forward(const BatchNormArgs& a, const float* x, const float* gamma,
                        const float* beta, float* running_mean, float* running_var, float* y,
                        float* save_mean, float* save_invstd) {
  const int64_t count = a.n * a.s;
  parallel_range(a.c, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double mean, invstd;
      if (a.training) {
        double s = 0;
        for (int64_t i = 0; i < a.n; ++i) {
          const float* p = x + (i * a.c + c) * a.s;
          for (int64_t j = 0; j < a.s; ++j) s += p[j];
        }
        mean = count > 0 ? s / double(count) : 0.0;
        double ss = 0;  // two passes: exact for offset data
        for (int64_t i = 0; i < a.n; ++i) {
          const float* p = x + (i * a.c + c) * a.s;
          for (int64_t j = 0; j < a.s; ++j) {
            const double d = p[j] - mean;
            ss += d * d;
          }
        }
        const double var = count > 0 ? ss / double(count) : 0.0;
        invstd = 1.0 / std::sqrt(var + a.eps);
        if (running_mean && running_var) {
          const double unbiased = count > 1 ? ss / double(count - 1) : var;
          running_mean[c] =
              static_cast<float>((1.0 - a.momentum) * running_mean[c] + a.momentum * mean);
          running_var[c] =
              static_cast<float>((1.0 - a.momentum) * running_var[c] + a.momentum * unbiased);
        }
      } else {
        mean = running_mean ? running_mean[c] : 0.0;
        invstd = 1.0 / std::sqrt((running_var ? double(running_var[c]) : 1.0) + a.eps);
      }
      if (save_mean) save_mean[c] = static_cast<float>(mean);
      if (save_invstd) save_invstd[c] = static_cast<float>(invstd);
      const float scale = static_cast<float>(invstd * (gamma ? gamma[c] : 1.0f));
      const float shift =
          static_cast<float>((beta ? beta[c] : 0.0f) - mean * invstd * (gamma ? gamma[c] : 1.0f));
      for (int64_t i = 0; i < a.n; ++i) {
        const float* p = x + (i * a.c + c) * a.s;
        float* q = y + (i * a.c + c) * a.s;
        for (int64_t j = 0; j < a.s; ++j) q[j] = p[j] * scale + shift;
      }
    }
  });
}

void batch_norm_backward(const BatchNormArgs& a, const float* x, const float* dy,
                         const float* gamma, const float* save_mean, const float* save_invstd,
                         float* dx, float* dgamma, float* dbeta) {
  const int64_t count = a.n * a.s;
  parallel_range(a.c, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const double mean = save_mean[c], invstd = save_invstd[c];
      double sum_dy = 0, sum_dy_xhat = 0;
      for (int64_t i = 0; i < a.n; ++i) {
        const float* p = x + (i * a.c + c) * a.s;
        const float* d = dy + (i * a.c + c) * a.s;
        for (int64_t j = 0; j < a.s; ++j) {
          sum_dy += d[j];
          sum_dy_xhat += d[j] * (p[j] - mean) * invstd;
        }
      }
      if (dgamma) dgamma[c] += static_cast<float>(sum_dy_xhat);
      if (dbeta) dbeta[c] += static_cast<float>(sum_dy);
      if (!dx) continue;
      const double g = gamma ? gamma[c] : 1.0;
      // Training: dx = g invstd (dy - mean(dy) - xhat mean(dy xhat)); eval: g invstd dy.
      const double k = g * invstd;
      const double m_dy = a.training && count > 0 ? sum_dy / double(count) : 0.0;
      const double m_dyx = a.training && count > 0 ? sum_dy_xhat / double(count) : 0.0;
      for (int64_t i = 0; i < a.n; ++i) {
        const float* p = x + (i * a.c + c) * a.s;
        const float* d = dy + (i * a.c + c) * a.s;
        float* o = dx + (i * a.c + c) * a.s;
        for (int64_t j = 0; j < a.s; ++j) {
          const double xhat = (p[j] - mean) * invstd;
          o[j] += static_cast<float>(k * (d[j] - m_dy - xhat * m_dyx));
        }
      }
    }
  });
}

void layer_norm_forward(int64_t rows, int64_t d, float eps, const float* x, const float* gamma,
                        const float* beta, float* y, float* save_mean, float* save_invstd) {
  parallel_range(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1)),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r) {
                     const float* p = x + r * d;
                     float* q = y + r * d;
                     double s = 0;
                     for (int64_t j = 0; j < d; ++j) s += p[j];
                     const double mean = d > 0 ? s / double(d) : 0.0;
                     double ss = 0;
                     for (int64_t j = 0; j < d; ++j) ss += (p[j] - mean) * (p[j] - mean);
                     const double invstd = 1.0 / std::sqrt((d > 0 ? ss / double(d) : 0.0) + eps);
                     save_mean[r] = static_cast<float>(mean);
                     save_invstd[r] = static_cast<float>(invstd);
                     for (int64_t j = 0; j < d; ++j) {
                       const float xhat = static_cast<float>((p[j] - mean) * invstd);
                       q[j] = xhat * (gamma ? gamma[j] : 1.0f) + (beta ? beta[j] : 0.0f);
                     }
                   }
                 });
}

void layer_norm_backward(int64_t rows, int64_t d, const float* x, const float* dy,
                         const float* gamma, const float* save_mean, const float* save_invstd,
                         float* dx, float* dgamma, float* dbeta) {
  // dgamma/dbeta sum over rows: one pass, serial over rows (they are d-long vectors).
  if (dgamma || dbeta)
    for (int64_t r = 0; r < rows; ++r) {
      const float* p = x + r * d;
      const float* g = dy + r * d;
      const double mean = save_mean[r], invstd = save_invstd[r];
      for (int64_t j = 0; j < d; ++j) {
        if (dgamma) dgamma[j] += static_cast<float>(g[j] * (p[j] - mean) * invstd);
        if (dbeta) dbeta[j] += g[j];
      }
    }
  if (!dx) return;
  parallel_range(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1)),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r) {
                     const float* p = x + r * d;
                     const float* g = dy + r * d;
                     float* o = dx + r * d;
                     const double mean = save_mean[r], invstd = save_invstd[r];
                     double m1 = 0, m2 = 0;  // mean(dy gamma), mean(dy gamma xhat)
                     for (int64_t j = 0; j < d; ++j) {
                       const double gy = g[j] * (gamma ? gamma[j] : 1.0f);
                       m1 += gy;
                       m2 += gy * (p[j] - mean) * invstd;
                     }
                     m1 /= double(d);
                     m2 /= double(d);
                     for (int64_t j = 0; j < d; ++j) {
                       const double gy = g[j] * (gamma ? gamma[j] : 1.0f);
                       const double xhat = (p[j] - mean) * invstd;
                       o[j] += static_cast<float>(invstd * (gy - m1 - xhat * m2));
                     }
                   }
                 });
}

}  // namespace axon
