// Elementwise kernels against their naive double-precision twins (axon/ref.h): every UnaryOp
// forward, in place and backward on awkward lengths (vector tails of width 1/8/16) with special
// values; BinaryOp forward under broadcasting, binary_scalar in both orders, and
// binary_backward (Pow's a<0 / a==0 cases, Maximum/Minimum ties), select (Where) forward and
// backward bit for bit on special values.
#include <algorithm>
#include <cfloat>
#include <cstring>
#include <string>

#include "axon/kernels.h"
#include "axon/ref.h"
#include "check.h"

using namespace axon;
using axon::test::random_vector;

namespace {

const int64_t kLengths[] = {0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 127, 513, 1000, 4099};
constexpr float kInf = INFINITY;
constexpr float kNan = NAN;
// Two subnormal ulps: results that underflow may round differently at the last subnormal bit.
constexpr double kSubnormalAtol = 0x1p-148;

// Values every op must handle: special values, signed zeros, tiny and large magnitudes, and
// the points where piecewise definitions switch (0, Softplus's beta*x = 20, tanh's 0.625,
// expm1's ln2/2).
const float kSpecials[] = {kNan,   kInf,    -kInf,  0.0f,    -0.0f,   1e-30f,   -1e-30f, 30.0f,
                           -30.0f, 90.0f,   -90.0f, 1.0f,    -1.0f,   1e-3f,    -1e-3f,  0.5f,
                           20.0f,  10.0f,   0.625f, -0.625f, 0.3466f, -0.3466f, 1e30f,   -1e30f,
                           5e-39f, -5e-39f, 88.0f,  -88.0f,  100.0f,  -100.0f,  3.0f,    -3.0f};

// Real: any float. Positive: mostly > 0 (log, sqrt), a few negatives kept so the NaN results
// are checked too. Moderate (the pow bases): finite values in +-[0.01, 100] besides the
// specials, since exp(p log|x|) loses about |p log x| ulp, and the exact forms (x*x, 1/(x*x))
// and p * x^(p-1) overflow or go subnormal in intermediates for |x| beyond ~1e19 or below
// ~1e-19 where the true value would still be a (barely) finite float.
enum class Domain { Real, Positive, Moderate, ModeratePositive };

// n inputs: every 5th a special value (at a seed-dependent phase, so specials land in vector
// bodies and tails alike, even for n < 5), the rest a mix of [-8, 8], [-100, 100] and
// log-spaced magnitudes 1e-30..1e30 of both signs.
std::vector<float> make_inputs(int64_t n, uint32_t seed, Domain dom) {
  const bool moderate = dom == Domain::Moderate || dom == Domain::ModeratePositive;
  const bool positive = dom == Domain::Positive || dom == Domain::ModeratePositive;
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  size_t s = seed % (sizeof kSpecials / sizeof kSpecials[0]);
  for (int64_t i = 0; i < n; ++i) {
    float v;
    const float pick = u(gen);
    if ((i + seed) % 5 == 0) {
      v = kSpecials[s++ % (sizeof kSpecials / sizeof kSpecials[0])];
    } else if (pick < 0.5f) {
      v = -8.0f + 16.0f * u(gen);
    } else if (pick < 0.75f) {
      v = -100.0f + 200.0f * u(gen);
    } else if (moderate) {
      v = std::pow(10.0f, -2.0f + 4.0f * u(gen)) * (u(gen) < 0.5f ? -1.0f : 1.0f);
    } else {
      v = std::pow(10.0f, -30.0f + 60.0f * u(gen)) * (u(gen) < 0.5f ? -1.0f : 1.0f);
    }
    if (positive && u(gen) < 0.9f) v = std::fabs(v);
    x[static_cast<size_t>(i)] = v;
  }
  return x;
}

struct UnaryCase {
  UnaryOp op;
  float param;
  Domain dom;
  // Forward tolerance: |fast - ref| <= atol + rtol |ref|.
  double atol, rtol;
  // Backward tolerance on dy * f'(x) alone (dx starts at 0).
  double g_atol, g_rtol;
};

// Why each tolerance (ulp = 2^-23 relative, about 1.2e-7):
// - Identity, Relu, LeakyRelu, Abs, Neg, Square, Reciprocal, Sqrt and Pow 0/1/2/0.5/-1 are one
//   correctly rounded float operation, so they must equal the double result rounded to float
//   (double rounding is innocuous for + - * / sqrt); the 1e-9 rtol only avoids 0/0.
// - Exp, Sigmoid, Tanh, Log: measured <= 2.3 ulp (test_vmath); 3e-7 is 2.5 to 5 ulp,
//   depending on where the value sits in its binade.
// - Elu/Selu: expm1 (<= 1.5 ulp) times alpha (and Selu's scale): 2 more roundings.
// - Softplus, Silu: a log1p / sigmoid plus 2-3 roundings: 6e-7. Silu backward uses
//   s (1 + x (1 - s)) as PyTorch does: 1 - s from a rounded s near 1 carries up to half an
//   ulp of 1 absolute, times |x| <= ~17 before s rounds to 1: ~1e-6, so 1.5e-6.
// - GeluErf: Phi's erfc fit (~7 ulp near 0, test_vmath) plus a product: 1e-6.
//   Silu and GeluErf for x < -87 (resp. < -13) multiply a subnormal sigmoid / Phi (absolute
//   error ~2^-149) by |x| <= 104: atol 2e-43.
// - GeluTanh: sigmoid(2u) with u = sqrt(2/pi)(x + 0.044715 x^3) rounded in float; its relative
//   error grows like |2u| * eps in the left tail (|2u| ~ 16 at x = -5), so 3e-6 and values
//   below 1e-10 (x < -4.9) checked absolutely.
// - Pow 3, -2: two roundings. Pow 2.5, -1.5, 4: exp(p log|x|), error ~ |p log x| ulp, and
//   |p log x| <= 4 * log(100) ~ 18 for the finite inputs here: 4e-6.
// - Hardswish: x + 3, a product and a division, 3 roundings (x + 3 is exact near -3, where it
//   cancels); backward x / 3 + 1/2, 2 roundings, absolute near its zero at x = -1.5.
// - Mish: tanh(softplus(x)) as e (e + 2) / (e (e + 2) + 2), e = exp(x): exp's 2.3 ulp plus 4
//   roundings: 1e-6; below x ~ -87 e is subnormal (absolute error 2^-149 times |x|): atol 1e-41.
// Backward: f' formulas in float with dx = 0; atol 2e-7 covers the sign changes of f' (gelu
// near x = -0.75, silu near -1.28) and 1 - y*y, y*(1-y) with y within an ulp of 1.
std::vector<UnaryCase> unary_cases() {
  const double exact = 1e-9, sub = kSubnormalAtol;
  std::vector<UnaryCase> c = {
      {UnaryOp::Identity, 0, Domain::Real, 0, exact, 0, exact},
      {UnaryOp::Relu, 0, Domain::Real, 0, exact, 0, exact},
      {UnaryOp::LeakyRelu, 0.01f, Domain::Real, 0, exact, 0, exact},
      {UnaryOp::LeakyRelu, 0.2f, Domain::Real, 0, exact, 0, exact},
      {UnaryOp::Elu, 1.0f, Domain::Real, sub, 4e-7, 2e-7, 4e-7},
      {UnaryOp::Elu, 0.5f, Domain::Real, sub, 4e-7, 2e-7, 4e-7},
      {UnaryOp::Selu, 0, Domain::Real, sub, 5e-7, 2e-7, 5e-7},
      {UnaryOp::Sigmoid, 0, Domain::Real, sub, 3e-7, 2e-7, 4e-7},
      {UnaryOp::Tanh, 0, Domain::Real, sub, 3e-7, 2e-7, 4e-7},
      {UnaryOp::GeluErf, 0, Domain::Real, 2e-43, 1e-6, 2e-7, 1e-6},
      {UnaryOp::GeluTanh, 0, Domain::Real, 1e-10, 3e-6, 2e-7, 3e-6},
      {UnaryOp::Softplus, 1.0f, Domain::Real, sub, 6e-7, 2e-7, 6e-7},
      {UnaryOp::Softplus, 2.0f, Domain::Real, sub, 6e-7, 2e-7, 6e-7},
      {UnaryOp::Silu, 0, Domain::Real, 2e-43, 6e-7, 2e-7, 1.5e-6},
      {UnaryOp::Exp, 0, Domain::Real, sub, 3e-7, 2e-7, 3e-7},
      {UnaryOp::Log, 0, Domain::Positive, sub, 3e-7, 0, 1.3e-7},
      {UnaryOp::Sqrt, 0, Domain::Positive, 0, exact, 0, 2.5e-7},
      {UnaryOp::Abs, 0, Domain::Real, 0, exact, 0, exact},
      {UnaryOp::Neg, 0, Domain::Real, 0, exact, 0, exact},
      {UnaryOp::Square, 0, Domain::Real, 0, exact, 0, 1.3e-7},
      {UnaryOp::Reciprocal, 0, Domain::Real, 0, exact, sub, 2.5e-7},
      {UnaryOp::Hardswish, 0, Domain::Real, sub, 4e-7, 2e-7, 4e-7},
      {UnaryOp::Mish, 0, Domain::Real, 1e-41, 1e-6, 5e-7, 1.5e-6},
      // Erf: the series below 0.5 (< 3e-8), 2 Phi(x sqrt2) - 1 above (an absolute 1 ulp of 1).
      {UnaryOp::Erf, 0, Domain::Real, 1.5e-7, 1e-6, 2e-7, 1e-6},
  };
  for (float p : {0.0f, 1.0f, 2.0f, 3.0f, 0.5f, -1.0f, -2.0f, 2.5f, -1.5f, 4.0f}) {
    const bool one_op = p == 0.0f || p == 1.0f || p == 2.0f || p == 0.5f || p == -1.0f;
    const bool two_ops = p == 3.0f || p == -2.0f;
    const double rtol = one_op ? exact : two_ops ? 2.5e-7 : 4e-6;
    const bool fractional = p != std::floor(p);
    // Backward is dy * p * pow(x, p - 1): pow(x, p - 1) takes an exact form (up to 2
    // roundings) for p = 1, 2, 3, -1, 4, and the generic exp/log path for 2.5, -1.5, 0.5 and -2.
    const double g_rtol = p == 0.0f || p == 1.0f || p == 2.0f    ? 1.3e-7
                          : p == 3.0f || p == -1.0f || p == 4.0f ? 5e-7
                                                                 : 4e-6;
    const Domain dom = fractional ? Domain::ModeratePositive : Domain::Moderate;
    c.push_back({UnaryOp::Pow, p, dom, sub, rtol, sub, g_rtol});
  }
  return c;
}

std::string describe(const char* what, UnaryOp op, float param, int64_t n) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s %s(param=%g) n=%lld", what, op_name(op), double(param),
                (long long)n);
  return buf;
}

