// Reductions and softmax over the middle axis of x viewed as (outer, r, inner), forward next
// to backward (compiled once per SIMD level; the dispatch layer threads them).
//   reduce:           out (outer, inner) = sum/mean/max/min over r
//   softmax_forward:  y (outer, r, inner) = softmax or log-softmax over r
//   softmax_backward: dx (outer, r, inner) += ..., reading y and dy
// Sums accumulate in blocks (float vectors within a block, the block totals in double or in a
// second float level), so a sum over 10^6 elements keeps about 6 significant digits.
#include <cmath>
#include <limits>

#include "simd/isa.h"
#include "simd/vmath.h"
#include "isa_kernels.h"

namespace axon::cpu::AXON_ISA_NS {

using namespace simd;

namespace {

constexpr int64_t kTile = 512;         // inner-axis tile held in stack buffers
constexpr int64_t kBlockRows = 128;    // rows summed in float before joining the total
constexpr int64_t kBlockElems = 4096;  // contiguous elements summed in float vectors

// NaN-propagating vector max/min: once a lane is NaN it stays NaN.
inline VecF max_nan(VecF acc, VecF v) { return select(is_nan(acc), acc, max(acc, v)); }
inline VecF min_nan(VecF acc, VecF v) { return select(is_nan(acc), acc, min(acc, v)); }

// Sum of n contiguous floats, blocked (see file comment).
double sum_contiguous(const float* x, int64_t n) {
  double total = 0;
  for (int64_t b = 0; b < n; b += kBlockElems) {
    const int64_t len = n - b < kBlockElems ? n - b : kBlockElems;
    const float* p = x + b;
    VecF a0 = zero(), a1 = zero(), a2 = zero(), a3 = zero();
    int64_t i = 0;
    for (; i + 4 * kWidth <= len; i += 4 * kWidth) {
      a0 = add(a0, load(p + i));
      a1 = add(a1, load(p + i + kWidth));
      a2 = add(a2, load(p + i + 2 * kWidth));
      a3 = add(a3, load(p + i + 3 * kWidth));
    }
    for (; i + kWidth <= len; i += kWidth) a0 = add(a0, load(p + i));
    if (i < len) a1 = add(a1, load_partial(p + i, static_cast<int>(len - i)));
    total += reduce_add(add(add(a0, a1), add(a2, a3)));
  }
  return total;
}

// Max (or min) of n >= 1 contiguous floats; NaN if any is NaN.
float extreme_contiguous(const float* x, int64_t n, bool is_max) {
  const float init =
      is_max ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  VecF acc = set1(init);
  Mask nan = is_nan(zero());
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) {
    const VecF v = load(x + i);
    nan = mask_or(nan, is_nan(v));
    acc = is_max ? max(acc, v) : min(acc, v);
  }
  if (i < n) {
    const int rest = static_cast<int>(n - i);
    // Lanes past the end take the identity value.
    alignas(64) float lanes[kWidth];
    store(lanes, set1(init));
    for (int l = 0; l < rest; ++l) lanes[l] = x[i + l];
    const VecF v = load(lanes);
    nan = mask_or(nan, is_nan(v));
    acc = is_max ? max(acc, v) : min(acc, v);
  }
  if (any(nan)) return std::numeric_limits<float>::quiet_NaN();
  return is_max ? reduce_max(acc) : reduce_min(acc);
}

// out[i] (len) = op over j of x[j * inner + i], for one outer slice and one inner tile.
void reduce_strided_tile(ReduceOp op, const float* x, float* out, int64_t r, int64_t inner,
                         int64_t len) {
  if (op == ReduceOp::Max || op == ReduceOp::Min) {
    const bool is_max = op == ReduceOp::Max;
    const float init =
        is_max ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < len; ++i) out[i] = init;
    for (int64_t j = 0; j < r; ++j) {
      const float* row = x + j * inner;
      int64_t i = 0;
      auto step = [&](int64_t at, int w) {
        const VecF acc = load_partial(out + at, w), v = load_partial(row + at, w);
        store_partial(out + at, is_max ? max_nan(acc, v) : min_nan(acc, v), w);
      };
      for (; i + kWidth <= len; i += kWidth) step(i, kWidth);
      if (i < len) step(i, static_cast<int>(len - i));
    }
    return;
  }
  alignas(64) float total[kTile];
  alignas(64) float block[kTile];
  for (int64_t i = 0; i < len; ++i) total[i] = 0.0f;
  for (int64_t j0 = 0; j0 < r; j0 += kBlockRows) {
    const int64_t j1 = r - j0 < kBlockRows ? r : j0 + kBlockRows;
    for (int64_t i = 0; i < len; ++i) block[i] = 0.0f;
    for (int64_t j = j0; j < j1; ++j) {
      const float* row = x + j * inner;
      int64_t i = 0;
      for (; i + kWidth <= len; i += kWidth) store(block + i, add(load(block + i), load(row + i)));
      for (; i < len; ++i) block[i] += row[i];
    }
    for (int64_t i = 0; i < len; ++i) total[i] += block[i];
  }
  const float scale = op == ReduceOp::Mean ? (r > 0 ? 1.0f / static_cast<float>(r)
                                                    : std::numeric_limits<float>::quiet_NaN())
                                           : 1.0f;
  for (int64_t i = 0; i < len; ++i) out[i] = total[i] * scale;
}

}  // namespace

