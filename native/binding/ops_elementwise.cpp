// The checks of the elementwise family (native/optable/elementwise.ops.mjs) that the table
// cannot state: GEMM's leading dimensions, operand extents and bias, broadcasting rules, and
// the run-time check of castFloat32ToInt32's data.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "binding_ops.h"

namespace axon::binding {

namespace {

// Elements spanned by a rows x cols row-major block with leading dimension ld.
int64_t block_extent(Args& a, int64_t rows, int64_t cols, int64_t ld, const char* name) {
  if (rows == 0 || cols == 0) return 0;
  return a.add(a.mul(rows - 1, ld, name), cols, name);
}

struct GemmExtents {
  int64_t a, b, c;
};
// One GEMM's operands (a single matrix each): leading dimensions, then extents.
GemmExtents check_gemm_shapes(Args& a, const GemmArgs& g) {
  const int64_t a_rows = g.trans_a == Trans::No ? g.m : g.k;
  const int64_t a_cols = g.trans_a == Trans::No ? g.k : g.m;
  const int64_t b_rows = g.trans_b == Trans::No ? g.k : g.n;
  const int64_t b_cols = g.trans_b == Trans::No ? g.n : g.k;
  if (g.lda < std::max<int64_t>(1, a_cols))
    a.range_error("lda=" + std::to_string(g.lda) + " is smaller than the " +
                  std::to_string(a_cols) + " columns of A (" + gemm_desc(g) + ")");
  if (g.ldb < std::max<int64_t>(1, b_cols))
    a.range_error("ldb=" + std::to_string(g.ldb) + " is smaller than the " +
                  std::to_string(b_cols) + " columns of B (" + gemm_desc(g) + ")");
  if (g.ldc < std::max<int64_t>(1, g.n))
    a.range_error("ldc=" + std::to_string(g.ldc) + " is smaller than n=" + std::to_string(g.n));
  return {block_extent(a, a_rows, a_cols, g.lda, "a"), block_extent(a, b_rows, b_cols, g.ldb, "b"),
          block_extent(a, g.m, g.n, g.ldc, "c")};
}

// The bias a bias mode needs: one per column (or row) of C, plus `extra` for later batches.
void check_bias(Args& a, const GemmArgs& g, bool has_bias, int64_t bias_len, int64_t extra) {
  if (g.bias_mode == BiasMode::None) return;
  if (!has_bias) a.type_error("a bias mode is set but 'bias' is null");
  const int64_t need = a.add(g.bias_mode == BiasMode::PerColumn ? g.n : g.m, extra, "bias");
  a.expect_min_length(
      bias_len, need, "bias",
      g.bias_mode == BiasMode::PerColumn ? "one per column of C" : "one per row of C");
}

template <class Op>
GemmArgs gemm_args(const Op& o) {
  GemmArgs g;
  g.trans_a = o.trans_a ? Trans::Yes : Trans::No;
  g.trans_b = o.trans_b ? Trans::Yes : Trans::No;
  g.m = o.m, g.n = o.n, g.k = o.k, g.alpha = o.alpha;
  g.a = o.a, g.lda = o.lda, g.b = o.b, g.ldb = o.ldb, g.beta = o.beta, g.c = o.c, g.ldc = o.ldc;
  g.bias_mode = o.bias_mode, g.bias = o.bias;
  g.activation = o.activation, g.activation_param = o.activation_param;
  return g;
}

}  // namespace

GemmArgs GemmOp::args() const { return gemm_args(*this); }

void GemmOp::check(Args& a, GemmOp& op) {
  const GemmArgs g = op.args();
  const GemmExtents e = check_gemm_shapes(a, g);
  op.extent_a = e.a, op.extent_b = e.b, op.extent_c = e.c;
  check_bias(a, g, op.has_bias, op.bias_len, 0);
}

GemmBatchedArgs GemmBatchedOp::args() const {
  GemmBatchedArgs b;
  b.gemm = gemm_args(*this);
  b.batch = batch, b.stride_a = stride_a, b.stride_b = stride_b, b.stride_c = stride_c;
  b.stride_bias = stride_bias;
  return b;
}

void GemmBatchedOp::check(Args& a, GemmBatchedOp& op) {
  const GemmArgs g = gemm_args(op);
  const GemmExtents e = check_gemm_shapes(a, g);
  const int64_t last = op.batch > 0 ? op.batch - 1 : 0;
  auto total = [&](int64_t one, int64_t stride, const char* name) {
    if (op.batch == 0 || one == 0) return int64_t{0};
    return a.add(a.mul(last, stride, name), one, name);
  };
  const int64_t ta = total(e.a, op.stride_a, "a"), tb = total(e.b, op.stride_b, "b");
  const int64_t tc = total(e.c, op.stride_c, "c");
  const std::string why = std::to_string(op.batch) + " x " + gemm_desc(g);
  a.expect_min_length(op.a_len, ta, "a", why);
  a.expect_min_length(op.b_len, tb, "b", why);
  a.expect_min_length(op.c_len, tc, "c", why);
  if (op.batch > 1 && e.c > 0 && op.stride_c < e.c)
    a.range_error("strideC=" + std::to_string(op.stride_c) + " is smaller than one C (" +
                  std::to_string(e.c) + " elements): the outputs would overlap");
  check_bias(a, g, op.has_bias, op.bias_len,
             op.batch > 0 ? a.mul(last, op.stride_bias, "bias") : 0);
}

void BinaryOpCall::check(Args& a, BinaryOpCall& op) {
  const Shape &as = op.a_shape, &bs = op.b_shape, &os = op.out_shape;
  if (as.ndim != os.ndim || bs.ndim != os.ndim)
    a.range_error("shapes " + shape_string(as) + ", " + shape_string(bs) + " and " +
                  shape_string(os) + " must have the same rank (pad with leading 1s)");
  for (int d = 0; d < os.ndim; ++d) {
    const int64_t ad = as.dims[d], bd = bs.dims[d], od = os.dims[d];
    const int64_t want = ad == 1 ? bd : (bd == 1 || bd == ad ? ad : -1);
    if (want < 0 || want != od)
      a.range_error("cannot broadcast " + shape_string(as) + " with " + shape_string(bs) + " to " +
                    shape_string(os) + " (axis " + std::to_string(d) + ")");
  }
}

std::string cast_to_int32_problem(const float* x, int64_t n) {
  // A branch-free pass first (the common case: everything fits), then the first offender.
  // The bounds are powers of two, exact in float; NaN fails both comparisons.
  auto fits = [](float v) { return v >= -2147483648.0f && v < 2147483648.0f; };
  bool all = true;
  for (int64_t i = 0; i < n; ++i) all &= fits(x[i]);
  if (all) return "";
  for (int64_t i = 0; i < n; ++i) {
    if (fits(x[i])) continue;
    if (std::isnan(x[i]))
      return "element " + std::to_string(i) + " is NaN, which has no int32 value";
    char v[32];
    std::snprintf(v, sizeof v, "%.9g", double(x[i]));
    return "element " + std::to_string(i) + " = " + v +
           " is outside the int32 range [-2147483648, 2147483647]";
  }
  return "";
}

void SumToShapeOp::check(Args& a, SumToShapeOp& op) {
  const Shape &in = op.in_shape, &os = op.out_shape;
  if (in.ndim != os.ndim)
    a.range_error("inShape " + shape_string(in) + " and outShape " + shape_string(os) +
                  " must have the same rank");
  for (int d = 0; d < in.ndim; ++d)
    if (os.dims[d] != 1 && os.dims[d] != in.dims[d])
      a.range_error("cannot sum " + shape_string(in) + " to " + shape_string(os) + ": axis " +
                    std::to_string(d) + " must be 1 or " + std::to_string(in.dims[d]));
}

}  // namespace axon::binding
