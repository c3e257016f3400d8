// gemm_microkernel_avx512_12x32: 12 rows x 32 columns of C in 24 zmm accumulators. Each k step
// loads two B vectors and broadcasts 12 A values (folded into the FMAs as {1to16} memory
// operands), 24 FMAs for 14 loads, which keeps both FMA pipes of a Zen 4/5 or Skylake-X core
// busy. Built only into the AVX-512 kernel library.
#include "../simd/isa.h"
#include "microkernel.h"

#if !defined(AXON_ISA_AVX512)
#error "microkernel_avx512.cpp belongs to the AVX-512 build"
#endif

namespace axon::cpu::avx512 {

static_assert(kBlocking.mr == 12 && kBlocking.nr == 32);

void gemm_microkernel(int64_t kc, const float* __restrict ap, const float* __restrict bp,
                      float* __restrict c, int64_t ldc, int mr, int nr, float alpha, float beta) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
  __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
  __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
  __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps();
  __m512 c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
  __m512 c80 = _mm512_setzero_ps(), c81 = _mm512_setzero_ps();
  __m512 c90 = _mm512_setzero_ps(), c91 = _mm512_setzero_ps();
  __m512 ca0 = _mm512_setzero_ps(), ca1 = _mm512_setzero_ps();
  __m512 cb0 = _mm512_setzero_ps(), cb1 = _mm512_setzero_ps();

  // Bring the C tile toward L1 while the k loop runs.
  for (int i = 0; i < mr; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }

#define AXON_ROW(i, r0, r1)                 \
  {                                         \
    const __m512 a = _mm512_set1_ps(ap[i]); \
    r0 = _mm512_fmadd_ps(a, b0, r0);        \
    r1 = _mm512_fmadd_ps(a, b1, r1);        \
  }
#define AXON_STEP                                                                               \
  {                                                                                             \
    const __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);                         \
    AXON_ROW(0, c00, c01)                                                                       \
    AXON_ROW(1, c10, c11) AXON_ROW(2, c20, c21) AXON_ROW(3, c30, c31) AXON_ROW(4, c40, c41)     \
        AXON_ROW(5, c50, c51) AXON_ROW(6, c60, c61) AXON_ROW(7, c70, c71) AXON_ROW(8, c80, c81) \
            AXON_ROW(9, c90, c91) AXON_ROW(10, ca0, ca1) AXON_ROW(11, cb0, cb1) ap += 12;       \
    bp += 32;                                                                                   \
  }

  int64_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    _mm_prefetch(reinterpret_cast<const char*>(bp + 32 * 8), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(bp + 32 * 8 + 16), _MM_HINT_T0);
    AXON_STEP AXON_STEP AXON_STEP AXON_STEP
  }
  for (; k < kc; ++k) AXON_STEP
#undef AXON_STEP
#undef AXON_ROW

  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  const __mmask16 m0 = simd::tail_mask(nr), m1 = simd::tail_mask(nr - 16);
  auto store_row = [&](int i, __m512 r0, __m512 r1) {
    if (i >= mr) return;
    float* row = c + i * ldc;
    r0 = _mm512_mul_ps(r0, va);
    r1 = _mm512_mul_ps(r1, va);
    if (beta != 0.0f) {
      r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, row), r0);
      r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, row + 16), r1);
    }
    _mm512_mask_storeu_ps(row, m0, r0);
    _mm512_mask_storeu_ps(row + 16, m1, r1);
  };
  store_row(0, c00, c01);
  store_row(1, c10, c11);
  store_row(2, c20, c21);
  store_row(3, c30, c31);
  store_row(4, c40, c41);
  store_row(5, c50, c51);
  store_row(6, c60, c61);
  store_row(7, c70, c71);
  store_row(8, c80, c81);
  store_row(9, c90, c91);
  store_row(10, ca0, ca1);
  store_row(11, cb0, cb1);
}

}  // namespace axon::cpu::avx512
