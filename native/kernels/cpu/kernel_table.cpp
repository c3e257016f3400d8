// This SIMD level's kernel table (compiled once per level).
#include "simd/isa.h"
#include "isa_kernels.h"
#include "kernel_table.h"

namespace axon::cpu::AXON_ISA_NS {

const KernelTable& kernel_table() {
#if defined(AXON_ISA_AVX512)
  constexpr Isa kIsa = Isa::Avx512;
#elif defined(AXON_ISA_AVX2)
  constexpr Isa kIsa = Isa::Avx2;
#elif defined(AXON_ISA_NEON)
  constexpr Isa kIsa = Isa::Neon;
#else
  constexpr Isa kIsa = Isa::Scalar;
#endif
  // `isa`, then every entry of kernel_list.h in field order. An entry this level's sources do
  // not define is an undefined symbol at link time.
  static const KernelTable table = {
      kIsa,
#define AXON_CPU_KERNEL(name, ret, params) &name,
#include "kernel_list.h"
#undef AXON_CPU_KERNEL
  };
  return table;
}

}  // namespace axon::cpu::AXON_ISA_NS
