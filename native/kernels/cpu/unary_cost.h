// Relative cost of one element of each unary op (1 = an add), indexed by UnaryOp: sizes the
// parallel grain of the elementwise loops (dispatch.cpp) and the profiler's flop counts (the
// binding, through axon::unary_cost in axon/ops.h). Production data, not a reference kernel.
#pragma once

#include <cstddef>

#include "axon/ops.h"

namespace axon::cpu {

inline constexpr int kUnaryCost[] = {1, 1, 1, 8, 8, 8, 10, 16, 12, 16, 9, 7, 8, 3, 1, 1, 1, 3, 12};
static_assert(sizeof(kUnaryCost) / sizeof(kUnaryCost[0]) == size_t(UnaryOp::Count));

}  // namespace axon::cpu
