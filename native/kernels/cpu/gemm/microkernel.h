// The GEMM microkernel of this file's SIMD level (include after simd/isa.h). Internal header.
//
//   c (mr x nr, leading dimension ldc) = alpha * A_tile B_panel + beta * c
//
// A_tile element (i, k) is a[i*rs_a + k*cs_a] for i < mr: a packed k-major panel (rs 1,
// cs MR), row-major A (rs lda, cs 1) or transposed A (rs 1, cs lda) all work, so A is read in
// place when packing would cost more than it saves. B_panel is kc x NR packed k-major
// (bp[k*NR + j]), zero-padded past nr, 64-byte aligned. mr <= MR and nr <= NR clip the store
// at the matrix edge. beta == 0 never reads c.
#pragma once

#include <cstdint>

#include "gemm_config.h"

namespace axon::cpu::AXON_ISA_NS {

#if defined(AXON_ISA_AVX512)
inline constexpr Isa kLevel = Isa::Avx512;
inline constexpr GemmBlocking kBlocking = kGemmBlocking[size_t(kLevel)];
#elif defined(AXON_ISA_AVX2)
inline constexpr Isa kLevel = Isa::Avx2;
inline constexpr GemmBlocking kBlocking = kGemmBlocking[size_t(kLevel)];
#elif defined(AXON_ISA_NEON)
inline constexpr Isa kLevel = Isa::Neon;
inline constexpr GemmBlocking kBlocking = kGemmBlocking[size_t(kLevel)];
#else
inline constexpr Isa kLevel = Isa::Scalar;
inline constexpr GemmBlocking kBlocking = kGemmBlocking[size_t(kLevel)];
#endif

void gemm_microkernel(int64_t kc, const float* a, int64_t rs_a, int64_t cs_a, const float* bp,
                      float* c, int64_t ldc, int mr, int nr, float alpha, float beta);

}  // namespace axon::cpu::AXON_ISA_NS
