// Metric kernels on labels that are data: a float label that is NaN, infinite or far outside
// the classes is counted as skipped (it must never reach a float-to-integer conversion, which
// is undefined behaviour: the sanitizer build flags it), an integer label outside the classes
// likewise; in-range labels still count where they belong.
#include <cmath>
#include <limits>
#include <vector>

#include "axon/kernels.h"
#include "check.h"

using namespace axon;

TEST(confusion_float_labels_outside_the_classes_are_skipped) {
  const float inf = std::numeric_limits<float>::infinity();
  // 3 classes; every row predicts class 1.
  const std::vector<float> labels = {NAN, inf, -inf, 1e30f, -1e30f, 3.0f, -1.5f, 2.7f, -0.5f, 0.0f};
  const int64_t n = static_cast<int64_t>(labels.size()), c = 3;
  std::vector<float> scores(n * c, 0.0f);
  for (int64_t i = 0; i < n; ++i) scores[i * c + 1] = 1.0f;
  std::vector<double> matrix(c * c, 0.0);
  double skipped = 0;
  confusion_update(scores.data(), n, c, nullptr, labels.data(), 1, 0.5f, matrix.data(), &skipped);
  // NaN, +-inf, +-1e30, 3 and -1.5 are skipped; 2.7 -> 2; -0.5 and 0 -> 0 (truncation).
  CHECK(skipped == 7);
  CHECK(matrix[2 * c + 1] == 1);
  CHECK(matrix[0 * c + 1] == 2);
  double total = 0;
  for (double v : matrix) total += v;
  CHECK(total == 3);
}

TEST(confusion_and_top_k_integer_labels_outside_the_classes) {
  const int64_t n = 4, c = 2;
  const std::vector<float> scores = {0, 1, 1, 0, 0, 1, 1, 0};
  const std::vector<int32_t> labels = {1, -1, 2000000000, 0};
  std::vector<double> matrix(c * c, 0.0);
  double skipped = 0;
  confusion_update(scores.data(), n, c, labels.data(), nullptr, 1, 0.5f, matrix.data(), &skipped);
  CHECK(skipped == 2);
  CHECK(matrix[1 * c + 1] == 1);
  CHECK(matrix[0 * c + 0] == 1);
  double counts[2] = {0, 0};
  top_k_update(scores.data(), n, c, labels.data(), 1, counts);
  CHECK(counts[0] == 2);  // rows 0 and 3: the label is the top score
  CHECK(counts[1] == 2);  // rows 1 and 2 are not counted at all
}
