// The cross-entropy reductions (cross_entropy_reduce and its backward) against their naive
// twins (axon/ref.h): n = 0, 1 and odd sizes; class indices with ignored rows and class
// weights, and probability targets; mean and sum. Checked to the last bit: both sum in double
// in row order.
#include <string>
#include <vector>

#include "axon/kernels.h"
#include "axon/ref.h"
#include "check.h"

using namespace axon;
using axon::test::random_vector;

TEST(cross_entropy_reduce_matches_ref) {
  uint32_t seed = 7;
  for (int64_t n : {0, 1, 5, 33, 1001})
    for (int64_t c : {1, 3, 10})
      for (int targets = 0; targets < 3; ++targets)  // indices, weighted indices, probabilities
        for (bool mean : {false, true}) {
          const std::vector<float> rows = random_vector(size_t(n), seed++, 0.0f, 5.0f);
          const std::vector<float> weights = random_vector(size_t(c), seed++, 0.1f, 2.0f);
          std::vector<int32_t> index(static_cast<size_t>(n));
          for (int64_t i = 0; i < n; ++i)
            index[i] = i % 4 == 3 ? -100 : static_cast<int32_t>((i * 7) % c);
          CrossEntropyArgs a;
          a.n = n, a.c = c;
          if (targets < 2) a.target_index = index.data();
          if (targets == 1) a.class_weight = weights.data();
          // Probability targets: the reductions never read them, only whether they are given.
          static const float kProb = 0;
          if (targets == 2) a.target_prob = &kProb;
          const std::string what = "n=" + std::to_string(n) + " c=" + std::to_string(c) +
                                   " targets=" + std::to_string(targets) +
                                   (mean ? " mean" : " sum");
          const float got = cross_entropy_reduce(a, rows.data(), mean);
          const float want = ref::cross_entropy_reduce(a, rows.data(), mean);
          CHECK_CLOSE(&got, &want, 1, 0.0, 0.0, what);
          std::vector<float> dg(static_cast<size_t>(n), -1.0f), dw(static_cast<size_t>(n), -2.0f);
          cross_entropy_reduce_backward(a, 0.75f, mean, dg.data());
          ref::cross_entropy_reduce_backward(a, 0.75f, mean, dw.data());
          CHECK_CLOSE(dg.data(), dw.data(), dg.size(), 0.0, 0.0, what + " backward");
        }
}
