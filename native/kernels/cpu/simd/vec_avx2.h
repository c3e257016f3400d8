// SIMD vocabulary, AVX2 + FMA level: 8 floats per vector. Masks are all-ones lanes.
#pragma once

#include <immintrin.h>
#include <cstdint>

#include "axon/portable.h"

namespace axon::cpu::avx2::simd {

inline constexpr int kWidth = 8;
using VecF = __m256;
using VecI = __m256i;
using Mask = __m256;

inline __m256i tail_mask(int n) {
  // Lane i is active when i < n.
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

inline VecF zero() { return _mm256_setzero_ps(); }
inline VecF set1(float v) { return _mm256_set1_ps(v); }
inline VecF load(const float* p) { return _mm256_loadu_ps(p); }
inline void store(float* p, VecF v) { _mm256_storeu_ps(p, v); }
inline VecF load_partial(const float* p, int n) { return _mm256_maskload_ps(p, tail_mask(n)); }
inline void store_partial(float* p, VecF v, int n) { _mm256_maskstore_ps(p, tail_mask(n), v); }

inline VecF add(VecF a, VecF b) { return _mm256_add_ps(a, b); }
inline VecF sub(VecF a, VecF b) { return _mm256_sub_ps(a, b); }
inline VecF mul(VecF a, VecF b) { return _mm256_mul_ps(a, b); }
inline VecF div(VecF a, VecF b) { return _mm256_div_ps(a, b); }
inline VecF fmadd(VecF a, VecF b, VecF c) { return _mm256_fmadd_ps(a, b, c); }
inline VecF fnmadd(VecF a, VecF b, VecF c) { return _mm256_fnmadd_ps(a, b, c); }
// The exact rounding error of p = a*b: a*b - p (one fused multiply-add).
inline VecF mul_error(VecF a, VecF b, VecF p) { return _mm256_fmsub_ps(a, b, p); }
inline VecF max(VecF a, VecF b) { return _mm256_max_ps(a, b); }
inline VecF min(VecF a, VecF b) { return _mm256_min_ps(a, b); }
inline VecF abs(VecF a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
inline VecF neg(VecF a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
inline VecF sqrt(VecF a) { return _mm256_sqrt_ps(a); }
inline VecF round_nearest(VecF a) {
  return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
inline VecF copysign(VecF mag, VecF sign) {
  const __m256 s = _mm256_set1_ps(-0.0f);
  return _mm256_or_ps(_mm256_andnot_ps(s, mag), _mm256_and_ps(s, sign));
}

inline Mask lt(VecF a, VecF b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
inline Mask le(VecF a, VecF b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
inline Mask gt(VecF a, VecF b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
inline Mask ge(VecF a, VecF b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
inline Mask eq(VecF a, VecF b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
inline Mask is_nan(VecF a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
inline Mask mask_and(Mask a, Mask b) { return _mm256_and_ps(a, b); }
inline Mask mask_or(Mask a, Mask b) { return _mm256_or_ps(a, b); }
inline bool any(Mask m) { return _mm256_movemask_ps(m) != 0; }
inline VecF select(Mask m, VecF if_true, VecF if_false) {
  return _mm256_blendv_ps(if_false, if_true, m);
}

inline VecI set1_i(int32_t v) { return _mm256_set1_epi32(v); }
inline VecI cvt_to_int(VecF a) { return _mm256_cvtps_epi32(a); }
inline VecF cvt_to_float(VecI a) { return _mm256_cvtepi32_ps(a); }
inline VecI add_i(VecI a, VecI b) { return _mm256_add_epi32(a, b); }
inline VecI sub_i(VecI a, VecI b) { return _mm256_sub_epi32(a, b); }
inline VecI and_i(VecI a, VecI b) { return _mm256_and_si256(a, b); }
inline VecI srai_i(VecI a, int n) { return _mm256_srai_epi32(a, n); }
inline VecI slli_i(VecI a, int n) { return _mm256_slli_epi32(a, n); }
inline VecI srli_i(VecI a, int n) { return _mm256_srli_epi32(a, n); }
inline VecF bitcast_f(VecI a) { return _mm256_castsi256_ps(a); }
inline VecI bitcast_i(VecF a) { return _mm256_castps_si256(a); }

inline float reduce_add(VecF a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float reduce_max(VecF a) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float reduce_min(VecF a) {
  __m128 s = _mm_min_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_min_ps(s, _mm_movehl_ps(s, s));
  s = _mm_min_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Reads a rows x cols block (row-major, leading dimension ld_src; rows, cols <= 8) and writes
// it transposed: dst[c * ld_dst + r]. Used by GEMM packing.
inline void transpose_tile(const float* src, int64_t ld_src, int rows, int cols, float* dst,
                           int64_t ld_dst) {
  __m256 r[8];
  const __m256i cm = tail_mask(cols);
  for (int i = 0; i < 8; ++i)
    r[i] = i < rows ? (cols == 8 ? _mm256_loadu_ps(src + i * ld_src)
                                 : _mm256_maskload_ps(src + i * ld_src, cm))
                    : _mm256_setzero_ps();
  __m256 u[8];  // u[4g + c]: lane L holds column 4L + c of rows 4g..4g+3
  for (int g = 0; g < 2; ++g) {
    __m256 t0 = _mm256_unpacklo_ps(r[4 * g], r[4 * g + 1]);
    __m256 t1 = _mm256_unpackhi_ps(r[4 * g], r[4 * g + 1]);
    __m256 t2 = _mm256_unpacklo_ps(r[4 * g + 2], r[4 * g + 3]);
    __m256 t3 = _mm256_unpackhi_ps(r[4 * g + 2], r[4 * g + 3]);
    u[4 * g + 0] = _mm256_shuffle_ps(t0, t2, 0x44);
    u[4 * g + 1] = _mm256_shuffle_ps(t0, t2, 0xEE);
    u[4 * g + 2] = _mm256_shuffle_ps(t1, t3, 0x44);
    u[4 * g + 3] = _mm256_shuffle_ps(t1, t3, 0xEE);
  }
  const __m256i rm = tail_mask(rows);
  for (int c = 0; c < 4; ++c) {
    __m256 col[2] = {_mm256_permute2f128_ps(u[c], u[4 + c], 0x20),
                     _mm256_permute2f128_ps(u[c], u[4 + c], 0x31)};
    for (int lane = 0; lane < 2; ++lane) {
      const int j = 4 * lane + c;
      if (j >= cols) continue;
      if (rows == 8)
        _mm256_storeu_ps(dst + j * ld_dst, col[lane]);
      else
        _mm256_maskstore_ps(dst + j * ld_dst, rm, col[lane]);
    }
  }
}

inline void prefetch_l1(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }

// Full-width transpose of ROWS (<= 8, compile-time) rows of 8 columns: the branch-free fast
// path of transpose_tile used by GEMM packing. dst[c * ld_dst + r].
template <int ROWS>
AXON_ALWAYS_INLINE void transpose_rows(const float* src, int64_t ld_src, float* dst,
                                       int64_t ld_dst) {
  static_assert(ROWS >= 1 && ROWS <= 8);
  __m256 r[8];
  AXON_UNROLL(8)
  for (int i = 0; i < 8; ++i)
    r[i] = i < ROWS ? _mm256_loadu_ps(src + i * ld_src) : _mm256_setzero_ps();
  __m256 u[8];
  AXON_UNROLL(2)
  for (int g = 0; g < 2; ++g) {
    const __m256 t0 = _mm256_unpacklo_ps(r[4 * g], r[4 * g + 1]);
    const __m256 t1 = _mm256_unpackhi_ps(r[4 * g], r[4 * g + 1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[4 * g + 2], r[4 * g + 3]);
    const __m256 t3 = _mm256_unpackhi_ps(r[4 * g + 2], r[4 * g + 3]);
    u[4 * g + 0] = _mm256_shuffle_ps(t0, t2, 0x44);
    u[4 * g + 1] = _mm256_shuffle_ps(t0, t2, 0xEE);
    u[4 * g + 2] = _mm256_shuffle_ps(t1, t3, 0x44);
    u[4 * g + 3] = _mm256_shuffle_ps(t1, t3, 0xEE);
  }
  const __m256i m = tail_mask(ROWS);
  AXON_UNROLL(4)
  for (int c = 0; c < 4; ++c) {
    const __m256 col0 = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    const __m256 col1 = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    if constexpr (ROWS == 8) {
      _mm256_storeu_ps(dst + c * ld_dst, col0);
      _mm256_storeu_ps(dst + (4 + c) * ld_dst, col1);
    } else {
      _mm256_maskstore_ps(dst + c * ld_dst, m, col0);
      _mm256_maskstore_ps(dst + (4 + c) * ld_dst, m, col1);
    }
  }
}

// out[q] = sum of the lanes of v[q], q < 8 (a transposing hadd tree).
inline void reduce_add8(const VecF* v, float* out) {
  const __m256 h12 = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
  const __m256 h34 = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
  _mm256_storeu_ps(out, _mm256_add_ps(_mm256_permute2f128_ps(h12, h34, 0x20),
                                      _mm256_permute2f128_ps(h12, h34, 0x31)));
}

}  // namespace axon::cpu::avx2::simd
