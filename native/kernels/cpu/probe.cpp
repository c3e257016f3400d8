// Machine probes at this SIMD level (runtime/machine_probe.cpp times them for machineInfo()):
// the FMA throughput a core sustains and the bandwidth of streaming reads. Compiled once per
// level. Written so the compiler keeps every operation: the results feed the return value.
#include "axon/portable.h"
#include "isa_kernels.h"
#include "simd/isa.h"

namespace axon::cpu::AXON_ISA_NS {

using namespace simd;

namespace {
// Independent accumulator chains: enough to cover FMA latency (4-5 cycles) times the FMA
// ports (2) on every core we target, without spilling (16 of 32 vector registers on AVX-512,
// 16 of 16 on AVX2 leaves none for the multiplicand: 12 there).
#if defined(AXON_ISA_AVX2)
constexpr int kChains = 12;
#else
constexpr int kChains = 16;
#endif
}  // namespace

int probe_lanes() { return kWidth; }

int probe_fma_chains() { return kChains; }

// iterations x kChains vector FMAs: 2 x kWidth x kChains x iterations FLOPs.
double probe_fma(int64_t iterations) {
  VecF acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = set1(1.0f + 1e-7f * static_cast<float>(c));
  // x * a + b with a slightly below 1 and b small: the values stay bounded and normal.
  const VecF a = set1(0.999999f);
  const VecF b = set1(1e-6f);
  for (int64_t i = 0; i < iterations; ++i) {
    AXON_UNROLL(16)
    for (int c = 0; c < kChains; ++c) acc[c] = fmadd(acc[c], a, b);
  }
  VecF sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = add(sum, acc[c]);
  float lanes[kWidth];
  store(lanes, sum);
  double total = 0;
  for (float v : lanes) total += v;
  return total;
}

// Sums data[0, n) `repeats` times with four vector accumulators (n a multiple of 4 * kWidth).
double probe_read(const float* data, int64_t n, int64_t repeats) {
  double total = 0;
  for (int64_t r = 0; r < repeats; ++r) {
    VecF s0 = zero(), s1 = zero(), s2 = zero(), s3 = zero();
    for (int64_t i = 0; i + 4 * kWidth <= n; i += 4 * kWidth) {
      s0 = add(s0, load(data + i));
      s1 = add(s1, load(data + i + kWidth));
      s2 = add(s2, load(data + i + 2 * kWidth));
      s3 = add(s3, load(data + i + 3 * kWidth));
    }
    float lanes[kWidth];
    store(lanes, add(add(s0, s1), add(s2, s3)));
    for (float v : lanes) total += v;
  }
  return total;
}

}  // namespace axon::cpu::AXON_ISA_NS
