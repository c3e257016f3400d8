// Kernel profiler storage (see axon/profiler.h).
#include "axon/profiler.h"

#include <atomic>
#include <chrono>
#include <mutex>

namespace axon::profiler {

namespace {
std::atomic<bool> g_enabled{false};
std::atomic<uint64_t> g_next_id{1};
std::atomic<int> g_next_thread{0};
thread_local int t_thread = -1;
thread_local uint64_t t_current = 0;

struct Store {
  std::mutex mu;
  std::vector<Record> records;
  std::vector<Span> spans;
  uint64_t dropped = 0;
};
Store& store() {
  // Leaked on purpose: recording threads may outlive static destruction at exit.
  static Store* s = new Store();
  return *s;
}
const std::chrono::steady_clock::time_point& epoch() {
  static const auto t0 = std::chrono::steady_clock::now();
  return t0;
}
}  // namespace

bool enabled() { return g_enabled.load(std::memory_order_relaxed); }
void set_enabled(bool on) {
  (void)epoch();
  g_enabled.store(on, std::memory_order_relaxed);
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              epoch())
      .count();
}

int thread_number() {
  if (t_thread < 0) t_thread = g_next_thread.fetch_add(1, std::memory_order_relaxed);
  return t_thread;
}

CallScope begin_call() {
  CallScope s;
  s.id = g_next_id.fetch_add(1, std::memory_order_relaxed);
  s.previous = t_current;
  s.start_ns = now_ns();
  t_current = s.id;
  return s;
}

void end_call(const CallScope& scope, std::string op, std::string shapes, double flops,
              double bytes) {
  const int64_t end = now_ns();
  t_current = scope.previous;
  Record r;
  r.op = std::move(op);
  r.shapes = std::move(shapes);
  r.ns = end - scope.start_ns;
  r.flops = flops;
  r.bytes = bytes;
  r.id = scope.id;
  r.start_ns = scope.start_ns;
  r.thread = thread_number();
  Store& s = store();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.records.size() >= kMaxRecords) {
    ++s.dropped;
    return;
  }
  s.records.push_back(std::move(r));
}

void abandon_call(const CallScope& scope) { t_current = scope.previous; }

uint64_t current_call() { return t_current; }

void add_span(const Span& span) {
  Store& s = store();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.spans.size() >= kMaxSpans) {
    ++s.dropped;
    return;
  }
  s.spans.push_back(span);
}

Taken take() {
  Store& s = store();
  std::lock_guard<std::mutex> lock(s.mu);
  Taken out;
  out.records.swap(s.records);
  out.spans.swap(s.spans);
  out.dropped = s.dropped;
  s.dropped = 0;
  return out;
}

}  // namespace axon::profiler
