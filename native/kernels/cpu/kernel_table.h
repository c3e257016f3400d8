// The per-ISA kernel table: each SIMD level's copy of the hot kernels (compiled once per level
// from the same sources, see binding.gyp) fills one table; dispatch.cpp picks the table of
// the level chosen at load. The kernels are the entries of axon/kernel_decls.h marked ISA
// (their signatures are written there; kernel_list.h selects them).
// Entries are single-threaded except `gemm`, which blocks and threads itself; the dispatch
// layer threads the others. Internal header.
#pragma once

#include <cstddef>

#include "axon/kernels.h"
#include "axon/runtime.h"

namespace axon::cpu {

// Number of table kernels (entries kernel_list.h selects).
inline constexpr size_t kKernelCount = 0
#define AXON_CPU_KERNEL(name, ret, params) +1
#include "kernel_list.h"
#undef AXON_CPU_KERNEL
    ;

struct KernelTable {
  Isa isa;
  // One function pointer per kernel_list.h entry: `ret (*name)(params...);`.
#define AXON_CPU_KERNEL(name, ret, params) ret(*name) params;
#include "kernel_list.h"
#undef AXON_CPU_KERNEL
};
// kernel_list.h is the only source of kernel fields: a field added above by hand would get no
// initialiser in kernel_table.cpp's fill and stay null. So the table is exactly the level
// (padded to a pointer) and one function pointer per entry.
static_assert(sizeof(KernelTable) == sizeof(void (*)()) * (1 + kKernelCount),
              "KernelTable must hold only `isa` and the kernels of kernel_list.h");

// Table of the level chosen at load (or forced by force_isa_for_testing).
const KernelTable& active_kernels();
// Table of a given level; the scalar table when the level is not built in.
const KernelTable& kernels_for(Isa isa);

namespace scalar {
const KernelTable& kernel_table();
}
namespace avx2 {
const KernelTable& kernel_table();
}
namespace avx512 {
const KernelTable& kernel_table();
}
namespace neon {
const KernelTable& kernel_table();
}

}  // namespace axon::cpu
