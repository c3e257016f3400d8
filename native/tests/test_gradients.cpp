// Finite-difference checks of every backward kernel's formula: unary_backward and
// binary_backward against central differences of ref::unary_value / ref::binary_value in
// double; softmax/log-softmax, reduce and slice backward against central differences of a
// scalar loss L = sum(g * f(x)) for a random upstream gradient g, computed in the test. The
// comparisons (Greater .. NotEqual) are piecewise constant: their gradient is zero, checked
// as such (a finite difference across a step would be huge, elsewhere trivially 0).
#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>

#include "axon/kernels.h"
#include "axon/ref.h"
#include "check.h"

using namespace axon;
using axon::test::random_vector;

namespace {

// Central difference step: relative to |x| so x +- h stays well resolved in double, small
// enough that the h^2 f''' / 6 truncation error stays below 1e-6 relative at these points.
double step_for(double x) { return 1e-4 * std::max(1.0, std::fabs(x)); }

// The kernels work in float (y read back as float, f' in float ops): about 1e-6 relative.
// Near-cancelling derivatives like 1 - tanh^2 or y (1 - y) with y within 1e-3 of 1 lose
// relative accuracy to y's rounding, hence the absolute floor. A wrong formula is off by O(1).
constexpr double kAtol = 1e-6, kRtol = 1e-4;

struct UnarySpec {
  UnaryOp op;
  float param;
  double lo, hi;   // sample interval
  bool kink_at_0;  // skip |x| < 1e-3
};

std::vector<UnarySpec> unary_specs() {
  std::vector<UnarySpec> s = {
      {UnaryOp::Identity, 0, -6, 6, false},
      {UnaryOp::Relu, 0, -6, 6, true},
      {UnaryOp::LeakyRelu, 0.01f, -6, 6, true},
      {UnaryOp::LeakyRelu, 0.2f, -6, 6, true},
      {UnaryOp::Elu, 1.0f, -6, 6, true},
      {UnaryOp::Elu, 0.5f, -6, 6, true},
      {UnaryOp::Selu, 0, -6, 6, true},
      {UnaryOp::Sigmoid, 0, -8, 8, false},
      {UnaryOp::Tanh, 0, -5, 5, false},
      {UnaryOp::GeluErf, 0, -6, 6, false},
      {UnaryOp::GeluTanh, 0, -6, 6, false},
      {UnaryOp::Softplus, 1.0f, -15, 25, false},
      {UnaryOp::Softplus, 2.0f, -8, 14, false},
      {UnaryOp::Silu, 0, -8, 8, false},
      {UnaryOp::Exp, 0, -8, 8, false},
      {UnaryOp::Log, 0, 0.05, 50, false},
      {UnaryOp::Sqrt, 0, 0.05, 50, false},
      {UnaryOp::Abs, 0, -6, 6, true},
      {UnaryOp::Neg, 0, -6, 6, false},
      {UnaryOp::Square, 0, -6, 6, false},
      {UnaryOp::Reciprocal, 0, 0.2, 5, false},
      // Hardswish's kinks are at -3 and 3: each smooth piece on its own.
      {UnaryOp::Hardswish, 0, -6, -3.05, false},
      {UnaryOp::Hardswish, 0, -2.95, 2.95, false},
      {UnaryOp::Hardswish, 0, 3.05, 6, false},
      {UnaryOp::Mish, 0, -8, 8, false},
      {UnaryOp::Erf, 0, -4, 4, false},
  };
  for (float p : {0.0f, 1.0f, 2.0f, 3.0f, 0.5f, -1.0f, -2.0f, 2.5f, -1.5f, 4.0f})
    s.push_back({UnaryOp::Pow, p, 0.2, 5, false});
  return s;
}

// Sample points in [lo, hi], plus their negatives for ops on (0, inf) that are defined on
// both signs (Reciprocal, integer powers).
std::vector<float> sample_points(const UnarySpec& s, uint32_t seed) {
  auto x = random_vector(300, seed, float(s.lo), float(s.hi));
  const bool both_signs =
      s.op == UnaryOp::Reciprocal || (s.op == UnaryOp::Pow && s.param == std::floor(s.param));
  if (both_signs)
    for (size_t i = 0; i < x.size(); i += 2) x[i] = -x[i];
  std::vector<float> kept;
  for (float v : x) {
    if (s.kink_at_0 && std::fabs(v) < 1e-3f) continue;
    // Softplus switches to the identity at beta x = 20 (a jump of ~1e-9 in value).
    if (s.op == UnaryOp::Softplus && std::fabs(double(s.param) * v - 20.0) < 0.05) continue;
    kept.push_back(v);
  }
  return kept;
}

}  // namespace

