// The shared thread pool (axon/thread_pool.h): parallel_for runs every task exactly once,
// parallel_range's chunks tile [0, n), nested calls run serially and finish, two threads
// calling concurrently both finish with correct results, and resizing works. Each test
// restores the thread count the runner set.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <mutex>
#include <thread>

#include "axon/thread_pool.h"
#include "check.h"

using namespace axon;

namespace {

// Restores the pool size on scope exit (the runner sets 1 or 2 threads between runs).
struct RestoreThreads {
  int saved = num_threads();
  ~RestoreThreads() { set_num_threads(saved); }
};

// Runs fn on another thread and fails (then exits: a deadlocked pool cannot be recovered)
// if it has not finished within `seconds`.
template <class Fn>
void with_watchdog(const char* what, int seconds, Fn fn) {
  auto done = std::async(std::launch::async, fn);
  if (done.wait_for(std::chrono::seconds(seconds)) != std::future_status::ready) {
    std::fprintf(stderr, "FAIL [%s] %s: no progress after %d s (deadlock?)\n",
                 axon::test::context().c_str(), what, seconds);
    std::_Exit(3);
  }
  done.get();
}

// parallel_for(n) with per-task hit counters; every counter must end at exactly 1.
bool every_task_once(int64_t n) {
  std::vector<std::atomic<int>> hits(size_t(std::max<int64_t>(n, 1)));
  for (auto& h : hits) h = 0;
  parallel_for(n, [&](int64_t t) {
    if (t >= 0 && t < n) hits[size_t(t)].fetch_add(1, std::memory_order_relaxed);
  });
  for (int64_t t = 0; t < n; ++t)
    if (hits[size_t(t)].load() != 1) return false;
  return true;
}

}  // namespace

TEST(pool_parallel_for_covers_every_task_once) {
  for (int64_t n : {0, 1, 2, 3, 1000})
    CHECK_MSG(every_task_once(n), "parallel_for n_tasks=" + std::to_string(n));
  // Negative counts are no-ops.
  int calls = 0;
  parallel_for(-5, [&](int64_t) { ++calls; });
  CHECK(calls == 0);
}

TEST(pool_parallel_range_tiles_without_overlap) {
  for (int64_t n : {0, 1, 2, 7, 100, 1000, 100000})
    for (int64_t grain : {0, 1, 3, 64, 5000}) {
      std::vector<std::atomic<int>> hits(size_t(std::max<int64_t>(n, 1)));
      for (auto& h : hits) h = 0;
      std::atomic<int> chunks{0};
      std::atomic<bool> bad_bounds{false};
      parallel_range(n, grain, [&](int64_t b, int64_t e) {
        chunks.fetch_add(1);
        if (!(0 <= b && b < e && e <= n)) {
          bad_bounds = true;
          return;
        }
        for (int64_t i = b; i < e; ++i) hits[size_t(i)].fetch_add(1, std::memory_order_relaxed);
      });
      const std::string what =
          "parallel_range n=" + std::to_string(n) + " grain=" + std::to_string(grain);
      CHECK_MSG(!bad_bounds, what + ": empty or out-of-range chunk");
      bool once = true;
      for (int64_t i = 0; i < n; ++i) once = once && hits[size_t(i)].load() == 1;
      CHECK_MSG(once, what + ": an index was missed or covered twice");
      // At most one chunk per thread, and no more than ceil(n / grain).
      const int64_t g = std::max<int64_t>(grain, 1);
      const int64_t max_chunks = n == 0 ? 0 : std::min<int64_t>(num_threads(), (n + g - 1) / g);
      CHECK_MSG(chunks.load() <= std::max<int64_t>(max_chunks, n > 0 ? 1 : 0),
                what + ": too many chunks");
    }
}

TEST(pool_nested_parallel_for_runs_serially) {
  with_watchdog("nested parallel_for", 30, [] {
    // The watchdog thread is a fresh caller: it owns the pool for the outer loop.
    const int64_t outer = 16, inner = 50;
    std::vector<std::atomic<int>> hits(size_t(outer * inner));
    for (auto& h : hits) h = 0;
    std::atomic<bool> moved{false};
    parallel_for(outer, [&](int64_t o) {
      const auto me = std::this_thread::get_id();
      parallel_for(inner, [&](int64_t i) {
        // Serial: every inner task runs on the thread that runs the outer task.
        if (std::this_thread::get_id() != me) moved = true;
        hits[size_t(o * inner + i)].fetch_add(1, std::memory_order_relaxed);
      });
    });
    bool once = true;
    for (auto& h : hits) once = once && h.load() == 1;
    CHECK_MSG(once, "nested parallel_for: a task was missed or run twice");
    CHECK_MSG(!moved, "nested parallel_for ran inner tasks on another thread");
  });
}

