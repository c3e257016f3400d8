// Naive twins of the elementwise kernels: the definitions of every unary and binary op and of
// their derivatives, in double precision.
#include <algorithm>
#include <cmath>
#include <vector>

#include "axon/ref.h"

namespace axon::ref {

namespace {

// M_PI is POSIX, not C++: MSVC defines it only with _USE_MATH_DEFINES.
constexpr double kPi = 3.14159265358979323846;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;
constexpr double kGeluTanhC = 0.044715;

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double normal_pdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * kPi); }
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
}  // namespace

double unary_value(UnaryOp op, double x, double p) {
  switch (op) {
    case UnaryOp::Identity:
      return x;
    case UnaryOp::Relu:
      return std::isnan(x) ? x : (x > 0 ? x : 0.0);
    case UnaryOp::LeakyRelu:
      return x > 0 ? x : p * x;
    case UnaryOp::Elu:
      return x > 0 ? x : p * std::expm1(x);
    case UnaryOp::Selu:
      return kSeluScale * (x > 0 ? x : kSeluAlpha * std::expm1(x));
    case UnaryOp::Sigmoid:
      return sigmoid(x);
    case UnaryOp::Tanh:
      return std::tanh(x);
    case UnaryOp::GeluErf:
      return x * normal_cdf(x);
    case UnaryOp::GeluTanh:
      return 0.5 * x * (1.0 + std::tanh(kSqrt2OverPi * (x + kGeluTanhC * x * x * x)));
    case UnaryOp::Softplus:
      return p * x > 20.0 ? x : std::log1p(std::exp(p * x)) / p;
    case UnaryOp::Silu:
      return x * sigmoid(x);
    case UnaryOp::Exp:
      return std::exp(x);
    case UnaryOp::Log:
      return std::log(x);
    case UnaryOp::Sqrt:
      return std::sqrt(x);
    case UnaryOp::Abs:
      return std::fabs(x);
    case UnaryOp::Neg:
      return -x;
    case UnaryOp::Square:
      return x * x;
    case UnaryOp::Reciprocal:
      return 1.0 / x;
    case UnaryOp::Pow:
      return std::pow(x, p);
    case UnaryOp::Hardswish:
      return x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0;
    case UnaryOp::Mish:
      return x * std::tanh(std::log1p(std::exp(x)));
    case UnaryOp::Erf:
      return std::erf(x);
    case UnaryOp::Count:
      break;
  }
  return NAN;
}

double unary_derivative(UnaryOp op, double x, double y, double p) {
  switch (op) {
    case UnaryOp::Identity:
      return 1.0;
    case UnaryOp::Relu:
      return x > 0 ? 1.0 : 0.0;
    case UnaryOp::LeakyRelu:
      return x > 0 ? 1.0 : p;
    case UnaryOp::Elu:
      return x > 0 ? 1.0 : y + p;
    case UnaryOp::Selu:
      return x > 0 ? kSeluScale : y + kSeluScale * kSeluAlpha;
    case UnaryOp::Sigmoid:
      return y * (1.0 - y);
    case UnaryOp::Tanh:
      return 1.0 - y * y;
    case UnaryOp::GeluErf:
      return normal_cdf(x) + x * normal_pdf(x);
    case UnaryOp::GeluTanh: {
      const double u = kSqrt2OverPi * (x + kGeluTanhC * x * x * x);
      const double t = std::tanh(u);
      return 0.5 * (1.0 + t) +
             0.5 * x * (1.0 - t * t) * kSqrt2OverPi * (1.0 + 3.0 * kGeluTanhC * x * x);
    }
    case UnaryOp::Softplus:
      return p * x > 20.0 ? 1.0 : sigmoid(p * x);
    case UnaryOp::Silu: {
      const double s = sigmoid(x);
      return s * (1.0 + x * (1.0 - s));
    }
    case UnaryOp::Exp:
      return y;
    case UnaryOp::Log:
      return 1.0 / x;
    case UnaryOp::Sqrt:
      return 0.5 / y;
    case UnaryOp::Abs:
      return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);
    case UnaryOp::Neg:
      return -1.0;
    case UnaryOp::Square:
      return 2.0 * x;
    case UnaryOp::Reciprocal:
      return -y * y;
    case UnaryOp::Pow:
      return p == 0.0 ? 0.0 : p * std::pow(x, p - 1.0);
    case UnaryOp::Hardswish:
      return x < -3.0 ? 0.0 : (x <= 3.0 ? x / 3.0 + 0.5 : 1.0);
    case UnaryOp::Mish: {
      const double t = std::tanh(std::log1p(std::exp(x)));
      return t + x * sigmoid(x) * (1.0 - t * t);
    }
    case UnaryOp::Erf:
      return 2.0 / std::sqrt(kPi) * std::exp(-x * x);
    case UnaryOp::Count:
      break;
  }
  return NAN;
}

