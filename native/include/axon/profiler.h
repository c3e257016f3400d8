// Kernel profiler: when enabled, each kernel call made through the binding records its op
// name, shapes, wall time and FLOPs. Off by default; when off the cost is one relaxed atomic
// load per call. Thread-safe (async calls record from libuv threads).
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
};

bool enabled();
void set_enabled(bool on);
void add(Record record);
// Returns and clears everything recorded so far.
std::vector<Record> take();

}  // namespace axon::profiler
