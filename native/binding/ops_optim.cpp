// The checks and run() of the optim family (native/optable/optim.ops.mjs) that the table
// cannot state: optimizer hyperparameters, the clipping limits, class labels and random-stream
// state are JS-owned data read when the op runs, so each is checked at parse (check(): a clear
// error for the call that passes it) and again on every run (run(): a replayed Program sees
// new values without parsing again), before anything is read or written with it.
#include <cmath>
#include <initializer_list>

#include "binding_ops.h"

namespace axon::binding {

namespace {

constexpr double kInf = 1e300;
constexpr double kMaxSafeInteger = 9007199254740991.0;

// Each returns the first problem ("" when none), without the op's name.
std::string hyper_finite(const double* h, int64_t len, const char* cells) {
  for (int64_t k = 0; k < len; ++k)
    if (!std::isfinite(h[k]))
      return "hyper[" + std::to_string(k) + "] = " + std::to_string(h[k]) + " must be finite (" +
             cells + ")";
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

// ---- cross-entropy

template <class Op>
CrossEntropyArgs ce_args(const Op& o) {
  CrossEntropyArgs ce;
  ce.logits = o.logits;
  ce.n = o.n, ce.c = o.c;
  ce.target_index = o.has_target_index ? o.target_index : nullptr;
  ce.target_prob = o.has_target_prob ? o.target_prob : nullptr;
  ce.class_weight = o.has_class_weight ? o.class_weight : nullptr;
  ce.label_smoothing = static_cast<float>(o.label_smoothing);
  ce.ignore_index = static_cast<int32_t>(o.ignore_index);
  return ce;
}

// Shared by cross-entropy forward and backward. The class indices themselves are checked
// when the op runs (ce_targets_ok).
template <class Op>
void check_ce(Args& a, Op& op) {
  if (op.has_target_index == op.has_target_prob)
    a.type_error("pass exactly one of 'targetIndex' and 'targetProb'");
  if (op.label_smoothing < 0 || op.label_smoothing > 1)
    a.range_error("labelSmoothing must be in [0, 1], got " + std::to_string(op.label_smoothing));
  op.reduced_len = op.reduction == 0 ? op.n : 1;
}

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

// bceLogits and its backward: posWeight applies along the last axis of c elements.
template <class Op>
void check_pos_weight(Args& a, const Op& op) {
  if (op.has_pos_weight && op.x_len % op.c != 0)
    a.range_error("the input's last axis must have c = " + std::to_string(op.c) + " elements");
}

}  // namespace

// The runCheck functions of the table (declared in binding_ops.h): each returns the first
// problem ("" when none), without the op's name.
// A random stream's state (dropout, randomCropFlip): converted to integers when the op runs.
// Each cell is an integer that stays exact in a double after the op advances the counter.
static_assert(int(DropoutOp::kStateLength) == int(RandomCropFlipOp::kStateLength) &&
                  int(DropoutOp::kStateCounter) == int(RandomCropFlipOp::kStateCounter),
              "dropout and randomCropFlip share the random state's layout");
std::string random_state_problem(const double* st) {
  for (int k = 0; k < DropoutOp::kStateLength; ++k)
    if (!(st[k] >= 0 && st[k] < kMaxSafeInteger && std::floor(st[k]) == st[k]))
      return "state[" + std::to_string(k) + "] = " + std::to_string(st[k]) +
             " must be an integer in [0, 2^53 - 1)";
  return "";
}
// The stream of (seed, counter): the counter picks a block of 2^40 hash inputs, so each call
// draws a different stream. Advances the counter when `advance`.
uint64_t stream_seed(double* st, bool advance) {
  const uint64_t seed = (static_cast<uint64_t>(st[DropoutOp::kStateSeedHigh]) << 32) ^
                        static_cast<uint64_t>(st[DropoutOp::kStateSeedLow]);
  const uint64_t counter = static_cast<uint64_t>(st[DropoutOp::kStateCounter]);
  if (advance) st[DropoutOp::kStateCounter] += 1;
  return seed + (counter << 40) + counter * 0x9E3779B97F4A7C15ull;
}

// ---- optimizer hyperparameters

std::string sgd_problem(const double* h) {
  using O = SgdStepOp;
  if (std::string e = hyper_finite(h, O::kHyperLength, O::kHyperCells); !e.empty()) return e;
  return first_of(
      {hyper_range(h[O::kHyperLr], "lr", 0, kInf),
       hyper_range(h[O::kHyperMomentum], "momentum", 0, kInf),
       hyper_range(h[O::kHyperDampening], "dampening", 0, 1),
       hyper_range(h[O::kHyperWeightDecay], "weightDecay", 0, kInf),
       h[O::kHyperNesterov] != 0 && (h[O::kHyperMomentum] <= 0 || h[O::kHyperDampening] != 0)
           ? "Nesterov momentum requires a momentum > 0 and zero dampening"
           : "",
       hyper_range(h[O::kHyperStep], "step", 0, kMaxSafeInteger, true)});
}
std::string adam_problem(const double* h) {
  using O = AdamStepOp;
  if (std::string e = hyper_finite(h, O::kHyperLength, O::kHyperCells); !e.empty()) return e;
  // step < 2^53 - 1: run() adds one before converting it to an integer.
  return first_of({hyper_range(h[O::kHyperLr], "lr", 0, kInf),
                   hyper_range(h[O::kHyperBeta1], "beta1", 0, 1, true),
                   hyper_range(h[O::kHyperBeta2], "beta2", 0, 1, true),
                   hyper_range(h[O::kHyperEps], "eps", 0, kInf),
                   hyper_range(h[O::kHyperWeightDecay], "weightDecay", 0, kInf),
                   hyper_range(h[O::kHyperStep], "step", 0, kMaxSafeInteger, true)});
}
std::string rmsprop_problem(const double* h) {
  using O = RmspropStepOp;
  if (std::string e = hyper_finite(h, O::kHyperLength, O::kHyperCells); !e.empty()) return e;
  return first_of({hyper_range(h[O::kHyperLr], "lr", 0, kInf),
                   hyper_range(h[O::kHyperAlpha], "alpha", 0, 1),
                   hyper_range(h[O::kHyperEps], "eps", 0, kInf),
                   hyper_range(h[O::kHyperWeightDecay], "weightDecay", 0, kInf),
                   hyper_range(h[O::kHyperMomentum], "momentum", 0, kInf),
                   hyper_range(h[O::kHyperStep], "step", 0, kMaxSafeInteger, true)});
}
std::string adagrad_problem(const double* h) {
  using O = AdagradStepOp;
  if (std::string e = hyper_finite(h, O::kHyperLength, O::kHyperCells); !e.empty()) return e;
  return first_of({hyper_range(h[O::kHyperLr], "lr", 0, kInf),
                   hyper_range(h[O::kHyperLrDecay], "lrDecay", 0, kInf),
                   hyper_range(h[O::kHyperEps], "eps", 0, kInf),
                   hyper_range(h[O::kHyperWeightDecay], "weightDecay", 0, kInf),
                   hyper_range(h[O::kHyperStep], "step", 0, kMaxSafeInteger, true)});
}

std::string clip_problem(const double* io) {
  using O = ClipGradNormOp;
  const double max_norm = io[O::kIoMaxNorm], norm_type = io[O::kIoNormType];
  if (!(max_norm >= 0 && std::isfinite(max_norm)))
    return "maxNorm (io[0]) must be a finite number >= 0, got " + std::to_string(max_norm);
  if (norm_type != 2 && !(std::isinf(norm_type) && norm_type > 0))
    return "normType (io[1]) must be 2 or Infinity, got " + std::to_string(norm_type);
  return "";
}

// ---- sgdStep

void SgdStepOp::check(Args& a, SgdStepOp& op) {
  if (op.hyper[kHyperMomentum] != 0 && !op.has_momentum_buf)
    a.type_error("momentum needs 'momentumBuf'");
}
void SgdStepOp::run_cpu() const {
  double* h = hyper;
  if (h[kHyperMomentum] != 0 && !has_momentum_buf && param_len > 0)
    return set_runtime_error("sgdStep: momentum needs 'momentumBuf'");
  SgdConfig c;
  c.lr = static_cast<float>(h[kHyperLr]);
  c.momentum = has_momentum_buf ? static_cast<float>(h[kHyperMomentum]) : 0.0f;
  c.dampening = static_cast<float>(h[kHyperDampening]);
  c.weight_decay = static_cast<float>(h[kHyperWeightDecay]);
  c.nesterov = h[kHyperNesterov] != 0 && c.momentum > 0;
  c.maximize = h[kHyperMaximize] != 0;
  c.first_step = h[kHyperStarted] == 0;
  if (c.momentum != 0) h[kHyperStarted] = 1;
  h[kHyperStep] += 1;  // the step count lives here, so a recorded step needs no bookkeeping
  sgd_step(param, grad, c.momentum != 0 ? momentum_buf : nullptr, param_len, c);
}

// ---- adamStep

void AdamStepOp::check(Args& a, AdamStepOp& op) {
  if (op.hyper[kHyperAmsgrad] != 0 && !op.has_vmax) a.type_error("amsgrad needs 'vmax'");
}
void AdamStepOp::run_cpu() const {
  double* h = hyper;
  if (h[kHyperAmsgrad] != 0 && !has_vmax && param_len > 0)
    return set_runtime_error("adamStep: amsgrad needs 'vmax'");
  h[kHyperStep] += 1;
  AdamConfig c;
  c.lr = static_cast<float>(h[kHyperLr]);
  c.beta1 = static_cast<float>(h[kHyperBeta1]);
  c.beta2 = static_cast<float>(h[kHyperBeta2]);
  c.eps = static_cast<float>(h[kHyperEps]);
  c.weight_decay = static_cast<float>(h[kHyperWeightDecay]);
  c.decoupled = h[kHyperDecoupled] != 0;
  c.amsgrad = h[kHyperAmsgrad] != 0 && has_vmax;
  c.maximize = h[kHyperMaximize] != 0;
  c.step = static_cast<int64_t>(h[kHyperStep]);
  adam_step(param, grad, m, v, c.amsgrad ? vmax : nullptr, param_len, c);
}

// ---- rmspropStep

void RmspropStepOp::check(Args& a, RmspropStepOp& op) {
  if (op.hyper[kHyperCentered] != 0 && !op.has_grad_avg) a.type_error("centered needs 'gradAvg'");
  if (op.hyper[kHyperMomentum] > 0 && !op.has_momentum_buf)
    a.type_error("momentum needs 'momentumBuf'");
}
void RmspropStepOp::run_cpu() const {
  double* h = hyper;
  if (h[kHyperCentered] != 0 && !has_grad_avg && param_len > 0)
    return set_runtime_error("rmspropStep: centered needs 'gradAvg'");
  if (h[kHyperMomentum] > 0 && !has_momentum_buf && param_len > 0)
    return set_runtime_error("rmspropStep: momentum needs 'momentumBuf'");
  RmspropConfig c;
  c.lr = static_cast<float>(h[kHyperLr]);
  c.alpha = static_cast<float>(h[kHyperAlpha]);
  c.eps = static_cast<float>(h[kHyperEps]);
  c.weight_decay = static_cast<float>(h[kHyperWeightDecay]);
  c.momentum = has_momentum_buf ? static_cast<float>(h[kHyperMomentum]) : 0.0f;
  c.centered = h[kHyperCentered] != 0 && has_grad_avg;
  c.maximize = h[kHyperMaximize] != 0;
  h[kHyperStep] += 1;
  rmsprop_step(param, grad, square_avg, c.centered ? grad_avg : nullptr,
               c.momentum > 0 ? momentum_buf : nullptr, param_len, c);
}

// ---- adagradStep

void AdagradStepOp::run_cpu() const {
  double* h = hyper;
  h[kHyperStep] += 1;
  AdagradConfig c;
  c.lr = static_cast<float>(h[kHyperLr] / (1 + (h[kHyperStep] - 1) * h[kHyperLrDecay]));
  c.eps = static_cast<float>(h[kHyperEps]);
  c.weight_decay = static_cast<float>(h[kHyperWeightDecay]);
  c.maximize = h[kHyperMaximize] != 0;
  adagrad_step(param, grad, sum, param_len, c);
}

// ---- clipGradNorm

void ClipGradNormOp::run_cpu() const {
  io[kIoNorm] = clip_grad_norm(grads.data(), grads_len.data(), static_cast<int64_t>(grads.size()),
                               io[kIoMaxNorm], io[kIoNormType]);
}

// ---- crossEntropy and its backward

CrossEntropyArgs CrossEntropyOp::args() const { return ce_args(*this); }
void CrossEntropyOp::check(Args& a, CrossEntropyOp& op) { check_ce(a, op); }
void CrossEntropyOp::run_cpu() const {
  const CrossEntropyArgs ce = args();
  if (!ce_targets_ok(ce, kName)) return;
  std::vector<float> norm(static_cast<size_t>(n));
  float* per_row = reduction == 0 ? out : rows;
  cross_entropy_forward(ce, per_row, norm.data(), lse);
  if (reduction == 0) return;
  out[0] = cross_entropy_reduce(ce, per_row, reduction == 1);
}

CrossEntropyArgs CrossEntropyBackwardOp::args() const { return ce_args(*this); }
void CrossEntropyBackwardOp::check(Args& a, CrossEntropyBackwardOp& op) { check_ce(a, op); }
void CrossEntropyBackwardOp::run_cpu() const {
  const CrossEntropyArgs ce = args();
  if (!ce_targets_ok(ce, kName)) return;
  const float* per_row = dout;
  if (reduction != 0) {
    cross_entropy_reduce_backward(ce, dout[0], reduction == 1, scratch);
    per_row = scratch;
  }
  cross_entropy_backward(ce, lse, per_row, dlogits);
}

// ---- bceLogits and its backward

void BceLogitsOp::check(Args& a, BceLogitsOp& op) { check_pos_weight(a, op); }
void BceLogitsBackwardOp::check(Args& a, BceLogitsBackwardOp& op) { check_pos_weight(a, op); }

// ---- dropout

void DropoutOp::check(Args& a, DropoutOp& op) {
  if (!(op.p >= 0 && op.p <= 1)) a.range_error("p must be in [0, 1], got " + std::to_string(op.p));
}
void DropoutOp::run_cpu() const {
  dropout_forward(x, y, mask, x_len, static_cast<float>(p), stream_seed(state, true));
}

// ---- randomCropFlip

void RandomCropFlipOp::check(Args& a, RandomCropFlipOp& op) {
  const CropFlipGeometry& g = op.geometry;
  if (!(op.flip_p >= 0 && op.flip_p <= 1)) a.range_error("flipP must be in [0, 1]");
  if (g.out_h > g.h + 2 * g.pad || g.out_w > g.w + 2 * g.pad)
    a.range_error("the crop " + std::to_string(g.out_h) + "x" + std::to_string(g.out_w) +
                  " is larger than the padded image " + std::to_string(g.h + 2 * g.pad) + "x" +
                  std::to_string(g.w + 2 * g.pad));
}
void RandomCropFlipOp::run_cpu() const {
  const CropFlipGeometry& g = geometry;
  random_crop_flip(x, y, g.n, g.c, g.h, g.w, g.out_h, g.out_w, g.pad, flip_p, random,
                   stream_seed(state, random));
}
std::string RandomCropFlipOp::shapes() const {
  const CropFlipGeometry& g = geometry;
  return std::to_string(g.n) + "x" + std::to_string(g.c) + "x" + std::to_string(g.h) + "x" +
         std::to_string(g.w) + "->" + std::to_string(g.out_h) + "x" + std::to_string(g.out_w);
}

}  // namespace axon::binding
