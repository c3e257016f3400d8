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
//
// Threads: batch rows are independent through time, so the step loops (forward and
// backward) split the rows into blocks of kRowsPerBlock and run the whole sequence of each
// block on one thread, with no synchronisation per step. The split depends only on the batch
// size, never on the thread count, so results are the same with any number of threads. A
// batch of one block runs its per-step GEMMs threaded instead, as before.
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

// Which of rows [r0, r0 + n) are still inside their sequence at step t (null: all).
const uint8_t* active_rows(const int32_t* lengths, int64_t r0, int64_t n, int64_t t,
                           std::vector<uint8_t>& buf) {
  if (!lengths) return nullptr;
  buf.resize(static_cast<size_t>(n));
  bool all = true;
  for (int64_t r = 0; r < n; ++r) {
    buf[static_cast<size_t>(r)] = t < lengths[r0 + r];
    all = all && buf[static_cast<size_t>(r)];
  }
  return all ? nullptr : buf.data();
}

// Rows per block of the step loops' split (see the file comment): 16 gives the common batch of
// 32 two blocks; at one thread the two per-step GEMMs of 16 rows cost about what one of 32 did
// (bench/RESULTS.md, "Recurrent layers split by rows").
constexpr int64_t kRowsPerBlock = 16;

// Runs fn(r0, r1) over row blocks of a batch of n: in parallel when there are several blocks.
template <class F>
void for_row_blocks(int64_t n, F&& fn) {
  const int64_t blocks = std::min<int64_t>((n + kRowsPerBlock - 1) / kRowsPerBlock, 256);
  if (blocks <= 1) return fn(int64_t{0}, n);
  parallel_for(blocks, [&](int64_t b) { fn(n * b / blocks, n * (b + 1) / blocks); });
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
  const float* whh_t =
      a.steps > 0 && N > 0 ? pack_recurrent_weights(w_hh, H, G, true, ws + l.packed) : nullptr;
  for_row_blocks(N, [&](int64_t r0, int64_t r1) {
    const int64_t n = r1 - r0;
    thread_local std::vector<uint8_t> buf;
    float* h = hn + r0 * H;
    float* c = cn ? cn + r0 * H : nullptr;
    for (int64_t s = 0; s < a.steps; ++s) {
      const int64_t t = a.reverse ? a.steps - 1 - s : s;
      const uint8_t* active = active_rows(lengths, r0, n, t, buf);
      float* g = gates + t * l.step_g + r0 * G;
      float* hp = ws + l.hprev + t * l.step_h + r0 * H;
      std::memcpy(hp, h, sizeof(float) * n * H);
      switch (a.mode) {
        case RnnMode::Lstm: {
          float* cp = ws + l.cprev + t * l.step_h + r0 * H;
          std::memcpy(cp, c, sizeof(float) * n * H);
          gemm_rows(n, G, H, hp, H, false, w_hh, H, true, 1.0f, g, G, b_hh, whh_t);
          k.lstm_cell_forward(g, cp, hp, c, h, n, H, active);
          std::memcpy(ws + l.cs + t * l.step_h + r0 * H, c, sizeof(float) * n * H);
          break;
        }
        case RnnMode::Gru: {
          float* gh = ws + l.gh + t * l.step_g + r0 * G;
          float* rzn = ws + l.gh + (a.steps + t) * l.step_g + r0 * G;
          gemm_rows(n, G, H, hp, H, false, w_hh, H, true, 0.0f, gh, G, b_hh, whh_t);
          k.gru_cell_forward(g, gh, hp, h, rzn, n, H, active);
          break;
        }
        default: {
          gemm_rows(n, H, H, hp, H, false, w_hh, H, true, 1.0f, g, H, b_hh, whh_t);
          const UnaryOp act = a.mode == RnnMode::RnnRelu ? UnaryOp::Relu : UnaryOp::Tanh;
          k.unary_forward(act, g, g, n * H, 0.0f);  // g now holds the new state
          for (int64_t r = 0; r < n; ++r)
            if (!active || active[r]) std::memcpy(h + r * H, g + r * H, sizeof(float) * H);
          break;
        }
      }
      float* yt = y + t * N * H + r0 * H;
      for (int64_t r = 0; r < n; ++r)
        if (!active || active[r])
          std::memcpy(yt + r * H, h + r * H, sizeof(float) * H);
        else
          std::memset(yt + r * H, 0, sizeof(float) * H);
    }
  });
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
  const float* whh =
      T > 0 && N > 0 ? pack_recurrent_weights(w_hh, G, H, false, dc + N * H) : nullptr;
  for_row_blocks(N, [&](int64_t r0, int64_t r1) {
    const int64_t n = r1 - r0;
    thread_local std::vector<uint8_t> buf;
    // This block's rows of the batch-sized state gradients (swapped each step).
    float* dhb = dh + r0 * H;
    float* dnb = dh_next + r0 * H;
    float* dcb = dc + r0 * H;
    for (int64_t s = T - 1; s >= 0; --s) {
      const int64_t t = a.reverse ? T - 1 - s : s;
      const uint8_t* active = active_rows(lengths, r0, n, t, buf);
      if (dy) {
        const float* dyt = dy + t * N * H + r0 * H;
        for (int64_t r = 0; r < n; ++r)
          if (!active || active[r])
            for (int64_t j = 0; j < H; ++j) dhb[r * H + j] += dyt[r * H + j];
      }
      const float* hp = ws + l.hprev + t * l.step_h + r0 * H;
      float* dg = dgx + t * l.step_g + r0 * G;
      switch (a.mode) {
        case RnnMode::Lstm:
          k.lstm_cell_backward(ws + l.gates + t * l.step_g + r0 * G,
                               ws + l.cprev + t * l.step_h + r0 * H,
                               ws + l.cs + t * l.step_h + r0 * H, dhb, dcb, dg, n, H, active);
          gemm_rows(n, H, G, dg, G, false, w_hh, H, false, 0.0f, dnb, H, nullptr, whh);
          break;
        case RnnMode::Gru: {
          float* dghh = dgh + t * l.step_g + r0 * G;
          k.gru_cell_backward(ws + l.gh + (T + t) * l.step_g + r0 * G,
                              ws + l.gh + t * l.step_g + r0 * G, hp, dhb, dg, dghh, dnb, n, H,
                              active);
          gemm_rows(n, H, G, dghh, G, false, w_hh, H, false, 1.0f, dnb, H, nullptr, whh);
          break;
        }
        default: {
          // d pre = dh * act'(h_t), h_t the step's output (kept in the gate slot).
          const float* ht = ws + l.gates + t * l.step_g + r0 * G;
          const UnaryOp act = a.mode == RnnMode::RnnRelu ? UnaryOp::Relu : UnaryOp::Tanh;
          std::memset(dg, 0, sizeof(float) * n * H);
          k.unary_backward(act, ht, ht, dhb, dg, n * H, 0.0f);
          if (active)
            for (int64_t r = 0; r < n; ++r)
              if (!active[r]) std::memset(dg + r * H, 0, sizeof(float) * H);
          gemm_rows(n, H, H, dg, H, false, w_hh, H, false, 0.0f, dnb, H, nullptr, whh);
          break;
        }
      }
      // Rows past their sequence pass the gradient through unchanged (GRU's cell did already).
      if (active && a.mode != RnnMode::Gru)
        for (int64_t r = 0; r < n; ++r)
          if (!active[r]) std::memcpy(dnb + r * H, dhb + r * H, sizeof(float) * H);
      std::swap(dhb, dnb);
    }
  });
  // After T swaps the final gradient is in dh when T is even, in dh_next when odd (every
  // block swapped the same number of times).
  if (T % 2 == 1) std::swap(dh, dh_next);
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