void reduce(ReduceOp op, const float* x, float* out, int64_t outer, int64_t r, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o) {
    const float* xo = x + o * r * inner;
    float* oo = out + o * inner;
    if (inner == 1) {
      switch (op) {
        case ReduceOp::Sum:
          *oo = static_cast<float>(sum_contiguous(xo, r));
          break;
        case ReduceOp::Mean:
          *oo = r > 0 ? static_cast<float>(sum_contiguous(xo, r) / static_cast<double>(r))
                      : std::numeric_limits<float>::quiet_NaN();
          break;
        case ReduceOp::Max:
        case ReduceOp::Min:
          *oo = r > 0 ? extreme_contiguous(xo, r, op == ReduceOp::Max)
                      : (op == ReduceOp::Max ? -std::numeric_limits<float>::infinity()
                                             : std::numeric_limits<float>::infinity());
          break;
        case ReduceOp::Count:
          break;
      }
      continue;
    }
    for (int64_t i0 = 0; i0 < inner; i0 += kTile) {
      const int64_t len = inner - i0 < kTile ? inner - i0 : kTile;
      reduce_strided_tile(op, xo + i0, oo + i0, r, inner, len);
    }
  }
}

void softmax_forward(const float* x, float* y, int64_t outer, int64_t r, int64_t inner, bool log) {
  if (r == 0) return;
  for (int64_t o = 0; o < outer; ++o) {
    const float* xo = x + o * r * inner;
    float* yo = y + o * r * inner;
    if (inner == 1) {
      const float mx = extreme_contiguous(xo, r, true);
      const VecF vmx = set1(mx);
      // The normaliser is summed like sum_contiguous: float vectors within blocks of
      // kBlockRows vectors, block totals in double (one float running sum lost ~sqrt(r) ulp:
      // 3e-5 relative at r = 50000 on the scalar level).
      VecF acc = zero();
      double total = 0;
      int64_t j = 0;
      for (int64_t steps = 1; j + kWidth <= r; j += kWidth, ++steps) {
        const VecF e = exp(sub(load(xo + j), vmx));
        if (!log) store(yo + j, e);
        acc = add(acc, e);
        if (steps % kBlockRows == 0) total += reduce_add(acc), acc = zero();
      }
      total += reduce_add(acc);
      for (; j < r; ++j) {
        float e;
        store_partial(&e, exp(sub(load_partial(xo + j, 1), vmx)), 1);
        if (!log) yo[j] = e;
        total += e;
      }
      const float sum = static_cast<float>(total);
      if (log) {
        float lse;
        store_partial(&lse, simd::log(set1(sum)), 1);
        const VecF vlse = set1(lse);
        j = 0;
        for (; j + kWidth <= r; j += kWidth) store(yo + j, sub(sub(load(xo + j), vmx), vlse));
        for (; j < r; ++j) yo[j] = (xo[j] - mx) - lse;
      } else {
        const VecF inv = set1(1.0f / sum);
        j = 0;
        for (; j + kWidth <= r; j += kWidth) store(yo + j, mul(load(yo + j), inv));
        for (; j < r; ++j) yo[j] *= 1.0f / sum;
      }
      continue;
    }
    for (int64_t i0 = 0; i0 < inner; i0 += kTile) {
      const int64_t len = inner - i0 < kTile ? inner - i0 : kTile;
      alignas(64) float mx[kTile];
      alignas(64) float sum[kTile];
      reduce_strided_tile(ReduceOp::Max, xo + i0, mx, r, inner, len);
      // Float sums over blocks of kBlockRows rows, block totals in double (see above).
      double total[kTile];
      for (int64_t i = 0; i < len; ++i) sum[i] = 0.0f, total[i] = 0.0;
      for (int64_t j = 0; j < r; ++j) {
        if (j % kBlockRows == 0)
          for (int64_t i = 0; i < len; ++i) total[i] += sum[i], sum[i] = 0.0f;
        const float* xr = xo + j * inner + i0;
        float* yr = yo + j * inner + i0;
        int64_t i = 0;
        auto step = [&](int64_t at, int w) {
          const VecF e = exp(sub(load_partial(xr + at, w), load_partial(mx + at, w)));
          if (!log) store_partial(yr + at, e, w);
          store_partial(sum + at, add(load_partial(sum + at, w), e), w);
        };
        for (; i + kWidth <= len; i += kWidth) step(i, kWidth);
        if (i < len) step(i, static_cast<int>(len - i));
      }
      for (int64_t i = 0; i < len; ++i) sum[i] = static_cast<float>(total[i] + sum[i]);
      if (log) {
        alignas(64) float lse[kTile];
        int64_t i = 0;
        for (; i + kWidth <= len; i += kWidth) store(lse + i, simd::log(load(sum + i)));
        if (i < len) {
          const int w = static_cast<int>(len - i);
          store_partial(lse + i, simd::log(load_partial(sum + i, w)), w);
        }
        for (int64_t j = 0; j < r; ++j)
          for (int64_t k = 0; k < len; ++k)
            yo[j * inner + i0 + k] = (xo[j * inner + i0 + k] - mx[k]) - lse[k];
      } else {
        for (int64_t k = 0; k < len; ++k) sum[k] = 1.0f / sum[k];
        for (int64_t j = 0; j < r; ++j) {
          float* yr = yo + j * inner + i0;
          int64_t k = 0;
          for (; k + kWidth <= len; k += kWidth) store(yr + k, mul(load(yr + k), load(sum + k)));
          for (; k < len; ++k) yr[k] *= sum[k];
        }
      }
    }
  }
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t r,
                      int64_t inner, bool log) {
  for (int64_t o = 0; o < outer; ++o) {
    const float* yo = y + o * r * inner;
    const float* go = dy + o * r * inner;
    float* dxo = dx + o * r * inner;
    for (int64_t i0 = 0; i0 < inner; i0 += kTile) {
      const int64_t len = inner - i0 < kTile ? inner - i0 : kTile;
      // s[i] = sum_j dy (log) or sum_j dy * y (softmax)
      alignas(64) float s[kTile];
      for (int64_t k = 0; k < len; ++k) s[k] = 0.0f;
      if (inner == 1) {
        // Blocked like the forward normaliser: float vectors, block totals in double.
        VecF acc = zero();
        double total = 0;
        int64_t j = 0;
        for (int64_t steps = 1; j + kWidth <= r; j += kWidth, ++steps) {
          const VecF g = load(go + j);
          acc = log ? add(acc, g) : fmadd(g, load(yo + j), acc);
          if (steps % kBlockRows == 0) total += reduce_add(acc), acc = zero();
        }
        total += reduce_add(acc);
        for (; j < r; ++j) total += log ? go[j] : go[j] * yo[j];
        s[0] = static_cast<float>(total);
        const VecF vs = set1(s[0]);
        j = 0;
        auto step = [&](int64_t at, int w) {
          const VecF yv = load_partial(yo + at, w), g = load_partial(go + at, w);
          const VecF d = log ? fnmadd(exp(yv), vs, g) : mul(yv, sub(g, vs));
          store_partial(dxo + at, add(load_partial(dxo + at, w), d), w);
        };
        for (; j + kWidth <= r; j += kWidth) step(j, kWidth);
        if (j < r) step(j, static_cast<int>(r - j));
        continue;
      }
      // A scalar loop: accumulate in double directly.
      double total[kTile];
      for (int64_t k = 0; k < len; ++k) total[k] = 0.0;
      for (int64_t j = 0; j < r; ++j)
        for (int64_t k = 0; k < len; ++k) {
          const int64_t at = j * inner + i0 + k;
          total[k] += log ? go[at] : go[at] * yo[at];
        }
      for (int64_t k = 0; k < len; ++k) s[k] = static_cast<float>(total[k]);
      for (int64_t j = 0; j < r; ++j) {
        const int64_t base = j * inner + i0;
        int64_t k = 0;
        auto step = [&](int64_t at, int w) {
          const VecF yv = load_partial(yo + base + at, w), g = load_partial(go + base + at, w);
          const VecF vs = load_partial(s + at, w);
          const VecF d = log ? fnmadd(exp(yv), vs, g) : mul(yv, sub(g, vs));
          store_partial(dxo + base + at, add(load_partial(dxo + base + at, w), d), w);
        };
        for (; k + kWidth <= len; k += kWidth) step(k, kWidth);
        if (k < len) step(k, static_cast<int>(len - k));
      }
    }
  }
}

}  // namespace axon::cpu::AXON_ISA_NS
