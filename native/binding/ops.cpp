// Argument parsing and kernel calls of the binding ops not yet in the op table (see ops.h).
// Positional arguments, in the order src/native/binding.ts documents. Checks cover what the
// kernels rely on for memory safety and meaning: types, integer ranges, exact element counts,
// shape rules, overflow, and outputs not overlapping inputs (except exact in-place aliases
// where the kernel allows them).
#include "ops.h"

#include <algorithm>
#include <cmath>

// ---- convolution, pooling, normalisation ------------------------------------------------------

namespace axon::binding {

namespace {

std::string conv_desc(const ConvGeometry& g) {
  return "x [" + std::to_string(g.n) + "," + std::to_string(g.c_in) + "," + std::to_string(g.h) +
         "," + std::to_string(g.w) + "], weight [" + std::to_string(g.c_out) + "," +
         std::to_string(g.groups ? g.c_in / g.groups : 0) + "," + std::to_string(g.kh) + "," +
         std::to_string(g.kw) + "], stride " + std::to_string(g.stride_h) + "x" +
         std::to_string(g.stride_w) + ", padding " + std::to_string(g.pad_top) + "," +
         std::to_string(g.pad_left) + "," + std::to_string(g.pad_bottom) + "," +
         std::to_string(g.pad_right) + ", dilation " + std::to_string(g.dil_h) + "x" +
         std::to_string(g.dil_w) + ", groups " + std::to_string(g.groups);
}

// Reads and checks a convolution geometry: positive sizes, channels divisible by groups, a
// kernel that fits the padded input, element counts in range.
ConvGeometry conv_geometry(Args& a, size_t i) {
  const auto v = a.int_list(i, "geometry", 16, 0, int64_t{1} << 31);
  ConvGeometry g;
  g.n = v[0], g.c_in = v[1], g.h = v[2], g.w = v[3], g.c_out = v[4], g.kh = v[5], g.kw = v[6];
  g.stride_h = v[7], g.stride_w = v[8], g.pad_top = v[9], g.pad_left = v[10], g.pad_bottom = v[11];
  g.pad_right = v[12], g.dil_h = v[13], g.dil_w = v[14], g.groups = v[15];
  if (g.c_in < 1 || g.c_out < 1 || g.h < 1 || g.w < 1 || g.kh < 1 || g.kw < 1 || g.stride_h < 1 ||
      g.stride_w < 1 || g.dil_h < 1 || g.dil_w < 1 || g.groups < 1)
    a.range_error("channels, sizes, kernel, stride, dilation and groups must be >= 1 (" +
                  conv_desc(g) + ")");
  if (g.c_in % g.groups || g.c_out % g.groups)
    a.range_error("in channels " + std::to_string(g.c_in) + " and out channels " +
                  std::to_string(g.c_out) + " must be divisible by groups " +
                  std::to_string(g.groups));
  const int64_t eh = a.add(a.mul(g.dil_h, g.kh - 1, "kernel"), 1, "kernel");
  const int64_t ew = a.add(a.mul(g.dil_w, g.kw - 1, "kernel"), 1, "kernel");
  const int64_t ph = a.add(a.add(g.h, g.pad_top, "padding"), g.pad_bottom, "padding");
  const int64_t pw = a.add(a.add(g.w, g.pad_left, "padding"), g.pad_right, "padding");
  if (eh > ph || ew > pw)
    a.range_error("the kernel (extent " + std::to_string(eh) + "x" + std::to_string(ew) +
                  ") is larger than the padded input (" + std::to_string(ph) + "x" +
                  std::to_string(pw) + "): " + conv_desc(g));
  a.mul(a.mul(a.mul(g.n, g.c_in, "x"), g.h, "x"), g.w, "x");
  a.mul(a.mul(a.mul(g.c_out, g.c_in / g.groups, "weight"), g.kh, "weight"), g.kw, "weight");
  return g;
}

int64_t conv_x_len(const ConvGeometry& g) { return g.n * g.c_in * g.h * g.w; }
int64_t conv_w_len(const ConvGeometry& g) { return g.c_out * (g.c_in / g.groups) * g.kh * g.kw; }
int64_t conv_y_len(const ConvGeometry& g) { return g.n * g.c_out * g.out_h() * g.out_w(); }
double conv_flops(const ConvGeometry& g) {
  return 2.0 * double(conv_y_len(g)) * double(g.c_in / g.groups) * double(g.kh * g.kw);
}
std::string conv_shapes(const ConvGeometry& g) {
  return "N" + std::to_string(g.n) + " " + std::to_string(g.c_in) + "->" + std::to_string(g.c_out) +
         " " + std::to_string(g.h) + "x" + std::to_string(g.w) + " k" + std::to_string(g.kh) + "x" +
         std::to_string(g.kw) + " s" + std::to_string(g.stride_h) +
         (g.groups > 1 ? " g" + std::to_string(g.groups) : "");
}

PoolGeometry pool_geometry(Args& a, size_t i) {
  const auto v = a.int_list(i, "geometry", 15, 0, int64_t{1} << 31);
  PoolGeometry g;
  g.planes = v[0], g.h = v[1], g.w = v[2], g.kh = v[3], g.kw = v[4], g.stride_h = v[5];
  g.stride_w = v[6], g.pad_top = v[7], g.pad_left = v[8], g.pad_bottom = v[9], g.pad_right = v[10];
  g.dil_h = v[11], g.dil_w = v[12];
  const bool ceil_mode = v[13] != 0;
  g.count_include_pad = v[14] != 0;
  if (g.h < 1 || g.w < 1 || g.kh < 1 || g.kw < 1 || g.stride_h < 1 || g.stride_w < 1 ||
      g.dil_h < 1 || g.dil_w < 1)
    a.range_error("sizes, kernel, stride and dilation must be >= 1");
  // PyTorch: padding at most half the kernel, so every window holds an input element.
  if (2 * std::max(g.pad_top, g.pad_bottom) > g.kh || 2 * std::max(g.pad_left, g.pad_right) > g.kw)
    a.range_error("padding " + std::to_string(g.pad_top) + "," + std::to_string(g.pad_left) +
                  " must be at most half the kernel " + std::to_string(g.kh) + "x" +
                  std::to_string(g.kw));
  g.out_h = pool_output_size(g.h, g.kh, g.stride_h, g.pad_top, g.pad_bottom, g.dil_h, ceil_mode);
  g.out_w = pool_output_size(g.w, g.kw, g.stride_w, g.pad_left, g.pad_right, g.dil_w, ceil_mode);
  if (g.out_h < 1 || g.out_w < 1)
    a.range_error("the window (" + std::to_string(g.kh) + "x" + std::to_string(g.kw) +
                  ", dilation " + std::to_string(g.dil_h) + ") does not fit the padded input " +
                  std::to_string(g.h + g.pad_top + g.pad_bottom) + "x" +
                  std::to_string(g.w + g.pad_left + g.pad_right));
  a.mul(a.mul(g.planes, g.h, "x"), g.w, "x");
  return g;
}

std::string pool_shapes(const PoolGeometry& g) {
  return std::to_string(g.planes) + "x" + std::to_string(g.h) + "x" + std::to_string(g.w) + " k" +
         std::to_string(g.kh) + " s" + std::to_string(g.stride_h);
}

// Optional per-channel vector: null, or exactly `n` values.
F32 optional_vector(Args& a, size_t i, const char* name, int64_t n, const char* why) {
  F32 v = a.f32_or_null(i, name);
  if (v.present) a.expect_length(v.length, n, name, why);
  return v;
}

}  // namespace

// conv2d(x, weight, bias | null, geometry, activation, activationParam, y)
Conv2dOp Conv2dOp::parse(Args& a) {
  Conv2dOp op;
  F32 x = a.f32(0, "x"), w = a.f32(1, "weight");
  op.g = conv_geometry(a, 3);
  F32 b = optional_vector(a, 2, "bias", op.g.c_out, "one per output channel");
  op.act = a.enumeration<UnaryOp>(4, "activation");
  op.act_param = static_cast<float>(a.number(5, "activationParam"));
  F32 y = a.f32(6, "y");
  const std::string why = conv_desc(op.g);
  a.expect_length(x.length, conv_x_len(op.g), "x", why);
  a.expect_length(w.length, conv_w_len(op.g), "weight", why);
  a.expect_length(y.length, conv_y_len(op.g), "y", why);
  a.expect_disjoint(y.data, y.length, "y", x.data, x.length, "x", false);
  a.expect_disjoint(y.data, y.length, "y", w.data, w.length, "weight", false);
  op.x = x.data, op.w = w.data, op.bias = b.present ? b.data : nullptr, op.y = y.data;
  return op;
}
void Conv2dOp::run() const { conv2d_forward(g, x, w, bias, act, act_param, y); }
double Conv2dOp::flops() const { return conv_flops(g); }
double Conv2dOp::bytes() const {
  return 4.0 * double(conv_x_len(g) + conv_w_len(g) + conv_y_len(g));
}
// The algorithm that ran, for the profiler: effective GFLOP/s of Winograd exceed the peak.
std::string Conv2dOp::shapes() const { return conv_shapes(g) + " " + conv2d_forward_algorithm(g); }

// conv2dBackwardData(dy, weight, geometry, dx): dx += ...
Conv2dBackwardDataOp Conv2dBackwardDataOp::parse(Args& a) {
  Conv2dBackwardDataOp op;
  F32 dy = a.f32(0, "dy"), w = a.f32(1, "weight");
  op.g = conv_geometry(a, 2);
  F32 dx = a.f32(3, "dx");
  const std::string why = conv_desc(op.g);
  a.expect_length(dy.length, conv_y_len(op.g), "dy", why);
  a.expect_length(w.length, conv_w_len(op.g), "weight", why);
  a.expect_length(dx.length, conv_x_len(op.g), "dx", why);
  a.expect_disjoint(dx.data, dx.length, "dx", dy.data, dy.length, "dy", false);
  a.expect_disjoint(dx.data, dx.length, "dx", w.data, w.length, "weight", false);
  op.dy = dy.data, op.w = w.data, op.dx = dx.data;
  return op;
}
void Conv2dBackwardDataOp::run() const { conv2d_backward_data(g, dy, w, dx); }
double Conv2dBackwardDataOp::flops() const { return conv_flops(g); }
double Conv2dBackwardDataOp::bytes() const {
  return 4.0 * double(conv_x_len(g) * 2 + conv_w_len(g) + conv_y_len(g));
}
std::string Conv2dBackwardDataOp::shapes() const { return conv_shapes(g); }

// conv2dBackwardWeight(x, dy, geometry, dw, db | null): dw += ..., db += ...
Conv2dBackwardWeightOp Conv2dBackwardWeightOp::parse(Args& a) {
  Conv2dBackwardWeightOp op;
  F32 x = a.f32(0, "x"), dy = a.f32(1, "dy");
  op.g = conv_geometry(a, 2);
  F32 dw = a.f32(3, "dw");
  F32 db = optional_vector(a, 4, "db", op.g.c_out, "one per output channel");
  const std::string why = conv_desc(op.g);
  a.expect_length(x.length, conv_x_len(op.g), "x", why);
  a.expect_length(dy.length, conv_y_len(op.g), "dy", why);
  a.expect_length(dw.length, conv_w_len(op.g), "dw", why);
  a.expect_disjoint(dw.data, dw.length, "dw", x.data, x.length, "x", false);
  a.expect_disjoint(dw.data, dw.length, "dw", dy.data, dy.length, "dy", false);
  if (db.present) {
    a.expect_disjoint(db.data, db.length, "db", dw.data, dw.length, "dw", false);
    a.expect_disjoint(db.data, db.length, "db", dy.data, dy.length, "dy", false);
  }
  op.x = x.data, op.dy = dy.data, op.dw = dw.data, op.db = db.present ? db.data : nullptr;
  return op;
}
void Conv2dBackwardWeightOp::run() const { conv2d_backward_weight(g, x, dy, dw, db); }
double Conv2dBackwardWeightOp::flops() const { return conv_flops(g); }
double Conv2dBackwardWeightOp::bytes() const {
  return 4.0 * double(conv_x_len(g) + conv_w_len(g) * 2 + conv_y_len(g));
}
std::string Conv2dBackwardWeightOp::shapes() const {
  return conv_shapes(g) + " " + conv2d_forward_algorithm(g);  // the forward's choice holds
}

// maxPool2d(x, geometry, y, index)
MaxPool2dOp MaxPool2dOp::parse(Args& a) {
  MaxPool2dOp op;
  F32 x = a.f32(0, "x");
  op.g = pool_geometry(a, 1);
  F32 y = a.f32(2, "y");
  I32 idx = a.i32(3, "index");
  const int64_t ny = op.g.planes * op.g.out_h * op.g.out_w;
  a.expect_length(x.length, op.g.planes * op.g.h * op.g.w, "x", "planes*h*w");
  a.expect_length(y.length, ny, "y", "planes*outH*outW");
  a.expect_length(idx.length, ny, "index", "same as 'y'");
  a.expect_disjoint(y.data, y.length, "y", x.data, x.length, "x", false);
  op.x = x.data, op.y = y.data, op.index = idx.data;
  return op;
}
void MaxPool2dOp::run() const { max_pool2d_forward(g, x, y, index); }
double MaxPool2dOp::flops() const { return double(g.planes * g.out_h * g.out_w * g.kh * g.kw); }
double MaxPool2dOp::bytes() const {
  return 4.0 * double(g.planes * (g.h * g.w + 2 * g.out_h * g.out_w));
}
std::string MaxPool2dOp::shapes() const { return pool_shapes(g); }

// maxPool2dBackward(index, dy, geometry, dx[, overwrite[, reluMask]]): every index is checked
// against the plane; overwrite zeroes each dx plane before scattering into it; reluMask, the
// pooled output of a relu's output, drops dy where it is not > 0 (the relu's gradient).
MaxPool2dBackwardOp MaxPool2dBackwardOp::parse(Args& a) {
  MaxPool2dBackwardOp op;
  I32 idx = a.i32(0, "index");
  F32 dy = a.f32(1, "dy");
  op.g = pool_geometry(a, 2);
  F32 dx = a.f32(3, "dx");
  op.overwrite = a.optional_boolean(4, "overwrite", false);
  F32 mask = a.f32_or_null(5, "reluMask");
  const int64_t ny = op.g.planes * op.g.out_h * op.g.out_w;
  a.expect_length(idx.length, ny, "index", "planes*outH*outW");
  a.expect_length(dy.length, ny, "dy", "planes*outH*outW");
  a.expect_length(dx.length, op.g.planes * op.g.h * op.g.w, "dx", "planes*h*w");
  if (mask.data) {
    a.expect_length(mask.length, ny, "reluMask", "planes*outH*outW");
    a.expect_disjoint(dx.data, dx.length, "dx", mask.data, mask.length, "reluMask", false);
  }
  // The argmax indices are checked while dx is written: dx must not overlap them (or dy).
  a.expect_disjoint(dx.data, dx.length, "dx", idx.data, idx.length, "index", false);
  a.expect_disjoint(dx.data, dx.length, "dx", dy.data, dy.length, "dy", false);
  op.index = idx.data, op.dy = dy.data, op.dx = dx.data, op.relu_mask = mask.data;
  return op;
}
// The indices are checked when the op runs: in a recorded program they are rewritten by the
// forward pass between runs, and JS could change them too.
// (The kernel checks them, in parallel, before it uses them; the scan below names the first.)
void MaxPool2dBackwardOp::run() const {
  if (max_pool2d_backward(g, index, dy, dx, overwrite, relu_mask)) return;
  const int64_t n = g.planes * g.out_h * g.out_w, plane = g.h * g.w;
  for (int64_t i = 0; i < n; ++i)
    if (index[i] < 0 || index[i] >= plane) {
      set_runtime_error("maxPool2dBackward: index[" + std::to_string(i) +
                        "] = " + std::to_string(index[i]) + " is outside the " +
                        std::to_string(g.h) + "x" + std::to_string(g.w) + " plane");
      return;
    }
}
double MaxPool2dBackwardOp::flops() const { return double(g.planes * g.out_h * g.out_w); }
double MaxPool2dBackwardOp::bytes() const { return 12.0 * double(g.planes * g.out_h * g.out_w); }
std::string MaxPool2dBackwardOp::shapes() const { return pool_shapes(g); }

// avgPool2d(x, geometry, y)
AvgPool2dOp AvgPool2dOp::parse(Args& a) {
  AvgPool2dOp op;
  F32 x = a.f32(0, "x");
  op.g = pool_geometry(a, 1);
  if (op.g.dil_h != 1 || op.g.dil_w != 1) a.range_error("average pooling has no dilation");
  F32 y = a.f32(2, "y");
  a.expect_length(x.length, op.g.planes * op.g.h * op.g.w, "x", "planes*h*w");
  a.expect_length(y.length, op.g.planes * op.g.out_h * op.g.out_w, "y", "planes*outH*outW");
  a.expect_disjoint(y.data, y.length, "y", x.data, x.length, "x", false);
  op.x = x.data, op.y = y.data;
  return op;
}
void AvgPool2dOp::run() const { avg_pool2d_forward(g, x, y); }
double AvgPool2dOp::flops() const { return double(g.planes * g.out_h * g.out_w * g.kh * g.kw); }
double AvgPool2dOp::bytes() const {
  return 4.0 * double(g.planes * (g.h * g.w + g.out_h * g.out_w));
}
std::string AvgPool2dOp::shapes() const { return pool_shapes(g); }

AvgPool2dBackwardOp AvgPool2dBackwardOp::parse(Args& a) {
  AvgPool2dBackwardOp op;
  F32 dy = a.f32(0, "dy");
  op.g = pool_geometry(a, 1);
  if (op.g.dil_h != 1 || op.g.dil_w != 1) a.range_error("average pooling has no dilation");
  F32 dx = a.f32(2, "dx");
  a.expect_length(dy.length, op.g.planes * op.g.out_h * op.g.out_w, "dy", "planes*outH*outW");
  a.expect_length(dx.length, op.g.planes * op.g.h * op.g.w, "dx", "planes*h*w");
  a.expect_disjoint(dx.data, dx.length, "dx", dy.data, dy.length, "dy", false);
  op.dy = dy.data, op.dx = dx.data;
  return op;
}
void AvgPool2dBackwardOp::run() const { avg_pool2d_backward(g, dy, dx); }
double AvgPool2dBackwardOp::flops() const {
  return double(g.planes * g.out_h * g.out_w * g.kh * g.kw);
}
double AvgPool2dBackwardOp::bytes() const {
  return 4.0 * double(g.planes * (2 * g.h * g.w + g.out_h * g.out_w));
}
std::string AvgPool2dBackwardOp::shapes() const { return pool_shapes(g); }

namespace {
void adaptive_geometry(Args& a, size_t i, int64_t* planes, int64_t* h, int64_t* w, int64_t* oh,
                       int64_t* ow) {
  const auto v = a.int_list(i, "geometry", 5, 0, int64_t{1} << 31);
  *planes = v[0], *h = v[1], *w = v[2], *oh = v[3], *ow = v[4];
  if (*h < 1 || *w < 1 || *oh < 1 || *ow < 1) a.range_error("sizes and output sizes must be >= 1");
  a.mul(a.mul(*planes, *h, "x"), *w, "x");
  a.mul(a.mul(*planes, *oh, "y"), *ow, "y");
}
}  // namespace

// adaptiveAvgPool2d(x, [planes, h, w, outH, outW], y)
AdaptiveAvgPool2dOp AdaptiveAvgPool2dOp::parse(Args& a) {
  AdaptiveAvgPool2dOp op;
  F32 x = a.f32(0, "x");
  adaptive_geometry(a, 1, &op.planes, &op.h, &op.w, &op.oh, &op.ow);
  F32 y = a.f32(2, "y");
  a.expect_length(x.length, op.planes * op.h * op.w, "x", "planes*h*w");
  a.expect_length(y.length, op.planes * op.oh * op.ow, "y", "planes*outH*outW");
  a.expect_disjoint(y.data, y.length, "y", x.data, x.length, "x", false);
  op.x = x.data, op.y = y.data;
  return op;
}
void AdaptiveAvgPool2dOp::run() const { adaptive_avg_pool2d_forward(planes, h, w, oh, ow, x, y); }
double AdaptiveAvgPool2dOp::flops() const { return double(planes * h * w); }
double AdaptiveAvgPool2dOp::bytes() const { return 4.0 * double(planes * (h * w + oh * ow)); }
std::string AdaptiveAvgPool2dOp::shapes() const {
  return std::to_string(planes) + "x" + std::to_string(h) + "x" + std::to_string(w) + "->" +
         std::to_string(oh) + "x" + std::to_string(ow);
}

AdaptiveAvgPool2dBackwardOp AdaptiveAvgPool2dBackwardOp::parse(Args& a) {
  AdaptiveAvgPool2dBackwardOp op;
  F32 dy = a.f32(0, "dy");
  adaptive_geometry(a, 1, &op.planes, &op.h, &op.w, &op.oh, &op.ow);
  F32 dx = a.f32(2, "dx");
  a.expect_length(dy.length, op.planes * op.oh * op.ow, "dy", "planes*outH*outW");
  a.expect_length(dx.length, op.planes * op.h * op.w, "dx", "planes*h*w");
  a.expect_disjoint(dx.data, dx.length, "dx", dy.data, dy.length, "dy", false);
  op.dy = dy.data, op.dx = dx.data;
  return op;
}
void AdaptiveAvgPool2dBackwardOp::run() const {
  adaptive_avg_pool2d_backward(planes, h, w, oh, ow, dy, dx);
}
double AdaptiveAvgPool2dBackwardOp::flops() const { return double(planes * h * w); }
double AdaptiveAvgPool2dBackwardOp::bytes() const {
  return 4.0 * double(planes * (2 * h * w + oh * ow));
}
std::string AdaptiveAvgPool2dBackwardOp::shapes() const {
  return std::to_string(planes) + "x" + std::to_string(h) + "x" + std::to_string(w) + "->" +
         std::to_string(oh) + "x" + std::to_string(ow);
}

namespace {
BatchNormArgs bn_args(Args& a, size_t i) {
  const auto v = a.int_list(i, "dims", 3, 0, int64_t{1} << 40);
  BatchNormArgs b;
  b.n = v[0], b.c = v[1], b.s = v[2];
  if (b.c < 1) a.range_error("batch norm needs at least one channel");
  a.mul(a.mul(b.n, b.c, "x"), b.s, "x");
  return b;
}
}  // namespace

// batchNorm(x, gamma|null, beta|null, runningMean|null, runningVar|null, [n, c, s], eps,
//           momentum, training, y, saveMean, saveInvstd)
BatchNormOp BatchNormOp::parse(Args& a) {
  BatchNormOp op;
  F32 x = a.f32(0, "x");
  op.a = bn_args(a, 5);
  const int64_t c = op.a.c;
  F32 gamma = optional_vector(a, 1, "gamma", c, "one per channel");
  F32 beta = optional_vector(a, 2, "beta", c, "one per channel");
  F32 rm = optional_vector(a, 3, "runningMean", c, "one per channel");
  F32 rv = optional_vector(a, 4, "runningVar", c, "one per channel");
  op.a.eps = static_cast<float>(a.number(6, "eps"));
  op.a.momentum = static_cast<float>(a.number(7, "momentum"));
  op.a.training = a.boolean(8, "training");
  if (!(op.a.eps > 0)) a.range_error("eps must be > 0");
  if (!(op.a.momentum >= 0 && op.a.momentum <= 1)) a.range_error("momentum must be in [0, 1]");
  if (rm.present != rv.present) a.type_error("give both running statistics or neither");
  if (!op.a.training && !rm.present) a.type_error("evaluation mode needs the running statistics");
  if (op.a.training && op.a.n * op.a.s < 2)
    a.range_error("training needs more than one value per channel, got input [" +
                  std::to_string(op.a.n) + "," + std::to_string(op.a.c) + "," +
                  std::to_string(op.a.s) + "]");
  F32 y = a.f32(9, "y"), sm = a.f32(10, "saveMean"), si = a.f32(11, "saveInvstd");
  a.expect_length(x.length, op.a.n * c * op.a.s, "x", "n*c*s");
  a.expect_length(y.length, x.length, "y", "same as 'x'");
  a.expect_length(sm.length, c, "saveMean", "one per channel");
  a.expect_length(si.length, c, "saveInvstd", "one per channel");
  a.expect_disjoint(y.data, y.length, "y", x.data, x.length, "x", true);
  op.x = x.data, op.gamma = gamma.present ? gamma.data : nullptr;
  op.beta = beta.present ? beta.data : nullptr;
  op.running_mean = rm.present ? rm.data : nullptr, op.running_var = rv.present ? rv.data : nullptr;
  op.y = y.data, op.save_mean = sm.data, op.save_invstd = si.data;
  return op;
}
void BatchNormOp::run() const {
  batch_norm_forward(a, x, gamma, beta, running_mean, running_var, y, save_mean, save_invstd);
}
double BatchNormOp::flops() const { return 5.0 * double(a.n * a.c * a.s); }
double BatchNormOp::bytes() const { return 12.0 * double(a.n * a.c * a.s); }
std::string BatchNormOp::shapes() const {
  return "[" + std::to_string(a.n) + "," + std::to_string(a.c) + "," + std::to_string(a.s) + "]";
}

// batchNormBackward(x, dy, gamma|null, saveMean, saveInvstd, [n, c, s], training, dx|null,
//                   dgamma|null, dbeta|null)
BatchNormBackwardOp BatchNormBackwardOp::parse(Args& a) {
  BatchNormBackwardOp op;
  F32 x = a.f32(0, "x"), dy = a.f32(1, "dy");
  op.a = bn_args(a, 5);
  const int64_t c = op.a.c;
  F32 gamma = optional_vector(a, 2, "gamma", c, "one per channel");
  F32 sm = a.f32(3, "saveMean"), si = a.f32(4, "saveInvstd");
  op.a.training = a.boolean(6, "training");
  F32 dx = a.f32_or_null(7, "dx");
  F32 dg = optional_vector(a, 8, "dgamma", c, "one per channel");
  F32 db = optional_vector(a, 9, "dbeta", c, "one per channel");
  a.expect_length(x.length, op.a.n * c * op.a.s, "x", "n*c*s");
  a.expect_length(dy.length, x.length, "dy", "same as 'x'");
  a.expect_length(sm.length, c, "saveMean", "one per channel");
  a.expect_length(si.length, c, "saveInvstd", "one per channel");
  if (dx.present) {
    a.expect_length(dx.length, x.length, "dx", "same as 'x'");
    a.expect_disjoint(dx.data, dx.length, "dx", x.data, x.length, "x", false);
    a.expect_disjoint(dx.data, dx.length, "dx", dy.data, dy.length, "dy", false);
  }
  op.x = x.data, op.dy = dy.data, op.gamma = gamma.present ? gamma.data : nullptr;
  op.save_mean = sm.data, op.save_invstd = si.data;
  op.dx = dx.present ? dx.data : nullptr, op.dgamma = dg.present ? dg.data : nullptr;
  op.dbeta = db.present ? db.data : nullptr;
  return op;
}
void BatchNormBackwardOp::run() const {
  batch_norm_backward(a, x, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta);
}
double BatchNormBackwardOp::flops() const { return 8.0 * double(a.n * a.c * a.s); }
double BatchNormBackwardOp::bytes() const { return 16.0 * double(a.n * a.c * a.s); }
std::string BatchNormBackwardOp::shapes() const {
  return "[" + std::to_string(a.n) + "," + std::to_string(a.c) + "," + std::to_string(a.s) + "]";
}

// layerNorm(x, gamma|null, beta|null, rows, d, eps, y, saveMean, saveInvstd)
LayerNormOp LayerNormOp::parse(Args& a) {
  LayerNormOp op;
  F32 x = a.f32(0, "x");
  op.rows = a.integer(3, "rows", 0, kMaxExtent);
  op.d = a.integer(4, "d", 1, kMaxExtent);
  F32 gamma = optional_vector(a, 1, "gamma", op.d, "one per normalised element");
  F32 beta = optional_vector(a, 2, "beta", op.d, "one per normalised element");
  op.eps = static_cast<float>(a.number(5, "eps"));
  if (!(op.eps > 0)) a.range_error("eps must be > 0");
  F32 y = a.f32(6, "y"), sm = a.f32(7, "saveMean"), si = a.f32(8, "saveInvstd");
  a.expect_length(x.length, a.mul(op.rows, op.d, "x"), "x", "rows*d");
  a.expect_length(y.length, x.length, "y", "same as 'x'");
  a.expect_length(sm.length, op.rows, "saveMean", "one per row");
  a.expect_length(si.length, op.rows, "saveInvstd", "one per row");
  a.expect_disjoint(y.data, y.length, "y", x.data, x.length, "x", true);
  op.x = x.data, op.gamma = gamma.present ? gamma.data : nullptr;
  op.beta = beta.present ? beta.data : nullptr;
  op.y = y.data, op.save_mean = sm.data, op.save_invstd = si.data;
  return op;
}
void LayerNormOp::run() const {
  layer_norm_forward(rows, d, eps, x, gamma, beta, y, save_mean, save_invstd);
}
double LayerNormOp::flops() const { return 5.0 * double(rows * d); }
double LayerNormOp::bytes() const { return 12.0 * double(rows * d); }
std::string LayerNormOp::shapes() const { return std::to_string(rows) + "x" + std::to_string(d); }

// layerNormBackward(x, dy, gamma|null, saveMean, saveInvstd, rows, d, dx|null, dgamma|null,
//                   dbeta|null)
LayerNormBackwardOp LayerNormBackwardOp::parse(Args& a) {
  LayerNormBackwardOp op;
  F32 x = a.f32(0, "x"), dy = a.f32(1, "dy");
  op.rows = a.integer(5, "rows", 0, kMaxExtent);
  op.d = a.integer(6, "d", 1, kMaxExtent);
  F32 gamma = optional_vector(a, 2, "gamma", op.d, "one per normalised element");
  F32 sm = a.f32(3, "saveMean"), si = a.f32(4, "saveInvstd");
  F32 dx = a.f32_or_null(7, "dx");
  F32 dg = optional_vector(a, 8, "dgamma", op.d, "one per normalised element");
  F32 db = optional_vector(a, 9, "dbeta", op.d, "one per normalised element");
  a.expect_length(x.length, a.mul(op.rows, op.d, "x"), "x", "rows*d");
  a.expect_length(dy.length, x.length, "dy", "same as 'x'");
  a.expect_length(sm.length, op.rows, "saveMean", "one per row");
  a.expect_length(si.length, op.rows, "saveInvstd", "one per row");
  if (dx.present) {
    a.expect_length(dx.length, x.length, "dx", "same as 'x'");
    a.expect_disjoint(dx.data, dx.length, "dx", x.data, x.length, "x", false);
    a.expect_disjoint(dx.data, dx.length, "dx", dy.data, dy.length, "dy", false);
  }
  op.x = x.data, op.dy = dy.data, op.gamma = gamma.present ? gamma.data : nullptr;
  op.save_mean = sm.data, op.save_invstd = si.data;
  op.dx = dx.present ? dx.data : nullptr, op.dgamma = dg.present ? dg.data : nullptr;
  op.dbeta = db.present ? db.data : nullptr;
  return op;
}
void LayerNormBackwardOp::run() const {
  layer_norm_backward(rows, d, x, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta);
}
double LayerNormBackwardOp::flops() const { return 8.0 * double(rows * d); }
double LayerNormBackwardOp::bytes() const { return 16.0 * double(rows * d); }
std::string LayerNormBackwardOp::shapes() const {
  return std::to_string(rows) + "x" + std::to_string(d);
}

}  // namespace axon::binding
