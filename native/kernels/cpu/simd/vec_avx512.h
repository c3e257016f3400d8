// SIMD vocabulary, AVX-512 (F, BW, VL, DQ) level: 16 floats per vector, k-register masks.
#pragma once

#include <immintrin.h>
#include <cstdint>

#include "axon/portable.h"

namespace axon::cpu::avx512::simd {

inline constexpr int kWidth = 16;
using VecF = __m512;
using VecI = __m512i;
using Mask = __mmask16;

inline __mmask16 tail_mask(int n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF)
                 : static_cast<__mmask16>((1u << (n > 0 ? n : 0)) - 1u);
}

inline VecF zero() { return _mm512_setzero_ps(); }
inline VecF set1(float v) { return _mm512_set1_ps(v); }
inline VecF load(const float* p) { return _mm512_loadu_ps(p); }
inline void store(float* p, VecF v) { _mm512_storeu_ps(p, v); }
inline VecF load_partial(const float* p, int n) { return _mm512_maskz_loadu_ps(tail_mask(n), p); }
inline void store_partial(float* p, VecF v, int n) { _mm512_mask_storeu_ps(p, tail_mask(n), v); }

inline VecF add(VecF a, VecF b) { return _mm512_add_ps(a, b); }
inline VecF sub(VecF a, VecF b) { return _mm512_sub_ps(a, b); }
inline VecF mul(VecF a, VecF b) { return _mm512_mul_ps(a, b); }
inline VecF div(VecF a, VecF b) { return _mm512_div_ps(a, b); }
inline VecF fmadd(VecF a, VecF b, VecF c) { return _mm512_fmadd_ps(a, b, c); }
inline VecF fnmadd(VecF a, VecF b, VecF c) { return _mm512_fnmadd_ps(a, b, c); }
// The exact rounding error of p = a*b: a*b - p (one fused multiply-add).
inline VecF mul_error(VecF a, VecF b, VecF p) { return _mm512_fmsub_ps(a, b, p); }
inline VecF max(VecF a, VecF b) { return _mm512_max_ps(a, b); }
inline VecF min(VecF a, VecF b) { return _mm512_min_ps(a, b); }
inline VecF abs(VecF a) { return _mm512_abs_ps(a); }
inline VecF neg(VecF a) {
  return _mm512_castsi512_ps(
      _mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(static_cast<int>(0x80000000u))));
}
inline VecF sqrt(VecF a) { return _mm512_sqrt_ps(a); }
inline VecF round_nearest(VecF a) {
  return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
inline VecF copysign(VecF mag, VecF sign) {
  const __m512i s = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  // ternary logic 0xCA = A ? B : C with A = sign-bit mask, B = sign, C = mag
  return _mm512_castsi512_ps(
      _mm512_ternarylogic_epi32(s, _mm512_castps_si512(sign), _mm512_castps_si512(mag), 0xCA));
}

inline Mask lt(VecF a, VecF b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
inline Mask le(VecF a, VecF b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
inline Mask gt(VecF a, VecF b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
inline Mask ge(VecF a, VecF b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
inline Mask eq(VecF a, VecF b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
inline Mask is_nan(VecF a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
inline Mask mask_and(Mask a, Mask b) { return static_cast<Mask>(a & b); }
inline Mask mask_or(Mask a, Mask b) { return static_cast<Mask>(a | b); }
inline bool any(Mask m) { return m != 0; }
inline VecF select(Mask m, VecF if_true, VecF if_false) {
  return _mm512_mask_blend_ps(m, if_false, if_true);
}

inline VecI set1_i(int32_t v) { return _mm512_set1_epi32(v); }
inline VecI cvt_to_int(VecF a) { return _mm512_cvtps_epi32(a); }
inline VecF cvt_to_float(VecI a) { return _mm512_cvtepi32_ps(a); }
inline VecI add_i(VecI a, VecI b) { return _mm512_add_epi32(a, b); }
inline VecI sub_i(VecI a, VecI b) { return _mm512_sub_epi32(a, b); }
inline VecI and_i(VecI a, VecI b) { return _mm512_and_si512(a, b); }
inline VecI srai_i(VecI a, int n) { return _mm512_srai_epi32(a, static_cast<unsigned>(n)); }
inline VecI slli_i(VecI a, int n) { return _mm512_slli_epi32(a, static_cast<unsigned>(n)); }
inline VecI srli_i(VecI a, int n) { return _mm512_srli_epi32(a, static_cast<unsigned>(n)); }
inline VecF bitcast_f(VecI a) { return _mm512_castsi512_ps(a); }
inline VecI bitcast_i(VecF a) { return _mm512_castps_si512(a); }

// Lane moves and integer masks for kernels that pair lanes up (the 2x2 max pool,
// pool_plane.cpp). Defined where they compile to a single instruction each; the scalar header
// states their meaning for a one-lane vector.
#define AXON_SIMD_LANE_PERMUTES 1
inline VecI iota_i() {
  return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}
// Loads and stores of the lanes m selects (loads zero the others), for a mask computed once
// and used several times.
inline VecF load_masked(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
inline void store_masked(float* p, VecF v, Mask m) { _mm512_mask_storeu_ps(p, m, v); }
inline VecI load_masked_i(const int32_t* p, Mask m) { return _mm512_maskz_loadu_epi32(m, p); }
inline void store_masked_i(int32_t* p, VecI v, Mask m) { _mm512_mask_storeu_epi32(p, m, v); }
// Lanes 0, 2, 4, ... (even_lanes) or 1, 3, 5, ... (odd_lanes) of the 2 * kWidth lanes lo:hi.
inline VecF even_lanes(VecF lo, VecF hi) {
  return _mm512_permutex2var_ps(
      lo, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), hi);
}
inline VecF odd_lanes(VecF lo, VecF hi) {
  return _mm512_permutex2var_ps(
      lo, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), hi);
}
// Lanes 0 .. kWidth/2 - 1 of a, each twice: a0 a0 a1 a1 ...
inline VecF dup_low_lanes(VecF a) {
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
                               a);
}
inline VecI dup_low_lanes_i(VecI a) {
  return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
                                  a);
}
inline Mask eq_i(VecI a, VecI b) { return _mm512_cmpeq_epi32_mask(a, b); }
// m ? if_true : if_false per lane, and m ? a : 0.
inline VecI select_i(Mask m, VecI if_true, VecI if_false) {
  return _mm512_mask_mov_epi32(if_false, m, if_true);
}
inline VecF zero_unless(Mask m, VecF a) { return _mm512_maskz_mov_ps(m, a); }
inline int count(Mask m) { return ::axon::popcount32(m); }

inline float reduce_add(VecF a) {
  __m256 s = _mm256_add_ps(_mm512_castps512_ps256(a),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}
inline float reduce_max(VecF a) {
  __m256 s = _mm256_max_ps(_mm512_castps512_ps256(a),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}
inline float reduce_min(VecF a) {
  __m256 s = _mm256_min_ps(_mm512_castps512_ps256(a),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
  __m128 h = _mm_min_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_min_ps(h, _mm_movehl_ps(h, h));
  h = _mm_min_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

// Reads a rows x cols block (row-major, leading dimension ld_src; rows, cols <= 16) and writes
// it transposed: dst[c * ld_dst + r]. Used by GEMM packing.
inline void transpose_tile(const float* src, int64_t ld_src, int rows, int cols, float* dst,
                           int64_t ld_dst) {
  __m512 r[16];
  for (int i = 0; i < 16; ++i)
    r[i] = i < rows ? (cols == 16 ? _mm512_loadu_ps(src + i * ld_src)
                                  : _mm512_maskz_loadu_ps(tail_mask(cols), src + i * ld_src))
                    : _mm512_setzero_ps();
  __m512 u[16];  // u[4g + c]: lane L holds column 4L + c of rows 4g..4g+3
  for (int g = 0; g < 4; ++g) {
    __m512 t0 = _mm512_unpacklo_ps(r[4 * g], r[4 * g + 1]);
    __m512 t1 = _mm512_unpackhi_ps(r[4 * g], r[4 * g + 1]);
    __m512 t2 = _mm512_unpacklo_ps(r[4 * g + 2], r[4 * g + 3]);
    __m512 t3 = _mm512_unpackhi_ps(r[4 * g + 2], r[4 * g + 3]);
    u[4 * g + 0] = _mm512_shuffle_ps(t0, t2, 0x44);
    u[4 * g + 1] = _mm512_shuffle_ps(t0, t2, 0xEE);
    u[4 * g + 2] = _mm512_shuffle_ps(t1, t3, 0x44);
    u[4 * g + 3] = _mm512_shuffle_ps(t1, t3, 0xEE);
  }
  const __mmask16 m = tail_mask(rows);
  for (int c = 0; c < 4; ++c) {
    __m512 ab_lo = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44);
    __m512 ab_hi = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
    __m512 cd_lo = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
    __m512 cd_hi = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
    __m512 col[4] = {
        _mm512_shuffle_f32x4(ab_lo, cd_lo, 0x88), _mm512_shuffle_f32x4(ab_lo, cd_lo, 0xDD),
        _mm512_shuffle_f32x4(ab_hi, cd_hi, 0x88), _mm512_shuffle_f32x4(ab_hi, cd_hi, 0xDD)};
    for (int lane = 0; lane < 4; ++lane) {
      const int j = 4 * lane + c;
      if (j >= cols) continue;
      if (rows == 16)
        _mm512_storeu_ps(dst + j * ld_dst, col[lane]);
      else
        _mm512_mask_storeu_ps(dst + j * ld_dst, m, col[lane]);
    }
  }
}

inline void prefetch_l1(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }

// Full-width transpose of ROWS (<= 16, a compile-time count) rows of 16 columns: the
// branch-free fast path of transpose_tile used by GEMM packing. dst[c * ld_dst + r].
template <int ROWS>
AXON_ALWAYS_INLINE void transpose_rows(const float* src, int64_t ld_src, float* dst,
                                       int64_t ld_dst) {
  static_assert(ROWS >= 1 && ROWS <= 16);
  __m512 r[16];
  AXON_UNROLL(16)
  for (int i = 0; i < 16; ++i)
    r[i] = i < ROWS ? _mm512_loadu_ps(src + i * ld_src) : _mm512_setzero_ps();
  __m512 u[16];
  AXON_UNROLL(4)
  for (int g = 0; g < 4; ++g) {
    const __m512 t0 = _mm512_unpacklo_ps(r[4 * g], r[4 * g + 1]);
    const __m512 t1 = _mm512_unpackhi_ps(r[4 * g], r[4 * g + 1]);
    const __m512 t2 = _mm512_unpacklo_ps(r[4 * g + 2], r[4 * g + 3]);
    const __m512 t3 = _mm512_unpackhi_ps(r[4 * g + 2], r[4 * g + 3]);
    u[4 * g + 0] = _mm512_shuffle_ps(t0, t2, 0x44);
    u[4 * g + 1] = _mm512_shuffle_ps(t0, t2, 0xEE);
    u[4 * g + 2] = _mm512_shuffle_ps(t1, t3, 0x44);
    u[4 * g + 3] = _mm512_shuffle_ps(t1, t3, 0xEE);
  }
  constexpr __mmask16 m = static_cast<__mmask16>((1u << ROWS) - 1u);
  AXON_UNROLL(4)
  for (int c = 0; c < 4; ++c) {
    const __m512 ab_lo = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44);
    const __m512 ab_hi = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
    const __m512 cd_lo = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
    const __m512 cd_hi = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
    const __m512 col0 = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0x88);
    const __m512 col1 = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0xDD);
    const __m512 col2 = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0x88);
    const __m512 col3 = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0xDD);
    if constexpr (ROWS == 16) {
      _mm512_storeu_ps(dst + (c)*ld_dst, col0);
      _mm512_storeu_ps(dst + (4 + c) * ld_dst, col1);
      _mm512_storeu_ps(dst + (8 + c) * ld_dst, col2);
      _mm512_storeu_ps(dst + (12 + c) * ld_dst, col3);
    } else {
      _mm512_mask_storeu_ps(dst + (c)*ld_dst, m, col0);
      _mm512_mask_storeu_ps(dst + (4 + c) * ld_dst, m, col1);
      _mm512_mask_storeu_ps(dst + (8 + c) * ld_dst, m, col2);
      _mm512_mask_storeu_ps(dst + (12 + c) * ld_dst, m, col3);
    }
  }
}

// out[q] = sum of the lanes of v[q], q < 8: a transposing reduction (about 3 operations per
// sum instead of ~10 for separate reduce_add calls).
inline void reduce_add8(const VecF* v, float* out) {
  __m512 s[4];
  for (int p = 0; p < 4; ++p)  // 512 -> 256: halves of v[2p] and v[2p+1] side by side
    s[p] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * p], v[2 * p + 1], 0x44),
                         _mm512_shuffle_f32x4(v[2 * p], v[2 * p + 1], 0xEE));
  // 256 -> 128: lane L of t0 holds four partial sums of v[L], of t1 those of v[4 + L].
  const __m512 t0 =
      _mm512_add_ps(_mm512_shuffle_f32x4(s[0], s[1], 0x88), _mm512_shuffle_f32x4(s[0], s[1], 0xDD));
  const __m512 t1 =
      _mm512_add_ps(_mm512_shuffle_f32x4(s[2], s[3], 0x88), _mm512_shuffle_f32x4(s[2], s[3], 0xDD));
  const __m512 w = _mm512_add_ps(_mm512_unpacklo_ps(t0, t1), _mm512_unpackhi_ps(t0, t1));
  const __m512 z = _mm512_add_ps(w, _mm512_shuffle_ps(w, w, 0x4E));  // lane L: [v[L], v[4+L], ..]
  const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
  _mm256_storeu_ps(out, _mm512_castps512_ps256(_mm512_permutexvar_ps(idx, z)));
}

}  // namespace axon::cpu::avx512::simd
