// Compiler portability: the few GCC/Clang extensions native/ uses, each spelled for GCC, Clang
// (Linux, macOS, clang-cl) and MSVC. Where MSVC has no equivalent of a pure optimisation hint
// (a loop unroll count), the macro expands to nothing there.
//
// AXON_ALWAYS_INLINE       inline, and inlined even where the heuristics would not
// AXON_UNROLL(n)           before a loop: unroll it n times (GCC, Clang; nothing on MSVC)
// AXON_IVDEP               before a loop: it carries no memory dependence, vectorise it
// AXON_PREFETCH(p, rw, l)  __builtin_prefetch(p, rw, l): rw 0 read / 1 write, l 0..3 locality
// popcount32, add_overflow, mul_overflow   __builtin_popcount / __builtin_*_overflow
#pragma once

#include <cstdint>
#include <limits>

#if defined(_MSC_VER) && !defined(__clang__)
#define AXON_MSVC 1
#include <intrin.h>
#endif

#define AXON_PRAGMA(x) _Pragma(#x)

#if defined(AXON_MSVC)
#define AXON_ALWAYS_INLINE __forceinline
#define AXON_UNROLL(n)
#define AXON_IVDEP __pragma(loop(ivdep))
#elif defined(__clang__)
#define AXON_ALWAYS_INLINE inline __attribute__((always_inline))
#define AXON_UNROLL(n) AXON_PRAGMA(unroll n)
#define AXON_IVDEP AXON_PRAGMA(clang loop vectorize(assume_safety))
#elif defined(__GNUC__)
#define AXON_ALWAYS_INLINE inline __attribute__((always_inline))
#define AXON_UNROLL(n) AXON_PRAGMA(GCC unroll n)
#define AXON_IVDEP AXON_PRAGMA(GCC ivdep)
#else
#define AXON_ALWAYS_INLINE inline
#define AXON_UNROLL(n)
#define AXON_IVDEP
#endif

#if !defined(AXON_MSVC)
#define AXON_PREFETCH(p, rw, locality) __builtin_prefetch((p), (rw), (locality))
#elif defined(_M_X64) || defined(_M_IX86)
// No write hint: PREFETCHW is a separate CPUID feature; a read prefetch brings the line too.
#define AXON_PREFETCH(p, rw, locality)                                           \
  _mm_prefetch(reinterpret_cast<const char*>(p), (locality) == 3   ? _MM_HINT_T0 \
                                                 : (locality) == 2 ? _MM_HINT_T1 \
                                                 : (locality) == 1 ? _MM_HINT_T2 \
                                                                   : _MM_HINT_NTA)
#elif defined(_M_ARM64)
#define AXON_PREFETCH(p, rw, locality) __prefetch(p)
#else
#define AXON_PREFETCH(p, rw, locality) ((void)(p))
#endif

namespace axon {

// The portable bodies of the functions below: what MSVC runs, and what the native tests check
// against the GCC/Clang builtins.
namespace portable {
inline int popcount32(uint32_t x) {
  int n = 0;
  for (; x != 0; x &= x - 1) ++n;
  return n;
}
inline bool add_overflow(int64_t a, int64_t b, int64_t* r) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if ((b > 0 && a > kMax - b) || (b < 0 && a < kMin - b)) return true;
  *r = a + b;
  return false;
}
inline bool mul_overflow(int64_t a, int64_t b, int64_t* r) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  const bool over = a > 0 ? (b > 0 ? a > kMax / b : b < kMin / a)
                          : (b > 0 ? a < kMin / b : (a != 0 && b < kMax / a));
  if (over) return true;
  *r = a * b;
  return false;
}
}  // namespace portable

// Set bits in x. (MSVC's __popcnt would need the POPCNT instruction on every CPU we run on.)
inline int popcount32(uint32_t x) {
#if !defined(AXON_MSVC)
  return __builtin_popcount(x);
#else
  return portable::popcount32(x);
#endif
}

// *r = a + b, a * b; true when the exact result does not fit in int64_t (*r is then
// unspecified).
inline bool add_overflow(int64_t a, int64_t b, int64_t* r) {
#if !defined(AXON_MSVC)
  return __builtin_add_overflow(a, b, r);
#else
  return portable::add_overflow(a, b, r);
#endif
}
inline bool mul_overflow(int64_t a, int64_t b, int64_t* r) {
#if !defined(AXON_MSVC)
  return __builtin_mul_overflow(a, b, r);
#else
  return portable::mul_overflow(a, b, r);
#endif
}

}  // namespace axon
