// Argument parsing and kernel calls of the binding ops not yet in the op table (see ops.h).
// Positional arguments, in the order src/native/binding.ts documents. Checks cover what the
// kernels rely on for memory safety and meaning: types, integer ranges, exact element counts,
// shape rules, overflow, and outputs not overlapping inputs (except exact in-place aliases
// where the kernel allows them).
#include "ops.h"

#include <algorithm>
#include <cmath>

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
