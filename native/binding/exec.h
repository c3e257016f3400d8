// How the binding runs one op: timed for the profiler when it is on. Shared by the sync and
// async exports and by Program replay. Internal header.
#pragma once

#include "axon/profiler.h"

namespace axon::binding {

template <class Op>
void run_profiled(const Op& op) {
  if (!profiler::enabled()) return op.run();
  const profiler::CallScope scope = profiler::begin_call();
  try {
    op.run();
  } catch (...) {
    profiler::abandon_call(scope);
    throw;
  }
  profiler::end_call(scope, Op::kName, op.shapes(), op.flops(), op.bytes());
}

}  // namespace axon::binding
