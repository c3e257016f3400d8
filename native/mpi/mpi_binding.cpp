// axon_mpi: the optional MPI addon (data-parallel training, src/distributed). Built only when
// pkg-config finds Open MPI or MPICH (tools/build-mpi.mjs); the engine without it is unchanged.
//
// Every MPI call runs on one dedicated comm thread that owns MPI (MPI_Init_thread is called
// there with MPI_THREAD_SERIALIZED, since the last calls at exit or abort come from the JS
// thread after the comm thread has been joined), fed by a FIFO queue: collectives start in the
// order JS issued them, which every rank must agree on. Each call returns a Promise settled
// through a thread-safe function, so the event loop and the kernel threads keep running while
// a reduction is in flight (that is how gradient buckets overlap backward). Collectives are
// non-blocking MPI calls polled with MPI_Test against a deadline: a dead or stuck rank gives a
// clear error instead of a hang. Test: tests/distributed (mpirun), bench/allreduce.bench.ts.
#include <mpi.h>
#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include <cerrno>
#include <napi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <algorithm>

namespace axon::mpi {

namespace {

enum class Kind { kInit, kBarrier, kBroadcast, kAllreduce, kAllgather, kFinalize };
enum class ReduceOp { kSum, kMean, kMax, kMin };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kInit:
      return "init";
    case Kind::kBarrier:
      return "barrier";
    case Kind::kBroadcast:
      return "broadcast";
    case Kind::kAllreduce:
      return "allreduce";
    case Kind::kAllgather:
      return "allgather";
    case Kind::kFinalize:
      return "finalize";
  }
  return "?";
}

// One queued call. Built on the main thread; the comm thread reads the inputs and writes
// `error` and the init results; the main thread settles `deferred` and deletes the job.
struct Job {
  Kind kind;
  Napi::Promise::Deferred deferred;
  // Buffers stay referenced (the GC keeps their memory) until the promise settles.
  Napi::ObjectReference keep_a, keep_b;
  // The comm thread sets `done` when the call has run; the main thread sets `claimed` when it
  // settled the promise itself (submit's short wait), so settle() then only frees the job.
  std::atomic<bool> done{false};
  bool claimed = false;
  void* data = nullptr;  // broadcast / allreduce buffer, allgather send buffer
  void* recv = nullptr;  // allgather receive buffer
  int64_t bytes = 0;     // broadcast / allgather: bytes per rank
  int64_t count = 0;     // allreduce: elements
  bool f64 = false;      // allreduce element type
  bool bf16 = false;     // allreduce of float32 sum/mean sent as bfloat16 (fp32 accumulation)
  ReduceOp op = ReduceOp::kSum;
  int root = 0;
  double timeout_ms = 0;  // 0: wait forever
  std::string error;
  int rank = 0, size = 1, local_rank = 0, local_size = 1, thread_level = 0;
  std::string library;

  explicit Job(Napi::Env env, Kind k) : kind(k), deferred(Napi::Promise::Deferred::New(env)) {}
};

enum State : int { kNone = 0, kReady = 1, kFinalized = 2, kFailed = 3 };

struct Comm;
void settle(Napi::Env env, Napi::Function, Comm* comm, Job* job);
using Tsfn = Napi::TypedThreadSafeFunction<Comm, Job, settle>;

struct Comm {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job*> queue;
  std::atomic<int> queued{0};
  std::atomic<int64_t> allreduce_ns{0};  // time spent in allreduces (comm thread adds)        //
                                         // queue.size(), read without the lock while lingering
  bool stop = false;                     // guarded by mu
  std::atomic<bool> abandon{false};      // polling loops give up (process exit)
  std::thread thread;
  std::atomic<int> state{kNone};
  std::string failure;  // why state became kFailed (comm thread writes before the store)
  Tsfn tsfn;
  int pending = 0;  // main thread only: jobs not yet settled (the TSFN is ref'd while > 0)
  bool started = false;
  int size = 1;  // comm thread only after init
  int rank = 0;  // comm thread only after init
  MPI_Comm local = MPI_COMM_NULL;
  // A duplicate of MPI_COMM_WORLD for the ring's point-to-point messages, so they can never
  // match anything else (comm thread only).
  MPI_Comm ring = MPI_COMM_NULL;
  std::vector<unsigned char> ring_tmp;      // the ring's receive segments (comm thread only)
  std::vector<MPI_Request> sends;           // the ring's outgoing segments (comm thread only)
  std::vector<uint16_t> wire_out, wire_in;  // the bf16 ring's chunks (comm thread only)

