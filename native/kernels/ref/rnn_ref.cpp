// The naive twin of rnn_forward: every step's gates from the formulas, in double.
#include <cmath>
#include <vector>

#include "axon/ref.h"

namespace axon::ref {

void rnn_forward(const RnnArgs& a, const float* x, const float* w_ih, const float* w_hh,
                 const float* b_ih, const float* b_hh, const float* h0, const float* c0,
                 const int32_t* lengths, float* y, float* hn, float* cn) {
  const int64_t H = a.hidden, N = a.batch, I = a.input, G = rnn_gate_count(a.mode);
  std::vector<double> h(static_cast<size_t>(N * H)), c(static_cast<size_t>(N * H));
  for (int64_t i = 0; i < N * H; ++i) h[i] = h0 ? h0[i] : 0.0, c[i] = c0 ? c0[i] : 0.0;
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  for (int64_t s = 0; s < a.steps; ++s) {
    const int64_t t = a.reverse ? a.steps - 1 - s : s;
    for (int64_t r = 0; r < N; ++r) {
      const bool active = !lengths || t < lengths[r];
      if (!active) {
        for (int64_t j = 0; j < H; ++j) y[(t * N + r) * H + j] = 0.0f;
        continue;
      }
      // gx[q] = W_ih x + b_ih, gh[q] = W_hh h + b_hh for q < G*H
      std::vector<double> gx(static_cast<size_t>(G * H)), gh(static_cast<size_t>(G * H));
      for (int64_t q = 0; q < G * H; ++q) {
        double sx = b_ih ? b_ih[q] : 0.0, sh = b_hh ? b_hh[q] : 0.0;
        for (int64_t i = 0; i < I; ++i) sx += double(w_ih[q * I + i]) * x[(t * N + r) * I + i];
        for (int64_t i = 0; i < H; ++i) sh += double(w_hh[q * H + i]) * h[r * H + i];
        gx[q] = sx, gh[q] = sh;
      }
      std::vector<double> next(static_cast<size_t>(H));
      for (int64_t j = 0; j < H; ++j) {
        double hv;
        if (a.mode == RnnMode::Lstm) {
          const double ig = sig(gx[j] + gh[j]), fg = sig(gx[H + j] + gh[H + j]);
          const double gg = std::tanh(gx[2 * H + j] + gh[2 * H + j]),
                       og = sig(gx[3 * H + j] + gh[3 * H + j]);
          c[r * H + j] = fg * c[r * H + j] + ig * gg;
          hv = og * std::tanh(c[r * H + j]);
        } else if (a.mode == RnnMode::Gru) {
          const double rg = sig(gx[j] + gh[j]), zg = sig(gx[H + j] + gh[H + j]);
          const double ng = std::tanh(gx[2 * H + j] + rg * gh[2 * H + j]);
          hv = (1 - zg) * ng + zg * h[r * H + j];
        } else {
          const double pre = gx[j] + gh[j];
          hv = a.mode == RnnMode::RnnTanh ? std::tanh(pre) : (pre > 0 ? pre : 0.0);
        }
        next[j] = hv;
      }
      for (int64_t j = 0; j < H; ++j) {
        h[r * H + j] = next[j];
        y[(t * N + r) * H + j] = static_cast<float>(next[j]);
      }
    }
  }
  for (int64_t i = 0; i < N * H; ++i) {
    hn[i] = static_cast<float>(h[i]);
    if (cn && a.mode == RnnMode::Lstm) cn[i] = static_cast<float>(c[i]);
  }
}

}  // namespace axon::ref
