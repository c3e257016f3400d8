// Selects this translation unit's SIMD level. Kernel files that are compiled once per level
// (see binding.gyp: axon_kernels_<isa>) include this first and put their code in
// `namespace axon::cpu::AXON_ISA_NS`, so the copies never collide at link time.
#pragma once

#if defined(AXON_ISA_AVX512)
#define AXON_ISA_NS avx512
#include "vec_avx512.h"
#elif defined(AXON_ISA_AVX2)
#define AXON_ISA_NS avx2
#include "vec_avx2.h"
#elif defined(AXON_ISA_NEON)
#define AXON_ISA_NS neon
#include "vec_neon.h"
#elif defined(AXON_ISA_SCALAR)
#define AXON_ISA_NS scalar
#include "vec_scalar.h"
#else
#error "compile per-ISA kernel files with one of AXON_ISA_{SCALAR,AVX2,AVX512,NEON} defined"
#endif