TEST(grad_unary_finite_differences) {
  uint32_t seed = 1;
  for (const UnarySpec& s : unary_specs()) {
    const auto x = sample_points(s, seed++);
    const size_t n = x.size();
    std::vector<float> y(n), dy(n, 1.0f), dx(n, 0.0f), fd(n);
    ref::unary_forward(s.op, x.data(), y.data(), int64_t(n), s.param);
    unary_backward(s.op, x.data(), y.data(), dy.data(), dx.data(), int64_t(n), s.param);
    for (size_t i = 0; i < n; ++i) {
      const double h = step_for(x[i]);
      fd[i] = float(
          (ref::unary_value(s.op, x[i] + h, s.param) - ref::unary_value(s.op, x[i] - h, s.param)) /
          (2 * h));
    }
    char what[96];
    std::snprintf(what, sizeof what, "d %s(param=%g)/dx vs finite difference", op_name(s.op),
                  double(s.param));
    CHECK_CLOSE(dx.data(), fd.data(), n, kAtol, kRtol, what);
  }
}

TEST(grad_binary_finite_differences) {
  const BinaryOp ops[] = {BinaryOp::Add, BinaryOp::Sub,     BinaryOp::Mul,    BinaryOp::Div,
                          BinaryOp::Pow, BinaryOp::Maximum, BinaryOp::Minimum};
  uint32_t seed = 100;
  for (BinaryOp op : ops) {
    const size_t n = 300;
    auto a = random_vector(n, seed++, -3.0f, 3.0f);
    auto b = random_vector(n, seed++, -3.0f, 3.0f);
    // Per element: does d/db have a finite difference here? Pow with a < 0 has no real values
    // for b off the integers; there d/db = y log(a) must be NaN (as in the ref).
    std::vector<bool> check_b(n, true);
    for (size_t i = 0; i < n; ++i) {
      if (op == BinaryOp::Div && std::fabs(b[i]) < 0.3f) b[i] = std::copysign(0.3f, b[i]) + b[i];
      if (op == BinaryOp::Pow) {
        if (i % 3 == 0) {  // negative base, integer exponent: d/da only
          a[i] = -std::fabs(a[i]) - 0.3f;
          b[i] = std::round(b[i]);
          check_b[i] = false;
        } else {
          a[i] = 0.3f + std::fabs(a[i]);
        }
      }
      // Maximum/Minimum: keep the operands apart so a +- h never crosses the tie.
      if ((op == BinaryOp::Maximum || op == BinaryOp::Minimum) && std::fabs(a[i] - b[i]) < 0.01f)
        b[i] = a[i] + 0.05f;
    }
    const Shape s = [&] {
      Shape t;
      t.ndim = 1, t.dims[0] = int64_t(n);
      return t;
    }();
    std::vector<float> y(n), dy(n, 1.0f), da(n, 0.0f), db(n, 0.0f);
    ref::binary_forward(op, a.data(), s, b.data(), s, y.data(), s);
    binary_backward(op, a.data(), b.data(), y.data(), dy.data(), da.data(), db.data(), int64_t(n));
    std::vector<float> fa(n), fb(n);
    for (size_t i = 0; i < n; ++i) {
      const double ha = step_for(a[i]), hb = step_for(b[i]);
      fa[i] =
          float((ref::binary_value(op, a[i] + ha, b[i]) - ref::binary_value(op, a[i] - ha, b[i])) /
                (2 * ha));
      fb[i] = check_b[i] ? float((ref::binary_value(op, a[i], b[i] + hb) -
                                  ref::binary_value(op, a[i], b[i] - hb)) /
                                 (2 * hb))
                         : NAN;
    }
    CHECK_CLOSE(da.data(), fa.data(), n, kAtol, kRtol, std::string("d ") + op_name(op) + "/da");
    CHECK_CLOSE(db.data(), fb.data(), n, kAtol, kRtol, std::string("d ") + op_name(op) + "/db");
  }
}

