// Times the machine probes (native/kernels/cpu/probe.cpp) at the active SIMD level for
// axon/machine.h. Each figure is the best of a few runs (noise only ever slows a run down).
// Compiled once.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "axon/aligned.h"
#include "axon/machine.h"
#include "axon/thread_pool.h"
#include "kernel_table.h"

namespace axon {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs work(task) on `tasks` pool tasks at once and returns the wall time; reruns (up to 3
// times) when fewer distinct threads than tasks ran them (a worker was slow to wake and another
// thread took its task, which would halve the figure).
template <class F>
double timed_region(int tasks, F&& work) {
  double best = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::vector<std::thread::id> who(static_cast<size_t>(tasks));
    const auto t0 = std::chrono::steady_clock::now();
    parallel_for(tasks, [&](int64_t t) {
      who[static_cast<size_t>(t)] = std::this_thread::get_id();
      work(t);
    });
    best = seconds_since(t0);
    std::sort(who.begin(), who.end());
    if (std::unique(who.begin(), who.end()) - who.begin() == tasks) break;
  }
  return best;
}

}  // namespace

MachineMeasure measure_machine() {
  const auto start = std::chrono::steady_clock::now();
  const cpu::KernelTable& k = cpu::active_kernels();
  MachineMeasure m;
  m.lanes = k.probe_lanes();
  m.threads = num_threads();
  const double flops_per_iteration = 2.0 * m.lanes * k.probe_fma_chains();
  volatile double sink = 0;  // keeps every probe's result alive

  // FMA: calibrate iterations to ~40 ms on one thread, then best of 3, one thread and all.
  int64_t iterations = 1 << 14;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    sink = sink + k.probe_fma(iterations);
    const double s = seconds_since(t0);
    if (s > 0.01 || iterations > (int64_t{1} << 34)) {
      iterations =
          std::max<int64_t>(1, static_cast<int64_t>(iterations * 0.04 / std::max(s, 1e-9)));
      break;
    }
    iterations *= 4;
  }
  for (int r = 0; r < 3; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    sink = sink + k.probe_fma(iterations);
    m.fma_gflops_one =
        std::max(m.fma_gflops_one, flops_per_iteration * iterations / seconds_since(t0) / 1e9);
  }
  for (int r = 0; r < 3; ++r) {
    std::vector<double> results(static_cast<size_t>(m.threads));
    const double s = timed_region(
        m.threads, [&](int64_t t) { results[static_cast<size_t>(t)] = k.probe_fma(iterations); });
    for (double v : results) sink = sink + v;
    m.fma_gflops_all =
        std::max(m.fma_gflops_all, flops_per_iteration * iterations * m.threads / s / 1e9);
  }

  // L2: each thread re-reads its own 192 KiB (fits the L2 of every core we target, not its L1).
  const int64_t l2_floats = 192 * 1024 / 4;
  const int64_t l2_repeats = 400;  // ~75 MB per thread per run
  std::vector<float*> l2(static_cast<size_t>(m.threads));
  for (auto& p : l2) {
    p = static_cast<float*>(aligned_alloc_bytes(64, l2_floats * sizeof(float)));
    for (int64_t i = 0; i < l2_floats; ++i) p[i] = 1e-3f * static_cast<float>(i % 7);
  }
  const double l2_bytes = static_cast<double>(l2_floats) * sizeof(float) * l2_repeats;
  for (int r = 0; r < 3; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    sink = sink + k.probe_read(l2[0], l2_floats, l2_repeats);
    m.l2_gbps_one = std::max(m.l2_gbps_one, l2_bytes / seconds_since(t0) / 1e9);
  }
  for (int r = 0; r < 3; ++r) {
    std::vector<double> results(static_cast<size_t>(m.threads));
    const double s = timed_region(m.threads, [&](int64_t t) {
      results[static_cast<size_t>(t)] =
          k.probe_read(l2[static_cast<size_t>(t)], l2_floats, l2_repeats);
    });
    for (double v : results) sink = sink + v;
    m.l2_gbps_all = std::max(m.l2_gbps_all, l2_bytes * m.threads / s / 1e9);
  }
  for (float* p : l2) aligned_free(p);

  // DRAM: 256 MiB (past any L3 here), each thread reading its share, touched first by the
  // thread that reads it (so its pages are on its node).
  const int64_t dram_floats = int64_t{256} * 1024 * 1024 / 4;
  float* dram = static_cast<float*>(aligned_alloc_bytes(64, dram_floats * sizeof(float)));
  if (dram != nullptr) {
    const int64_t share = (dram_floats / m.threads) / (16 * 4) * (16 * 4);
    parallel_for(m.threads, [&](int64_t t) {
      std::memset(dram + t * share, 0, static_cast<size_t>(share) * sizeof(float));
    });
    for (int r = 0; r < 3; ++r) {
      std::vector<double> results(static_cast<size_t>(m.threads));
      const double s = timed_region(m.threads, [&](int64_t t) {
        results[static_cast<size_t>(t)] = k.probe_read(dram + t * share, share, 2);
      });
      for (double v : results) sink = sink + v;
      m.dram_gbps_all =
          std::max(m.dram_gbps_all, 2.0 * share * sizeof(float) * m.threads / s / 1e9);
    }
    aligned_free(dram);
  }
  m.seconds = seconds_since(start);
  return m;
}

}  // namespace axon
