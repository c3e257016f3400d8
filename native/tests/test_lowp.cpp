// Reduced-precision linear layers (lowp_pack, lowp_linear) against their naive twin and
// against the method computed straight from the float weights (so the packing is checked
// too): awkward m, n, k around the 32-column panels, the 12-row tiles and the K chunks, bias
// and fused activations, both formats. On the AVX-512 level of a CPU with AVX512-BF16 / VNNI
// this is the microkernel path; on the other levels (and other CPUs) the float fallback.
#include <cmath>
#include <string>
#include <vector>

#include "axon/kernels.h"
#include "axon/ref.h"
#include "check.h"
#include "lowp_internal.h"

using namespace axon;
using axon::test::random_vector;

namespace {
void run_case(LowpFormat format, int64_t m, int64_t n, int64_t k, bool with_bias, UnaryOp act,
              uint32_t seed) {
  const std::string what = std::string(format == LowpFormat::Bf16 ? "bf16" : "int8") +
                           " m=" + std::to_string(m) + " n=" + std::to_string(n) +
                           " k=" + std::to_string(k) + " act=" + std::to_string(int(act));
  const std::vector<float> w = random_vector(size_t(n * k), seed, -0.5f, 0.5f);
  const std::vector<float> x = random_vector(size_t(m * k), seed + 1, -2.0f, 2.0f);
  const std::vector<float> b = random_vector(size_t(n), seed + 2);
  std::vector<int32_t> packed(size_t(lowp_packed_size(format, n, k)), -1);
  std::vector<float> scales(static_cast<size_t>(n));
  std::vector<int32_t> colsum(static_cast<size_t>(n));
  lowp_pack(format, w.data(), n, k, packed.data(), scales.data(), colsum.data());
  LowpWeights lw;
  lw.format = format, lw.n = n, lw.k = k;
  lw.packed = packed.data(), lw.scales = scales.data(), lw.colsum = colsum.data();
  std::vector<float> y(size_t(m * n), 7.0f), want(size_t(m * n));
  const float* bias = with_bias ? b.data() : nullptr;
  lowp_linear(lw, x.data(), m, bias, act, 0.0f, y.data());
  ref::lowp_linear(lw, x.data(), m, bias, act, 0.0f, want.data());
  // bf16: float32 sums of up to k bf16 products against double; int8: exact integer sums
  // rescaled once.
  const double tol = format == LowpFormat::Bf16 ? 2e-4 * std::sqrt(double(k)) : 1e-5;
  CHECK_CLOSE(y.data(), want.data(), y.size(), tol, 1e-4, what);

  // The packing: the method straight from w (no activation, no bias).
  if (act != UnaryOp::Identity || with_bias) return;
  for (int64_t r = 0; r < m; ++r) {
    float amax = 0.0f;
    for (int64_t i = 0; i < k; ++i) amax = std::fmax(amax, std::fabs(x[size_t(r * k + i)]));
    const float sx = lowp::int8_scale(amax);
    for (int64_t j = 0; j < n; ++j) {
      float wmax = 0.0f;
      for (int64_t i = 0; i < k; ++i) wmax = std::fmax(wmax, std::fabs(w[size_t(j * k + i)]));
      const float sw = lowp::int8_scale(wmax);
      double acc = 0;
      for (int64_t i = 0; i < k; ++i) {
        const float xv = x[size_t(r * k + i)], wv = w[size_t(j * k + i)];
        acc += format == LowpFormat::Bf16
                   ? double(lowp::from_bf16(lowp::to_bf16(xv))) * lowp::from_bf16(lowp::to_bf16(wv))
                   : double(lowp::quantize(xv, sx)) * sx * double(lowp::quantize(wv, sw)) * sw;
      }
      want[size_t(r * n + j)] = static_cast<float>(acc);
    }
  }
  CHECK_CLOSE(y.data(), want.data(), y.size(), tol, 1e-4, what + " vs the method from w");
}
}  // namespace

TEST(lowp_linear_matches_ref) {
  uint32_t seed = 40;
  const int64_t sizes[][3] = {{1, 1, 1},     {3, 5, 7},     {13, 33, 17},   {12, 32, 256},
                              {50, 70, 130}, {25, 64, 300}, {128, 96, 768}, {2, 100, 1}};
  for (LowpFormat f : {LowpFormat::Bf16, LowpFormat::Int8})
    for (const auto& s : sizes) run_case(f, s[0], s[1], s[2], false, UnaryOp::Identity, seed += 3);
  for (LowpFormat f : {LowpFormat::Bf16, LowpFormat::Int8})
    for (UnaryOp act : {UnaryOp::Identity, UnaryOp::Relu, UnaryOp::GeluErf})
      run_case(f, 17, 45, 66, true, act, seed += 3);
}

// Rows and columns of zeros get scale 0 and quantise to zeros, never NaN.
TEST(lowp_int8_zero_rows_and_columns) {
  const int64_t m = 3, n = 4, k = 8;
  std::vector<float> w(size_t(n * k), 0.25f), x(size_t(m * k), 1.0f);
  for (int64_t i = 0; i < k; ++i) w[size_t(2 * k + i)] = 0.0f, x[size_t(1 * k + i)] = 0.0f;
  std::vector<int32_t> packed(size_t(lowp_packed_size(LowpFormat::Int8, n, k)));
  std::vector<float> scales(static_cast<size_t>(n)), y(static_cast<size_t>(m * n));
  std::vector<int32_t> colsum(static_cast<size_t>(n));
  lowp_pack(LowpFormat::Int8, w.data(), n, k, packed.data(), scales.data(), colsum.data());
  LowpWeights lw;
  lw.format = LowpFormat::Int8, lw.n = n, lw.k = k;
  lw.packed = packed.data(), lw.scales = scales.data(), lw.colsum = colsum.data();
  lowp_linear(lw, x.data(), m, nullptr, UnaryOp::Identity, 0.0f, y.data());
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < n; ++j) {
      const float want = (r == 1 || j == 2) ? 0.0f : 2.0f;
      CHECK_MSG(std::fabs(y[size_t(r * n + j)] - want) < 1e-5f,
                "y[" + std::to_string(r) + "," + std::to_string(j) +
                    "] = " + std::to_string(y[size_t(r * n + j)]));
    }
}