TEST(pool_concurrent_callers_both_finish) {
  RestoreThreads restore;
  for (int threads : {2, 3}) {
    set_num_threads(threads);
    with_watchdog("two threads calling parallel_for", 60, [] {
      // Each caller sums 0..n-1 through per-task slots many times over; the one that does
      // not own the pool runs serially on its own thread, so both must finish and be right.
      auto worker = [](int64_t base, int64_t* result) {
        int64_t total = 0;
        for (int rep = 0; rep < 200; ++rep) {
          const int64_t n = 257;
          std::vector<int64_t> slot(size_t(n), 0);
          parallel_for(n, [&](int64_t t) { slot[size_t(t)] = base + t; });
          for (int64_t v : slot) total += v;
        }
        *result = total;
      };
      int64_t r1 = -1, r2 = -1;
      std::thread t1(worker, 0, &r1), t2(worker, 1000, &r2);
      t1.join();
      t2.join();
      // sum_{t<257} (base + t) = 257 base + 257*256/2, 200 times.
      CHECK(r1 == 200 * (257 * 0 + 257 * 256 / 2));
      CHECK(r2 == 200 * (257 * 1000 + 257 * 256 / 2));
    });
  }
}

TEST(pool_compute_scopes_count_outermost_only) {
  const int before = active_callers();
  {
    ComputeScope outer;
    CHECK(active_callers() == before + 1);
    {
      ComputeScope inner;  // a replay's op inside a replay's scope: still one caller
      CHECK(active_callers() == before + 1);
    }
    CHECK(active_callers() == before + 1);
  }
  CHECK(active_callers() == before);
}

TEST(pool_workers_step_aside_when_callers_fill_the_cores) {
  RestoreThreads restore;
  set_num_threads(3);
  with_watchdog("three scoped callers", 60, [] {
    // Three callers computing on a 3-thread pool fill it: the workers must not join the
    // regions one of them issues (that would put 5 threads on 3 cores).
    std::atomic<int> entered{0};
    std::atomic<bool> release{false};
    auto hold = [&] {
      ComputeScope computing;
      entered.fetch_add(1);
      while (!release.load()) std::this_thread::yield();
    };
    std::thread a(hold), b(hold);
    while (entered.load() < 2) std::this_thread::yield();
    bool all_on_caller = true;
    {
      ComputeScope computing;
      const auto me = std::this_thread::get_id();
      for (int rep = 0; rep < 50; ++rep) {
        std::vector<std::thread::id> who(64);
        parallel_for(64, [&](int64_t t) {
          // Slow enough that an idle worker would have time to take tasks.
          volatile double x = 0;
          for (int i = 0; i < 2000; ++i) x = x + i;
          who[size_t(t)] = std::this_thread::get_id();
        });
        for (const auto& id : who) all_on_caller = all_on_caller && id == me;
      }
    }
    release = true;
    a.join();
    b.join();
    CHECK_MSG(all_on_caller, "a pool worker joined while scoped callers filled the cores");
    // With the callers gone the workers help again: the same region still covers every task.
    CHECK(every_task_once(1000));
  });
}

TEST(pool_resize_then_work) {
  RestoreThreads restore;
  with_watchdog("set_num_threads", 60, [] {
    for (int round = 0; round < 3; ++round)
      for (int n : {1, 2, 3, 4, 2, 1, 4}) {
        set_num_threads(n);
        CHECK_MSG(num_threads() == n,
                  "num_threads() after set_num_threads(" + std::to_string(n) + ")");
        CHECK_MSG(every_task_once(1000), "parallel_for after resize to " + std::to_string(n));
        // A chunked range, as the kernels use it, splits into at most n pieces.
        std::atomic<int> chunks{0};
        parallel_range(1 << 16, 1, [&](int64_t, int64_t) { chunks.fetch_add(1); });
        CHECK(chunks.load() >= 1 && chunks.load() <= n);
      }
    // Out-of-range requests are clamped.
    set_num_threads(0);
    CHECK(num_threads() == 1);
  });
}

TEST(pool_cpu_counts) {
  CHECK(available_cpus() >= 1);
  CHECK(default_num_threads() >= 1);
  CHECK(num_threads() >= 1);
  CHECK(!detail::in_parallel_region());
}
