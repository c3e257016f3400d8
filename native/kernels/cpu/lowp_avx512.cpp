// The reduced-precision microkernels: bfloat16 products with vdpbf16ps (AVX512-BF16) and int8
// products with vpdpbusd (AVX512-VNNI). Compiled with the AVX-512 level, but those two
// extensions are enabled per function (the level's other code must run on AVX-512 CPUs
// without them); lowp_gemm.cpp calls these only after checking the CPU has them.
//
// Register tile: kRows rows x 32 columns (two vectors of 16 float32 / int32 lanes), 24
// accumulators. Per k step (a bf16 pair or 4 int8 values) one broadcast word of each row
// meets two vectors of packed weights. K is walked in chunks whose weight panel slice stays in
// L1 while every row block of the call passes over it.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "lowp_internal.h"
#include "simd/isa.h"
// after simd/isa.h, which names this level's namespace (this file is the AVX-512 level's)
#include "isa_kernels.h"

#if defined(__GNUC__) || defined(__clang__)
#define AXON_LOWP_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx512vnni")))
#else
#define AXON_LOWP_TARGET
#endif

namespace axon::lowp {

namespace {
constexpr int kRows = 12;
// int8 tiles are 8 rows: with 12, GCC 12 spills vpdpbusd's accumulators to the stack
// (measured 173 against 300+ GOP/s).
constexpr int kInt8Rows = 8;
// 128 k steps x 32 columns x 4 bytes: a 16 KB slice of the panel.
constexpr int64_t kChunk = 128;

template <int R>
AXON_LOWP_TARGET void bf16_tile(const int32_t* a, int64_t kp, const int32_t* panel, int64_t s0,
                                int64_t s1, float* y, int64_t ldy, int cols, bool first) {
  __m512 acc[R][2];
  const __mmask16 m0 = static_cast<__mmask16>(cols >= 16 ? 0xFFFF : (1u << cols) - 1u);
  const __mmask16 m1 = static_cast<__mmask16>(cols >= 32   ? 0xFFFF
                                              : cols <= 16 ? 0
                                                           : (1u << (cols - 16)) - 1u);
  for (int r = 0; r < R; ++r) {
    acc[r][0] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m0, y + r * ldy);
    acc[r][1] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m1, y + r * ldy + 16);
  }
  for (int64_t s = s0; s < s1; ++s) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(panel + s * 32);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(panel + s * 32 + 16);
    for (int r = 0; r < R; ++r) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32(a[r * kp + s]);
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm512_mask_storeu_ps(y + r * ldy, m0, acc[r][0]);
    _mm512_mask_storeu_ps(y + r * ldy + 16, m1, acc[r][1]);
  }
}

template <int R>
AXON_LOWP_TARGET void int8_tile(const int32_t* a, int64_t kq, const int32_t* panel, int64_t s0,
                                int64_t s1, int32_t* acc_out) {
  __m512i acc[R][2];
  for (int r = 0; r < R; ++r) {
    acc[r][0] = _mm512_loadu_si512(acc_out + r * 32);
    acc[r][1] = _mm512_loadu_si512(acc_out + r * 32 + 16);
  }
  for (int64_t s = s0; s < s1; ++s) {
    const __m512i b0 = _mm512_loadu_si512(panel + s * 32);
    const __m512i b1 = _mm512_loadu_si512(panel + s * 32 + 16);
    for (int r = 0; r < R; ++r) {
      const __m512i av = _mm512_set1_epi32(a[r * kq + s]);
      acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], av, b0);
      acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], av, b1);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_si512(acc_out + r * 32, acc[r][0]);
    _mm512_storeu_si512(acc_out + r * 32 + 16, acc[r][1]);
  }
}

