// Naive twins of the reductions and softmax: double accumulation, one output at a time.
#include <cmath>
#include <limits>
#include <vector>

#include "axon/ref.h"

namespace axon::ref {

void reduce(ReduceOp op, const float* x, float* out, int64_t outer, int64_t r, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* p = x + o * r * inner + i;
      double acc = 0;
      if (op == ReduceOp::Max) acc = -std::numeric_limits<double>::infinity();
      if (op == ReduceOp::Min) acc = std::numeric_limits<double>::infinity();
      bool nan = false;
      for (int64_t j = 0; j < r; ++j) {
        const double v = p[j * inner];
        nan = nan || std::isnan(v);
        if (op == ReduceOp::Sum || op == ReduceOp::Mean) acc += v;
        if (op == ReduceOp::Max && v > acc) acc = v;
        if (op == ReduceOp::Min && v < acc) acc = v;
      }
      if (op == ReduceOp::Mean) acc = r > 0 ? acc / static_cast<double>(r) : NAN;
      if ((op == ReduceOp::Max || op == ReduceOp::Min) && nan) acc = NAN;
      out[o * inner + i] = static_cast<float>(acc);
    }
}

void arg_reduce(ArgReduceOp op, const float* x, int32_t* out, int64_t outer, int64_t r,
                int64_t inner, bool select_last) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* p = x + o * r * inner + i;
      // The extreme value first (NaN above everything), then its first or last position.
      bool nan = false, any = false;
      float ext = 0.0f;
      for (int64_t j = 0; j < r; ++j) {
        const float v = p[j * inner];
        if (std::isnan(v))
          nan = true;
        else if (!any || (op == ArgReduceOp::ArgMax ? v > ext : v < ext))
          ext = v, any = true;
      }
      int64_t best = 0;
      for (int64_t j = 0; j < r; ++j) {
        const float v = p[j * inner];
        const bool hit = nan ? std::isnan(v) : v == ext;
        if (hit) {
          best = j;
          if (!select_last) break;
        }
      }
      out[o * inner + i] = static_cast<int32_t>(best);
    }
}

void reduce_backward(ReduceOp op, const float* x, const float* y, const float* dy, float* dx,
                     int64_t outer, int64_t r, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * r * inner + i;
      const float g = dy[o * inner + i];
      if (op == ReduceOp::Sum || op == ReduceOp::Mean) {
        const double s = op == ReduceOp::Mean ? g / static_cast<double>(r) : g;
        for (int64_t j = 0; j < r; ++j) dx[base + j * inner] += static_cast<float>(s);
        continue;
      }
      const float target = y[o * inner + i];
      for (int64_t j = 0; j < r; ++j) {
        const float v = x[base + j * inner];
        if (v == target || (std::isnan(v) && std::isnan(target))) {
          dx[base + j * inner] += g;
          break;
        }
      }
    }
}

void sum_to_shape(const float* x, const Shape& in, float* out, const Shape& os) {
  const int64_t n_out = os.numel(), n_in = in.numel();
  std::vector<double> acc(static_cast<size_t>(n_out), 0.0);
  std::vector<int64_t> idx(in.ndim, 0);
  for (int64_t flat = 0; flat < n_in; ++flat) {
    int64_t o = 0;
    for (int d = 0; d < in.ndim; ++d) o = o * os.dims[d] + (os.dims[d] == 1 ? 0 : idx[d]);
    acc[o] += x[flat];
    for (int d = in.ndim - 1; d >= 0; --d) {
      if (++idx[d] < in.dims[d]) break;
      idx[d] = 0;
    }
  }
  for (int64_t i = 0; i < n_out; ++i) out[i] = static_cast<float>(acc[i]);
}

void softmax_forward(const float* x, float* y, int64_t outer, int64_t r, int64_t inner, bool log) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * r * inner + i;
      // The max as a compare (NaNs skipped, as fmax does), not an fmax reduction: g++ 12 for
      // aarch64 crashes vectorising that one (internal compiler error in
      // vect_transform_reduction).
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < r; ++j) {
        const double v = x[base + j * inner];
        if (v > mx) mx = v;
      }
      bool nan = false;
      for (int64_t j = 0; j < r; ++j) nan = nan || std::isnan(x[base + j * inner]);
      double sum = 0;
      for (int64_t j = 0; j < r; ++j) sum += std::exp(x[base + j * inner] - mx);
      for (int64_t j = 0; j < r; ++j) {
        const double v = x[base + j * inner] - mx;
        double res = log ? v - std::log(sum) : std::exp(v) / sum;
        if (nan) res = NAN;
        y[base + j * inner] = static_cast<float>(res);
      }
    }
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t r,
                      int64_t inner, bool log) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * r * inner + i;
      double s = 0;
      for (int64_t j = 0; j < r; ++j)
        s += log ? dy[base + j * inner] : double(dy[base + j * inner]) * y[base + j * inner];
      for (int64_t j = 0; j < r; ++j) {
        const int64_t k = base + j * inner;
        const double g = log ? dy[k] - std::exp(double(y[k])) * s : y[k] * (dy[k] - s);
        dx[k] = static_cast<float>(dx[k] + g);
      }
    }
}

}  // namespace axon::ref
