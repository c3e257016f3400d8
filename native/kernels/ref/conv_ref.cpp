// Naive twins of convolution, pooling and normalisation: the definitions as loops, in double.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "axon/ref.h"

namespace axon::ref {

namespace {
// Input pixel of output (oh, ow) and tap (ki, kj), or false when it falls in the padding.
bool tap(const ConvGeometry& g, int64_t oh, int64_t ow, int64_t ki, int64_t kj, int64_t* ih,
         int64_t* iw) {
  *ih = oh * g.stride_h - g.pad_top + ki * g.dil_h;
  *iw = ow * g.stride_w - g.pad_left + kj * g.dil_w;
  return *ih >= 0 && *ih < g.h && *iw >= 0 && *iw < g.w;
}
}  // namespace

void conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    UnaryOp act, float act_param, float* y) {
  const int64_t oh_n = g.out_h(), ow_n = g.out_w(), cin_g = g.c_in / g.groups,
                cout_g = g.c_out / g.groups;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t co = 0; co < g.c_out; ++co) {
      const int64_t gi = co / cout_g;
      for (int64_t oh = 0; oh < oh_n; ++oh)
        for (int64_t ow = 0; ow < ow_n; ++ow) {
          double s = bias ? bias[co] : 0.0;
          for (int64_t ci = 0; ci < cin_g; ++ci)
            for (int64_t ki = 0; ki < g.kh; ++ki)
              for (int64_t kj = 0; kj < g.kw; ++kj) {
                int64_t ih, iw;
                if (!tap(g, oh, ow, ki, kj, &ih, &iw)) continue;
                s += double(x[((n * g.c_in + gi * cin_g + ci) * g.h + ih) * g.w + iw]) *
                     w[((co * cin_g + ci) * g.kh + ki) * g.kw + kj];
              }
          y[((n * g.c_out + co) * oh_n + oh) * ow_n + ow] =
              static_cast<float>(unary_value(act, s, act_param));
        }
    }
}

void conv2d_backward_data(const ConvGeometry& g, const float* dy, const float* w, float* dx,
                          bool overwrite) {
  const int64_t oh_n = g.out_h(), ow_n = g.out_w(), cin_g = g.c_in / g.groups,
                cout_g = g.c_out / g.groups;
  std::vector<double> acc(static_cast<size_t>(g.n * g.c_in * g.h * g.w), 0.0);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t co = 0; co < g.c_out; ++co) {
      const int64_t gi = co / cout_g;
      for (int64_t oh = 0; oh < oh_n; ++oh)
        for (int64_t ow = 0; ow < ow_n; ++ow) {
          const double d = dy[((n * g.c_out + co) * oh_n + oh) * ow_n + ow];
          for (int64_t ci = 0; ci < cin_g; ++ci)
            for (int64_t ki = 0; ki < g.kh; ++ki)
              for (int64_t kj = 0; kj < g.kw; ++kj) {
                int64_t ih, iw;
                if (!tap(g, oh, ow, ki, kj, &ih, &iw)) continue;
                acc[static_cast<size_t>(((n * g.c_in + gi * cin_g + ci) * g.h + ih) * g.w + iw)] +=
                    d * w[((co * cin_g + ci) * g.kh + ki) * g.kw + kj];
              }
        }
    }
  for (size_t i = 0; i < acc.size(); ++i)
    dx[i] = static_cast<float>(overwrite ? acc[i] : dx[i] + acc[i]);
}

void conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                            float* db) {
  const int64_t oh_n = g.out_h(), ow_n = g.out_w(), cin_g = g.c_in / g.groups,
                cout_g = g.c_out / g.groups;
  for (int64_t co = 0; co < g.c_out; ++co) {
    const int64_t gi = co / cout_g;
    if (db) {
      double s = 0;
      for (int64_t n = 0; n < g.n; ++n)
        for (int64_t p = 0; p < oh_n * ow_n; ++p) s += dy[(n * g.c_out + co) * oh_n * ow_n + p];
      db[co] = static_cast<float>(db[co] + s);
    }
    for (int64_t ci = 0; ci < cin_g; ++ci)
      for (int64_t ki = 0; ki < g.kh; ++ki)
        for (int64_t kj = 0; kj < g.kw; ++kj) {
          double s = 0;
          for (int64_t n = 0; n < g.n; ++n)
            for (int64_t oh = 0; oh < oh_n; ++oh)
              for (int64_t ow = 0; ow < ow_n; ++ow) {
                int64_t ih, iw;
                if (!tap(g, oh, ow, ki, kj, &ih, &iw)) continue;
                s += double(dy[((n * g.c_out + co) * oh_n + oh) * ow_n + ow]) *
                     x[((n * g.c_in + gi * cin_g + ci) * g.h + ih) * g.w + iw];
              }
          float& t = dw[((co * cin_g + ci) * g.kh + ki) * g.kw + kj];
          t = static_cast<float>(t + s);
        }
  }
}