// y = (acc - 128 colsum) * row_scale * scale for a tile of rows x cols (cols <= 32).
AXON_LOWP_TARGET void dequantize_tile(const int32_t* acc, int rows, int cols, const int32_t* colsum,
                                      const float* scales, const float* row_scale, float* y,
                                      int64_t ldy) {
  const __mmask16 m0 = static_cast<__mmask16>(cols >= 16 ? 0xFFFF : (1u << cols) - 1u);
  const __mmask16 m1 = static_cast<__mmask16>(cols >= 32   ? 0xFFFF
                                              : cols <= 16 ? 0
                                                           : (1u << (cols - 16)) - 1u);
  const __m512i c128 = _mm512_set1_epi32(128);
  const __m512i corr0 = _mm512_mullo_epi32(_mm512_maskz_loadu_epi32(m0, colsum), c128);
  const __m512i corr1 = _mm512_mullo_epi32(_mm512_maskz_loadu_epi32(m1, colsum + 16), c128);
  const __m512 s0 = _mm512_maskz_loadu_ps(m0, scales);
  const __m512 s1 = _mm512_maskz_loadu_ps(m1, scales + 16);
  for (int i = 0; i < rows; ++i) {
    const __m512 rs = _mm512_set1_ps(row_scale[i]);
    const __m512 v0 = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_loadu_si512(acc + i * 32), corr0));
    const __m512 v1 =
        _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_loadu_si512(acc + i * 32 + 16), corr1));
    // (acc - corr) * (row_scale * scale): the scalar loop's order of rounding.
    _mm512_mask_storeu_ps(y + i * ldy, m0, _mm512_mul_ps(v0, _mm512_mul_ps(rs, s0)));
    _mm512_mask_storeu_ps(y + i * ldy + 16, m1, _mm512_mul_ps(v1, _mm512_mul_ps(rs, s1)));
  }
}

// Bias and activation on a finished tile (rows x cols of y), while it is in cache.
void tile_epilogue(float* y, int64_t ldy, int rows, int cols, const float* bias, UnaryOp act,
                   float act_param) {
  for (int r = 0; r < rows; ++r) {
    float* row = y + r * ldy;
    if (bias)
      for (int c = 0; c < cols; ++c) row[c] += bias[c];
    if (act != UnaryOp::Identity) cpu::AXON_ISA_NS::unary_forward(act, row, row, cols, act_param);
  }
}

// Calls tile<R> with R = rows (1..kRows) fixed at compile time.
template <template <int> class F, typename... Args>
void with_rows(int rows, Args&&... args) {
  switch (rows) {
#define AXON_ROWS_CASE(n) \
  case n:                 \
    return F<n>::run(args...);
    AXON_ROWS_CASE(1)
    AXON_ROWS_CASE(2)
    AXON_ROWS_CASE(3)
    AXON_ROWS_CASE(4)
    AXON_ROWS_CASE(5)
    AXON_ROWS_CASE(6)
    AXON_ROWS_CASE(7)
    AXON_ROWS_CASE(8)
    AXON_ROWS_CASE(9)
    AXON_ROWS_CASE(10)
    AXON_ROWS_CASE(11)
    AXON_ROWS_CASE(12)
#undef AXON_ROWS_CASE
    default:
      return;
  }
}
template <int R>
struct Bf16Tile {
  template <typename... A>
  static void run(A... a) {
    bf16_tile<R>(a...);
  }
};
template <int R>
struct Int8Tile {
  template <typename... A>
  static void run(A... a) {
    int8_tile<R>(a...);
  }
};
}  // namespace

AXON_LOWP_TARGET void bf16_convert_avx512(const float* x, int64_t rows, int64_t k, int32_t* out,
                                          int64_t kp) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = x + r * k;
    int32_t* dst = out + r * kp;
    int64_t i = 0;
    // 32 floats -> 32 bf16 (16 pair words), in order: the low half from the first 16.
    for (; i + 32 <= k; i += 32) {
      const __m512bh h =
          _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
      _mm512_storeu_si512(dst + i / 2, (__m512i)h);
    }
    for (; i < k; i += 2) dst[i / 2] = bf16_pair(src[i], i + 1 < k ? src[i + 1] : 0.0f);
  }
}

