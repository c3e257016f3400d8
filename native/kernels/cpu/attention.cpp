// Scaled dot-product attention, forward and backward, compiled once per SIMD level
// (FlashAttention's algorithm, sized for a CPU's L2 rather than a GPU's shared memory).
//
// Forward, per block of kQueryRows queries of one head: walk the keys in blocks of kKeyCols;
// for each, S = scale * Q K^T (kQueryRows x kKeyCols, 32 KB) by this level's GEMM, add the
// mask, and fold the block into a running softmax: each row keeps its maximum m and its sum
// l of exp(s - m); a new block with a larger maximum rescales the row's accumulated output by
// exp(m_old - m_new) before P V is added. The lq x lk score matrix never exists; memory per
// thread is a block of scores plus a block of output rows, whatever the sequence length.
//
// Backward, per head: rebuild each block's weights from the forward's log-sum-exp
// (P = exp(s - lse)), then dV += P^T dO, dP = dO V^T, dS = P (dP - delta) with
// delta_i = dO_i . O_i, dK += scale dS^T Q, dQ += scale dS K. Key blocks are the outer loop,
// so a block's dK and dV stay in cache while the queries stream past; one task owns a whole
// head, so no two threads add into the same gradient.
//
// Dropout multiplies weight (i, j) by 0 or 1/(1-p), decided by a hash of (seed, index)
// (axon/random_hash.h) that the backward redraws: the normaliser l sums the undropped
// weights (dropout applies to the softmax's output, as in PyTorch), and delta = dO . O still
// holds because O already includes the dropout.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "axon/random_hash.h"
#include "simd/isa.h"
#include "simd/vmath.h"
// after simd/isa.h, which names this level's namespace
#include "isa_kernels.h"

namespace axon::cpu::AXON_ISA_NS {

using namespace simd;

namespace {
// 64 x 128 scores are 32 KB; with a 128-key block of K and V (d = 64: 32 KB each) and the
// 64 output rows they stay within a 1 MB L2 with room for the GEMM's packed panels.
constexpr int64_t kQueryRows = 64;
constexpr int64_t kKeyCols = 128;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr float kPosInf = std::numeric_limits<float>::infinity();

float row_max(const float* x, int64_t n) {
  VecF m = set1(kNegInf);
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) m = max(m, load(x + i));
  float r = kNegInf;
  float lanes[kWidth];
  store(lanes, m);
  for (int l = 0; l < kWidth; ++l) r = std::max(r, lanes[l]);
  for (; i < n; ++i) r = std::max(r, x[i]);
  return r;
}

// x[j] = exp(x[j] - shift) for j < n; returns the sum. exp(-inf) is 0.
float exp_shifted_sum(float* x, int64_t n, float shift) {
  const VecF s = set1(shift);
  VecF acc = zero();
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) {
    const VecF e = simd::exp(sub(load(x + i), s));
    store(x + i, e);
    acc = add(acc, e);
  }
  float lanes[kWidth];
  store(lanes, acc);
  float r = 0.0f;
  for (int l = 0; l < kWidth; ++l) r += lanes[l];
  if (i < n) {
    const int w = static_cast<int>(n - i);
    store_partial(x + i, simd::exp(sub(load_partial(x + i, w), s)), w);
    for (; i < n; ++i) r += x[i];
  }
  return r;
}

void add_rows(float* x, const float* y, int64_t n) {
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) store(x + i, add(load(x + i), load(y + i)));
  for (; i < n; ++i) x[i] += y[i];
}

void scale_row(float* x, int64_t n, float a) {
  const VecF s = set1(a);
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) store(x + i, mul(load(x + i), s));
  for (; i < n; ++i) x[i] *= a;
}

void fill(float* x, int64_t n, float v) {
  for (int64_t i = 0; i < n; ++i) x[i] = v;
}

float dot(const float* x, const float* y, int64_t n) {
  VecF acc = zero();
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) acc = fmadd(load(x + i), load(y + i), acc);
  float lanes[kWidth];
  store(lanes, acc);
  float r = 0.0f;
  for (int l = 0; l < kWidth; ++l) r += lanes[l];
  for (; i < n; ++i) r += x[i] * y[i];
  return r;
}

// Keys of the block [c0, c0 + nc) that query qi sees.
inline int64_t visible_keys(const AttentionArgs& a, int64_t qi, int64_t c0, int64_t nc) {
  if (!a.causal) return nc;
  return std::clamp<int64_t>(qi - c0 + 1, 0, nc);
}

// The additive mask's row for query qi of head bh, from key 0.
inline const float* mask_row(const AttentionArgs& a, int64_t bh, int64_t qi) {
  if (!a.mask) return nullptr;
  const int64_t b = bh / a.heads, h = bh % a.heads;
  return a.mask + b * a.mask_stride_b + h * a.mask_stride_h + qi * a.mask_stride_q;
}

