// Reductions and softmax against their naive twins (axon/ref.h) over (outer, r, inner) grids
// with awkward sizes: r = 0 and 1, inner = 1 (the contiguous path) and > 1 up to 600 (past the
// 512-wide inner tile); NaN propagation, softmax stability, a 300000-long threaded sum,
// arg_reduce ties, reduce_backward, sum_to_shape patterns and zero-element inputs.
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "axon/kernels.h"
#include "axon/ref.h"
#include "check.h"

using namespace axon;
using axon::test::random_vector;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
const ReduceOp kReduceOps[] = {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min};

struct Grid {
  int64_t outer, r, inner;
};

std::vector<Grid> grids() {
  std::vector<Grid> g;
  for (int64_t outer : {1, 3})
    for (int64_t r : {0, 1, 2, 7, 17, 33, 130})
      for (int64_t inner : {1, 3, 17, 600}) g.push_back({outer, r, inner});
  // Many short rows: the dispatch layer splits outer across threads.
  g.push_back({5000, 3, 1});
  g.push_back({700, 5, 17});
  g.push_back({2, 4100, 1});   // crosses the 4096-element float block
  g.push_back({2, 300, 5});    // crosses the 128-row float block
  g.push_back({1, 50000, 1});  // a vocabulary-sized row
  g.push_back({1, 9000, 3});
  return g;
}

std::string grid_str(const char* what, const Grid& g) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s outer=%lld r=%lld inner=%lld", what, (long long)g.outer,
                (long long)g.r, (long long)g.inner);
  return buf;
}

// Small integers: every partial sum of up to 2^21 of them is exact in float, so Sum must match
// the double result exactly whatever the association order, and a dropped or doubled element
// cannot hide inside a rounding tolerance.
std::vector<float> small_integers(size_t n, uint32_t seed, int lo = -8, int hi = 8) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = float(d(gen));
  return v;
}

// Per output, the sum of |x| over the reduced axis: the scale a float sum's rounding grows with.
std::vector<double> abs_sums(const std::vector<float>& x, const Grid& g) {
  std::vector<double> s(size_t(g.outer * g.inner), 0.0);
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t j = 0; j < g.r; ++j)
      for (int64_t i = 0; i < g.inner; ++i)
        s[size_t(o * g.inner + i)] += std::fabs(x[size_t((o * g.r + j) * g.inner + i)]);
  return s;
}

// Checks sums with a per-output bound of 16 float epsilons times sum |x| (blocked float
// accumulation: 4096-element / 128-row blocks, then a second level), and 1 ulp of the result.
void check_sums(const std::vector<float>& got, const std::vector<float>& want,
                const std::vector<double>& scale, double divide, const std::string& what) {
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = 16 * 0x1p-23 * scale[i] / divide + 0x1p-23 * std::fabs(want[i]);
    const bool both_nan = std::isnan(got[i]) && std::isnan(want[i]);
    if (!both_nan && !(std::fabs(double(got[i]) - double(want[i])) <= tol)) {
      char buf[128];
      std::snprintf(buf, sizeof buf, ": output %zu got %.9g want %.9g (tol %.3g)", i,
                    double(got[i]), double(want[i]), tol);
      CHECK_MSG(false, what + buf);
      return;
    }
  }
}

}  // namespace