AXON_LOWP_TARGET void int8_quantize_avx512(const float* x, int64_t rows, int64_t k, int64_t kq,
                                           float* scale, int32_t* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = x + r * k;
    __m512 vmax = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= k; i += 16)
      vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(src + i)));
    float amax = _mm512_reduce_max_ps(vmax);
    for (; i < k; ++i) amax = std::max(amax, std::fabs(src[i]));
    const float sc = int8_scale(amax);
    scale[r] = sc;
    auto* bytes = reinterpret_cast<uint8_t*>(out + r * kq);
    if (sc == 0.0f) {
      std::fill(bytes, bytes + kq * 4, uint8_t{128});
      continue;
    }
    // round(v / scale) (a division, as quantize() does: v * (1 / scale) can round differently
    // at ties), clamped to +-127, plus 128, narrowed to bytes.
    const __m512 vs = _mm512_set1_ps(sc);
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127),
                  off = _mm512_set1_epi32(128);
    for (i = 0; i + 16 <= k; i += 16) {
      const __m512 q = _mm512_roundscale_ps(_mm512_div_ps(_mm512_loadu_ps(src + i), vs),
                                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      __m512i v = _mm512_cvtps_epi32(q);
      v = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, lo), hi), off);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(bytes + i), _mm512_cvtepi32_epi8(v));
    }
    for (; i < kq * 4; ++i)
      bytes[i] = static_cast<uint8_t>(i < k ? quantize(src[i], sc) + 128 : 128);
  }
}

void bf16_gemm_avx512(const int32_t* a, int64_t kp, const int32_t* packed, int64_t n, float* y,
                      int64_t r0, int64_t r1, int64_t p0, int64_t p1, const float* bias,
                      UnaryOp act, float act_param) {
  for (int64_t p = p0; p < p1; ++p) {
    const int32_t* panel = packed + p * kp * 32;
    const int cols = static_cast<int>(std::min<int64_t>(32, n - p * 32));
    for (int64_t s0 = 0; s0 < kp; s0 += kChunk) {
      const int64_t s1 = std::min(kp, s0 + kChunk);
      for (int64_t r = r0; r < r1; r += kRows) {
        const int rows = static_cast<int>(std::min<int64_t>(kRows, r1 - r));
        float* tile = y + r * n + p * 32;
        with_rows<Bf16Tile>(rows, a + r * kp, kp, panel, s0, s1, tile, n, cols, s0 == 0);
        if (s1 == kp)
          tile_epilogue(tile, n, rows, cols, bias ? bias + p * 32 : nullptr, act, act_param);
      }
    }
  }
}

void int8_gemm_avx512(const int32_t* a, int64_t kq, const int32_t* packed, const float* scales,
                      const int32_t* colsum, const float* row_scale, int64_t n, float* y,
                      int64_t r0, int64_t r1, int64_t p0, int64_t p1, const float* bias,
                      UnaryOp act, float act_param) {
  alignas(64) int32_t acc[kInt8Rows * 32];
  for (int64_t p = p0; p < p1; ++p) {
    const int32_t* panel = packed + p * kq * 32;
    const int64_t c0 = p * 32;
    const int cols = static_cast<int>(std::min<int64_t>(32, n - c0));
    for (int64_t r = r0; r < r1; r += kInt8Rows) {
      const int rows = static_cast<int>(std::min<int64_t>(kInt8Rows, r1 - r));
      std::fill(acc, acc + rows * 32, 0);
      // The int32 sums are exact, so the K chunks only serve the cache.
      for (int64_t s0 = 0; s0 < kq; s0 += kChunk)
        with_rows<Int8Tile>(rows, a + r * kq, kq, panel, s0, std::min(kq, s0 + kChunk), acc);
      dequantize_tile(acc, rows, cols, colsum + c0, scales + c0, row_scale + r, y + r * n + c0, n);
      tile_epilogue(y + r * n + c0, n, rows, cols, bias ? bias + c0 : nullptr, act, act_param);
    }
  }
}

}  // namespace axon::lowp