namespace {
// Taps of output (oh, ow): every (ih, iw) of the window, in or out of the input; `padded`
// counts the window clipped to the padded input (PyTorch's count_include_pad divisor).
template <class F>
void pool_window(const PoolGeometry& g, int64_t oh, int64_t ow, F&& f) {
  for (int64_t ki = 0; ki < g.kh; ++ki)
    for (int64_t kj = 0; kj < g.kw; ++kj)
      f(oh * g.stride_h - g.pad_top + ki * g.dil_h, ow * g.stride_w - g.pad_left + kj * g.dil_w);
}
}  // namespace

void max_pool2d_forward(const PoolGeometry& g, const float* x, float* y, int32_t* index) {
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t oh = 0; oh < g.out_h; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        float best = -std::numeric_limits<float>::infinity();
        int64_t at = -1;
        bool nan = false;
        pool_window(g, oh, ow, [&](int64_t ih, int64_t iw) {
          if (nan || ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) return;
          const float v = x[(p * g.h + ih) * g.w + iw];
          if (at < 0 || v > best || std::isnan(v))
            best = v, at = ih * g.w + iw, nan = std::isnan(v);
        });
        y[(p * g.out_h + oh) * g.out_w + ow] = best;
        index[(p * g.out_h + oh) * g.out_w + ow] = static_cast<int32_t>(at < 0 ? 0 : at);
      }
}

void max_pool2d_global_index(const PoolGeometry& g, const int32_t* index, bool column_major,
                             int32_t* out) {
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t o = 0; o < g.out_h * g.out_w; ++o) {
      const int64_t at = index[p * g.out_h * g.out_w + o], ih = at / g.w, iw = at % g.w;
      out[p * g.out_h * g.out_w + o] = static_cast<int32_t>(
          column_major ? ((p * g.w + iw) * g.h + ih) : ((p * g.h + ih) * g.w + iw));
    }
}

void avg_pool2d_forward(const PoolGeometry& g, const float* x, float* y) {
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t oh = 0; oh < g.out_h; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        double s = 0;
        int64_t inside = 0, padded = 0;
        pool_window(g, oh, ow, [&](int64_t ih, int64_t iw) {
          if (ih < g.h + g.pad_bottom && iw < g.w + g.pad_right) ++padded;
          if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) return;
          s += x[(p * g.h + ih) * g.w + iw];
          ++inside;
        });
        const int64_t div = g.count_include_pad ? padded : inside;
        y[(p * g.out_h + oh) * g.out_w + ow] = div ? static_cast<float>(s / double(div)) : 0.0f;
      }
}

void batch_norm_forward(const BatchNormArgs& a, const float* x, const float* residual,
                        const float* gamma, const float* beta, float* running_mean,
                        float* running_var, float* y, float* save_mean, float* save_invstd) {
  const bool given = a.training && a.stats;
  const double count = given ? a.stats[2 * a.c] : double(a.n * a.s);
  for (int64_t c = 0; c < a.c; ++c) {
    double mean = 0, var = 0;
    if (a.training) {
      if (given) {  // the union's sums: E[x^2] - E[x]^2
        mean = a.stats[2 * c] / count;
        var = std::max(0.0, a.stats[2 * c + 1] - count * mean * mean);
      } else {
        for (int64_t i = 0; i < a.n; ++i)
          for (int64_t j = 0; j < a.s; ++j) mean += x[(i * a.c + c) * a.s + j];
        mean /= count;
        for (int64_t i = 0; i < a.n; ++i)
          for (int64_t j = 0; j < a.s; ++j) var += std::pow(x[(i * a.c + c) * a.s + j] - mean, 2);
      }
      const double unbiased = count > 1 ? var / (count - 1) : var / count;
      var /= count;
      if (running_mean)
        running_mean[c] = float((1 - a.momentum) * running_mean[c] + a.momentum * mean);
      if (running_var)
        running_var[c] = float((1 - a.momentum) * running_var[c] + a.momentum * unbiased);
    } else {
      mean = running_mean[c];
      var = running_var[c];
    }
    const double invstd = 1.0 / std::sqrt(var + a.eps);
    if (save_mean) save_mean[c] = float(mean);
    if (save_invstd) save_invstd[c] = float(invstd);
    for (int64_t i = 0; i < a.n; ++i)
      for (int64_t j = 0; j < a.s; ++j) {
        const size_t o = static_cast<size_t>((i * a.c + c) * a.s + j);
        double v = (x[o] - mean) * invstd * (gamma ? gamma[c] : 1.0) + (beta ? beta[c] : 0.0) +
                   (residual ? residual[o] : 0.0);
        if (a.relu && v < 0) v = 0;
        y[o] = float(v);
      }
  }
}

