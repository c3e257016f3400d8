// Convolution as implicit GEMM with an offset-table microkernel (compiled once per SIMD level).
//
// The three passes are each a GEMM whose A operand is read straight out of a (zero-padded)
// image through a table of offsets, so nothing is ever im2col'd:
//
//   forward          C (pixels x Cout) = A (pixels x K) . W^T (K x Cout);  A[p][k] = x[base(p)
//                    + off(k)] with base(p) the pixel's window corner and off(k) = the tap
//                    (channel, row, column) offset. Rows of a register tile are 6 output
//                    pixels anywhere in a band of output rows (across row ends), so no tile
//                    is mostly padding; columns are output channels, 64 per tile (4 AVX-512
//                    vectors). The padding is added one band at a time into a per-thread
//                    buffer that stays in L2, never as a padded copy of the whole input.
//   backward weight  C (K x Cout) = A (K x pixels) . dY^T (pixels x Cout); A[k][p] is the
//                    same x[base(p) + off(k)], rows now taps, steps pixels.
//   backward data    (stride 1) dx is the forward convolution of dy, padded by the kernel's
//                    extent, with the flipped kernel transposed (Cin outputs, Cout*kH*kW taps).
//                    Strided convolutions scatter dcol = W^T dY back instead (col2im).
//
// The B operands (weights, dY) are small and packed once per call or image; C tiles are
// pixel-major and are transposed into NCHW a block at a time, with bias and activation fused
// there.
//
// Which algorithm runs (conv2d_forward_algorithm names it; bench/RESULTS.md has the figures):
//   direct        at most 32 taps per output (a network's first layer): vectors along the
//                 output plane (direct_forward); the GEMM's reduction would be too short.
//   Winograd      stride 1, 3x3 or 5x5, no groups, at least 8 output and 8 (3x3) or 16 (5x5)
//                 input channels:
//                 F(4x4, 3x3) / F(2x2, 5x5) (winograd_pass) do 4x / 2.8x fewer
//                 multiplications, and measured 2.0x / 1.5x the implicit GEMM's speed on the
//                 56x56 3x3 and 14x14 5x5 layers. Also the stride-1 backward data, and the
//                 weight gradient (its 36 GEMMs reduce over tiles: winograd_backward_weight).
//   implicit GEMM everything else (strides, dilation, groups, other kernels, few channels).
// AXON_CONV_ALGO / set_conv_algorithm force one where it applies (tests, benches).
//
// Why the implicit GEMM rather than
// im2col + GEMM: im2col writes K values per output pixel that the
// microkernel then reads only Cout/6 times, and for the layers CNNs have (Cout 32-128) that
// copy cost as much as a third of the time (measured: bench/RESULTS.md).
//
// Files (one internal header, conv_internal.h): this one holds the choice (use_direct,
// use_winograd) and the entry points; conv_gemm.cpp the implicit GEMM, conv_direct.cpp the
// direct kernels, conv_winograd.cpp Winograd. Tested in native/tests/test_conv.cpp.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "simd/isa.h"
// after simd/isa.h, which names this level's namespace
#include "axon/cpu_config.h"
#include "axon/thread_pool.h"
#include "gemm/microkernel.h"
#include "isa_kernels.h"
#include "conv_internal.h"

namespace axon::cpu::AXON_ISA_NS {

using namespace conv;

namespace {

bool direct_applies(const ConvGeometry& g) {
  return g.groups == 1 && g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 && g.dil_w == 1 &&
         g.c_in * g.kh * g.kw <= kDirectMaxTaps && g.c_out >= kDirectCo;
}

// Winograd's F(4x4, 3x3) and F(2x2, 5x5) (conv_winograd.cpp): stride 1, square 3x3 or 5x5, no
// groups.
bool winograd_applies(const ConvGeometry& g) {
  return g.groups == 1 && g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 && g.dil_w == 1 &&
         g.kh == g.kw && (g.kh == 3 || g.kh == 5);
}

// The direct forward kernel, unless an algorithm is forced that applies here.
bool use_direct(const ConvGeometry& g) {
  const ConvAlgorithm a = conv_algorithm();
  if (a == ConvAlgorithm::ImplicitGemm || (a == ConvAlgorithm::Winograd && winograd_applies(g)))
    return false;
  return direct_applies(g);
}

// With fewer input channels the 36 GEMMs' reductions are too short for the transforms to pay:
// 8->64 runs at 1.11x the implicit GEMM's speed on 3x3 (4x fewer multiplications) but 0.96x on
// 5x5 (2.8x fewer), 4->32 on 5x5 at 0.55x; few output channels hurt the implicit GEMM as much
// (64->8: Winograd 1.6-2x). Measured: bench/RESULTS.md.
// The thresholds are per CPU (axon/cpu_config.h; defaults 8, 16 and 8).
bool use_winograd(const ConvGeometry& g) {
  const ConvAlgorithm a = conv_algorithm();
  if (a == ConvAlgorithm::ImplicitGemm || !winograd_applies(g)) return false;
  const CpuConfig& cfg = cpu_config();
  const int64_t min_in = g.kh == 3 ? cfg.winograd_min_in_3x3 : cfg.winograd_min_in_5x5;
  return a == ConvAlgorithm::Winograd || (g.c_in >= min_in && g.c_out >= cfg.winograd_min_out);
}
}  // namespace

void conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    UnaryOp act, float act_param, float* y) {
  if (g.n == 0 || g.out_h() <= 0 || g.out_w() <= 0 || g.c_out == 0) return;
  if (use_direct(g)) return direct_forward(g, x, w, bias, act, act_param, y);
  if (use_winograd(g)) return winograd_forward(g, x, w, bias, act, act_param, y, false);
  const int64_t cout_g = g.c_out / g.groups, k = g.c_in / g.groups * g.kh * g.kw;
  const float* wpk = packed_weights(g, w, cout_g, k, 4);
  forward_pass(g, x, wpk, bias, act, act_param, y, false);
}

