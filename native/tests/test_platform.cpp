// Platform layer: CPU feature detection (CPUID + XGETBV, runtime.h) agrees with the compiler's
// own detection (__builtin_cpu_supports, GCC and Clang) and with the OS (/proc/cpuinfo on
// Linux, PROCESSOR_IDENTIFIER on Windows); the identity fields are decoded as the OS decodes
// them; the portable spellings of GCC builtins (portable.h) and aligned allocation (aligned.h)
// behave like what they replace. Cheap: the runner repeats every test per level and thread
// count.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <string>

#include "axon/aligned.h"
#include "axon/portable.h"
#include "axon/runtime.h"
#include "axon/thread_pool.h"
#include "check.h"

using namespace axon;

namespace {

bool has_isa(Isa isa) {
  for (Isa a : available_isas())
    if (a == isa) return true;
  return false;
}

#if defined(__linux__) && defined(__x86_64__)
// The first processor's "key : value" lines of /proc/cpuinfo (keys trimmed).
std::map<std::string, std::string> proc_cpuinfo() {
  std::map<std::string, std::string> out;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) break;  // end of the first processor's block
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    const size_t v = line.find_first_not_of(" \t", colon + 1);
    out[key] = v == std::string::npos ? std::string() : line.substr(v);
  }
  return out;
}
#endif

}  // namespace

TEST(platform_isa_detection_matches_this_cpu) {
  const std::vector<Isa> isas = available_isas();
  CHECK(!isas.empty() && isas.front() == Isa::Scalar);
  const CpuFeatures& f = cpu_features();
#if (defined(__x86_64__) || defined(_M_X64)) && !defined(AXON_MSVC)
  // GCC's libgcc and Clang's compiler-rt apply the same OS-state (XCR0) rules.
  __builtin_cpu_init();
  CHECK(bool(__builtin_cpu_supports("avx")) == (f.avx && f.os_ymm));
  CHECK(bool(__builtin_cpu_supports("avx2")) == (f.avx2 && f.os_ymm));
  CHECK(bool(__builtin_cpu_supports("fma")) == (f.fma && f.os_ymm));
  const bool zmm = f.os_ymm && f.os_zmm;
  CHECK(bool(__builtin_cpu_supports("avx512f")) == (f.avx512f && zmm));
  CHECK(bool(__builtin_cpu_supports("avx512bw")) == (f.avx512bw && zmm));
  CHECK(bool(__builtin_cpu_supports("avx512vl")) == (f.avx512vl && zmm));
  CHECK(bool(__builtin_cpu_supports("avx512dq")) == (f.avx512dq && zmm));
  // The levels, by the rule the builtins were used with before.
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512dq");
  CHECK(has_isa(Isa::Avx2) == avx2);
  CHECK(has_isa(Isa::Avx512) == avx512);
  CHECK(!has_isa(Isa::Neon));
#endif
#if defined(__x86_64__) || defined(_M_X64)
  // Consistency of the raw bits: OS state implies XSAVE, every level implies the one below.
  CHECK(!f.os_ymm || f.osxsave);
  CHECK(!has_isa(Isa::Avx512) || has_isa(Isa::Avx2));
  if (f.osxsave) CHECK((f.xcr0 & 1) == 1);  // x87 state is always enabled
#if defined(__linux__)
  // What the kernel reports in /proc/cpuinfo's flags (it clears them when XCR0 lacks the
  // state, and a hypervisor hides them the same way from both).
  const std::string flags = " " + proc_cpuinfo()["flags"] + " ";
  auto has_flag = [&](const char* name) {
    return flags.find(std::string(" ") + name + " ") != std::string::npos;
  };
  CHECK(has_isa(Isa::Avx2) == (has_flag("avx2") && has_flag("fma")));
  CHECK(has_isa(Isa::Avx512) ==
        (has_isa(Isa::Avx2) && has_flag("avx512f") && has_flag("avx512bw") &&
         has_flag("avx512vl") && has_flag("avx512dq")));
#endif
#elif defined(__aarch64__) || defined(_M_ARM64)
  CHECK(has_isa(Isa::Neon));
  CHECK(!f.avx2 && !f.avx512f && f.xcr0 == 0);
#endif
}