double binary_value(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::Add:
      return a + b;
    case BinaryOp::Sub:
      return a - b;
    case BinaryOp::Mul:
      return a * b;
    case BinaryOp::Div:
      return a / b;
    case BinaryOp::Pow:
      return std::pow(a, b);
    case BinaryOp::Maximum:
      return std::isnan(a) || std::isnan(b) ? NAN : (a > b ? a : b);
    case BinaryOp::Minimum:
      return std::isnan(a) || std::isnan(b) ? NAN : (a < b ? a : b);
    // C++ relational operators on doubles are IEEE's: false with a NaN operand, != true.
    case BinaryOp::Greater:
      return a > b ? 1.0 : 0.0;
    case BinaryOp::GreaterEqual:
      return a >= b ? 1.0 : 0.0;
    case BinaryOp::Less:
      return a < b ? 1.0 : 0.0;
    case BinaryOp::LessEqual:
      return a <= b ? 1.0 : 0.0;
    case BinaryOp::Equal:
      return a == b ? 1.0 : 0.0;
    case BinaryOp::NotEqual:
      return a != b ? 1.0 : 0.0;
    case BinaryOp::Count:
      break;
  }
  return NAN;
}

void unary_forward(UnaryOp op, const float* x, float* y, int64_t n, float param) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(unary_value(op, x[i], param));
}

void unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx,
                    int64_t n, float param) {
  for (int64_t i = 0; i < n; ++i)
    dx[i] = static_cast<float>(dx[i] + dy[i] * unary_derivative(op, x[i], y[i], param));
}

void binary_forward(BinaryOp op, const float* a, const Shape& as, const float* b, const Shape& bs,
                    float* out, const Shape& os) {
  const int nd = os.ndim;
  std::vector<int64_t> idx(nd, 0);
  const int64_t total = os.numel();
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t ia = 0, ib = 0;
    for (int d = 0; d < nd; ++d) {
      ia = ia * as.dims[d] + (as.dims[d] == 1 ? 0 : idx[d]);
      ib = ib * bs.dims[d] + (bs.dims[d] == 1 ? 0 : idx[d]);
    }
    out[flat] = static_cast<float>(binary_value(op, a[ia], b[ib]));
    for (int d = nd - 1; d >= 0; --d) {
      if (++idx[d] < os.dims[d]) break;
      idx[d] = 0;
    }
  }
}

void binary_scalar(BinaryOp op, const float* x, float s, bool scalar_first, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = static_cast<float>(scalar_first ? binary_value(op, s, x[i]) : binary_value(op, x[i], s));
}

void binary_backward(BinaryOp op, const float* a, const float* b, const float* y, const float* dy,
                     float* da, float* db, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double av = a[i], bv = b[i], g = dy[i], yv = y[i];
    double ga = 0, gb = 0;
    switch (op) {
      case BinaryOp::Add:
        ga = g, gb = g;
        break;
      case BinaryOp::Sub:
        ga = g, gb = -g;
        break;
      case BinaryOp::Mul:
        ga = g * bv, gb = g * av;
        break;
      case BinaryOp::Div:
        ga = g / bv, gb = -g * av / (bv * bv);
        break;
      case BinaryOp::Pow:
        ga = bv == 0.0 ? 0.0 : g * bv * std::pow(av, bv - 1.0);
        gb = (av == 0.0 && bv >= 0.0) ? 0.0 : g * yv * std::log(av);
        break;
      case BinaryOp::Maximum:
      case BinaryOp::Minimum: {
        const bool a_wins = op == BinaryOp::Maximum ? av > bv : av < bv;
        const bool b_wins = op == BinaryOp::Maximum ? bv > av : bv < av;
        ga = av == bv ? g / 2 : (a_wins ? g : 0.0);
        gb = av == bv ? g / 2 : (b_wins ? g : 0.0);
        break;
      }
      case BinaryOp::Greater:
      case BinaryOp::GreaterEqual:
      case BinaryOp::Less:
      case BinaryOp::LessEqual:
      case BinaryOp::Equal:
      case BinaryOp::NotEqual:
        continue;  // zero gradient: da and db keep their values (whatever dy holds)
      case BinaryOp::Count:
        break;
    }
    if (da) da[i] = static_cast<float>(da[i] + ga);
    if (db) db[i] = static_cast<float>(db[i] + gb);
  }
}

// C's truthiness on the float: true unless +0 or -0 (NaN is true).
void select_forward(const float* cond, const float* x, const float* y, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = cond[i] != 0.0f ? x[i] : y[i];
}

void select_backward(const float* cond, const float* dout, float* dx, float* dy, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (cond[i] != 0.0f) {
      if (dx) dx[i] += dout[i];
    } else if (dy) {
      dy[i] += dout[i];
    }
  }
}

// Through double: an int32 is exact there, and the one rounding to float is to nearest even.
void cast_i32_to_f32(const int32_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(static_cast<double>(x[i]));
}

void cast_f32_to_i32(const float* x, int32_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double t = std::trunc(static_cast<double>(x[i]));
    const bool fits = t >= -2147483648.0 && t <= 2147483647.0;  // false for NaN
    y[i] = fits ? static_cast<int32_t>(t) : INT32_MIN;
  }
}

}  // namespace axon::ref