const char* conv2d_forward_algorithm(const ConvGeometry& g) {
  if (use_direct(g)) return "direct";
  if (use_winograd(g)) return g.kh == 3 ? "winograd-f4x4-3x3" : "winograd-f2x2-5x5";
  return "implicit-gemm";
}

void conv2d_backward_data(const ConvGeometry& g, const float* dy, const float* w, float* dx,
                          bool overwrite) {
  if (g.h == 0 || g.w == 0) return;
  if (g.n == 0 || g.out_h() <= 0 || g.out_w() <= 0) {
    // no output pixel reads any input pixel: the gradient is zero
    if (overwrite) zero_run(dx, g.n * g.c_in * g.h * g.w);
    return;
  }
  // Stride 1: dx = conv(dy padded by the kernel extent minus the padding, flipped W^T).
  const int64_t eh = g.dil_h * (g.kh - 1), ew = g.dil_w * (g.kw - 1);
  const int64_t top = eh - g.pad_top, left = ew - g.pad_left;
  const int64_t oh = g.out_h(), ow = g.out_w();
  const int64_t bottom = g.h + eh - oh - top, right = g.w + ew - ow - left;
  if (g.stride_h != 1 || g.stride_w != 1 || top < 0 || left < 0 || bottom < 0 || right < 0)
    return backward_data_col2im(g, dy, w, dx, overwrite);
  // The mirrored convolution: input dy (Cout channels), output dx (Cin), same groups.
  ConvGeometry m;
  m.n = g.n, m.c_in = g.c_out, m.h = oh, m.w = ow, m.c_out = g.c_in, m.kh = g.kh, m.kw = g.kw;
  m.dil_h = g.dil_h, m.dil_w = g.dil_w, m.groups = g.groups;
  m.pad_top = top, m.pad_left = left, m.pad_bottom = bottom, m.pad_right = right;
  // W'[ci][co][ki][kj] = W[co][ci][kh-1-ki][kw-1-kj] within each group, packed.
  const int64_t cin_g = g.c_in / g.groups, cout_g = g.c_out / g.groups, khw = g.kh * g.kw;
  float* flipped = scratch<float>(5, static_cast<size_t>(g.c_in * cout_g * khw));
  for (int64_t gi = 0; gi < g.groups; ++gi)
    for (int64_t ci = 0; ci < cin_g; ++ci)
      for (int64_t co = 0; co < cout_g; ++co)
        for (int64_t r = 0; r < khw; ++r)
          flipped[((gi * cin_g + ci) * cout_g + co) * khw + r] =
              w[((gi * cout_g + co) * cin_g + ci) * khw + (khw - 1 - r)];
  if (use_winograd(m))
    return winograd_forward(m, dy, flipped, nullptr, UnaryOp::Identity, 0, dx, !overwrite);
  const float* wpk = packed_weights(m, flipped, cin_g, cout_g * khw, 4);
  forward_pass(m, dy, wpk, nullptr, UnaryOp::Identity, 0, dx, !overwrite);
}

void conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                            float* db) {
  if (g.n == 0 || g.out_h() <= 0 || g.out_w() <= 0) return;
  if (use_direct(g)) return direct_backward_weight(g, x, dy, dw, db);
  if (use_winograd(g)) return winograd_backward_weight(g, x, dy, dw, db);
  gemm_backward_weight(g, x, dy, dw, db);
}

}  // namespace axon::cpu::AXON_ISA_NS
