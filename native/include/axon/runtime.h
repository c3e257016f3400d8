// axon runtime: which SIMD level the kernels use, and the shared thread pool.
//
// The SIMD level is chosen once, the first time it is asked for: the best level the CPU
// supports, lowered by the environment variable AXON_SIMD=scalar|avx2|avx512|neon (tests
// use it to run every level this machine has). Nothing here includes Node headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace axon {

// Ordered from least to most capable within one architecture.
enum class Isa : uint8_t { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };

const char* isa_name(Isa isa);
// Parses "scalar" / "avx2" / "avx512" / "neon"; returns false for anything else.
bool parse_isa(const std::string& text, Isa* out);

// Every level this build contains and this CPU can run, best last.
std::vector<Isa> available_isas();
// The level the kernels dispatch to (fixed after the first call).
Isa active_isa();
// Why active_isa() is what it is: "auto" or "AXON_SIMD=avx2". If AXON_SIMD names a level the
// CPU lacks, the best available level is used and the reason says so.
const std::string& isa_choice_reason();

// Test hook: switch the dispatch level at run time. Only for native tests, which must run
// every level in one binary; returns false if the level is not available.
bool force_isa_for_testing(Isa isa);

// What the CPU says it is, for reports and per-CPU tuning. x86: from CPUID; elsewhere only
// `arch` is set (the rest empty or zero).
struct CpuIdentity {
  std::string arch;    // "x86_64", "x86", "aarch64" or "unknown"
  std::string vendor;  // CPUID leaf 0: "GenuineIntel", "AuthenticAMD", "HygonGenuine", ...
  std::string brand;   // CPUID leaves 0x80000002-4, blanks trimmed: "AMD EPYC 9654 96-Core ..."
  int family = 0;      // display family: base family, plus the extended family when base is 0xF
  int model = 0;       // display model: extended model bits added per the vendor's rule
  int stepping = 0;
};
// Detected once; the same numbers as /proc/cpuinfo's "cpu family", "model", "stepping".
const CpuIdentity& cpu_identity();
// Its microarchitecture: "zen4", "zen5", "sapphire-rapids", ... (native/runtime/microarch.cpp).
std::string microarchitecture(const CpuIdentity& id);

// The CPUID / XGETBV bits available_isas() decides from (x86; all false elsewhere).
struct CpuFeatures {
  bool avx = false, avx2 = false, fma = false, osxsave = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  // The reduced-precision dot products (lowp_gemm.cpp): vpdpbusd and vdpbf16ps.
  bool avx512_vnni = false, avx512_bf16 = false;
  bool os_ymm = false;  // XCR0 bits 1, 2: the OS saves XMM and YMM registers
  bool os_zmm = false;  // XCR0 bits 5, 6, 7: opmask and ZMM registers (on macOS: lazily)
  uint64_t xcr0 = 0;    // 0 when the OS has not enabled XSAVE (CPUID.1:ECX.OSXSAVE clear)
};
const CpuFeatures& cpu_features();

struct BuildInfo {
  std::string compiler;  // e.g. "g++ 12.2.0"
  std::string flags;     // optimisation and per-ISA flags the kernels were built with
};
BuildInfo build_info();

}  // namespace axon