  std::string mpi_error(const char* what, int code) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) len = 0;
    return std::string(what) + ": MPI error " + std::to_string(code) + " (" +
           std::string(text, static_cast<size_t>(len)) + ")";
  }

  // Waits for non-blocking requests. Spins for the first kSpinUs (a reduction of a few KB
  // finishes in tens of microseconds and MPI_Test drives Open MPI's progress: sleeping there
  // tripled a 1 KB allreduce's latency against plain C MPI), then sleeps between tests so a
  // long wait does not steal a core from the kernel threads computing backward meanwhile.
  // `t0` is when the whole collective started: its deadline covers every wait it makes.
  static constexpr double kSpinUs = 300;
  std::string wait(MPI_Request* req, double timeout_ms, const char* what, int count = 1,
                   std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now()) {
    using clock = std::chrono::steady_clock;
    int flag = 0;
    for (long spins = 0;; ++spins) {
      int rc = count == 1 ? MPI_Test(req, &flag, MPI_STATUS_IGNORE)
                          : MPI_Testall(count, req, &flag, MPI_STATUSES_IGNORE);
      if (rc != MPI_SUCCESS) return mpi_error(what, rc);
      if (flag) return {};
      if (abandon.load(std::memory_order_relaxed))
        return std::string(what) + ": abandoned because the process is exiting";
      if (spins % 64 == 63) {
        const double ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
        if (ms * 1000 < kSpinUs) continue;
        if (timeout_ms > 0 && ms > timeout_ms)
          return std::string(what) + ": not every rank took part within " +
                 std::to_string(static_cast<long>(timeout_ms)) +
                 " ms. A rank has died or is stuck, or the ranks do not make the same collective "
                 "calls in the same order (different models, batch counts or epochs). The job "
                 "cannot continue; this process stops the other ranks (MPI_Abort) when it exits";
        std::this_thread::sleep_for(std::chrono::microseconds(ms > 20 ? 200 : 20));
      }
    }
  }

  // The ring allreduce (reduce-scatter, then allgather; Patarasuk and Yuan's bandwidth-optimal
  // algorithm, what NCCL and Horovod run): each rank sends and receives 2 (p-1)/p of the data,
  // every link busy in both directions at once. Open MPI 4.1's non-blocking in-place
  // allreduce picks a binomial reduce-then-broadcast instead, which sends the whole buffer
  // through the tree twice, one direction at a time (measured: 2x the ring's time on a 1
  // Gbit/s link). Chunk c of p is [count c / p, count (c+1) / p). Each step's incoming chunk
  // arrives in segments of kRingSegment bytes, kRingInflight of them posted at a time, so
  // reducing one segment overlaps receiving the next. Every rank ends with the same bits: the
  // reduced chunks are copied, not recomputed, in the allgather. Returns "" or the error.
  static constexpr int64_t kRingSegment = int64_t{4} << 20;
  static constexpr int kRingInflight = 4;
  template <class T>
  std::string ring_allreduce(T* data, int64_t count, ReduceOp op, double timeout_ms) {
    const Raised raised(this);
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    const int p = size, right = (rank + 1) % size, left = (rank + size - 1) % size;
    const MPI_Datatype type = sizeof(T) == 8 ? MPI_DOUBLE : MPI_FLOAT;
    auto lo = [&](int c) { return count * c / p; };
    auto len = [&](int c) { return count * (c + 1) / p - count * c / p; };
    const int64_t seg = std::max<int64_t>(1, kRingSegment / int64_t{sizeof(T)});
    ring_tmp.resize(static_cast<size_t>(kRingInflight * seg) * sizeof(T));
    T* const tmp = reinterpret_cast<T*>(ring_tmp.data());
    auto combine = [op](T* out, const T* in, int64_t n) {
      switch (op) {
        case ReduceOp::kMax:
          for (int64_t i = 0; i < n; ++i)
            out[i] = in[i] > out[i] || in[i] != in[i] ? in[i] : out[i];
          break;
        case ReduceOp::kMin:
          for (int64_t i = 0; i < n; ++i)
            out[i] = in[i] < out[i] || in[i] != in[i] ? in[i] : out[i];
          break;
        default:
          for (int64_t i = 0; i < n; ++i) out[i] += in[i];
      }
    };
    for (int step = 0; step < 2 * (p - 1); ++step) {
      const bool gather = step >= p - 1;
      const int s = gather ? step - (p - 1) : step;
      // reduce-scatter: send chunk rank - s, receive chunk rank - s - 1 and reduce it in;
      // allgather: send chunk rank + 1 - s (reduced), receive chunk rank - s into place.
      const int send_c = ((gather ? rank + 1 - s : rank - s) % p + p) % p;
      const int recv_c = ((gather ? rank - s : rank - s - 1) % p + p) % p;
      const int tag = step;
      // A timeout names the neighbour this step waits on (src/distributed adds its host).
      const std::string what = "allreduce (ring step " + std::to_string(step + 1) + " of " +
                               std::to_string(2 * (p - 1)) + ", waiting on rank " +
                               std::to_string(left) + ")";
      // The outgoing chunk goes as segments too: a receive must be at least its message's
      // size, and the receiver takes the chunk a segment at a time (same source, tag and
      // communicator: MPI delivers them in order).
      const int64_t out_n = len(send_c);
      const int64_t out_segments = (out_n + seg - 1) / seg;
      sends.assign(static_cast<size_t>(out_segments), MPI_REQUEST_NULL);
      int rc = MPI_SUCCESS;
      for (int64_t k = 0; k < out_segments && rc == MPI_SUCCESS; ++k)
        rc =
            MPI_Isend(data + lo(send_c) + k * seg, static_cast<int>(std::min(seg, out_n - k * seg)),
                      type, right, tag, ring, &sends[static_cast<size_t>(k)]);
      if (rc != MPI_SUCCESS) return mpi_error("allreduce", rc);
      auto wait_sends = [&]() -> std::string {
        if (sends.empty()) return {};
        return wait(sends.data(), timeout_ms, what.c_str(), static_cast<int>(sends.size()), t0);
      };
      const int64_t n = len(recv_c);
      T* dst = data + lo(recv_c);
      const int64_t segments = (n + seg - 1) / seg;
      if (gather) {
        // Straight into place, one receive per segment.
        std::vector<MPI_Request> recvs(static_cast<size_t>(segments), MPI_REQUEST_NULL);
        for (int64_t k = 0; k < segments && rc == MPI_SUCCESS; ++k)
          rc = MPI_Irecv(dst + k * seg, static_cast<int>(std::min(seg, n - k * seg)), type, left,
                         tag, ring, &recvs[static_cast<size_t>(k)]);
        if (rc != MPI_SUCCESS) return mpi_error("allreduce", rc);
        if (!recvs.empty())
          if (std::string e =
                  wait(recvs.data(), timeout_ms, what.c_str(), static_cast<int>(recvs.size()), t0);
              !e.empty())
            return e;
        if (std::string e = wait_sends(); !e.empty()) return e;
        continue;
      }
      // Segments of the incoming chunk, kRingInflight receives posted ahead (each large
      // message needs its receive posted before the sender's data flows, and the clear-to-send
      // crosses the link behind the other direction's data), each reduced while later ones
      // arrive.
      MPI_Request recv[kRingInflight];
      auto post = [&](int64_t k) {
        const int64_t m = std::min(seg, n - k * seg);
        const int64_t b = k % kRingInflight;
        return MPI_Irecv(tmp + b * seg, static_cast<int>(m), type, left, tag, ring, &recv[b]);
      };
      for (int64_t k = 0; k < std::min<int64_t>(segments, kRingInflight) && rc == MPI_SUCCESS; ++k)
        rc = post(k);
      if (rc != MPI_SUCCESS) return mpi_error("allreduce", rc);
      for (int64_t k = 0; k < segments; ++k) {
        const int64_t b = k % kRingInflight;
        if (std::string e = wait(&recv[b], timeout_ms, what.c_str(), 1, t0); !e.empty()) return e;
        combine(dst + k * seg, tmp + b * seg, std::min(seg, n - k * seg));
        if (k + kRingInflight < segments && (rc = post(k + kRingInflight)) != MPI_SUCCESS)
          return mpi_error("allreduce", rc);
      }
      if (std::string e = wait_sends(); !e.empty()) return e;
    }
    return {};
  }

  // Recursive doubling, for latency-bound small messages: the ranks past the largest power of
  // two p2 first fold their buffer into a neighbour (2i into 2i+1), p2 ranks then exchange
  // whole buffers with rank ^ 2^k for k < log2 p2, and the folded ranks get the result back:
  // log2 p2 (+2) message latencies in all. It replaces MPI_Iallreduce below kDoublingMaxBytes:
  // measured between two simulated nodes, Open MPI's non-blocking schedule spent 20-22 us on
  // the comm thread per 1 KB allreduce where one exchange is 11 us (plain C MPI_Allreduce).
  // Each pair combines (lower rank's, higher rank's) on both sides, so the partners hold the
  // same bits after every round, and every rank ends with the same bits.
  static constexpr int64_t kDoublingMaxBytes = int64_t{16} << 10;
  template <class T>
  std::string doubling_allreduce(T* data, int64_t count, ReduceOp op, double timeout_ms) {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    const MPI_Datatype type = sizeof(T) == 8 ? MPI_DOUBLE : MPI_FLOAT;
    const int n = static_cast<int>(count);
    ring_tmp.resize(static_cast<size_t>(count) * sizeof(T));
    T* const tmp = reinterpret_cast<T*>(ring_tmp.data());
    // data = op(first, second), element by element; data may be either of them.
    auto combine = [op, count, data](const T* first, const T* second) {
      for (int64_t i = 0; i < count; ++i) {
        const T a = first[i], b = second[i];
        switch (op) {
          case ReduceOp::kMax:
            data[i] = b > a || b != b ? b : a;
            break;
          case ReduceOp::kMin:
            data[i] = b < a || b != b ? b : a;
            break;
          default:
            data[i] = a + b;
        }
      }
    };
    auto exchange = [&](int partner, bool send, bool recv, T* into, int tag) -> std::string {
      MPI_Request req[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
      int rc = MPI_SUCCESS;
      if (recv) rc = MPI_Irecv(into, n, type, partner, tag, ring, &req[0]);
      if (rc == MPI_SUCCESS && send) rc = MPI_Isend(data, n, type, partner, tag, ring, &req[1]);
      if (rc != MPI_SUCCESS) return mpi_error("allreduce", rc);
      const std::string what = "allreduce (waiting on rank " + std::to_string(partner) + ")";
      return wait(req, timeout_ms, what.c_str(), 2, t0);
    };
    int p2 = 1;
    while (p2 * 2 <= size) p2 *= 2;
    const int extra = size - p2;
    const bool folded = rank < 2 * extra;
    // Tags above the ring's steps (0 .. 2(p-1)) on the same communicator.
    const int kTag = 1 << 20;
    if (folded && rank % 2 == 0) {
      if (std::string e = exchange(rank + 1, true, false, nullptr, kTag); !e.empty()) return e;
      return exchange(rank + 1, false, true, data, kTag + 1);
    }
    if (folded) {
      if (std::string e = exchange(rank - 1, false, true, tmp, kTag); !e.empty()) return e;
      combine(tmp, data);
    }
    const int vrank = folded ? rank / 2 : rank - extra;
    for (int mask = 1; mask < p2; mask <<= 1) {
      const int vpartner = vrank ^ mask;
      const int partner = vpartner < extra ? 2 * vpartner + 1 : vpartner + extra;
      if (std::string e = exchange(partner, true, true, tmp, kTag + 2 + mask); !e.empty()) return e;
      if (partner < rank)
        combine(tmp, data);
      else
        combine(data, tmp);
    }
    if (folded) return exchange(rank - 1, true, false, nullptr, kTag + 1);
    return {};
  }

  // bfloat16: the top half of a float32, rounded to nearest even (NaN stays a quiet NaN).
  static uint16_t to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
  }
  static float from_bf16(uint16_t h) {
    const uint32_t u = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }

  // The ring allreduce (sum) of float32 data with bfloat16 on the wire and float32
  // accumulation (gradient compression, as Horovod's and PyTorch DDP's bf16 hooks): each
  // reduce-scatter step rounds the partial sum it forwards to bf16 and the receiver adds it to
  // its float32 chunk; the owner of each reduced chunk rounds it to bf16 before the allgather,
  // keeping the rounded values itself, so every rank ends with the same bits. Half the bytes
  // of the float32 ring; the price is bf16's 8-bit mantissa on each forwarded partial sum.
  std::string ring_allreduce_bf16(float* data, int64_t count, double timeout_ms) {
    const Raised raised(this);
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    const int p = size, right = (rank + 1) % size, left = (rank + size - 1) % size;
    auto lo = [&](int c) { return count * c / p; };
    auto len = [&](int c) { return count * (c + 1) / p - count * c / p; };
    const int64_t max_chunk = (count + p - 1) / p;
    wire_out.resize(static_cast<size_t>(max_chunk));
    wire_in.resize(static_cast<size_t>(max_chunk));
    for (int step = 0; step < 2 * (p - 1); ++step) {
      const bool gather = step >= p - 1;
      const int s = gather ? step - (p - 1) : step;
      const int send_c = ((gather ? rank + 1 - s : rank - s) % p + p) % p;
      const int recv_c = ((gather ? rank - s : rank - s - 1) % p + p) % p;
      float* out = data + lo(send_c);
      const int64_t out_n = len(send_c);
      const std::string what = "allreduce (bf16 ring step " + std::to_string(step + 1) + " of " +
                               std::to_string(2 * (p - 1)) + ", waiting on rank " +
                               std::to_string(left) + ")";
      // The first allgather step sends the chunk this rank reduced: round it for itself too.
      for (int64_t i = 0; i < out_n; ++i) {
        wire_out[static_cast<size_t>(i)] = to_bf16(out[i]);
        if (gather && s == 0) out[i] = from_bf16(wire_out[static_cast<size_t>(i)]);
      }
      MPI_Request req[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
      int rc = MPI_Isend(wire_out.data(), static_cast<int>(out_n), MPI_UINT16_T, right, step, ring,
                         &req[0]);
      const int64_t n = len(recv_c);
      if (rc == MPI_SUCCESS)
        rc =
            MPI_Irecv(wire_in.data(), static_cast<int>(n), MPI_UINT16_T, left, step, ring, &req[1]);
      if (rc != MPI_SUCCESS) return mpi_error("allreduce", rc);
      if (std::string e = wait(req, timeout_ms, what.c_str(), 2, t0); !e.empty()) return e;
      float* dst = data + lo(recv_c);
      if (gather)
        for (int64_t i = 0; i < n; ++i) dst[i] = from_bf16(wire_in[static_cast<size_t>(i)]);
      else
        for (int64_t i = 0; i < n; ++i) dst[i] += from_bf16(wire_in[static_cast<size_t>(i)]);
    }
    return {};
  }

  // Which allreduce runs: the ring for messages of at least kRingMinBytes on 2+ ranks,
  // recursive doubling up to kDoublingMaxBytes, the library's MPI_Iallreduce in between.
  // AXON_ALLREDUCE=ring|mpi forces one for every size (docs/DISTRIBUTED.md).
  static constexpr int64_t kRingMinBytes = int64_t{256} << 10;
  bool use_ring(int64_t bytes) const {
    static const char* forced = std::getenv("AXON_ALLREDUCE");
    if (size < 2) return false;
    if (forced && std::strcmp(forced, "ring") == 0) return true;
    if (forced && std::strcmp(forced, "mpi") == 0) return false;
    return bytes >= kRingMinBytes;
  }

  bool use_doubling(int64_t bytes) const {
    static const char* forced = std::getenv("AXON_ALLREDUCE");
    if (size < 2 || forced) return false;
    return bytes <= kDoublingMaxBytes;
  }

  void fail(const std::string& why) {
    failure = why;
    state.store(kFailed);
  }

  void run_job(Job* job) {
    const int st = state.load();
    if (job->kind == Kind::kInit) {
      if (st != kNone) {
        job->error = st == kFinalized ? "init: MPI was finalized; it cannot start again"
                                      : "init: MPI failed earlier: " + failure;
        return;
      }
      do_init(job);
      return;
    }
    if (st == kNone) {
      job->error = std::string(kind_name(job->kind)) + ": call init() first";
      return;
    }
    if (st == kFinalized) {
      job->error = std::string(kind_name(job->kind)) + ": MPI was finalized";
      return;
    }
    if (st == kFailed) {
      job->error =
          std::string(kind_name(job->kind)) + ": an earlier collective failed (" + failure + ")";
      return;
    }
    if (job->kind == Kind::kFinalize) {
      if (local != MPI_COMM_NULL) MPI_Comm_free(&local);
      if (ring != MPI_COMM_NULL) MPI_Comm_free(&ring);
      int rc = MPI_Finalize();
      state.store(kFinalized);
      if (rc != MPI_SUCCESS) job->error = mpi_error("finalize", rc);
      return;
    }
    MPI_Request req = MPI_REQUEST_NULL;
    int rc = MPI_SUCCESS;
    bool ring_done = false;  // the ring allreduce ran (and waited) already
    std::string ring_err;
    switch (job->kind) {
      case Kind::kBarrier:
        rc = MPI_Ibarrier(MPI_COMM_WORLD, &req);
        break;
      case Kind::kBroadcast:
        rc = MPI_Ibcast(job->data, static_cast<int>(job->bytes), MPI_BYTE, job->root,
                        MPI_COMM_WORLD, &req);
        break;
      case Kind::kAllreduce: {
        if (job->bf16 && size > 1) {
          ring_done = true;
          ring_err =
              ring_allreduce_bf16(static_cast<float*>(job->data), job->count, job->timeout_ms);
          break;
        }
        const int64_t bytes = job->count * (job->f64 ? 8 : 4);
        if (use_doubling(bytes)) {
          ring_done = true;
          ring_err = job->f64 ? doubling_allreduce(static_cast<double*>(job->data), job->count,
                                                   job->op, job->timeout_ms)
                              : doubling_allreduce(static_cast<float*>(job->data), job->count,
                                                   job->op, job->timeout_ms);
          break;
        }
        if (use_ring(bytes)) {
          ring_done = true;
          ring_err = job->f64 ? ring_allreduce(static_cast<double*>(job->data), job->count, job->op,
                                               job->timeout_ms)
                              : ring_allreduce(static_cast<float*>(job->data), job->count, job->op,
                                               job->timeout_ms);
          break;
        }
        MPI_Op op = job->op == ReduceOp::kMax   ? MPI_MAX
                    : job->op == ReduceOp::kMin ? MPI_MIN
                                                : MPI_SUM;
        rc = MPI_Iallreduce(MPI_IN_PLACE, job->data, static_cast<int>(job->count),
                            job->f64 ? MPI_DOUBLE : MPI_FLOAT, op, MPI_COMM_WORLD, &req);
        break;
      }
      case Kind::kAllgather:
        rc = MPI_Iallgather(job->data, static_cast<int>(job->bytes), MPI_BYTE, job->recv,
                            static_cast<int>(job->bytes), MPI_BYTE, MPI_COMM_WORLD, &req);
        break;
      default:
        break;
    }
    std::string err = ring_done           ? ring_err
                      : rc != MPI_SUCCESS ? mpi_error(kind_name(job->kind), rc)
                                          : wait(&req, job->timeout_ms, kind_name(job->kind));
    if (!err.empty()) {
      // A collective that did not complete leaves the ranks out of step: nothing after it
      // can be trusted, so every later call fails at once with this reason.
      fail(err);
      job->error = err;
      return;
    }
    if (job->kind == Kind::kAllreduce && job->op == ReduceOp::kMean) {
      if (job->f64) {
        double* d = static_cast<double*>(job->data);
        for (int64_t i = 0; i < job->count; ++i) d[i] /= size;
      } else {
        // Multiply by 1/size in float, as a single-process mean over size equal shards
        // would divide each gradient once; the same on every rank, so weights stay equal.
        float* d = static_cast<float*>(job->data);
        const float inv = 1.0f / static_cast<float>(size);
        for (int64_t i = 0; i < job->count; ++i) d[i] *= inv;
      }
    }
  }

  void do_init(Job* job) {
    int already = 0;
    MPI_Initialized(&already);
    int provided = 0;
    int rc = already ? MPI_Query_thread(&provided)
                     : MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) {
      job->error = "init: MPI_Init_thread failed with code " + std::to_string(rc);
      fail(job->error);
      return;
    }
    // Errors come back as codes (turned into JS errors), instead of aborting the job.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &job->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &job->size);
    size = job->size;
    rank = job->rank;
    if ((rc = MPI_Comm_dup(MPI_COMM_WORLD, &ring)) != MPI_SUCCESS) {
      job->error = mpi_error("init: MPI_Comm_dup", rc);
      fail(job->error);
      return;
    }
    MPI_Comm_set_errhandler(ring, MPI_ERRORS_RETURN);
    // Ranks sharing memory (one node): localRank and localSize size the kernel thread pool.
    rc =
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, job->rank, MPI_INFO_NULL, &local);
    if (rc == MPI_SUCCESS) {
      MPI_Comm_rank(local, &job->local_rank);
      MPI_Comm_size(local, &job->local_size);
    }
    job->thread_level = provided;
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    if (MPI_Get_library_version(lib, &len) == MPI_SUCCESS) {
      std::string s(lib, static_cast<size_t>(len));
      const size_t nl = s.find_first_of(",\n");
      job->library = nl == std::string::npos ? s : s.substr(0, nl);
    }
    state.store(kReady);
  }

  // The comm thread must not be starved by the compute threads while a large reduction is in
  // flight: it only moves data and sums, so ahead of them it costs little, and behind them a
  // bucket's transfer stalls until backward ends. Linux gives each thread its own nice value:
  // during each ring allreduce this one runs at -10 (allowed for root or with CAP_SYS_NICE;
  // otherwise it stays at the process's and commStats().raisedPriority says so;
  // AXON_COMM_NICE=<-20..19> chooses another value), and back at the process's value
  // otherwise: raised while it lingers on an empty queue or polls a small collective, it kept
  // the JS thread from issuing the next call and a 1 KB allreduce took 0.5 ms instead of 25 us.
  int nice_wanted = -10, nice_got = 0, nice_base = 0;
  bool nice_ok = false;
  void init_priority() {
#if defined(__linux__)
    if (const char* env = std::getenv("AXON_COMM_NICE"); env && *env) nice_wanted = std::atoi(env);
    errno = 0;
    nice_base = getpriority(PRIO_PROCESS, 0);
#endif
  }
  void set_priority(bool raised) {
#if defined(__linux__)
    const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
    const bool ok =
        setpriority(PRIO_PROCESS, static_cast<id_t>(tid), raised ? nice_wanted : nice_base) == 0;
    if (raised) {
      nice_ok = ok;
      errno = 0;
      nice_got = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
    }
#else
    (void)raised;
#endif
  }
  struct Raised {
    Comm* c;
    explicit Raised(Comm* comm) : c(comm) { c->set_priority(true); }
    ~Raised() { c->set_priority(false); }
  };

  // After each job the comm thread watches the queue for kLingerUs (yielding) before it
  // sleeps: the next collective usually follows within microseconds (a barrier then a
  // reduction, the buckets of one backward), and waking a sleeping thread costs 10-30 us.
  static constexpr double kLingerUs = 100;
  void loop() {
    init_priority();
    for (;;) {
      Job* job = nullptr;
      {
        using clock = std::chrono::steady_clock;
        const auto t0 = clock::now();
        while (queued.load(std::memory_order_acquire) == 0 &&
               !abandon.load(std::memory_order_relaxed) &&
               std::chrono::duration<double, std::micro>(clock::now() - t0).count() < kLingerUs)
          std::this_thread::yield();
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return stop || !queue.empty(); });
        if (queue.empty()) break;  // stop requested and nothing left
        job = queue.front();
        queue.pop_front();
        queued.fetch_sub(1, std::memory_order_release);
      }
      const auto started = std::chrono::steady_clock::now();
      run_job(job);
      if (job->kind == Kind::kAllreduce)
        allreduce_ns.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now() - started)
                                   .count());
      job->done.store(true, std::memory_order_release);
      // The environment is gone (process exit): leak the job rather than run its reference
      // destructors off the JS thread.
      if (tsfn.BlockingCall(job) != napi_ok) (void)job;
    }
  }

  // Process exit: finish MPI so mpirun sees a clean end, or, after a failed collective,
  // abort the job so ranks waiting on this one are stopped instead of hanging.
  // Ends the comm thread: a collective in progress returns at its next test (abandon), queued
  // ones fail the same way; afterwards this thread may call MPI (MPI_THREAD_SERIALIZED).
  void stop_thread() {
    abandon.store(true);
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    if (thread.joinable()) thread.join();
  }

  void shutdown() {
    if (!started) return;
    stop_thread();
    const int st = state.load();
    // The comm thread has ended, so this thread may make the last MPI call (serialised).
    if (st == kReady) {
      if (local != MPI_COMM_NULL) MPI_Comm_free(&local);
      if (ring != MPI_COMM_NULL) MPI_Comm_free(&ring);
      MPI_Finalize();
      state.store(kFinalized);
    } else if (st == kFailed) {
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    started = false;
  }
};