// Inputs where the kernel knowingly departs from std:: (listed in the report, not hidden):
// pow(-inf, p) for a fractional p is NaN here but +inf / +0 in std::pow.
void drop_known_deviations(const UnaryCase& c, std::vector<float>& x) {
  if (c.op == UnaryOp::Pow && c.param != std::floor(c.param))
    for (float& v : x)
      if (v == -kInf) v = -2.0f;
}

}  // namespace

TEST(unary_forward_matches_ref) {
  uint32_t seed = 1;
  for (const UnaryCase& c : unary_cases())
    for (int64_t n : kLengths) {
      auto x = make_inputs(n, seed++, c.dom);
      drop_known_deviations(c, x);
      // One extra sentinel element past n: the tail store must not write it.
      std::vector<float> y(static_cast<size_t>(n) + 1, 7.0f), want(static_cast<size_t>(n));
      unary_forward(c.op, x.data(), y.data(), n, c.param);
      ref::unary_forward(c.op, x.data(), want.data(), n, c.param);
      CHECK_CLOSE(y.data(), want.data(), size_t(n), c.atol, c.rtol,
                  describe("forward", c.op, c.param, n));
      CHECK_MSG(y[static_cast<size_t>(n)] == 7.0f,
                describe("forward wrote past n", c.op, c.param, n));
      // In place (x == y) gives the same result.
      std::vector<float> inplace = x;
      unary_forward(c.op, inplace.data(), inplace.data(), n, c.param);
      CHECK_CLOSE(inplace.data(), want.data(), size_t(n), c.atol, c.rtol,
                  describe("in-place forward", c.op, c.param, n));
    }
}

