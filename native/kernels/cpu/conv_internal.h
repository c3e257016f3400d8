// Internals shared by the convolution files, compiled once per SIMD level like them (include
// after simd/isa.h): conv.cpp picks the algorithm (its header states the rule and the
// measurements behind it), conv_gemm.cpp is the implicit GEMM (offset microkernel, forward
// pass, col2im, weight gradient), conv_direct.cpp the direct kernels for few taps,
// conv_winograd.cpp Winograd F(4x4, 3x3) / F(2x2, 5x5). Not a public header (axon/kernels.h is).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "axon/aligned.h"
#include "axon/kernels.h"

namespace axon::cpu::AXON_ISA_NS::conv {

using namespace simd;

// Register tile of the offset microkernel: kRows rows x kNv vectors of columns, and narrow
// variants (twice the rows and half the vectors; four times and a quarter) for 32- and
// 16-channel layers on AVX-512, where the full tile would be half or three quarters padding.
#if defined(AXON_ISA_AVX512)
constexpr int kRows = 6, kNv = 4;
#elif defined(AXON_ISA_AVX2)
constexpr int kRows = 6, kNv = 2;
#elif defined(AXON_ISA_NEON)
constexpr int kRows = 8, kNv = 3;
#else
constexpr int kRows = 4, kNv = 4;
#endif
constexpr int kCols = kNv * kWidth;  // output channels per tile
// Rows of the tallest tile variant (arrays of row pointers are sized by it).
constexpr int kMaxTileRows = kNv % 4 == 0 ? 4 * kRows : kNv % 2 == 0 ? 2 * kRows : kRows;
// Reduction steps per call: the B panel (kSteps x kCols) streams from L2, so up to 1024 steps
// (256 KB) run in one pass; splitting K = 800 in two measured 1-2 % slower (C tiles reloaded).
constexpr int64_t kSteps = 1024;
constexpr int64_t kWeightSteps = 512;        // pixels per pass of the weight gradient (its B panel)
constexpr int64_t kPixelBlock = 16 * kRows;  // pixels whose C tile block is transposed at once
constexpr int64_t kBandBytes = 512 * 1024;   // forward_pass's padded input per task, in L2

// Per-thread buffers, grown on demand and kept, so a training step allocates nothing.
template <class T>
T* scratch(int slot, size_t count) {
  struct Buffers {
    void* ptr[8] = {};
    size_t cap[8] = {};
    ~Buffers() {
      for (void* p : ptr) aligned_free(p);
    }
  };
  thread_local Buffers buffers;
  const size_t bytes = count * sizeof(T);
  if (buffers.cap[slot] < bytes) {
    aligned_free(buffers.ptr[slot]);
    buffers.ptr[slot] = aligned_alloc_bytes(64, bytes);
    buffers.cap[slot] = buffers.ptr[slot] ? bytes : 0;
    if (!buffers.ptr[slot]) std::abort();  // out of memory for a few MB of working space
  }
  return static_cast<T*>(buffers.ptr[slot]);
}
// Slots: 0 B panels (per task), 1 C blocks (per task), 2 offsets (per task), 3 padded dx of
// col2im (caller) or shifted planes (direct kernels, per task), 4 packed weights (caller),
// 5 weight-gradient accumulators (caller), 6 padded bands or images (band_buffer, per task:
// only band_buffer writes it, so its zero border survives from one call to the next), 7 the
// Winograd path's output block (per task; it also uses 0-3 per task and 4 for its weights).

// The tile shape for `cols` output columns: the narrow variant when half a tile covers them.
struct Tile {
  int rows, nv;
};
inline Tile tile_for(int64_t cols) {
  if (kNv % 4 == 0 && cols <= kCols / 4) return {4 * kRows, kNv / 4};
  if (kNv % 2 == 0 && cols <= kCols / 2) return {2 * kRows, kNv / 2};
  return {kRows, kNv};
}

// C (+)= A B by the offset microkernel (conv_gemm.cpp) with tile shape t; see offset_kernel.
void run_kernel(Tile t, int64_t steps, const float* const* rows, const int64_t* off,
                const float* bp, float* c, int64_t ldc, int mr, int ncols, float beta,
                const float* init = nullptr, bool relu = false);

inline void zero_run(float* out, int64_t len) {
  int64_t t = 0;
  for (; t + kWidth <= len; t += kWidth) store(out + t, zero());
  if (t < len) store_partial(out + t, zero(), static_cast<int>(len - t));
}

inline void copy_run(float* out, const float* src, int64_t len) {
  int64_t t = 0;
  for (; t + kWidth <= len; t += kWidth) store(out + t, load(src + t));
  if (t < len)
    store_partial(out + t, load_partial(src + t, static_cast<int>(len - t)),
                  static_cast<int>(len - t));
}

// Sum of n floats (a channel's output gradient: its bias gradient).
inline float row_sum(const float* r, int64_t n) {
  VecF sum = zero();
  int64_t j = 0;
  for (; j + kWidth <= n; j += kWidth) sum = add(sum, load(r + j));
  float tail = reduce_add(sum);
  for (; j < n; ++j) tail += r[j];
  return tail;
}

// A convolution over an already padded input: the offset-table view of one pass.
struct Plan {
  int64_t n, c_in, h, w;  // the (padded) input the taps read, no padding left
  int64_t c_out, kh, kw, sh, sw, dh, dw, groups;
  int64_t oh, ow, p;         // output size
  int64_t cin_g, cout_g, k;  // K = cin_g * kh * kw
};

inline Plan plan_of(const ConvGeometry& g, int64_t hp, int64_t wp) {
  Plan q;
  q.n = g.n, q.c_in = g.c_in, q.h = hp, q.w = wp;
  q.c_out = g.c_out, q.kh = g.kh, q.kw = g.kw, q.sh = g.stride_h, q.sw = g.stride_w;
  q.dh = g.dil_h, q.dw = g.dil_w, q.groups = g.groups;
  q.oh = g.out_h(), q.ow = g.out_w(), q.p = q.oh * q.ow;
  q.cin_g = g.c_in / g.groups, q.cout_g = g.c_out / g.groups;
  q.k = q.cin_g * g.kh * g.kw;
  return q;
}

// C block (np pixels x cout_g channels, pixel-major) -> y (NCHW), image runs at a time, with
// the bias and activation applied on each channel row; accumulate adds to y instead.
void store_block(const Plan& q, const float* cblk, int64_t j0, int64_t np, float* y,
                 const float* bias, UnaryOp act, float param, bool accumulate);

// ---- implicit GEMM (conv_gemm.cpp) -----------------------------------------------------------
// y (+)= conv(x, packed weights) for every group and pixel; wpk from packed_weights.
void forward_pass(const ConvGeometry& g, const float* x, const float* wpk, const float* bias,
                  UnaryOp act, float param, float* y, bool accumulate);
// Weights of every group packed for forward_pass: [group][panel][k][width], in scratch `slot`.
float* packed_weights(const ConvGeometry& g, const float* w, int64_t cout_g, int64_t k, int slot);
// dx += the data gradient of a strided convolution, by GEMM and col2im.
void backward_data_col2im(const ConvGeometry& g, const float* dy, const float* w, float* dx,
                          bool overwrite);
// dw (+)= and db (+)= the weight and bias gradients (db may be null).
void gemm_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                          float* db);

// ---- direct kernels for few input taps (conv_direct.cpp) -------------------------------------
// Output channels per tile (kDirectCo) and vectors of outputs per tile (kDirectV).
#if defined(AXON_ISA_AVX512) || defined(AXON_ISA_NEON)
constexpr int kDirectCo = 8, kDirectV = 3;  // 24 accumulators of 32 registers
#elif defined(AXON_ISA_AVX2)
constexpr int kDirectCo = 4, kDirectV = 3;  // 12 of 16
#else
constexpr int kDirectCo = 4, kDirectV = 2;
#endif
constexpr int64_t kDirectMaxTaps = 32;
// Below this many multiply-adds the direct forward runs as one task per image: splitting an
// image into bands costs more than the second thread gains.
constexpr double kDirectMinSplitMacs = 5e5;
void direct_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    UnaryOp act, float param, float* y);
void direct_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                            float* db);

// ---- Winograd (conv_winograd.cpp), for geometries winograd_applies to (conv.cpp) -----------
void winograd_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                      UnaryOp act, float param, float* y, bool accumulate);
void winograd_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                              float* db);

}  // namespace axon::cpu::AXON_ISA_NS::conv