// Resolves or rejects a finished job's promise (main thread).
void finish(Napi::Env env, Job* job) {
  if (!job->error.empty()) {
    // A collective that failed or timed out may still be active inside MPI, which can write
    // into its buffers later: keep them referenced for the rest of the process.
    job->keep_a.SuppressDestruct();
    job->keep_b.SuppressDestruct();
    job->deferred.Reject(Napi::Error::New(env, job->error).Value());
    return;
  }
  if (job->kind == Kind::kInit) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("rank", job->rank);
    o.Set("size", job->size);
    o.Set("localRank", job->local_rank);
    o.Set("localSize", job->local_size);
    o.Set("threadLevel", job->thread_level);
    o.Set("library", job->library);
    job->deferred.Resolve(o);
    return;
  }
  job->deferred.Resolve(env.Undefined());
}

void settle(Napi::Env env, Napi::Function, Comm* comm, Job* job) {
  std::unique_ptr<Job> owned(job);
  if (env == nullptr) return;
  Napi::HandleScope scope(env);
  if (--comm->pending == 0) comm->tsfn.Unref(env);
  if (!job->claimed) finish(env, job);
}

Comm* comm_of(const Napi::CallbackInfo& info) { return static_cast<Comm*>(info.Data()); }

double timeout_arg(const Napi::CallbackInfo& info, size_t i, const char* op) {
  if (info.Length() <= i || info[i].IsUndefined()) return 0;
  if (!info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(),
                               std::string(op) + ": timeoutMs must be a number of milliseconds");
  const double t = info[i].As<Napi::Number>().DoubleValue();
  if (!(t >= 0) || t > 1e12)
    throw Napi::RangeError::New(info.Env(), std::string(op) + ": timeoutMs must be >= 0 (0: none)");
  return t;
}

