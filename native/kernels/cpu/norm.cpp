// Batch and layer normalisation (compiled once; channels or rows are threaded over the pool).
// Statistics accumulate in double: a channel can hold millions of values, and float sums of
// that many squares lose the variance of offset data. Batch norm's passes over each run of a
// channel are the SIMD building blocks of norm_rows.cpp.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "axon/kernels.h"
#include "axon/thread_pool.h"
#include "kernel_table.h"

namespace axon {

namespace {
// Runs shorter than this (BatchNorm1d's [N, C], s = 1; tiny feature maps) are walked by the
// scalar loops here: a call per run would cost more than the run.
constexpr int64_t kShortRun = 16;

// The statistics' shift: the mean of the channel's first run (at most 64 values), close to
// the channel's mean, so the one-pass sums of (x - shift) and (x - shift)^2 do not cancel.
float moment_shift(const BatchNormArgs& a, const float* x, int64_t c) {
  const float* p = x + c * a.s;
  const int64_t m = std::min<int64_t>(a.s, 64);
  double s = 0;
  for (int64_t j = 0; j < m; ++j) s += p[j];
  return m > 0 ? static_cast<float>(s / double(m)) : 0.0f;
}

// Sums of (x - shift) and (x - shift)^2 over channel c's runs.
void channel_moments(const BatchNormArgs& a, const cpu::KernelTable& k, const float* x, int64_t c,
                     float shift, double sums[2]) {
  for (int64_t i = 0; i < a.n; ++i) {
    const float* p = x + (i * a.c + c) * a.s;
    if (a.s < kShortRun) {
      for (int64_t j = 0; j < a.s; ++j) {
        const double d = double(p[j]) - shift;
        sums[0] += d;
        sums[1] += d * d;
      }
    } else {
      k.norm_moments(p, a.s, shift, sums);
    }
  }
}

// Sums of g and g (x - mean) over channel c's runs, g = dy gated by y > 0 when gate is set.
void channel_grad_sums(const BatchNormArgs& a, const cpu::KernelTable& k, const float* x,
                       const float* dy, const float* gate, int64_t c, float mean, double sums[2]) {
  for (int64_t i = 0; i < a.n; ++i) {
    const int64_t o = (i * a.c + c) * a.s;
    if (a.s < kShortRun) {
      for (int64_t j = 0; j < a.s; ++j) {
        const double g = gate && !(gate[o + j] > 0.0f) ? 0.0 : double(dy[o + j]);
        sums[0] += g;
        sums[1] += g * (double(x[o + j]) - mean);
      }
    } else {
      k.norm_grad_sums(x + o, dy + o, gate ? gate + o : nullptr, a.s, mean, sums);
    }
  }
}
}  // namespace

void batch_norm_stats(const BatchNormArgs& a, const float* x, double* stats) {
  const auto& k = cpu::active_kernels();
  const double count = double(a.n * a.s);
  parallel_range(a.c, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      // About a shift, then moved to the origin in double: replicas' sums must share one origin.
      const double shift = moment_shift(a, x, c);
      double sums[2] = {0, 0};
      channel_moments(a, k, x, c, static_cast<float>(shift), sums);
      stats[2 * c] = count * shift + sums[0];
      stats[2 * c + 1] = sums[1] + 2.0 * shift * sums[0] + count * shift * shift;
    }
  });
  stats[2 * a.c] = count;
}

void batch_norm_grad_stats(const BatchNormArgs& a, const float* x, const float* dy, const float* y,
                           const float* save_mean, const float* save_invstd, double* stats,
                           float* dgamma, float* dbeta) {
  const auto& k = cpu::active_kernels();
  const float* gate = a.relu ? y : nullptr;
  parallel_range(a.c, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double sums[2] = {0, 0};
      channel_grad_sums(a, k, x, dy, gate, c, save_mean[c], sums);
      stats[2 * c] = sums[0];
      stats[2 * c + 1] = sums[1];
      if (dgamma) dgamma[c] += static_cast<float>(sums[1] * double(save_invstd[c]));
      if (dbeta) dbeta[c] += static_cast<float>(sums[0]);
    }
  });
  stats[2 * a.c] = double(a.n * a.s);
}

