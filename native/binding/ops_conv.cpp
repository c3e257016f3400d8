// The conv family (native/optable/conv.ops.mjs): what the table cannot state. The convolution
// and pooling geometry checks (channels divisible by groups, a kernel that fits the padded
// input, the output size), batch and layer norm's hyperparameters, maxPool2dBackward's index
// check when it runs, and the profiler's shape strings.
#include <algorithm>
#include <cmath>
#include <string>
#include <cstdint>
#include <numeric>

#include "binding_ops.h"

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

// The table checked that every size is >= 1 (n >= 0): channels divisible by groups, a kernel
// that fits the padded input; sets the output size.
template <class Op>
void check_conv(Args& a, Op& op) {
  const ConvGeometry& g = op.geometry;
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
  op.out_h = g.out_h(), op.out_w = g.out_w();
}

std::string conv_shapes(const ConvGeometry& g) {
  return "N" + std::to_string(g.n) + " " + std::to_string(g.c_in) + "->" + std::to_string(g.c_out) +
         " " + std::to_string(g.h) + "x" + std::to_string(g.w) + " k" + std::to_string(g.kh) + "x" +
         std::to_string(g.kw) + " s" + std::to_string(g.stride_h) +
         (g.groups > 1 ? " g" + std::to_string(g.groups) : "");
}

// The first output along one axis whose dilated window holds no input position (its taps step
// over the input), or -1. With each side's padding at most the extent - 1, every window's span
// overlaps the input (pool_output_size's rules): one starting inside the input holds its start,
// one starting at -q (q > 0) has its first tap at or after 0 at r = (-q) mod dil (tap number
// ceil(q / dil) <= k - 1), inside the input when r < n. So only dil > n can fail, and only the
// windows starting before 0; their residues repeat every dil / gcd(stride, dil) outputs and are
// distinct before that, so n + 1 of them cannot all be < n.
int64_t tapless_output(int64_t n, int64_t stride, int64_t pad_a, int64_t dil, int64_t out) {
  if (dil <= n) return -1;
  const int64_t last =
      std::min({out, (pad_a + stride - 1) / stride, dil / std::gcd(stride, dil), n + 1});
  for (int64_t o = 0; o < last; ++o)
    if ((dil - (pad_a - o * stride) % dil) % dil >= n) return o;
  return -1;
}

// Each side's padding at most the dilated window's extent - 1, so every window overlaps the
// input (PyTorch's layers keep their half-kernel rule in TypeScript; ONNX allows any pads), a
// window that fits the padded input, and, with dilation, at least one input position in every
// window. Max pooling's indices are int32 within a plane. Sets the output size (op.out_h/out_w
// and the geometry's).
template <class Op>
void check_pool(Args& a, Op& op, bool average) {
  PoolGeometry& g = op.geometry;
  if (average && (g.dil_h != 1 || g.dil_w != 1)) a.range_error("average pooling has no dilation");
  const int64_t extent_h = g.dil_h * (g.kh - 1) + 1, extent_w = g.dil_w * (g.kw - 1) + 1;
  if (std::max(g.pad_top, g.pad_bottom) >= extent_h ||
      std::max(g.pad_left, g.pad_right) >= extent_w)
    a.range_error("padding " + std::to_string(g.pad_top) + "," + std::to_string(g.pad_left) + "," +
                  std::to_string(g.pad_bottom) + "," + std::to_string(g.pad_right) +
                  " (top, left, bottom, right) must be less than the window extent " +
                  std::to_string(extent_h) + "x" + std::to_string(extent_w) +
                  " on each side, so every window overlaps the input");
  const bool ceil_mode = op.geometry_ceil_mode;
  g.out_h = pool_output_size(g.h, g.kh, g.stride_h, g.pad_top, g.pad_bottom, g.dil_h, ceil_mode);
  g.out_w = pool_output_size(g.w, g.kw, g.stride_w, g.pad_left, g.pad_right, g.dil_w, ceil_mode);
  if (g.out_h < 1 || g.out_w < 1)
    a.range_error("the window (" + std::to_string(g.kh) + "x" + std::to_string(g.kw) +
                  ", dilation " + std::to_string(g.dil_h) + ") does not fit the padded input " +
                  std::to_string(g.h + g.pad_top + g.pad_bottom) + "x" +
                  std::to_string(g.w + g.pad_left + g.pad_right));
  const int64_t row = tapless_output(g.h, g.stride_h, g.pad_top, g.dil_h, g.out_h);
  const int64_t col = tapless_output(g.w, g.stride_w, g.pad_left, g.dil_w, g.out_w);
  if (row >= 0 || col >= 0)
    a.range_error("the window of output " + std::string(row >= 0 ? "row " : "column ") +
                  std::to_string(row >= 0 ? row : col) + " holds no input position (dilation " +
                  std::to_string(g.dil_h) + "x" + std::to_string(g.dil_w) +
                  " steps over the input from the padding)");
  if (!average && g.h * g.w > INT32_MAX)
    a.range_error("a " + std::to_string(g.h) + "x" + std::to_string(g.w) +
                  " plane has more positions than an int32 index holds");
  op.out_h = g.out_h, op.out_w = g.out_w;
}

