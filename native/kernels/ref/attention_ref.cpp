// Naive twins of attention_forward and attention_backward: the textbook composition, one
// query at a time in double, with every score of the row materialised (softmax, then the
// weighted sum; the backward through the softmax's Jacobian). Tested against the tiled kernel
// in native/tests/test_attention.cpp.
#include <cmath>
#include <limits>
#include <vector>

#include "axon/random_hash.h"
#include "axon/ref.h"

namespace axon::ref {

namespace {
// The weights of query i of head bh after softmax and dropout, and before dropout; false when
// the query sees no key.
bool weights(const AttentionArgs& a, int64_t bh, int64_t i, std::vector<double>& p,
             std::vector<double>& kept) {
  const int64_t b = bh / a.heads, h = bh % a.heads;
  const float* q = a.q + (bh * a.lq + i) * a.d;
  const double minus_inf = -std::numeric_limits<double>::infinity();
  double m = minus_inf;
  for (int64_t j = 0; j < a.lk; ++j) {
    double s = minus_inf;
    if (!a.causal || j <= i) {
      const float* k = a.k + (bh * a.lk + j) * a.d;
      double dot = 0;
      for (int64_t c = 0; c < a.d; ++c) dot += double(q[c]) * double(k[c]);
      s = double(a.scale) * dot;
      if (a.mask)
        s += double(a.mask[b * a.mask_stride_b + h * a.mask_stride_h + i * a.mask_stride_q + j]);
    }
    p[j] = s;
    if (s > m) m = s;
  }
  if (m == minus_inf) return false;
  double sum = 0;
  for (int64_t j = 0; j < a.lk; ++j) sum += p[j] = std::exp(p[j] - m);
  const uint64_t base = mix64(a.seed);
  const uint64_t threshold = dropout_threshold(a.dropout);
  for (int64_t j = 0; j < a.lk; ++j) {
    p[j] /= sum;
    kept[j] = p[j];
    if (a.dropout > 0) {
      const uint64_t index = static_cast<uint64_t>((bh * a.lq + i) * a.lk + j);
      kept[j] = dropout_keep(base, index, threshold) ? p[j] / (1.0 - double(a.dropout)) : 0.0;
    }
  }
  return true;
}
}  // namespace

void attention_forward(const AttentionArgs& a, float* o, float* lse) {
  std::vector<double> p(size_t(a.lk)), kept(size_t(a.lk));
  for (int64_t bh = 0; bh < a.batch * a.heads; ++bh)
    for (int64_t i = 0; i < a.lq; ++i) {
      float* out = o + (bh * a.lq + i) * a.dv;
      if (!weights(a, bh, i, p, kept)) {
        for (int64_t c = 0; c < a.dv; ++c) out[c] = 0.0f;
        lse[bh * a.lq + i] = std::numeric_limits<float>::infinity();
        continue;
      }
      for (int64_t c = 0; c < a.dv; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < a.lk; ++j) acc += kept[j] * double(a.v[(bh * a.lk + j) * a.dv + c]);
        out[c] = static_cast<float>(acc);
      }
      // log sum_j exp(s_j), recomputed from the definition rather than the kernel's m + log l.
      const int64_t b = bh / a.heads, h = bh % a.heads;
      double sum = 0;
      for (int64_t j = 0; j < a.lk && (!a.causal || j <= i); ++j) {
        double dot = 0;
        for (int64_t c = 0; c < a.d; ++c)
          dot += double(a.q[(bh * a.lq + i) * a.d + c]) * double(a.k[(bh * a.lk + j) * a.d + c]);
        double s = double(a.scale) * dot;
        if (a.mask)
          s += double(a.mask[b * a.mask_stride_b + h * a.mask_stride_h + i * a.mask_stride_q + j]);
        sum += std::exp(s);
      }
      lse[bh * a.lq + i] = static_cast<float>(std::log(sum));
    }
}

void attention_backward(const AttentionArgs& a, const float* /*o*/, const float* /*lse*/,
                        const float* d_o, float* dq, float* dk, float* dv) {
  const int64_t nh = a.batch * a.heads;
  std::vector<double> gq(size_t(nh * a.lq * a.d)), gk(size_t(nh * a.lk * a.d)),
      gv(size_t(nh * a.lk * a.dv));
  std::vector<double> p(size_t(a.lk)), kept(size_t(a.lk)), dp(size_t(a.lk));
  for (int64_t bh = 0; bh < nh; ++bh)
    for (int64_t i = 0; i < a.lq; ++i) {
      if (!weights(a, bh, i, p, kept)) continue;
      const float* g = d_o + (bh * a.lq + i) * a.dv;
      // d kept_j = dO . v_j; through dropout: d p_j = d kept_j * kept_j / p_j.
      double delta = 0;
      for (int64_t j = 0; j < a.lk; ++j) {
        const float* v = a.v + (bh * a.lk + j) * a.dv;
        double dkept = 0;
        for (int64_t c = 0; c < a.dv; ++c) {
          dkept += double(g[c]) * double(v[c]);
          gv[size_t((bh * a.lk + j) * a.dv + c)] += kept[j] * double(g[c]);
        }
        dp[j] = p[j] > 0 ? dkept * kept[j] / p[j] : 0.0;
        delta += p[j] * dp[j];
      }
      // Softmax's Jacobian: ds_j = p_j (dp_j - sum_k p_k dp_k).
      for (int64_t j = 0; j < a.lk; ++j) {
        const double ds = p[j] * (dp[j] - delta) * double(a.scale);
        for (int64_t c = 0; c < a.d; ++c) {
          gq[size_t((bh * a.lq + i) * a.d + c)] += ds * double(a.k[(bh * a.lk + j) * a.d + c]);
          gk[size_t((bh * a.lk + j) * a.d + c)] += ds * double(a.q[(bh * a.lq + i) * a.d + c]);
        }
      }
    }
  for (size_t x = 0; x < gq.size(); ++x) dq[x] = static_cast<float>(gq[x]);
  for (size_t x = 0; x < gk.size(); ++x) dk[x] = static_cast<float>(gk[x]);
  for (size_t x = 0; x < gv.size(); ++x) dv[x] = static_cast<float>(gv[x]);
}

}  // namespace axon::ref