void batch_norm_forward(const BatchNormArgs& a, const float* x, const float* residual,
                        const float* gamma, const float* beta, float* running_mean,
                        float* running_var, float* y, float* save_mean, float* save_invstd) {
  const auto& k = cpu::active_kernels();
  const bool given = a.training && a.stats;
  const double count = given ? a.stats[2 * a.c] : double(a.n * a.s);
  const bool short_runs = a.s < kShortRun;
  parallel_range(a.c, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double mean, invstd;
      if (a.training) {
        double ss;  // sum (x - mean)^2 over the batch (or the replicas' union), never below 0
        if (given) {
          mean = count > 0 ? a.stats[2 * c] / count : 0.0;
          ss = std::max(0.0, a.stats[2 * c + 1] - count * mean * mean);
        } else {
          const float shift = moment_shift(a, x, c);
          double sums[2] = {0, 0};
          channel_moments(a, k, x, c, shift, sums);
          const double dmean = count > 0 ? sums[0] / count : 0.0;
          mean = shift + dmean;
          // sum (x - mean)^2 = sum (x - shift)^2 - count dmean^2
          ss = std::max(0.0, sums[1] - count * dmean * dmean);
        }
        const double var = count > 0 ? ss / count : 0.0;
        invstd = 1.0 / std::sqrt(var + a.eps);
        if (running_mean && running_var) {
          const double unbiased = count > 1 ? ss / (count - 1) : var;
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
      const float fmean = static_cast<float>(mean);
      const float scale = static_cast<float>(invstd * (gamma ? gamma[c] : 1.0f));
      const float shift = beta ? beta[c] : 0.0f;
      for (int64_t i = 0; i < a.n; ++i) {
        const int64_t o = (i * a.c + c) * a.s;
        const float* r = residual ? residual + o : nullptr;
        if (short_runs) {
          for (int64_t j = 0; j < a.s; ++j) {
            float v = (x[o + j] - fmean) * scale + shift + (r ? r[j] : 0.0f);
            if (a.relu && v < 0.0f) v = 0.0f;  // NaN stays NaN, as the relu kernel
            y[o + j] = v;
          }
        } else {
          k.norm_apply(x + o, r, y + o, a.s, fmean, scale, shift, a.relu);
        }
      }
    }
  });
}

