// Runs every registered kernel test on one SIMD level (--isa scalar|avx2|avx512|neon; default:
// every level this CPU has), once with 1 thread and once with 2, and optionally only tests
// whose name contains --filter. Exit code 0 = all passed; a level the CPU lacks is skipped.
#include <cstring>

#include "axon/runtime.h"
#include "axon/thread_pool.h"
#include "check.h"

int main(int argc, char** argv) {
  std::vector<axon::Isa> levels;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--isa") && i + 1 < argc) {
      axon::Isa isa;
      if (!axon::parse_isa(argv[++i], &isa)) {
        std::fprintf(stderr, "unknown --isa %s\n", argv[i]);
        return 2;
      }
      levels.push_back(isa);
    } else if (!std::strcmp(argv[i], "--filter") && i + 1 < argc) {
      filter = argv[++i];
    }
  }
  if (levels.empty()) levels = axon::available_isas();
  int ran = 0;
  for (axon::Isa isa : levels) {
    if (!axon::force_isa_for_testing(isa)) {
      std::printf("SKIP %s: not available on this CPU/build\n", axon::isa_name(isa));
      continue;
    }
    for (int threads : {1, 2}) {
      axon::set_num_threads(threads);
      for (auto& [name, fn] : axon::test::Registry::get().tests) {
        if (!filter.empty() && name.find(filter) == std::string::npos) continue;
        axon::test::context() =
            name + " isa=" + axon::isa_name(isa) + " threads=" + std::to_string(threads);
        const int before = axon::test::failures();
        fn();
        ++ran;
        std::printf("%s %s\n", axon::test::failures() == before ? "ok  " : "FAIL",
                    axon::test::context().c_str());
      }
    }
  }
  std::printf("%d test runs, %d failures\n", ran, axon::test::failures());
  return axon::test::failures() == 0 ? 0 : 1;
}