TEST(unary_backward_matches_ref_and_accumulates) {
  uint32_t seed = 500;
  for (const UnaryCase& c : unary_cases())
    for (int64_t n : kLengths) {
      auto x = make_inputs(n, seed++, c.dom);
      drop_known_deviations(c, x);
      const size_t un = static_cast<size_t>(n);
      std::vector<float> y(un);
      ref::unary_forward(c.op, x.data(), y.data(), n, c.param);  // y = f(x), shared by both
      auto dy = random_vector(un, seed + 7000, -2.0f, 2.0f);
      // 1) dx = 0: the derivative itself.
      std::vector<float> dx(un + 1, 0.0f), want(un, 0.0f);
      dx[un] = 7.0f;
      unary_backward(c.op, x.data(), y.data(), dy.data(), dx.data(), n, c.param);
      ref::unary_backward(c.op, x.data(), y.data(), dy.data(), want.data(), n, c.param);
      CHECK_CLOSE(dx.data(), want.data(), un, c.g_atol, c.g_rtol,
                  describe("backward", c.op, c.param, n));
      CHECK_MSG(dx[un] == 7.0f, describe("backward wrote past n", c.op, c.param, n));
      // 2) dx pre-filled: the kernel must add to it. The tolerance is taken relative to both
      // terms (|dx0| + |dy f'|), since the sum can cancel.
      const auto dx0 = random_vector(un, seed + 9000, -1.0f, 1.0f);
      std::vector<float> acc = dx0, want_acc = dx0;
      unary_backward(c.op, x.data(), y.data(), dy.data(), acc.data(), n, c.param);
      ref::unary_backward(c.op, x.data(), y.data(), dy.data(), want_acc.data(), n, c.param);
      for (size_t i = 0; i < un; ++i) {
        const double scale = std::fabs(dx0[i]) + std::fabs(want[i]);
        const double tol = c.g_atol + (c.g_rtol + 1.2e-7) * scale;
        const bool same_special = (std::isnan(acc[i]) && std::isnan(want_acc[i])) ||
                                  (std::isinf(want_acc[i]) && acc[i] == want_acc[i]);
        if (!same_special && !(std::fabs(double(acc[i]) - double(want_acc[i])) <= tol)) {
          char buf[160];
          std::snprintf(buf, sizeof buf, ": element %zu (x=%g): dx0=%g got %.9g want %.9g", i,
                        double(x[i]), double(dx0[i]), double(acc[i]), double(want_acc[i]));
          CHECK_MSG(false, describe("backward accumulate", c.op, c.param, n) + buf);
          break;
        }
      }
      // 3) overwrite: whatever dx held (NaN here) is replaced by the derivative itself, and
      // nothing past n is touched.
      std::vector<float> over(un + 1, NAN);
      over[un] = 7.0f;
      unary_backward(c.op, x.data(), y.data(), dy.data(), over.data(), n, c.param, true);
      for (size_t i = 0; i < un; ++i)
        if (!((std::isnan(over[i]) && std::isnan(dx[i])) || over[i] == dx[i])) {
          CHECK_MSG(false, describe("backward overwrite", c.op, c.param, n) + ": element " +
                               std::to_string(i));
          break;
        }
      CHECK_MSG(over[un] == 7.0f, describe("backward overwrite wrote past n", c.op, c.param, n));
    }
}

// ---------------------------------------------------------------------------------------
// Binary ops
// ---------------------------------------------------------------------------------------

namespace {

const BinaryOp kComparisons[] = {BinaryOp::Greater,   BinaryOp::GreaterEqual, BinaryOp::Less,
                                 BinaryOp::LessEqual, BinaryOp::Equal,        BinaryOp::NotEqual};
const BinaryOp kBinaryOps[] = {BinaryOp::Add,     BinaryOp::Sub,       BinaryOp::Mul,
                               BinaryOp::Div,     BinaryOp::Pow,       BinaryOp::Maximum,
                               BinaryOp::Minimum, BinaryOp::Greater,   BinaryOp::GreaterEqual,
                               BinaryOp::Less,    BinaryOp::LessEqual, BinaryOp::Equal,
                               BinaryOp::NotEqual};

bool is_comparison(BinaryOp op) {
  return std::find(std::begin(kComparisons), std::end(kComparisons), op) != std::end(kComparisons);
}

Shape shape_of(std::initializer_list<int64_t> dims) {
  Shape s;
  for (int64_t d : dims) s.dims[s.ndim++] = d;
  return s;
}

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (int i = 0; i < s.ndim; ++i) r += (i ? "," : "") + std::to_string(s.dims[i]);
  return r + "]";
}

// Operands for op: Pow gets bases in [-3, 3] with half the exponents integers (negative bases
// then have defined results) and the rest in [-2.5, 2.5]; Maximum/Minimum get exact ties in
// a quarter of the elements when both operands have the same length. Comparisons get the
// integers -3..3 (ties in about a seventh of the pairs, broadcast or not), -0 for every 0 of
// b (+0 == -0), and a NaN every 13th element of a and every 11th of b.
void binary_operands(BinaryOp op, std::vector<float>& a, std::vector<float>& b, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  for (auto& v : a) v = u(gen);
  for (auto& v : b) v = u(gen);
  if (op == BinaryOp::Pow)
    for (size_t i = 0; i < b.size(); ++i) b[i] = i % 2 ? std::round(b[i]) : b[i] * 0.8f;
  if ((op == BinaryOp::Maximum || op == BinaryOp::Minimum) && a.size() == b.size())
    for (size_t i = 0; i < a.size(); i += 4) b[i] = a[i];
  if (is_comparison(op)) {
    for (auto& v : a) v = std::round(v);
    for (auto& v : b) v = std::round(v) == 0.0f ? -0.0f : std::round(v);
    for (size_t i = 5; i < a.size(); i += 13) a[i] = kNan;
    for (size_t i = 3; i < b.size(); i += 11) b[i] = kNan;
  }
}