void batch_norm_backward(const BatchNormArgs& a, const float* x, const float* dy, const float* y,
                         const float* gamma, const float* save_mean, const float* save_invstd,
                         float* dx, bool overwrite, float* dgamma, float* dbeta, float* dresidual) {
  const auto& k = cpu::active_kernels();
  const bool given = a.training && a.stats;
  const double count = given ? a.stats[2 * a.c] : double(a.n * a.s);
  const bool short_runs = a.s < kShortRun;
  const float* gate = a.relu ? y : nullptr;
  parallel_range(a.c, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float mean = save_mean[c];
      const double invstd = save_invstd[c];
      double sums[2] = {0, 0};  // sum g, sum g (x - mean)
      if (given) {
        sums[0] = a.stats[2 * c];
        sums[1] = a.stats[2 * c + 1];
      } else {
        channel_grad_sums(a, k, x, dy, gate, c, mean, sums);
      }
      const double sum_dy = sums[0], sum_dy_xhat = sums[1] * invstd;
      if (!given && dgamma) dgamma[c] += static_cast<float>(sum_dy_xhat);
      if (!given && dbeta) dbeta[c] += static_cast<float>(sum_dy);
      if (!dx && !dresidual) continue;
      const double g = gamma ? gamma[c] : 1.0;
      // Training: dx = g invstd (dy - mean(dy) - xhat mean(dy xhat)); eval: g invstd dy.
      // As a g + b (x - mean) + c: a = g invstd, b = -a invstd mean(dy xhat), c = -a mean(dy).
      const double ka = g * invstd;
      const double m_dy = a.training && count > 0 ? sum_dy / count : 0.0;
      const double m_dyx = a.training && count > 0 ? sum_dy_xhat / count : 0.0;
      const float fa = static_cast<float>(ka), fb = static_cast<float>(-ka * invstd * m_dyx),
                  fc = static_cast<float>(-ka * m_dy);
      for (int64_t i = 0; i < a.n; ++i) {
        const int64_t o = (i * a.c + c) * a.s;
        if (short_runs) {
          for (int64_t j = 0; j < a.s; ++j) {
            const float gj = gate && !(gate[o + j] > 0.0f) ? 0.0f : dy[o + j];
            if (dresidual) dresidual[o + j] = gj;
            if (!dx) continue;
            const float v = fa * gj + fb * (x[o + j] - mean) + fc;
            dx[o + j] = overwrite ? v : dx[o + j] + v;
          }
        } else {
          k.norm_grad_apply(x + o, dy + o, gate ? gate + o : nullptr, a.s, mean, fa, fb, fc,
                            dx ? dx + o : nullptr, overwrite, dresidual ? dresidual + o : nullptr);
        }
      }
    }
  });
}

// Layer norm: rows are independent, so threads take blocks of rows; each row is a vector
// pass for its moments (about its first value, so a large common offset does not cancel),
// one to normalise, and in the backward one for the two sums and one to apply them.
void layer_norm_forward(int64_t rows, int64_t d, float eps, const float* x, const float* gamma,
                        const float* beta, float* y, float* save_mean, float* save_invstd) {
  const auto& k = cpu::active_kernels();
  parallel_range(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1)),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r) {
                     const float* p = x + r * d;
                     double sums[2] = {0, 0};
                     const float shift = d > 0 ? p[0] : 0.0f;
                     k.norm_moments(p, d, shift, sums);
                     const double dm = d > 0 ? sums[0] / double(d) : 0.0;
                     const double var = d > 0 ? std::max(0.0, sums[1] / double(d) - dm * dm) : 0.0;
                     const double mean = double(shift) + dm;
                     const double invstd = 1.0 / std::sqrt(var + eps);
                     save_mean[r] = static_cast<float>(mean);
                     save_invstd[r] = static_cast<float>(invstd);
                     k.layer_norm_row(p, d, static_cast<float>(mean), static_cast<float>(invstd),
                                      gamma, beta, y + r * d);
                   }
                 });
}

void layer_norm_backward(int64_t rows, int64_t d, const float* x, const float* dy,
                         const float* gamma, const float* save_mean, const float* save_invstd,
                         float* dx, float* dgamma, float* dbeta) {
  const auto& k = cpu::active_kernels();
  // dgamma/dbeta sum over rows: serial over rows, each row one vector pass.
  if (dgamma || dbeta)
    for (int64_t r = 0; r < rows; ++r)
      k.layer_norm_grad_apply(x + r * d, dy + r * d, gamma, d, save_mean[r], save_invstd[r], 0.0f,
                              0.0f, nullptr, dgamma, dbeta);
  if (!dx) return;
  parallel_range(
      rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1)), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          const float* p = x + r * d;
          const float* g = dy + r * d;
          double sums[2] = {0, 0};  // sum(dy gamma), sum(dy gamma xhat)
          k.layer_norm_grad_sums(p, g, gamma, d, save_mean[r], save_invstd[r], sums);
          k.layer_norm_grad_apply(
              p, g, gamma, d, save_mean[r], save_invstd[r], static_cast<float>(sums[0] / double(d)),
              static_cast<float>(sums[1] / double(d)), dx + r * d, nullptr, nullptr);
        }
      });
}

}  // namespace axon