TEST(reduce_matches_ref_on_grids) {
  uint32_t seed = 1;
  for (const Grid& g : grids())
    for (ReduceOp op : kReduceOps) {
      const size_t n_in = size_t(g.outer * g.r * g.inner), n_out = size_t(g.outer * g.inner);
      const std::string what = grid_str(op_name(op), g);
      // Random data: tolerance from the summation scale; Max/Min exact.
      auto x = random_vector(n_in, seed++, -2.0f, 2.0f);
      std::vector<float> out(n_out + 1, 7.0f), want(n_out);
      reduce(op, x.data(), out.data(), g.outer, g.r, g.inner);
      ref::reduce(op, x.data(), want.data(), g.outer, g.r, g.inner);
      CHECK_MSG(out[n_out] == 7.0f, what + ": wrote past the output");
      out.resize(n_out);
      if (op == ReduceOp::Max || op == ReduceOp::Min) {
        CHECK_CLOSE(out.data(), want.data(), n_out, 0.0, 1e-12, what);
      } else {
        check_sums(out, want, abs_sums(x, g), op == ReduceOp::Mean ? double(g.r) : 1.0, what);
      }
      // Integer data: Sum exact; Mean within one rounding of the exact quotient (1/r may be
      // rounded first: two roundings).
      if (op == ReduceOp::Sum || op == ReduceOp::Mean) {
        auto xi = small_integers(n_in, seed++);
        reduce(op, xi.data(), out.data(), g.outer, g.r, g.inner);
        ref::reduce(op, xi.data(), want.data(), g.outer, g.r, g.inner);
        CHECK_CLOSE(out.data(), want.data(), n_out, 0.0, op == ReduceOp::Sum ? 1e-12 : 1.3e-7,
                    what + " integers");
      }
    }
}

TEST(reduce_empty_axis_and_zero_outputs) {
  // r == 0: Sum 0, Mean NaN, Max -inf, Min +inf, on both the contiguous and strided paths.
  for (int64_t inner : {1, 5, 600}) {
    std::vector<float> out(size_t(2 * inner));
    const float dummy = 0;
    reduce(ReduceOp::Sum, &dummy, out.data(), 2, 0, inner);
    for (float v : out) CHECK(v == 0.0f);
    reduce(ReduceOp::Mean, &dummy, out.data(), 2, 0, inner);
    for (float v : out) CHECK(std::isnan(v));
    reduce(ReduceOp::Max, &dummy, out.data(), 2, 0, inner);
    for (float v : out) CHECK(v == -kInf);
    reduce(ReduceOp::Min, &dummy, out.data(), 2, 0, inner);
    for (float v : out) CHECK(v == kInf);
  }
  // outer == 0 or inner == 0: nothing to write.
  std::vector<float> x(10, 1.0f), out(4, 7.0f);
  for (ReduceOp op : kReduceOps) {
    reduce(op, x.data(), out.data(), 0, 5, 2);
    reduce(op, x.data(), out.data(), 2, 5, 0);
  }
  for (float v : out) CHECK(v == 7.0f);
  std::vector<int32_t> idx(4, 7);
  arg_reduce(ArgReduceOp::ArgMax, x.data(), idx.data(), 0, 5, 2);
  for (int32_t v : idx) CHECK(v == 7);
}

TEST(reduce_nan_propagation) {
  for (int64_t inner : {1, 3, 17, 600})
    for (int64_t r : {1, 2, 17, 40}) {
      const Grid g{2, r, inner};
      auto x = random_vector(size_t(2 * r * inner), uint32_t(r * 1000 + inner));
      // A NaN in output column 0 of slice 0 (at its last row) and in the last column of slice
      // 1 (at its first row): only those outputs become NaN.
      x[size_t((r - 1) * inner)] = NAN;
      x[size_t((1 * r + 0) * inner + inner - 1)] = NAN;
      for (ReduceOp op : kReduceOps) {
        std::vector<float> out(size_t(2 * inner)), want(out.size());
        reduce(op, x.data(), out.data(), 2, r, inner);
        ref::reduce(op, x.data(), want.data(), 2, r, inner);
        const std::string what = grid_str(op_name(op), g) + " NaN";
        CHECK_MSG(std::isnan(out[0]) && std::isnan(out[size_t(2 * inner - 1)]), what);
        CHECK_CLOSE(out.data(), want.data(), out.size(), 1e-5, 1e-5, what);
      }
      for (ArgReduceOp op : {ArgReduceOp::ArgMax, ArgReduceOp::ArgMin}) {
        std::vector<int32_t> out(size_t(2 * inner)), want(out.size());
        arg_reduce(op, x.data(), out.data(), 2, r, inner);
        ref::arg_reduce(op, x.data(), want.data(), 2, r, inner);
        CHECK_MSG(out == want, grid_str(op_name(op), g) + " NaN");
        CHECK(out[0] == int32_t(r - 1));  // the NaN's index, max and min alike
        // select_last: the last NaN (here the only one in each of those columns).
        std::vector<int32_t> out_last(out.size()), want_last(out.size());
        arg_reduce(op, x.data(), out_last.data(), 2, r, inner, true);
        ref::arg_reduce(op, x.data(), want_last.data(), 2, r, inner, true);
        CHECK_MSG(out_last == want_last, grid_str(op_name(op), g) + " NaN select_last");
        CHECK(out_last[0] == int32_t(r - 1) && out_last[size_t(2 * inner - 1)] == 0);
      }
    }
}