// Bitwise-exact ops compare with rtol 1e-9 (double rounding of + - * / is innocuous); Pow is
// exp(b log|a|), error ~ |b log|a|| ulp plus exp/log's own: |b log|a|| reaches ~30 for the
// smallest results these operands give (1e-13), so 30 ulp of 2^-23 (3.6e-6) bounds it.
double binary_rtol(BinaryOp op) { return op == BinaryOp::Pow ? 4e-6 : 1e-9; }
double binary_atol(BinaryOp op) { return op == BinaryOp::Pow ? kSubnormalAtol : 0.0; }

}  // namespace

TEST(binary_forward_broadcast_matches_ref) {
  struct Pair {
    Shape a, b;
  };
  const Pair pairs[] = {
      {shape_of({5}), shape_of({5})},
      {shape_of({1}), shape_of({1})},
      {shape_of({3, 4}), shape_of({3, 4})},
      {shape_of({2, 3, 17}), shape_of({2, 3, 17})},
      {shape_of({1}), shape_of({7})},
      {shape_of({33}), shape_of({1})},
      {shape_of({1, 1}), shape_of({4, 5})},
      {shape_of({4, 5}), shape_of({1, 1})},
      {shape_of({4, 5}), shape_of({1, 5})},
      {shape_of({1, 5}), shape_of({4, 5})},
      {shape_of({4, 5}), shape_of({4, 1})},
      {shape_of({4, 1}), shape_of({4, 5})},
      {shape_of({4, 1}), shape_of({1, 5})},
      {shape_of({4, 1, 3}), shape_of({1, 5, 1})},
      {shape_of({1, 5, 1}), shape_of({4, 1, 3})},
      {shape_of({2, 3, 4, 5}), shape_of({1, 3, 1, 5})},
      {shape_of({2, 1, 4, 1}), shape_of({1, 3, 1, 5})},
      {shape_of({1, 1, 1, 33}), shape_of({2, 3, 4, 33})},
      {shape_of({2, 3, 1, 17}), shape_of({2, 3, 17, 17})},
      {shape_of({2, 3, 4, 1}), shape_of({2, 3, 4, 1})},
      {shape_of({1, 3, 1, 1}), shape_of({2, 1, 5, 7})},
      {shape_of({3, 1000}), shape_of({1, 1000})},
      {shape_of({1000, 1}), shape_of({1, 33})},
      {shape_of({300, 513}), shape_of({1, 513})},  // > 64k elements: threaded rows
      {shape_of({300, 1}), shape_of({300, 513})},
      // One collapsed row past the grain: split along the row (same shapes; a scalar operand).
      {shape_of({3, 70001}), shape_of({3, 70001})},
      {shape_of({1}), shape_of({140003})},
      {shape_of({140003}), shape_of({1})},
      {shape_of({0, 3}), shape_of({1, 3})},
      {shape_of({2, 0}), shape_of({2, 1})},
      {shape_of({0}), shape_of({1})},
      {shape_of({1, 0, 4}), shape_of({3, 1, 4})},
  };
  uint32_t seed = 1000;
  for (const Pair& p : pairs)
    for (BinaryOp op : kBinaryOps) {
      Shape os;
      os.ndim = p.a.ndim;
      for (int d = 0; d < os.ndim; ++d) os.dims[d] = p.a.dims[d] == 1 ? p.b.dims[d] : p.a.dims[d];
      std::vector<float> a(size_t(p.a.numel())), b(size_t(p.b.numel()));
      binary_operands(op, a, b, seed++);
      const size_t n = size_t(os.numel());
      std::vector<float> out(n + 1, 7.0f), want(n);
      binary_forward(op, a.data(), p.a, b.data(), p.b, out.data(), os);
      ref::binary_forward(op, a.data(), p.a, b.data(), p.b, want.data(), os);
      const std::string what =
          std::string("binary_forward ") + op_name(op) + " " + shape_str(p.a) + shape_str(p.b);
      CHECK_CLOSE(out.data(), want.data(), n, binary_atol(op), binary_rtol(op), what);
      CHECK_MSG(out[n] == 7.0f, what + ": wrote past the end");
    }
}

TEST(binary_forward_special_values) {
  // Same-shape rows with NaN, infinities, signed zeros and division by zero in every position
  // class (body and tail of a vector).
  const float specials[] = {kNan,  1.0f, -1.0f, kInf, -kInf, 0.0f,  -0.0f,  2.0f,
                            -2.0f, 3.0f, -3.0f, 0.5f, 2.5f,  1e30f, -1e-30f};
  const size_t ns = sizeof specials / sizeof specials[0];
  std::vector<float> a, b;
  for (size_t i = 0; i < ns; ++i)
    for (size_t j = 0; j < ns; ++j) a.push_back(specials[i]), b.push_back(specials[j]);
  const Shape s = shape_of({int64_t(a.size())});
  for (BinaryOp op : kBinaryOps) {
    std::vector<float> aa = a, bb = b;
    // Known departures from std::pow, left out here and listed in the test report: pow(+-1, b)
    // for a non-finite b is NaN (std: 1), and pow(-inf, b) for a fractional b is NaN (std: +inf
    // or +0). Everything else, signed zeros and infinities included, must match.
    if (op == BinaryOp::Pow)
      for (size_t i = 0; i < aa.size(); ++i) {
        const bool fractional = std::isfinite(bb[i]) && bb[i] != std::round(bb[i]);
        if ((std::fabs(aa[i]) == 1.0f && !std::isfinite(bb[i])) || (aa[i] == -kInf && fractional))
          aa[i] = 0.5f;
      }
    std::vector<float> out(a.size()), want(a.size());
    binary_forward(op, aa.data(), s, bb.data(), s, out.data(), s);
    ref::binary_forward(op, aa.data(), s, bb.data(), s, want.data(), s);
    CHECK_CLOSE(out.data(), want.data(), a.size(), binary_atol(op), binary_rtol(op),
                std::string("binary specials ") + op_name(op));
  }
}

