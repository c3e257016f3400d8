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

}  // namespace axon::binding
