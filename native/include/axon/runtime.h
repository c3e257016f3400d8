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

struct BuildInfo {
  std::string compiler;  // e.g. "g++ 12.2.0"
  std::string flags;     // optimisation and per-ISA flags the kernels were built with
};
BuildInfo build_info();

}  // namespace axon
