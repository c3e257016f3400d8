// The machine probes (kernels/cpu/probe.cpp, runtime/machine_probe.cpp) at the level under
// test: the read probe sums exactly what a plain loop sums, the FMA probe's value follows its
// recurrence, and measure_machine() returns positive, ordered figures. The runner repeats this
// per SIMD level; the full measurement (about half a second) runs once, at the top level.
#include <cmath>
#include <vector>

#include "axon/machine.h"
#include "axon/runtime.h"
#include "check.h"
#include "kernel_table.h"

using namespace axon;

TEST(probe_read_sums_what_a_plain_loop_sums) {
  const cpu::KernelTable& k = cpu::active_kernels();
  const int64_t n = 64 * 37;  // a multiple of 4 vectors at every level
  std::vector<float> data(static_cast<size_t>(n));
  double expected = 0;
  for (int64_t i = 0; i < n; ++i) {
    data[static_cast<size_t>(i)] = static_cast<float>((i % 13) - 6) * 0.25f;  // exact in float
    expected += data[static_cast<size_t>(i)];
  }
  CHECK_MSG(k.probe_read(data.data(), n, 3) == 3 * expected, "probe_read sum");
  CHECK(k.probe_lanes() >= 1);
  CHECK(k.probe_fma_chains() >= 8);
}

TEST(probe_fma_follows_its_recurrence) {
  const cpu::KernelTable& k = cpu::active_kernels();
  const int64_t iterations = 1000;
  // Each lane of chain c: x <- x * 0.999999 + 1e-6 from 1 + 1e-7 c (fused, in float).
  double expected = 0;
  for (int c = 0; c < k.probe_fma_chains(); ++c) {
    float x = 1.0f + 1e-7f * static_cast<float>(c);
    for (int64_t i = 0; i < iterations; ++i) x = std::fma(x, 0.999999f, 1e-6f);
    expected += static_cast<double>(x) * k.probe_lanes();
  }
  const double got = k.probe_fma(iterations);
  CHECK_MSG(std::fabs(got - expected) <= 1e-5 * expected, "probe_fma value");
}

TEST(measure_machine_gives_positive_ordered_figures) {
  if (active_isa() != available_isas().back()) return;  // once, at the best level
  const MachineMeasure m = measure_machine();
  CHECK(m.threads >= 1);
  CHECK(m.fma_gflops_one > 0 && m.fma_gflops_all > 0);
  CHECK(m.l2_gbps_one > 0 && m.l2_gbps_all > 0 && m.dram_gbps_all > 0);
  // No speed floor: these tests also run under qemu and Wine, where emulation sets the pace.
  // One thread cannot beat the whole pool by more than noise.
  CHECK(m.fma_gflops_all >= 0.5 * m.fma_gflops_one);
  CHECK(m.seconds > 0 && m.seconds < 30);
}