// Integer powers that are exact in float are exact: integer bases whose power stays within
// 2^24 (what ONNX's integer-base Pow truncates: 7^4 once came out 2400.9995), negative bases
// by parity, negative exponents as one correctly rounded reciprocal; and x^2 is x*x for any x.
TEST(binary_pow_small_integer_powers_exact) {
  std::vector<float> a, b;
  std::vector<double> want;
  for (int base = -12; base <= 12; ++base)
    for (int e = -4; e <= 20; ++e) {
      const double p = std::pow(double(base), double(e));
      if (base == 0 && e < 0) continue;
      if (e >= 0 && std::fabs(p) > 16777216.0) continue;
      if (e < 0 && std::fabs(base) > 4) continue;  // |b| <= 4 also for non-exact results
      a.push_back(float(base)), b.push_back(float(e)), want.push_back(double(float(p)));
    }
  for (float x : {1.1f, -0.37f, 3.14159f, 1e-3f, 1234.5f})
    a.push_back(x), b.push_back(2.0f), want.push_back(double(x * x));
  const Shape s = shape_of({int64_t(a.size())});
  std::vector<float> out(a.size());
  binary_forward(BinaryOp::Pow, a.data(), s, b.data(), s, out.data(), s);
  for (size_t i = 0; i < a.size(); ++i)
    CHECK_MSG(double(out[i]) == want[i],
              std::string("pow(") + std::to_string(a[i]) + ", " + std::to_string(b[i]) +
                  ") = " + std::to_string(out[i]) + ", want " + std::to_string(want[i]));
}

TEST(binary_scalar_both_orders) {
  uint32_t seed = 2000;
  for (BinaryOp op : kBinaryOps)
    for (float s : {2.0f, -1.5f, 0.0f, 3.0f, kNan})
      for (bool scalar_first : {false, true})
        for (int64_t n : kLengths) {
          const size_t un = size_t(n);
          std::vector<float> x(un), unused(1);
          binary_operands(op, x, unused, seed++);
          if (op == BinaryOp::Pow && !scalar_first)  // mix of integer and fractional bases
            for (size_t i = 0; i < un; i += 2) x[i] = std::fabs(x[i]);
          std::vector<float> y(un + 1, 7.0f), want(un);
          binary_scalar(op, x.data(), s, scalar_first, y.data(), n);
          ref::binary_scalar(op, x.data(), s, scalar_first, want.data(), n);
          char what[96];
          std::snprintf(what, sizeof what, "binary_scalar %s s=%g first=%d n=%lld", op_name(op),
                        double(s), int(scalar_first), (long long)n);
          CHECK_CLOSE(y.data(), want.data(), un, binary_atol(op), binary_rtol(op), what);
          CHECK_MSG(y[un] == 7.0f, std::string(what) + ": wrote past n");
        }
}

TEST(binary_backward_matches_ref) {
  uint32_t seed = 3000;
  for (BinaryOp op : kBinaryOps)
    for (int64_t n : kLengths) {
      const size_t un = size_t(n);
      std::vector<float> a(un), b(un);
      binary_operands(op, a, b, seed++);
      if (op == BinaryOp::Pow)
        for (size_t i = 0; i < un; ++i) {
          // a == 0 with b >= 0 and b < 0, and b == 0 (both gradients have special rules there).
          if (i % 5 == 1) a[i] = 0.0f;
          if (i % 11 == 2) b[i] = 0.0f;
        }
      const Shape s = shape_of({n});
      std::vector<float> y(un);
      ref::binary_forward(op, a.data(), s, b.data(), s, y.data(), s);
      const auto dy = random_vector(un, seed + 50, -2.0f, 2.0f);
      // Pre-filled gradients: the kernel accumulates. Exact ops are within an ulp of the sum
      // (Div's db uses y = a/b instead of a/b^2: a few roundings); Pow as in the forward.
      const auto da0 = random_vector(un, seed + 60, -1.0f, 1.0f);
      const auto db0 = random_vector(un, seed + 70, -1.0f, 1.0f);
      std::vector<float> da = da0, db = db0, want_da = da0, want_db = db0;
      binary_backward(op, a.data(), b.data(), y.data(), dy.data(), da.data(), db.data(), n);
      ref::binary_backward(op, a.data(), b.data(), y.data(), dy.data(), want_da.data(),
                           want_db.data(), n);
      const double rtol = op == BinaryOp::Pow ? 4e-6 : op == BinaryOp::Div ? 5e-7 : 1.2e-7;
      const double atol = op == BinaryOp::Pow || op == BinaryOp::Div ? 2e-6 : 1.2e-7;
      const std::string what =
          std::string("binary_backward ") + op_name(op) + " n=" + std::to_string(n);
      CHECK_CLOSE(da.data(), want_da.data(), un, atol, rtol, what + " da");
      CHECK_CLOSE(db.data(), want_db.data(), un, atol, rtol, what + " db");
      // Either gradient may be null.
      std::vector<float> only_a = da0, only_b = db0;
      binary_backward(op, a.data(), b.data(), y.data(), dy.data(), only_a.data(), nullptr, n);
      binary_backward(op, a.data(), b.data(), y.data(), dy.data(), nullptr, only_b.data(), n);
      CHECK_CLOSE(only_a.data(), want_da.data(), un, atol, rtol, what + " da only");
      CHECK_CLOSE(only_b.data(), want_db.data(), un, atol, rtol, what + " db only");
    }
}

TEST(binary_backward_pow_and_ties_exact_cases) {
  // Hand-checked values (dy = 1, gradients start at 0).
  struct Case {
    BinaryOp op;
    float a, b, da, db;
  };
  const float ln2 = 0.693147181f;
  const Case cases[] = {
      {BinaryOp::Pow, -2.0f, 3.0f, 12.0f, kNan},       // 3 (-2)^2; log of a negative base
      {BinaryOp::Pow, -2.0f, 2.0f, -4.0f, kNan},       // 2 (-2)^1
      {BinaryOp::Pow, 2.0f, 3.0f, 12.0f, 8.0f * ln2},  //
      {BinaryOp::Pow, 0.0f, 2.0f, 0.0f, 0.0f},         // a == 0, b >= 0: db = 0 by convention
      {BinaryOp::Pow, 0.0f, 1.0f, 1.0f, 0.0f},         //
      {BinaryOp::Pow, 0.0f, 0.0f, 0.0f, 0.0f},         // b == 0: da = 0
      {BinaryOp::Pow, 5.0f, 0.0f, 0.0f, std::log(5.0f)},
      {BinaryOp::Pow, 0.0f, -1.0f, -kInf, -kInf},   // -1 * 0^-2; inf * log 0
      {BinaryOp::Maximum, 1.5f, 1.5f, 0.5f, 0.5f},  // ties split evenly
      {BinaryOp::Minimum, -3.0f, -3.0f, 0.5f, 0.5f},
      {BinaryOp::Maximum, 2.0f, 1.0f, 1.0f, 0.0f},
      {BinaryOp::Minimum, 2.0f, 1.0f, 0.0f, 1.0f},
      {BinaryOp::Maximum, 0.0f, -0.0f, 0.5f, 0.5f},  // +0 == -0 is a tie
  };
  for (const Case& c : cases) {
    const float y = float(ref::binary_value(c.op, c.a, c.b)), g = 1.0f;
    float da = 0, db = 0;
    binary_backward(c.op, &c.a, &c.b, &y, &g, &da, &db, 1);
    char what[128];
    std::snprintf(what, sizeof what, "%s(%g, %g): da=%.9g db=%.9g, want %.9g %.9g", op_name(c.op),
                  double(c.a), double(c.b), double(da), double(db), double(c.da), double(c.db));
    const float got[2] = {da, db}, want[2] = {c.da, c.db};
    CHECK_CLOSE(got, want, 2, 1e-7, 1e-6, what);
  }
}

