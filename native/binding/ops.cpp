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
