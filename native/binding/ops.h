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

struct PermuteOp {
  AXON_OP_COMMON(PermuteOp, "permute")
  const void* x;
  void* out;
  Shape shape;
  int perm[kMaxDims];
};

struct ConcatOp {
  AXON_OP_COMMON(ConcatOp, "concat")
  std::vector<const void*> xs;
  std::vector<int64_t> sizes;
  int64_t outer;
  void* out;
};

struct SliceOp {
  AXON_OP_COMMON(SliceOp, "sliceCopy")
  const void* x;
  void* out;
  Shape shape, os;
  int64_t start[kMaxDims], step[kMaxDims];
};

struct SliceBackwardOp {
  AXON_OP_COMMON(SliceBackwardOp, "sliceBackward")
  const float* dy;
  float* dx;
  Shape shape, os;
  int64_t start[kMaxDims], step[kMaxDims];
};

// Optimizer ops read their hyperparameters from a JS-owned Float64Array when they run, and
// advance its step count there, so a recorded training step replays with the current
// learning rate and correct bias correction. Which state buffers exist is fixed at parse time.
struct SgdOp {
  AXON_OP_COMMON(SgdOp, "sgdStep")
  float *p, *buf;
  const float* g;
  int64_t n;
  double* hyper;  // [lr, momentum, dampening, weightDecay, nesterov, maximize, started]
};

struct AdamOp {
  AXON_OP_COMMON(AdamOp, "adamStep")
  float *p, *m, *v, *vmax;
  const float* g;
  int64_t n;
  double* hyper;  // [lr, beta1, beta2, eps, weightDecay, decoupled, amsgrad, maximize, step]
};

struct RmspropOp {
  AXON_OP_COMMON(RmspropOp, "rmspropStep")
  float *p, *sq, *ga, *buf;
  const float* g;
  int64_t n;
  double* hyper;  // [lr, alpha, eps, weightDecay, momentum, centered, maximize]
};

struct AdagradOp {
  AXON_OP_COMMON(AdagradOp, "adagradStep")
  float *p, *sum;
  const float* g;
  int64_t n;
  double* hyper;  // [lr, lrDecay, eps, weightDecay, maximize, step]
};

struct ClipGradNormOp {
  AXON_OP_COMMON(ClipGradNormOp, "clipGradNorm")
  std::vector<float*> grads;
  std::vector<int64_t> sizes;
  double* io;  // [maxNorm, normType (2 or Infinity), out: total norm before clipping]
};

// reduction: 0 none (out has n values), 1 mean, 2 sum (out has 1). Mean divides by the
// summed target weights (PyTorch), computed inside, so the whole loss is one native call.
struct CrossEntropyOp {
  AXON_OP_COMMON(CrossEntropyOp, "crossEntropy")
  CrossEntropyArgs a;
  int reduction;
  float *out, *lse, *rows;  // rows: per-row loss scratch (n)
};

struct CrossEntropyBackwardOp {
  AXON_OP_COMMON(CrossEntropyBackwardOp, "crossEntropyBackward")
  CrossEntropyArgs a;
  int reduction;
  const float *lse, *dout;
  float *dlogits, *scratch;  // scratch (n): per-row upstream gradient
};

struct BceLogitsOp {
  AXON_OP_COMMON(BceLogitsOp, "bceLogits")
  const float *x, *t, *pos_weight;
  int64_t c, n;
  float* loss;
};

struct BceLogitsBackwardOp {
  AXON_OP_COMMON(BceLogitsBackwardOp, "bceLogitsBackward")
  const float *x, *t, *pos_weight, *dloss;
  int64_t c, n;
  float* dx;
};

struct BceOp {
  AXON_OP_COMMON(BceOp, "bce")
  const float *p, *t;
  float* loss;
  int64_t n;
};

struct BceBackwardOp {
  AXON_OP_COMMON(BceBackwardOp, "bceBackward")
  const float *p, *t, *dloss;
  float* dp;
  int64_t n;
};

// The random stream: state = [seedHigh, seedLow, counter]; each run uses (seed, counter) and
// advances the counter, so eager calls and a replayed program draw the same masks.
struct DropoutOp {
  AXON_OP_COMMON(DropoutOp, "dropout")
  const float* x;
  float *y, *mask;
  int64_t n;
  float p;
  double* state;
};

struct FillOp {
  AXON_OP_COMMON(FillOp, "fill")
  void* x;
  int64_t n;
  uint32_t word;
};

struct CopyOp {
  AXON_OP_COMMON(CopyOp, "copy")
  const void* src;
  void* dst;
  int64_t n;
};

// gatherRows with its start read from regs[0] when it runs (a Program's loop register), and
// every index checked then: the indices (a shuffled order) may change between runs.
struct GatherRowsAtOp {
  AXON_OP_COMMON(GatherRowsAtOp, "gatherRowsAt")
  const void* src;
  void* dst;
  const int32_t* indices;
  int64_t n_indices, src_rows, row_size, rows;
  const double* regs;
};

// dst[regs[1]] = src[0]: a Program logs each step's loss into a per-chunk array. With
// stop_on_nonfinite, a NaN/Inf value is still logged, then fails the run (the replay stops
// before the rest of that step).
struct LogScalarOp {
  AXON_OP_COMMON(LogScalarOp, "logScalar")
  const float* src;
  float* dst;
  int64_t n;
  const double* regs;
  bool stop_on_nonfinite;
};

