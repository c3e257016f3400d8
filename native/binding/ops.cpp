// Argument parsing and kernel calls of the binding ops not yet in the op table (see ops.h).
// Positional arguments, in the order src/native/binding.ts documents. Checks cover what the
// kernels rely on for memory safety and meaning: types, integer ranges, exact element counts,
// shape rules, overflow, and outputs not overlapping inputs (except exact in-place aliases
// where the kernel allows them).
#include "ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace axon::binding {

namespace {

// Start and step per axis for a slice of `shape` giving `os`; every index must be in range.
void check_slice(Args& a, const Shape& shape, const Shape& os, const std::vector<int64_t>& start,
                 const std::vector<int64_t>& step) {
  if (os.ndim != shape.ndim)
    a.range_error("outShape " + shape_string(os) + " must have the rank of shape " +
                  shape_string(shape));
  for (int d = 0; d < shape.ndim; ++d) {
    if (step[d] == 0) a.range_error("step of axis " + std::to_string(d) + " is 0");
    if (os.dims[d] == 0) continue;
    const int64_t first = start[d];
    const int64_t last = a.add(first, a.mul(os.dims[d] - 1, step[d], "slice"), "slice");
    if (first < 0 || first >= shape.dims[d] || last < 0 || last >= shape.dims[d])
      a.range_error("axis " + std::to_string(d) + ": indices " + std::to_string(first) + ".." +
                    std::to_string(last) + " fall outside [0, " + std::to_string(shape.dims[d]) +
                    ") of shape " + shape_string(shape));
  }
}

}  // namespace

// permute(x, shape, perm, out)   x and out: both Float32Array or both Int32Array
PermuteOp PermuteOp::parse(Args& a) {
  PermuteOp op;
  Words x = a.words(0, "x");
  op.shape = a.shape(1, "shape");
  std::vector<int64_t> perm = a.int_list(2, "perm", size_t(op.shape.ndim), 0, op.shape.ndim - 1);
  Words out = a.words(3, "out");
  bool seen[kMaxDims] = {};
  for (int i = 0; i < op.shape.ndim; ++i) {
    if (seen[perm[i]])
      a.range_error("perm must be a permutation of 0.." + std::to_string(op.shape.ndim - 1));
    seen[perm[i]] = true;
    op.perm[i] = static_cast<int>(perm[i]);
  }
  if (x.is_int != out.is_int) a.type_error("'x' and 'out' must be typed arrays of the same type");
  a.expect_length(x.length, op.shape.numel(), "x", "shape " + shape_string(op.shape));
  a.expect_length(out.length, op.shape.numel(), "out", "shape " + shape_string(op.shape));
  a.expect_disjoint(out.data, out.length, "out", x.data, x.length, "x", false);
  op.x = x.data, op.out = out.data;
  return op;
}
void PermuteOp::run() const { permute(x, shape, perm, out); }
double PermuteOp::flops() const { return 0; }
double PermuteOp::bytes() const { return 8.0 * double(shape.numel()); }
std::string PermuteOp::shapes() const {
  std::string p = shape_string(shape) + " perm [";
  for (int i = 0; i < shape.ndim; ++i) p += (i ? "," : "") + std::to_string(perm[i]);
  return p + "]";
}

// concat(inputs: array of typed arrays, sizes: row length of each, outer, out)
ConcatOp ConcatOp::parse(Args& a) {
  ConcatOp op;
  Napi::Array inputs = a.array(0, "inputs");
  const uint32_t count = inputs.Length();
  if (count == 0 || count > 65536)
    a.range_error("needs 1..65536 inputs, got " + std::to_string(count));
  op.sizes = a.int_list(1, "sizes", count, 0, kMaxExtent);
  op.outer = a.integer(2, "outer", 0, kMaxExtent);
  Words out = a.words(3, "out");
  int64_t row = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const std::string name = "inputs[" + std::to_string(i) + "]";
    Words x = a.words_value(inputs.Get(i), name);
    if (x.is_int != out.is_int)
      a.type_error(name + " and 'out' must be typed arrays of the same type");
    a.expect_length(x.length, a.mul(op.outer, op.sizes[i], name.c_str()), name.c_str(),
                    "outer * sizes[" + std::to_string(i) + "]");
    row = a.add(row, op.sizes[i], "sum of sizes");
    op.xs.push_back(x.data);
  }
  a.expect_length(out.length, a.mul(op.outer, row, "out"), "out", "outer * sum of sizes");
  // Inputs were read into `buffers()` in order after 'out'; check none overlaps the output.
  for (uint32_t i = 0; i < count; ++i)
    a.expect_disjoint(out.data, out.length, "out", op.xs[i], op.outer * op.sizes[i], "an input",
                      false);
  op.out = out.data;
  return op;
}
void ConcatOp::run() const {
  concat(xs.data(), sizes.data(), static_cast<int>(xs.size()), outer, out);
}
double ConcatOp::flops() const { return 0; }
double ConcatOp::bytes() const {
  int64_t row = 0;
  for (int64_t s : sizes) row += s;
  return 8.0 * double(outer) * row;
}
std::string ConcatOp::shapes() const {
  return std::to_string(xs.size()) + " inputs, outer=" + std::to_string(outer);
}

// sliceCopy(x, shape, starts, steps, outShape, out)
SliceOp SliceOp::parse(Args& a) {
  SliceOp op;
  Words x = a.words(0, "x");
  op.shape = a.shape(1, "shape");
  const size_t nd = size_t(op.shape.ndim);
  std::vector<int64_t> start = a.int_list(2, "starts", nd, 0, kMaxExtent);
  std::vector<int64_t> step = a.int_list(3, "steps", nd, -kMaxExtent, kMaxExtent);
  op.os = a.shape(4, "outShape");
  Words out = a.words(5, "out");
  check_slice(a, op.shape, op.os, start, step);
  if (x.is_int != out.is_int) a.type_error("'x' and 'out' must be typed arrays of the same type");
  a.expect_length(x.length, op.shape.numel(), "x", "shape " + shape_string(op.shape));
  a.expect_length(out.length, op.os.numel(), "out", "outShape " + shape_string(op.os));
  a.expect_disjoint(out.data, out.length, "out", x.data, x.length, "x", false);
  for (size_t d = 0; d < nd; ++d) op.start[d] = start[d], op.step[d] = step[d];
  op.x = x.data, op.out = out.data;
  return op;
}
void SliceOp::run() const { slice_copy(x, shape, start, step, os, out); }
double SliceOp::flops() const { return 0; }
double SliceOp::bytes() const { return 8.0 * double(os.numel()); }
std::string SliceOp::shapes() const { return shape_string(shape) + " -> " + shape_string(os); }

// sliceBackward(dy, outShape, starts, steps, shape, dx)
SliceBackwardOp SliceBackwardOp::parse(Args& a) {
  SliceBackwardOp op;
  F32 dy = a.f32(0, "dy");
  op.os = a.shape(1, "outShape");
  const size_t nd = size_t(op.os.ndim);
  std::vector<int64_t> start = a.int_list(2, "starts", nd, 0, kMaxExtent);
  std::vector<int64_t> step = a.int_list(3, "steps", nd, -kMaxExtent, kMaxExtent);
  op.shape = a.shape(4, "shape");
  F32 dx = a.f32(5, "dx");
  check_slice(a, op.shape, op.os, start, step);
  a.expect_length(dy.length, op.os.numel(), "dy", "outShape " + shape_string(op.os));
  a.expect_length(dx.length, op.shape.numel(), "dx", "shape " + shape_string(op.shape));
  a.expect_disjoint(dx.data, dx.length, "dx", dy.data, dy.length, "dy", false);
  for (size_t d = 0; d < nd; ++d) op.start[d] = start[d], op.step[d] = step[d];
  op.dy = dy.data, op.dx = dx.data;
  return op;
}
void SliceBackwardOp::run() const { slice_backward(dy, os, start, step, shape, dx); }
double SliceBackwardOp::flops() const { return double(os.numel()); }
double SliceBackwardOp::bytes() const { return 12.0 * double(os.numel()); }
std::string SliceBackwardOp::shapes() const {
  return shape_string(os) + " -> " + shape_string(shape);
}

}  // namespace axon::binding

