// Recurrent cells, forward next to backward (compiled once per SIMD level): the elementwise
// part of one time step, fused into one pass over the gates. The matrix products around them
// (all input projections at once, the per-step hidden projection) are GEMMs in rnn.cpp.
// Gate layouts are PyTorch's: LSTM (i, f, g, o), GRU (r, z, n) with the reset gate applied to
// the hidden projection (n = tanh(gx_n + r * gh_n)).
//
// `active` (one byte per batch row, or null for all) marks rows whose sequence is still
// running at this step: an inactive row keeps its state (h and c copied through) and passes
// its gradient straight back, so padded steps change neither outputs nor gradients.
#include <cstring>

#include "simd/isa.h"
#include "simd/vmath.h"
#include "isa_kernels.h"

namespace axon::cpu::AXON_ISA_NS {

using namespace simd;

namespace {
// Applies f to hidden-sized runs at offset `at` of each of the n rows of width `ld`, for the
// active rows: one loop shape for every gate pass.
template <class F>
inline void rows(int64_t n, int64_t hidden, const uint8_t* active, F f) {
  for (int64_t r = 0; r < n; ++r) {
    if (active && !active[r]) continue;
    int64_t j = 0;
    for (; j + kWidth <= hidden; j += kWidth) f(r, j, kWidth);
    if (j < hidden) f(r, j, static_cast<int>(hidden - j));
  }
}
inline VecF ld(const float* p, int w) { return w == kWidth ? load(p) : load_partial(p, w); }
inline void st(float* p, VecF v, int w) {
  if (w == kWidth)
    store(p, v);
  else
    store_partial(p, v, w);
}
}  // namespace

void lstm_cell_forward(float* gates, const float* c_prev, const float* h_prev, float* c, float* h,
                       int64_t n, int64_t hidden, const uint8_t* active) {
  const int64_t g4 = 4 * hidden;
  rows(n, hidden, active, [&](int64_t r, int64_t j, int w) {
    float* g = gates + r * g4 + j;
    const VecF i = sigmoid(ld(g, w)), f = sigmoid(ld(g + hidden, w));
    const VecF gg = tanh(ld(g + 2 * hidden, w)), o = sigmoid(ld(g + 3 * hidden, w));
    st(g, i, w), st(g + hidden, f, w), st(g + 2 * hidden, gg, w), st(g + 3 * hidden, o, w);
    const VecF cn = fmadd(f, ld(c_prev + r * hidden + j, w), mul(i, gg));
    st(c + r * hidden + j, cn, w);
    st(h + r * hidden + j, mul(o, tanh(cn)), w);
  });
  if (active)
    for (int64_t r = 0; r < n; ++r)
      if (!active[r]) {
        std::memcpy(c + r * hidden, c_prev + r * hidden, sizeof(float) * hidden);
        std::memcpy(h + r * hidden, h_prev + r * hidden, sizeof(float) * hidden);
      }
}

void lstm_cell_backward(const float* gates, const float* c_prev, const float* c, const float* dh,
                        float* dc, float* dgates, int64_t n, int64_t hidden,
                        const uint8_t* active) {
  const int64_t g4 = 4 * hidden;
  const VecF one = set1(1.0f);
  rows(n, hidden, active, [&](int64_t r, int64_t j, int w) {
    const float* g = gates + r * g4 + j;
    float* d = dgates + r * g4 + j;
    const VecF i = ld(g, w), f = ld(g + hidden, w), gg = ld(g + 2 * hidden, w),
               o = ld(g + 3 * hidden, w);
    const VecF tc = tanh(ld(c + r * hidden + j, w));
    const VecF dhv = ld(dh + r * hidden + j, w);
    // dc_total = dc_next + dh o (1 - tanh(c)^2)
    const VecF dct = fmadd(mul(dhv, o), fnmadd(tc, tc, one), ld(dc + r * hidden + j, w));
    st(d, mul(mul(dct, gg), mul(i, sub(one, i))), w);
    st(d + hidden, mul(mul(dct, ld(c_prev + r * hidden + j, w)), mul(f, sub(one, f))), w);
    st(d + 2 * hidden, mul(mul(dct, i), fnmadd(gg, gg, one)), w);
    st(d + 3 * hidden, mul(mul(dhv, tc), mul(o, sub(one, o))), w);
    st(dc + r * hidden + j, mul(dct, f), w);
  });
  if (active)
    for (int64_t r = 0; r < n; ++r)
      if (!active[r]) std::memset(dgates + r * g4, 0, sizeof(float) * g4);  // dc passes unchanged
}

void gru_cell_forward(const float* gx, const float* gh, const float* h_prev, float* h, float* rzn,
                      int64_t n, int64_t hidden, const uint8_t* active) {
  const int64_t g3 = 3 * hidden;
  const VecF one = set1(1.0f);
  rows(n, hidden, active, [&](int64_t r, int64_t j, int w) {
    const float* x = gx + r * g3 + j;
    const float* y = gh + r * g3 + j;
    const VecF rr = sigmoid(add(ld(x, w), ld(y, w)));
    const VecF z = sigmoid(add(ld(x + hidden, w), ld(y + hidden, w)));
    const VecF nn = tanh(fmadd(rr, ld(y + 2 * hidden, w), ld(x + 2 * hidden, w)));
    float* s = rzn + r * g3 + j;
    st(s, rr, w), st(s + hidden, z, w), st(s + 2 * hidden, nn, w);
    // h = (1 - z) n + z h_prev
    st(h + r * hidden + j, fmadd(z, ld(h_prev + r * hidden + j, w), mul(sub(one, z), nn)), w);
  });
  if (active)
    for (int64_t r = 0; r < n; ++r)
      if (!active[r]) std::memcpy(h + r * hidden, h_prev + r * hidden, sizeof(float) * hidden);
}

void gru_cell_backward(const float* rzn, const float* gh, const float* h_prev, const float* dh,
                       float* dgx, float* dgh, float* dh_prev, int64_t n, int64_t hidden,
                       const uint8_t* active) {
  const int64_t g3 = 3 * hidden;
  const VecF one = set1(1.0f);
  rows(n, hidden, active, [&](int64_t r, int64_t j, int w) {
    const float* s = rzn + r * g3 + j;
    const VecF rr = ld(s, w), z = ld(s + hidden, w), nn = ld(s + 2 * hidden, w);
    const VecF dhv = ld(dh + r * hidden + j, w);
    const VecF hp = ld(h_prev + r * hidden + j, w);
    const VecF dan = mul(mul(dhv, sub(one, z)), fnmadd(nn, nn, one));  // through tanh
    const VecF daz = mul(mul(dhv, sub(hp, nn)), mul(z, sub(one, z)));
    const VecF ghn = ld(gh + r * g3 + j + 2 * hidden, w);
    const VecF dar = mul(mul(dan, ghn), mul(rr, sub(one, rr)));
    float* dx = dgx + r * g3 + j;
    float* dy = dgh + r * g3 + j;
    st(dx, dar, w), st(dx + hidden, daz, w), st(dx + 2 * hidden, dan, w);
    st(dy, dar, w), st(dy + hidden, daz, w), st(dy + 2 * hidden, mul(dan, rr), w);
    st(dh_prev + r * hidden + j, mul(dhv, z), w);
  });
  if (active)
    for (int64_t r = 0; r < n; ++r)
      if (!active[r]) {
        std::memset(dgx + r * g3, 0, sizeof(float) * g3);
        std::memset(dgh + r * g3, 0, sizeof(float) * g3);
        std::memcpy(dh_prev + r * hidden, dh + r * hidden, sizeof(float) * hidden);
      }
}

}  // namespace axon::cpu::AXON_ISA_NS