Napi::TypedArray typed_arg(const Napi::CallbackInfo& info, size_t i, const char* op,
                           const char* name) {
  if (info.Length() <= i || !info[i].IsTypedArray())
    throw Napi::TypeError::New(info.Env(),
                               std::string(op) + ": " + name + " must be a typed array");
  Napi::TypedArray a = info[i].As<Napi::TypedArray>();
  // MPI counts are int: refuse what would overflow rather than send a truncated buffer.
  if (a.ByteLength() > static_cast<size_t>(INT32_MAX))
    throw Napi::RangeError::New(info.Env(),
                                std::string(op) + ": " + name + " is larger than 2 GiB; split it");
  return a;
}

void* data_of(Napi::TypedArray a) {
  return static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
}

constexpr double kSettleWaitUs = 100;
constexpr int64_t kSettleWaitMaxBytes = int64_t{64} << 10;

// Queues a job for the comm thread (main thread).
void enqueue(Comm* comm, Napi::Env env, Job* job) {
  if (!comm->started) {
    comm->tsfn = Tsfn::New(env, "axon-mpi", 0, 1, comm);
    comm->tsfn.Unref(env);
    comm->thread = std::thread([comm] { comm->loop(); });
    comm->started = true;
  }
  // Keep the process alive while a call is in flight (a pending Promise alone does not).
  if (comm->pending++ == 0) comm->tsfn.Ref(env);
  {
    std::lock_guard<std::mutex> lock(comm->mu);
    comm->queue.push_back(job);
    comm->queued.fetch_add(1, std::memory_order_release);
  }
  comm->cv.notify_one();
}

