// GEMM GFLOP/s, axon side by side with OpenBLAS (when built with cblas.h) in one process:
// the two are timed in alternation (A B A B ...) and each figure is a median, so machine
// noise hits both alike. Run through `npm run bench:gemm`, which unsets OPENBLAS_CORETYPE and
// OPENBLAS_L2_SIZE (they force OpenBLAS's slower AVX2 kernel on this machine).
//
//   axon_gemm_bench [--threads 1,2] [--rounds 9] [--quick]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "axon/kernels.h"
#include "axon/runtime.h"
#include "axon/thread_pool.h"

#ifdef AXON_WITH_CBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);
#endif

namespace {

using Clock = std::chrono::steady_clock;

struct Case {
  const char* label;
  int64_t m, n, k;
  bool trans_b;  // network shapes: X (M,K) times W^T with W (N,K), as a dense layer
};

#ifdef AXON_WITH_CBLAS
const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}
#endif

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Seconds per call of fn, timing enough repetitions to fill ~25 ms.
template <class F>
double time_once(F&& fn, int reps) {
  auto t0 = Clock::now();
  for (int r = 0; r < reps; ++r) fn();
  return std::chrono::duration<double>(Clock::now() - t0).count() / reps;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> thread_counts = {1, 2};
  int rounds = 9;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      thread_counts.clear();
      for (char* s = std::strtok(argv[++i], ","); s; s = std::strtok(nullptr, ","))
        thread_counts.push_back(std::atoi(s));
    } else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--quick")) {
      quick = true;
    }
  }
  std::vector<Case> cases = {
      {"square 64", 64, 64, 64, false},
      {"square 128", 128, 128, 128, false},
      {"square 256", 256, 256, 256, false},
      {"square 512", 512, 512, 512, false},
      {"square 1024", 1024, 1024, 1024, false},
      {"square 2048", 2048, 2048, 2048, false},
      {"net 64x256x784 (NT)", 64, 256, 784, true},
      {"net 128x128x256 (NT)", 128, 128, 256, true},
      {"net 64x1024x1024 (NT)", 64, 1024, 1024, true},
      {"net 1x512x512 (NT)", 1, 512, 512, true},
      {"cnn dense 64x1024x3136 (NT)", 64, 1024, 3136, true},   // the CNN's dense forward
      {"cnn dense 64x3136x1024 (NN)", 64, 3136, 1024, false},  // and its input gradient
  };
  if (quick) cases.resize(3);
  std::printf("# axon GEMM benchmark: isa=%s (%s)\n", axon::isa_name(axon::active_isa()),
              axon::isa_choice_reason().c_str());
#ifdef AXON_WITH_CBLAS
  std::printf("# OpenBLAS core: %s; OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s\n",
              openblas_get_corename(), env_or("OPENBLAS_CORETYPE", "(unset)"),
              env_or("OPENBLAS_L2_SIZE", "(unset)"));
  std::printf("| shape | threads | axon GFLOP/s | OpenBLAS GFLOP/s | axon / OpenBLAS |\n");
  std::printf("|---|---:|---:|---:|---:|\n");
#else
  std::printf("# built without cblas.h: axon only\n");
  std::printf("| shape | threads | axon GFLOP/s |\n|---|---:|---:|\n");
#endif
  std::mt19937 gen(42);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int threads : thread_counts) {
    axon::set_num_threads(threads);
#ifdef AXON_WITH_CBLAS
    openblas_set_num_threads(threads);
#endif
    for (const Case& cs : cases) {
      std::vector<float> a(size_t(cs.m * cs.k)), b(size_t(cs.k * cs.n)), c(size_t(cs.m * cs.n));
      for (auto& v : a) v = dist(gen);
      for (auto& v : b) v = dist(gen);
      const double flops = 2.0 * cs.m * cs.n * cs.k;
      axon::GemmArgs g;
      g.m = cs.m, g.n = cs.n, g.k = cs.k, g.a = a.data(), g.lda = cs.k, g.b = b.data();
      g.trans_b = cs.trans_b ? axon::Trans::Yes : axon::Trans::No;
      g.ldb = cs.trans_b ? cs.k : cs.n, g.c = c.data(), g.ldc = cs.n;
      auto run_axon = [&] { axon::gemm(g); };
#ifdef AXON_WITH_CBLAS
      auto run_blas = [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, cs.trans_b ? CblasTrans : CblasNoTrans, int(cs.m),
                    int(cs.n), int(cs.k), 1.0f, a.data(), int(cs.k), b.data(), int(g.ldb), 0.0f,
                    c.data(), int(cs.n));
      };
#endif
      // Warm up and size the repetitions to ~25 ms per timing.
      run_axon();
      const double once = time_once(run_axon, 1);
      const int reps = std::max(1, int(0.025 / std::max(once, 1e-7)));
      std::vector<double> ta, tb;
      // With several threads, each library's idle workers spin for a while after a call
      // (OpenBLAS's for up to 2^28 cycles, about 0.13 s here; ours 50 us); let them go to sleep
      // before timing the other, or the spinning steals its cores.
      auto settle = [&] {
        if (threads > 1) std::this_thread::sleep_for(std::chrono::milliseconds(400));
      };
      for (int r = 0; r < rounds; ++r) {
        settle();
        ta.push_back(time_once(run_axon, reps));
#ifdef AXON_WITH_CBLAS
        settle();
        tb.push_back(time_once(run_blas, reps));
#endif
      }
      const double ga = flops / median(ta) / 1e9;
#ifdef AXON_WITH_CBLAS
      const double gb = flops / median(tb) / 1e9;
      std::printf("| %s | %d | %.1f | %.1f | %.2f |\n", cs.label, threads, ga, gb, ga / gb);
#else
      std::printf("| %s | %d | %.1f |\n", cs.label, threads, ga);
#endif
      std::fflush(stdout);
    }
  }
  return 0;
}
