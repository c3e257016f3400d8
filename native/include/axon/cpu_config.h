// Per-CPU tuning: the kernel parameters that depend on the microarchitecture (cache sizes, how
// wide the FMA units really are) more than on the SIMD level, from a table keyed by the CPU's
// microarchitecture (BLIS's per-configuration approach), chosen once at load.
//
//   AXON_CPU_CONFIG=zen5             use that row whatever the CPU (names: cpu_config_names())
//   AXON_GEMM_BLOCKING=kc,mc,nc      override the active SIMD level's GEMM cache blocking
//
// Bad values are not ignored: cpu_config_error() says what is wrong, the addon refuses to load
// with that message, and the native tests check it. The active row is reported by
// backendInfo().cpu.config. Nothing here includes Node headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "axon/runtime.h"

namespace axon {

// GEMM cache blocking of one SIMD level: the mc x kc A block stays in L2, the kc x nc B block
// in L3 (gemm/gemm.cpp); mc must be a multiple of the level's microkernel mr and nc of nr.
struct GemmCacheBlocking {
  int64_t kc = 0, mc = 0, nc = 0;
};

struct CpuConfig {
  std::string name;           // the table row: "generic", "zen4", "zen5", ...
  GemmCacheBlocking gemm[4];  // per Isa (Scalar, Avx2, Avx512, Neon)
  // Winograd replaces the implicit GEMM for 3x3 (5x5) convolutions from this many input
  // channels, and this many output channels (conv.cpp).
  int64_t winograd_min_in_3x3 = 8, winograd_min_in_5x5 = 16, winograd_min_out = 8;
  std::string measured;  // where the row's values come from (a CPU and bench/RESULTS.md)
};

// The active row (fixed after the first call, except by force_cpu_config_for_testing).
const CpuConfig& cpu_config();
// Why it is the active row: "auto: zen4", "AXON_CPU_CONFIG=zen5", plus
// ", AXON_GEMM_BLOCKING=256,96,4096 on avx512" when that override applies.
const std::string& cpu_config_reason();
// "" when AXON_CPU_CONFIG and AXON_GEMM_BLOCKING are absent or valid; else what is wrong.
const std::string& cpu_config_error();
// The table's rows, by name.
std::vector<std::string> cpu_config_names();
// The row the table gives a microarchitecture ("generic" for one it has no row for).
std::string cpu_config_for(const std::string& microarchitecture);
// Checks a GEMM blocking for a level: "" when valid, else the problem.
std::string check_gemm_blocking(Isa isa, const GemmCacheBlocking& b);
// Test hook: make a named row active (and optionally override the blocking of `isa`);
// returns false for an unknown name or an invalid blocking.
bool force_cpu_config_for_testing(const std::string& name, Isa isa = Isa::Scalar,
                                  const GemmCacheBlocking* blocking = nullptr);

}  // namespace axon
