// Batch normalisation's building blocks over one contiguous run of a channel, compiled once
// per SIMD level. norm.cpp threads over channels and walks each channel's runs (one per batch
// row); these make each run one streaming pass at vector width. The scalar double loops they
// replace ran at 9-17 GB/s, a fifth of what the data's cache level delivers, and batch norm
// was a fifth of a ResNet step.
//
// Sums are taken in float lanes over runs of at most kRunBlock values, then added into double,
// so the accumulated rounding error stays that of a few hundred float additions whatever the
// channel's size. Values are taken about a caller's shift near the mean (moments) or about the
// mean itself (gradients), so no large offset cancels.
#include <cstdint>

#include "simd/isa.h"
// after simd/isa.h, which names this level's namespace
#include "isa_kernels.h"

namespace axon::cpu::AXON_ISA_NS {

using namespace simd;

namespace {
constexpr int64_t kRunBlock = 4096;

// The vector of lanes that pass the relu gate: dy where y > 0 (y null: every lane).
inline VecF gated(VecF dy, const float* y, int64_t i, int w) {
  if (!y) return dy;
  return select(gt(load_partial(y + i, w), zero()), dy, zero());
}
}  // namespace

void norm_moments(const float* x, int64_t n, float shift, double* sums) {
  const VecF s = set1(shift);
  for (int64_t b = 0; b < n; b += kRunBlock) {
    const int64_t len = n - b < kRunBlock ? n - b : kRunBlock;
    const float* p = x + b;
    VecF s0 = zero(), s1 = zero(), q0 = zero(), q1 = zero();
    int64_t i = 0;
    for (; i + 2 * kWidth <= len; i += 2 * kWidth) {
      const VecF d0 = sub(load(p + i), s), d1 = sub(load(p + i + kWidth), s);
      s0 = add(s0, d0);
      s1 = add(s1, d1);
      q0 = fmadd(d0, d0, q0);
      q1 = fmadd(d1, d1, q1);
    }
    if (i + kWidth <= len) {
      const VecF d = sub(load(p + i), s);
      s0 = add(s0, d);
      q0 = fmadd(d, d, q0);
      i += kWidth;
    }
    double tail_s = 0, tail_q = 0;  // a partial vector's missing lanes would count as -shift
    for (; i < len; ++i) {
      const double d = double(p[i]) - double(shift);
      tail_s += d;
      tail_q += d * d;
    }
    sums[0] += double(reduce_add(add(s0, s1))) + tail_s;
    sums[1] += double(reduce_add(add(q0, q1))) + tail_q;
  }
}

void norm_apply(const float* x, const float* r, float* y, int64_t n, float mean, float scale,
                float beta, bool relu) {
  const VecF m = set1(mean), k = set1(scale), b = set1(beta);
  // max(0, v) keeps a NaN (x86's rule returns the second operand), as the relu kernel does.
  auto one = [&](int64_t i, int w) {
    VecF v = fmadd(sub(load_partial(x + i, w), m), k, b);
    if (r) v = add(v, load_partial(r + i, w));
    if (relu) v = max(zero(), v);
    store_partial(y + i, v, w);
  };
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) one(i, kWidth);
  if (i < n) one(i, static_cast<int>(n - i));
}

void norm_grad_sums(const float* x, const float* dy, const float* y, int64_t n, float mean,
                    double* sums) {
  const VecF m = set1(mean);
  for (int64_t b = 0; b < n; b += kRunBlock) {
    const int64_t len = n - b < kRunBlock ? n - b : kRunBlock;
    VecF g0 = zero(), g1 = zero(), h0 = zero(), h1 = zero();
    int64_t i = b;
    for (; i + 2 * kWidth <= b + len; i += 2 * kWidth) {
      const VecF a0 = gated(load(dy + i), y, i, kWidth);
      const VecF a1 = gated(load(dy + i + kWidth), y, i + kWidth, kWidth);
      g0 = add(g0, a0);
      g1 = add(g1, a1);
      h0 = fmadd(a0, sub(load(x + i), m), h0);
      h1 = fmadd(a1, sub(load(x + i + kWidth), m), h1);
    }
    for (; i < b + len; i += kWidth) {
      const int w = b + len - i < kWidth ? static_cast<int>(b + len - i) : kWidth;
      const VecF a = gated(load_partial(dy + i, w), y, i, w);  // masked lanes load 0: a = 0
      g0 = add(g0, a);
      h0 = fmadd(a, sub(load_partial(x + i, w), m), h0);
    }
    sums[0] += reduce_add(add(g0, g1));
    sums[1] += reduce_add(add(h0, h1));
  }
}