// One output over 300000 elements: with 2 threads the dispatch layer splits the row into
// per-thread partial sums (r >= 2 * 65536).
TEST(reduce_large_full_sum) {
  const int64_t r = 300000;
  auto x = random_vector(size_t(r), 77, -1.0f, 1.0f);
  double exact = 0, abs_sum = 0;
  for (float v : x) exact += v, abs_sum += std::fabs(v);
  float sum = 0, mean = 0, mx = 0, mn = 0;
  reduce(ReduceOp::Sum, x.data(), &sum, 1, r, 1);
  reduce(ReduceOp::Mean, x.data(), &mean, 1, r, 1);
  reduce(ReduceOp::Max, x.data(), &mx, 1, r, 1);
  reduce(ReduceOp::Min, x.data(), &mn, 1, r, 1);
  char what[160];
  std::snprintf(what, sizeof what, "sum of 300000: got %.9g, exact %.9g", double(sum), exact);
  // 16 eps * sum|x| ~ 0.14 allows for the float blocks; an element lost or counted twice
  // would usually be detected below, with integers.
  CHECK_MSG(std::fabs(sum - exact) <= 16 * 0x1p-23 * abs_sum, what);
  CHECK_MSG(std::fabs(mean - exact / double(r)) <= 16 * 0x1p-23 * abs_sum / double(r), "mean");
  CHECK(mx == *std::max_element(x.begin(), x.end()));
  CHECK(mn == *std::min_element(x.begin(), x.end()));
  // Integers: exact, every chunk boundary included.
  auto xi = small_integers(size_t(r), 78);
  double exact_i = 0;
  for (float v : xi) exact_i += v;
  reduce(ReduceOp::Sum, xi.data(), &sum, 1, r, 1);
  std::snprintf(what, sizeof what, "integer sum of 300000: got %.9g, exact %.9g", double(sum),
                exact_i);
  CHECK_MSG(double(sum) == exact_i, what);
  // NaN anywhere in the long row.
  xi[size_t(r - 3)] = NAN;
  reduce(ReduceOp::Max, xi.data(), &mx, 1, r, 1);
  reduce(ReduceOp::Min, xi.data(), &mn, 1, r, 1);
  CHECK(std::isnan(mx) && std::isnan(mn));
  // Positive and negative infinity in the row: the sum is NaN, as in double.
  x[5] = kInf;
  x[size_t(r - 5)] = -kInf;
  reduce(ReduceOp::Sum, x.data(), &sum, 1, r, 1);
  CHECK(std::isnan(sum));
}

TEST(arg_reduce_matches_ref_with_ties) {
  uint32_t seed = 400;
  for (const Grid& g : grids())
    for (ArgReduceOp op : {ArgReduceOp::ArgMax, ArgReduceOp::ArgMin})
      for (bool last : {false, true}) {
        // Values from {-2..2}: many ties, where the first (or with select_last the last) index
        // must win; a NaN in some columns (several in one), +0 and -0 as a tie.
        auto x = small_integers(size_t(g.outer * g.r * g.inner), seed++, -2, 2);
        for (size_t i = 0; i < x.size(); ++i) {
          if (i % 97 == 13 || i % 101 == 13) x[i] = NAN;
          if (x[i] == 0.0f && i % 2) x[i] = -0.0f;
        }
        std::vector<int32_t> out(size_t(g.outer * g.inner)), want(out.size());
        arg_reduce(op, x.data(), out.data(), g.outer, g.r, g.inner, last);
        ref::arg_reduce(op, x.data(), want.data(), g.outer, g.r, g.inner, last);
        CHECK_MSG(out == want, grid_str(op_name(op), g) + (last ? " select_last" : ""));
      }
}

