// Naive twins of the cross-entropy reductions (axon/kernels.h cross_entropy_reduce and its
// backward): the 'mean' denominator restated from the definition of a row's target weight.
// Tested in native/tests/test_loss.cpp.
#include "axon/ref.h"

namespace axon::ref {

namespace {
// Weight of row i's target: 0 if ignored, w[y] (1 without class weights); 1 for probabilities.
double row_weight(const CrossEntropyArgs& a, int64_t i) {
  if (!a.target_index) return 1.0;
  const int32_t y = a.target_index[i];
  if (y == a.ignore_index) return 0.0;
  return a.class_weight ? double(a.class_weight[y]) : 1.0;
}
double denominator(const CrossEntropyArgs& a) {
  double d = 0;
  for (int64_t i = 0; i < a.n; ++i) d += row_weight(a, i);
  return d;
}
}  // namespace

float cross_entropy_reduce(const CrossEntropyArgs& a, const float* rows, bool mean) {
  double total = 0;
  for (int64_t i = 0; i < a.n; ++i) total += double(rows[i]);
  if (mean) total /= denominator(a);
  return static_cast<float>(total);
}

void cross_entropy_reduce_backward(const CrossEntropyArgs& a, float dout, bool mean, float* drows) {
  const double g = mean ? double(dout) / denominator(a) : double(dout);
  for (int64_t i = 0; i < a.n; ++i) drows[i] = static_cast<float>(g);
}

}  // namespace axon::ref