void norm_grad_apply(const float* x, const float* dy, const float* y, int64_t n, float mean,
                     float a, float b, float c, float* dx, bool overwrite, float* dr) {
  const VecF m = set1(mean), va = set1(a), vb = set1(b), vc = set1(c);
  auto one = [&](int64_t i, int w) {
    const VecF g = gated(load_partial(dy + i, w), y, i, w);
    if (dr) store_partial(dr + i, g, w);
    if (!dx) return;
    VecF v = fmadd(va, g, fmadd(vb, sub(load_partial(x + i, w), m), vc));
    if (!overwrite) v = add(v, load_partial(dx + i, w));
    store_partial(dx + i, v, w);
  };
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) one(i, kWidth);
  if (i < n) one(i, static_cast<int>(n - i));
}

// ---- layer norm: one row of d features at a time

void layer_norm_row(const float* x, int64_t d, float mean, float invstd, const float* gamma,
                    const float* beta, float* y) {
  const VecF m = set1(mean), s = set1(invstd);
  auto one = [&](int64_t i, int w) {
    VecF v = mul(sub(load_partial(x + i, w), m), s);
    if (gamma) v = mul(v, load_partial(gamma + i, w));
    if (beta) v = add(v, load_partial(beta + i, w));
    store_partial(y + i, v, w);
  };
  int64_t i = 0;
  for (; i + kWidth <= d; i += kWidth) one(i, kWidth);
  if (i < d) one(i, static_cast<int>(d - i));
}

void layer_norm_grad_sums(const float* x, const float* dy, const float* gamma, int64_t d,
                          float mean, float invstd, double* sums) {
  const VecF m = set1(mean), s = set1(invstd);
  for (int64_t b = 0; b < d; b += kRunBlock) {
    const int64_t end = d - b < kRunBlock ? d : b + kRunBlock;
    VecF g0 = zero(), h0 = zero();
    for (int64_t i = b; i < end; i += kWidth) {
      const int w = end - i < kWidth ? static_cast<int>(end - i) : kWidth;
      VecF gy = load_partial(dy + i, w);
      if (gamma) gy = mul(gy, load_partial(gamma + i, w));
      g0 = add(g0, gy);
      h0 = fmadd(gy, mul(sub(load_partial(x + i, w), m), s), h0);
    }
    float lanes[kWidth];
    store(lanes, g0);
    double a = 0, c = 0;
    for (int l = 0; l < kWidth; ++l) a += lanes[l];
    store(lanes, h0);
    for (int l = 0; l < kWidth; ++l) c += lanes[l];
    sums[0] += a;
    sums[1] += c;
  }
}

void layer_norm_grad_apply(const float* x, const float* dy, const float* gamma, int64_t d,
                           float mean, float invstd, float m1, float m2, float* dx, float* dgamma,
                           float* dbeta) {
  const VecF m = set1(mean), s = set1(invstd), a = set1(m1), c = set1(m2);
  auto one = [&](int64_t i, int w) {
    const VecF g = load_partial(dy + i, w);
    const VecF xhat = mul(sub(load_partial(x + i, w), m), s);
    if (dx) {
      const VecF gy = gamma ? mul(g, load_partial(gamma + i, w)) : g;
      const VecF v = mul(s, sub(sub(gy, a), mul(xhat, c)));
      store_partial(dx + i, add(load_partial(dx + i, w), v), w);
    }
    if (dgamma) store_partial(dgamma + i, fmadd(g, xhat, load_partial(dgamma + i, w)), w);
    if (dbeta) store_partial(dbeta + i, add(g, load_partial(dbeta + i, w)), w);
  };
  int64_t i = 0;
  for (; i + kWidth <= d; i += kWidth) one(i, kWidth);
  if (i < d) one(i, static_cast<int>(d - i));
}

}  // namespace axon::cpu::AXON_ISA_NS
