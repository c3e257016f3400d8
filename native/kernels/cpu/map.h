// The shared vector loops of the elementwise kernels: a functor on VecF applied over arrays,
// main loop of full vectors then one masked tail. Include after simd/isa.h. Internal header.
#pragma once

#include <cstdint>

namespace axon::cpu::AXON_ISA_NS {

// y[i] = f(x[i])
template <class F>
inline void map1(const float* x, float* y, int64_t n, F f) {
  using namespace simd;
  int64_t i = 0;
  for (; i + 2 * kWidth <= n; i += 2 * kWidth) {
    const VecF a = f(load(x + i)), b = f(load(x + i + kWidth));
    store(y + i, a);
    store(y + i + kWidth, b);
  }
  for (; i + kWidth <= n; i += kWidth) store(y + i, f(load(x + i)));
  if (i < n) {
    const int rest = static_cast<int>(n - i);
    store_partial(y + i, f(load_partial(x + i, rest)), rest);
  }
}

// y[i] = f(a[i], b[i])
template <class F>
inline void map2(const float* a, const float* b, float* y, int64_t n, F f) {
  using namespace simd;
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) store(y + i, f(load(a + i), load(b + i)));
  if (i < n) {
    const int rest = static_cast<int>(n - i);
    store_partial(y + i, f(load_partial(a + i, rest), load_partial(b + i, rest)), rest);
  }
}

// dx[i] += g(x[i], y[i], dy[i])   (the backward shape of every unary op)
template <class G>
inline void map_grad(const float* x, const float* y, const float* dy, float* dx, int64_t n, G g) {
  using namespace simd;
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth)
    store(dx + i, add(load(dx + i), g(load(x + i), load(y + i), load(dy + i))));
  if (i < n) {
    const int rest = static_cast<int>(n - i);
    const VecF d =
        g(load_partial(x + i, rest), load_partial(y + i, rest), load_partial(dy + i, rest));
    store_partial(dx + i, add(load_partial(dx + i, rest), d), rest);
  }
}

}  // namespace axon::cpu::AXON_ISA_NS
