// Direct convolution kernels for few input taps (a network's first layer), compiled once per
// SIMD level: the forward (vectors along the flattened output plane) and the weight gradient.
// conv.cpp decides when they run; tested in native/tests/test_conv.cpp.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "simd/isa.h"
// after simd/isa.h, which names this level's namespace
#include "axon/thread_pool.h"
#include "axon/portable.h"
#include "gemm/microkernel.h"
#include "isa_kernels.h"
#include "conv_internal.h"

namespace axon::cpu::AXON_ISA_NS::conv {

// ---- direct forward for few input taps (a network's first layer) ---------------------------
//
// With K = Cin*kH*kW small (a grey or RGB image), each implicit-GEMM tile does only K steps,
// so starting and storing the tile and transposing it into NCHW cost more than the
// arithmetic. Here vectors run along a channel's output plane flattened (o = i*OW + j, which
// NCHW keeps contiguous), so every lane is useful even when OW is not a multiple of the vector
// width (28 of 32 lanes were with vectors along rows). For each input channel ci and kernel
// column kj the band's input is first copied into a shifted plane
//   S[ci][kj][r][j] = x[ci][r0 + r - pad_top][j + kj - pad_left]  (zero outside the image),
// rows of OW, after which output o of the band is sum over (ci, ki, kj) of
// w[co][ci][ki][kj] * S[ci][kj][o + ki*OW]: one contiguous load per tap and vector, one
// broadcast weight per tap and channel, and the tile stored straight into NCHW.
// (kDirectCo, kDirectV and kDirectMaxTaps: conv_internal.h.)

namespace {

// One tile: kDirectCo channels x V vectors of flattened outputs. s: the shifted planes at the
// tile's first output; toff[k]: tap k's offset from there; wb[k][c]: the block's weights;
// init[c]: the bias; y: the first channel's output at the tile, channel planes `plane` apart;
// the last vector stores last_n lanes.
template <int V>
void direct_tile(const float* s, const int64_t* toff, int64_t taps, const float* wb,
                 const float* init, int cos, float* y, int64_t plane, int last_n, bool relu) {
  VecF acc[kDirectCo][V];
  AXON_UNROLL(8)
  for (int c = 0; c < kDirectCo; ++c) {
    const VecF b = set1(init[c]);
    AXON_UNROLL(4)
    for (int v = 0; v < V; ++v) acc[c][v] = b;
  }
  for (int64_t k = 0; k < taps; ++k) {
    const float* xs = s + toff[k];
    VecF xv[V];
    AXON_UNROLL(4)
    for (int v = 0; v < V; ++v) xv[v] = load(xs + v * kWidth);
    const float* wk = wb + k * kDirectCo;
    AXON_UNROLL(8)
    for (int c = 0; c < kDirectCo; ++c) {
      const VecF wv = set1(wk[c]);
      AXON_UNROLL(4)
      for (int v = 0; v < V; ++v) acc[c][v] = fmadd(wv, xv[v], acc[c][v]);
    }
  }
  AXON_UNROLL(8)
  for (int c = 0; c < kDirectCo; ++c) {
    if (c >= cos) break;
    float* out = y + c * plane;
    AXON_UNROLL(4)
    for (int v = 0; v < V; ++v) {
      // max(0, r), not max(r, 0): every level's max returns its second operand on NaN, and
      // a fused relu must keep NaN as the relu op does.
      const VecF r = relu ? max(zero(), acc[c][v]) : acc[c][v];
      if (v + 1 < V || last_n == kWidth)
        store(out + v * kWidth, r);
      else
        store_partial(out + v * kWidth, r, last_n);
    }
  }
}

// The shifted planes of one image's output rows [r0, r0 + rows_in - kH + 1): for each input
// channel ci and kernel column kj, rows_in rows of OW floats,
//   sp[(ci*kW + kj)*splane + r*OW + j] = x[ci][r0 + r - pad_top][j + kj - pad_left]
// (zero outside the image), then zeros to the end of the plane (splane floats).
void shifted_planes(const ConvGeometry& g, const float* x, int64_t r0, int64_t rows_in, float* sp,
                    int64_t splane) {
  const int64_t ow = g.out_w();
  for (int64_t ci = 0; ci < g.c_in; ++ci) {
    const float* xc = x + ci * g.h * g.w;
    for (int64_t kj = 0; kj < g.kw; ++kj) {
      float* dst = sp + (ci * g.kw + kj) * splane;
      const int64_t shift = kj - g.pad_left;
      const int64_t lo = std::clamp<int64_t>(-shift, 0, ow);
      const int64_t hi = std::clamp<int64_t>(g.w - shift, lo, ow);
      for (int64_t r = 0; r < rows_in; ++r) {
        float* row = dst + r * ow;
        const int64_t sr = r0 + r - g.pad_top;
        if (sr < 0 || sr >= g.h) {
          zero_run(row, ow);
          continue;
        }
        zero_run(row, lo);
        copy_run(row + lo, xc + sr * g.w + lo + shift, hi - lo);
        zero_run(row + hi, ow - hi);
      }
      zero_run(dst + rows_in * ow, splane - rows_in * ow);
    }
  }
}

}  // namespace

void direct_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    UnaryOp act, float param, float* y) {
  const int64_t oh = g.out_h(), ow = g.out_w(), taps = g.c_in * g.kh * g.kw;
  const int64_t co_blocks = (g.c_out + kDirectCo - 1) / kDirectCo;
  // wt[block][tap][c]: the block's channel weights of each tap side by side (zero past Cout),
  // taps in (ci, ki, kj) order; binit[block][c]: the bias.
  float* wt = scratch<float>(4, static_cast<size_t>(co_blocks * (taps + 1) * kDirectCo));
  float* binit = wt + co_blocks * taps * kDirectCo;
  for (int64_t b = 0; b < co_blocks; ++b)
    for (int c = 0; c < kDirectCo; ++c) {
      const int64_t co = b * kDirectCo + c;
      for (int64_t k = 0; k < taps; ++k)
        wt[(b * taps + k) * kDirectCo + c] = co < g.c_out ? w[co * taps + k] : 0.0f;
      binit[b * kDirectCo + c] = co < g.c_out && bias ? bias[co] : 0.0f;
    }
  // Bands of output rows: a few thousand outputs each, enough bands for every thread, unless
  // the whole convolution is too small to split (a batch-1 first layer, 1->32 on 28x28: 14 us
  // on one thread, 17 us split over two, Zen 4).
  int64_t rb = std::clamp<int64_t>((4096 + ow - 1) / ow, 1, oh);
  const double macs = static_cast<double>(g.n * oh * ow) * static_cast<double>(g.c_out * taps);
  if (macs >= kDirectMinSplitMacs)
    while (rb > 1 && g.n * ((oh + rb - 1) / rb) < 2 * int64_t{num_threads()}) rb = (rb + 1) / 2;
  const int64_t bands = (oh + rb - 1) / rb;
  const int64_t rows_max = rb + g.kh - 1;
  // A shifted plane, with a vector of slack per tile vector so the last tile reads in bounds.
  const int64_t splane = (rows_max * ow + kDirectV * kWidth + 15) / 16 * 16;
  int64_t toff[kDirectMaxTaps];
  for (int64_t ci = 0, k = 0; ci < g.c_in; ++ci)
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj) toff[k++] = (ci * g.kw + kj) * splane + ki * ow;
  const bool relu = act == UnaryOp::Relu;
  const int64_t plane = oh * ow;
  // Contiguous runs of bands per thread: claiming bands one by one from the pool measured
  // 0.68x oneDNN at 2 threads on the 1->32 layer against 0.89x this way.
  parallel_range(g.n * bands, 1, [&](int64_t task0, int64_t task1) {
    for (int64_t task = task0; task < task1; ++task) {
      const int64_t n = task / bands, r0 = task % bands * rb, rows_out = std::min(rb, oh - r0);
      const int64_t rows_in = rows_out + g.kh - 1;
      float* sp = scratch<float>(3, static_cast<size_t>(g.c_in * g.kw * splane));
      shifted_planes(g, x + n * g.c_in * g.h * g.w, r0, rows_in, sp, splane);
      const int64_t total = rows_out * ow;
      float* yband = y + n * g.c_out * plane + r0 * ow;
      constexpr int64_t span = kDirectV * kWidth;
      for (int64_t o0 = 0; o0 < total; o0 += span) {
        const int64_t left = total - o0;
        const int vecs =
            static_cast<int>(std::min<int64_t>(kDirectV, (left + kWidth - 1) / kWidth));
        const int last_n = static_cast<int>(left >= span ? kWidth : left - (vecs - 1) * kWidth);
        // The next tile's output lines, fetched for writing while this one computes.
        if (o0 + span < total)
          for (int64_t co = 0; co < g.c_out; ++co)
            for (int64_t e = 0; e < span; e += 16)
              AXON_PREFETCH(yband + co * plane + o0 + span + e, 1, 3);
        for (int64_t b = 0; b < co_blocks; ++b) {
          const int cos = static_cast<int>(std::min<int64_t>(kDirectCo, g.c_out - b * kDirectCo));
          const float* wb = wt + b * taps * kDirectCo;
          const float* init = binit + b * kDirectCo;
          float* yt = yband + b * kDirectCo * plane + o0;
          if (vecs == kDirectV)
            direct_tile<kDirectV>(sp + o0, toff, taps, wb, init, cos, yt, plane, last_n, relu);
          else if (vecs == 2)
            direct_tile<2>(sp + o0, toff, taps, wb, init, cos, yt, plane, last_n, relu);
          else
            direct_tile<1>(sp + o0, toff, taps, wb, init, cos, yt, plane, last_n, relu);
        }
      }
      if (act != UnaryOp::Identity && !relu)
        for (int64_t co = 0; co < g.c_out; ++co)
          AXON_ISA_NS::unary_forward(act, yband + co * plane, yband + co * plane, total, param);
    }
  });
}