TEST(platform_cpu_identity) {
  const CpuIdentity& id = cpu_identity();
  static bool printed = false;
  if (!printed) {  // once per run, for the logs of the cross-platform checks
    printed = true;
    std::string isas;
    for (Isa a : available_isas()) isas += std::string(" ") + isa_name(a);
    std::printf("cpu: %s %s family %d model %d stepping %d '%s'; levels:%s; cpus %d\n",
                id.arch.c_str(), id.vendor.c_str(), id.family, id.model, id.stepping,
                id.brand.c_str(), isas.c_str(), available_cpus());
  }
#if defined(__x86_64__) || defined(_M_X64)
  CHECK(id.arch == "x86_64");
  CHECK_MSG(id.vendor.size() == 12, "vendor '" + id.vendor + "'");
  CHECK(id.family > 0);
  CHECK(id.model >= 0 && id.model <= 0xFF && id.stepping >= 0 && id.stepping <= 0xF);
  CHECK(id.brand.empty() || (id.brand.front() != ' ' && id.brand.back() != ' '));
#if defined(__linux__)
  auto info = proc_cpuinfo();
  CHECK_MSG(info["vendor_id"] == id.vendor,
            "vendor " + id.vendor + ", /proc/cpuinfo " + info["vendor_id"]);
  CHECK_MSG(info["cpu family"] == std::to_string(id.family),
            "family " + std::to_string(id.family) + ", /proc/cpuinfo " + info["cpu family"]);
  CHECK_MSG(info["model"] == std::to_string(id.model),
            "model " + std::to_string(id.model) + ", /proc/cpuinfo " + info["model"]);
  CHECK_MSG(info["stepping"] == std::to_string(id.stepping),
            "stepping " + std::to_string(id.stepping) + ", /proc/cpuinfo " + info["stepping"]);
  if (!id.brand.empty())
    CHECK_MSG(info["model name"] == id.brand,
              "brand '" + id.brand + "', /proc/cpuinfo '" + info["model name"] + "'");
#elif defined(_WIN32)
  // Windows (and Wine) describe the CPU as "AMD64 Family 25 Model 17 Stepping 1, AuthenticAMD".
  if (const char* ident = std::getenv("PROCESSOR_IDENTIFIER")) {
    const std::string want = "Family " + std::to_string(id.family) + " Model " +
                             std::to_string(id.model) + " Stepping " + std::to_string(id.stepping) +
                             ", " + id.vendor;
    CHECK_MSG(std::string(ident).find(want) != std::string::npos,
              std::string("PROCESSOR_IDENTIFIER '") + ident + "', detected '" + want + "'");
  }
#endif
#elif defined(__aarch64__) || defined(_M_ARM64)
  CHECK(id.arch == "aarch64");
  CHECK(id.vendor.empty() && id.family == 0);
#endif
}

TEST(platform_portable_builtins) {
  // The bodies MSVC uses against the GCC/Clang builtins, on the edges of int64_t.
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const int64_t values[] = {0,
                            1,
                            -1,
                            2,
                            -2,
                            3,
                            7,
                            -7,
                            int64_t{1} << 31,
                            -(int64_t{1} << 31),
                            int64_t{1} << 32,
                            3037000499,
                            3037000500,
                            -3037000499,
                            -3037000500,
                            kMax / 2,
                            kMin / 2,
                            kMax - 1,
                            kMin + 1,
                            kMax,
                            kMin};
  int mismatches = 0;
  for (int64_t a : values)
    for (int64_t b : values) {
      int64_t r1 = 0, r2 = 0;
#if !defined(AXON_MSVC)
      const bool m1 = portable::mul_overflow(a, b, &r1), m2 = __builtin_mul_overflow(a, b, &r2);
      if (m1 != m2 || (!m1 && r1 != r2)) ++mismatches;
      const bool a1 = portable::add_overflow(a, b, &r1), a2 = __builtin_add_overflow(a, b, &r2);
      if (a1 != a2 || (!a1 && r1 != r2)) ++mismatches;
#endif
      const bool m3 = mul_overflow(a, b, &r1);
      if (!m3 && b != 0 && (r1 / b != a)) ++mismatches;
    }
  CHECK_MSG(mismatches == 0, std::to_string(mismatches) + " overflow mismatches");
  for (uint32_t x : {0u, 1u, 0x80000000u, 0xFFFFu, 0xFFFFFFFFu, 0x12345678u}) {
#if !defined(AXON_MSVC)
    CHECK(portable::popcount32(x) == __builtin_popcount(x));
#endif
    CHECK(popcount32(x) == portable::popcount32(x));
  }
}

TEST(platform_aligned_alloc) {
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{1} << 20}) {
    void* p = aligned_alloc_bytes(64, bytes);
    CHECK_MSG(p != nullptr && reinterpret_cast<uintptr_t>(p) % 64 == 0,
              "aligned_alloc_bytes(64, " + std::to_string(bytes) + ")");
    if (p) std::memset(p, 0xA5, bytes == 0 ? 64 : bytes);  // the whole rounded block is ours
    aligned_free(p);
  }
  CHECK(aligned_alloc_bytes(64, static_cast<size_t>(-1) - 8) == nullptr);  // no wrap-around
  aligned_free(nullptr);
  CHECK(available_cpus() >= 1);
}
