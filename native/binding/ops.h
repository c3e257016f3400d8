// The binding's ops: each struct parses and checks its JS arguments (parse), then calls one
// kernel (run) with no JS object in reach, so the same struct serves the synchronous export
// and the AsyncWorker one. flops/bytes/shapes feed the profiler. Internal header.
#pragma once

#include <string>
#include <vector>

#include "args.h"
#include "op_util.h"
#include "axon/kernels.h"

namespace axon::binding {

#define AXON_OP_COMMON(TYPE, NAME)           \
  static constexpr const char* kName = NAME; \
  static TYPE parse(Args& args);             \
  void run() const;                          \
  double flops() const;                      \
  double bytes() const;                      \
  std::string shapes() const;

// Convolution: geometry = [n, cIn, h, w, cOut, kH, kW, strideH, strideW, padTop, padLeft,
// padBottom, padRight, dilH, dilW, groups].
struct Conv2dOp {
  AXON_OP_COMMON(Conv2dOp, "conv2d")
  ConvGeometry g;
  const float *x, *w, *bias;
  UnaryOp act;
  float act_param;
  float* y;
};

struct Conv2dBackwardDataOp {
  AXON_OP_COMMON(Conv2dBackwardDataOp, "conv2dBackwardData")
  ConvGeometry g;
  const float *dy, *w;
  float* dx;
};

struct Conv2dBackwardWeightOp {
  AXON_OP_COMMON(Conv2dBackwardWeightOp, "conv2dBackwardWeight")
  ConvGeometry g;
  const float *x, *dy;
  float *dw, *db;
};

// Pooling: geometry = [planes, h, w, kH, kW, strideH, strideW, padTop, padLeft, padBottom,
// padRight, dilH, dilW, ceilMode, countIncludePad]; the output size is computed here.
struct MaxPool2dOp {
  AXON_OP_COMMON(MaxPool2dOp, "maxPool2d")
  PoolGeometry g;
  const float* x;
  float* y;
  int32_t* index;
};

struct MaxPool2dBackwardOp {
  AXON_OP_COMMON(MaxPool2dBackwardOp, "maxPool2dBackward")
  PoolGeometry g;
  const int32_t* index;
  const float* dy;
  float* dx;
  bool overwrite;
  const float* relu_mask;
};

struct AvgPool2dOp {
  AXON_OP_COMMON(AvgPool2dOp, "avgPool2d")
  PoolGeometry g;
  const float* x;
  float* y;
};

struct AvgPool2dBackwardOp {
  AXON_OP_COMMON(AvgPool2dBackwardOp, "avgPool2dBackward")
  PoolGeometry g;
  const float* dy;
  float* dx;
};

// geometry = [planes, h, w, outH, outW]
struct AdaptiveAvgPool2dOp {
  AXON_OP_COMMON(AdaptiveAvgPool2dOp, "adaptiveAvgPool2d")
  int64_t planes, h, w, oh, ow;
  const float* x;
  float* y;
};

struct AdaptiveAvgPool2dBackwardOp {
  AXON_OP_COMMON(AdaptiveAvgPool2dBackwardOp, "adaptiveAvgPool2dBackward")
  int64_t planes, h, w, oh, ow;
  const float* dy;
  float* dx;
};

struct BatchNormOp {
  AXON_OP_COMMON(BatchNormOp, "batchNorm")
  BatchNormArgs a;
  const float *x, *gamma, *beta;
  float *running_mean, *running_var, *y, *save_mean, *save_invstd;
};

struct BatchNormBackwardOp {
  AXON_OP_COMMON(BatchNormBackwardOp, "batchNormBackward")
  BatchNormArgs a;
  const float *x, *dy, *gamma, *save_mean, *save_invstd;
  float *dx, *dgamma, *dbeta;
};

struct LayerNormOp {
  AXON_OP_COMMON(LayerNormOp, "layerNorm")
  int64_t rows, d;
  float eps;
  const float *x, *gamma, *beta;
  float *y, *save_mean, *save_invstd;
};

struct LayerNormBackwardOp {
  AXON_OP_COMMON(LayerNormBackwardOp, "layerNormBackward")
  int64_t rows, d;
  const float *x, *dy, *gamma, *save_mean, *save_invstd;
  float *dx, *dgamma, *dbeta;
};

#undef AXON_OP_COMMON

}  // namespace axon::binding
