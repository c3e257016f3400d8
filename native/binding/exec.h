// How the binding runs one op: timed for the profiler when it is on. Shared by the sync and
// async exports and by Program replay. Internal header.
#pragma once

#include <chrono>

#include "axon/profiler.h"

namespace axon::binding {

template <class Op>
void run_profiled(const Op& op) {
  if (!profiler::enabled()) return op.run();
  const auto t0 = std::chrono::steady_clock::now();
  op.run();
  const auto t1 = std::chrono::steady_clock::now();
  profiler::add({Op::kName, op.shapes(),
                 std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count(), op.flops(),
                 op.bytes()});
}

}  // namespace axon::binding
