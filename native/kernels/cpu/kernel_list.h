// The per-ISA kernel table's view of the kernel list: expands AXON_CPU_KERNEL(name,
// return_type, (parameters)) once for each entry of axon/kernel_decls.h marked ISA, in the
// list's order (the KernelTable fields' order). The signatures are written there, once; this
// file only selects. It expands into the KernelTable fields (kernel_table.h), the per-level
// declarations (isa_kernels.h) and each level's table fill (kernel_table.cpp), so a new table
// kernel is one entry in the list plus its definition in the level's sources; an entry without
// a definition fails to link. Entries are single-threaded except `gemm`, which blocks and
// threads itself; the dispatch layer threads the others.
//
// An X-macro file: the includer defines AXON_CPU_KERNEL and undefines it after, and the types
// come from axon/kernels.h (included by the includer). Deliberately no include guard.
#ifndef AXON_CPU_KERNEL
#error "define AXON_CPU_KERNEL(name, return_type, params) before including kernel_list.h"
#endif

#define AXON_KERNEL(name, ret, params, api, ref, isa) \
  AXON_IF_ISA_##isa(AXON_CPU_KERNEL(name, ret, params))
#include "axon/kernel_decls.h"
#undef AXON_KERNEL
