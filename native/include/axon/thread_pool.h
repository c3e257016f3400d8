// The one thread pool every kernel shares.
//
// Persistent workers plus the calling thread. Its size defaults to the CPUs this process may
// use (affinity mask and cgroup quota), overridden by AXON_NUM_THREADS or set_num_threads().
//
// Several callers at once (the JS thread, libuv's threads running async calls, worker_threads)
// is normal use, and there is no lock around whole calls. The policy:
//  - Every call computes on its own thread; no call waits for another to finish, so a batch-1
//    request is never queued behind a large one.
//  - Callers announce themselves with a ComputeScope (the binding does, for every kernel call
//    and replay). A pool worker joins a parallel region only while the threads computing for
//    callers plus the workers already helping number fewer than the pool's size: one caller
//    alone gets every core, k callers share them, and the workers step aside (they do not even
//    spin) when the callers already fill the cores. Beyond num_threads() concurrent callers
//    (at most libuv's pool plus the JS threads) the OS time-slices them.
//  - One caller owns the workers at a time: a parallel_for issued while another thread owns
//    the pool, or from inside a task, runs its tasks serially on its own thread.
// Results do not depend on any of this: parallel_for's split depends only on the task count
// and num_threads(), never on which or how many threads run the tasks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <mutex>

namespace axon {

// CPUs this process may run on, at least 1. Linux: min(sched affinity, cgroup cpu quota);
// Windows: the process affinity mask if restricted, else every active CPU in all processor
// groups; macOS and others: std::thread::hardware_concurrency().
int available_cpus();
// Pool size chosen at start-up: AXON_NUM_THREADS if set and valid, else available_cpus().
int default_num_threads();
// Current pool size, counting the calling thread.
int num_threads();
// Resizes the pool (1..1024). Waits for a running parallel region to finish.
void set_num_threads(int n);

// Marks the current thread as computing for a caller (see the policy above) for its lifetime.
// Nests: an inner scope on the same thread counts once.
class ComputeScope {
 public:
  ComputeScope();
  ~ComputeScope();
  ComputeScope(const ComputeScope&) = delete;
  ComputeScope& operator=(const ComputeScope&) = delete;

 private:
  bool outermost_;
};

// Threads inside a ComputeScope right now.
int active_callers();

namespace detail {
using TaskFn = void (*)(void* ctx, int64_t task);
void run_tasks(int64_t n_tasks, TaskFn fn, void* ctx);
bool in_parallel_region();
}  // namespace detail

// Calls fn(task) for every task in [0, n_tasks), spread over the pool; returns when all are
// done. Tasks are claimed dynamically, so a task must not depend on which thread runs it.
template <class F>
void parallel_for(int64_t n_tasks, F&& fn) {
  if (n_tasks <= 0) return;
  if (n_tasks == 1 || num_threads() == 1 || detail::in_parallel_region()) {
    for (int64_t t = 0; t < n_tasks; ++t) fn(t);
    return;
  }
  using Fn = std::remove_reference_t<F>;
  detail::run_tasks(
      n_tasks, [](void* ctx, int64_t task) { (*static_cast<Fn*>(ctx))(task); },
      const_cast<void*>(static_cast<const void*>(&fn)));
}

// Splits [0, n) into at most num_threads() contiguous chunks of at least `grain` items and
// calls fn(begin, end) for each. The split depends only on n, grain and the thread count.
template <class F>
void parallel_range(int64_t n, int64_t grain, F&& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int64_t chunks = std::min<int64_t>(num_threads(), (n + grain - 1) / grain);
  if (chunks <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  parallel_for(chunks, [&](int64_t c) {
    const int64_t begin = n * c / chunks, end = n * (c + 1) / chunks;
    fn(begin, end);
  });
}

}  // namespace axon