// S (rows x nc, row stride kKeyCols) = scale * Q[rows] K[nc]^T.
void scores(const AttentionArgs& a, const float* q, const float* k, int64_t rows, int64_t nc,
            float* s) {
  GemmArgs g;
  g.trans_b = Trans::Yes;
  g.m = rows;
  g.n = nc;
  g.k = a.d;
  g.alpha = a.scale;
  g.a = q;
  g.lda = a.d;
  g.b = k;
  g.ldb = a.d;
  g.c = s;
  g.ldc = kKeyCols;
  AXON_ISA_NS::gemm(g);  // this level's GEMM (axon::gemm is the active level's)
}

// c (m x n, ldc) += alpha * op(A) op(B).
void gemm_add(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
              int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) {
  GemmArgs g;
  g.trans_a = ta;
  g.trans_b = tb;
  g.m = m;
  g.n = n;
  g.k = k;
  g.alpha = alpha;
  g.a = a;
  g.lda = lda;
  g.b = b;
  g.ldb = ldb;
  g.beta = 1.0f;
  g.c = c;
  g.ldc = ldc;
  AXON_ISA_NS::gemm(g);  // this level's GEMM (axon::gemm is the active level's)
}

struct Dropout {
  bool on = false;
  uint64_t base = 0, threshold = 0;
  float keep_scale = 1.0f;
  explicit Dropout(const AttentionArgs& a) {
    on = a.dropout > 0.0f;
    if (!on) return;
    base = mix64(a.seed);
    threshold = dropout_threshold(a.dropout);
    keep_scale = a.dropout < 1.0f ? 1.0f / (1.0f - a.dropout) : 0.0f;
  }
  // 0 or 1/(1-p) for weight (bh, qi, kj).
  float factor(const AttentionArgs& a, int64_t bh, int64_t qi, int64_t kj) const {
    const uint64_t index = static_cast<uint64_t>((bh * a.lq + qi) * a.lk + kj);
    return dropout_keep(base, index, threshold) ? keep_scale : 0.0f;
  }
};

void forward_block(const AttentionArgs& a, float* o, float* lse, int64_t bh, int64_t q0,
                   int64_t rows) {
  const int64_t d = a.d, dv = a.dv;
  thread_local std::vector<float> s_buf, acc_buf;
  if (s_buf.size() < size_t(kQueryRows * kKeyCols)) s_buf.resize(kQueryRows * kKeyCols);
  if (acc_buf.size() < size_t(kQueryRows * dv)) acc_buf.resize(size_t(kQueryRows * dv));
  float* s = s_buf.data();
  float* acc = acc_buf.data();
  float m[kQueryRows], l[kQueryRows];
  fill(acc, rows * dv, 0.0f);
  fill(m, rows, kNegInf);
  fill(l, rows, 0.0f);
  const Dropout drop(a);

  const float* q = a.q + (bh * a.lq + q0) * d;
  const float* k = a.k + bh * a.lk * d;
  const float* v = a.v + bh * a.lk * dv;
  // Causal: the block's last query sees keys up to q0 + rows - 1.
  const int64_t key_end = a.causal ? std::min(a.lk, q0 + rows) : a.lk;
  for (int64_t c0 = 0; c0 < key_end; c0 += kKeyCols) {
    const int64_t nc = std::min(kKeyCols, key_end - c0);
    scores(a, q, k + c0 * d, rows, nc, s);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t qi = q0 + r;
      float* row = s + r * kKeyCols;
      const int64_t seen = visible_keys(a, qi, c0, nc);
      if (const float* mr = mask_row(a, bh, qi)) add_rows(row, mr + c0, seen);
      const float m_new = std::max(m[r], seen > 0 ? row_max(row, seen) : kNegInf);
      if (m_new == kNegInf) {  // nothing visible yet: the row adds nothing
        fill(row, nc, 0.0f);
        continue;
      }
      const float rescale = std::exp(m[r] - m_new);  // 0 for the first visible block
      const float sum = exp_shifted_sum(row, seen, m_new);
      fill(row + seen, nc - seen, 0.0f);
      l[r] = l[r] * rescale + sum;
      m[r] = m_new;
      if (rescale != 1.0f) scale_row(acc + r * dv, dv, rescale);
      if (drop.on)
        for (int64_t j = 0; j < seen; ++j) row[j] *= drop.factor(a, bh, qi, c0 + j);
    }
    gemm_add(Trans::No, Trans::No, rows, dv, nc, 1.0f, s, kKeyCols, v + c0 * dv, dv, acc, dv);
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* out = o + (bh * a.lq + q0 + r) * dv;
    const float* in = acc + r * dv;
    if (l[r] > 0.0f) {
      const float inv = 1.0f / l[r];
      for (int64_t c = 0; c < dv; ++c) out[c] = in[c] * inv;
      lse[bh * a.lq + q0 + r] = m[r] + std::log(l[r]);
    } else {
      // No visible key: a zero output, and +inf so the backward's exp(s - lse) is 0.
      fill(out, dv, 0.0f);
      lse[bh * a.lq + q0 + r] = kPosInf;
    }
  }
}
}  // namespace