TEST(arg_reduce_select_last_exact_cases) {
  // One row each (outer 1, inner 1), then the same rows as columns (inner 3, other columns
  // filler): {values}, argmax first/last, argmin first/last.
  struct Case {
    std::vector<float> x;
    int32_t max_first, max_last, min_first, min_last;
  };
  const Case cases[] = {
      {{1, 3, 3, 2}, 1, 2, 0, 0},
      {{2, 0, 5, 0}, 2, 2, 1, 3},
      {{7}, 0, 0, 0, 0},
      {{4, 4, 4, 4, 4}, 0, 4, 0, 4},
      {{-kInf, -kInf}, 0, 1, 0, 1},
      {{0.0f, -0.0f, 0.0f}, 0, 2, 0, 2},  // +0 == -0: a tie
      {{1, NAN, 3, NAN, 0}, 1, 3, 1, 3},  // NaN is the extreme: the first / last NaN
      {{NAN, 1, 2}, 0, 0, 0, 0},
  };
  for (const Case& c : cases) {
    const int64_t r = int64_t(c.x.size());
    const int32_t want[4] = {c.max_first, c.max_last, c.min_first, c.min_last};
    std::vector<float> cols(size_t(r * 3), 9.0f);
    for (int64_t j = 0; j < r; ++j) cols[size_t(j * 3 + 1)] = c.x[size_t(j)];
    int k = 0;
    for (ArgReduceOp op : {ArgReduceOp::ArgMax, ArgReduceOp::ArgMin})
      for (bool last : {false, true}) {
        int32_t got = -1, got_ref = -1;
        arg_reduce(op, c.x.data(), &got, 1, r, 1, last);
        ref::arg_reduce(op, c.x.data(), &got_ref, 1, r, 1, last);
        std::vector<int32_t> col(3, -1);
        arg_reduce(op, cols.data(), col.data(), 1, r, 3, last);
        char what[96];
        std::snprintf(what, sizeof what, "%s last=%d r=%lld: got %d (ref %d, column %d) want %d",
                      op_name(op), int(last), (long long)r, got, got_ref, col[1], want[k]);
        CHECK_MSG(got == want[k] && got_ref == want[k] && col[1] == want[k], what);
        ++k;
      }
  }
}

TEST(reduce_backward_matches_ref) {
  uint32_t seed = 600;
  for (const Grid& g : grids())
    for (ReduceOp op : kReduceOps) {
      const size_t n_in = size_t(g.outer * g.r * g.inner), n_out = size_t(g.outer * g.inner);
      // Max/Min: integer data with ties (the gradient goes to the first maximum only) and a
      // NaN in one row (the gradient goes to the first NaN).
      auto x = op == ReduceOp::Max || op == ReduceOp::Min ? small_integers(n_in, seed++, -3, 3)
                                                          : random_vector(n_in, seed++);
      if (n_in > 2 && g.r > 1) x[n_in / 2] = NAN;
      std::vector<float> y(n_out);
      ref::reduce(op, x.data(), y.data(), g.outer, g.r, g.inner);
      const auto dy = random_vector(n_out, seed++);
      const auto dx0 = random_vector(n_in, seed++);
      std::vector<float> dx = dx0, want = dx0;
      reduce_backward(op, x.data(), y.data(), dy.data(), dx.data(), g.outer, g.r, g.inner);
      ref::reduce_backward(op, x.data(), y.data(), dy.data(), want.data(), g.outer, g.r, g.inner);
      // Sum and Max/Min add dy once per element (exact but for the one rounding of the add);
      // Mean scales by 1/r rounded first: two roundings.
      CHECK_CLOSE(dx.data(), want.data(), n_in, 1.2e-7, 2.4e-7, grid_str(op_name(op), g));
    }
}