TEST(grad_comparisons_are_zero) {
  // binary_backward adds nothing to da and db: bitwise unchanged, even where dy is NaN or
  // infinite (no dy * 0 = NaN), on ties, NaN operands and every vector tail; either may be null.
  const BinaryOp ops[] = {BinaryOp::Greater,   BinaryOp::GreaterEqual, BinaryOp::Less,
                          BinaryOp::LessEqual, BinaryOp::Equal,        BinaryOp::NotEqual};
  uint32_t seed = 900;
  for (BinaryOp op : ops)
    for (int64_t n : {1, 7, 16, 17, 33, 1000, 70000}) {  // 70000: split across threads
      const size_t un = size_t(n);
      auto a = random_vector(un, seed++, -2.0f, 2.0f);
      auto b = random_vector(un, seed++, -2.0f, 2.0f);
      auto dy = random_vector(un, seed++, -2.0f, 2.0f);
      for (size_t i = 0; i < un; i += 3) b[i] = a[i];  // ties, where the step is
      for (size_t i = 1; i < un; i += 7) a[i] = NAN;
      for (size_t i = 2; i < un; i += 5) dy[i] = i % 2 ? NAN : INFINITY;
      std::vector<float> y(un);
      const Shape s = [&] {
        Shape t;
        t.ndim = 1, t.dims[0] = n;
        return t;
      }();
      ref::binary_forward(op, a.data(), s, b.data(), s, y.data(), s);
      // Start from values with -0.0 among them: adding +0 would turn it into +0.
      auto da0 = random_vector(un, seed++, -1.0f, 1.0f), db0 = random_vector(un, seed++);
      da0[0] = -0.0f, db0[un - 1] = -0.0f;
      std::vector<float> da = da0, db = db0, only_a = da0, only_b = db0, ref_da = da0;
      binary_backward(op, a.data(), b.data(), y.data(), dy.data(), da.data(), db.data(), n);
      binary_backward(op, a.data(), b.data(), y.data(), dy.data(), only_a.data(), nullptr, n);
      binary_backward(op, a.data(), b.data(), y.data(), dy.data(), nullptr, only_b.data(), n);
      ref::binary_backward(op, a.data(), b.data(), y.data(), dy.data(), ref_da.data(), nullptr, n);
      const std::string what = std::string("d ") + op_name(op) + " n=" + std::to_string(n);
      const size_t bytes = un * sizeof(float);
      CHECK_MSG(bytes_equal(da.data(), da0.data(), bytes), what + "/da is not zero");
      CHECK_MSG(bytes_equal(db.data(), db0.data(), bytes), what + "/db is not zero");
      CHECK_MSG(bytes_equal(only_a.data(), da0.data(), bytes), what + "/da alone");
      CHECK_MSG(bytes_equal(only_b.data(), db0.data(), bytes), what + "/db alone");
      CHECK_MSG(bytes_equal(ref_da.data(), da0.data(), bytes), what + " (ref twin)");
    }
}

namespace {

struct Layout {
  int64_t outer, r, inner;
};

std::string layout_str(const char* what, const Layout& l) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s (outer=%lld r=%lld inner=%lld)", what, (long long)l.outer,
                (long long)l.r, (long long)l.inner);
  return buf;
}

// L(column) = sum_j g_j f(x)_j, f = softmax or log-softmax over the column, in double.
double softmax_column_loss(const std::vector<double>& x, const std::vector<double>& g, bool log) {
  double mx = -HUGE_VAL;
  for (double v : x) mx = std::max(mx, v);
  double sum = 0;
  for (double v : x) sum += std::exp(v - mx);
  double loss = 0;
  for (size_t j = 0; j < x.size(); ++j)
    loss += g[j] * (log ? (x[j] - mx) - std::log(sum) : std::exp(x[j] - mx) / sum);
  return loss;
}

// Applies fn(column values, column gradient, flat indices) to every (outer, inner) column.
template <class Fn>
void for_each_column(const Layout& l, Fn fn) {
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t i = 0; i < l.inner; ++i) {
      std::vector<int64_t> idx(size_t(l.r));
      for (int64_t j = 0; j < l.r; ++j) idx[size_t(j)] = (o * l.r + j) * l.inner + i;
      fn(o * l.inner + i, idx);
    }
}

const Layout kLayouts[] = {{1, 5, 1},  {3, 7, 1},   {2, 4, 3},    {2, 1, 5},
                           {1, 33, 2}, {2, 17, 40}, {1, 20, 600}, {1, 300, 1}};

}  // namespace

TEST(grad_softmax_finite_differences) {
  uint32_t seed = 200;
  for (const Layout& l : kLayouts)
    for (bool log : {false, true}) {
      const size_t n = size_t(l.outer * l.r * l.inner);
      const auto x = random_vector(n, seed++, -3.0f, 3.0f);
      const auto g = random_vector(n, seed++);  // the upstream gradient dL/dy
      std::vector<float> y(n), dx(n, 0.0f), fd(n);
      ref::softmax_forward(x.data(), y.data(), l.outer, l.r, l.inner, log);
      softmax_backward(y.data(), g.data(), dx.data(), l.outer, l.r, l.inner, log);
      for_each_column(l, [&](int64_t, const std::vector<int64_t>& idx) {
        std::vector<double> xc(idx.size()), gc(idx.size());
        for (size_t j = 0; j < idx.size(); ++j)
          xc[j] = x[size_t(idx[j])], gc[j] = g[size_t(idx[j])];
        for (size_t j = 0; j < idx.size(); ++j) {
          const double h = 1e-4, keep = xc[j];
          xc[j] = keep + h;
          const double up = softmax_column_loss(xc, gc, log);
          xc[j] = keep - h;
          const double down = softmax_column_loss(xc, gc, log);
          xc[j] = keep;
          fd[size_t(idx[j])] = float((up - down) / (2 * h));
        }
      });
      CHECK_CLOSE(dx.data(), fd.data(), n, kAtol, kRtol,
                  layout_str(log ? "log_softmax backward" : "softmax backward", l));
    }
}

