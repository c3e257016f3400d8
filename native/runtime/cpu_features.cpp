// CPU feature detection and the once-at-load choice of SIMD level (see axon/runtime.h).
//
// x86: CPUID and XGETBV directly, spelled for GCC/Clang (<cpuid.h>, inline asm) and MSVC
// (<intrin.h>), not __builtin_cpu_supports (GCC/Clang only). A level needs both the CPU's
// instructions and the OS saving their registers on a context switch (XCR0), as the Intel SDM
// (vol. 1, 13.3 and 15.2) prescribes. Arm64 (Linux, macOS, Windows): Advanced SIMD is part of
// the architecture.
#include "axon/runtime.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "axon/portable.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define AXON_X86 1
#if !defined(AXON_MSVC)
#include <cpuid.h>
#endif
#endif

namespace axon {

namespace {

#if defined(AXON_X86)
struct CpuidRegs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

// CPUID leaf/subleaf; all zero when the leaf is past the CPU's highest (basic or extended).
CpuidRegs cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  CpuidRegs r;
#if defined(AXON_MSVC)
  int v[4];
  __cpuidex(v, static_cast<int>(leaf & 0x80000000u), 0);
  if (static_cast<uint32_t>(v[0]) < leaf) return r;
  __cpuidex(v, static_cast<int>(leaf), static_cast<int>(subleaf));
  r.eax = static_cast<uint32_t>(v[0]), r.ebx = static_cast<uint32_t>(v[1]);
  r.ecx = static_cast<uint32_t>(v[2]), r.edx = static_cast<uint32_t>(v[3]);
#else
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_count(leaf, subleaf, &a, &b, &c, &d)) r.eax = a, r.ebx = b, r.ecx = c, r.edx = d;
#endif
  return r;
}

// XCR0: the register state the OS saves. Only call when CPUID.1:ECX.OSXSAVE is set.
uint64_t xgetbv0() {
#if defined(AXON_MSVC)
  return _xgetbv(0);
#else
  // The mnemonic, not _xgetbv(): GCC's intrinsic needs -mxsave on this (baseline) file.
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
#endif
}

bool bit(uint32_t reg, int n) { return (reg >> n & 1u) != 0; }

CpuFeatures detect_features() {
  CpuFeatures f;
  const CpuidRegs l1 = cpuid(1);
  const CpuidRegs l7 = cpuid(7, 0);
  f.fma = bit(l1.ecx, 12);
  f.osxsave = bit(l1.ecx, 27);
  f.avx = bit(l1.ecx, 28);
  f.avx2 = bit(l7.ebx, 5);
  f.avx512f = bit(l7.ebx, 16);
  f.avx512dq = bit(l7.ebx, 17);
  f.avx512bw = bit(l7.ebx, 30);
  f.avx512vl = bit(l7.ebx, 31);
  f.avx512_vnni = bit(l7.ecx, 11);
  f.avx512_bf16 = l7.eax >= 1 && bit(cpuid(7, 1).eax, 5);  // leaf 7 eax: its last subleaf
  if (f.osxsave) {
    f.xcr0 = xgetbv0();
    f.os_ymm = (f.xcr0 & 0x6) == 0x6;    // bit 1 SSE (XMM), bit 2 AVX (upper YMM)
    f.os_zmm = (f.xcr0 & 0xE0) == 0xE0;  // bits 5-7: opmask, upper ZMM0-15, ZMM16-31
#if defined(__APPLE__)
    // macOS enables AVX-512 state per thread on its first AVX-512 instruction, so XCR0 lacks
    // bits 5-7 until then; the kernel saves the state from that point. (LLVM's compiler-rt
    // makes the same exception for __builtin_cpu_supports.)
    f.os_zmm = f.os_ymm;
#endif
  }
  return f;
}