std::string pool_shapes(const PoolGeometry& g) {
  return std::to_string(g.planes) + "x" + std::to_string(g.h) + "x" + std::to_string(g.w) + " k" +
         std::to_string(g.kh) + " s" + std::to_string(g.stride_h);
}

std::string adaptive_shapes(const PoolGeometry& g) {
  return std::to_string(g.planes) + "x" + std::to_string(g.h) + "x" + std::to_string(g.w) + "->" +
         std::to_string(g.out_h) + "x" + std::to_string(g.out_w);
}

std::string bn_input(const BatchNormArgs& b) {
  return "[" + std::to_string(b.n) + "," + std::to_string(b.c) + "," + std::to_string(b.s) + "]";
}

}  // namespace

// ---- convolution
void Conv2dOp::check(Args& a, Conv2dOp& op) { check_conv(a, op); }
void Conv2dBackwardDataOp::check(Args& a, Conv2dBackwardDataOp& op) { check_conv(a, op); }
void Conv2dBackwardWeightOp::check(Args& a, Conv2dBackwardWeightOp& op) { check_conv(a, op); }

// The algorithm that ran, for the profiler: effective GFLOP/s of Winograd exceed the peak.
std::string Conv2dOp::shapes() const {
  return conv_shapes(geometry) + " " + conv2d_forward_algorithm(geometry);
}
std::string Conv2dBackwardDataOp::shapes() const { return conv_shapes(geometry); }
std::string Conv2dBackwardWeightOp::shapes() const {
  return conv_shapes(geometry) + " " +
         conv2d_forward_algorithm(geometry);  // the forward's choice holds
}

// ---- pooling
void MaxPool2dOp::check(Args& a, MaxPool2dOp& op) {
  check_pool(a, op, false);
  const PoolGeometry& g = op.geometry;
  if (op.global_index && g.planes * g.h * g.w > INT32_MAX)
    a.range_error("global indices of a " + std::to_string(g.planes) + "x" + std::to_string(g.h) +
                  "x" + std::to_string(g.w) + " input do not fit int32");
}
// The forward, then (when asked) its per-plane indices made global, in the same run: the
// indices it converts are the ones it has just written.
void MaxPool2dOp::run_cpu() const {
  max_pool2d_forward(geometry, x, y, index);
  if (global_index) max_pool2d_global_index(geometry, index, column_major, global_index);
}
void MaxPool2dBackwardOp::check(Args& a, MaxPool2dBackwardOp& op) { check_pool(a, op, false); }
void AvgPool2dOp::check(Args& a, AvgPool2dOp& op) { check_pool(a, op, true); }
void AvgPool2dBackwardOp::check(Args& a, AvgPool2dBackwardOp& op) { check_pool(a, op, true); }

// The indices are checked when the op runs: in a recorded program they are rewritten by the
// forward pass between runs, and JS could change them too. (The kernel checks them, in
// parallel, before it uses them; the scan below names the first.)
void MaxPool2dBackwardOp::run_cpu() const {
  if (max_pool2d_backward(geometry, index, dy, dx, overwrite, relu_mask)) return;
  const PoolGeometry& g = geometry;
  const int64_t n = g.planes * g.out_h * g.out_w, plane = g.h * g.w;
  for (int64_t i = 0; i < n; ++i)
    if (index[i] < 0 || index[i] >= plane) {
      set_runtime_error("maxPool2dBackward: index[" + std::to_string(i) +
                        "] = " + std::to_string(index[i]) + " is outside the " +
                        std::to_string(g.h) + "x" + std::to_string(g.w) + " plane");
      return;
    }
}

