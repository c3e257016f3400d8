// Unary elementwise ops and activations, forward next to backward (compiled once per SIMD
// level). Each op is a lambda on vectors; map1/map_grad supply the loops.
//   forward:  y (n) = f(x (n); param)
//   backward: dx (n) += dy (n) * f'(x), reading x (n) and y = f(x) (n)
#include <cmath>
#include <limits>

#include "simd/isa.h"
#include "simd/vmath.h"
#include "isa_kernels.h"
#include "map.h"

namespace axon::cpu::AXON_ISA_NS {

using namespace simd;

namespace {
constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
constexpr float kInvSqrt2Pi = 0.39894228040143267793994605993438f;
constexpr float kGeluTanhC = 0.044715f;
constexpr float kSqrt2 = 1.4142135623730950488016887242097f;
constexpr float kTwoOverSqrtPi = 1.1283791670955125738961589031215f;

// tanh(softplus(x)) = ((1 + e^x)^2 - 1) / ((1 + e^x)^2 + 1) = e (e + 2) / (e (e + 2) + 2) with
// e = e^x: one exp, no log, and no cancellation for negative x. For x > 20 it is 1 in float
// (and e (e + 2) would overflow from x ~ 44).
inline VecF tanh_softplus(VecF v) {
  const VecF e = exp(min(v, set1(20.0f)));
  const VecF num = mul(e, add(e, set1(2.0f)));
  return select(gt(v, set1(20.0f)), set1(1.0f), div(num, add(num, set1(2.0f))));
}

// x^p for a scalar exponent: exact forms for the common integer and half powers, otherwise
// exp(p log|x|) with the sign of an odd integer power.
void pow_scalar(const float* x, float* y, int64_t n, float p) {
  if (p == 0.0f) return map1(x, y, n, [](VecF) { return set1(1.0f); });
  if (p == 1.0f) return map1(x, y, n, [](VecF v) { return v; });
  if (p == 2.0f) return map1(x, y, n, [](VecF v) { return mul(v, v); });
  if (p == 3.0f) return map1(x, y, n, [](VecF v) { return mul(mul(v, v), v); });
  if (p == 0.5f) return map1(x, y, n, [](VecF v) { return sqrt(v); });
  if (p == -1.0f) return map1(x, y, n, [](VecF v) { return div(set1(1.0f), v); });
  if (p == -2.0f) return map1(x, y, n, [](VecF v) { return div(set1(1.0f), mul(v, v)); });
  const bool integer = std::floor(p) == p;
  const bool odd = integer && std::fmod(p, 2.0f) != 0.0f;
  const VecF vp = set1(p);
  map1(x, y, n, [&](VecF v) {
    VecF r = exp(mul(vp, log(abs(v))));
    // Odd powers take x's sign bit, so (-0)^-3 = -inf as in std::pow.
    if (odd) r = copysign(r, v);
    if (!integer) r = select(lt(v, zero()), set1(std::numeric_limits<float>::quiet_NaN()), r);
    return r;
  });
}
}  // namespace

void unary_forward(UnaryOp op, const float* x, float* y, int64_t n, float param) {
  const VecF p = set1(param);
  switch (op) {
    case UnaryOp::Identity:
      if (x != y) map1(x, y, n, [](VecF v) { return v; });
      return;
    // max(0, v) returns v when v is NaN (x86 rule: the second operand), so NaN propagates.
    case UnaryOp::Relu:
      return map1(x, y, n, [](VecF v) { return max(zero(), v); });
    case UnaryOp::LeakyRelu:
      return map1(x, y, n, [&](VecF v) { return select(gt(v, zero()), v, mul(v, p)); });
    case UnaryOp::Elu:
      return map1(x, y, n, [&](VecF v) { return select(gt(v, zero()), v, mul(p, expm1(v))); });
    case UnaryOp::Selu:
      return map1(x, y, n, [](VecF v) {
        const VecF neg_part = mul(set1(kSeluScale * kSeluAlpha), expm1(v));
        return select(gt(v, zero()), mul(set1(kSeluScale), v), neg_part);
      });
    case UnaryOp::Sigmoid:
      return map1(x, y, n, [](VecF v) { return sigmoid(v); });
    case UnaryOp::Tanh:
      return map1(x, y, n, [](VecF v) { return tanh(v); });
    case UnaryOp::GeluErf:
      return map1(x, y, n, [](VecF v) { return mul(v, normal_cdf(v)); });
    case UnaryOp::GeluTanh:
      // 0.5 (1 + tanh(u)) = sigmoid(2u): no cancellation for large negative x.
      return map1(x, y, n, [](VecF v) {
        const VecF u = mul(set1(kSqrt2OverPi), fmadd(mul(set1(kGeluTanhC), mul(v, v)), v, v));
        return mul(v, sigmoid(add(u, u)));
      });
    case UnaryOp::Softplus:
      // log(1 + e^z) = max(z, 0) + log1p(e^-|z|), z = beta x; PyTorch's threshold: z > 20 -> x.
      return map1(x, y, n, [&](VecF v) {
        const VecF z = mul(v, p);
        const VecF r = div(add(max(z, zero()), log1p(exp(neg(abs(z))))), p);
        return select(gt(z, set1(20.0f)), v, r);
      });
    case UnaryOp::Silu:
      return map1(x, y, n, [](VecF v) { return mul(v, sigmoid(v)); });
    case UnaryOp::Exp:
      return map1(x, y, n, [](VecF v) { return exp(v); });
    case UnaryOp::Log:
      return map1(x, y, n, [](VecF v) { return log(v); });
    case UnaryOp::Sqrt:
      return map1(x, y, n, [](VecF v) { return sqrt(v); });
    case UnaryOp::Abs:
      return map1(x, y, n, [](VecF v) { return abs(v); });
    case UnaryOp::Neg:
      return map1(x, y, n, [](VecF v) { return neg(v); });
    case UnaryOp::Square:
      return map1(x, y, n, [](VecF v) { return mul(v, v); });
    case UnaryOp::Reciprocal:
      return map1(x, y, n, [](VecF v) { return div(set1(1.0f), v); });
    case UnaryOp::Pow:
      return pow_scalar(x, y, n, param);
    case UnaryOp::Hardswish:
      // max(0, t) and min(6, t) return t when t is NaN (x86 rule), so NaN propagates.
      return map1(x, y, n, [](VecF v) {
        const VecF relu6 = min(set1(6.0f), max(zero(), add(v, set1(3.0f))));
        return div(mul(v, relu6), set1(6.0f));
      });
    case UnaryOp::Mish:
      return map1(x, y, n, [](VecF v) { return mul(v, tanh_softplus(v)); });
    case UnaryOp::Erf:
      // erf(x) = 2 Phi(x sqrt2) - 1 loses its relative accuracy near 0 to the subtraction, so
      // |x| < 0.5 takes the Maclaurin series (terms to x^11: relative error < 3e-8 there).
      return map1(x, y, n, [](VecF v) {
        const VecF tails = fmadd(set1(2.0f), normal_cdf(mul(v, set1(kSqrt2))), set1(-1.0f));
        const VecF v2 = mul(v, v);
        VecF s = set1(-1.0f / 1320.0f);
        s = fmadd(s, v2, set1(1.0f / 216.0f));
        s = fmadd(s, v2, set1(-1.0f / 42.0f));
        s = fmadd(s, v2, set1(1.0f / 10.0f));
        s = fmadd(s, v2, set1(-1.0f / 3.0f));
        s = fmadd(s, v2, set1(1.0f));
        const VecF series = mul(mul(v, set1(kTwoOverSqrtPi)), s);
        return select(gt(set1(0.5f), abs(v)), series, tails);
      });
    case UnaryOp::Count:
      return;
  }
}

void unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx,
                    int64_t n, float param) {
  const VecF p = set1(param);
  const VecF one = set1(1.0f);
  switch (op) {
    case UnaryOp::Identity:
      return map_grad(x, y, dy, dx, n, [](VecF, VecF, VecF g) { return g; });
    case UnaryOp::Relu:
      return map_grad(x, y, dy, dx, n,
                      [](VecF v, VecF, VecF g) { return select(gt(v, zero()), g, zero()); });
    case UnaryOp::LeakyRelu:
      return map_grad(x, y, dy, dx, n,
                      [&](VecF v, VecF, VecF g) { return select(gt(v, zero()), g, mul(g, p)); });
    case UnaryOp::Elu:
      return map_grad(x, y, dy, dx, n, [&](VecF v, VecF out, VecF g) {
        return select(gt(v, zero()), g, mul(g, add(out, p)));
      });
    case UnaryOp::Selu:
      return map_grad(x, y, dy, dx, n, [](VecF v, VecF out, VecF g) {
        return select(gt(v, zero()), mul(g, set1(kSeluScale)),
                      mul(g, add(out, set1(kSeluScale * kSeluAlpha))));
      });
    case UnaryOp::Sigmoid:
      return map_grad(x, y, dy, dx, n,
                      [&](VecF, VecF out, VecF g) { return mul(g, mul(out, sub(one, out))); });
    case UnaryOp::Tanh:
      return map_grad(x, y, dy, dx, n,
                      [&](VecF, VecF out, VecF g) { return mul(g, fnmadd(out, out, one)); });
    case UnaryOp::GeluErf:
      // Phi(x) + x phi(x)
      return map_grad(x, y, dy, dx, n, [](VecF v, VecF, VecF g) {
        const VecF pdf = mul(set1(kInvSqrt2Pi), exp(mul(set1(-0.5f), mul(v, v))));
        return mul(g, fmadd(v, pdf, normal_cdf(v)));
      });
    case UnaryOp::GeluTanh:
      // s = sigmoid(2u) = (1 + tanh u)/2; d/dx = s + x * 2 s (1 - s) * u'(x)
      return map_grad(x, y, dy, dx, n, [&](VecF v, VecF, VecF g) {
        const VecF v2 = mul(v, v);
        const VecF u = mul(set1(kSqrt2OverPi), fmadd(mul(set1(kGeluTanhC), v2), v, v));
        const VecF s = sigmoid(add(u, u));
        const VecF du = mul(set1(kSqrt2OverPi), fmadd(set1(3.0f * kGeluTanhC), v2, one));
        // Where s (1 - s) is 0 (|x| > ~10) the term is 0, but du is inf once x^2 overflows
        // (|x| > 1.8e19) and 0 * inf would make the gradient NaN.
        const VecF ss = mul(s, sub(one, s));
        const VecF ds = select(eq(ss, zero()), zero(), mul(mul(set1(2.0f), ss), du));
        return mul(g, fmadd(v, ds, s));
      });
    case UnaryOp::Softplus:
      return map_grad(x, y, dy, dx, n, [&](VecF v, VecF, VecF g) {
        const VecF z = mul(v, p);
        return mul(g, select(gt(z, set1(20.0f)), one, sigmoid(z)));
      });
    case UnaryOp::Silu:
      return map_grad(x, y, dy, dx, n, [&](VecF v, VecF, VecF g) {
        const VecF s = sigmoid(v);
        return mul(g, mul(s, fmadd(v, sub(one, s), one)));
      });
    case UnaryOp::Exp:
      return map_grad(x, y, dy, dx, n, [](VecF, VecF out, VecF g) { return mul(g, out); });
    case UnaryOp::Log:
      return map_grad(x, y, dy, dx, n, [](VecF v, VecF, VecF g) { return div(g, v); });
    case UnaryOp::Sqrt:
      return map_grad(x, y, dy, dx, n,
                      [](VecF, VecF out, VecF g) { return div(mul(g, set1(0.5f)), out); });
    case UnaryOp::Abs:
      return map_grad(x, y, dy, dx, n, [](VecF v, VecF, VecF g) {
        const VecF sign =
            select(gt(v, zero()), set1(1.0f), select(lt(v, zero()), set1(-1.0f), zero()));
        return mul(g, sign);
      });
    case UnaryOp::Neg:
      return map_grad(x, y, dy, dx, n, [](VecF, VecF, VecF g) { return neg(g); });
    case UnaryOp::Square:
      return map_grad(x, y, dy, dx, n, [](VecF v, VecF, VecF g) { return mul(g, add(v, v)); });
    case UnaryOp::Reciprocal:
      return map_grad(x, y, dy, dx, n,
                      // (g y) y, not g (y y): y*y overflows for |x| < 5.4e-20 even where the
                      // gradient is finite.
                      [](VecF, VecF out, VecF g) { return neg(mul(mul(g, out), out)); });
    case UnaryOp::Pow: {
      if (param == 0.0f) return;  // d/dx x^0 = 0, as PyTorch
      // p x^(p-1): reuse the forward on a temporary, a tile at a time.
      constexpr int64_t kTile = 256;
      float tmp[kTile];
      for (int64_t i = 0; i < n; i += kTile) {
        const int64_t len = n - i < kTile ? n - i : kTile;
        pow_scalar(x + i, tmp, len, param - 1.0f);
        map_grad(tmp, tmp, dy + i, dx + i, len,
                 [&](VecF powm1, VecF, VecF g) { return mul(g, mul(p, powm1)); });
      }
      return;
    }
    case UnaryOp::Hardswish:
      // PyTorch: 0 below -3, x / 3 + 1/2 on [-3, 3], 1 above (and for NaN x: dy).
      return map_grad(x, y, dy, dx, n, [](VecF v, VecF, VecF g) {
        const VecF mid = mul(g, add(div(v, set1(3.0f)), set1(0.5f)));
        return select(lt(v, set1(-3.0f)), zero(), select(le(v, set1(3.0f)), mid, g));
      });
    case UnaryOp::Mish:
      // t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x)).
      return map_grad(x, y, dy, dx, n, [&](VecF v, VecF, VecF g) {
        const VecF t = tanh_softplus(v);
        return mul(g, fmadd(mul(v, sigmoid(v)), fnmadd(t, t, one), t));
      });
    case UnaryOp::Erf:
      // 2 / sqrt(pi) e^(-x^2)
      return map_grad(x, y, dy, dx, n, [](VecF v, VecF, VecF g) {
        return mul(g, mul(set1(kTwoOverSqrtPi), exp(neg(mul(v, v)))));
      });
    case UnaryOp::Count:
      return;
  }
}

}  // namespace axon::cpu::AXON_ISA_NS