TEST(grad_reduce_finite_differences) {
  const ReduceOp ops[] = {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min};
  uint32_t seed = 300;
  for (const Layout& l : kLayouts)
    for (ReduceOp op : ops) {
      const size_t n = size_t(l.outer * l.r * l.inner);
      // Distinct values 6/n >= 5e-4 apart (a shuffled grid), so x +- h (h = 1e-4) never
      // changes which element is the max or min.
      std::vector<float> x(n);
      for (size_t k = 0; k < n; ++k) x[k] = float(-3.0 + 6.0 * double(k) / double(n));
      std::mt19937 gen(seed++);
      std::shuffle(x.begin(), x.end(), gen);
      const auto g = random_vector(size_t(l.outer * l.inner), seed++);
      std::vector<float> y(g.size()), dx(n, 0.0f), fd(n);
      ref::reduce(op, x.data(), y.data(), l.outer, l.r, l.inner);
      reduce_backward(op, x.data(), y.data(), g.data(), dx.data(), l.outer, l.r, l.inner);
      for_each_column(l, [&](int64_t out, const std::vector<int64_t>& idx) {
        auto reduce_col = [&](const std::vector<double>& c) {
          double acc = op == ReduceOp::Max ? -HUGE_VAL : op == ReduceOp::Min ? HUGE_VAL : 0.0;
          for (double v : c) {
            if (op == ReduceOp::Sum || op == ReduceOp::Mean) acc += v;
            if (op == ReduceOp::Max) acc = std::max(acc, v);
            if (op == ReduceOp::Min) acc = std::min(acc, v);
          }
          return op == ReduceOp::Mean ? acc / double(c.size()) : acc;
        };
        std::vector<double> c(idx.size());
        for (size_t j = 0; j < idx.size(); ++j) c[j] = x[size_t(idx[j])];
        for (size_t j = 0; j < idx.size(); ++j) {
          const double h = 1e-4, keep = c[j];
          c[j] = keep + h;
          const double up = g[size_t(out)] * reduce_col(c);
          c[j] = keep - h;
          const double down = g[size_t(out)] * reduce_col(c);
          c[j] = keep;
          fd[size_t(idx[j])] = float((up - down) / (2 * h));
        }
      });
      CHECK_CLOSE(dx.data(), fd.data(), n, kAtol, kRtol,
                  layout_str((std::string("reduce backward ") + op_name(op)).c_str(), l));
    }
}

TEST(grad_slice_finite_differences) {
  // slice_copy is linear, so the central difference of L(x) = sum(g * slice(x)) around x = 0
  // with h = 1 is exact: dL/dx_k = g at the output that reads x_k, 0 where none does.
  struct Case {
    std::vector<int64_t> shape, start, step, out;
  };
  const Case cases[] = {
      {{4, 5, 6}, {3, 0, 5}, {-1, 2, -2}, {4, 3, 3}},
      {{10}, {9}, {-3}, {4}},
      {{3, 7}, {0, 6}, {2, -1}, {2, 7}},
      {{2, 3, 4, 5}, {1, 0, 3, 1}, {-1, 1, -1, 3}, {2, 3, 4, 2}},
  };
  uint32_t seed = 400;
  for (const Case& c : cases) {
    Shape s, os;
    s.ndim = os.ndim = int(c.shape.size());
    for (size_t d = 0; d < c.shape.size(); ++d) s.dims[d] = c.shape[d], os.dims[d] = c.out[d];
    const size_t n = size_t(s.numel()), m = size_t(os.numel());
    const auto g = random_vector(m, seed++);
    std::vector<float> dx(n, 0.0f), fd(n);
    slice_backward(g.data(), os, c.start.data(), c.step.data(), s, dx.data());
    std::vector<float> x(n, 0.0f), out(m);
    auto loss = [&] {
      ref::slice_copy(x.data(), s, c.start.data(), c.step.data(), os, out.data());
      double l = 0;
      for (size_t i = 0; i < m; ++i) l += double(g[i]) * out[i];
      return l;
    };
    for (size_t k = 0; k < n; ++k) {
      x[k] = 1.0f;
      const double up = loss();
      x[k] = -1.0f;
      const double down = loss();
      x[k] = 0.0f;
      fd[k] = float((up - down) / 2);
    }
    CHECK_CLOSE(dx.data(), fd.data(), n, 0.0, 1e-12, "slice backward vs finite difference");
  }
}