std::string MaxPool2dOp::shapes() const { return pool_shapes(geometry); }
std::string MaxPool2dBackwardOp::shapes() const { return pool_shapes(geometry); }
std::string AvgPool2dOp::shapes() const { return pool_shapes(geometry); }
std::string AvgPool2dBackwardOp::shapes() const { return pool_shapes(geometry); }
std::string AdaptiveAvgPool2dOp::shapes() const { return adaptive_shapes(geometry); }
std::string AdaptiveAvgPool2dBackwardOp::shapes() const { return adaptive_shapes(geometry); }

// ---- normalisation
BatchNormArgs BatchNormOp::args() const {
  BatchNormArgs b = dims;
  b.eps = eps, b.momentum = momentum, b.training = training, b.relu = relu;
  b.stats = has_stats ? stats : nullptr;
  return b;
}

// Summed statistics a cross-replica batch norm divides by: their count (the last cell, the
// union's values per channel) must be a positive whole number, re-read on every run because
// the sums arrive from the other replicas between the calls.
std::string bn_stats_problem(const double* stats, int64_t c) {
  if (!stats) return "";
  const double count = stats[2 * c];
  if (!(count >= 1 && count <= 9.007199254740992e15 && count == std::floor(count)))
    return "stats: the count (the last value) must be a positive whole number of values per "
           "channel, got " +
           std::to_string(count);
  return "";
}

void BatchNormOp::check(Args& a, BatchNormOp& op) {
  const BatchNormArgs& b = op.dims;
  a.mul(a.mul(b.n, b.c, "x"), b.s, "x");
  if (!(op.eps > 0)) a.range_error("eps must be > 0");
  if (!(op.momentum >= 0 && op.momentum <= 1)) a.range_error("momentum must be in [0, 1]");
  if (op.has_running_mean != op.has_running_var)
    a.type_error("give both running statistics or neither");
  if (!op.training && !op.has_running_mean)
    a.type_error("evaluation mode needs the running statistics");
  if (op.training && b.n * b.s < 2 && !op.has_stats)
    a.range_error("training needs more than one value per channel, got input " + bn_input(b));
  if (op.has_stats && !op.training)
    a.type_error(
        "stats (summed batch statistics) are read only in training; pass null in evaluation");
}

BatchNormArgs BatchNormBackwardOp::args() const {
  BatchNormArgs b = dims;
  b.training = training, b.relu = relu;
  b.stats = has_stats ? stats : nullptr;
  return b;
}

namespace {
void check_relu_gate(Args& a, bool relu, bool has_y) {
  if (relu && !has_y)
    a.type_error("relu needs y, the forward output whose sign gates the gradient");
  if (!relu && has_y)
    a.type_error("y is read only with relu (it gates the gradient); pass null without it");
}
}  // namespace

void BatchNormBackwardOp::check(Args& a, BatchNormBackwardOp& op) {
  check_relu_gate(a, op.relu, op.has_y);
  if (op.has_stats && !op.training)
    a.type_error("stats (summed gradient sums) are read only in training; pass null in evaluation");
  if (op.has_stats && (op.has_dgamma || op.has_dbeta))
    a.type_error(
        "with stats, dgamma and dbeta must be null: batchNormGradStats gives this replica's");
}

BatchNormArgs BatchNormStatsOp::args() const { return dims; }

BatchNormArgs BatchNormGradStatsOp::args() const {
  BatchNormArgs b = dims;
  b.relu = relu;
  return b;
}

void BatchNormGradStatsOp::check(Args& a, BatchNormGradStatsOp& op) {
  check_relu_gate(a, op.relu, op.has_y);
}

void LayerNormOp::check(Args& a, LayerNormOp& op) {
  if (!(op.eps > 0)) a.range_error("eps must be > 0");
}

}  // namespace axon::binding
