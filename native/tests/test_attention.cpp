// attention_forward and attention_backward (tiled, online softmax) against their naive twins
// (axon/ref.h: every score materialised, double): sequence lengths around the 64-query and
// 128-key blocks and below a vector, head sizes that are not vector multiples, dv != d,
// lq != lk, causal, additive masks broadcast over heads or rows (key padding) with -inf
// entries and fully masked queries, dropout redrawn by the backward. Run on every SIMD level
// with 1 and 2 threads by the test runner.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "axon/kernels.h"
#include "axon/ref.h"
#include "check.h"

using namespace axon;
using axon::test::random_vector;

namespace {

struct Case {
  int64_t batch, heads, lq, lk, d, dv;
  bool causal;
  int mask;  // 0 none, 1 per head (b, h, i, j), 2 key padding (b, j) with -inf, 3 shared (i, j)
  float dropout;
};

std::string describe(const Case& c) {
  return "b=" + std::to_string(c.batch) + " h=" + std::to_string(c.heads) +
         " lq=" + std::to_string(c.lq) + " lk=" + std::to_string(c.lk) +
         " d=" + std::to_string(c.d) + " dv=" + std::to_string(c.dv) + (c.causal ? " causal" : "") +
         " mask=" + std::to_string(c.mask) + " dropout=" + std::to_string(c.dropout);
}

void run_case(const Case& c, uint32_t seed) {
  const int64_t nh = c.batch * c.heads;
  const std::vector<float> q = random_vector(size_t(nh * c.lq * c.d), seed, -1.5f, 1.5f);
  const std::vector<float> k = random_vector(size_t(nh * c.lk * c.d), seed + 1, -1.5f, 1.5f);
  const std::vector<float> v = random_vector(size_t(nh * c.lk * c.dv), seed + 2);
  const std::vector<float> d_o = random_vector(size_t(nh * c.lq * c.dv), seed + 3);
  std::vector<float> mask;
  AttentionArgs a;
  a.batch = c.batch, a.heads = c.heads, a.lq = c.lq, a.lk = c.lk, a.d = c.d, a.dv = c.dv;
  a.scale = 1.0f / std::sqrt(float(c.d));
  a.causal = c.causal;
  a.q = q.data(), a.k = k.data(), a.v = v.data();
  a.dropout = c.dropout;
  a.seed = 0x1234567890ull + seed;
  const float minus_inf = -std::numeric_limits<float>::infinity();
  if (c.mask == 1) {
    mask = random_vector(size_t(nh * c.lq * c.lk), seed + 4, -2.0f, 2.0f);
    a.mask_stride_b = c.heads * c.lq * c.lk, a.mask_stride_h = c.lq * c.lk, a.mask_stride_q = c.lk;
  } else if (c.mask == 2) {
    // Batch row b hides its last b*3 keys; the last row hides all of them when lk is small.
    mask.assign(size_t(c.batch * c.lk), 0.0f);
    for (int64_t b = 0; b < c.batch; ++b)
      for (int64_t j = 0; j < c.lk; ++j)
        if (j >= c.lk - b * 3) mask[size_t(b * c.lk + j)] = minus_inf;
    a.mask_stride_b = c.lk;
  } else if (c.mask == 3) {
    mask = random_vector(size_t(c.lq * c.lk), seed + 4, -2.0f, 2.0f);
    for (int64_t i = 0; i < c.lq; i += 3) mask[size_t(i * c.lk + (i % c.lk))] = minus_inf;
    a.mask_stride_q = c.lk;
  }
  if (c.mask) a.mask = mask.data();

  const std::string what = describe(c);
  std::vector<float> o(size_t(nh * c.lq * c.dv), 7.0f), lse(size_t(nh * c.lq), 7.0f);
  std::vector<float> o_ref(o.size()), lse_ref(lse.size());
  attention_forward(a, o.data(), lse.data());
  ref::attention_forward(a, o_ref.data(), lse_ref.data());
  CHECK_CLOSE(o.data(), o_ref.data(), o.size(), 2e-5, 2e-4, what + " output");
  for (size_t i = 0; i < lse.size(); ++i) {
    if (std::isinf(lse_ref[i])) {
      CHECK_MSG(lse[i] == lse_ref[i], what + " lse of a query that sees no key");
      lse[i] = lse_ref[i] = 0.0f;  // compared above; keep inf out of CHECK_CLOSE
    }
  }
  CHECK_CLOSE(lse.data(), lse_ref.data(), lse.size(), 2e-5, 2e-5, what + " lse");
  attention_forward(a, o_ref.data(), lse_ref.data());  // lse again, unedited, for the backward

  std::vector<float> dq(q.size(), 7.0f), dk(k.size(), 7.0f), dv(v.size(), 7.0f);
  std::vector<float> dq_ref(q.size()), dk_ref(k.size()), dv_ref(v.size());
  attention_backward(a, o_ref.data(), lse_ref.data(), d_o.data(), dq.data(), dk.data(), dv.data());
  ref::attention_backward(a, o_ref.data(), lse_ref.data(), d_o.data(), dq_ref.data(), dk_ref.data(),
                          dv_ref.data());
  CHECK_CLOSE(dq.data(), dq_ref.data(), dq.size(), 5e-5, 5e-4, what + " dq");
  CHECK_CLOSE(dk.data(), dk_ref.data(), dk.size(), 5e-5, 5e-4, what + " dk");
  CHECK_CLOSE(dv.data(), dv_ref.data(), dv.size(), 5e-5, 5e-4, what + " dv");
}

}  // namespace

TEST(attention_matches_ref_on_awkward_sizes) {
  uint32_t seed = 11;
  const Case cases[] = {
      {1, 1, 1, 1, 1, 1, false, 0, 0.0f},      {2, 3, 5, 7, 3, 5, false, 0, 0.0f},
      {1, 2, 17, 17, 16, 16, true, 0, 0.0f},   {1, 1, 64, 128, 64, 64, false, 0, 0.0f},
      {1, 1, 65, 129, 33, 31, false, 0, 0.0f}, {2, 2, 130, 130, 24, 24, true, 0, 0.0f},
      {1, 1, 200, 70, 8, 40, true, 0, 0.0f},   {3, 2, 19, 300, 20, 20, false, 0, 0.0f},
      {2, 3, 37, 45, 12, 9, false, 1, 0.0f},   {4, 2, 33, 10, 16, 16, false, 2, 0.0f},
      {2, 2, 70, 150, 16, 16, true, 3, 0.0f},  {2, 2, 70, 150, 16, 16, false, 2, 0.0f},
      {1, 2, 40, 40, 16, 16, false, 0, 0.3f},  {2, 1, 129, 131, 8, 12, true, 1, 0.5f},
      {0, 2, 5, 5, 4, 4, false, 0, 0.0f},      {1, 1, 3, 0, 4, 4, false, 0, 0.0f},
  };
  for (const Case& c : cases) run_case(c, seed += 10);
}

// Long sequences: the tiled kernel's memory does not grow with lq x lk, and causal queries near
// the start (one or two visible keys) stay exact when the sequence spans many blocks.
TEST(attention_long_causal_sequence) { run_case({1, 1, 600, 600, 16, 16, true, 0, 0.0f}, 3); }
