// gemm_microkernel_generic_<MR>x<NR>: the register-blocked microkernel written once over the
// SIMD vocabulary, for the levels without a hand-scheduled one (scalar, NEON).
#include "../simd/isa.h"
#include "microkernel.h"

#if defined(AXON_ISA_AVX2) || defined(AXON_ISA_AVX512)
#error "AVX2 and AVX-512 use their own microkernel files"
#endif

namespace axon::cpu::AXON_ISA_NS {

using namespace simd;

namespace {
constexpr int kMR = kBlocking.mr;
constexpr int kNV = kBlocking.nr / kWidth;  // vectors per row of the tile
static_assert(kBlocking.nr % kWidth == 0);
}  // namespace

void gemm_microkernel(int64_t kc, const float* __restrict a, int64_t rs_a, int64_t cs_a,
                      const float* __restrict bp, float* __restrict c, int64_t ldc, int mr, int nr,
                      float alpha, float beta) {
  // Row i of the A tile starts at a + i*rs_a; rows past mr repeat the last one.
  const float* arow[kMR];
  for (int i = 0; i < kMR; ++i) arow[i] = a + (i < mr ? i : mr - 1) * rs_a;
  VecF acc[kMR][kNV];
  for (int i = 0; i < kMR; ++i)
    for (int v = 0; v < kNV; ++v) acc[i][v] = zero();
  for (int64_t k = 0; k < kc; ++k) {
    VecF b[kNV];
    for (int v = 0; v < kNV; ++v) b[v] = load(bp + v * kWidth);
    for (int i = 0; i < kMR; ++i) {
      const VecF av = set1(arow[i][k * cs_a]);
      for (int v = 0; v < kNV; ++v) acc[i][v] = fmadd(av, b[v], acc[i][v]);
    }
    bp += kBlocking.nr;
  }
  const VecF va = set1(alpha), vb = set1(beta);
  for (int i = 0; i < mr; ++i) {
    float* row = c + i * ldc;
    for (int v = 0; v < kNV; ++v) {
      const int cols = nr - v * kWidth;
      if (cols <= 0) break;
      const int w = cols < kWidth ? cols : kWidth;
      VecF r = mul(acc[i][v], va);
      if (beta != 0.0f) r = fmadd(vb, load_partial(row + v * kWidth, w), r);
      store_partial(row + v * kWidth, r, w);
    }
  }
}

}  // namespace axon::cpu::AXON_ISA_NS
