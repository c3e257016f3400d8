// Binary elementwise ops, forward next to backward (compiled once per SIMD level).
//   binary_contiguous: y (n) = a (n) op b (n)
//   binary_scalar:     y (n) = x (n) op s, or s op x (n)
//   binary_backward:   da (n) += dy * d(a op b)/da, db (n) += dy * d(a op b)/db; y = a op b
//   select_forward:    out (n) = cond (n) != 0 ? x (n) : y (n)   (blends only, no arithmetic)
//   select_backward:   dx (n) += dout where cond != 0, dy (n) += dout where cond == 0
// The comparisons (Greater .. NotEqual) write 1.0f / 0.0f and have a zero gradient.
// Broadcasting is arranged by the dispatch layer (dispatch.cpp), which calls these on rows.
#include <limits>

#include "simd/isa.h"
#include "simd/vmath.h"
#include "isa_kernels.h"
#include "map.h"

namespace axon::cpu::AXON_ISA_NS {

using namespace simd;

namespace {

// |a|^n for the lanes' integer n = |b| <= 64 (others: 1), by repeated squaring: a product of
// at most 7 squarings and 7 multiplies, each rounding once.
inline VecF pow_by_squaring(VecF mag, VecF nb, Mask small) {
  VecF n = select(small, nb, zero());
  VecF base = mag, acc = set1(1.0f);
  for (int bit = 0; bit < 7; ++bit) {
    const VecF half = mul(n, set1(0.5f));
    const VecF rest = round_nearest(sub(half, set1(0.25f)));  // floor(n / 2) of an integer n
    acc = select(gt(half, rest), mul(acc, base), acc);        // n odd: this bit is set
    base = mul(base, base);
    n = rest;
  }
  return acc;
}

// a^b elementwise, following std::pow on the cases nets meet: b == 0 gives 1, a < 0 needs an
// integer b (sign from its parity) else NaN, a == 0 gives 0 or inf by the sign of b.
// exp(b log |a|) loses about |b ln a| ulps (7^4 gave 2400.9995), so small integer powers go
// by repeated squaring: |b| <= 4 always (x^2 is x*x), and an integer base whose power stays
// within 2^24, where every product is exact (3^6 = 729, what ONNX's integer Pow truncates).
inline VecF pow_vec(VecF a, VecF b) {
  const VecF mag = abs(a);
  VecF r = exp(mul(b, log(mag)));
  const Mask b_integer = eq(round_nearest(b), b);
  const VecF nb = abs(b);
  const Mask small = mask_and(b_integer, le(nb, set1(64.0f)));
  const VecF sq = pow_by_squaring(mag, nb, small);
  const Mask exact =
      mask_and(mask_and(eq(round_nearest(a), a), le(sq, set1(16777216.0f))), ge(b, zero()));
  const Mask use_sq = mask_and(small, mask_or(le(nb, set1(4.0f)), exact));
  r = select(use_sq, select(lt(b, zero()), div(set1(1.0f), sq), sq), r);
  const VecF half = mul(b, set1(0.5f));
  const Mask odd = mask_and(b_integer, gt(abs(sub(round_nearest(half), half)), zero()));
  const Mask negative = lt(a, zero());
  // Odd integer powers take a's sign bit, so (-0)^-1 = -inf and (-0)^3 = -0 as in std::pow.
  r = select(odd, copysign(r, a), r);
  r = select(mask_and(negative, b_integer), r,
             select(negative, set1(std::numeric_limits<float>::quiet_NaN()), r));
  return select(eq(b, zero()), set1(1.0f), r);
}

// max/min that return NaN when either input is NaN (torch.maximum / torch.minimum).
inline VecF maximum_nan(VecF a, VecF b) { return select(is_nan(a), a, max(a, b)); }
inline VecF minimum_nan(VecF a, VecF b) { return select(is_nan(a), a, min(a, b)); }

// A comparison's mask as 1.0f / 0.0f. The compares are the ordered (quiet) predicates, false
// when either lane is NaN; NotEqual is the complement of eq, so true there.
inline VecF as_one(Mask m) { return select(m, set1(1.0f), zero()); }

template <class F>
void dispatch_binary(BinaryOp op, F&& run) {
  switch (op) {
    case BinaryOp::Add:
      return run([](VecF a, VecF b) { return add(a, b); });
    case BinaryOp::Sub:
      return run([](VecF a, VecF b) { return sub(a, b); });
    case BinaryOp::Mul:
      return run([](VecF a, VecF b) { return mul(a, b); });
    case BinaryOp::Div:
      return run([](VecF a, VecF b) { return div(a, b); });
    case BinaryOp::Pow:
      return run([](VecF a, VecF b) { return pow_vec(a, b); });
    case BinaryOp::Maximum:
      return run([](VecF a, VecF b) { return maximum_nan(a, b); });
    case BinaryOp::Minimum:
      return run([](VecF a, VecF b) { return minimum_nan(a, b); });
    case BinaryOp::Greater:
      return run([](VecF a, VecF b) { return as_one(gt(a, b)); });
    case BinaryOp::GreaterEqual:
      return run([](VecF a, VecF b) { return as_one(ge(a, b)); });
    case BinaryOp::Less:
      return run([](VecF a, VecF b) { return as_one(lt(a, b)); });
    case BinaryOp::LessEqual:
      return run([](VecF a, VecF b) { return as_one(le(a, b)); });
    case BinaryOp::Equal:
      return run([](VecF a, VecF b) { return as_one(eq(a, b)); });
    case BinaryOp::NotEqual:
      return run([](VecF a, VecF b) { return select(eq(a, b), zero(), set1(1.0f)); });
    case BinaryOp::Count:
      return;
  }
}

}  // namespace

void binary_contiguous(BinaryOp op, const float* a, const float* b, float* y, int64_t n) {
  dispatch_binary(op, [&](auto f) { map2(a, b, y, n, f); });
}

void binary_scalar(BinaryOp op, const float* x, float s, bool scalar_first, float* y, int64_t n) {
  const VecF sv = set1(s);
  dispatch_binary(op, [&](auto f) {
    if (scalar_first)
      map1(x, y, n, [&](VecF v) { return f(sv, v); });
    else
      map1(x, y, n, [&](VecF v) { return f(v, sv); });
  });
}

void binary_backward(BinaryOp op, const float* a, const float* b, const float* y, const float* dy,
                     float* da, float* db, int64_t n) {
  const VecF half = set1(0.5f);
  // Each case: the gradient factor for a and for b, as functions of (a, b, y, dy).
  auto run = [&](auto ga, auto gb) {
    int64_t i = 0;
    auto step = [&](int64_t at, int len) {
      const VecF va = load_partial(a + at, len), vb = load_partial(b + at, len);
      const VecF vy = load_partial(y + at, len), g = load_partial(dy + at, len);
      if (da) store_partial(da + at, add(load_partial(da + at, len), ga(va, vb, vy, g)), len);
      if (db) store_partial(db + at, add(load_partial(db + at, len), gb(va, vb, vy, g)), len);
    };
    for (; i + kWidth <= n; i += kWidth) step(i, kWidth);
    if (i < n) step(i, static_cast<int>(n - i));
  };
  switch (op) {
    case BinaryOp::Add:
      return run([](VecF, VecF, VecF, VecF g) { return g; },
                 [](VecF, VecF, VecF, VecF g) { return g; });
    case BinaryOp::Sub:
      return run([](VecF, VecF, VecF, VecF g) { return g; },
                 [](VecF, VecF, VecF, VecF g) { return neg(g); });
    case BinaryOp::Mul:
      return run([](VecF, VecF vb, VecF, VecF g) { return mul(g, vb); },
                 [](VecF va, VecF, VecF, VecF g) { return mul(g, va); });
    case BinaryOp::Div:
      return run([](VecF, VecF vb, VecF, VecF g) { return div(g, vb); },
                 [](VecF, VecF vb, VecF vy, VecF g) { return neg(div(mul(g, vy), vb)); });
    case BinaryOp::Pow:
      return run(
          [](VecF va, VecF vb, VecF, VecF g) {
            const VecF d = mul(vb, pow_vec(va, sub(vb, set1(1.0f))));
            return select(eq(vb, zero()), zero(), mul(g, d));
          },
          [](VecF va, VecF vb, VecF vy, VecF g) {
            // 0 where a == 0 and b >= 0 (PyTorch's convention; the limit is 0 there).
            const Mask zero_case = mask_and(eq(va, zero()), ge(vb, zero()));
            return select(zero_case, zero(), mul(mul(g, vy), log(va)));
          });
    case BinaryOp::Maximum:
    case BinaryOp::Minimum: {
      // The winner takes the gradient; ties split it evenly (as torch.maximum).
      const bool is_max = op == BinaryOp::Maximum;
      return run(
          [&](VecF va, VecF vb, VecF, VecF g) {
            const Mask wins = is_max ? gt(va, vb) : lt(va, vb);
            return select(eq(va, vb), mul(g, half), select(wins, g, zero()));
          },
          [&](VecF va, VecF vb, VecF, VecF g) {
            const Mask wins = is_max ? gt(vb, va) : lt(vb, va);
            return select(eq(va, vb), mul(g, half), select(wins, g, zero()));
          });
    }
    case BinaryOp::Greater:
    case BinaryOp::GreaterEqual:
    case BinaryOp::Less:
    case BinaryOp::LessEqual:
    case BinaryOp::Equal:
    case BinaryOp::NotEqual:
      return;  // piecewise constant: a zero gradient, nothing to add (not even dy * 0 = NaN)
    case BinaryOp::Count:
      return;
  }
}

// The selects. "cond is false" is eq(cond, 0): the ordered compare, true for +0 and -0 only,
// so any other value, NaN included, is true (C's truthiness). Both are pure blends of loaded
// lanes, so the chosen values arrive bit for bit and the other operand cannot leak into them.
void select_forward(const float* cond, const float* x, const float* y, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth)
    store(out + i, select(eq(load(cond + i), zero()), load(y + i), load(x + i)));
  if (i < n) {
    const int rest = static_cast<int>(n - i);
    const Mask off = eq(load_partial(cond + i, rest), zero());
    store_partial(out + i, select(off, load_partial(y + i, rest), load_partial(x + i, rest)), rest);
  }
}

void select_backward(const float* cond, const float* dout, float* dx, float* dy, int64_t n) {
  // Unselected lanes keep dx / dy as loaded (a select, not + 0: -0 stays -0, and a NaN in
  // dout there goes nowhere).
  auto step = [&](int64_t at, int len) {
    const Mask off = eq(load_partial(cond + at, len), zero());
    const VecF g = load_partial(dout + at, len);
    if (dx) {
      const VecF d = load_partial(dx + at, len);
      store_partial(dx + at, select(off, d, add(d, g)), len);
    }
    if (dy) {
      const VecF d = load_partial(dy + at, len);
      store_partial(dy + at, select(off, add(d, g), d), len);
    }
  };
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) step(i, kWidth);
  if (i < n) step(i, static_cast<int>(n - i));
}

}  // namespace axon::cpu::AXON_ISA_NS
