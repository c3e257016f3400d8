// Naive twins of every fast kernel in axon/kernels.h: plain loops, double-precision math and
// accumulation, no SIMD, no threads. They are the oracles in tests (llm.c's
// matmul_forward_naive, BLIS's ref_kernels) and state each kernel's contract as code.
// Same signatures and semantics as axon/kernels.h.
#pragma once

#include "axon/kernels.h"

namespace axon::ref {

// Exact scalar definitions shared by the elementwise twins and the tests.
double unary_value(UnaryOp op, double x, double param);
// d f / d x at x, given y = f(x).
double unary_derivative(UnaryOp op, double x, double y, double param);
double binary_value(BinaryOp op, double a, double b);

void gemm(const GemmArgs& args);
void gemm_batched(const GemmBatchedArgs& args);

void unary_forward(UnaryOp op, const float* x, float* y, int64_t n, float param);
void unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx,
                    int64_t n, float param);
void binary_forward(BinaryOp op, const float* a, const Shape& a_shape, const float* b,
                    const Shape& b_shape, float* out, const Shape& out_shape);
void binary_scalar(BinaryOp op, const float* x, float s, bool scalar_first, float* y, int64_t n);
void binary_backward(BinaryOp op, const float* a, const float* b, const float* y, const float* dy,
                     float* da, float* db, int64_t n);

void reduce(ReduceOp op, const float* x, float* out, int64_t outer, int64_t r, int64_t inner);
void arg_reduce(ArgReduceOp op, const float* x, int32_t* out, int64_t outer, int64_t r,
                int64_t inner);
void reduce_backward(ReduceOp op, const float* x, const float* y, const float* dy, float* dx,
                     int64_t outer, int64_t r, int64_t inner);
void sum_to_shape(const float* x, const Shape& in_shape, float* out, const Shape& out_shape);

double clip_grad_norm(float* const* grads, const int64_t* sizes, int64_t count, double max_norm,
                      double norm_type);
float cross_entropy_reduce(const CrossEntropyArgs& a, const float* rows, bool mean);
void cross_entropy_reduce_backward(const CrossEntropyArgs& a, float dout, bool mean, float* drows);

void softmax_forward(const float* x, float* y, int64_t outer, int64_t r, int64_t inner, bool log);
void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t r,
                      int64_t inner, bool log);

void permute(const void* x, const Shape& shape, const int* perm, void* out);
void concat(const void* const* xs, const int64_t* sizes, int count, int64_t outer, void* out);
void slice_copy(const void* x, const Shape& shape, const int64_t* start, const int64_t* step,
                const Shape& out_shape, void* out);
void slice_backward(const float* dy, const Shape& out_shape, const int64_t* start,
                    const int64_t* step, const Shape& shape, float* dx);

// Convolution, pooling, normalisation (conv_ref.cpp). Pooling and normalisation backward
// kernels are checked by finite differences of these forwards in the tests.
void conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    UnaryOp act, float act_param, float* y);
void conv2d_backward_data(const ConvGeometry& g, const float* dy, const float* w, float* dx);
void conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                            float* db);
void max_pool2d_forward(const PoolGeometry& g, const float* x, float* y, int32_t* index);
void avg_pool2d_forward(const PoolGeometry& g, const float* x, float* y);
void batch_norm_forward(const BatchNormArgs& a, const float* x, const float* gamma,
                        const float* beta, float* running_mean, float* running_var, float* y,
                        float* save_mean, float* save_invstd);
void layer_norm_forward(int64_t rows, int64_t d, float eps, const float* x, const float* gamma,
                        const float* beta, float* y, float* save_mean, float* save_invstd);

// Recurrent layers step by step in double (rnn_ref.cpp): the same contract as rnn_forward,
// without workspace; the backward is checked by finite differences of this.
void rnn_forward(const RnnArgs& a, const float* x, const float* w_ih, const float* w_hh,
                 const float* b_ih, const float* b_hh, const float* h0, const float* c0,
                 const int32_t* lengths, float* y, float* hn, float* cn);

}  // namespace axon::ref
