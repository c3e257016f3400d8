// Declarations shared by the files of one SIMD level (each compiled once per level). Include
// after simd/isa.h. Internal header.
#pragma once

#include "axon/kernels.h"

namespace axon::cpu::AXON_ISA_NS {

void unary_forward(UnaryOp op, const float* x, float* y, int64_t n, float param);
void unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx,
                    int64_t n, float param);
void binary_contiguous(BinaryOp op, const float* a, const float* b, float* y, int64_t n);
void binary_scalar(BinaryOp op, const float* x, float s, bool scalar_first, float* y, int64_t n);
void binary_backward(BinaryOp op, const float* a, const float* b, const float* y, const float* dy,
                     float* da, float* db, int64_t n);
void reduce(ReduceOp op, const float* x, float* out, int64_t outer, int64_t r, int64_t inner);
void softmax_forward(const float* x, float* y, int64_t outer, int64_t r, int64_t inner, bool log);
void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t r,
                      int64_t inner, bool log);
void gemm(const GemmArgs& args);
int64_t gemm_packed_b_size(int64_t k, int64_t n);
void gemm_pack_b(const GemmArgs& g, float* packed);
void sgd_step(float* p, const float* g, float* buf, int64_t n, const SgdConfig& c);
void adam_step(float* p, const float* g, float* m, float* v, float* vmax, int64_t n,
               const AdamConfig& c);
void rmsprop_step(float* p, const float* g, float* sq, float* ga, float* buf, int64_t n,
                  const RmspropConfig& c);
void adagrad_step(float* p, const float* g, float* sum, int64_t n, const AdagradConfig& c);
double sum_squares(const float* x, int64_t n);
void lstm_cell_forward(float* gates, const float* c_prev, const float* h_prev, float* c, float* h,
                       int64_t n, int64_t hidden, const uint8_t* active);
void lstm_cell_backward(const float* gates, const float* c_prev, const float* c, const float* dh,
                        float* dc, float* dgates, int64_t n, int64_t hidden, const uint8_t* active);
void gru_cell_forward(const float* gx, const float* gh, const float* h_prev, float* h, float* rzn,
                      int64_t n, int64_t hidden, const uint8_t* active);
void gru_cell_backward(const float* rzn, const float* gh, const float* h_prev, const float* dh,
                       float* dgx, float* dgh, float* dh_prev, int64_t n, int64_t hidden,
                       const uint8_t* active);
void conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    UnaryOp act, float act_param, float* y);
const char* conv2d_forward_algorithm(const ConvGeometry& g);
void conv2d_backward_data(const ConvGeometry& g, const float* dy, const float* w, float* dx);
void conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                            float* db);
bool max_pool_2x2_plane(const float* in, int64_t w, int64_t out_h, int64_t out_w, float* out,
                        int32_t* idx);
bool max_pool_2x2_backward_plane(const int32_t* idx, const float* dy, const float* relu_mask,
                                 int64_t h, int64_t w, int64_t out_h, int64_t out_w, float* dx);

}  // namespace axon::cpu::AXON_ISA_NS