void batch_norm_backward(const BatchNormArgs& a, const float* x, const float* dy, const float* y,
                         const float* gamma, const float* save_mean, const float* save_invstd,
                         float* dx, bool overwrite, float* dgamma, float* dbeta, float* dresidual) {
  const bool given = a.training && a.stats;
  const double count = given ? a.stats[2 * a.c] : double(a.n * a.s);
  auto at = [&](int64_t i, int64_t c, int64_t j) { return size_t((i * a.c + c) * a.s + j); };
  for (int64_t c = 0; c < a.c; ++c) {
    const double mean = save_mean[c], invstd = save_invstd[c], gm = gamma ? gamma[c] : 1.0;
    auto grad = [&](size_t o) { return a.relu && !(y[o] > 0) ? 0.0 : double(dy[o]); };
    double sum_g = 0, sum_gx = 0;
    if (given) {
      sum_g = a.stats[2 * c];
      sum_gx = a.stats[2 * c + 1] * invstd;
    } else {
      for (int64_t i = 0; i < a.n; ++i)
        for (int64_t j = 0; j < a.s; ++j) {
          const size_t o = at(i, c, j);
          sum_g += grad(o);
          sum_gx += grad(o) * (x[o] - mean) * invstd;
        }
      if (dgamma) dgamma[c] = float(dgamma[c] + sum_gx);
      if (dbeta) dbeta[c] = float(dbeta[c] + sum_g);
    }
    for (int64_t i = 0; i < a.n; ++i)
      for (int64_t j = 0; j < a.s; ++j) {
        const size_t o = at(i, c, j);
        if (dresidual) dresidual[o] = float(grad(o));
        if (!dx) continue;
        const double xhat = (x[o] - mean) * invstd;
        const double v = a.training
                             ? gm * invstd * (grad(o) - sum_g / count - xhat * sum_gx / count)
                             : gm * invstd * grad(o);
        dx[o] = float(overwrite ? v : dx[o] + v);
      }
  }
}

void batch_norm_stats(const BatchNormArgs& a, const float* x, double* stats) {
  for (int64_t c = 0; c < a.c; ++c) {
    double s1 = 0, s2 = 0;
    for (int64_t i = 0; i < a.n; ++i)
      for (int64_t j = 0; j < a.s; ++j) {
        const double v = x[(i * a.c + c) * a.s + j];
        s1 += v;
        s2 += v * v;
      }
    stats[2 * c] = s1;
    stats[2 * c + 1] = s2;
  }
  stats[2 * a.c] = double(a.n * a.s);
}

void batch_norm_grad_stats(const BatchNormArgs& a, const float* x, const float* dy, const float* y,
                           const float* save_mean, const float* save_invstd, double* stats,
                           float* dgamma, float* dbeta) {
  for (int64_t c = 0; c < a.c; ++c) {
    double sum_g = 0, sum_gx = 0;
    for (int64_t i = 0; i < a.n; ++i)
      for (int64_t j = 0; j < a.s; ++j) {
        const size_t o = size_t((i * a.c + c) * a.s + j);
        const double g = a.relu && !(y[o] > 0) ? 0.0 : double(dy[o]);
        sum_g += g;
        sum_gx += g * (x[o] - double(save_mean[c]));
      }
    stats[2 * c] = sum_g;
    stats[2 * c + 1] = sum_gx;
    if (dgamma) dgamma[c] = float(dgamma[c] + sum_gx * save_invstd[c]);
    if (dbeta) dbeta[c] = float(dbeta[c] + sum_g);
  }
  stats[2 * a.c] = double(a.n * a.s);
}

void layer_norm_forward(int64_t rows, int64_t d, float eps, const float* x, const float* gamma,
                        const float* beta, float* y, float* save_mean, float* save_invstd) {
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < d; ++j) mean += x[r * d + j];
    mean /= double(d);
    for (int64_t j = 0; j < d; ++j) var += std::pow(x[r * d + j] - mean, 2);
    var /= double(d);
    const double invstd = 1.0 / std::sqrt(var + eps);
    save_mean[r] = float(mean);
    save_invstd[r] = float(invstd);
    for (int64_t j = 0; j < d; ++j)
      y[r * d + j] =
          float((x[r * d + j] - mean) * invstd * (gamma ? gamma[j] : 1.0) + (beta ? beta[j] : 0.0));
  }
}

}  // namespace axon::ref
