// Declarations shared by the files of one SIMD level (each compiled once per level). Include
// after simd/isa.h. Internal header.
#pragma once

#include "axon/kernels.h"

namespace axon::cpu::AXON_ISA_NS {

// The table's kernels (axon/kernel_decls.h's ISA entries, via kernel_list.h), defined by this
// level's sources.
#define AXON_CPU_KERNEL(name, ret, params) ret name params;
#include "kernel_list.h"
#undef AXON_CPU_KERNEL

}  // namespace axon::cpu::AXON_ISA_NS