// dst rows [regs[0], regs[0] + rows) = src (rows, rowSize): a Program writes each batch's
// output into the whole result; the range is checked when it runs.
struct PutRowsAtOp {
  AXON_OP_COMMON(PutRowsAtOp, "putRowsAt")
  const void* src;
  void* dst;
  int64_t row_size, rows, dst_rows;
  const double* regs;
};

struct GatherRowsOp {
  AXON_OP_COMMON(GatherRowsOp, "gatherRows")
  const void* src;
  void* dst;
  const int32_t* indices;  // checked against src_rows every run
  int64_t row_size, start, rows, src_rows;
};

struct ConfusionOp {
  AXON_OP_COMMON(ConfusionOp, "confusionUpdate")
  const float* scores;
  int64_t n, c, label_cols;
  const int32_t* labels;
  const float* label_floats;
  float threshold;
  double *matrix, *skipped;
};

struct TopKOp {
  AXON_OP_COMMON(TopKOp, "topKUpdate")
  const float* scores;
  int64_t n, c, k;
  const int32_t* labels;
  double* counts;
};

struct RegressionStatsOp {
  AXON_OP_COMMON(RegressionStatsOp, "regressionUpdate")
  const float *pred, *target;
  int64_t n;
  double* stats;
};

// randomCropFlip(x, [n, c, h, w, outH, outW, pad], flipP, random, state, y): state as dropout's
// [seedHigh, seedLow, counter], advanced per call when random.
struct RandomCropFlipOp {
  AXON_OP_COMMON(RandomCropFlipOp, "randomCropFlip")
  const float* x;
  float* y;
  int64_t n, c, h, w, oh, ow, pad;
  float flip_p;
  bool random;
  double* state;
};

// rnn(x, wIh, wHh, bIh|null, bHh|null, h0|null, c0|null, lengths|null,
//     [mode, steps, batch, input, hidden, reverse], y, hn, cn|null, workspace)
struct RnnOp {
  AXON_OP_COMMON(RnnOp, "rnn")
  RnnArgs a;
  const float *x, *w_ih, *w_hh, *b_ih, *b_hh, *h0, *c0;
  const int32_t* lengths;
  float *y, *hn, *cn, *ws;
};

// rnnBackward(x, wIh, wHh, lengths|null, workspace, dims, dy|null, dhn|null, dcn|null,
//             dx|null, dwIh|null, dwHh|null, dbIh|null, dbHh|null, dh0|null, dc0|null, scratch)
struct RnnBackwardOp {
  AXON_OP_COMMON(RnnBackwardOp, "rnnBackward")
  RnnArgs a;
  const float *x, *w_ih, *w_hh, *ws, *dy, *dhn, *dcn;
  const int32_t* lengths;
  float *dx, *dw_ih, *dw_hh, *db_ih, *db_hh, *dh0, *dc0, *scratch;
};

// embedding(weight, dim, tokens, [rows, steps, timeMajor], out); tokens checked when it runs.
struct EmbeddingOp {
  AXON_OP_COMMON(EmbeddingOp, "embedding")
  const float* weight;
  const int32_t* tokens;
  float* out;
  int64_t dim, vocab, rows, steps;
  bool time_major;
};

// embeddingBackward(dout, dim, tokens, [rows, steps, timeMajor], paddingIdx, dweight)
struct EmbeddingBackwardOp {
  AXON_OP_COMMON(EmbeddingBackwardOp, "embeddingBackward")
  const float* dout;
  const int32_t* tokens;
  float* dweight;
  int64_t dim, vocab, rows, steps, padding_idx;
  bool time_major;
};

// embeddingRenorm(weight, dim, tokens, maxNorm, normType): in place.
struct EmbeddingRenormOp {
  AXON_OP_COMMON(EmbeddingRenormOp, "embeddingRenorm")
  float* weight;
  const int32_t* tokens;
  int64_t dim, vocab, n;
  float max_norm, norm_type;
};

// sequenceLengths(tokens, rows, steps, pad, lengths)
struct SequenceLengthsOp {
  AXON_OP_COMMON(SequenceLengthsOp, "sequenceLengths")
  const int32_t* tokens;
  int32_t* lengths;
  int64_t rows, steps;
  int32_t pad;
};

// sequencePool(x, [steps, batch, dim, timeMajor, mode], lengths|null, out) and
// sequencePoolBackward(dout, dims, lengths|null, dx); lengths checked when it runs.
struct SequencePoolOp {
  AXON_OP_COMMON(SequencePoolOp, "sequencePool")
  const float* x;
  const int32_t* lengths;
  float* out;
  int64_t steps, batch, dim;
  bool time_major;
  SequencePool mode;
};
struct SequencePoolBackwardOp {
  AXON_OP_COMMON(SequencePoolBackwardOp, "sequencePoolBackward")
  const float* dout;
  const int32_t* lengths;
  float* dx;
  int64_t steps, batch, dim;
  bool time_major;
  SequencePool mode;
};

#undef AXON_OP_COMMON

}  // namespace axon::binding
