// gemm_microkernel_avx512_6x64: 6 rows x 64 columns of C in 24 zmm accumulators. Each k step
// loads four B vectors and broadcasts 6 A values: 24 FMAs for 10 loads, which keeps both FMA
// pipes of a Zen 4/5 or Skylake-X core busy with load slots to spare. Six rows waste little on
// the batch sizes nets use (64 = 10 x 6 + 4), and a 64-wide row of C is four whole vectors.
// Built only into the AVX-512 kernel library.
#include "../simd/isa.h"
#include "microkernel.h"

#if !defined(AXON_ISA_AVX512)
#error "microkernel_avx512.cpp belongs to the AVX-512 build"
#endif

namespace axon::cpu::avx512 {

static_assert(kBlocking.mr == 6 && kBlocking.nr == 64);

void gemm_microkernel(int64_t kc, const float* __restrict a, int64_t rs_a, int64_t cs_a,
                      const float* __restrict bp, float* __restrict c, int64_t ldc, int mr, int nr,
                      float alpha, float beta) {
  // Row i of the A tile starts at a + i*rs_a; rows past mr repeat the last one (their results
  // are never stored), so an edge tile reads nothing outside A.
  const float* a0 = a;
  const float* a1 = a + (mr > 1 ? 1 : 0) * rs_a;
  const float* a2 = a + (mr > 2 ? 2 : mr - 1) * rs_a;
  const float* a3 = a + (mr > 3 ? 3 : mr - 1) * rs_a;
  const float* a4 = a + (mr > 4 ? 4 : mr - 1) * rs_a;
  const float* a5 = a + (mr > 5 ? 5 : mr - 1) * rs_a;
  int64_t ko = 0;  // element offset of the current k along each row
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c02 = _mm512_setzero_ps(),
         c03 = _mm512_setzero_ps();
  __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps(), c12 = _mm512_setzero_ps(),
         c13 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c22 = _mm512_setzero_ps(),
         c23 = _mm512_setzero_ps();
  __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps(), c32 = _mm512_setzero_ps(),
         c33 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c42 = _mm512_setzero_ps(),
         c43 = _mm512_setzero_ps();
  __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps(), c52 = _mm512_setzero_ps(),
         c53 = _mm512_setzero_ps();

  // Bring the C tile toward L1 while the k loop runs.
  for (int i = 0; i < mr; ++i)
    for (int v = 0; v < 4; ++v)
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16 * v), _MM_HINT_T0);

#define AXON_ROW(ai, r0, r1, r2, r3)         \
  {                                          \
    const __m512 a = _mm512_set1_ps(ai[ko]); \
    r0 = _mm512_fmadd_ps(a, b0, r0);         \
    r1 = _mm512_fmadd_ps(a, b1, r1);         \
    r2 = _mm512_fmadd_ps(a, b2, r2);         \
    r3 = _mm512_fmadd_ps(a, b3, r3);         \
  }
#define AXON_STEP                                                            \
  {                                                                          \
    const __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);      \
    const __m512 b2 = _mm512_load_ps(bp + 32), b3 = _mm512_load_ps(bp + 48); \
    AXON_ROW(a0, c00, c01, c02, c03)                                         \
    AXON_ROW(a1, c10, c11, c12, c13)                                         \
    AXON_ROW(a2, c20, c21, c22, c23)                                         \
    AXON_ROW(a3, c30, c31, c32, c33)                                         \
    AXON_ROW(a4, c40, c41, c42, c43)                                         \
    AXON_ROW(a5, c50, c51, c52, c53)                                         \
    ko += cs_a;                                                              \
    bp += 64;                                                                \
  }

  int64_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    _mm_prefetch(reinterpret_cast<const char*>(bp + 64 * 6), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(bp + 64 * 6 + 16), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(bp + 64 * 6 + 32), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(bp + 64 * 6 + 48), _MM_HINT_T0);
    AXON_STEP AXON_STEP AXON_STEP AXON_STEP
  }
  for (; k < kc; ++k) AXON_STEP
#undef AXON_STEP
#undef AXON_ROW

  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  const __mmask16 m0 = simd::tail_mask(nr), m1 = simd::tail_mask(nr - 16),
                  m2 = simd::tail_mask(nr - 32), m3 = simd::tail_mask(nr - 48);
  auto store_row = [&](int i, __m512 r0, __m512 r1, __m512 r2, __m512 r3) {
    if (i >= mr) return;
    float* row = c + i * ldc;
    r0 = _mm512_mul_ps(r0, va);
    r1 = _mm512_mul_ps(r1, va);
    r2 = _mm512_mul_ps(r2, va);
    r3 = _mm512_mul_ps(r3, va);
    if (beta != 0.0f) {
      r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, row), r0);
      r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, row + 16), r1);
      r2 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m2, row + 32), r2);
      r3 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m3, row + 48), r3);
    }
    _mm512_mask_storeu_ps(row, m0, r0);
    _mm512_mask_storeu_ps(row + 16, m1, r1);
    _mm512_mask_storeu_ps(row + 32, m2, r2);
    _mm512_mask_storeu_ps(row + 48, m3, r3);
  };
  store_row(0, c00, c01, c02, c03);
  store_row(1, c10, c11, c12, c13);
  store_row(2, c20, c21, c22, c23);
  store_row(3, c30, c31, c32, c33);
  store_row(4, c40, c41, c42, c43);
  store_row(5, c50, c51, c52, c53);
}

}  // namespace axon::cpu::avx512
