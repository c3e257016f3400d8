// Recurrent layers over a whole sequence, forward and backward through time (compiled once;
// the cells and GEMMs it calls dispatch to the SIMD level). One call runs every step, so a
// sequence pays one binding crossing, not one per step:
//
//   forward:  GX = X W_ih^T + b_ih for all steps at once (one GEMM); then per step
//             GH = h W_hh^T + b_hh (a GEMM of batch rows) and the fused cell.
//   backward: per step (reverse order) the fused cell backward and dh_prev = dG W_hh; then the
//             weight and input gradients of all steps at once: dW_ih += dGX^T X,
//             dW_hh += dGH^T H_prev, dX += dGX W_ih (three GEMMs).
//
// The workspace keeps what the backward needs: the activated gates per step, the states
// entering each step, the LSTM cell states after each step.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "axon/kernels.h"
#include "axon/thread_pool.h"
#include "kernel_table.h"

namespace axon {

namespace {

struct Layout {
  int64_t g;               // gate rows per hidden unit: 4 LSTM, 3 GRU, 1 RNN
  int64_t step_g, step_h;  // floats per step of gate and state arrays (batch rows)
  int64_t gates, hprev, cprev, cs, gh, packed;  // workspace offsets
  int64_t total;
};

int64_t packed_floats(int64_t k, int64_t n);

Layout layout(const RnnArgs& a) {
  Layout l;
  l.g = rnn_gate_count(a.mode);
  l.step_g = a.batch * l.g * a.hidden;
  l.step_h = a.batch * a.hidden;
  int64_t at = 0;
  l.gates = at, at += a.steps * l.step_g;  // LSTM: activated i,f,g,o; GRU: gx; RNN: h_t
  l.hprev = at, at += a.steps * l.step_h;
  l.cprev = at, at += a.mode == RnnMode::Lstm ? a.steps * l.step_h : 0;
  l.cs = at, at += a.mode == RnnMode::Lstm ? a.steps * l.step_h : 0;
  // GRU: gh (hidden projections incl. b_hh) and r, z, n per step.
  l.gh = at, at += a.mode == RnnMode::Gru ? 2 * a.steps * l.step_g : 0;
  l.packed = at, at += packed_floats(a.hidden, l.g * a.hidden);
  l.total = at;
  return l;
}

void gemm_rows(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool trans_a,
               const float* b, int64_t ldb, bool trans_b, float beta, float* c, int64_t ldc,
               const float* bias, const float* packed_b = nullptr) {
  if (m == 0 || n == 0) return;
  GemmArgs g;
  g.trans_a = trans_a ? Trans::Yes : Trans::No;
  g.trans_b = trans_b ? Trans::Yes : Trans::No;
  g.m = m, g.n = n, g.k = k;
  g.a = a, g.lda = lda, g.b = b, g.ldb = ldb, g.c = c, g.ldc = ldc, g.beta = beta;
  g.packed_b = packed_b;
  if (bias) g.bias_mode = BiasMode::PerColumn, g.bias = bias;
  gemm(g);
}

// W_hh packed once per call as the B operand of every step's product (k x n = op(W_hh)):
// the per-step GEMMs are small (batch rows), so re-packing the weights each step would cost
// about as much as the product. It lives at the end of the caller's workspace (forward) or
// scratch (backward), 64-byte aligned inside the 16 spare floats reserved for that.
int64_t packed_floats(int64_t k, int64_t n) { return gemm_packed_b_size(k, n) + 16; }
const float* pack_recurrent_weights(const float* w_hh, int64_t k, int64_t n, bool trans,
                                    float* space) {
  float* p = space;
  while (reinterpret_cast<uintptr_t>(p) % 64) ++p;
  GemmArgs g;
  g.trans_b = trans ? Trans::Yes : Trans::No;
  g.k = k, g.n = n, g.b = w_hh, g.ldb = trans ? k : n;
  gemm_pack_b(g, p);
  return p;
}

// Which rows are still inside their sequence at step t (null: all).
const uint8_t* active_rows(const RnnArgs& a, const int32_t* lengths, int64_t t,
                           std::vector<uint8_t>& buf) {
  if (!lengths) return nullptr;
  bool all = true;
  for (int64_t r = 0; r < a.batch; ++r) {
    buf[static_cast<size_t>(r)] = t < lengths[r];
    all = all && buf[static_cast<size_t>(r)];
  }
  return all ? nullptr : buf.data();
}

}  // namespace

int64_t rnn_gate_count(RnnMode mode) {
  return mode == RnnMode::Lstm ? 4 : mode == RnnMode::Gru ? 3 : 1;
}
int64_t rnn_workspace_size(const RnnArgs& a) { return layout(a).total; }
int64_t rnn_scratch_size(const RnnArgs& a) {
  const int64_t g = rnn_gate_count(a.mode);
  // dGX (and dGH for GRU) for every step, plus two batch-sized state gradients.
  return (a.mode == RnnMode::Gru ? 2 : 1) * a.steps * a.batch * g * a.hidden +
         3 * a.batch * a.hidden + packed_floats(g * a.hidden, a.hidden);
}

void rnn_forward(const RnnArgs& a, const float* x, const float* w_ih, const float* w_hh,
                 const float* b_ih, const float* b_hh, const float* h0, const float* c0,
                 const int32_t* lengths, float* y, float* hn, float* cn, float* ws) {
  if (a.batch == 0) return;  // nothing to compute (and empty buffers may be null)
  const Layout l = layout(a);
  const int64_t H = a.hidden, N = a.batch, G = l.g * H;
  const auto& k = cpu::active_kernels();
  float* gates = ws + l.gates;
  // All input projections at once.
  gemm_rows(a.steps * N, G, a.input, x, a.input, false, w_ih, a.input, true, 0.0f, gates, G, b_ih);
  // The running state lives in hn / cn.
  if (h0)
    std::memcpy(hn, h0, sizeof(float) * N * H);
  else
    std::memset(hn, 0, sizeof(float) * N * H);
  if (a.mode == RnnMode::Lstm) {
    if (c0)
      std::memcpy(cn, c0, sizeof(float) * N * H);
    else
      std::memset(cn, 0, sizeof(float) * N * H);
  }
  thread_local std::vector<uint8_t> buf;
  buf.resize(static_cast<size_t>(N));
  const float* whh_t =
      a.steps > 0 && N > 0 ? pack_recurrent_weights(w_hh, H, G, true, ws + l.packed) : nullptr;
  for (int64_t s = 0; s < a.steps; ++s) {
    const int64_t t = a.reverse ? a.steps - 1 - s : s;
    const uint8_t* active = active_rows(a, lengths, t, buf);
    float* g = gates + t * l.step_g;
    float* hp = ws + l.hprev + t * l.step_h;
    std::memcpy(hp, hn, sizeof(float) * N * H);
    switch (a.mode) {
      case RnnMode::Lstm: {
        float* cp = ws + l.cprev + t * l.step_h;
        std::memcpy(cp, cn, sizeof(float) * N * H);
        gemm_rows(N, G, H, hp, H, false, w_hh, H, true, 1.0f, g, G, b_hh, whh_t);
        k.lstm_cell_forward(g, cp, hp, cn, hn, N, H, active);
        std::memcpy(ws + l.cs + t * l.step_h, cn, sizeof(float) * N * H);
        break;
      }
      case RnnMode::Gru: {
        float* gh = ws + l.gh + t * l.step_g;
        float* rzn = ws + l.gh + (a.steps + t) * l.step_g;
        gemm_rows(N, G, H, hp, H, false, w_hh, H, true, 0.0f, gh, G, b_hh, whh_t);
        k.gru_cell_forward(g, gh, hp, hn, rzn, N, H, active);
        break;
      }
      default: {
        gemm_rows(N, H, H, hp, H, false, w_hh, H, true, 1.0f, g, H, b_hh, whh_t);
        const UnaryOp act = a.mode == RnnMode::RnnRelu ? UnaryOp::Relu : UnaryOp::Tanh;
        k.unary_forward(act, g, g, N * H, 0.0f);  // g now holds the new state
        for (int64_t r = 0; r < N; ++r)
          if (!active || active[r]) std::memcpy(hn + r * H, g + r * H, sizeof(float) * H);
        break;
      }
    }
    float* yt = y + t * N * H;
    for (int64_t r = 0; r < N; ++r)
      if (!active || active[r])
        std::memcpy(yt + r * H, hn + r * H, sizeof(float) * H);
      else
        std::memset(yt + r * H, 0, sizeof(float) * H);
  }
}

void rnn_backward(const RnnArgs& a, const float* x, const float* w_ih, const float* w_hh,
                  const int32_t* lengths, const float* ws, const float* dy, const float* dhn,
                  const float* dcn, float* dx, float* dw_ih, float* dw_hh, float* db_ih,
                  float* db_hh, float* dh0, float* dc0, float* scratch) {
  if (a.batch == 0) return;  // no rows: every gradient gets nothing
  const Layout l = layout(a);
  const int64_t H = a.hidden, N = a.batch, G = l.g * H, T = a.steps;
  const auto& k = cpu::active_kernels();
  float* dgx = scratch;
  float* dgh = a.mode == RnnMode::Gru ? scratch + T * l.step_g : dgx;  // LSTM/RNN: one gate grad
  float* dh = scratch + (a.mode == RnnMode::Gru ? 2 : 1) * T * l.step_g;
  float* dh_next = dh + N * H;
  float* dc = dh_next + N * H;
  if (dhn)
    std::memcpy(dh, dhn, sizeof(float) * N * H);
  else
    std::memset(dh, 0, sizeof(float) * N * H);
  if (dcn && a.mode == RnnMode::Lstm)
    std::memcpy(dc, dcn, sizeof(float) * N * H);
  else
    std::memset(dc, 0, sizeof(float) * N * H);
  thread_local std::vector<uint8_t> buf;
  buf.resize(static_cast<size_t>(N));
  const float* whh =
      T > 0 && N > 0 ? pack_recurrent_weights(w_hh, G, H, false, dc + N * H) : nullptr;
  for (int64_t s = T - 1; s >= 0; --s) {
    const int64_t t = a.reverse ? T - 1 - s : s;
    const uint8_t* active = active_rows(a, lengths, t, buf);
    if (dy) {
      const float* dyt = dy + t * N * H;
      for (int64_t r = 0; r < N; ++r)
        if (!active || active[r])
          for (int64_t j = 0; j < H; ++j) dh[r * H + j] += dyt[r * H + j];
    }
    const float* hp = ws + l.hprev + t * l.step_h;
    float* dg = dgx + t * l.step_g;
    switch (a.mode) {
      case RnnMode::Lstm:
        k.lstm_cell_backward(ws + l.gates + t * l.step_g, ws + l.cprev + t * l.step_h,
                             ws + l.cs + t * l.step_h, dh, dc, dg, N, H, active);
        gemm_rows(N, H, G, dg, G, false, w_hh, H, false, 0.0f, dh_next, H, nullptr, whh);
        break;
      case RnnMode::Gru: {
        float* dghh = dgh + t * l.step_g;
        k.gru_cell_backward(ws + l.gh + (T + t) * l.step_g, ws + l.gh + t * l.step_g, hp, dh, dg,
                            dghh, dh_next, N, H, active);
        gemm_rows(N, H, G, dghh, G, false, w_hh, H, false, 1.0f, dh_next, H, nullptr, whh);
        break;
      }
      default: {
        // d pre = dh * act'(h_t), h_t the step's output (kept in the gate slot).
        const float* ht = ws + l.gates + t * l.step_g;
        const UnaryOp act = a.mode == RnnMode::RnnRelu ? UnaryOp::Relu : UnaryOp::Tanh;
        std::memset(dg, 0, sizeof(float) * N * H);
        k.unary_backward(act, ht, ht, dh, dg, N * H, 0.0f);
        if (active)
          for (int64_t r = 0; r < N; ++r)
            if (!active[r]) std::memset(dg + r * H, 0, sizeof(float) * H);
        gemm_rows(N, H, H, dg, H, false, w_hh, H, false, 0.0f, dh_next, H, nullptr, whh);
        break;
      }
    }
    // Rows past their sequence pass the gradient through unchanged (GRU's cell did already).
    if (active && a.mode != RnnMode::Gru)
      for (int64_t r = 0; r < N; ++r)
        if (!active[r]) std::memcpy(dh_next + r * H, dh + r * H, sizeof(float) * H);
    std::swap(dh, dh_next);
  }
  if (dh0) std::memcpy(dh0, dh, sizeof(float) * N * H);
  if (dc0 && a.mode == RnnMode::Lstm) std::memcpy(dc0, dc, sizeof(float) * N * H);
  const int64_t rows = T * N;
  // Weight, bias and input gradients of all steps at once.
  if (dw_ih)
    gemm_rows(G, a.input, rows, dgx, G, true, x, a.input, false, 1.0f, dw_ih, a.input, nullptr);
  if (dw_hh) gemm_rows(G, H, rows, dgh, G, true, ws + l.hprev, H, false, 1.0f, dw_hh, H, nullptr);
  if (dx)
    gemm_rows(rows, a.input, G, dgx, G, false, w_ih, a.input, false, 1.0f, dx, a.input, nullptr);
  auto col_sums = [&](const float* m, float* out) {
    parallel_range(G, 64, [&](int64_t c0, int64_t c1) {
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = c0; c < c1; ++c) out[c] += m[r * G + c];
    });
  };
  if (db_ih) col_sums(dgx, db_ih);
  if (db_hh) col_sums(dgh, db_hh);
}

}  // namespace axon
