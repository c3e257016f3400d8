// SIMD vocabulary, AArch64 Advanced SIMD (NEON) level: 4 floats per vector. Compiled only on
// arm64 builds; masks are all-ones lanes as on AVX2.
#pragma once

#include <arm_neon.h>
#include <cstdint>

#include "axon/portable.h"

namespace axon::cpu::neon::simd {

inline constexpr int kWidth = 4;
using VecF = float32x4_t;
using VecI = int32x4_t;
using Mask = uint32x4_t;

inline VecF zero() { return vdupq_n_f32(0.0f); }
inline VecF set1(float v) { return vdupq_n_f32(v); }
inline VecF load(const float* p) { return vld1q_f32(p); }
inline void store(float* p, VecF v) { vst1q_f32(p, v); }
inline VecF load_partial(const float* p, int n) {
  float tmp[4] = {0, 0, 0, 0};
  for (int i = 0; i < n && i < 4; ++i) tmp[i] = p[i];
  return vld1q_f32(tmp);
}
inline void store_partial(float* p, VecF v, int n) {
  float tmp[4];
  vst1q_f32(tmp, v);
  for (int i = 0; i < n && i < 4; ++i) p[i] = tmp[i];
}

inline VecF add(VecF a, VecF b) { return vaddq_f32(a, b); }
inline VecF sub(VecF a, VecF b) { return vsubq_f32(a, b); }
inline VecF mul(VecF a, VecF b) { return vmulq_f32(a, b); }
inline VecF div(VecF a, VecF b) { return vdivq_f32(a, b); }
inline VecF fmadd(VecF a, VecF b, VecF c) { return vfmaq_f32(c, a, b); }
inline VecF fnmadd(VecF a, VecF b, VecF c) { return vfmsq_f32(c, a, b); }
// The exact rounding error of p = a*b: a*b - p (one fused multiply-add).
inline VecF mul_error(VecF a, VecF b, VecF p) { return vnegq_f32(vfmsq_f32(p, a, b)); }
// Same NaN rule as x86: when either input is NaN the result is b.
inline VecF max(VecF a, VecF b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
inline VecF min(VecF a, VecF b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
inline VecF abs(VecF a) { return vabsq_f32(a); }
inline VecF neg(VecF a) { return vnegq_f32(a); }
inline VecF sqrt(VecF a) { return vsqrtq_f32(a); }
inline VecF round_nearest(VecF a) { return vrndnq_f32(a); }
inline VecF copysign(VecF mag, VecF sign) { return vbslq_f32(vdupq_n_u32(0x80000000u), sign, mag); }

inline Mask lt(VecF a, VecF b) { return vcltq_f32(a, b); }
inline Mask le(VecF a, VecF b) { return vcleq_f32(a, b); }
inline Mask gt(VecF a, VecF b) { return vcgtq_f32(a, b); }
inline Mask ge(VecF a, VecF b) { return vcgeq_f32(a, b); }
inline Mask eq(VecF a, VecF b) { return vceqq_f32(a, b); }
inline Mask is_nan(VecF a) { return vmvnq_u32(vceqq_f32(a, a)); }
inline Mask mask_and(Mask a, Mask b) { return vandq_u32(a, b); }
inline Mask mask_or(Mask a, Mask b) { return vorrq_u32(a, b); }
inline bool any(Mask m) { return vmaxvq_u32(m) != 0; }
inline VecF select(Mask m, VecF if_true, VecF if_false) { return vbslq_f32(m, if_true, if_false); }

inline VecI set1_i(int32_t v) { return vdupq_n_s32(v); }
inline VecI cvt_to_int(VecF a) { return vcvtnq_s32_f32(a); }
inline VecF cvt_to_float(VecI a) { return vcvtq_f32_s32(a); }
inline VecI add_i(VecI a, VecI b) { return vaddq_s32(a, b); }
inline VecI sub_i(VecI a, VecI b) { return vsubq_s32(a, b); }
inline VecI and_i(VecI a, VecI b) { return vandq_s32(a, b); }
inline VecI srai_i(VecI a, int n) { return vshlq_s32(a, vdupq_n_s32(-n)); }
inline VecI slli_i(VecI a, int n) { return vshlq_s32(a, vdupq_n_s32(n)); }
inline VecI srli_i(VecI a, int n) {
  return vreinterpretq_s32_u32(vshlq_u32(vreinterpretq_u32_s32(a), vdupq_n_s32(-n)));
}
inline VecF bitcast_f(VecI a) { return vreinterpretq_f32_s32(a); }
inline VecI bitcast_i(VecF a) { return vreinterpretq_s32_f32(a); }

inline float reduce_add(VecF a) { return vaddvq_f32(a); }
inline float reduce_max(VecF a) { return vmaxvq_f32(a); }
inline float reduce_min(VecF a) { return vminvq_f32(a); }

// Reads a rows x cols block (row-major, leading dimension ld_src; rows, cols <= 4) and writes
// it transposed: dst[c * ld_dst + r]. Used by GEMM packing.
inline void transpose_tile(const float* src, int64_t ld_src, int rows, int cols, float* dst,
                           int64_t ld_dst) {
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) dst[c * ld_dst + r] = src[r * ld_src + c];
}

inline void prefetch_l1(const void* p) { AXON_PREFETCH(p, 0, 3); }

// Full-width transpose of ROWS rows of kWidth columns (GEMM packing fast path).
template <int ROWS>
inline void transpose_rows(const float* src, int64_t ld_src, float* dst, int64_t ld_dst) {
  transpose_tile(src, ld_src, ROWS, kWidth, dst, ld_dst);
}

// out[q] = sum of the lanes of v[q], q < 8.
inline void reduce_add8(const VecF* v, float* out) {
  const float32x4_t a = vpaddq_f32(vpaddq_f32(v[0], v[1]), vpaddq_f32(v[2], v[3]));
  const float32x4_t b = vpaddq_f32(vpaddq_f32(v[4], v[5]), vpaddq_f32(v[6], v[7]));
  vst1q_f32(out, a);
  vst1q_f32(out + 4, b);
}

}  // namespace axon::cpu::neon::simd