namespace {

// ---- direct weight gradient for few input taps ----------------------------------------------
//
// dW[co][k] = sum over images and outputs o of dy[co][o] * S[tap k][o] with the shifted planes
// of direct_forward: a tile of kWgradCo channels x kWgradTaps taps keeps one vector accumulator
// per pair, each output vector costs one load per channel and per tap, and the sums are
// reduced across lanes once per image. The implicit GEMM instead ran 25-tap tiles of 12 rows
// (25 = 2 x 12 + 1) at half of oneDNN's rate on the 1->32 layer.
constexpr int kWgradCo = 4, kWgradTaps = 6;

// part: the tile's running sums, one vector per (channel, tap), (c * taps + t) * kWidth;
// reduced across lanes only once all images are done.
template <int T>
void wgrad_tile(const float* dy, int64_t plane, int cos, const float* s, const int64_t* toff,
                int64_t total, float* part, int64_t taps) {
  VecF acc[kWgradCo][T];
  AXON_UNROLL(4)
  for (int c = 0; c < kWgradCo; ++c) AXON_UNROLL(8)
  for (int t = 0; t < T; ++t) acc[c][t] = zero();
  const float* dyc[kWgradCo];
  for (int c = 0; c < kWgradCo; ++c) dyc[c] = dy + std::min(c, cos - 1) * plane;
  const float* st[T];
  for (int t = 0; t < T; ++t) st[t] = s + toff[t];
  int64_t o = 0;
  for (; o + kWidth <= total; o += kWidth) {
    VecF d[kWgradCo];
    AXON_UNROLL(4)
    for (int c = 0; c < kWgradCo; ++c) d[c] = load(dyc[c] + o);
    AXON_UNROLL(8)
    for (int t = 0; t < T; ++t) {
      const VecF v = load(st[t] + o);
      AXON_UNROLL(4)
      for (int c = 0; c < kWgradCo; ++c) acc[c][t] = fmadd(d[c], v, acc[c][t]);
    }
  }
  if (o < total) {
    const int n = static_cast<int>(total - o);
    VecF d[kWgradCo];
    for (int c = 0; c < kWgradCo; ++c) d[c] = load_partial(dyc[c] + o, n);
    for (int t = 0; t < T; ++t) {
      const VecF v = load_partial(st[t] + o, n);
      for (int c = 0; c < kWgradCo; ++c) acc[c][t] = fmadd(d[c], v, acc[c][t]);
    }
  }
  AXON_UNROLL(4)
  for (int c = 0; c < kWgradCo; ++c) AXON_UNROLL(8)
  for (int t = 0; t < T; ++t) {
    float* p = part + (c * taps + t) * kWidth;
    store(p, add(load(p), acc[c][t]));
  }
}

// wgrad_tile by tap count (1..kWgradTaps).
using WgradTile = void (*)(const float*, int64_t, int, const float*, const int64_t*, int64_t,
                           float*, int64_t);
constexpr WgradTile kWgradTiles[kWgradTaps + 1] = {nullptr,        &wgrad_tile<1>, &wgrad_tile<2>,
                                                   &wgrad_tile<3>, &wgrad_tile<4>, &wgrad_tile<5>,
                                                   &wgrad_tile<6>};

}  // namespace

