// GEMM blocking per SIMD level: one row each (BLIS's bli_cntx_init_<arch>.c). mr x nr is the
// microkernel's register tile, fixed per level; kc, mc and nc here are the defaults, and the
// ones the kernels use come from the CPU's row of axon/cpu_config.h. The mc x kc A block
// stays in L2, the kc x nc B block in L3, and kc x nr B panels stream from L2 (Zen 4/5's L2
// feeds the 6x64 tile fast enough that a long kc, which halves the C-tile traffic, beats an
// L1-sized one: measured with `npm run bench:gemm`, see bench/RESULTS.md). mc must be a
// multiple of mr and nc of nr.
#pragma once

#include <cstdint>

#include "axon/runtime.h"

namespace axon::cpu {

struct GemmBlocking {
  int mr, nr;
  int64_t kc, mc, nc;
  const char* microkernel;
};

inline constexpr GemmBlocking kGemmBlocking[] = {
    /* Scalar */ {4, 4, 256, 64, 2048, "gemm_microkernel_generic_4x4"},
    /* Avx2   */ {6, 16, 256, 120, 2048, "gemm_microkernel_avx2_6x16"},
    /* Avx512 */ {6, 64, 512, 192, 4096, "gemm_microkernel_avx512_6x64"},
    /* Neon   */ {8, 12, 256, 128, 2040, "gemm_microkernel_generic_8x12"},
};
static_assert(sizeof(kGemmBlocking) / sizeof(kGemmBlocking[0]) == size_t(Isa::Neon) + 1);

}  // namespace axon::cpu
