// CPU feature detection and the once-at-load choice of SIMD level (see axon/runtime.h).
#include "axon/runtime.h"

#include <atomic>
#include <cstdlib>
#include <mutex>

namespace axon {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return "scalar";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
    case Isa::Neon:
      return "neon";
  }
  return "unknown";
}

bool parse_isa(const std::string& text, Isa* out) {
  static const Isa all[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon};
  for (Isa isa : all) {
    if (text == isa_name(isa)) {
      *out = isa;
      return true;
    }
  }
  return false;
}

std::vector<Isa> available_isas() {
  std::vector<Isa> out{Isa::Scalar};
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  // AVX2 level = AVX2 + FMA (every AVX2 CPU since Haswell has both).
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  // AVX-512 level = F + BW + VL + DQ (Skylake-X and later, Zen 4 and later).
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512dq");
  if (avx2) out.push_back(Isa::Avx2);
  if (avx512) out.push_back(Isa::Avx512);
#elif defined(__aarch64__)
  out.push_back(Isa::Neon);  // Advanced SIMD is mandatory on AArch64.
#endif
  return out;
}

namespace {

struct IsaState {
  std::atomic<Isa> active{Isa::Scalar};
  std::string reason;
};

IsaState& isa_state() {
  static IsaState* state = [] {
    auto* s = new IsaState();
    const std::vector<Isa> avail = available_isas();
    Isa best = avail.back();
    s->reason = "auto";
    if (const char* env = std::getenv("AXON_SIMD"); env != nullptr && *env != '\0') {
      Isa wanted;
      bool ok = parse_isa(env, &wanted);
      bool present = false;
      for (Isa a : avail) present = present || (ok && a == wanted);
      if (present) {
        best = wanted;
        s->reason = std::string("AXON_SIMD=") + env;
      } else {
        s->reason = std::string("AXON_SIMD=") + env + " not available on this CPU/build; using " +
                    isa_name(best);
      }
    }
    s->active.store(best);
    return s;
  }();
  return *state;
}

}  // namespace

Isa active_isa() { return isa_state().active.load(std::memory_order_relaxed); }

const std::string& isa_choice_reason() { return isa_state().reason; }

bool force_isa_for_testing(Isa isa) {
  for (Isa a : available_isas()) {
    if (a == isa) {
      isa_state().active.store(isa);
      return true;
    }
  }
  return false;
}

#define AXON_STR2(x) #x
#define AXON_STR(x) AXON_STR2(x)

BuildInfo build_info() {
  BuildInfo info;
#if defined(__clang__)
  info.compiler = "clang++ " __clang_version__;
#elif defined(__GNUC__)
  info.compiler =
      "g++ " AXON_STR(__GNUC__) "." AXON_STR(__GNUC_MINOR__) "." AXON_STR(__GNUC_PATCHLEVEL__);
#else
  info.compiler = "unknown";
#endif
#ifdef AXON_BUILD_FLAGS
  info.flags = AXON_BUILD_FLAGS;
#else
  info.flags = "unknown";
#endif
#ifndef NDEBUG
  info.flags += " (assertions on)";
#endif
  return info;
}

}  // namespace axon
