// Fused losses and dropout (compiled once; rows are threaded over the pool). Cross-entropy
// works from log-sum-exp with the row max subtracted and keeps (max - x) and log(sum) apart,
// so logits of +-1e4 give exact finite losses; accumulation is in double.
#include <cmath>
#include <cstdint>

#include "axon/kernels.h"
#include "axon/random_hash.h"
#include "axon/thread_pool.h"

namespace axon {

namespace {

// Target weight t_ic of row i, class c (see CrossEntropyArgs).
inline double target_weight(const CrossEntropyArgs& a, int64_t i, int64_t c) {
  const double eps = a.label_smoothing;
  const double wc = a.class_weight ? a.class_weight[c] : 1.0;
  if (a.target_index) {
    const int32_t y = a.target_index[i];
    if (y == a.ignore_index) return 0.0;
    const double wy = a.class_weight ? a.class_weight[y] : 1.0;
    return (c == y ? wy * (1.0 - eps) : 0.0) + eps / static_cast<double>(a.c) * wc;
  }
  return wc * ((1.0 - eps) * a.target_prob[i * a.c + c] + eps / static_cast<double>(a.c));
}

int64_t row_grain(int64_t c) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(c, 1)); }

}  // namespace

void cross_entropy_forward(const CrossEntropyArgs& a, float* loss, float* norm, float* lse) {
  parallel_range(a.n, row_grain(a.c), [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const float* x = a.logits + i * a.c;
      float mx = -INFINITY;
      bool nan = false;
      for (int64_t c = 0; c < a.c; ++c) {
        mx = x[c] > mx ? x[c] : mx;
        nan = nan || std::isnan(x[c]);
      }
      double sum = 0;
      for (int64_t c = 0; c < a.c; ++c) sum += std::exp(double(x[c]) - mx);
      const double log_sum = std::log(sum);
      lse[i] = static_cast<float>(mx + log_sum);
      double l = 0;
      for (int64_t c = 0; c < a.c; ++c) {
        const double t = target_weight(a, i, c);
        if (t != 0.0) l += t * ((double(mx) - x[c]) + log_sum);
      }
      loss[i] = nan ? NAN : static_cast<float>(l);
      if (a.target_index) {
        const int32_t y = a.target_index[i];
        norm[i] = y == a.ignore_index ? 0.0f : (a.class_weight ? a.class_weight[y] : 1.0f);
      } else {
        norm[i] = 1.0f;
      }
    }
  });
}

void cross_entropy_backward(const CrossEntropyArgs& a, const float* lse, const float* dloss,
                            float* dlogits) {
  parallel_range(a.n, row_grain(a.c), [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const float* x = a.logits + i * a.c;
      float* dx = dlogits + i * a.c;
      const double g = dloss[i];
      if (g == 0.0) continue;
      double total = 0;  // T_i
      for (int64_t c = 0; c < a.c; ++c) total += target_weight(a, i, c);
      for (int64_t c = 0; c < a.c; ++c) {
        const double p = std::exp(double(x[c]) - lse[i]);
        dx[c] = static_cast<float>(dx[c] + g * (total * p - target_weight(a, i, c)));
      }
    }
  });
}

namespace {
// Sum of row weights: the 'mean' denominator (PyTorch: total target weight).
double ce_denominator(const CrossEntropyArgs& a) {
  if (!a.target_index) return double(a.n);
  double d = 0;
  for (int64_t i = 0; i < a.n; ++i) {
    const int32_t y = a.target_index[i];
    if (y != a.ignore_index) d += a.class_weight ? a.class_weight[y] : 1.0;
  }
  return d;
}
}  // namespace

float cross_entropy_reduce(const CrossEntropyArgs& a, const float* rows, bool mean) {
  double total = 0;
  for (int64_t i = 0; i < a.n; ++i) total += rows[i];
  return static_cast<float>(mean ? total / ce_denominator(a) : total);
}

void cross_entropy_reduce_backward(const CrossEntropyArgs& a, float dout, bool mean, float* drows) {
  const double g = mean ? dout / ce_denominator(a) : dout;
  for (int64_t i = 0; i < a.n; ++i) drows[i] = static_cast<float>(g);
}

