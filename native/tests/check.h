// A minimal test harness for the native kernel tests (no dependencies, so the tests build
// anywhere the kernels do). TEST(name) registers a function; CHECK* record failures with
// file:line and keep going; the runner (test_main.cpp) runs every test on the SIMD level given
// by --isa, once per thread count.
#pragma once

#include <cstring>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace axon::test {

struct Registry {
  std::vector<std::pair<std::string, std::function<void()>>> tests;
  static Registry& get() {
    static Registry r;
    return r;
  }
};

struct Registrar {
  Registrar(const char* name, std::function<void()> fn) {
    Registry::get().tests.emplace_back(name, std::move(fn));
  }
};

inline int& failures() {
  static int n = 0;
  return n;
}
inline std::string& context() {
  static std::string c;
  return c;
}

inline void fail(const char* file, int line, const std::string& msg) {
  if (++failures() <= 40)
    std::fprintf(stderr, "FAIL %s:%d [%s] %s\n", file, line, context().c_str(), msg.c_str());
}

// Deterministic random floats in [lo, hi).
inline std::vector<float> random_vector(size_t n, uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

// Max |a-b| / (atol + rtol*|b|) over two arrays; <= 1 passes. NaN must match NaN, inf inf.
inline double worst_ratio(const float* a, const float* b, size_t n, double atol, double rtol,
                          size_t* where = nullptr) {
  double worst = 0;
  for (size_t i = 0; i < n; ++i) {
    double r;
    if (std::isnan(a[i]) || std::isnan(b[i]))
      r = (std::isnan(a[i]) && std::isnan(b[i])) ? 0 : 1e30;
    else if (std::isinf(a[i]) || std::isinf(b[i]))
      r = a[i] == b[i] ? 0 : 1e30;
    else
      r = std::fabs(double(a[i]) - double(b[i])) / (atol + rtol * std::fabs(double(b[i])));
    if (r > worst) {
      worst = r;
      if (where) *where = i;
    }
  }
  return worst;
}

}  // namespace axon::test

#define AXON_CAT2(a, b) a##b
#define AXON_CAT(a, b) AXON_CAT2(a, b)
#define TEST(name)                                                        \
  static void name();                                                     \
  static ::axon::test::Registrar AXON_CAT(registrar_, name)(#name, name); \
  static void name()

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) ::axon::test::fail(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)

#define CHECK_MSG(cond, msg)                                               \
  do {                                                                     \
    if (!(cond)) ::axon::test::fail(__FILE__, __LINE__, std::string(msg)); \
  } while (0)

// Arrays agree within atol + rtol*|expected| elementwise.
#define CHECK_CLOSE(actual, expected, n, atol, rtol, what)                                 \
  do {                                                                                     \
    size_t where_ = 0;                                                                     \
    const double r_ =                                                                      \
        ::axon::test::worst_ratio((actual), (expected), (n), (atol), (rtol), &where_);     \
    if (r_ > 1.0) {                                                                        \
      char buf_[256];                                                                      \
      std::snprintf(buf_, sizeof buf_, "%s: element %zu: got %.9g want %.9g (ratio %.3g)", \
                    std::string(what).c_str(), where_, double((actual)[where_]),           \
                    double((expected)[where_]), r_);                                       \
      ::axon::test::fail(__FILE__, __LINE__, buf_);                                        \
    }                                                                                      \
  } while (0)

// memcmp(a, b, n) == 0 that also holds for n == 0, where a vector's data() may be null (passing
// null to memcmp is undefined behaviour even for zero bytes, and UBSan says so).
inline bool bytes_equal(const void* a, const void* b, size_t n) {
  return n == 0 || std::memcmp(a, b, n) == 0;
}
