// Shared by the generated op structs (native/generated/binding_ops.*) and the hand-written
// checks of each op family (ops_<family>.cpp). Internal header.
#pragma once

#include <functional>
#include <string>

#include "args.h"
#include "axon/kernels.h"

namespace axon::binding {

inline constexpr int64_t kMaxDim = int64_t{1} << 31;  // one GEMM dimension or leading dimension

// randomCropFlip's geometry (the op table's CropFlipGeometry; random_crop_flip takes it as
// integers): the input (n, c, h, w), the crop out_h x out_w and the zero padding.
struct CropFlipGeometry {
  int64_t n, c, h, w, out_h, out_w, pad;
};

// An op whose checks can only run when it runs (it reads data or loop registers) sets this
// instead of touching memory; the sync export and Program replay turn it into a JS error.
void set_runtime_error(std::string message);
// Returns and clears the error set on this thread ("" when none).
std::string take_runtime_error();

// One buffer an op uses (Op::buffers): where, how many bytes, and whether the op writes all of
// it without reading it first. A Program zeroes a buffer it owns before its first use unless
// that use writes all of it (program.cpp).
struct BufferUse {
  const void* data;
  int64_t bytes;
  bool writes_all;
};

// Where a Program moves buffers when it compacts (program.cpp): the new address of a pointer
// into one of them, the pointer itself otherwise. Op::remap applies it to every buffer field.
using Remap = std::function<void*(const void*)>;
template <class T>
void remap_ptr(const Remap& f, T*& p) {
  if (p) p = static_cast<T*>(f(p));
}

std::string gemm_desc(const GemmArgs& g);
// "(outer,r,inner)"
std::string orc_string(int64_t outer, int64_t r, int64_t inner);
// The seed a random stream's state (dropout, randomCropFlip, attention; the state already
// checked by random_state_problem) gives this call; advances its counter when `advance`
// (ops_optim.cpp).
uint64_t stream_seed(double* state, bool advance);

// ---- sequence family (native/optable/sequence.ops.mjs, ops_sequence.cpp)

// The dims structs kernels.h has no type for (rnn's dims are its RnnArgs).
struct EmbeddingDims {
  int64_t rows = 0, steps = 0;
  bool time_major = false;
};
struct SequencePoolDims {
  int64_t steps = 0, batch = 0, dim = 0;
  bool time_major = false;
  SequencePool mode = SequencePool::Last;
};

// rnn's sizes from its dims, each product checked for overflow (ops_sequence.cpp): gates *
// hidden, and the workspace and scratch floats. rnn, rnnBackward and rnnSizes share it.
struct RnnSizes {
  int64_t gates, workspace, scratch;
};
RnnSizes rnn_sizes_checked(Args& a, const RnnArgs& r);

}  // namespace axon::binding