void bce_logits_forward(const float* x, const float* t, const float* pos_weight, int64_t c,
                        float* loss, int64_t n) {
  parallel_range(n, 8192, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const double xi = x[i], ti = t[i];
      const double pw = pos_weight ? pos_weight[i % c] : 1.0;
      // log(1 + e^-x) = max(-x, 0) + log1p(e^-|x|)
      const double sp = std::fmax(-xi, 0.0) + std::log1p(std::exp(-std::fabs(xi)));
      loss[i] = static_cast<float>((1.0 - ti) * xi + (1.0 + (pw - 1.0) * ti) * sp);
    }
  });
}

void bce_logits_backward(const float* x, const float* t, const float* pos_weight, int64_t c,
                         const float* dloss, float* dx, int64_t n) {
  parallel_range(n, 8192, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const double xi = x[i], ti = t[i];
      const double pw = pos_weight ? pos_weight[i % c] : 1.0;
      const double sig_neg = 1.0 / (1.0 + std::exp(xi));  // sigmoid(-x)
      dx[i] =
          static_cast<float>(dx[i] + dloss[i] * ((1.0 - ti) - (1.0 + (pw - 1.0) * ti) * sig_neg));
    }
  });
}

void bce_forward(const float* p, const float* t, float* loss, int64_t n) {
  parallel_range(n, 8192, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const double pi = p[i], ti = t[i];
      const double lp = std::fmax(std::log(pi), -100.0), l1p = std::fmax(std::log1p(-pi), -100.0);
      loss[i] = static_cast<float>(-(ti * lp + (1.0 - ti) * l1p));
    }
  });
}

void bce_backward(const float* p, const float* t, const float* dloss, float* dp, int64_t n) {
  parallel_range(n, 8192, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const double pi = p[i], ti = t[i];
      dp[i] = static_cast<float>(dp[i] + dloss[i] * (pi - ti) / std::fmax(pi * (1.0 - pi), 1e-12));
    }
  });
}

void dropout_forward(const float* x, float* y, float* mask, int64_t n, float p, uint64_t seed) {
  const float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  const uint64_t threshold = dropout_threshold(p);
  const uint64_t base = mix64(seed);
  parallel_range(n, 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float m = dropout_keep(base, static_cast<uint64_t>(i), threshold) ? keep_scale : 0.0f;
      mask[i] = m;
      y[i] = x[i] * m;
    }
  });
}

void random_crop_flip(const float* x, float* y, int64_t n, int64_t c, int64_t h, int64_t w,
                      int64_t oh, int64_t ow, int64_t pad, float flip_p, bool random,
                      uint64_t seed) {
  const int64_t span_h = h + 2 * pad - oh + 1, span_w = w + 2 * pad - ow + 1;
  const uint64_t base = mix64(seed);
  const uint64_t flip_threshold = dropout_threshold(flip_p);
  parallel_range(n, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      int64_t top = (span_h - 1) / 2, left = (span_w - 1) / 2;
      bool flip = false;
      if (random) {
        const uint64_t r1 = mix64(base + 2 * static_cast<uint64_t>(i));
        const uint64_t r2 = mix64(base + 2 * static_cast<uint64_t>(i) + 1);
        top = static_cast<int64_t>(r1 % static_cast<uint64_t>(span_h));
        left = static_cast<int64_t>((r1 >> 32) % static_cast<uint64_t>(span_w));
        flip = (r2 >> 40) < flip_threshold;
      }
      for (int64_t ch = 0; ch < c; ++ch) {
        const float* src = x + (i * c + ch) * h * w;
        float* dst = y + (i * c + ch) * oh * ow;
        for (int64_t r = 0; r < oh; ++r) {
          const int64_t sr = top + r - pad;
          float* out = dst + r * ow;
          if (sr < 0 || sr >= h) {
            for (int64_t q = 0; q < ow; ++q) out[q] = 0.0f;
            continue;
          }
          const float* row = src + sr * w;
          for (int64_t q = 0; q < ow; ++q) {
            const int64_t sc = left + (flip ? ow - 1 - q : q) - pad;
            out[q] = sc >= 0 && sc < w ? row[sc] : 0.0f;
          }
        }
      }
    }
  });
}

}  // namespace axon
