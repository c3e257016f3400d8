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
  static const KernelTable table = {
      kIsa,
      &gemm,
      &gemm_packed_b_size,
      &gemm_pack_b,
      &unary_forward,
      &unary_backward,
      &binary_contiguous,
      &binary_scalar,
      &binary_backward,
      &reduce,
      &softmax_forward,
      &softmax_backward,
      &sgd_step,
      &adam_step,
      &rmsprop_step,
      &adagrad_step,
      &sum_squares,
      &conv2d_forward,
      &conv2d_forward_algorithm,
      &conv2d_backward_data,
      &lstm_cell_forward,
      &lstm_cell_backward,
      &gru_cell_forward,
      &gru_cell_backward,
      &conv2d_backward_weight,
      &max_pool_2x2_plane,
      &max_pool_2x2_backward_plane,
  };
  return table;
}

}  // namespace axon::cpu::AXON_ISA_NS
