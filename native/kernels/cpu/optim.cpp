// Optimizer updates, one fused pass over each parameter tensor (compiled once per SIMD
// level; the dispatch layer threads them). Formulas as torch.optim documents them; see the
// comments on each config in axon/kernels.h.
#include <cmath>

#include "simd/isa.h"
#include "isa_kernels.h"

namespace axon::cpu::AXON_ISA_NS {

using namespace simd;

namespace {
// Runs body(offset, width) over [0, n) in full vectors and one masked tail.
template <class F>
inline void for_vectors(int64_t n, F&& body) {
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) body(i, kWidth);
  if (i < n) body(i, static_cast<int>(n - i));
}
}  // namespace

void sgd_step(float* p, const float* g, float* buf, int64_t n, const SgdConfig& c) {
  const VecF lr = set1(c.lr), wd = set1(c.weight_decay), mu = set1(c.momentum);
  const VecF damp = set1(1.0f - c.dampening), sign = set1(c.maximize ? -1.0f : 1.0f);
  const bool use_momentum = c.momentum != 0.0f;
  for_vectors(n, [&](int64_t i, int w) {
    const VecF pv = load_partial(p + i, w);
    VecF gv = mul(load_partial(g + i, w), sign);
    if (c.weight_decay != 0.0f) gv = fmadd(wd, pv, gv);
    if (use_momentum) {
      const VecF b = c.first_step ? gv : fmadd(mu, load_partial(buf + i, w), mul(damp, gv));
      store_partial(buf + i, b, w);
      gv = c.nesterov ? fmadd(mu, b, gv) : b;
    }
    store_partial(p + i, fnmadd(lr, gv, pv), w);
  });
}

void adam_step(float* p, const float* g, float* m, float* v, float* vmax, int64_t n,
               const AdamConfig& c) {
  const double bc1 = 1.0 - std::pow(double(c.beta1), double(c.step));
  const double bc2 = 1.0 - std::pow(double(c.beta2), double(c.step));
  const VecF step_size = set1(static_cast<float>(c.lr / bc1));
  const VecF inv_sqrt_bc2 = set1(static_cast<float>(1.0 / std::sqrt(bc2)));
  const VecF b1 = set1(c.beta1), b2 = set1(c.beta2), one_b1 = set1(1.0f - c.beta1),
             one_b2 = set1(1.0f - c.beta2), eps = set1(c.eps), wd = set1(c.weight_decay),
             decay = set1(1.0f - c.lr * c.weight_decay), sign = set1(c.maximize ? -1.0f : 1.0f);
  for_vectors(n, [&](int64_t i, int w) {
    VecF pv = load_partial(p + i, w);
    VecF gv = mul(load_partial(g + i, w), sign);
    if (c.weight_decay != 0.0f) {
      if (c.decoupled)
        pv = mul(pv, decay);
      else
        gv = fmadd(wd, pv, gv);
    }
    const VecF mv = fmadd(b1, load_partial(m + i, w), mul(one_b1, gv));
    const VecF vv = fmadd(b2, load_partial(v + i, w), mul(one_b2, mul(gv, gv)));
    store_partial(m + i, mv, w);
    store_partial(v + i, vv, w);
    VecF second = vv;
    if (c.amsgrad) {
      second = max(load_partial(vmax + i, w), vv);
      store_partial(vmax + i, second, w);
    }
    const VecF denom = fmadd(sqrt(second), inv_sqrt_bc2, eps);
    store_partial(p + i, fnmadd(step_size, div(mv, denom), pv), w);
  });
}

void rmsprop_step(float* p, const float* g, float* sq, float* ga, float* buf, int64_t n,
                  const RmspropConfig& c) {
  const VecF a = set1(c.alpha), one_a = set1(1.0f - c.alpha), eps = set1(c.eps),
             wd = set1(c.weight_decay), mu = set1(c.momentum), lr = set1(c.lr),
             sign = set1(c.maximize ? -1.0f : 1.0f);
  for_vectors(n, [&](int64_t i, int w) {
    const VecF pv = load_partial(p + i, w);
    VecF gv = mul(load_partial(g + i, w), sign);
    if (c.weight_decay != 0.0f) gv = fmadd(wd, pv, gv);
    const VecF s = fmadd(a, load_partial(sq + i, w), mul(one_a, mul(gv, gv)));
    store_partial(sq + i, s, w);
    VecF avg;
    if (c.centered) {
      const VecF gm = fmadd(a, load_partial(ga + i, w), mul(one_a, gv));
      store_partial(ga + i, gm, w);
      avg = add(sqrt(fnmadd(gm, gm, s)), eps);
    } else {
      avg = add(sqrt(s), eps);
    }
    if (c.momentum > 0.0f) {
      const VecF b = fmadd(mu, load_partial(buf + i, w), div(gv, avg));
      store_partial(buf + i, b, w);
      store_partial(p + i, fnmadd(lr, b, pv), w);
    } else {
      store_partial(p + i, fnmadd(lr, div(gv, avg), pv), w);
    }
  });
}

void adagrad_step(float* p, const float* g, float* sum, int64_t n, const AdagradConfig& c) {
  const VecF lr = set1(c.lr), eps = set1(c.eps), wd = set1(c.weight_decay),
             sign = set1(c.maximize ? -1.0f : 1.0f);
  for_vectors(n, [&](int64_t i, int w) {
    const VecF pv = load_partial(p + i, w);
    VecF gv = mul(load_partial(g + i, w), sign);
    if (c.weight_decay != 0.0f) gv = fmadd(wd, pv, gv);
    const VecF s = fmadd(gv, gv, load_partial(sum + i, w));
    store_partial(sum + i, s, w);
    store_partial(p + i, fnmadd(lr, div(gv, add(sqrt(s), eps)), pv), w);
  });
}

double sum_squares(const float* x, int64_t n) {
  constexpr int64_t kBlock = 4096;
  double total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t len = n - b < kBlock ? n - b : kBlock;
    VecF acc0 = zero(), acc1 = zero();
    int64_t i = 0;
    for (; i + 2 * kWidth <= len; i += 2 * kWidth) {
      const VecF u = load(x + b + i), v = load(x + b + i + kWidth);
      acc0 = fmadd(u, u, acc0);
      acc1 = fmadd(v, v, acc1);
    }
    for (; i < len; i += kWidth) {
      const int w = len - i < kWidth ? static_cast<int>(len - i) : kWidth;
      const VecF u = load_partial(x + b + i, w);
      acc0 = fmadd(u, u, acc0);
    }
    total += reduce_add(add(acc0, acc1));
  }
  return total;
}

}  // namespace axon::cpu::AXON_ISA_NS
