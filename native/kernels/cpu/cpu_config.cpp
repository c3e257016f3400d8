// The per-CPU configuration table (axon/cpu_config.h) and its environment overrides. Compiled
// once; the kernels of every SIMD level read the active row.
#include "axon/cpu_config.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "gemm/gemm_config.h"

namespace axon {

namespace {

// kc, mc, nc per level, in Isa order: Scalar, Avx2, Avx512, Neon.
CpuConfig row(const char* name, GemmCacheBlocking avx2, GemmCacheBlocking avx512,
              const char* measured) {
  CpuConfig c;
  c.name = name;
  c.gemm[size_t(Isa::Scalar)] = {256, 64, 2048};
  c.gemm[size_t(Isa::Avx2)] = avx2;
  c.gemm[size_t(Isa::Avx512)] = avx512;
  c.gemm[size_t(Isa::Neon)] = {256, 128, 2040};
  c.measured = measured;
  return c;
}

// One row per microarchitecture measured; every other CPU gets "generic" (the values first
// tuned on Zen 5, which suit a 1-2 MB L2 and a large shared L3). A new row is one line here
// plus its figures in bench/RESULTS.md ("Per-CPU configuration").
const std::vector<CpuConfig>& table() {
  static const std::vector<CpuConfig> rows = {
      row("generic", {256, 120, 2048}, {512, 192, 4096},
          "the Zen 5 values (issue 2), for CPUs without a row of their own"),
      row("zen5", {256, 120, 2048}, {512, 192, 4096},
          "AMD EPYC Zen 5 (family 1Ah), full-width AVX-512: bench/RESULTS.md, GEMM vs OpenBLAS"),
      row("zen4", {256, 120, 2048}, {512, 192, 4096},
          "AMD EPYC Zen 4 (family 19h model 11h), AVX-512 as two 256-bit halves: "
          "bench/RESULTS.md, Per-CPU configuration"),
  };
  return rows;
}

const CpuConfig* find(const std::string& name) {
  for (const CpuConfig& c : table())
    if (c.name == name) return &c;
  return nullptr;
}

std::string names_joined() {
  std::string s;
  for (const CpuConfig& c : table()) s += (s.empty() ? "" : ", ") + c.name;
  return s;
}

// "kc,mc,nc": three positive integers and nothing else.
bool parse_blocking(const char* text, GemmCacheBlocking* out) {
  int64_t v[3];
  const char* p = text;
  for (int i = 0; i < 3; ++i) {
    char* end = nullptr;
    if (*p < '0' || *p > '9') return false;
    const long long x = std::strtoll(p, &end, 10);
    if (end == p || x <= 0 || x > (int64_t{1} << 20)) return false;
    v[i] = x;
    p = end;
    if (i < 2 && *p++ != ',') return false;
  }
  if (*p != '\0') return false;
  *out = {v[0], v[1], v[2]};
  return true;
}

struct State {
  CpuConfig config;
  std::string reason, error;
};

// Every State ever made stays alive (kernels may hold references into a replaced one) and
// reachable from here, so leak checkers see them as kept rather than lost.
State* keep(State* s) {
  static std::mutex mu;
  static auto* all = new std::vector<std::unique_ptr<State>>();
  std::lock_guard<std::mutex> lock(mu);
  all->emplace_back(s);
  return s;
}

State* build() {
  auto* s = keep(new State());
  const std::string arch = microarchitecture(cpu_identity());
  std::string name = cpu_config_for(arch);
  s->reason = "auto: " + arch + (name == arch ? "" : " -> " + name);
  if (const char* env = std::getenv("AXON_CPU_CONFIG"); env != nullptr && *env != '\0') {
    if (find(env)) {
      name = env;
      s->reason = std::string("AXON_CPU_CONFIG=") + env;
    } else {
      s->error = std::string("AXON_CPU_CONFIG=") + env +
                 " names no configuration; known: " + names_joined();
    }
  }
  s->config = *find(name);
  if (const char* env = std::getenv("AXON_GEMM_BLOCKING"); env != nullptr && *env != '\0') {
    const Isa isa = active_isa();
    GemmCacheBlocking b;
    std::string problem = parse_blocking(env, &b) ? check_gemm_blocking(isa, b)
                                                  : "expected kc,mc,nc (three positive integers)";
    if (problem.empty()) {
      s->config.gemm[size_t(isa)] = b;
      s->reason += std::string(", AXON_GEMM_BLOCKING=") + env + " on " + isa_name(isa);
    } else {
      if (!s->error.empty()) s->error += "; ";
      s->error += std::string("AXON_GEMM_BLOCKING=") + env + ": " + problem;
    }
  }
  return s;
}

std::atomic<State*>& state() {
  static std::atomic<State*> s{build()};
  return s;
}

}  // namespace

const CpuConfig& cpu_config() { return state().load(std::memory_order_acquire)->config; }
const std::string& cpu_config_reason() { return state().load(std::memory_order_acquire)->reason; }
const std::string& cpu_config_error() { return state().load(std::memory_order_acquire)->error; }

std::vector<std::string> cpu_config_names() {
  std::vector<std::string> names;
  for (const CpuConfig& c : table()) names.push_back(c.name);
  return names;
}

std::string cpu_config_for(const std::string& microarchitecture) {
  return find(microarchitecture) ? microarchitecture : "generic";
}

std::string check_gemm_blocking(Isa isa, const GemmCacheBlocking& b) {
  const cpu::GemmBlocking& k = cpu::kGemmBlocking[size_t(isa)];
  if (b.kc <= 0 || b.mc <= 0 || b.nc <= 0) return "kc, mc and nc must be positive";
  if (b.mc % k.mr != 0)
    return "mc " + std::to_string(b.mc) + " must be a multiple of the " + isa_name(isa) +
           " microkernel's mr " + std::to_string(k.mr);
  if (b.nc % k.nr != 0)
    return "nc " + std::to_string(b.nc) + " must be a multiple of the " + isa_name(isa) +
           " microkernel's nr " + std::to_string(k.nr);
  // packing buffers: mc x kc and kc x nc floats per thread, kept at most 64 MB each
  if (b.mc * b.kc > (int64_t{16} << 20) || b.kc * b.nc > (int64_t{16} << 20))
    return "mc x kc and kc x nc must each be at most 16M floats";
  return "";
}

bool force_cpu_config_for_testing(const std::string& name, Isa isa,
                                  const GemmCacheBlocking* blocking) {
  const CpuConfig* c = find(name);
  if (!c || (blocking && !check_gemm_blocking(isa, *blocking).empty())) return false;
  auto* s = keep(new State());  // the old one stays alive too (see keep)
  s->config = *c;
  if (blocking) s->config.gemm[size_t(isa)] = *blocking;
  s->reason = "forced for testing: " + name;
  state().store(s, std::memory_order_release);
  return true;
}

}  // namespace axon