TEST(sum_to_shape_patterns) {
  struct Pattern {
    std::vector<int64_t> in, out;
  };
  const Pattern patterns[] = {
      {{4, 5, 6}, {1, 5, 1}},
      {{4, 5, 6}, {4, 1, 6}},
      {{2, 3, 4, 5}, {1, 3, 1, 5}},
      {{4, 5, 6}, {4, 5, 6}},
      {{4, 5, 6}, {1, 1, 1}},
      {{4, 5, 6}, {4, 5, 1}},
      {{4, 5, 6}, {1, 5, 6}},
      {{2, 3, 4, 5}, {2, 1, 4, 1}},
      {{2, 3, 4, 5}, {1, 1, 1, 1}},
      {{4, 1, 6}, {1, 1, 6}},
      {{1, 7}, {1, 1}},
      {{7}, {1}},
      {{3, 1000}, {1, 1000}},
      {{1000, 3}, {1000, 1}},
      {{600, 300}, {1, 300}},
      {{2, 3, 4, 5, 6}, {1, 3, 1, 5, 1}},
      {{300000}, {1}},
      {{0, 5}, {1, 5}},
      {{4, 0}, {4, 1}},
      {{3, 0, 2}, {1, 0, 2}},
      {{0}, {1}},
      {{0, 3}, {0, 3}},
  };
  uint32_t seed = 800;
  for (const Pattern& p : patterns) {
    Shape in, out;
    in.ndim = out.ndim = int(p.in.size());
    for (size_t d = 0; d < p.in.size(); ++d) in.dims[d] = p.in[d], out.dims[d] = p.out[d];
    std::string what = "sum_to_shape [";
    for (int64_t d : p.in) what += std::to_string(d) + ",";
    what += "] -> [";
    for (int64_t d : p.out) what += std::to_string(d) + ",";
    what += "]";
    const size_t n_out = size_t(out.numel());
    for (bool integers : {false, true}) {
      auto x = integers ? small_integers(size_t(in.numel()), seed++)
                        : random_vector(size_t(in.numel()), seed++);
      std::vector<float> got(n_out + 1, 7.0f), want(n_out);
      sum_to_shape(x.data(), in, got.data(), out);
      ref::sum_to_shape(x.data(), in, want.data(), out);
      CHECK_MSG(got[n_out] == 7.0f, what + ": wrote past the output");
      // Integers are exact; random data within 16 eps of the summed count (|x| < 1).
      const double atol = integers ? 0.0 : 16 * 0x1p-23 * double(in.numel()) / double(n_out + 1);
      CHECK_CLOSE(got.data(), want.data(), n_out, atol, integers ? 1e-12 : 1.2e-7,
                  what + (integers ? " integers" : ""));
    }
  }
}

// ---------------------------------------------------------------------------------------
// Softmax
// ---------------------------------------------------------------------------------------

TEST(softmax_forward_matches_ref) {
  uint32_t seed = 1000;
  for (const Grid& g : grids())
    for (bool log : {false, true}) {
      const size_t n = size_t(g.outer * g.r * g.inner);
      auto x = random_vector(n, seed++, -10.0f, 10.0f);
      std::vector<float> y(n + 1, 7.0f), want(n);
      softmax_forward(x.data(), y.data(), g.outer, g.r, g.inner, log);
      ref::softmax_forward(x.data(), want.data(), g.outer, g.r, g.inner, log);
      const std::string what = grid_str(log ? "log_softmax" : "softmax", g);
      CHECK_MSG(y[n] == 7.0f, what + ": wrote past the output");
      // softmax: x - max is rounded in float, |x - max| <= 20 here: up to 20 * 2^-24 = 1.2e-6
      // relative in exp(x - max); plus exp's ulp, the normaliser (blocked, double totals)
      // and the multiply: 2e-6, with a tiny absolute floor for terms that underflow.
      // log-softmax: (x - max) - log(sum), terms up to 20 + log(50000): absolute 4 ulp of 32.
      const double atol = log ? 1.5e-5 : 1e-30, rtol = log ? 2.4e-7 : 2e-6;
      CHECK_CLOSE(y.data(), want.data(), n, atol, rtol, what);
      // In place.
      std::vector<float> inplace = x;
      softmax_forward(inplace.data(), inplace.data(), g.outer, g.r, g.inner, log);
      CHECK_CLOSE(inplace.data(), want.data(), n, atol, rtol, what + " in place");
    }
}

