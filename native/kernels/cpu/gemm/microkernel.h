// The GEMM microkernel of this file's SIMD level (include after simd/isa.h). Internal header.
//
//   c (mr x nr, leading dimension ldc) = alpha * A_panel B_panel + beta * c
//
// A_panel is kc x MR packed k-major (ap[k*MR + i]), B_panel is kc x NR packed k-major
// (bp[k*NR + j]); both zero-padded past mr / nr, 64-byte aligned. mr <= MR and nr <= NR
// clip the store at the matrix edge. beta == 0 never reads c.
#pragma once

#include <cstdint>

#include "gemm_config.h"

namespace axon::cpu::AXON_ISA_NS {

#if defined(AXON_ISA_AVX512)
inline constexpr GemmBlocking kBlocking = kGemmBlocking[size_t(Isa::Avx512)];
#elif defined(AXON_ISA_AVX2)
inline constexpr GemmBlocking kBlocking = kGemmBlocking[size_t(Isa::Avx2)];
#elif defined(AXON_ISA_NEON)
inline constexpr GemmBlocking kBlocking = kGemmBlocking[size_t(Isa::Neon)];
#else
inline constexpr GemmBlocking kBlocking = kGemmBlocking[size_t(Isa::Scalar)];
#endif

void gemm_microkernel(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, int mr,
                      int nr, float alpha, float beta);

}  // namespace axon::cpu::AXON_ISA_NS
