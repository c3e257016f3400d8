// The layout family (native/optable/layout.ops.mjs): the checks the table cannot state
// (permutations, slice bounds, concat's per-input lengths, whole rows, fill's value) and the
// run() of the ops that check data when they run: row indices and Program registers may change
// between runs, so gatherRows, gatherRowsAt, putRowsAt and logScalar check them every run.
#include <cmath>
#include <cstring>

#include "binding_ops.h"

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

void PermuteOp::check(Args& a, PermuteOp& op) {
  bool seen[kMaxDims] = {};
  for (int i = 0; i < op.shape.ndim; ++i) {
    if (seen[op.perm[i]])
      a.range_error("perm must be a permutation of 0.." + std::to_string(op.shape.ndim - 1));
    seen[op.perm[i]] = true;
    op.perm_int[i] = static_cast<int>(op.perm[i]);
  }
}

void ConcatOp::check(Args& a, ConcatOp& op) {
  op.row_total = 0;
  for (size_t i = 0; i < op.inputs.size(); ++i) {
    const std::string name = "inputs[" + std::to_string(i) + "]";
    a.expect_length(op.inputs_len[i], a.mul(op.outer, op.sizes[i], name.c_str()), name.c_str(),
                    "outer * sizes[" + std::to_string(i) + "]");
    op.row_total = a.add(op.row_total, op.sizes[i], "sum of sizes");
  }
}

void SliceCopyOp::check(Args& a, SliceCopyOp& op) {
  check_slice(a, op.shape, op.out_shape, op.starts, op.steps);
}

void SliceBackwardOp::check(Args& a, SliceBackwardOp& op) {
  check_slice(a, op.shape, op.out_shape, op.starts, op.steps);
}

// The value's type follows x's: an int32 for an Int32Array (re-read as one, so a fraction or
// an out-of-range value is refused), any number (NaN and infinities included) for floats.
void FillOp::check(Args& a, FillOp& op) {
  if (a.words(0, "x").is_int) {
    const int32_t i = static_cast<int32_t>(a.integer(1, "value", INT32_MIN, INT32_MAX));
    std::memcpy(&op.word, &i, 4);
  } else {
    const float f = static_cast<float>(op.value);
    std::memcpy(&op.word, &f, 4);
  }
}

void GatherRowsOp::check(Args& a, GatherRowsOp& op) {
  if (op.src_len % op.row_size != 0)
    a.range_error("'src' has " + std::to_string(op.src_len) +
                  " elements, not a whole number of rows of " + std::to_string(op.row_size));
  op.src_rows = op.src_len / op.row_size;
}
void GatherRowsOp::run_cpu() const {
  if (!gather_indices_ok(kName, indices, start, rows, src_rows)) return;
  gather_rows(src, row_size, indices, start, rows, dst);
}

void GatherRowsAtOp::check(Args& a, GatherRowsAtOp& op) {
  if (op.src_len % op.row_size != 0) a.range_error("'src' is not a whole number of rows");
  op.src_rows = op.src_len / op.row_size;
}
void GatherRowsAtOp::run_cpu() const {
  const double start_d = regs[0];
  if (!(start_d >= 0 && start_d + double(rows) <= double(indices_len)))
    return set_runtime_error("gatherRowsAt: start " + std::to_string(start_d) + " + " +
                             std::to_string(rows) + " rows runs past the " +
                             std::to_string(indices_len) + " indices");
  const int64_t start = static_cast<int64_t>(start_d);
  if (!gather_indices_ok(kName, indices, start, rows, src_rows)) return;
  gather_rows(src, row_size, indices, start, rows, dst);
}

void PutRowsAtOp::check(Args& a, PutRowsAtOp& op) {
  if (op.src_len % op.row_size != 0 || op.dst_len % op.row_size != 0)
    a.range_error("'src' and 'dst' must be whole numbers of rows of " +
                  std::to_string(op.row_size));
  op.rows = op.src_len / op.row_size;
  op.dst_rows = op.dst_len / op.row_size;
}
void PutRowsAtOp::run_cpu() const {
  const double first = regs[0];
  if (!(first >= 0 && first + double(rows) <= double(dst_rows)))
    return set_runtime_error("putRowsAt: rows " + std::to_string(first) + ".." +
                             std::to_string(first + double(rows)) + " fall outside the " +
                             std::to_string(dst_rows) + " rows of 'dst'");
  copy(src, static_cast<uint32_t*>(dst) + static_cast<int64_t>(first) * row_size, rows * row_size);
}

void LogScalarOp::run_cpu() const {
  const double slot = regs[1];
  if (!(slot >= 0 && slot < double(dst_len)))
    return set_runtime_error("logScalar: slot regs[1] = " + std::to_string(slot) +
                             " is outside the " + std::to_string(dst_len) +
                             " entries of 'dst' [0, " + std::to_string(dst_len) + ")");
  const float v = src[0];
  dst[static_cast<int64_t>(slot)] = v;
  // The error stops a replay here, after the loss is logged and before the step's backward
  // pass and optimizer update would spread the NaN/Inf into the weights.
  if (stop_on_non_finite && !std::isfinite(v))
    set_runtime_error(std::string("logScalar: non-finite loss ") +
                      (std::isnan(v) ? "NaN"
                       : v > 0       ? "Infinity"
                                     : "-Infinity") +
                      " at step " + std::to_string(static_cast<int64_t>(slot)));
}

void ConfusionUpdateOp::check(Args& a, ConfusionUpdateOp& op) {
  if (op.has_labels == op.has_label_floats)
    a.type_error("pass exactly one of 'labels' and 'labelFloats'");
  if (op.has_label_floats && op.label_cols != 1 && op.label_cols != op.c)
    a.range_error("labelCols must be 1 or c = " + std::to_string(op.c) + ", got " +
                  std::to_string(op.label_cols));
}

}  // namespace axon::binding
