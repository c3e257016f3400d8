// Kernel profiler: when enabled, each kernel call made through the binding records its op
// name, shapes, start and wall time, calling thread, FLOPs and bytes; and each pool worker
// (and the caller) records the span it spent on the call's parallel regions, so a trace shows
// one track per thread. Off by default; when off the cost is one relaxed atomic load per call
// and per parallel region. Thread-safe (async calls record from libuv threads). Storage is
// bounded: past kMaxRecords records (or kMaxSpans spans) further ones are counted as dropped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace axon::profiler {

struct Record {
  std::string op;
  std::string shapes;
  int64_t ns = 0;
  double flops = 0;
  double bytes = 0;  // memory traffic estimate (reads + writes), for GB/s of bandwidth-bound ops
  uint64_t id = 0;   // 1, 2, ... in order of start; spans name their call by it
  int64_t start_ns = 0;  // steady clock, relative to the profiler's epoch (first use)
  int thread = 0;        // the calling thread, numbered 0, 1, ... in order of first record
};

// One thread's share of a kernel call's parallel region: `worker` is the pool participant
// (0: the calling thread, 1..n-1: pool workers).
struct Span {
  uint64_t record = 0;  // the Record::id of the call (0 when made outside a recorded call)
  int worker = 0;
  int thread = 0;  // the thread numbering of Record::thread (pool workers included)
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t tasks = 0;  // tasks of the region this thread ran
};

struct Taken {
  std::vector<Record> records;
  std::vector<Span> spans;
  uint64_t dropped = 0;  // records and spans not kept since the last take (storage full)
};

constexpr size_t kMaxRecords = size_t{1} << 20;
constexpr size_t kMaxSpans = size_t{1} << 21;

bool enabled();
void set_enabled(bool on);
// Nanoseconds since the profiler's epoch (steady clock).
int64_t now_ns();
// This thread's number in records and spans.
int thread_number();

// A recorded call: begin() numbers it and makes it this thread's current call (so parallel
// regions it starts attribute their spans to it); end() records it and restores the previous.
struct CallScope {
  uint64_t id = 0;
  uint64_t previous = 0;
  int64_t start_ns = 0;
};
CallScope begin_call();
void end_call(const CallScope& scope, std::string op, std::string shapes, double flops,
              double bytes);
// A call that threw: restores the previous current call without recording it.
void abandon_call(const CallScope& scope);
// The call current on this thread (0: none), for the thread pool to hand to its workers.
uint64_t current_call();
void add_span(const Span& span);

// Returns and clears everything recorded so far.
Taken take();

}  // namespace axon::profiler