// Leading and trailing blanks removed, as Linux does for /proc/cpuinfo's "model name" (Intel
// pads brand strings on the left).
std::string trim(const char* s) {
  std::string out(s);
  const size_t b = out.find_first_not_of(" \t");
  if (b == std::string::npos) return std::string();
  const size_t e = out.find_last_not_of(" \t\n");
  return out.substr(b, e - b + 1);
}

CpuIdentity detect_identity() {
  CpuIdentity id;
#if defined(__x86_64__) || defined(_M_X64)
  id.arch = "x86_64";
#else
  id.arch = "x86";
#endif
  const CpuidRegs l0 = cpuid(0);
  char vendor[13] = {};
  std::memcpy(vendor + 0, &l0.ebx, 4);
  std::memcpy(vendor + 4, &l0.edx, 4);
  std::memcpy(vendor + 8, &l0.ecx, 4);
  id.vendor = vendor;

  // Signature (CPUID.1:EAX): stepping 3:0, model 7:4, family 11:8, extended model 19:16,
  // extended family 27:20.
  const uint32_t sig = cpuid(1).eax;
  const int base_family = static_cast<int>(sig >> 8 & 0xF);
  const int base_model = static_cast<int>(sig >> 4 & 0xF);
  const int ext_family = static_cast<int>(sig >> 20 & 0xFF);
  const int ext_model = static_cast<int>(sig >> 16 & 0xF);
  id.stepping = static_cast<int>(sig & 0xF);
  id.family = base_family == 0xF ? base_family + ext_family : base_family;
  // AMD (APM vol. 3, CPUID Fn0000_0001_EAX; Hygon follows it): the extended model counts only
  // for base family 0xF. Intel (SDM vol. 2A, CPUID "DisplayModel") and the others: for base
  // family 6 and 0xF.
  const bool amd_rule = id.vendor == "AuthenticAMD" || id.vendor == "HygonGenuine";
  const bool use_ext_model =
      amd_rule ? base_family == 0xF : base_family == 0x6 || base_family == 0xF;
  id.model = use_ext_model ? (ext_model << 4) + base_model : base_model;

  if (cpuid(0x80000000u).eax >= 0x80000004u) {
    char brand[49] = {};
    for (uint32_t i = 0; i < 3; ++i) {
      const CpuidRegs r = cpuid(0x80000002u + i);
      std::memcpy(brand + 16 * i + 0, &r.eax, 4);
      std::memcpy(brand + 16 * i + 4, &r.ebx, 4);
      std::memcpy(brand + 16 * i + 8, &r.ecx, 4);
      std::memcpy(brand + 16 * i + 12, &r.edx, 4);
    }
    id.brand = trim(brand);
  }
  return id;
}
#else  // not x86
CpuFeatures detect_features() { return CpuFeatures{}; }

CpuIdentity detect_identity() {
  CpuIdentity id;
#if defined(__aarch64__) || defined(_M_ARM64)
  id.arch = "aarch64";
#else
  id.arch = "unknown";
#endif
  return id;
}
#endif  // AXON_X86

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect_features();
  return features;
}

const CpuIdentity& cpu_identity() {
  static const CpuIdentity identity = detect_identity();
  return identity;
}

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
  const CpuFeatures& f = cpu_features();
  // AVX2 level = AVX + AVX2 + FMA (every AVX2 CPU since Haswell has FMA) with YMM state saved.
  const bool avx2 = f.avx && f.avx2 && f.fma && f.os_ymm;
  // AVX-512 level = F + BW + VL + DQ (Skylake-X and later, Zen 4 and later) with ZMM state.
  const bool avx512 = avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.os_zmm;
  if (avx2) out.push_back(Isa::Avx2);
  if (avx512) out.push_back(Isa::Avx512);
#elif defined(__aarch64__) || defined(_M_ARM64)
  out.push_back(Isa::Neon);  // Advanced SIMD is mandatory on AArch64 (Linux, macOS, Windows).
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
      Isa wanted = Isa::Scalar;
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
#elif defined(_MSC_VER)
  info.compiler = "MSVC " AXON_STR(_MSC_FULL_VER);
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