TEST(binary_comparisons_exact_cases) {
  // Hand-checked rows: {a, b, a>b, a>=b, a<b, a<=b, a==b, a!=b}. IEEE: a NaN operand makes
  // every comparison false except !=; +0 == -0; infinities compare as numbers.
  struct Case {
    float a, b;
    float want[6];
  };
  const float kMax = FLT_MAX, kTiny = FLT_TRUE_MIN;
  const Case cases[] = {
      {1.0f, 2.0f, {0, 0, 1, 1, 0, 1}},
      {2.0f, 1.0f, {1, 1, 0, 0, 0, 1}},
      {1.5f, 1.5f, {0, 1, 0, 1, 1, 0}},
      {0.0f, -0.0f, {0, 1, 0, 1, 1, 0}},
      {-0.0f, 0.0f, {0, 1, 0, 1, 1, 0}},
      {kNan, 1.0f, {0, 0, 0, 0, 0, 1}},
      {1.0f, kNan, {0, 0, 0, 0, 0, 1}},
      {kNan, kNan, {0, 0, 0, 0, 0, 1}},
      {kInf, kInf, {0, 1, 0, 1, 1, 0}},
      {-kInf, kInf, {0, 0, 1, 1, 0, 1}},
      {kInf, kMax, {1, 1, 0, 0, 0, 1}},
      {kTiny, 0.0f, {1, 1, 0, 0, 0, 1}},
      {-kTiny, -0.0f, {0, 0, 1, 1, 0, 1}},
      {kNan, kInf, {0, 0, 0, 0, 0, 1}},
      {16777216.0f, 16777217.0f, {0, 1, 0, 1, 1, 0}},  // 2^24 + 1 rounds to 2^24 in float
  };
  const size_t nc = sizeof cases / sizeof cases[0];
  for (size_t k = 0; k < 6; ++k) {
    const BinaryOp op = kComparisons[k];
    // Every case in every lane position: the row repeated 37 times (body and tail lanes).
    std::vector<float> a, b, want;
    for (int rep = 0; rep < 37; ++rep)
      for (const Case& c : cases) a.push_back(c.a), b.push_back(c.b), want.push_back(c.want[k]);
    const int64_t n = int64_t(a.size());
    const Shape s = shape_of({n});
    std::vector<float> out(a.size()), ref_out(a.size());
    binary_forward(op, a.data(), s, b.data(), s, out.data(), s);
    ref::binary_forward(op, a.data(), s, b.data(), s, ref_out.data(), s);
    for (size_t i = 0; i < a.size(); ++i) {
      char what[128];
      std::snprintf(what, sizeof what, "%s(%g, %g) = %g, want %g", op_name(op), double(a[i]),
                    double(b[i]), double(out[i]), double(want[i]));
      // Bitwise: exactly +1.0f or +0.0f (not -0, not NaN).
      CHECK_MSG(bytes_equal(&out[i], &want[i], sizeof(float)), what);
      CHECK_MSG(bytes_equal(&ref_out[i], &want[i], sizeof(float)), std::string("ref ") + what);
    }
    // The scalar forms, both orders: case ci's a (scalar first) against every b, or every a
    // against case ci's b; element ci is then the case itself, the others match the reference.
    for (size_t ci = 0; ci < nc; ++ci)
      for (bool first : {false, true}) {
        const float sv = first ? cases[ci].a : cases[ci].b;
        const std::vector<float>& xs = first ? b : a;
        std::vector<float> y(xs.size()), yr(xs.size());
        binary_scalar(op, xs.data(), sv, first, y.data(), n);
        ref::binary_scalar(op, xs.data(), sv, first, yr.data(), n);
        CHECK_MSG(bytes_equal(y.data(), yr.data(), y.size() * sizeof(float)),
                  std::string("binary_scalar ") + op_name(op) + " first=" + std::to_string(first));
        CHECK_MSG(y[ci] == cases[ci].want[k],
                  std::string("binary_scalar ") + op_name(op) + " case " + std::to_string(ci));
      }
  }
}

// ---------------------------------------------------------------------------------------
// Casts between int32 and float32
// ---------------------------------------------------------------------------------------

TEST(cast_i32_to_f32_matches_ref) {
  // Integers around 2^24 (where float stops being exact: 2^24 + 1 rounds to even), the int32
  // limits, and random ones of every magnitude.
  const int32_t specials[] = {
      0,         1,        -1,        16777215,  16777216,       16777217,      16777219,
      -16777217, 33554435, INT32_MAX, INT32_MIN, INT32_MAX - 64, INT32_MIN + 1, 123456789,
      -987654321};
  std::mt19937 gen(77);
  for (int64_t n : kLengths) {
    std::vector<int32_t> x(static_cast<size_t>(n));
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = i % 3 == 0 ? specials[(i / 3) % (sizeof specials / sizeof specials[0])]
                        : int32_t(gen()) >> (gen() % 31);
    std::vector<float> y(x.size() + 1, 7.0f), want(x.size());
    cast_i32_to_f32(x.data(), y.data(), n);
    ref::cast_i32_to_f32(x.data(), want.data(), n);
    CHECK_MSG(bytes_equal(y.data(), want.data(), want.size() * sizeof(float)),
              "cast_i32_to_f32 n=" + std::to_string(n));
    CHECK_MSG(y[size_t(n)] == 7.0f, "cast_i32_to_f32 wrote past n");
  }
  // Spot values: exact below 2^24, nearest-even above.
  const int32_t x[] = {16777216, 16777217, 16777218, 16777219, INT32_MAX, INT32_MIN};
  const float want[] = {16777216.0f, 16777216.0f,   16777218.0f,
                        16777220.0f, 2147483648.0f, -2147483648.0f};
  float y[6];
  cast_i32_to_f32(x, y, 6);
  for (int i = 0; i < 6; ++i)
    CHECK_MSG(y[i] == want[i], "cast_i32_to_f32 spot " + std::to_string(i));
}

