// Every kernel of the per-ISA table (KernelTable, kernel_table.h), one entry each:
//
//   AXON_CPU_KERNEL(name, return_type, (parameters))
//
// This list is the one place a table kernel's signature is written. It expands into the
// KernelTable fields (kernel_table.h), the per-level declarations (isa_kernels.h) and each
// level's table fill (kernel_table.cpp), so a new kernel is one entry here plus its definition
// in the level's sources; an entry without a definition fails to link. The order is the
// fields' order. Entries are single-threaded except `gemm`, which blocks and threads itself;
// the dispatch layer threads the others.
//
// An X-macro file: the includer defines AXON_CPU_KERNEL and undefines it after, and the types
// come from axon/kernels.h (included by the includer). Deliberately no include guard.
#ifndef AXON_CPU_KERNEL
#error "define AXON_CPU_KERNEL(name, return_type, params) before including kernel_list.h"
#endif

AXON_CPU_KERNEL(gemm, void, (const GemmArgs& args))
AXON_CPU_KERNEL(gemm_packed_b_size, int64_t, (int64_t k, int64_t n))
AXON_CPU_KERNEL(gemm_pack_b, void, (const GemmArgs& g, float* packed))
AXON_CPU_KERNEL(unary_forward, void, (UnaryOp op, const float* x, float* y, int64_t n, float param))
AXON_CPU_KERNEL(unary_backward, void,
                (UnaryOp op, const float* x, const float* y, const float* dy, float* dx, int64_t n,
                 float param))
// y = a (op) b, all contiguous, length n.
AXON_CPU_KERNEL(binary_contiguous, void,
                (BinaryOp op, const float* a, const float* b, float* y, int64_t n))
AXON_CPU_KERNEL(binary_scalar, void,
                (BinaryOp op, const float* x, float s, bool scalar_first, float* y, int64_t n))
AXON_CPU_KERNEL(binary_backward, void,
                (BinaryOp op, const float* a, const float* b, const float* y, const float* dy,
                 float* da, float* db, int64_t n))
// Reduces (outer, r, inner) -> (outer, inner).
AXON_CPU_KERNEL(reduce, void,
                (ReduceOp op, const float* x, float* out, int64_t outer, int64_t r, int64_t inner))
AXON_CPU_KERNEL(softmax_forward, void,
                (const float* x, float* y, int64_t outer, int64_t r, int64_t inner, bool log))
AXON_CPU_KERNEL(softmax_backward, void,
                (const float* y, const float* dy, float* dx, int64_t outer, int64_t r,
                 int64_t inner, bool log))
AXON_CPU_KERNEL(sgd_step, void,
                (float* p, const float* g, float* buf, int64_t n, const SgdConfig& c))
AXON_CPU_KERNEL(adam_step, void,
                (float* p, const float* g, float* m, float* v, float* vmax, int64_t n,
                 const AdamConfig& c))
AXON_CPU_KERNEL(rmsprop_step, void,
                (float* p, const float* g, float* sq, float* ga, float* buf, int64_t n,
                 const RmspropConfig& c))
AXON_CPU_KERNEL(adagrad_step, void,
                (float* p, const float* g, float* sum, int64_t n, const AdagradConfig& c))
AXON_CPU_KERNEL(sum_squares, double, (const float* x, int64_t n))
AXON_CPU_KERNEL(conv2d_forward, void,
                (const ConvGeometry& g, const float* x, const float* w, const float* bias,
                 UnaryOp act, float act_param, float* y))
AXON_CPU_KERNEL(conv2d_forward_algorithm, const char*, (const ConvGeometry& g))
AXON_CPU_KERNEL(conv2d_backward_data, void,
                (const ConvGeometry& g, const float* dy, const float* w, float* dx))
AXON_CPU_KERNEL(lstm_cell_forward, void,
                (float* gates, const float* c_prev, const float* h_prev, float* c, float* h,
                 int64_t n, int64_t hidden, const uint8_t* active))
AXON_CPU_KERNEL(lstm_cell_backward, void,
                (const float* gates, const float* c_prev, const float* c, const float* dh,
                 float* dc, float* dgates, int64_t n, int64_t hidden, const uint8_t* active))
AXON_CPU_KERNEL(gru_cell_forward, void,
                (const float* gx, const float* gh, const float* h_prev, float* h, float* rzn,
                 int64_t n, int64_t hidden, const uint8_t* active))
AXON_CPU_KERNEL(gru_cell_backward, void,
                (const float* rzn, const float* gh, const float* h_prev, const float* dh,
                 float* dgx, float* dgh, float* dh_prev, int64_t n, int64_t hidden,
                 const uint8_t* active))
AXON_CPU_KERNEL(conv2d_backward_weight, void,
                (const ConvGeometry& g, const float* x, const float* dy, float* dw, float* db))
AXON_CPU_KERNEL(max_pool_2x2_plane, bool,
                (const float* in, int64_t w, int64_t out_h, int64_t out_w, float* out,
                 int32_t* idx))
AXON_CPU_KERNEL(max_pool_2x2_backward_plane, bool,
                (const int32_t* idx, const float* dy, const float* relu_mask, int64_t h, int64_t w,
                 int64_t out_h, int64_t out_w, float* dx))