TEST(softmax_stability_and_nan) {
  // Max subtraction: softmax([1000, 1001]) is finite and equals softmax([0, 1]) exactly
  // (x - max is exact in both). Checked on the contiguous path and as a column (inner > 1).
  for (int64_t inner : {1, 3}) {
    std::vector<float> big(size_t(2 * inner)), small(big.size());
    for (int64_t i = 0; i < inner; ++i) {
      big[size_t(i)] = 1000.0f, big[size_t(inner + i)] = 1001.0f;
      small[size_t(i)] = 0.0f, small[size_t(inner + i)] = 1.0f;
    }
    for (bool log : {false, true}) {
      std::vector<float> yb(big.size()), ys(big.size());
      softmax_forward(big.data(), yb.data(), 1, 2, inner, log);
      softmax_forward(small.data(), ys.data(), 1, 2, inner, log);
      for (size_t i = 0; i < yb.size(); ++i) CHECK(std::isfinite(yb[i]) && yb[i] == ys[i]);
      const double e = std::exp(1.0);
      const float want[2] = {float(log ? -std::log1p(e) : 1.0 / (1.0 + e)),
                             float(log ? 1.0 - std::log1p(e) : e / (1.0 + e))};
      const float got[2] = {yb[0], yb[size_t(inner)]};
      CHECK_CLOSE(got, want, 2, 1e-7, 4e-7, log ? "log_softmax([1000,1001])" : "softmax");
    }
    // log-softmax of [-1e4, 1e4] = [-2e4, 0]: finite, no exp overflow.
    std::vector<float> wide(size_t(2 * inner)), y(wide.size());
    for (int64_t i = 0; i < inner; ++i) wide[size_t(i)] = -1e4f, wide[size_t(inner + i)] = 1e4f;
    softmax_forward(wide.data(), y.data(), 1, 2, inner, true);
    CHECK(y[0] == -2e4f && y[size_t(inner)] == 0.0f);
    softmax_forward(wide.data(), y.data(), 1, 2, inner, false);
    CHECK(y[0] == 0.0f && y[size_t(inner)] == 1.0f);
  }
  // A NaN makes its whole row (or column) NaN and leaves the others alone.
  for (int64_t inner : {1, 3, 600})
    for (int64_t r : {1, 5, 33})
      for (bool log : {false, true}) {
        auto x = random_vector(size_t(2 * r * inner), uint32_t(r + inner));
        x[size_t((r / 2) * inner)] = NAN;  // slice 0, column 0
        std::vector<float> y(x.size()), want(x.size());
        softmax_forward(x.data(), y.data(), 2, r, inner, log);
        ref::softmax_forward(x.data(), want.data(), 2, r, inner, log);
        const Grid g{2, r, inner};
        for (int64_t j = 0; j < r; ++j)
          CHECK_MSG(std::isnan(y[size_t(j * inner)]), grid_str("softmax NaN row", g));
        CHECK_CLOSE(y.data(), want.data(), y.size(), 1e-6, 1e-6, grid_str("softmax NaN", g));
      }
}

TEST(softmax_backward_matches_ref) {
  uint32_t seed = 1200;
  for (const Grid& g : grids())
    for (bool log : {false, true}) {
      const size_t n = size_t(g.outer * g.r * g.inner);
      auto x = random_vector(n, seed++, -5.0f, 5.0f);
      std::vector<float> y(n);
      ref::softmax_forward(x.data(), y.data(), g.outer, g.r, g.inner, log);
      const auto dy = random_vector(n, seed++);
      const auto dx0 = random_vector(n, seed++);
      std::vector<float> dx = dx0, want = dx0;
      softmax_backward(y.data(), dy.data(), dx.data(), g.outer, g.r, g.inner, log);
      ref::softmax_backward(y.data(), dy.data(), want.data(), g.outer, g.r, g.inner, log);
      // s = sum(dy * y) or sum(dy) (blocked, double totals) is within an ulp or two of |s|
      // <= sqrt(r); it is multiplied by y or exp(y) <= 1, and summed with dx0 and dy of
      // magnitude <= 1: a few ulp of 1 absolute.
      CHECK_CLOSE(dx.data(), want.data(), n, 4e-7, 4e-7,
                  grid_str(log ? "log_softmax_backward" : "softmax_backward", g));
    }
}
