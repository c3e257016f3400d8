// Elementwise and activation throughput in GB/s (bytes read + written), next to a plain copy
// (memcpy) of the same buffers, which is the memory-bandwidth ceiling for a streaming op. Two
// sizes: 64 Ki floats (256 KiB per buffer, cache-resident) and 16 Mi floats (64 MiB, DRAM).
// Ops are timed alternately with the copy so noise hits both.
//
//   axon_elementwise_bench [--threads 1,2] [--rounds 7]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "axon/kernels.h"
#include "axon/runtime.h"
#include "axon/thread_pool.h"

namespace {
using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class F>
double seconds(F&& f, int reps) {
  auto t0 = Clock::now();
  for (int i = 0; i < reps; ++i) f();
  return std::chrono::duration<double>(Clock::now() - t0).count() / reps;
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<int> thread_counts = {1, 2};
  int rounds = 7;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      thread_counts.clear();
      for (char* s = std::strtok(argv[++i], ","); s; s = std::strtok(nullptr, ","))
        thread_counts.push_back(std::atoi(s));
    } else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    }
  }
  const axon::UnaryOp ops[] = {axon::UnaryOp::Relu,    axon::UnaryOp::Exp,     axon::UnaryOp::Tanh,
                               axon::UnaryOp::Sigmoid, axon::UnaryOp::GeluErf, axon::UnaryOp::Log};
  std::printf(
      "# elementwise throughput, isa=%s; GB/s counts 4 bytes read + 4 written per element\n",
      axon::isa_name(axon::active_isa()));
  std::printf("| size | threads | op | op GB/s | memcpy GB/s | op / memcpy | Gelem/s |\n");
  std::printf("|---|---:|---|---:|---:|---:|---:|\n");
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> dist(0.01f, 4.0f);
  for (int64_t n : {int64_t{1} << 16, int64_t{1} << 24}) {
    std::vector<float> x(n), y(n);
    for (auto& v : x) v = dist(gen);
    for (int threads : thread_counts) {
      axon::set_num_threads(threads);
      // memcpy split over the same threads, as the kernels are.
      auto copy = [&] {
        axon::parallel_range(n, 65536, [&](int64_t b, int64_t e) {
          std::memcpy(y.data() + b, x.data() + b, sizeof(float) * (e - b));
        });
      };
      const int reps = std::max(1, int(2e8 / double(n)));
      copy();
      for (axon::UnaryOp op : ops) {
        auto run = [&] { axon::unary_forward(op, x.data(), y.data(), n, 0.1f); };
        run();
        std::vector<double> to, tc;
        for (int r = 0; r < rounds; ++r) {
          to.push_back(seconds(run, reps));
          tc.push_back(seconds(copy, reps));
        }
        const double bytes = 8.0 * double(n);
        const double gop = bytes / median(to) / 1e9, gcp = bytes / median(tc) / 1e9;
        std::printf("| %s | %d | %s | %.1f | %.1f | %.2f | %.2f |\n",
                    n == (1 << 16) ? "64 Ki (cache)" : "16 Mi (DRAM)", threads, axon::op_name(op),
                    gop, gcp, gop / gcp, double(n) / median(to) / 1e9);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