namespace axon::binding {

namespace {

// Checks that every state buffer has the parameter's length and that the written buffers do
// not overlap each other or the gradient.
void check_update(Args& a, const F32& p, const F32& g,
                  std::initializer_list<std::pair<const F32*, const char*>> state) {
  a.expect_length(g.length, p.length, "grad", "one per parameter element");
  a.expect_disjoint(p.data, p.length, "param", g.data, g.length, "grad", false);
  for (auto [s, name] : state) {
    if (!s->present) continue;
    a.expect_length(s->length, p.length, name, "one per parameter element");
    a.expect_disjoint(s->data, s->length, name, p.data, p.length, "param", false);
    a.expect_disjoint(s->data, s->length, name, g.data, g.length, "grad", false);
    for (auto [o, oname] : state)
      if (o != s && o->data)
        a.expect_disjoint(s->data, s->length, name, o->data, o->length, oname, false);
  }
}

float unit_arg(Args& a, size_t i, const char* name, bool allow_one) {
  const double v = a.number(i, name);
  if (v < 0 || v > 1 || (!allow_one && v == 1))
    a.range_error(std::string(name) + " must be in [0, 1" + (allow_one ? "]" : ")") + ", got " +
                  std::to_string(v));
  return static_cast<float>(v);
}

}  // namespace

namespace {
// An optimizer's hyperparameters live in a JS-owned Float64Array that JS rewrites between
// runs (a learning-rate schedule) and a replayed step reads when it runs, so the checks below
// run at parse (a clear error for the call that passes them) and again on every run. Each
// returns the first problem ("" when none), without the op's name.
constexpr double kInf = 1e300;
constexpr double kMaxSafeInteger = 9007199254740991.0;

// A random stream's state [seedHigh, seedLow, counter] (dropout, randomCropFlip): JS-owned and
// converted to integers when the op runs, so checked at parse and every run. Each entry is an
// integer that stays exact in a double after the op advances the counter.
std::string random_state_problem(const double* st) {
  for (int k = 0; k < 3; ++k)
    if (!(st[k] >= 0 && st[k] < kMaxSafeInteger && std::floor(st[k]) == st[k]))
      return "state[" + std::to_string(k) + "] = " + std::to_string(st[k]) +
             " must be an integer in [0, 2^53 - 1)";
  return "";
}

std::string hyper_finite(const double* h, int64_t len, const char* layout) {
  for (int64_t k = 0; k < len; ++k)
    if (!std::isfinite(h[k]))
      return "hyper[" + std::to_string(k) + "] = " + std::to_string(h[k]) + " must be finite (" +
             layout + ")";
  return "";
}
std::string hyper_range(double v, const char* name, double lo, double hi, bool hi_open = false) {
  if (v >= lo && (hi_open ? v < hi : v <= hi)) return "";
  return std::string(name) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
         (hi_open ? ")" : "]") + ", got " + std::to_string(v);
}
// The first non-empty message of a list of checks.
std::string first_of(std::initializer_list<std::string> problems) {
  for (const std::string& p : problems)
    if (!p.empty()) return p;
  return "";
}

// The hyperparameter block of an optimizer op: a Float64Array of exactly `len` values.
double* hyper_arg(Args& a, size_t i, int64_t len, const char* layout) {
  F64 h = a.f64(i, "hyper");
  a.expect_length(h.length, len, "hyper", layout);
  return h.data;
}
// At parse: throws the problem as a RangeError. At run: sets it as the runtime error.
void parse_check(Args& a, const std::string& problem) {
  if (!problem.empty()) a.range_error(problem);
}
bool run_check(const char* op, const std::string& problem) {
  if (problem.empty()) return true;
  set_runtime_error(std::string(op) + ": " + problem);
  return false;
}

const char* kSgdLayout = "lr, momentum, dampening, weightDecay, nesterov, maximize, started";
std::string sgd_problem(const double* h) {
  if (std::string e = hyper_finite(h, 7, kSgdLayout); !e.empty()) return e;
  return first_of({hyper_range(h[0], "lr", 0, kInf), hyper_range(h[1], "momentum", 0, kInf),
                   hyper_range(h[2], "dampening", 0, 1), hyper_range(h[3], "weightDecay", 0, kInf),
                   h[4] != 0 && (h[1] <= 0 || h[2] != 0)
                       ? "Nesterov momentum requires a momentum > 0 and zero dampening"
                       : ""});
}
const char* kAdamLayout = "lr, beta1, beta2, eps, weightDecay, decoupled, amsgrad, maximize, step";
std::string adam_problem(const double* h) {
  if (std::string e = hyper_finite(h, 9, kAdamLayout); !e.empty()) return e;
  // step < 2^53 - 1: run() adds one before converting it to an integer.
  return first_of({hyper_range(h[0], "lr", 0, kInf), hyper_range(h[1], "beta1", 0, 1, true),
                   hyper_range(h[2], "beta2", 0, 1, true), hyper_range(h[3], "eps", 0, kInf),
                   hyper_range(h[4], "weightDecay", 0, kInf),
                   hyper_range(h[8], "step", 0, kMaxSafeInteger, true)});
}
const char* kRmspropLayout = "lr, alpha, eps, weightDecay, momentum, centered, maximize";
std::string rmsprop_problem(const double* h) {
  if (std::string e = hyper_finite(h, 7, kRmspropLayout); !e.empty()) return e;
  return first_of({hyper_range(h[0], "lr", 0, kInf), hyper_range(h[1], "alpha", 0, 1),
                   hyper_range(h[2], "eps", 0, kInf), hyper_range(h[3], "weightDecay", 0, kInf),
                   hyper_range(h[4], "momentum", 0, kInf)});
}
const char* kAdagradLayout = "lr, lrDecay, eps, weightDecay, maximize, step";
std::string adagrad_problem(const double* h) {
  if (std::string e = hyper_finite(h, 6, kAdagradLayout); !e.empty()) return e;
  return first_of({hyper_range(h[0], "lr", 0, kInf), hyper_range(h[1], "lrDecay", 0, kInf),
                   hyper_range(h[2], "eps", 0, kInf), hyper_range(h[3], "weightDecay", 0, kInf),
                   hyper_range(h[5], "step", 0, kMaxSafeInteger, true)});
}
}  // namespace

// sgdStep(param, grad, momentumBuf|null, hyper[lr, momentum, dampening, weightDecay,
//         nesterov, maximize, started])
SgdOp SgdOp::parse(Args& a) {
  SgdOp op;
  F32 p = a.f32(0, "param"), g = a.f32(1, "grad"), buf = a.f32_or_null(2, "momentumBuf");
  op.hyper = hyper_arg(a, 3, 7, kSgdLayout);
  parse_check(a, sgd_problem(op.hyper));
  if (op.hyper[1] != 0 && !buf.present) a.type_error("momentum needs 'momentumBuf'");
  check_update(a, p, g, {{&buf, "momentumBuf"}});
  op.p = p.data, op.g = g.data, op.buf = buf.present ? buf.data : nullptr, op.n = p.length;
  return op;
}
void SgdOp::run() const {
  double* h = hyper;
  if (!run_check(kName, sgd_problem(h))) return;
  if (h[1] != 0 && !buf && n > 0) return set_runtime_error("sgdStep: momentum needs 'momentumBuf'");
  SgdConfig c;
  c.lr = static_cast<float>(h[0]);
  c.momentum = buf ? static_cast<float>(h[1]) : 0.0f;
  c.dampening = static_cast<float>(h[2]);
  c.weight_decay = static_cast<float>(h[3]);
  c.nesterov = h[4] != 0 && c.momentum > 0;
  c.maximize = h[5] != 0;
  c.first_step = h[6] == 0;
  if (c.momentum != 0) h[6] = 1;
  sgd_step(p, g, c.momentum != 0 ? buf : nullptr, n, c);
}
double SgdOp::flops() const { return 6.0 * double(n); }
double SgdOp::bytes() const { return 20.0 * double(n); }
std::string SgdOp::shapes() const { return "n=" + std::to_string(n); }

// adamStep(param, grad, m, v, vmax|null, hyper[lr, beta1, beta2, eps, weightDecay, decoupled,
//          amsgrad, maximize, step]); `step` counts updates done and is advanced here.
AdamOp AdamOp::parse(Args& a) {
  AdamOp op;
  F32 p = a.f32(0, "param"), g = a.f32(1, "grad"), m = a.f32(2, "m"), v = a.f32(3, "v");
  F32 vmax = a.f32_or_null(4, "vmax");
  op.hyper = hyper_arg(a, 5, 9, kAdamLayout);
  parse_check(a, adam_problem(op.hyper));
  if (op.hyper[6] != 0 && !vmax.present) a.type_error("amsgrad needs 'vmax'");
  check_update(a, p, g, {{&m, "m"}, {&v, "v"}, {&vmax, "vmax"}});
  op.p = p.data, op.g = g.data, op.m = m.data, op.v = v.data;
  op.vmax = vmax.present ? vmax.data : nullptr, op.n = p.length;
  return op;
}
void AdamOp::run() const {
  double* h = hyper;
  if (!run_check(kName, adam_problem(h))) return;
  if (h[6] != 0 && !vmax && n > 0) return set_runtime_error("adamStep: amsgrad needs 'vmax'");
  h[8] += 1;
  AdamConfig c;
  c.lr = static_cast<float>(h[0]);
  c.beta1 = static_cast<float>(h[1]);
  c.beta2 = static_cast<float>(h[2]);
  c.eps = static_cast<float>(h[3]);
  c.weight_decay = static_cast<float>(h[4]);
  c.decoupled = h[5] != 0;
  c.amsgrad = h[6] != 0 && vmax != nullptr;
  c.maximize = h[7] != 0;
  c.step = static_cast<int64_t>(h[8]);
  adam_step(p, g, m, v, c.amsgrad ? vmax : nullptr, n, c);
}
double AdamOp::flops() const { return 14.0 * double(n); }
double AdamOp::bytes() const { return 28.0 * double(n); }
std::string AdamOp::shapes() const { return "n=" + std::to_string(n); }

// rmspropStep(param, grad, squareAvg, gradAvg|null, momentumBuf|null,
//             hyper[lr, alpha, eps, weightDecay, momentum, centered, maximize])
RmspropOp RmspropOp::parse(Args& a) {
  RmspropOp op;
  F32 p = a.f32(0, "param"), g = a.f32(1, "grad"), sq = a.f32(2, "squareAvg");
  F32 ga = a.f32_or_null(3, "gradAvg"), buf = a.f32_or_null(4, "momentumBuf");
  op.hyper = hyper_arg(a, 5, 7, kRmspropLayout);
  parse_check(a, rmsprop_problem(op.hyper));
  const double* h = op.hyper;
  if (h[5] != 0 && !ga.present) a.type_error("centered needs 'gradAvg'");
  if (h[4] > 0 && !buf.present) a.type_error("momentum needs 'momentumBuf'");
  check_update(a, p, g, {{&sq, "squareAvg"}, {&ga, "gradAvg"}, {&buf, "momentumBuf"}});
  op.p = p.data, op.g = g.data, op.sq = sq.data, op.n = p.length;
  op.ga = ga.present ? ga.data : nullptr, op.buf = buf.present ? buf.data : nullptr;
  return op;
}
void RmspropOp::run() const {
  const double* h = hyper;
  if (!run_check(kName, rmsprop_problem(h))) return;
  if (h[5] != 0 && !ga && n > 0) return set_runtime_error("rmspropStep: centered needs 'gradAvg'");
  if (h[4] > 0 && !buf && n > 0)
    return set_runtime_error("rmspropStep: momentum needs 'momentumBuf'");
  RmspropConfig c;
  c.lr = static_cast<float>(h[0]);
  c.alpha = static_cast<float>(h[1]);
  c.eps = static_cast<float>(h[2]);
  c.weight_decay = static_cast<float>(h[3]);
  c.momentum = buf ? static_cast<float>(h[4]) : 0.0f;
  c.centered = h[5] != 0 && ga != nullptr;
  c.maximize = h[6] != 0;
  rmsprop_step(p, g, sq, c.centered ? ga : nullptr, c.momentum > 0 ? buf : nullptr, n, c);
}
double RmspropOp::flops() const { return 12.0 * double(n); }
double RmspropOp::bytes() const { return 28.0 * double(n); }
std::string RmspropOp::shapes() const { return "n=" + std::to_string(n); }

// adagradStep(param, grad, sum, hyper[lr, lrDecay, eps, weightDecay, maximize, step])
AdagradOp AdagradOp::parse(Args& a) {
  AdagradOp op;
  F32 p = a.f32(0, "param"), g = a.f32(1, "grad"), sum = a.f32(2, "sum");
  op.hyper = hyper_arg(a, 3, 6, kAdagradLayout);
  parse_check(a, adagrad_problem(op.hyper));
  check_update(a, p, g, {{&sum, "sum"}});
  op.p = p.data, op.g = g.data, op.sum = sum.data, op.n = p.length;
  return op;
}
void AdagradOp::run() const {
  double* h = hyper;
  if (!run_check(kName, adagrad_problem(h))) return;
  h[5] += 1;
  AdagradConfig c;
  c.lr = static_cast<float>(h[0] / (1 + (h[5] - 1) * h[1]));
  c.eps = static_cast<float>(h[2]);
  c.weight_decay = static_cast<float>(h[3]);
  c.maximize = h[4] != 0;
  adagrad_step(p, g, sum, n, c);
}
double AdagradOp::flops() const { return 8.0 * double(n); }
double AdagradOp::bytes() const { return 20.0 * double(n); }
std::string AdagradOp::shapes() const { return "n=" + std::to_string(n); }

namespace {
// io is JS-owned and read when the op runs: checked at parse and every run.
std::string clip_problem(const double* io) {
  if (!(io[0] >= 0 && std::isfinite(io[0])))
    return "maxNorm (io[0]) must be a finite number >= 0, got " + std::to_string(io[0]);
  if (io[1] != 2 && !(std::isinf(io[1]) && io[1] > 0))
    return "normType (io[1]) must be 2 or Infinity, got " + std::to_string(io[1]);
  return "";
}
}  // namespace

// clipGradNorm(grads: Float32Array[], io: Float64Array[maxNorm, normType, outNorm])
ClipGradNormOp ClipGradNormOp::parse(Args& a) {
  ClipGradNormOp op;
  Napi::Array list = a.array(0, "grads");
  const uint32_t count = list.Length();
  if (count > 1000000) a.range_error("too many gradients");
  for (uint32_t i = 0; i < count; ++i) {
    Napi::Value v = list.Get(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      a.type_error("grads[" + std::to_string(i) + "] must be a Float32Array");
    Words w = a.words_value(v, "grads[" + std::to_string(i) + "]");
    op.grads.push_back(static_cast<float*>(w.data));
    op.sizes.push_back(w.length);
  }
  F64 io = a.f64(1, "io");
  a.expect_length(io.length, 3, "io", "maxNorm, normType, out norm");
  parse_check(a, clip_problem(io.data));
  op.io = io.data;
  return op;
}
void ClipGradNormOp::run() const {
  if (!run_check(kName, clip_problem(io))) return;
  io[2] =
      clip_grad_norm(grads.data(), sizes.data(), static_cast<int64_t>(grads.size()), io[0], io[1]);
}
double ClipGradNormOp::flops() const {
  double n = 0;
  for (int64_t s : sizes) n += double(s);
  return 3 * n;
}
double ClipGradNormOp::bytes() const { return 4 * flops() / 3; }
std::string ClipGradNormOp::shapes() const { return std::to_string(grads.size()) + " tensors"; }

namespace {
// An output buffer must not overlap the class indices (checked at run time, then read).
void expect_disjoint_from_targets(Args& a, const CrossEntropyArgs& ce, const float* out,
                                  int64_t out_len, const char* out_name) {
  if (ce.target_index)
    a.expect_disjoint(out, out_len, out_name, ce.target_index, ce.n, "targetIndex", false);
}

// Shared by cross-entropy forward and backward: logits, n, c, targetIndex|null,
// targetProb|null, classWeight|null, labelSmoothing, ignoreIndex (positions 0..7).
CrossEntropyArgs parse_ce(Args& a, F32* logits_out) {
  CrossEntropyArgs ce;
  F32 logits = a.f32(0, "logits");
  ce.n = a.integer(1, "n", 0, kMaxExtent);
  ce.c = a.integer(2, "c", 1, INT32_MAX);
  a.expect_length(logits.length, a.mul(ce.n, ce.c, "logits"), "logits", "n * c");
  I32 idx = a.i32_or_null(3, "targetIndex");
  F32 prob = a.f32_or_null(4, "targetProb");
  const bool have_prob = prob.present;
  const bool have_idx = idx.present;
  if (have_idx == have_prob) a.type_error("pass exactly one of 'targetIndex' and 'targetProb'");
  F32 w = a.f32_or_null(5, "classWeight");
  const double eps = a.number(6, "labelSmoothing");
  if (eps < 0 || eps > 1)
    a.range_error("labelSmoothing must be in [0, 1], got " + std::to_string(eps));
  ce.label_smoothing = static_cast<float>(eps);
  ce.ignore_index = static_cast<int32_t>(a.integer(7, "ignoreIndex", INT32_MIN, INT32_MAX));
  if (have_idx) {
    // The class indices themselves are checked when the op runs (ce_targets_ok).
    a.expect_length(idx.length, ce.n, "targetIndex", "one class index per row");
    ce.target_index = idx.data;
  } else {
    a.expect_length(prob.length, logits.length, "targetProb", "same shape as logits");
    ce.target_prob = prob.data;
  }
  if (w.present) {
    a.expect_length(w.length, ce.c, "classWeight", "one weight per class");
    ce.class_weight = w.data;
  }
  ce.logits = logits.data;
  *logits_out = logits;
  return ce;
}
}  // namespace

namespace {
// Class indices are batch data (a recorded step gathers new labels every step), so they are
// checked every time the op runs, before anything indexes a row or classWeight with them.
bool ce_targets_ok(const CrossEntropyArgs& a, const char* op) {
  if (!a.target_index) return true;
  for (int64_t i = 0; i < a.n; ++i) {
    const int32_t y = a.target_index[i];
    if (y != a.ignore_index && (y < 0 || y >= a.c)) {
      set_runtime_error(std::string(op) + ": target " + std::to_string(y) + " at row " +
                        std::to_string(i) + " is outside the " + std::to_string(a.c) +
                        " classes [0, " + std::to_string(a.c - 1) + "] (ignoreIndex " +
                        std::to_string(a.ignore_index) + ")");
      return false;
    }
  }
  return true;
}
}  // namespace

// crossEntropy(logits, n, c, targetIndex|null, targetProb|null, classWeight|null,
//              labelSmoothing, ignoreIndex, reduction (0 none, 1 mean, 2 sum), out, lse, rows)
CrossEntropyOp CrossEntropyOp::parse(Args& a) {
  CrossEntropyOp op;
  F32 logits;
  op.a = parse_ce(a, &logits);
  op.reduction = static_cast<int>(a.integer(8, "reduction", 0, 2));
  F32 out = a.f32(9, "out"), lse = a.f32(10, "lse"), rows = a.f32(11, "rows");
  a.expect_length(out.length, op.reduction == 0 ? op.a.n : 1, "out",
                  op.reduction == 0 ? "one per row" : "one value");
  a.expect_length(lse.length, op.a.n, "lse", "one per row");
  a.expect_length(rows.length, op.a.n, "rows", "one per row");
  for (auto [t, name] : {std::pair{&out, "out"}, {&lse, "lse"}, {&rows, "rows"}})
    a.expect_disjoint(t->data, t->length, name, logits.data, logits.length, "logits", false);
  a.expect_disjoint(out.data, out.length, "out", lse.data, lse.length, "lse", false);
  a.expect_disjoint(out.data, out.length, "out", rows.data, rows.length, "rows", false);
  a.expect_disjoint(lse.data, lse.length, "lse", rows.data, rows.length, "rows", false);
  // The labels are checked when the op runs, before any output is written: an output over
  // them would change them after the check.
  for (auto [t, name] : {std::pair{&out, "out"}, {&lse, "lse"}, {&rows, "rows"}})
    expect_disjoint_from_targets(a, op.a, t->data, t->length, name);
  op.out = out.data, op.lse = lse.data, op.rows = rows.data;
  return op;
}
void CrossEntropyOp::run() const {
  if (!ce_targets_ok(a, kName)) return;
  std::vector<float> norm(static_cast<size_t>(a.n));
  float* per_row = reduction == 0 ? out : rows;
  cross_entropy_forward(a, per_row, norm.data(), lse);
  if (reduction == 0) return;
  out[0] = cross_entropy_reduce(a, per_row, reduction == 1);
}
double CrossEntropyOp::flops() const { return 20.0 * double(a.n) * double(a.c); }
double CrossEntropyOp::bytes() const { return 4.0 * double(a.n) * double(a.c); }
std::string CrossEntropyOp::shapes() const {
  return "[" + std::to_string(a.n) + "," + std::to_string(a.c) + "]";
}

// crossEntropyBackward(logits, n, c, targetIndex|null, targetProb|null, classWeight|null,
//                      labelSmoothing, ignoreIndex, reduction, lse, dout, dlogits, scratch)
CrossEntropyBackwardOp CrossEntropyBackwardOp::parse(Args& a) {
  CrossEntropyBackwardOp op;
  F32 logits;
  op.a = parse_ce(a, &logits);
  op.reduction = static_cast<int>(a.integer(8, "reduction", 0, 2));
  F32 lse = a.f32(9, "lse"), dout = a.f32(10, "dout"), dlogits = a.f32(11, "dlogits");
  F32 scratch = a.f32(12, "scratch");
  a.expect_length(lse.length, op.a.n, "lse", "one per row");
  a.expect_length(dout.length, op.reduction == 0 ? op.a.n : 1, "dout",
                  op.reduction == 0 ? "one per row" : "one value");
  a.expect_length(dlogits.length, logits.length, "dlogits", "same shape as logits");
  a.expect_length(scratch.length, op.a.n, "scratch", "one per row");
  a.expect_disjoint(dlogits.data, dlogits.length, "dlogits", logits.data, logits.length, "logits",
                    false);
  a.expect_disjoint(dlogits.data, dlogits.length, "dlogits", lse.data, lse.length, "lse", false);
  a.expect_disjoint(dlogits.data, dlogits.length, "dlogits", dout.data, dout.length, "dout", false);
  a.expect_disjoint(scratch.data, scratch.length, "scratch", dout.data, dout.length, "dout", false);
  a.expect_disjoint(scratch.data, scratch.length, "scratch", dlogits.data, dlogits.length,
                    "dlogits", false);
  expect_disjoint_from_targets(a, op.a, dlogits.data, dlogits.length, "dlogits");
  expect_disjoint_from_targets(a, op.a, scratch.data, scratch.length, "scratch");
  op.lse = lse.data, op.dout = dout.data, op.dlogits = dlogits.data, op.scratch = scratch.data;
  return op;
}
void CrossEntropyBackwardOp::run() const {
  if (!ce_targets_ok(a, kName)) return;
  const float* per_row = dout;
  if (reduction != 0) {
    cross_entropy_reduce_backward(a, dout[0], reduction == 1, scratch);
    per_row = scratch;
  }
  cross_entropy_backward(a, lse, per_row, dlogits);
}
double CrossEntropyBackwardOp::flops() const { return 20.0 * double(a.n) * double(a.c); }
double CrossEntropyBackwardOp::bytes() const { return 12.0 * double(a.n) * double(a.c); }
std::string CrossEntropyBackwardOp::shapes() const {
  return "[" + std::to_string(a.n) + "," + std::to_string(a.c) + "]";
}

namespace {
// x, t same length; posWeight null or of length c with n divisible by c.
void check_bce_inputs(Args& a, const F32& x, const F32& t, const F32& pw, int64_t c) {
  a.expect_length(t.length, x.length, "target", "same shape as the input");
  if (pw.present) {
    a.expect_length(pw.length, c, "posWeight", "one per class (the last axis)");
    if (x.length % c != 0)
      a.range_error("the input's last axis must have c = " + std::to_string(c) + " elements");
  }
}
}  // namespace

// bceLogits(x, target, posWeight|null, c, loss)
BceLogitsOp BceLogitsOp::parse(Args& a) {
  BceLogitsOp op;
  F32 x = a.f32(0, "x"), t = a.f32(1, "target"), pw = a.f32_or_null(2, "posWeight");
  op.c = a.integer(3, "c", 1, kMaxExtent);
  F32 loss = a.f32(4, "loss");
  check_bce_inputs(a, x, t, pw, op.c);
  a.expect_length(loss.length, x.length, "loss", "same shape as the input");
  a.expect_disjoint(loss.data, loss.length, "loss", x.data, x.length, "x", false);
  a.expect_disjoint(loss.data, loss.length, "loss", t.data, t.length, "target", false);
  op.x = x.data, op.t = t.data, op.pos_weight = pw.data, op.loss = loss.data, op.n = x.length;
  return op;
}
void BceLogitsOp::run() const { bce_logits_forward(x, t, pos_weight, c, loss, n); }
double BceLogitsOp::flops() const { return 10.0 * double(n); }
double BceLogitsOp::bytes() const { return 12.0 * double(n); }
std::string BceLogitsOp::shapes() const { return "n=" + std::to_string(n); }

// bceLogitsBackward(x, target, posWeight|null, c, dloss, dx)
BceLogitsBackwardOp BceLogitsBackwardOp::parse(Args& a) {
  BceLogitsBackwardOp op;
  F32 x = a.f32(0, "x"), t = a.f32(1, "target"), pw = a.f32_or_null(2, "posWeight");
  op.c = a.integer(3, "c", 1, kMaxExtent);
  F32 dloss = a.f32(4, "dloss"), dx = a.f32(5, "dx");
  check_bce_inputs(a, x, t, pw, op.c);
  a.expect_length(dloss.length, x.length, "dloss", "same shape as the input");
  a.expect_length(dx.length, x.length, "dx", "same shape as the input");
  a.expect_disjoint(dx.data, dx.length, "dx", x.data, x.length, "x", false);
  a.expect_disjoint(dx.data, dx.length, "dx", t.data, t.length, "target", false);
  a.expect_disjoint(dx.data, dx.length, "dx", dloss.data, dloss.length, "dloss", false);
  op.x = x.data, op.t = t.data, op.pos_weight = pw.data, op.dloss = dloss.data, op.dx = dx.data;
  op.n = x.length;
  return op;
}
void BceLogitsBackwardOp::run() const { bce_logits_backward(x, t, pos_weight, c, dloss, dx, n); }
double BceLogitsBackwardOp::flops() const { return 10.0 * double(n); }
double BceLogitsBackwardOp::bytes() const { return 16.0 * double(n); }
std::string BceLogitsBackwardOp::shapes() const { return "n=" + std::to_string(n); }

// bce(p, target, loss)
BceOp BceOp::parse(Args& a) {
  BceOp op;
  F32 p = a.f32(0, "p"), t = a.f32(1, "target"), loss = a.f32(2, "loss");
  a.expect_length(t.length, p.length, "target", "same shape as the input");
  a.expect_length(loss.length, p.length, "loss", "same shape as the input");
  a.expect_disjoint(loss.data, loss.length, "loss", p.data, p.length, "p", false);
  a.expect_disjoint(loss.data, loss.length, "loss", t.data, t.length, "target", false);
  op.p = p.data, op.t = t.data, op.loss = loss.data, op.n = p.length;
  return op;
}
void BceOp::run() const { bce_forward(p, t, loss, n); }
double BceOp::flops() const { return 8.0 * double(n); }
double BceOp::bytes() const { return 12.0 * double(n); }
std::string BceOp::shapes() const { return "n=" + std::to_string(n); }

// bceBackward(p, target, dloss, dp)
BceBackwardOp BceBackwardOp::parse(Args& a) {
  BceBackwardOp op;
  F32 p = a.f32(0, "p"), t = a.f32(1, "target"), dloss = a.f32(2, "dloss"), dp = a.f32(3, "dp");
  for (auto [x, name] : {std::pair{&t, "target"}, {&dloss, "dloss"}, {&dp, "dp"}})
    a.expect_length(x->length, p.length, name, "same shape as the input");
  a.expect_disjoint(dp.data, dp.length, "dp", p.data, p.length, "p", false);
  a.expect_disjoint(dp.data, dp.length, "dp", t.data, t.length, "target", false);
  a.expect_disjoint(dp.data, dp.length, "dp", dloss.data, dloss.length, "dloss", false);
  op.p = p.data, op.t = t.data, op.dloss = dloss.data, op.dp = dp.data, op.n = p.length;
  return op;
}
void BceBackwardOp::run() const { bce_backward(p, t, dloss, dp, n); }
double BceBackwardOp::flops() const { return 6.0 * double(n); }
double BceBackwardOp::bytes() const { return 16.0 * double(n); }
std::string BceBackwardOp::shapes() const { return "n=" + std::to_string(n); }

// dropout(x, y, mask, p, state: Float64Array[seedHigh, seedLow, counter])
DropoutOp DropoutOp::parse(Args& a) {
  DropoutOp op;
  F32 x = a.f32(0, "x"), y = a.f32(1, "y"), mask = a.f32(2, "mask");
  op.p = unit_arg(a, 3, "p", true);
  F64 st = a.f64(4, "state");
  a.expect_length(st.length, 3, "state", "seedHigh, seedLow, counter");
  parse_check(a, random_state_problem(st.data));
  a.expect_length(y.length, x.length, "y", "same as 'x'");
  a.expect_length(mask.length, x.length, "mask", "same as 'x'");
  a.expect_disjoint(y.data, y.length, "y", x.data, x.length, "x", true);
  a.expect_disjoint(mask.data, mask.length, "mask", x.data, x.length, "x", false);
  a.expect_disjoint(mask.data, mask.length, "mask", y.data, y.length, "y", false);
  op.x = x.data, op.y = y.data, op.mask = mask.data, op.n = x.length, op.state = st.data;
  return op;
}
void DropoutOp::run() const {
  if (!run_check(kName, random_state_problem(state))) return;
  const uint64_t seed = (static_cast<uint64_t>(state[0]) << 32) ^ static_cast<uint64_t>(state[1]);
  const uint64_t counter = static_cast<uint64_t>(state[2]);
  state[2] += 1;
  // A different stream per call: the counter picks a block of 2^40 hash inputs.
  dropout_forward(x, y, mask, n, p, seed + (counter << 40) + counter * 0x9E3779B97F4A7C15ull);
}
double DropoutOp::flops() const { return 4.0 * double(n); }
double DropoutOp::bytes() const { return 12.0 * double(n); }
std::string DropoutOp::shapes() const { return "n=" + std::to_string(n); }

}  // namespace axon::binding

namespace axon::binding {

// fill(x, value): every element of x (Float32Array or Int32Array) = value.
FillOp FillOp::parse(Args& a) {
  FillOp op;
  Words x = a.words(0, "x");
  if (x.is_int) {
    const int64_t v = a.integer(1, "value", INT32_MIN, INT32_MAX);
    const int32_t i = static_cast<int32_t>(v);
    std::memcpy(&op.word, &i, 4);
  } else {
    const float f = static_cast<float>(a.number(1, "value", true));
    std::memcpy(&op.word, &f, 4);
  }
  op.x = x.data, op.n = x.length;
  return op;
}
void FillOp::run() const { fill(x, n, word); }
double FillOp::flops() const { return 0; }
double FillOp::bytes() const { return 4.0 * double(n); }
std::string FillOp::shapes() const { return "n=" + std::to_string(n); }

// copy(src, dst): same type and length, not overlapping.
CopyOp CopyOp::parse(Args& a) {
  CopyOp op;
  Words s = a.words(0, "src"), d = a.words(1, "dst");
  if (s.is_int != d.is_int) a.type_error("'src' and 'dst' must be typed arrays of the same type");
  a.expect_length(d.length, s.length, "dst", "same as 'src'");
  a.expect_disjoint(d.data, d.length, "dst", s.data, s.length, "src", false);
  op.src = s.data, op.dst = d.data, op.n = s.length;
  return op;
}
void CopyOp::run() const { copy(src, dst, n); }
double CopyOp::flops() const { return 0; }
double CopyOp::bytes() const { return 8.0 * double(n); }
std::string CopyOp::shapes() const { return "n=" + std::to_string(n); }

namespace {
// Row indices are data (a shuffled order JS may rewrite between runs): checked every run.
bool gather_indices_ok(const char* op, const int32_t* indices, int64_t start, int64_t rows,
                       int64_t src_rows) {
  for (int64_t r = start; r < start + rows; ++r)
    if (indices[r] < 0 || indices[r] >= src_rows) {
      set_runtime_error(std::string(op) + ": indices[" + std::to_string(r) + "] = " +
                        std::to_string(indices[r]) + " is outside the " + std::to_string(src_rows) +
                        " rows of 'src' [0, " + std::to_string(src_rows) + ")");
      return false;
    }
  return true;
}
}  // namespace

// gatherRows(src, rowSize, indices, start, rows, dst): dst row r = src row indices[start + r].
GatherRowsOp GatherRowsOp::parse(Args& a) {
  GatherRowsOp op;
  Words src = a.words(0, "src");
  op.row_size = a.integer(1, "rowSize", 1, kMaxExtent);
  I32 idx = a.i32(2, "indices");
  op.start = a.integer(3, "start", 0, kMaxExtent);
  op.rows = a.integer(4, "rows", 0, kMaxExtent);
  Words dst = a.words(5, "dst");
  if (src.is_int != dst.is_int)
    a.type_error("'src' and 'dst' must be typed arrays of the same type");
  if (src.length % op.row_size != 0)
    a.range_error("'src' has " + std::to_string(src.length) +
                  " elements, not a whole number of rows of " + std::to_string(op.row_size));
  const int64_t src_rows = src.length / op.row_size;
  a.expect_min_length(idx.length, a.add(op.start, op.rows, "indices"), "indices", "start + rows");
  a.expect_length(dst.length, a.mul(op.rows, op.row_size, "dst"), "dst", "rows * rowSize");
  a.expect_disjoint(dst.data, dst.length, "dst", src.data, src.length, "src", false);
  // Indices are checked when the op runs, then read while rows are written: not into them.
  a.expect_disjoint(dst.data, dst.length, "dst", idx.data, idx.length, "indices", false);
  op.src = src.data, op.dst = dst.data, op.indices = idx.data, op.src_rows = src_rows;
  return op;
}
void GatherRowsOp::run() const {
  if (!gather_indices_ok(kName, indices, start, rows, src_rows)) return;
  gather_rows(src, row_size, indices, start, rows, dst);
}
double GatherRowsOp::flops() const { return 0; }
double GatherRowsOp::bytes() const { return 8.0 * double(rows) * double(row_size); }
std::string GatherRowsOp::shapes() const {
  return std::to_string(rows) + " x " + std::to_string(row_size);
}

// gatherRowsAt(src, rowSize, indices, regs: Float64Array (regs[0] = start), rows, dst)
GatherRowsAtOp GatherRowsAtOp::parse(Args& a) {
  GatherRowsAtOp op;
  Words src = a.words(0, "src");
  op.row_size = a.integer(1, "rowSize", 1, kMaxExtent);
  I32 idx = a.i32(2, "indices");
  F64 regs = a.f64(3, "regs");
  op.rows = a.integer(4, "rows", 0, kMaxExtent);
  Words dst = a.words(5, "dst");
  if (src.is_int != dst.is_int)
    a.type_error("'src' and 'dst' must be typed arrays of the same type");
  if (src.length % op.row_size != 0) a.range_error("'src' is not a whole number of rows");
  a.expect_min_length(regs.length, 1, "regs", "regs[0] is the start position");
  a.expect_length(dst.length, a.mul(op.rows, op.row_size, "dst"), "dst", "rows * rowSize");
  a.expect_disjoint(dst.data, dst.length, "dst", src.data, src.length, "src", false);
  // The indices and the start register are checked when the op runs, then read while rows
  // are written: not into them (regs holds 8-byte cells).
  a.expect_disjoint(dst.data, dst.length, "dst", idx.data, idx.length, "indices", false);
  a.expect_disjoint(dst.data, dst.length, "dst", regs.data, regs.length * 2, "regs", false);
  op.src = src.data, op.dst = dst.data, op.indices = idx.data, op.n_indices = idx.length;
  op.src_rows = src.length / op.row_size, op.regs = regs.data;
  return op;
}
void GatherRowsAtOp::run() const {
  const double start_d = regs[0];
  if (!(start_d >= 0 && start_d + double(rows) <= double(n_indices)))
    return set_runtime_error("gatherRowsAt: start " + std::to_string(start_d) + " + " +
                             std::to_string(rows) + " rows runs past the " +
                             std::to_string(n_indices) + " indices");
  const int64_t start = static_cast<int64_t>(start_d);
  if (!gather_indices_ok(kName, indices, start, rows, src_rows)) return;
  gather_rows(src, row_size, indices, start, rows, dst);
}
double GatherRowsAtOp::flops() const { return 0; }
double GatherRowsAtOp::bytes() const { return 8.0 * double(rows) * double(row_size); }
std::string GatherRowsAtOp::shapes() const {
  return std::to_string(rows) + " x " + std::to_string(row_size);
}

// putRowsAt(src, rowSize, regs, dst)
PutRowsAtOp PutRowsAtOp::parse(Args& a) {
  PutRowsAtOp op;
  Words src = a.words(0, "src");
  op.row_size = a.integer(1, "rowSize", 1, kMaxExtent);
  F64 regs = a.f64(2, "regs");
  Words dst = a.words(3, "dst");
  if (src.is_int != dst.is_int)
    a.type_error("'src' and 'dst' must be typed arrays of the same type");
  if (src.length % op.row_size != 0 || dst.length % op.row_size != 0)
    a.range_error("'src' and 'dst' must be whole numbers of rows of " +
                  std::to_string(op.row_size));
  a.expect_min_length(regs.length, 1, "regs", "regs[0] is the first row");
  a.expect_disjoint(dst.data, dst.length, "dst", src.data, src.length, "src", false);
  op.src = src.data, op.dst = dst.data, op.rows = src.length / op.row_size;
  op.dst_rows = dst.length / op.row_size, op.regs = regs.data;
  return op;
}
void PutRowsAtOp::run() const {
  const double start = regs[0];
  if (!(start >= 0 && start + double(rows) <= double(dst_rows)))
    return set_runtime_error("putRowsAt: rows " + std::to_string(start) + ".." +
                             std::to_string(start + double(rows)) + " fall outside the " +
                             std::to_string(dst_rows) + " rows of 'dst'");
  copy(src, static_cast<uint32_t*>(dst) + static_cast<int64_t>(start) * row_size, rows * row_size);
}
double PutRowsAtOp::flops() const { return 0; }
double PutRowsAtOp::bytes() const { return 8.0 * double(rows) * double(row_size); }
std::string PutRowsAtOp::shapes() const {
  return std::to_string(rows) + " x " + std::to_string(row_size);
}

// logScalar(src, dst, regs[, stopOnNonFinite]): dst[regs[1]] = src[0]
LogScalarOp LogScalarOp::parse(Args& a) {
  LogScalarOp op;
  F32 src = a.f32(0, "src"), dst = a.f32(1, "dst");
  F64 regs = a.f64(2, "regs");
  op.stop_on_nonfinite = a.optional_boolean(3, "stopOnNonFinite", false);
  a.expect_min_length(src.length, 1, "src", "the value to log");
  a.expect_min_length(regs.length, 2, "regs", "regs[1] is the slot");
  a.expect_disjoint(dst.data, dst.length, "dst", src.data, src.length, "src", false);
  op.src = src.data, op.dst = dst.data, op.n = dst.length, op.regs = regs.data;
  return op;
}
void LogScalarOp::run() const {
  const double slot = regs[1];
  if (!(slot >= 0 && slot < double(n)))
    return set_runtime_error("logScalar: slot regs[1] = " + std::to_string(slot) +
                             " is outside the " + std::to_string(n) + " entries of 'dst' [0, " +
                             std::to_string(n) + ")");
  const float v = src[0];
  dst[static_cast<int64_t>(slot)] = v;
  // The error stops a replay here, after the loss is logged and before the step's backward
  // pass and optimizer update would spread the NaN/Inf into the weights.
  if (stop_on_nonfinite && !std::isfinite(v))
    set_runtime_error(std::string("logScalar: non-finite loss ") +
                      (std::isnan(v) ? "NaN"
                       : v > 0       ? "Infinity"
                                     : "-Infinity") +
                      " at step " + std::to_string(static_cast<int64_t>(slot)));
}
double LogScalarOp::flops() const { return 0; }
double LogScalarOp::bytes() const { return 8; }
std::string LogScalarOp::shapes() const { return "1"; }

// confusionUpdate(scores, n, c, labels|null, labelFloats|null, labelCols, threshold, matrix,
//                 skipped)
ConfusionOp ConfusionOp::parse(Args& a) {
  ConfusionOp op;
  F32 scores = a.f32(0, "scores");
  op.n = a.integer(1, "n", 0, kMaxExtent);
  op.c = a.integer(2, "c", 1, 1 << 20);
  I32 labels = a.i32_or_null(3, "labels");
  F32 lf = a.f32_or_null(4, "labelFloats");
  op.label_cols = a.integer(5, "labelCols", 1, 1 << 20);
  op.threshold = static_cast<float>(a.number(6, "threshold"));
  F64 m = a.f64(7, "matrix");
  F64 sk = a.f64(8, "skipped");
  a.expect_length(scores.length, a.mul(op.n, op.c, "scores"), "scores", "n * c");
  if (labels.present == lf.present) a.type_error("pass exactly one of 'labels' and 'labelFloats'");
  if (labels.present) {
    a.expect_length(labels.length, op.n, "labels", "one per row");
  } else {
    if (op.label_cols != 1 && op.label_cols != op.c)
      a.range_error("labelCols must be 1 or c = " + std::to_string(op.c) + ", got " +
                    std::to_string(op.label_cols));
    a.expect_length(lf.length, a.mul(op.n, op.label_cols, "labelFloats"), "labelFloats",
                    "n * labelCols");
  }
  const int64_t cc = std::max<int64_t>(op.c, 2);
  a.expect_length(m.length, cc * cc, "matrix", "max(c, 2)^2 counts");
  a.expect_length(sk.length, 1, "skipped", "one counter");
  op.scores = scores.data, op.labels = labels.data, op.label_floats = lf.data;
  op.matrix = m.data, op.skipped = sk.data;
  return op;
}
void ConfusionOp::run() const {
  confusion_update(scores, n, c, labels, label_floats, label_cols, threshold, matrix, skipped);
}
double ConfusionOp::flops() const { return double(n) * double(c); }
double ConfusionOp::bytes() const { return 4.0 * double(n) * double(c); }
std::string ConfusionOp::shapes() const {
  return "[" + std::to_string(n) + "," + std::to_string(c) + "]";
}

// topKUpdate(scores, n, c, labels, k, counts: Float64Array(2))
TopKOp TopKOp::parse(Args& a) {
  TopKOp op;
  F32 scores = a.f32(0, "scores");
  op.n = a.integer(1, "n", 0, kMaxExtent);
  op.c = a.integer(2, "c", 1, 1 << 20);
  I32 labels = a.i32(3, "labels");
  op.k = a.integer(4, "k", 1, 1 << 20);
  F64 counts = a.f64(5, "counts");
  a.expect_length(scores.length, a.mul(op.n, op.c, "scores"), "scores", "n * c");
  a.expect_length(labels.length, op.n, "labels", "one per row");
  a.expect_length(counts.length, 2, "counts", "correct, total");
  op.scores = scores.data, op.labels = labels.data, op.counts = counts.data;
  return op;
}
void TopKOp::run() const { top_k_update(scores, n, c, labels, k, counts); }
double TopKOp::flops() const { return double(n) * double(c); }
double TopKOp::bytes() const { return 4.0 * double(n) * double(c); }
std::string TopKOp::shapes() const {
  return "[" + std::to_string(n) + "," + std::to_string(c) + "] k=" + std::to_string(k);
}

// regressionUpdate(pred, target, stats: Float64Array(5))
RegressionStatsOp RegressionStatsOp::parse(Args& a) {
  RegressionStatsOp op;
  F32 p = a.f32(0, "pred"), t = a.f32(1, "target");
  F64 st = a.f64(2, "stats");
  a.expect_length(t.length, p.length, "target", "same as 'pred'");
  a.expect_length(st.length, 5, "stats",
                  "count, squared error, absolute error, sum, sum of squares");
  op.pred = p.data, op.target = t.data, op.n = p.length, op.stats = st.data;
  return op;
}
void RegressionStatsOp::run() const { regression_update(pred, target, n, stats); }
double RegressionStatsOp::flops() const { return 6.0 * double(n); }
double RegressionStatsOp::bytes() const { return 8.0 * double(n); }
std::string RegressionStatsOp::shapes() const { return "n=" + std::to_string(n); }

}  // namespace axon::binding

namespace axon::binding {

RandomCropFlipOp RandomCropFlipOp::parse(Args& a) {
  RandomCropFlipOp op;
  F32 x = a.f32(0, "x");
  const auto v = a.int_list(1, "geometry", 7, 0, int64_t{1} << 31);
  op.n = v[0], op.c = v[1], op.h = v[2], op.w = v[3], op.oh = v[4], op.ow = v[5], op.pad = v[6];
  op.flip_p = static_cast<float>(a.number(2, "flipP"));
  op.random = a.boolean(3, "random");
  F64 st = a.f64(4, "state");
  F32 y = a.f32(5, "y");
  if (!(op.flip_p >= 0 && op.flip_p <= 1)) a.range_error("flipP must be in [0, 1]");
  if (op.c < 1 || op.h < 1 || op.w < 1 || op.oh < 1 || op.ow < 1)
    a.range_error("channels and sizes must be >= 1");
  if (op.oh > op.h + 2 * op.pad || op.ow > op.w + 2 * op.pad)
    a.range_error("the crop " + std::to_string(op.oh) + "x" + std::to_string(op.ow) +
                  " is larger than the padded image " + std::to_string(op.h + 2 * op.pad) + "x" +
                  std::to_string(op.w + 2 * op.pad));
  a.expect_length(st.length, 3, "state", "seedHigh, seedLow, counter");
  parse_check(a, random_state_problem(st.data));
  a.expect_length(x.length, a.mul(a.mul(a.mul(op.n, op.c, "x"), op.h, "x"), op.w, "x"), "x",
                  "n*c*h*w");
  a.expect_length(y.length, a.mul(a.mul(a.mul(op.n, op.c, "y"), op.oh, "y"), op.ow, "y"), "y",
                  "n*c*outH*outW");
  a.expect_disjoint(y.data, y.length, "y", x.data, x.length, "x", false);
  op.x = x.data, op.y = y.data, op.state = st.data;
  return op;
}
void RandomCropFlipOp::run() const {
  if (!run_check(kName, random_state_problem(state))) return;
  const uint64_t seed = (static_cast<uint64_t>(state[0]) << 32) ^ static_cast<uint64_t>(state[1]);
  const uint64_t counter = static_cast<uint64_t>(state[2]);
  if (random) state[2] += 1;
  random_crop_flip(x, y, n, c, h, w, oh, ow, pad, flip_p, random,
                   seed + (counter << 40) + counter * 0x9E3779B97F4A7C15ull);
}
double RandomCropFlipOp::flops() const { return 0; }
double RandomCropFlipOp::bytes() const { return 4.0 * double(n * c * (h * w + oh * ow)); }
std::string RandomCropFlipOp::shapes() const {
  return std::to_string(n) + "x" + std::to_string(c) + "x" + std::to_string(h) + "x" +
         std::to_string(w) + "->" + std::to_string(oh) + "x" + std::to_string(ow);
}

}  // namespace axon::binding

namespace axon::binding {

namespace {

RnnArgs rnn_args(Args& a, size_t i) {
  const auto v = a.int_list(i, "dims", 6, 0, int64_t{1} << 31);
  RnnArgs r;
  if (v[0] >= static_cast<int64_t>(RnnMode::Count)) a.range_error("dims[0] (mode) must be 0..3");
  r.mode = static_cast<RnnMode>(v[0]);
  r.steps = v[1], r.batch = v[2], r.input = v[3], r.hidden = v[4], r.reverse = v[5] != 0;
  if (r.hidden < 1 || r.input < 1) a.range_error("input and hidden sizes must be >= 1");
  // Every size the op computes, checked for overflow before any length is compared with it.
  const int64_t g = a.mul(rnn_gate_count(r.mode), r.hidden, "gates*hidden");
  a.mul(g, r.input, "wIh");
  a.mul(g, r.hidden, "wHh");
  a.mul(a.mul(r.steps, r.batch, "x"), r.input, "x");
  a.mul(a.mul(a.mul(r.steps, r.batch, "workspace"), g, "workspace"), 3, "workspace");
  return r;
}

std::string rnn_name(const RnnArgs& r) {
  static const char* names[] = {"lstm", "gru", "rnn_tanh", "rnn_relu"};
  return std::string(names[static_cast<int>(r.mode)]) + " T" + std::to_string(r.steps) + " N" +
         std::to_string(r.batch) + " " + std::to_string(r.input) + "->" + std::to_string(r.hidden) +
         (r.reverse ? " reverse" : "");
}

double rnn_flops(const RnnArgs& r) {
  const double g = double(rnn_gate_count(r.mode));
  return 2.0 * double(r.steps) * double(r.batch) * g * double(r.hidden) *
         double(r.input + r.hidden);
}

// Lengths are batch data: checked when the op runs (a recorded step gathers new ones).
bool lengths_ok(const RnnArgs& r, const int32_t* lengths, const char* op) {
  if (!lengths) return true;
  for (int64_t i = 0; i < r.batch; ++i)
    if (lengths[i] < 0 || lengths[i] > r.steps) {
      set_runtime_error(std::string(op) + ": lengths[" + std::to_string(i) +
                        "] = " + std::to_string(lengths[i]) + " is outside [0, " +
                        std::to_string(r.steps) + "] steps");
      return false;
    }
  return true;
}

}  // namespace

RnnOp RnnOp::parse(Args& a) {
  RnnOp op;
  op.a = rnn_args(a, 8);
  const RnnArgs& r = op.a;
  const int64_t g = rnn_gate_count(r.mode) * r.hidden, nh = r.batch * r.hidden;
  const std::string why = rnn_name(r);
  F32 x = a.f32(0, "x"), wi = a.f32(1, "wIh"), wh = a.f32(2, "wHh");
  F32 bi = a.f32_or_null(3, "bIh"), bh = a.f32_or_null(4, "bHh");
  F32 h0 = a.f32_or_null(5, "h0"), c0 = a.f32_or_null(6, "c0");
  I32 len = a.i32_or_null(7, "lengths");
  F32 y = a.f32(9, "y"), hn = a.f32(10, "hn"), cn = a.f32_or_null(11, "cn"),
      ws = a.f32(12, "workspace");
  a.expect_length(x.length, r.steps * r.batch * r.input, "x", "steps*batch*input for " + why);
  a.expect_length(wi.length, g * r.input, "wIh", "gates*hidden x input for " + why);
  a.expect_length(wh.length, g * r.hidden, "wHh", "gates*hidden x hidden for " + why);
  if (bi.present) a.expect_length(bi.length, g, "bIh", "gates*hidden");
  if (bh.present) a.expect_length(bh.length, g, "bHh", "gates*hidden");
  if (h0.present) a.expect_length(h0.length, nh, "h0", "batch*hidden");
  if (c0.present) a.expect_length(c0.length, nh, "c0", "batch*hidden");
  if (len.present) a.expect_length(len.length, r.batch, "lengths", "one per batch row");
  a.expect_length(y.length, r.steps * nh, "y", "steps*batch*hidden");
  a.expect_length(hn.length, nh, "hn", "batch*hidden");
  if (r.mode == RnnMode::Lstm && !cn.present) a.type_error("an LSTM needs 'cn'");
  if (cn.present) a.expect_length(cn.length, nh, "cn", "batch*hidden");
  a.expect_length(ws.length, rnn_workspace_size(r), "workspace", "rnnWorkspaceSize for " + why);
  {
    // Every output apart from every input and from each other.
    const void* ins[] = {x.data, wi.data, wh.data, bi.data, bh.data, h0.data, c0.data, len.data};
    const int64_t in_len[] = {x.length,  wi.length, wh.length, bi.length,
                              bh.length, h0.length, c0.length, len.length};
    const char* in_names[] = {"x", "wIh", "wHh", "bIh", "bHh", "h0", "c0", "lengths"};
    F32 outs[] = {y, hn, cn, ws};
    const char* out_names[] = {"y", "hn", "cn", "workspace"};
    for (int o = 0; o < 4; ++o) {
      if (!outs[o].present) continue;
      for (int i = 0; i < 8; ++i)
        if (ins[i])
          a.expect_disjoint(outs[o].data, outs[o].length, out_names[o], ins[i], in_len[i],
                            in_names[i], false);
      for (int p = o + 1; p < 4; ++p)
        if (outs[p].present)
          a.expect_disjoint(outs[o].data, outs[o].length, out_names[o], outs[p].data,
                            outs[p].length, out_names[p], false);
    }
  }
  op.x = x.data, op.w_ih = wi.data, op.w_hh = wh.data;
  op.b_ih = bi.present ? bi.data : nullptr, op.b_hh = bh.present ? bh.data : nullptr;
  op.h0 = h0.present ? h0.data : nullptr, op.c0 = c0.present ? c0.data : nullptr;
  op.lengths = len.present ? len.data : nullptr;
  op.y = y.data, op.hn = hn.data, op.cn = cn.present ? cn.data : nullptr, op.ws = ws.data;
  return op;
}
void RnnOp::run() const {
  if (!lengths_ok(a, lengths, "rnn")) return;
  rnn_forward(a, x, w_ih, w_hh, b_ih, b_hh, h0, c0, lengths, y, hn, cn, ws);
}
double RnnOp::flops() const { return rnn_flops(a); }
double RnnOp::bytes() const { return 4.0 * double(rnn_workspace_size(a)); }
std::string RnnOp::shapes() const { return rnn_name(a); }

RnnBackwardOp RnnBackwardOp::parse(Args& a) {
  RnnBackwardOp op;
  op.a = rnn_args(a, 5);
  const RnnArgs& r = op.a;
  const int64_t g = rnn_gate_count(r.mode) * r.hidden, nh = r.batch * r.hidden;
  const std::string why = rnn_name(r);
  F32 x = a.f32(0, "x"), wi = a.f32(1, "wIh"), wh = a.f32(2, "wHh");
  I32 len = a.i32_or_null(3, "lengths");
  F32 ws = a.f32(4, "workspace");
  F32 dy = a.f32_or_null(6, "dy"), dhn = a.f32_or_null(7, "dhn"), dcn = a.f32_or_null(8, "dcn");
  F32 dx = a.f32_or_null(9, "dx"), dwi = a.f32_or_null(10, "dwIh"), dwh = a.f32_or_null(11, "dwHh");
  F32 dbi = a.f32_or_null(12, "dbIh"), dbh = a.f32_or_null(13, "dbHh");
  F32 dh0 = a.f32_or_null(14, "dh0"), dc0 = a.f32_or_null(15, "dc0");
  F32 sc = a.f32(16, "scratch");
  a.expect_length(x.length, r.steps * r.batch * r.input, "x", "steps*batch*input for " + why);
  a.expect_length(wi.length, g * r.input, "wIh", "gates*hidden x input for " + why);
  a.expect_length(wh.length, g * r.hidden, "wHh", "gates*hidden x hidden for " + why);
  if (len.present) a.expect_length(len.length, r.batch, "lengths", "one per batch row");
  a.expect_length(ws.length, rnn_workspace_size(r), "workspace", "rnnWorkspaceSize for " + why);
  if (dy.present) a.expect_length(dy.length, r.steps * nh, "dy", "steps*batch*hidden");
  if (dhn.present) a.expect_length(dhn.length, nh, "dhn", "batch*hidden");
  if (dcn.present) a.expect_length(dcn.length, nh, "dcn", "batch*hidden");
  if (dx.present) a.expect_length(dx.length, x.length, "dx", "same as 'x'");
  if (dwi.present) a.expect_length(dwi.length, wi.length, "dwIh", "same as 'wIh'");
  if (dwh.present) a.expect_length(dwh.length, wh.length, "dwHh", "same as 'wHh'");
  if (dbi.present) a.expect_length(dbi.length, g, "dbIh", "gates*hidden");
  if (dbh.present) a.expect_length(dbh.length, g, "dbHh", "gates*hidden");
  if (dh0.present) a.expect_length(dh0.length, nh, "dh0", "batch*hidden");
  if (dc0.present) a.expect_length(dc0.length, nh, "dc0", "batch*hidden");
  a.expect_length(sc.length, rnn_scratch_size(r), "scratch", "rnnScratchSize for " + why);
  const void* ins[] = {x.data, wi.data, wh.data, ws.data, dy.data, dhn.data, dcn.data, len.data};
  const int64_t in_len[] = {x.length,  wi.length,  wh.length,  ws.length,
                            dy.length, dhn.length, dcn.length, len.length};
  const char* in_names[] = {"x", "wIh", "wHh", "workspace", "dy", "dhn", "dcn", "lengths"};
  F32 outs[] = {dx, dwi, dwh, dbi, dbh, dh0, dc0, sc};
  const char* out_names[] = {"dx", "dwIh", "dwHh", "dbIh", "dbHh", "dh0", "dc0", "scratch"};
  for (int o = 0; o < 8; ++o) {
    if (!outs[o].present) continue;
    for (int i = 0; i < 8; ++i)
      if (ins[i])
        a.expect_disjoint(outs[o].data, outs[o].length, out_names[o], ins[i], in_len[i],
                          in_names[i], false);
    for (int p = o + 1; p < 8; ++p)
      if (outs[p].present)
        a.expect_disjoint(outs[o].data, outs[o].length, out_names[o], outs[p].data, outs[p].length,
                          out_names[p], false);
  }
  op.x = x.data, op.w_ih = wi.data, op.w_hh = wh.data, op.ws = ws.data;
  op.lengths = len.present ? len.data : nullptr;
  op.dy = dy.present ? dy.data : nullptr, op.dhn = dhn.present ? dhn.data : nullptr;
  op.dcn = dcn.present ? dcn.data : nullptr;
  op.dx = dx.present ? dx.data : nullptr, op.dw_ih = dwi.present ? dwi.data : nullptr;
  op.dw_hh = dwh.present ? dwh.data : nullptr, op.db_ih = dbi.present ? dbi.data : nullptr;
  op.db_hh = dbh.present ? dbh.data : nullptr, op.dh0 = dh0.present ? dh0.data : nullptr;
  op.dc0 = dc0.present ? dc0.data : nullptr, op.scratch = sc.data;
  return op;
}
void RnnBackwardOp::run() const {
  if (!lengths_ok(a, lengths, "rnnBackward")) return;
  rnn_backward(a, x, w_ih, w_hh, lengths, ws, dy, dhn, dcn, dx, dw_ih, dw_hh, db_ih, db_hh, dh0,
               dc0, scratch);
}
double RnnBackwardOp::flops() const { return 2.0 * rnn_flops(a); }
double RnnBackwardOp::bytes() const { return 8.0 * double(rnn_workspace_size(a)); }
std::string RnnBackwardOp::shapes() const { return rnn_name(a); }

}  // namespace axon::binding

namespace axon::binding {

namespace {

// Tokens are batch data (a recorded step gathers new ones each step), so they are checked
// when the op runs, naming the first bad one.
bool tokens_ok(const char* op, const int32_t* tokens, int64_t rows, int64_t steps, int64_t vocab) {
  for (int64_t i = 0; i < rows * steps; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab) {
      set_runtime_error(std::string(op) + ": token " + std::to_string(tokens[i]) + " at [" +
                        std::to_string(i / std::max<int64_t>(steps, 1)) + ", " +
                        std::to_string(i % std::max<int64_t>(steps, 1)) +
                        "] is outside the vocabulary of " + std::to_string(vocab) +
                        " (valid ids 0.." + std::to_string(vocab - 1) + ")");
      return false;
    }
  return true;
}

struct EmbeddingDims {
  int64_t rows, steps;
  bool time_major;
};

EmbeddingDims embedding_dims(Args& a, size_t i) {
  const auto v = a.int_list(i, "dims", 3, 0, kMaxExtent);
  if (v[2] > 1) a.range_error("dims[2] (timeMajor) must be 0 or 1");
  return {v[0], v[1], v[2] == 1};
}

int64_t vocab_of(Args& a, int64_t length, int64_t dim, const char* name) {
  if (length % dim != 0)
    a.range_error(std::string("'") + name + "' has " + std::to_string(length) +
                  " elements, not a whole number of rows of " + std::to_string(dim));
  return length / dim;
}

}  // namespace

EmbeddingOp EmbeddingOp::parse(Args& a) {
  EmbeddingOp op;
  F32 w = a.f32(0, "weight");
  op.dim = a.integer(1, "dim", 1, kMaxExtent);
  I32 tok = a.i32(2, "tokens");
  const EmbeddingDims d = embedding_dims(a, 3);
  F32 out = a.f32(4, "out");
  op.vocab = vocab_of(a, w.length, op.dim, "weight");
  const int64_t n = a.mul(d.rows, d.steps, "tokens");
  a.expect_length(tok.length, n, "tokens", "rows * steps");
  a.expect_length(out.length, a.mul(n, op.dim, "out"), "out", "rows * steps * dim");
  a.expect_disjoint(out.data, out.length, "out", w.data, w.length, "weight", false);
  a.expect_disjoint(out.data, out.length, "out", tok.data, tok.length, "tokens", false);
  op.weight = w.data, op.tokens = tok.data, op.out = out.data;
  op.rows = d.rows, op.steps = d.steps, op.time_major = d.time_major;
  return op;
}
void EmbeddingOp::run() const {
  if (!tokens_ok("embedding", tokens, rows, steps, vocab)) return;
  embedding_forward(weight, vocab, dim, tokens, rows, steps, time_major, out);
}
double EmbeddingOp::flops() const { return 0; }
double EmbeddingOp::bytes() const { return 8.0 * double(rows * steps * dim); }
std::string EmbeddingOp::shapes() const {
  return std::to_string(rows) + "x" + std::to_string(steps) + " of " + std::to_string(vocab) + "x" +
         std::to_string(dim);
}

EmbeddingBackwardOp EmbeddingBackwardOp::parse(Args& a) {
  EmbeddingBackwardOp op;
  F32 dout = a.f32(0, "dout");
  op.dim = a.integer(1, "dim", 1, kMaxExtent);
  I32 tok = a.i32(2, "tokens");
  const EmbeddingDims d = embedding_dims(a, 3);
  op.padding_idx = a.integer(4, "paddingIdx", -1, kMaxExtent);
  F32 dw = a.f32(5, "dweight");
  op.vocab = vocab_of(a, dw.length, op.dim, "dweight");
  const int64_t n = a.mul(d.rows, d.steps, "tokens");
  a.expect_length(tok.length, n, "tokens", "rows * steps");
  a.expect_length(dout.length, a.mul(n, op.dim, "dout"), "dout", "rows * steps * dim");
  a.expect_disjoint(dw.data, dw.length, "dweight", dout.data, dout.length, "dout", false);
  a.expect_disjoint(dw.data, dw.length, "dweight", tok.data, tok.length, "tokens", false);
  op.dout = dout.data, op.tokens = tok.data, op.dweight = dw.data;
  op.rows = d.rows, op.steps = d.steps, op.time_major = d.time_major;
  return op;
}
void EmbeddingBackwardOp::run() const {
  if (!tokens_ok("embeddingBackward", tokens, rows, steps, vocab)) return;
  embedding_backward(dout, dim, tokens, rows, steps, time_major, padding_idx, vocab, dweight);
}
double EmbeddingBackwardOp::flops() const { return double(rows * steps * dim); }
double EmbeddingBackwardOp::bytes() const { return 12.0 * double(rows * steps * dim); }
std::string EmbeddingBackwardOp::shapes() const {
  return std::to_string(rows) + "x" + std::to_string(steps) + " into " + std::to_string(vocab) +
         "x" + std::to_string(dim);
}

EmbeddingRenormOp EmbeddingRenormOp::parse(Args& a) {
  EmbeddingRenormOp op;
  F32 w = a.f32(0, "weight");
  op.dim = a.integer(1, "dim", 1, kMaxExtent);
  I32 tok = a.i32(2, "tokens");
  op.max_norm = static_cast<float>(a.number(3, "maxNorm"));
  op.norm_type = static_cast<float>(a.number(4, "normType", true));
  if (!(op.max_norm > 0)) a.range_error("maxNorm must be > 0");
  if (!(op.norm_type > 0)) a.range_error("normType must be > 0 (or Infinity)");
  op.vocab = vocab_of(a, w.length, op.dim, "weight");
  a.expect_disjoint(w.data, w.length, "weight", tok.data, tok.length, "tokens", false);
  op.weight = w.data, op.tokens = tok.data, op.n = tok.length;
  return op;
}
void EmbeddingRenormOp::run() const {
  if (!tokens_ok("embeddingRenorm", tokens, 1, n, vocab)) return;
  embedding_renorm(weight, vocab, dim, tokens, n, max_norm, norm_type);
}
double EmbeddingRenormOp::flops() const { return 2.0 * double(n * dim); }
double EmbeddingRenormOp::bytes() const { return 8.0 * double(n * dim); }
std::string EmbeddingRenormOp::shapes() const {
  return std::to_string(n) + " tokens of " + std::to_string(vocab) + "x" + std::to_string(dim);
}

SequenceLengthsOp SequenceLengthsOp::parse(Args& a) {
  SequenceLengthsOp op;
  I32 tok = a.i32(0, "tokens");
  op.rows = a.integer(1, "rows", 0, kMaxExtent);
  op.steps = a.integer(2, "steps", 0, int64_t{1} << 31);
  op.pad = static_cast<int32_t>(a.integer(3, "pad", INT32_MIN, INT32_MAX));
  I32 len = a.i32(4, "lengths");
  a.expect_length(tok.length, a.mul(op.rows, op.steps, "tokens"), "tokens", "rows * steps");
  a.expect_length(len.length, op.rows, "lengths", "one per row");
  a.expect_disjoint(len.data, len.length, "lengths", tok.data, tok.length, "tokens", false);
  op.tokens = tok.data, op.lengths = len.data;
  return op;
}
void SequenceLengthsOp::run() const { sequence_lengths(tokens, rows, steps, pad, lengths); }
double SequenceLengthsOp::flops() const { return 0; }
double SequenceLengthsOp::bytes() const { return 4.0 * double(rows * steps); }
std::string SequenceLengthsOp::shapes() const {
  return std::to_string(rows) + "x" + std::to_string(steps);
}

}  // namespace axon::binding

namespace axon::binding {

namespace {

struct PoolDims {
  int64_t steps, batch, dim;
  bool time_major;
  SequencePool mode;
};

PoolDims pool_dims(Args& a, size_t i) {
  const auto v = a.int_list(i, "dims", 5, 0, kMaxExtent);
  if (v[3] > 1) a.range_error("dims[3] (timeMajor) must be 0 or 1");
  if (v[4] >= static_cast<int64_t>(SequencePool::Count))
    a.range_error("dims[4] (mode) must be 0 (last) or 1 (mean)");
  if (v[2] < 1) a.range_error("dims[2] (features) must be >= 1");
  return {v[0], v[1], v[2], v[3] == 1, static_cast<SequencePool>(v[4])};
}

bool pool_lengths_ok(const char* op, const int32_t* lengths, int64_t batch, int64_t steps) {
  if (!lengths) return true;
  for (int64_t r = 0; r < batch; ++r)
    if (lengths[r] < 0 || lengths[r] > steps) {
      set_runtime_error(std::string(op) + ": lengths[" + std::to_string(r) +
                        "] = " + std::to_string(lengths[r]) + " is outside [0, " +
                        std::to_string(steps) + "] steps");
      return false;
    }
  return true;
}

}  // namespace

namespace {

// Both directions read (pooled or sequence input, dims, lengths, sequence or pooled output):
// the sequence side is steps x batch x features, the pooled side batch x features.
struct PoolArgs {
  PoolDims d;
  F32 in, out;
  I32 len;
};
PoolArgs pool_args(Args& a, const char* in_name, const char* out_name, bool sequence_in) {
  PoolArgs p;
  p.in = a.f32(0, in_name);
  p.d = pool_dims(a, 1);
  p.len = a.i32_or_null(2, "lengths");
  p.out = a.f32(3, out_name);
  const F32& seq = sequence_in ? p.in : p.out;
  const F32& pooled = sequence_in ? p.out : p.in;
  const char* seq_name = sequence_in ? in_name : out_name;
  const char* pooled_name = sequence_in ? out_name : in_name;
  a.expect_length(seq.length, a.mul(a.mul(p.d.steps, p.d.batch, seq_name), p.d.dim, seq_name),
                  seq_name, "steps * batch * features");
  if (p.len.present) a.expect_length(p.len.length, p.d.batch, "lengths", "one per batch row");
  a.expect_length(pooled.length, a.mul(p.d.batch, p.d.dim, pooled_name), pooled_name,
                  "batch * features");
  a.expect_disjoint(p.out.data, p.out.length, out_name, p.in.data, p.in.length, in_name, false);
  if (p.len.present)
    a.expect_disjoint(p.out.data, p.out.length, out_name, p.len.data, p.len.length, "lengths",
                      false);
  return p;
}

}  // namespace

SequencePoolOp SequencePoolOp::parse(Args& a) {
  const PoolArgs p = pool_args(a, "x", "out", true);
  SequencePoolOp op;
  op.x = p.in.data, op.lengths = p.len.present ? p.len.data : nullptr, op.out = p.out.data;
  op.steps = p.d.steps, op.batch = p.d.batch, op.dim = p.d.dim, op.time_major = p.d.time_major;
  op.mode = p.d.mode;
  return op;
}
void SequencePoolOp::run() const {
  if (!pool_lengths_ok("sequencePool", lengths, batch, steps)) return;
  sequence_pool_forward(x, steps, batch, dim, time_major, mode, lengths, out);
}
double SequencePoolOp::flops() const { return double(steps * batch * dim); }
double SequencePoolOp::bytes() const { return 4.0 * double(steps * batch * dim); }
std::string SequencePoolOp::shapes() const {
  return std::to_string(steps) + "x" + std::to_string(batch) + "x" + std::to_string(dim);
}

SequencePoolBackwardOp SequencePoolBackwardOp::parse(Args& a) {
  const PoolArgs p = pool_args(a, "dout", "dx", false);
  SequencePoolBackwardOp op;
  op.dout = p.in.data, op.lengths = p.len.present ? p.len.data : nullptr, op.dx = p.out.data;
  op.steps = p.d.steps, op.batch = p.d.batch, op.dim = p.d.dim, op.time_major = p.d.time_major;
  op.mode = p.d.mode;
  return op;
}
void SequencePoolBackwardOp::run() const {
  if (!pool_lengths_ok("sequencePoolBackward", lengths, batch, steps)) return;
  sequence_pool_backward(dout, steps, batch, dim, time_major, mode, lengths, dx);
}
double SequencePoolBackwardOp::flops() const { return double(steps * batch * dim); }
double SequencePoolBackwardOp::bytes() const { return 8.0 * double(steps * batch * dim); }
std::string SequencePoolBackwardOp::shapes() const {
  return std::to_string(steps) + "x" + std::to_string(batch) + "x" + std::to_string(dim);
}

}  // namespace axon::binding