Napi::Value submit(Comm* comm, Napi::Env env, Job* job) {
  Napi::Promise p = job->deferred.Promise();
  enqueue(comm, env, job);
  // A small collective usually completes within tens of microseconds: wait for it here, up to
  // kSettleWaitUs, and settle the promise at once, rather than return to the event loop and be
  // woken through the thread-safe function (10-30 us more per call, which made a 1 KB
  // allreduce 3-5x slower than from plain C MPI). The event loop is held at most that long;
  // anything slower settles through the usual path.
  const int64_t bytes =
      job->kind == Kind::kAllreduce ? job->count * (job->f64 ? 8 : 4) : job->bytes;
  if (job->kind != Kind::kInit && job->kind != Kind::kFinalize && bytes <= kSettleWaitMaxBytes) {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    while (!job->done.load(std::memory_order_acquire) &&
           std::chrono::duration<double, std::micro>(clock::now() - t0).count() < kSettleWaitUs)
      std::this_thread::yield();
    if (job->done.load(std::memory_order_acquire)) {
      job->claimed = true;
      finish(env, job);
    }
  }
  return p;
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  return submit(comm_of(info), info.Env(), new Job(info.Env(), Kind::kInit));
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  auto* job = new Job(info.Env(), Kind::kBarrier);
  std::unique_ptr<Job> guard(job);
  job->timeout_ms = timeout_arg(info, 0, "barrier");
  return submit(comm_of(info), info.Env(), guard.release());
}

