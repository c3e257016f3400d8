// Shared by the reduced-precision linear layers (lowp_gemm.cpp, compiled once) and their
// AVX-512 microkernels (lowp_avx512.cpp, compiled with the AVX-512 level), and the naive twin.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "axon/kernels.h"

namespace axon::lowp {

// Output columns per packed panel.
inline constexpr int64_t kBf16Panel = 32;
inline constexpr int64_t kInt8Panel = 16;

// float -> bfloat16, round to nearest even; NaN stays a (quiet) NaN.
inline uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline float from_bf16(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
// Two bfloat16 values in one word, the first in the low half (the order vdpbf16ps pairs them).
inline int32_t bf16_pair(float lo, float hi) {
  return static_cast<int32_t>(static_cast<uint32_t>(to_bf16(lo)) |
                              (static_cast<uint32_t>(to_bf16(hi)) << 16));
}

// The int8 scale of a row or channel with largest magnitude `amax`: values map to
// round(v / scale) in [-127, 127]. An all-zero row gets scale 0 (and quantises to zeros).
inline float int8_scale(float amax) { return amax / 127.0f; }
inline int32_t quantize(float v, float scale) {
  if (scale == 0.0f) return 0;
  const float q = std::nearbyint(v / scale);
  return static_cast<int32_t>(q < -127.0f ? -127.0f : q > 127.0f ? 127.0f : q);
}

#if defined(AXON_HAVE_AVX512) || defined(AXON_ISA_AVX512)
// AVX-512 microkernels (lowp_avx512.cpp); callers check the CPU has BF16 / VNNI first.
// x (m, k) to bf16 pairs: out row r at r * kp words, zero-padded to kp = ceil(k / 2).
void bf16_convert_avx512(const float* x, int64_t rows, int64_t k, int32_t* out, int64_t kp);
// Per-row int8 quantisation of x (as quantize() does it): scale[r], and x + 128 in bytes, kq
// words per row.
void int8_quantize_avx512(const float* x, int64_t rows, int64_t k, int64_t kq, float* scale,
                          int32_t* out);
// y[rows r0..r1, panels p0..p1] = act(a (bf16 pairs, kp per row) times the packed panels
// + bias), the bias (may be null) and activation applied to each tile while it is in cache.
void bf16_gemm_avx512(const int32_t* a, int64_t kp, const int32_t* packed, int64_t n, float* y,
                      int64_t r0, int64_t r1, int64_t p0, int64_t p1, const float* bias,
                      UnaryOp act, float act_param);
// The same for int8: a holds x + 128 as bytes, kq words per row; y = (acc - 128 colsum) *
// row_scale[r] * scales[c].
void int8_gemm_avx512(const int32_t* a, int64_t kq, const int32_t* packed, const float* scales,
                      const int32_t* colsum, const float* row_scale, int64_t n, float* y,
                      int64_t r0, int64_t r1, int64_t p0, int64_t p1, const float* bias,
                      UnaryOp act, float act_param);
#endif

}  // namespace axon::lowp
