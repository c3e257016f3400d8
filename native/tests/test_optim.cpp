// Gradient-norm clipping (clip_grad_norm) against its naive twin (axon/ref.h): 2- and
// inf-norms over no gradients, empty ones, odd lengths and a 300001-long one (the threaded
// sum_squares, which sums float squares in blocks: 1e-6 relative), with max_norm above the norm
// (untouched) and below it (scaled); a NaN is skipped by the inf-norm and poisons the 2-norm.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "axon/kernels.h"
#include "axon/ref.h"
#include "check.h"

using namespace axon;
using axon::test::random_vector;

namespace {

struct Grads {
  std::vector<std::vector<float>> data;
  std::vector<float*> ptrs;
  std::vector<int64_t> sizes;
  explicit Grads(const std::vector<std::vector<float>>& d) : data(d) {
    for (auto& v : data) ptrs.push_back(v.data()), sizes.push_back(int64_t(v.size()));
  }
};

}  // namespace

TEST(clip_grad_norm_matches_ref) {
  const double kInf = std::numeric_limits<double>::infinity();
  const std::vector<std::vector<int64_t>> layouts = {
      {}, {0}, {1}, {17}, {0, 5, 0}, {3, 31, 64, 1}, {300001, 7}};
  uint32_t seed = 1;
  for (const auto& layout : layouts)
    for (double norm_type : {2.0, kInf})
      for (double max_norm : {1e9, 0.5, 0.0}) {
        std::vector<std::vector<float>> d;
        for (int64_t n : layout) d.push_back(random_vector(size_t(n), seed++, -2.0f, 2.0f));
        Grads fast(d), want(d);
        const double got = clip_grad_norm(fast.ptrs.data(), fast.sizes.data(),
                                          int64_t(fast.ptrs.size()), max_norm, norm_type);
        const double exp = ref::clip_grad_norm(want.ptrs.data(), want.sizes.data(),
                                               int64_t(want.ptrs.size()), max_norm, norm_type);
        const std::string what = "tensors=" + std::to_string(layout.size()) +
                                 " type=" + std::to_string(norm_type) +
                                 " max=" + std::to_string(max_norm);
        CHECK_MSG(std::fabs(got - exp) <= 1e-6 * std::fabs(exp),
                  what + ": norm " + std::to_string(got) + " want " + std::to_string(exp));
        for (size_t i = 0; i < d.size(); ++i)
          CHECK_CLOSE(fast.data[i].data(), want.data[i].data(), d[i].size(), 1e-30, 1e-6,
                      what + " grads[" + std::to_string(i) + "]");
      }
}

TEST(clip_grad_norm_nan) {
  const double kInf = std::numeric_limits<double>::infinity();
  std::vector<std::vector<float>> d = {{1.0f, -3.0f}, {std::nanf(""), 2.0f}};
  Grads a(d), b(d);
  CHECK(clip_grad_norm(a.ptrs.data(), a.sizes.data(), 2, 10.0, kInf) == 3.0);
  CHECK(ref::clip_grad_norm(b.ptrs.data(), b.sizes.data(), 2, 10.0, kInf) == 3.0);
  Grads c(d);
  CHECK(std::isnan(clip_grad_norm(c.ptrs.data(), c.sizes.data(), 2, 10.0, 2.0)));
}
