// The sequence family (native/optable/sequence.ops.mjs): what the table cannot state. rnn's
// sizes (gate count by mode, workspace and scratch), an embedding table's vocabulary, and the
// run-time checks of lengths and tokens: they are batch data (a recorded step gathers new ones
// each step), so they are checked every time the op runs, naming the first bad one.
#include <algorithm>

#include "binding_ops.h"

namespace axon::binding {

namespace {

std::string rnn_name(const RnnArgs& r) {
  static const char* names[] = {"lstm", "gru", "rnn_tanh", "rnn_relu"};
  return std::string(names[static_cast<int>(r.mode)]) + " T" + std::to_string(r.steps) + " N" +
         std::to_string(r.batch) + " " + std::to_string(r.input) + "->" + std::to_string(r.hidden) +
         (r.reverse ? " reverse" : "");
}

}  // namespace

// The table's runCheck functions (binding_ops.h): lengths (batch) or null, each in [0, steps];
// tokens (rows, steps), each in [0, vocab).
std::string lengths_problem(const int32_t* lengths, int64_t batch, int64_t steps) {
  for (int64_t i = 0; lengths && i < batch; ++i)
    if (lengths[i] < 0 || lengths[i] > steps)
      return "lengths[" + std::to_string(i) + "] = " + std::to_string(lengths[i]) +
             " is outside [0, " + std::to_string(steps) + "] steps";
  return "";
}
std::string tokens_problem(const int32_t* tokens, int64_t rows, int64_t steps, int64_t vocab) {
  for (int64_t i = 0; i < rows * steps; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      return "token " + std::to_string(tokens[i]) + " at [" +
             std::to_string(i / std::max<int64_t>(steps, 1)) + ", " +
             std::to_string(i % std::max<int64_t>(steps, 1)) + "] is outside the vocabulary of " +
             std::to_string(vocab) + " (valid ids 0.." + std::to_string(vocab - 1) + ")";
  return "";
}

namespace {

// Rows of an embedding table of `length` floats, `dim` per row.
int64_t vocab_of(Args& a, int64_t length, int64_t dim, const char* name) {
  if (length % dim != 0)
    a.range_error(std::string("'") + name + "' has " + std::to_string(length) +
                  " elements, not a whole number of rows of " + std::to_string(dim));
  return length / dim;
}

}  // namespace

RnnSizes rnn_sizes_checked(Args& a, const RnnArgs& r) {
  // Every size the op computes, checked for overflow before any length is compared with it.
  RnnSizes s;
  s.gates = a.mul(rnn_gate_count(r.mode), r.hidden, "gates*hidden");
  a.mul(s.gates, r.input, "wIh");
  a.mul(s.gates, r.hidden, "wHh");
  a.mul(a.mul(r.steps, r.batch, "x"), r.input, "x");
  a.mul(a.mul(a.mul(r.steps, r.batch, "workspace"), s.gates, "workspace"), 3, "workspace");
  s.workspace = rnn_workspace_size(r);
  s.scratch = rnn_scratch_size(r);
  return s;
}

// ---- rnn, rnnBackward

void RnnOp::check(Args& a, RnnOp& op) {
  const RnnSizes s = rnn_sizes_checked(a, op.dims);
  op.gates = s.gates, op.workspace_size = s.workspace;
  if (op.dims.mode == RnnMode::Lstm && !op.has_cn) a.type_error("an LSTM needs 'cn'");
}
std::string RnnOp::shapes() const { return rnn_name(dims); }

void RnnBackwardOp::check(Args& a, RnnBackwardOp& op) {
  const RnnSizes s = rnn_sizes_checked(a, op.dims);
  op.gates = s.gates, op.workspace_size = s.workspace, op.scratch_size = s.scratch;
}
std::string RnnBackwardOp::shapes() const { return rnn_name(dims); }

// ---- embedding, embeddingBackward, embeddingRenorm

void EmbeddingOp::check(Args& a, EmbeddingOp& op) {
  op.vocab = vocab_of(a, op.weight_len, op.dim, "weight");
}

void EmbeddingBackwardOp::check(Args& a, EmbeddingBackwardOp& op) {
  op.vocab = vocab_of(a, op.dweight_len, op.dim, "dweight");
}

void EmbeddingRenormOp::check(Args& a, EmbeddingRenormOp& op) {
  if (!(op.max_norm > 0)) a.range_error("maxNorm must be > 0");
  if (!(op.norm_type > 0)) a.range_error("normType must be > 0 (or Infinity)");
  op.vocab = vocab_of(a, op.weight_len, op.dim, "weight");
}

}  // namespace axon::binding