TEST(cast_f32_to_i32_truncates_toward_zero) {
  // Fractions of both signs, -0, the largest floats inside int32 and the first outside (those
  // and NaN give INT32_MIN; the binding refuses them before the kernel runs).
  const float in[] = {0.0f,          -0.0f,          0.5f,        -0.5f,         0.9999999f,
                      -0.9999999f,   1.5f,           -1.5f,       2.5f,          -2.5f,
                      1e-30f,        -7.99f,         16777217.0f, 2147483520.0f, -2147483648.0f,
                      2147483648.0f, -2147483904.0f, kNan,        kInf,          -kInf,
                      1e30f,         123456.789f,    -123456.789f};
  const int32_t want[] = {0,         0,          0,         0,         0,         0,
                          1,         -1,         2,         -2,        0,         -7,
                          16777216,  2147483520, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN,
                          INT32_MIN, INT32_MIN,  INT32_MIN, 123456,    -123456};
  const size_t ns = sizeof in / sizeof in[0];
  static_assert(sizeof in / sizeof in[0] == sizeof want / sizeof want[0], "one want per input");
  std::mt19937 gen(78);
  std::uniform_real_distribution<float> u(-3e9f, 3e9f);
  for (int64_t n : kLengths) {
    std::vector<float> x(static_cast<size_t>(n));
    std::vector<int32_t> expect(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      if (i % 2 == 0) {
        x[i] = in[(i / 2) % ns];
        expect[i] = want[(i / 2) % ns];
      } else {
        // Random values, most in range, scaled down to mix magnitudes.
        x[i] = u(gen) / float(1 << (gen() % 24));
        const double t = std::trunc(double(x[i]));
        expect[i] = t >= -2147483648.0 && t <= 2147483647.0 ? int32_t(t) : INT32_MIN;
      }
    }
    std::vector<int32_t> y(x.size() + 1, 7), ry(x.size());
    cast_f32_to_i32(x.data(), y.data(), n);
    ref::cast_f32_to_i32(x.data(), ry.data(), n);
    for (size_t i = 0; i < x.size(); ++i) {
      char what[128];
      std::snprintf(what, sizeof what, "cast_f32_to_i32(%.9g) = %d, ref %d, want %d n=%lld",
                    double(x[i]), y[i], ry[i], expect[i], (long long)n);
      CHECK_MSG(y[i] == expect[i] && ry[i] == expect[i], what);
    }
    CHECK_MSG(y[size_t(n)] == 7, "cast_f32_to_i32 wrote past n");
  }
}

// ---------------------------------------------------------------------------------------
// select (ONNX Where): out = cond != 0 ? x : y, and its gradient
// ---------------------------------------------------------------------------------------

namespace {

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

bool same_bits(float a, float b) { return bits_of(a) == bits_of(b); }

// Conditions: +-0 (false), and true values of every kind: 1 (the comparisons' masks), NaN of
// both signs, +-inf, a subnormal, -1, large and tiny. Operands: infinities, NaNs with payloads
// (quiet of both signs and a signalling one), -0, subnormals, FLT_MAX, ordinary values. A
// select copies, so every one must come through bit for bit.
const float kSelectConds[] = {0.0f,  -0.0f, 1.0f,         kNan,          from_bits(0xffc00001u),
                              kInf,  -kInf, FLT_TRUE_MIN, -FLT_TRUE_MIN, -1.0f,
                              1e30f, 0.5f};
const float kSelectValues[] = {kInf,
                               -kInf,
                               kNan,
                               from_bits(0x7fc01234u),
                               from_bits(0xffc00abcu),
                               from_bits(0x7f800001u),  // signalling NaN
                               -0.0f,
                               0.0f,
                               FLT_TRUE_MIN,
                               -FLT_MAX,
                               FLT_MAX,
                               3.5f};

bool truthy(float c) { return c != 0.0f; }  // C's: NaN is true

// n elements: every element of kSelectConds / kSelectValues at seed-dependent phases (so they
// land in vector bodies and tails), the rest random; half the conditions plain 0/1 masks.
void select_inputs(int64_t n, uint32_t seed, std::vector<float>& cond, std::vector<float>& x,
                   std::vector<float>& y) {
  const size_t un = size_t(n), nc = sizeof kSelectConds / sizeof kSelectConds[0],
               nv = sizeof kSelectValues / sizeof kSelectValues[0];
  cond = random_vector(un, seed, -2.0f, 2.0f);
  x = random_vector(un, seed + 1, -100.0f, 100.0f);
  y = random_vector(un, seed + 2, -100.0f, 100.0f);
  std::mt19937 gen(seed + 3);
  for (size_t i = 0; i < un; ++i) {
    if ((i + seed) % 3 == 0)
      cond[i] = kSelectConds[(i / 3 + seed) % nc];
    else if (i % 2 == 0)
      cond[i] = gen() % 2 ? 1.0f : 0.0f;
    if ((i + seed) % 4 == 1) x[i] = kSelectValues[(i / 4 + seed) % nv];
    if ((i + seed) % 4 != 3) y[i] = kSelectValues[(i / 4 + seed + 5) % nv];
  }
}

}  // namespace

