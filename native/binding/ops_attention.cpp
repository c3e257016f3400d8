// The checks and run() of the attention family (native/optable/attention.ops.mjs) that the
// table cannot state: how far the mask's strides reach, the dropout probability, and the seed
// cells the backward reads when it runs (JS-owned data, so checked at parse and before every
// run of a replayed Program).
#include <cmath>

#include "binding_ops.h"

namespace axon::binding {

namespace {

// The mask must hold element (batch-1, heads-1, lq-1, lk-1) at its strides.
template <typename Op>
void check_attention(Args& a, Op& op) {
  const AttentionArgs& g = op.geometry;
  if (!(op.dropout >= 0.0f && op.dropout < 1.0f))
    a.range_error("dropout must be in [0, 1), got " + std::to_string(op.dropout));
  if (!op.has_mask) {
    if (g.mask_stride_b || g.mask_stride_h || g.mask_stride_q)
      a.range_error("mask strides given without a mask");
    return;
  }
  if (g.batch == 0 || g.lq == 0 || g.lk == 0) return;
  // Each product can pass int64 (extents and strides reach 2^40): checked arithmetic.
  const char* what = "the mask's reach";
  const int64_t reach = a.add(a.add(a.mul(g.batch - 1, g.mask_stride_b, what),
                                    a.mul(g.heads - 1, g.mask_stride_h, what), what),
                              a.add(a.mul(g.lq - 1, g.mask_stride_q, what), g.lk, what), what);
  if (op.mask_len < reach)
    a.range_error("mask has " + std::to_string(op.mask_len) + " elements but its strides (" +
                  std::to_string(g.mask_stride_b) + ", " + std::to_string(g.mask_stride_h) + ", " +
                  std::to_string(g.mask_stride_q) + ", 1) over batch " + std::to_string(g.batch) +
                  ", heads " + std::to_string(g.heads) + ", lq " + std::to_string(g.lq) + ", lk " +
                  std::to_string(g.lk) + " reach element " + std::to_string(reach - 1));
}

AttentionArgs attention_args(const AttentionArgs& geometry, const float* q, const float* k,
                             const float* v, const float* mask, float scale, float dropout) {
  AttentionArgs a = geometry;
  a.q = q, a.k = k, a.v = v;
  a.mask = mask;
  a.scale = scale;
  a.dropout = dropout;
  return a;
}

}  // namespace

std::string attention_seed_problem(const double* seed) {
  for (int c = 0; c < AttentionOp::kSeedUsedLength; ++c)
    if (!(seed[c] >= 0 && seed[c] < 4294967296.0 && std::floor(seed[c]) == seed[c]))
      return "seedUsed[" + std::to_string(c) + "] = " + std::to_string(seed[c]) +
             " must be an integer in [0, 2^32)";
  return "";
}

void AttentionOp::check(Args& a, AttentionOp& op) { check_attention(a, op); }
void AttentionBackwardOp::check(Args& a, AttentionBackwardOp& op) { check_attention(a, op); }

void AttentionOp::run_cpu() const {
  AttentionArgs a = attention_args(geometry, q, k, v, mask, scale, dropout);
  // The state advances only when it is drawn from, so attention without dropout leaves a
  // shared stream where it was.
  a.seed = dropout > 0.0f ? stream_seed(state, true) : 0;
  seed_used[kSeedUsedHigh] = static_cast<double>(a.seed >> 32);
  seed_used[kSeedUsedLow] = static_cast<double>(a.seed & 0xFFFFFFFFull);
  attention_forward(a, o, lse);
}

void AttentionBackwardOp::run_cpu() const {
  AttentionArgs a = attention_args(geometry, q, k, v, mask, scale, dropout);
  a.seed = (static_cast<uint64_t>(seed_used[AttentionOp::kSeedUsedHigh]) << 32) |
           static_cast<uint64_t>(seed_used[AttentionOp::kSeedUsedLow]);
  attention_backward(a, o, lse, d_o, dq, dk, dv);
}

// ---- reduced-precision linear layers

namespace {
template <typename Op>
void check_packed_length(Args& a, const Op& op) {
  const int64_t need = lowp_packed_size(LowpFormat(op.format), op.n, op.k);
  if (op.packed_len != need)
    a.range_error("packed has " + std::to_string(op.packed_len) + " words but " +
                  (op.format ? "int8" : "bf16") + " weights of " + std::to_string(op.n) + "x" +
                  std::to_string(op.k) + " pack into " + std::to_string(need) +
                  " (lowpPackedSize)");
}
}  // namespace

// int8 scales come from the largest magnitude: a non-finite weight would make every weight
// of its channel 0 or NaN, so it is refused (bf16 keeps inf and NaN as float32 does).
std::string lowp_weights_problem(int64_t format, const float* w, int64_t n) {
  if (format != 1) return "";
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(w[i]))
      return "w[" + std::to_string(i) + "] = " + std::to_string(w[i]) +
             ": int8 quantisation needs finite weights";
  return "";
}

// The int8 kernel computes acc - 128 * colsum in int32: a column sum lowpPack cannot have
// written (beyond 127 k) would overflow it.
std::string lowp_colsum_problem(int64_t format, const int32_t* colsum, int64_t n, int64_t k) {
  if (format != 1) return "";
  const int64_t limit = 127 * k;
  for (int64_t j = 0; j < n; ++j)
    if (colsum[j] < -limit || colsum[j] > limit)
      return "colsum[" + std::to_string(j) + "] = " + std::to_string(colsum[j]) +
             " is outside +-127*k = " + std::to_string(limit) + " (not written by lowpPack)";
  return "";
}

namespace {
// 255 * 127 * k of products and 128 * 127 * k of correction must fit the int32 sums.
template <typename Op>
void check_int8_depth(Args& a, const Op& op) {
  if (op.format == 1 && op.k > (int64_t{1} << 16))
    a.range_error("int8 weights need k <= 65536 (the int32 sums), got " + std::to_string(op.k));
}
}  // namespace

void LowpPackOp::check(Args& a, LowpPackOp& op) {
  check_int8_depth(a, op);
  check_packed_length(a, op);
}
void LowpLinearOp::check(Args& a, LowpLinearOp& op) {
  check_int8_depth(a, op);
  check_packed_length(a, op);
}

void LowpLinearOp::run_cpu() const {
  LowpWeights w;
  w.format = LowpFormat(format);
  w.n = n, w.k = k;
  w.packed = packed, w.scales = scales, w.colsum = colsum;
  lowp_linear(w, x, m, bias, activation, activation_param, y);
}

}  // namespace axon::binding