// broadcast(buffer, root, timeoutMs): buffer's bytes from rank `root` to every rank.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::unique_ptr<Job> job(new Job(env, Kind::kBroadcast));
  Napi::TypedArray a = typed_arg(info, 0, "broadcast", "buffer");
  if (info.Length() < 2 || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "broadcast: root must be a rank number");
  const double root = info[1].As<Napi::Number>().DoubleValue();
  if (!(root >= 0) || root != static_cast<int>(root))
    throw Napi::RangeError::New(env, "broadcast: root must be a non-negative integer rank");
  job->root = static_cast<int>(root);
  job->timeout_ms = timeout_arg(info, 2, "broadcast");
  job->data = data_of(a);
  job->bytes = static_cast<int64_t>(a.ByteLength());
  job->keep_a = Napi::Persistent(static_cast<Napi::Object>(a));
  return submit(comm_of(info), env, job.release());
}

// The job of allreduce(buffer, op, timeoutMs, compression), its arguments checked.
std::unique_ptr<Job> allreduce_job(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::unique_ptr<Job> job(new Job(env, Kind::kAllreduce));
  Napi::TypedArray a = typed_arg(info, 0, "allreduce", "buffer");
  if (a.TypedArrayType() != napi_float32_array && a.TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, "allreduce: buffer must be a Float32Array or Float64Array");
  if (info.Length() < 2 || !info[1].IsString())
    throw Napi::TypeError::New(env, "allreduce: op must be 'sum', 'mean', 'max' or 'min'");
  const std::string op = info[1].As<Napi::String>().Utf8Value();
  if (op == "sum")
    job->op = ReduceOp::kSum;
  else if (op == "mean")
    job->op = ReduceOp::kMean;
  else if (op == "max")
    job->op = ReduceOp::kMax;
  else if (op == "min")
    job->op = ReduceOp::kMin;
  else
    throw Napi::RangeError::New(
        env, "allreduce: op must be 'sum', 'mean', 'max' or 'min', got '" + op + "'");
  job->timeout_ms = timeout_arg(info, 2, "allreduce");
  job->f64 = a.TypedArrayType() == napi_float64_array;
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    const std::string c = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "";
    if (c != "none" && c != "bf16")
      throw Napi::RangeError::New(env, "allreduce: compression must be 'none' or 'bf16'");
    job->bf16 = c == "bf16";
    if (job->bf16 && (job->f64 || (job->op != ReduceOp::kSum && job->op != ReduceOp::kMean)))
      throw Napi::RangeError::New(
          env, "allreduce: bf16 compression reduces float32 buffers with 'sum' or 'mean' only");
  }
  job->data = data_of(a);
  job->count = static_cast<int64_t>(a.ElementLength());
  job->keep_a = Napi::Persistent(static_cast<Napi::Object>(a));
  return job;
}