TEST(select_forward_exact_on_every_value) {
  uint32_t seed = 500;
  std::vector<int64_t> lengths(std::begin(kLengths), std::end(kLengths));
  lengths.push_back(70001);  // split across threads
  for (int64_t n : lengths) {
    std::vector<float> cond, x, y;
    select_inputs(n, seed, cond, x, y);
    seed += 7;
    const size_t un = size_t(n);
    std::vector<float> want(un);
    for (size_t i = 0; i < un; ++i) want[i] = truthy(cond[i]) ? x[i] : y[i];
    // Bitwise against the definition: the fast kernel, the twin, and in place over x and y.
    std::vector<float> out(un + 1, 7.0f), ref_out(un), in_x = x, in_y = y;
    select_forward(cond.data(), x.data(), y.data(), out.data(), n);
    ref::select_forward(cond.data(), x.data(), y.data(), ref_out.data(), n);
    select_forward(cond.data(), in_x.data(), y.data(), in_x.data(), n);
    select_forward(cond.data(), x.data(), in_y.data(), in_y.data(), n);
    const std::string at = " n=" + std::to_string(n);
    const size_t bytes = un * sizeof(float);
    for (size_t i = 0; i < un; ++i)
      if (!same_bits(out[i], want[i])) {
        char what[160];
        std::snprintf(what, sizeof what, "select(%g, %g, %g) = %g (0x%08x), want 0x%08x%s",
                      double(cond[i]), double(x[i]), double(y[i]), double(out[i]),
                      unsigned(bits_of(out[i])), unsigned(bits_of(want[i])), at.c_str());
        CHECK_MSG(false, what);
        break;
      }
    CHECK_MSG(bytes_equal(ref_out.data(), want.data(), bytes), "ref twin" + at);
    CHECK_MSG(bytes_equal(in_x.data(), want.data(), bytes), "out == x" + at);
    CHECK_MSG(bytes_equal(in_y.data(), want.data(), bytes), "out == y" + at);
    CHECK_MSG(out[un] == 7.0f, "select_forward wrote past n" + at);
  }
}

TEST(select_forward_hand_checked) {
  // cond, x, y -> out: the unselected inf / NaN stays out; NaN and -inf conditions are true,
  // -0 false. Repeated so each row sits in every lane position of every level.
  struct Row {
    float c, x, y, want;
  };
  const Row rows[] = {
      {1.0f, 2.0f, kInf, 2.0f},    {0.0f, kNan, -3.0f, -3.0f}, {1.0f, 5.0f, kNan, 5.0f},
      {0.0f, -kInf, 4.0f, 4.0f},   {-0.0f, 9.0f, 8.0f, 8.0f},  {kNan, 6.0f, 7.0f, 6.0f},
      {-kInf, 1.5f, -kInf, 1.5f},  {0.0f, kInf, -kInf, -kInf}, {FLT_TRUE_MIN, -0.0f, 1.0f, -0.0f},
      {-2.0f, 0.25f, kNan, 0.25f},
  };
  const size_t nr = sizeof rows / sizeof rows[0];
  std::vector<float> c, x, y;
  for (int rep = 0; rep < 23; ++rep)
    for (const Row& r : rows) c.push_back(r.c), x.push_back(r.x), y.push_back(r.y);
  std::vector<float> out(c.size());
  select_forward(c.data(), x.data(), y.data(), out.data(), int64_t(c.size()));
  for (size_t i = 0; i < c.size(); ++i) {
    const Row& r = rows[i % nr];
    char what[160];
    std::snprintf(what, sizeof what, "select(%g, %g, %g) = %g, want %g (element %zu)", double(r.c),
                  double(r.x), double(r.y), double(out[i]), double(r.want), i);
    CHECK_MSG(same_bits(out[i], r.want), what);
  }
}

TEST(select_backward_routes_and_leaves_the_rest) {
  // dx += dout where cond is true, dy += dout where false; every other element is left bit for
  // bit (a -0 stays -0; a NaN / inf in dout reaches only the side it belongs to). Either
  // output may be null. Against the definition and the twin, bitwise (one float add each).
  uint32_t seed = 700;
  std::vector<int64_t> lengths(std::begin(kLengths), std::end(kLengths));
  lengths.push_back(70001);
  for (int64_t n : lengths) {
    std::vector<float> cond, dout, unused;
    select_inputs(n, seed, cond, dout, unused);  // dout gets the special values too
    const size_t un = size_t(n);
    auto dx0 = random_vector(un, seed + 10), dy0 = random_vector(un, seed + 11);
    seed += 13;
    for (size_t i = 0; i < un; i += 5) dx0[i] = -0.0f, dy0[i] = -0.0f;
    std::vector<float> want_dx = dx0, want_dy = dy0;
    for (size_t i = 0; i < un; ++i) {
      if (truthy(cond[i]))
        want_dx[i] = dx0[i] + dout[i];
      else
        want_dy[i] = dy0[i] + dout[i];
    }
    std::vector<float> dx = dx0, dy = dy0, only_x = dx0, only_y = dy0, rdx = dx0, rdy = dy0;
    select_backward(cond.data(), dout.data(), dx.data(), dy.data(), n);
    select_backward(cond.data(), dout.data(), only_x.data(), nullptr, n);
    select_backward(cond.data(), dout.data(), nullptr, only_y.data(), n);
    select_backward(cond.data(), dout.data(), nullptr, nullptr, n);  // nothing to do, no crash
    ref::select_backward(cond.data(), dout.data(), rdx.data(), rdy.data(), n);
    const std::string at = " n=" + std::to_string(n);
    // NaN + anything is NaN, but the payload then depends on the hardware: compare NaN as NaN.
    auto agree = [&](const std::vector<float>& got, const std::vector<float>& want) {
      for (size_t i = 0; i < un; ++i) {
        if (std::isnan(want[i]) ? !std::isnan(got[i]) : !same_bits(got[i], want[i])) return false;
      }
      return true;
    };
    CHECK_MSG(agree(dx, want_dx), "dx" + at);
    CHECK_MSG(agree(dy, want_dy), "dy" + at);
    CHECK_MSG(agree(only_x, want_dx), "dx alone" + at);
    CHECK_MSG(agree(only_y, want_dy), "dy alone" + at);
    CHECK_MSG(agree(rdx, want_dx) && agree(rdy, want_dy), "ref twin" + at);
    // The untouched side is exactly the start, NaN-free: nothing leaked into it.
    for (size_t i = 0; i < un; ++i) {
      const bool t = truthy(cond[i]);
      if (!same_bits(t ? dy[i] : dx[i], t ? dy0[i] : dx0[i])) {
        CHECK_MSG(false, "unselected side changed at " + std::to_string(i) + at);
        break;
      }
    }
  }
}
