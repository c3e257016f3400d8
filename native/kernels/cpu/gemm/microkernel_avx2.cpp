// gemm_microkernel_avx2_6x16: 6 rows x 16 columns of C in 12 ymm accumulators; each k step
// loads two B vectors and broadcasts 6 A values (12 FMAs). Built only into the AVX2 library.
#include "../simd/isa.h"
#include "microkernel.h"

#if !defined(AXON_ISA_AVX2)
#error "microkernel_avx2.cpp belongs to the AVX2 build"
#endif

namespace axon::cpu::avx2 {

static_assert(kBlocking.mr == 6 && kBlocking.nr == 16);

void gemm_microkernel(int64_t kc, const float* __restrict a, int64_t rs_a, int64_t cs_a,
                      const float* __restrict bp, float* __restrict c, int64_t ldc, int mr, int nr,
                      float alpha, float beta) {
  // Row i of the A tile starts at a + i*rs_a; rows past mr repeat the last one.
  const float* a0 = a;
  const float* a1 = a + (mr > 1 ? 1 : 0) * rs_a;
  const float* a2 = a + (mr > 2 ? 2 : mr - 1) * rs_a;
  const float* a3 = a + (mr > 3 ? 3 : mr - 1) * rs_a;
  const float* a4 = a + (mr > 4 ? 4 : mr - 1) * rs_a;
  const float* a5 = a + (mr > 5 ? 5 : mr - 1) * rs_a;
  int64_t ko = 0;
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int i = 0; i < mr; ++i)
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);

#define AXON_ROW(ai, r0, r1)                       \
  {                                                \
    const __m256 a = _mm256_broadcast_ss(ai + ko); \
    r0 = _mm256_fmadd_ps(a, b0, r0);               \
    r1 = _mm256_fmadd_ps(a, b1, r1);               \
  }
#define AXON_STEP                                                      \
  {                                                                    \
    const __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8); \
    AXON_ROW(a0, c00, c01)                                             \
    AXON_ROW(a1, c10, c11)                                             \
    AXON_ROW(a2, c20, c21)                                             \
    AXON_ROW(a3, c30, c31)                                             \
    AXON_ROW(a4, c40, c41)                                             \
    AXON_ROW(a5, c50, c51)                                             \
    ko += cs_a;                                                        \
    bp += 16;                                                          \
  }
  int64_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    _mm_prefetch(reinterpret_cast<const char*>(bp + 16 * 8), _MM_HINT_T0);
    AXON_STEP AXON_STEP AXON_STEP AXON_STEP
  }
  for (; k < kc; ++k) AXON_STEP
#undef AXON_STEP
#undef AXON_ROW

  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  const __m256i m0 = simd::tail_mask(nr), m1 = simd::tail_mask(nr - 8);
  auto store_row = [&](int i, __m256 r0, __m256 r1) {
    if (i >= mr) return;
    float* row = c + i * ldc;
    r0 = _mm256_mul_ps(r0, va);
    r1 = _mm256_mul_ps(r1, va);
    if (beta != 0.0f) {
      r0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(row, m0), r0);
      r1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(row + 8, m1), r1);
    }
    _mm256_maskstore_ps(row, m0, r0);
    _mm256_maskstore_ps(row + 8, m1, r1);
  };
  store_row(0, c00, c01);
  store_row(1, c10, c11);
  store_row(2, c20, c21);
  store_row(3, c30, c31);
  store_row(4, c40, c41);
  store_row(5, c50, c51);
}

}  // namespace axon::cpu::avx2