void direct_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                            float* db) {
  const int64_t oh = g.out_h(), ow = g.out_w(), taps = g.c_in * g.kh * g.kw, plane = oh * ow;
  // Whole images (the sums run over a plane's outputs), shared out in contiguous runs; each
  // chunk accumulates its own dW and db, added up in chunk order (deterministic).
  const int64_t splane = (oh + g.kh - 1) * ow + kWidth;
  int64_t toff[kDirectMaxTaps];
  for (int64_t ci = 0, k = 0; ci < g.c_in; ++ci)
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj) toff[k++] = (ci * g.kw + kj) * splane + ki * ow;
  // Taps in even blocks of at most kWgradTaps (25 = 5 x 5, not 4 x 6 + 1).
  const int64_t tap_blocks = (taps + kWgradTaps - 1) / kWgradTaps;
  const int64_t tap_block = (taps + tap_blocks - 1) / tap_blocks;
  const int64_t chunks = std::min<int64_t>(num_threads(), g.n);
  // Per chunk: dW (Cout x taps) then db, reduced from the chunk's own vector sums.
  const int64_t co_pad = (g.c_out + kWgradCo - 1) / kWgradCo * kWgradCo;
  const int64_t per = g.c_out * taps + g.c_out;
  float* acc = scratch<float>(5, static_cast<size_t>(chunks * per));
  parallel_for(chunks, [&](int64_t chunk) {
    // One vector of running sums per (channel, tap), in this thread's own buffer.
    float* dwc = scratch<float>(0, static_cast<size_t>(co_pad * taps * kWidth));
    std::memset(dwc, 0, sizeof(float) * static_cast<size_t>(co_pad * taps * kWidth));
    float* dbc = acc + chunk * per + g.c_out * taps;
    std::memset(dbc, 0, sizeof(float) * static_cast<size_t>(g.c_out));
    float* sp = scratch<float>(3, static_cast<size_t>(g.c_in * g.kw * splane));
    for (int64_t n = g.n * chunk / chunks; n < g.n * (chunk + 1) / chunks; ++n) {
      shifted_planes(g, x + n * g.c_in * g.h * g.w, 0, oh + g.kh - 1, sp, splane);
      const float* dyn = dy + n * g.c_out * plane;
      for (int64_t c0 = 0; c0 < g.c_out; c0 += kWgradCo) {
        const int cos = static_cast<int>(std::min<int64_t>(kWgradCo, g.c_out - c0));
        const float* dyb = dyn + c0 * plane;
        for (int64_t t0 = 0; t0 < taps; t0 += tap_block) {
          const int64_t* to = toff + t0;
          float* out = dwc + (c0 * taps + t0) * kWidth;
          kWgradTiles[std::min<int64_t>(tap_block, taps - t0)](dyb, plane, cos, sp, to, plane, out,
                                                               taps);
        }
        if (db)
          for (int c = 0; c < cos; ++c) dbc[c0 + c] += row_sum(dyb + c * plane, plane);
      }
    }
    float* dw_chunk = acc + chunk * per;
    for (int64_t i = 0; i < g.c_out * taps; ++i) dw_chunk[i] = reduce_add(load(dwc + i * kWidth));
  });
  for (int64_t c = 0; c < chunks; ++c) {
    const float* dwc = acc + c * per;
    for (int64_t i = 0; i < g.c_out * taps; ++i) dw[i] += dwc[i];
    if (db)
      for (int64_t co = 0; co < g.c_out; ++co) db[co] += dwc[g.c_out * taps + co];
  }
}

}  // namespace axon::cpu::AXON_ISA_NS::conv