// allreduce(buffer, op, timeoutMs, compression): in place over a Float32Array or Float64Array.
Napi::Value Allreduce(const Napi::CallbackInfo& info) {
  return submit(comm_of(info), info.Env(), allreduce_job(info).release());
}

// [sync] allreduceSync(buffer, op, timeoutMs): the same reduction, queued behind the calls
// already made, with the calling thread waiting for it and throwing its error. For code that
// needs the sums before it can go on and cannot await (a synchronized batch norm inside an
// eager forward or backward). The event loop is held meanwhile.
Napi::Value AllreduceSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Comm* comm = comm_of(info);
  if (comm->state.load() != kReady)
    throw Napi::Error::New(env,
                           "allreduceSync: MPI is not running (call init first, or a "
                           "collective failed)");
  std::unique_ptr<Job> owned = allreduce_job(info);
  Job* job = owned.release();
  enqueue(comm, env, job);
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  while (!job->done.load(std::memory_order_acquire)) {
    if (std::chrono::duration<double, std::micro>(clock::now() - t0).count() < kSettleWaitUs)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  // settle() (through the thread-safe function, later on this thread) only frees the job: its
  // promise was never handed out.
  job->claimed = true;
  if (!job->error.empty()) {
    // MPI may still write into the buffer of a failed collective: keep it referenced.
    job->keep_a.SuppressDestruct();
    throw Napi::Error::New(env, job->error);
  }
  return env.Undefined();
}

