// Vectorised float32 math (exp, expm1, log, log1p, tanh, sigmoid, normal CDF) written once
// over the SIMD vocabulary, so every level computes the same formulas.
//
// Polynomial coefficients come from tools/fit_vmath.py (least-squares fits on Chebyshev nodes
// against mpmath). Max errors measured against double-precision references over the whole
// float range are asserted by native/tests/test_vmath.cpp and listed in bench/RESULTS.md.
// Include after isa.h.
#pragma once

#include <limits>

namespace axon::cpu::AXON_ISA_NS::simd {

namespace vmath_detail {
inline constexpr float kLog2e = 1.44269504088896341f;
// ln 2 split so n * kLn2Hi is exact for |n| < 2^15 (Cody-Waite reduction).
inline constexpr float kLn2Hi = 0.693359375f;
inline constexpr float kLn2Lo = -2.12194440e-4f;

// P(r) with exp(r) = 1 + r + r^2 P(r) on |r| <= ln2/2.
inline VecF exp_poly(VecF r) {
  VecF p = set1(1.375140790e-03f);
  p = fmadd(p, r, set1(8.368916341e-03f));
  p = fmadd(p, r, set1(4.166953311e-02f));
  p = fmadd(p, r, set1(1.666651846e-01f));
  p = fmadd(p, r, set1(4.999998860e-01f));
  return p;
}
}  // namespace vmath_detail

// e^x. Inputs above ln(FLT_MAX) give +inf, below about -103.9 give 0; results in the
// subnormal range are scaled in two steps so they keep their precision.
inline VecF exp(VecF x) {
  using namespace vmath_detail;
  const VecF xc = min(max(x, set1(-104.0f)), set1(89.0f));
  const VecF n = round_nearest(mul(xc, set1(kLog2e)));
  VecF r = fnmadd(n, set1(kLn2Hi), xc);
  r = fnmadd(n, set1(kLn2Lo), r);
  const VecF e = add(fmadd(mul(r, r), exp_poly(r), r), set1(1.0f));
  const VecI ni = cvt_to_int(n);
  const VecI n1 = srai_i(ni, 1);
  const VecI n2 = sub_i(ni, n1);
  const VecF s1 = bitcast_f(slli_i(add_i(n1, set1_i(127)), 23));
  const VecF s2 = bitcast_f(slli_i(add_i(n2, set1_i(127)), 23));
  return select(is_nan(x), x, mul(mul(e, s1), s2));
}

// e^x - 1, accurate near 0 (ELU and SELU need it for small negative inputs).
inline VecF expm1(VecF x) {
  using namespace vmath_detail;
  // |x| < ln2/2: x + x^2 P(x) has no cancellation; elsewhere e^x - 1 loses at most 2 bits.
  const VecF small = fmadd(mul(x, x), exp_poly(x), x);
  const VecF big = sub(exp(x), set1(1.0f));
  return select(lt(abs(x), set1(0.34657359f)), small, big);
}

// Natural logarithm: log(0) = -inf, log(x < 0) = NaN, log(inf) = inf, NaN stays NaN.
inline VecF log(VecF x) {
  using namespace vmath_detail;
  // Subnormals: scale into the normal range first.
  const Mask tiny = lt(x, set1(1.17549435e-38f));
  const VecF xs = select(tiny, mul(x, set1(8388608.0f)), x);  // * 2^23
  const VecI bits = bitcast_i(xs);
  VecF e = cvt_to_float(sub_i(srli_i(bits, 23), set1_i(127)));
  e = select(tiny, sub(e, set1(23.0f)), e);
  VecF m = bitcast_f(add_i(and_i(bits, set1_i(0x007FFFFF)), set1_i(0x3F800000)));  // [1, 2)
  const Mask big = gt(m, set1(1.41421356f));
  m = select(big, mul(m, set1(0.5f)), m);
  e = select(big, add(e, set1(1.0f)), e);
  // log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716: series to s^9 (next term < 3e-9 rel).
  const VecF s = div(sub(m, set1(1.0f)), add(m, set1(1.0f)));
  const VecF u = mul(s, s);
  VecF p = set1(2.0f / 9.0f);
  p = fmadd(p, u, set1(2.0f / 7.0f));
  p = fmadd(p, u, set1(2.0f / 5.0f));
  p = fmadd(p, u, set1(2.0f / 3.0f));
  const VecF logm = fmadd(mul(s, u), p, add(s, s));
  VecF r = fmadd(e, set1(kLn2Hi), fmadd(e, set1(kLn2Lo), logm));
  // Special values, in this order: x == 0 -> -inf, x < 0 -> NaN, inf -> inf, NaN -> NaN.
  const float inf = std::numeric_limits<float>::infinity();
  r = select(eq(x, zero()), set1(-inf), r);
  r = select(lt(x, zero()), set1(std::numeric_limits<float>::quiet_NaN()), r);
  r = select(eq(x, set1(inf)), x, r);
  return select(is_nan(x), x, r);
}

// log(1 + x), accurate near 0: log(w) corrected by the rounding error of w = 1 + x.
inline VecF log1p(VecF x) {
  const VecF w = add(x, set1(1.0f));
  const VecF wm1 = sub(w, set1(1.0f));
  const VecF corr = div(sub(wm1, x), w);
  const VecF r = sub(log(w), corr);
  // When w == 1 exactly, log1p(x) = x to float precision; w == inf keeps inf.
  return select(eq(wm1, zero()), x,
                select(eq(w, set1(std::numeric_limits<float>::infinity())), w, r));
}

// tanh: odd polynomial for |x| < 0.625, else sign(x) (1 - 2 / (e^{2|x|} + 1)).
inline VecF tanh(VecF x) {
  const VecF a = abs(x);
  const VecF u = mul(x, x);
  VecF p = set1(2.153624476e-03f);
  p = fmadd(p, u, set1(-8.189982488e-03f));
  p = fmadd(p, u, set1(2.170626634e-02f));
  p = fmadd(p, u, set1(-5.394789102e-02f));
  p = fmadd(p, u, set1(1.333321616e-01f));
  p = fmadd(p, u, set1(-3.333333111e-01f));
  const VecF small = fmadd(mul(x, u), p, x);
  const VecF e = exp(add(a, a));
  const VecF big = copysign(sub(set1(1.0f), div(set1(2.0f), add(e, set1(1.0f)))), x);
  return select(lt(a, set1(0.625f)), small, big);
}

// 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) for x < 0: e = e^-|x| never overflows, so the
// limits 0 and 1 are exact and results below FLT_MIN (x < -87.3) keep their precision instead
// of flushing to 0 once e^-x overflows.
inline VecF sigmoid(VecF x) {
  const VecF e = exp(neg(abs(x)));
  return div(select(lt(x, zero()), e, set1(1.0f)), add(set1(1.0f), e));
}

// Standard normal CDF Phi(x) = erfc(-x / sqrt2) / 2, relative accuracy kept in both tails:
// erfc(z) = t exp(-z^2 + Q(t)), t = 1 / (1 + z/2), with z^2 = x^2/2 split exactly (FMA) and the
// exponent's rounding error carried by a two-sum, so large |x| loses no precision.
inline VecF normal_cdf(VecF x) {
  // |x| capped at 20, where Phi(-|x|) is already 0 in float: beyond 2^64, x^2 overflows and its
  // rounding error below is inf - inf = NaN (gelu(inf) was NaN). min(20, NaN) keeps the NaN.
  const VecF a = min(set1(20.0f), abs(x));
  const VecF z = mul(a, set1(0.70710678118654752f));
  const VecF t = div(set1(1.0f), fmadd(z, set1(0.5f), set1(1.0f)));
  VecF q = set1(-8.825410369e-02f);
  q = fmadd(q, t, set1(4.213838581e-01f));
  q = fmadd(q, t, set1(-6.193070206e-01f));
  q = fmadd(q, t, set1(-1.676505095e-01f));
  q = fmadd(q, t, set1(1.451591855e+00f));
  q = fmadd(q, t, set1(-1.548904991e+00f));
  q = fmadd(q, t, set1(6.771087421e-01f));
  q = fmadd(q, t, set1(-3.761644993e-01f));
  q = fmadd(q, t, set1(1.493716438e-01f));
  q = fmadd(q, t, set1(3.656035818e-01f));
  q = fmadd(q, t, set1(1.000760216e+00f));
  q = fmadd(q, t, set1(-1.265538776e+00f));
  // zz + zz_lo = x^2 / 2 exactly (halving is exact).
  const VecF sq = mul(a, a);
  const VecF sq_lo = mul_error(a, a, sq);
  const VecF zz = mul(sq, set1(0.5f));
  const VecF zz_lo = mul(sq_lo, set1(0.5f));
  // s + err = q - zz exactly (two-sum).
  const VecF s = sub(q, zz);
  const VecF bb = sub(s, q);
  const VecF err = add(sub(q, sub(s, bb)), sub(neg(zz), bb));
  const VecF upper = mul(mul(set1(0.5f), t), mul(exp(s), add(set1(1.0f), sub(err, zz_lo))));
  return select(lt(x, zero()), upper, sub(set1(1.0f), upper));
}

}  // namespace axon::cpu::AXON_ISA_NS::simd