void attention_forward_rows(const AttentionArgs& a, float* o, float* lse, int64_t bh, int64_t q0,
                            int64_t q1) {
  for (int64_t r0 = q0; r0 < q1; r0 += kQueryRows)
    forward_block(a, o, lse, bh, r0, std::min(kQueryRows, q1 - r0));
}

void attention_backward_head(const AttentionArgs& a, const float* o, const float* lse,
                             const float* d_o, float* dq, float* dk, float* dv, int64_t bh) {
  const int64_t lq = a.lq, lk = a.lk, d = a.d, dvw = a.dv;
  const float* q = a.q + bh * lq * d;
  const float* k = a.k + bh * lk * d;
  const float* v = a.v + bh * lk * dvw;
  o += bh * lq * dvw;
  d_o += bh * lq * dvw;
  lse += bh * lq;
  dq += bh * lq * d;
  dk += bh * lk * d;
  dv += bh * lk * dvw;
  fill(dq, lq * d, 0.0f);
  fill(dk, lk * d, 0.0f);
  fill(dv, lk * dvw, 0.0f);

  thread_local std::vector<float> p_buf, ds_buf, delta_buf;
  if (p_buf.size() < size_t(kQueryRows * kKeyCols)) {
    p_buf.resize(kQueryRows * kKeyCols);
    ds_buf.resize(kQueryRows * kKeyCols);
  }
  if (delta_buf.size() < size_t(lq)) delta_buf.resize(size_t(lq));
  float* p = p_buf.data();
  float* ds = ds_buf.data();
  float* delta = delta_buf.data();
  for (int64_t i = 0; i < lq; ++i) delta[i] = dot(d_o + i * dvw, o + i * dvw, dvw);
  const Dropout drop(a);

  for (int64_t c0 = 0; c0 < lk; c0 += kKeyCols) {
    const int64_t nc = std::min(kKeyCols, lk - c0);
    // Causal: queries before c0 see nothing of this block.
    for (int64_t r0 = a.causal ? c0 : 0; r0 < lq; r0 += kQueryRows) {
      const int64_t rows = std::min(kQueryRows, lq - r0);
      scores(a, q + r0 * d, k + c0 * d, rows, nc, p);
      // dP = dO V^T into ds.
      GemmArgs g;
      g.trans_b = Trans::Yes;
      g.m = rows;
      g.n = nc;
      g.k = dvw;
      g.a = d_o + r0 * dvw;
      g.lda = dvw;
      g.b = v + c0 * dvw;
      g.ldb = dvw;
      g.c = ds;
      g.ldc = kKeyCols;
      AXON_ISA_NS::gemm(g);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t qi = r0 + r;
        float* pr = p + r * kKeyCols;
        float* dr = ds + r * kKeyCols;
        const int64_t seen = visible_keys(a, qi, c0, nc);
        if (const float* mr = mask_row(a, bh, qi)) add_rows(pr, mr + c0, seen);
        exp_shifted_sum(pr, seen, lse[qi]);  // lse = +inf (no visible key): all 0
        fill(pr + seen, nc - seen, 0.0f);
        fill(dr + seen, nc - seen, 0.0f);
        const float di = delta[qi];
        if (drop.on) {
          // dS = P (Z dP - delta); P becomes P Z, the weights dV sees.
          for (int64_t j = 0; j < seen; ++j) {
            const float z = drop.factor(a, bh, qi, c0 + j);
            dr[j] = pr[j] * (z * dr[j] - di);
            pr[j] *= z;
          }
        } else {
          for (int64_t j = 0; j < seen; ++j) dr[j] = pr[j] * (dr[j] - di);
        }
      }
      // dV[c0..] += P^T dO; dK[c0..] += scale dS^T Q; dQ[r0..] += scale dS K.
      gemm_add(Trans::Yes, Trans::No, nc, dvw, rows, 1.0f, p, kKeyCols, d_o + r0 * dvw, dvw,
               dv + c0 * dvw, dvw);
      gemm_add(Trans::Yes, Trans::No, nc, d, rows, a.scale, ds, kKeyCols, q + r0 * d, d,
               dk + c0 * d, d);
      gemm_add(Trans::No, Trans::No, rows, d, nc, a.scale, ds, kKeyCols, k + c0 * d, d, dq + r0 * d,
               d);
    }
  }
}

}  // namespace axon::cpu::AXON_ISA_NS