// allgather(send, recv, timeoutMs): recv (size * send bytes) gets every rank's send, by rank.
Napi::Value Allgather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::unique_ptr<Job> job(new Job(env, Kind::kAllgather));
  Napi::TypedArray send = typed_arg(info, 0, "allgather", "send");
  Napi::TypedArray recv = typed_arg(info, 1, "allgather", "recv");
  job->timeout_ms = timeout_arg(info, 2, "allgather");
  Comm* comm = comm_of(info);
  if (comm->state.load() == kReady &&
      recv.ByteLength() != send.ByteLength() * static_cast<size_t>(comm->size))
    throw Napi::RangeError::New(env, "allgather: recv must hold size (" +
                                         std::to_string(comm->size) + ") x send's " +
                                         std::to_string(send.ByteLength()) + " bytes, got " +
                                         std::to_string(recv.ByteLength()));
  job->data = data_of(send);
  job->recv = data_of(recv);
  job->bytes = static_cast<int64_t>(send.ByteLength());
  job->keep_a = Napi::Persistent(static_cast<Napi::Object>(send));
  job->keep_b = Napi::Persistent(static_cast<Napi::Object>(recv));
  return submit(comm, env, job.release());
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  return submit(comm_of(info), info.Env(), new Job(info.Env(), Kind::kFinalize));
}

// [sync] Ends the job on every rank now (MPI_Abort); does not return.
Napi::Value Abort(const Napi::CallbackInfo& info) {
  int code = 1;
  if (info.Length() > 0 && info[0].IsNumber()) code = info[0].As<Napi::Number>().Int32Value();
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (!init || fin) {
    // Nothing to abort through MPI: end this process the same way.
    std::_Exit(code);
  }
  // No MPI call may run concurrently with this one (MPI_THREAD_SERIALIZED): stop the comm
  // thread first (it leaves any wait at its next test).
  Comm* comm = comm_of(info);
  if (comm->started) comm->stop_thread();
  MPI_Abort(MPI_COMM_WORLD, code);
  return info.Env().Undefined();
}

// [sync] Called from process 'exit': finalize (or abort after a failure) on this thread.
Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  comm_of(info)->shutdown();
  return info.Env().Undefined();
}

// [sync] Nanoseconds the comm thread has spent running allreduces (start to completion), and
// the nice value it runs at (0 when it could not raise its priority): the busy time against
// which ddp reports how much of the reduction backward hid.
Napi::Value CommStats(const Napi::CallbackInfo& info) {
  Comm* comm = comm_of(info);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("allreduceNs", Napi::Number::New(info.Env(), double(comm->allreduce_ns.load())));
  o.Set("nice", Napi::Number::New(info.Env(), comm->nice_got));
  o.Set("raisedPriority", Napi::Boolean::New(info.Env(), comm->nice_ok));
  return o;
}

Napi::Value StateOf(const Napi::CallbackInfo& info) {
  static const char* names[] = {"uninitialized", "ready", "finalized", "failed"};
  return Napi::String::New(info.Env(), names[comm_of(info)->state.load()]);
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  // Never freed: the comm thread may outlive module teardown ordering; shutdown() joins it.
  auto* comm = new Comm();
  env.AddCleanupHook([comm] { comm->shutdown(); });
  auto fn = [&](const char* name, Napi::Value (*f)(const Napi::CallbackInfo&)) {
    exports.Set(name, Napi::Function::New(env, f, name, comm));
  };
  fn("init", Init);
  fn("barrier", Barrier);
  fn("broadcast", Broadcast);
  fn("allreduce", Allreduce);
  fn("allreduceSync", AllreduceSync);
  fn("allgather", Allgather);
  fn("finalize", Finalize);
  fn("abort", Abort);
  fn("shutdown", Shutdown);
  fn("state", StateOf);
  fn("commStats", CommStats);
  exports.Set("threadFunneled", Napi::Number::New(env, MPI_THREAD_FUNNELED));
  return exports;
}

}  // namespace

}  // namespace axon::mpi

static Napi::Object InitAxonMpi(Napi::Env env, Napi::Object exports) {
  return axon::mpi::InitModule(env, exports);
}

NODE_API_MODULE(axon_mpi, InitAxonMpi)
