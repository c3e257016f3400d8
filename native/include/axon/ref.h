// Naive twins of the fast kernels in axon/kernels.h: plain loops, double-precision math and
// accumulation, no SIMD, no threads. They are the oracles in tests (llm.c's
// matmul_forward_naive, BLIS's ref_kernels) and state each kernel's contract as code.
// Same semantics as axon/kernels.h.
#pragma once

#include "axon/kernels.h"

namespace axon::ref {

// The twins with the signature of their kernel-list entry: every entry of axon/kernel_decls.h
// marked REF (their doc comments are there). unary_backward's twin is the list's entry without
// `overwrite` (the per-ISA kernel's signature; it always accumulates). Pooling and
// normalisation backward kernels are checked by finite differences of these forwards.
#define AXON_KERNEL(name, ret, params, api, ref, isa) AXON_IF_REF_##ref(ret name params;)
#include "axon/kernel_decls.h"
#undef AXON_KERNEL

// Declared here by hand, not in the list: they are not kernels, or their signature is no
// kernel's.

// Exact scalar definitions shared by the elementwise twins and the tests.
double unary_value(UnaryOp op, double x, double param);
// d f / d x at x, given y = f(x).
double unary_derivative(UnaryOp op, double x, double y, double param);
double binary_value(BinaryOp op, double a, double b);

// Recurrent layers step by step in double (rnn_ref.cpp): the same contract as rnn_forward,
// without workspace (nothing is kept for a backward); the backward is checked by finite
// differences of this.
void rnn_forward(const RnnArgs& a, const float* x, const float* w_ih, const float* w_hh,
                 const float* b_ih, const float* b_hh, const float* h0, const float* c0,
                 const int32_t* lengths, float* y, float* hn, float* cn);

}  // namespace axon::ref
