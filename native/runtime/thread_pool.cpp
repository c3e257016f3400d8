// Thread pool implementation (see axon/thread_pool.h).
//
// Workers spin briefly after a job (a batch-1 forward issues several small parallel regions
// back to back, and waking a sleeping thread costs tens of microseconds), then sleep on a
// condition variable.
#include "axon/thread_pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "axon/portable.h"
#include "axon/profiler.h"

#if defined(__linux__)
#include <sched.h>  // sched_getaffinity, CPU_COUNT (glibc and musl, with _GNU_SOURCE)
#elif defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#endif

// A spin-wait hint to the core (x86 PAUSE, Arm YIELD).
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#include <immintrin.h>
#define AXON_CPU_RELAX() _mm_pause()
#elif defined(_M_ARM64) && defined(AXON_MSVC)
#define AXON_CPU_RELAX() __yield()
#elif defined(__aarch64__)
#define AXON_CPU_RELAX() asm volatile("yield")
#else
#define AXON_CPU_RELAX() ((void)0)
#endif

namespace axon {

namespace {

#if defined(__linux__)
// CPUs the cgroup's CPU quota allows (containers: docker --cpus, Kubernetes limits), rounded
// up; 0 when there is no quota.
int cgroup_cpu_limit() {
  // cgroup v2: "max 100000" or "<quota> <period>".
  std::ifstream v2("/sys/fs/cgroup/cpu.max");
  std::string quota;
  long long period = 0;
  if (v2 >> quota >> period) {
    if (quota != "max" && period > 0) {
      long long q = std::atoll(quota.c_str());
      if (q > 0) return static_cast<int>(std::max<long long>(1, (q + period - 1) / period));
    }
    return 0;
  }
  // cgroup v1.
  std::ifstream q1("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
      p1("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  long long q = 0, p = 0;
  if ((q1 >> q) && (p1 >> p) && q > 0 && p > 0)
    return static_cast<int>(std::max<long long>(1, (q + p - 1) / p));
  return 0;
}
#endif

thread_local bool t_in_region = false;
thread_local int t_scope_depth = 0;
std::atomic<int> g_active_callers{0};

class ThreadPool {
 public:
  explicit ThreadPool(int n) { start(n); }
  ~ThreadPool() { stop(); }

  int size() const { return size_; }

  void resize(int n) {
    std::lock_guard<std::mutex> own(owner_mu_);
    stop();
    start(n);
  }

  // Returns false when another thread owns the pool (the caller then runs serially).
  bool try_run(int64_t n_tasks, detail::TaskFn fn, void* ctx) {
    std::unique_lock<std::mutex> own(owner_mu_, std::try_to_lock);
    if (!own.owns_lock()) return false;
    Job job{fn, ctx, n_tasks};
    // The kernel call this region belongs to, for the profiler's per-thread spans.
    if (profiler::enabled()) job.call = profiler::current_call();
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = &job;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    work_on(job, 0);
    // All tasks done: retract the job so no late worker joins, then wait for joined ones.
    while (job.finished.load(std::memory_order_acquire) < n_tasks) AXON_CPU_RELAX();
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = nullptr;
    }
    while (job.joined.load(std::memory_order_acquire) != 0) AXON_CPU_RELAX();
    return true;
  }

 private:
  struct Job {
    detail::TaskFn fn;
    void* ctx;
    int64_t n_tasks;
    // Tasks below min(n_tasks, 64) have an owner: participant t (0 = the caller, t = worker t)
    // runs task t when it is awake, so repeated calls with the same split touch the same
    // memory from the same core (its L2 keeps its share of the data). Any participant may
    // steal an owned task no one has started; tasks past 64 are claimed in order.
    std::atomic<uint64_t> claimed{0};
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> finished{0};
    std::atomic<int> joined{0};
    uint64_t call = 0;  // profiler: the recorded call that started the region (0: none)
    Job(detail::TaskFn f, void* c, int64_t n) : fn(f), ctx(c), n_tasks(n), next(n < 64 ? n : 64) {}
  };

  static bool claim(Job& job, int64_t t) {
    const uint64_t bit = uint64_t{1} << t;
    return (job.claimed.fetch_or(bit, std::memory_order_acq_rel) & bit) == 0;
  }

  static void work_on(Job& job, int participant) {
    const bool was = t_in_region;
    t_in_region = true;
    const bool profiled = profiler::enabled();
    const int64_t started = profiled ? profiler::now_ns() : 0;
    int64_t done = 0;
    const int64_t owned = job.n_tasks < 64 ? job.n_tasks : 64;
    auto run = [&](int64_t t) {
      job.fn(job.ctx, t);
      ++done;
    };
    if (participant < owned && claim(job, participant)) run(participant);
    for (int64_t t = 0; t < owned; ++t)
      if (t != participant && !(job.claimed.load(std::memory_order_relaxed) >> t & 1) &&
          claim(job, t))
        run(t);
    for (;;) {
      const int64_t t = job.next.fetch_add(1, std::memory_order_relaxed);
      if (t >= job.n_tasks) break;
      run(t);
    }
    // Recorded before the region can complete: the caller's take() must see every span.
    if (profiled && done)
      profiler::add_span(
          {job.call, participant, profiler::thread_number(), started, profiler::now_ns(), done});
    if (done) job.finished.fetch_add(done, std::memory_order_acq_rel);
    t_in_region = was;
  }

  void start(int n) {
    size_ = std::max(1, n);
    stopping_ = false;
    // The generation is read here, not in the new thread: a stop() racing with the thread's
    // start must still wake it.
    const uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int i = 1; i < size_; ++i) workers_.emplace_back([this, gen, i] { worker_loop(gen, i); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  void worker_loop(uint64_t seen, int participant) {
    for (;;) {
      // Spin for about 50 microseconds before sleeping, unless callers fill the cores (this
      // worker could not join their regions, and spinning would take a core from them).
      auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
      for (int i = 0; generation_.load(std::memory_order_acquire) == seen; ++i) {
        if ((i & 63) == 63 && (std::chrono::steady_clock::now() > spin_until ||
                               g_active_callers.load(std::memory_order_relaxed) >= size_))
          break;
        AXON_CPU_RELAX();
      }
      Job* job = nullptr;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk,
                 [&] { return stopping_ || generation_.load(std::memory_order_acquire) != seen; });
        seen = generation_.load(std::memory_order_acquire);
        if (stopping_) return;
        job = job_;
        // Join only onto a free core: the callers computing now, plus the workers helping.
        if (job && g_active_callers.load(std::memory_order_acquire) +
                           helping_.load(std::memory_order_relaxed) >=
                       size_)
          job = nullptr;
        if (job) {
          job->joined.fetch_add(1, std::memory_order_acq_rel);
          helping_.fetch_add(1, std::memory_order_relaxed);
        }
      }
      if (job) {
        work_on(*job, participant);
        helping_.fetch_sub(1, std::memory_order_relaxed);
        job->joined.fetch_sub(1, std::memory_order_acq_rel);
      }
    }
  }

  int size_ = 1;
  std::vector<std::thread> workers_;
  std::mutex owner_mu_;  // held by the thread whose job the workers run
  std::mutex mu_;        // guards job_ and stopping_
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> helping_{0};  // workers inside a job right now
  Job* job_ = nullptr;
  bool stopping_ = false;
};

ThreadPool& pool() {
  // Leaked on purpose: joining threads from a static destructor at process exit can deadlock
  // when the exit happens on a worker or while a job is in flight.
  static ThreadPool* p = new ThreadPool(default_num_threads());
  return *p;
}

}  // namespace

int available_cpus() {
  int n = 0;
#if defined(__linux__)
  // The affinity mask (taskset, cpusets) and the cgroup quota: what a container really gets.
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) n = CPU_COUNT(&set);
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int quota = cgroup_cpu_limit();
  if (quota > 0) n = std::min(n, quota);
#elif defined(_WIN32)
  // A process restricted by its affinity mask (start /affinity, a job object) gets that many
  // CPUs. Unrestricted, every active CPU in every processor group: the mask only describes the
  // process's first group, and Windows 11 spreads a process's threads over all groups.
  DWORD_PTR process_mask = 0, system_mask = 0;
  if (GetProcessAffinityMask(GetCurrentProcess(), &process_mask, &system_mask) &&
      process_mask != 0 && process_mask != system_mask) {
    for (; process_mask != 0; process_mask &= process_mask - 1) ++n;
  } else {
    n = static_cast<int>(GetActiveProcessorCount(ALL_PROCESSOR_GROUPS));
  }
#else
  // macOS and the rest: no affinity API, so every logical CPU.
  n = static_cast<int>(std::thread::hardware_concurrency());
#endif
  return std::max(1, n);
}

int default_num_threads() {
  if (const char* env = std::getenv("AXON_NUM_THREADS"); env && *env) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end && *end == '\0' && v >= 1 && v <= 1024) return static_cast<int>(v);
  }
  return available_cpus();
}

int num_threads() { return pool().size(); }

void set_num_threads(int n) { pool().resize(std::clamp(n, 1, 1024)); }

ComputeScope::ComputeScope() : outermost_(t_scope_depth++ == 0) {
  if (outermost_) g_active_callers.fetch_add(1, std::memory_order_acq_rel);
}

ComputeScope::~ComputeScope() {
  --t_scope_depth;
  if (outermost_) g_active_callers.fetch_sub(1, std::memory_order_acq_rel);
}

int active_callers() { return g_active_callers.load(std::memory_order_acquire); }

namespace detail {

bool in_parallel_region() { return t_in_region; }

void run_tasks(int64_t n_tasks, TaskFn fn, void* ctx) {
  if (!pool().try_run(n_tasks, fn, ctx)) {
    for (int64_t t = 0; t < n_tasks; ++t) fn(ctx, t);
  }
}

}  // namespace detail

}  // namespace axon
