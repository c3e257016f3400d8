// Kernel profiler storage (see axon/profiler.h).
#include "axon/profiler.h"

#include <atomic>
#include <mutex>

namespace axon::profiler {

namespace {
std::atomic<bool> g_enabled{false};
std::mutex& mu() {
  static std::mutex* m = new std::mutex();
  return *m;
}
std::vector<Record>& records() {
  static auto* r = new std::vector<Record>();
  return *r;
}
}  // namespace

bool enabled() { return g_enabled.load(std::memory_order_relaxed); }
void set_enabled(bool on) { g_enabled.store(on, std::memory_order_relaxed); }

void add(Record record) {
  std::lock_guard<std::mutex> lock(mu());
  records().push_back(std::move(record));
}

std::vector<Record> take() {
  std::lock_guard<std::mutex> lock(mu());
  std::vector<Record> out;
  out.swap(records());
  return out;
}

}  // namespace axon::profiler
