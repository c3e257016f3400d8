// Convolution, pooling and normalisation against their naive twins over a grid of awkward
// geometries (odd sizes, stride 2-3, dilation, groups incl. depthwise, asymmetric padding,
// 1x1, kernel = input), and every backward against finite differences of a scalar loss
// L = sum(g * f(x)) in double.
#include <array>
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

std::string describe(const ConvGeometry& g) {
  char b[256];
  std::snprintf(
      b, sizeof b,
      "N%lld %lld->%lld %lldx%lld k%lldx%lld s%lld,%lld p%lld,%lld,%lld,%lld d%lld,%lld g%lld",
      (long long)g.n, (long long)g.c_in, (long long)g.c_out, (long long)g.h, (long long)g.w,
      (long long)g.kh, (long long)g.kw, (long long)g.stride_h, (long long)g.stride_w,
      (long long)g.pad_top, (long long)g.pad_left, (long long)g.pad_bottom, (long long)g.pad_right,
      (long long)g.dil_h, (long long)g.dil_w, (long long)g.groups);
  return b;
}

ConvGeometry geo(int64_t n, int64_t cin, int64_t cout, int64_t h, int64_t w, int64_t kh, int64_t kw,
                 int64_t s = 1, int64_t p = 0, int64_t d = 1, int64_t groups = 1) {
  ConvGeometry g;
  g.n = n, g.c_in = cin, g.c_out = cout, g.h = h, g.w = w, g.kh = kh, g.kw = kw;
  g.stride_h = g.stride_w = s;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = p;
  g.dil_h = g.dil_w = d;
  g.groups = groups;
  return g;
}

std::vector<ConvGeometry> grid() {
  std::vector<ConvGeometry> v = {
      geo(2, 1, 32, 28, 28, 5, 5, 1, 2),       // the CNN's first layer
      geo(3, 32, 64, 14, 14, 5, 5, 1, 2),      // its second
      geo(1, 3, 5, 17, 13, 3, 3),              // odd sizes, no padding
      geo(2, 4, 6, 33, 31, 3, 3, 2, 1),        // stride 2
      geo(1, 5, 7, 19, 23, 3, 5, 3, 2),        // stride 3, rectangular kernel
      geo(2, 3, 4, 15, 16, 3, 3, 1, 2, 2),     // dilation 2
      geo(2, 6, 9, 11, 12, 3, 3, 1, 1, 1, 3),  // groups 3
      geo(2, 8, 8, 13, 9, 3, 3, 1, 1, 1, 8),   // depthwise
      geo(3, 16, 24, 7, 7, 1, 1),              // 1x1
      geo(2, 3, 5, 6, 5, 6, 5),                // kernel = input
      geo(1, 2, 3, 1, 40, 1, 7, 1, 3),         // conv1d (H = kH = 1)
      geo(2, 7, 130, 9, 10, 2, 2, 2, 0),       // Cout > MR and NR blocks
      geo(1, 64, 64, 21, 19, 3, 3, 1, 1),      // K > KC on the GEMM's blocking
      geo(2, 3, 13, 9, 37, 3, 3, 1, 1),        // direct path: RGB, partial channel block
      geo(1, 1, 8, 5, 3, 3, 3, 1, 1),          // direct path: output narrower than a vector
      geo(3, 2, 16, 11, 16, 4, 4, 1, 0),       // direct path: 32 taps exactly
      geo(1, 1, 9, 70, 17, 5, 3, 1, 0),        // direct path: one tall image, several bands
      geo(1, 3, 8, 3, 2, 3, 3, 1, 3),          // direct path: padding wider than the kernel
      geo(1, 20, 17, 67, 13, 3, 3, 1, 2),      // implicit GEMM: one image, several bands
      geo(2, 300, 9, 45, 45, 3, 3, 1, 1),      // implicit GEMM: K > 1024 steps, short bands
      geo(24, 5, 9, 6, 7, 3, 3, 1, 1),         // several small images per task
      geo(20, 4, 6, 5, 5, 3, 3),               // several unpadded images per task
      geo(16, 6, 10, 5, 6, 3, 3, 1, 1, 1, 2),  // several images per task, groups 2
  };
  ConvGeometry asym = geo(2, 3, 4, 10, 11, 3, 4, 2, 0);
  asym.pad_top = 2, asym.pad_left = 0, asym.pad_bottom = 1, asym.pad_right = 3;
  asym.stride_h = 1, asym.stride_w = 2;
  v.push_back(asym);
  ConvGeometry asym_direct = geo(2, 1, 12, 9, 20, 5, 5);
  asym_direct.pad_top = 0, asym_direct.pad_left = 4, asym_direct.pad_bottom = 3,
  asym_direct.pad_right = 1;
  v.push_back(asym_direct);
  return v;
}

}  // namespace

TEST(conv2d_forward_matches_reference) {
  uint32_t seed = 1;
  for (const ConvGeometry& g : grid())
    for (int variant = 0; variant < 3; ++variant) {  // plain; bias + relu; bias + tanh
      test::context() = describe(g);
      const int64_t cin_g = g.c_in / g.groups;
      auto x = random_vector(size_t(g.n * g.c_in * g.h * g.w), seed++);
      auto w = random_vector(size_t(g.c_out * cin_g * g.kh * g.kw), seed++);
      auto b = random_vector(size_t(g.c_out), seed++);
      const UnaryOp act = variant == 0   ? UnaryOp::Identity
                          : variant == 1 ? UnaryOp::Relu
                                         : UnaryOp::Tanh;
      const size_t ny = size_t(g.n * g.c_out * g.out_h() * g.out_w());
      std::vector<float> y(ny, NAN), want(ny);
      conv2d_forward(g, x.data(), w.data(), variant ? b.data() : nullptr, act, 0, y.data());
      ref::conv2d_forward(g, x.data(), w.data(), variant ? b.data() : nullptr, act, 0, want.data());
      const double k = double(cin_g * g.kh * g.kw);
      CHECK_CLOSE(y.data(), want.data(), ny, 1e-6 * k, 1e-5, "forward");
    }
  test::context().clear();
}

TEST(conv2d_backward_matches_reference) {
  uint32_t seed = 100;
  for (const ConvGeometry& g : grid()) {
    test::context() = describe(g);
    const int64_t cin_g = g.c_in / g.groups;
    const size_t nx = size_t(g.n * g.c_in * g.h * g.w), nw = size_t(g.c_out * cin_g * g.kh * g.kw),
                 ny = size_t(g.n * g.c_out * g.out_h() * g.out_w());
    auto x = random_vector(nx, seed++);
    auto w = random_vector(nw, seed++);
    auto dy = random_vector(ny, seed++);
    // Accumulating contract: start from non-zero gradients.
    auto dx = random_vector(nx, seed++), dx_want = dx;
    auto dw = random_vector(nw, seed++), dw_want = dw;
    auto db = random_vector(size_t(g.c_out), seed++), db_want = db;
    conv2d_backward_data(g, dy.data(), w.data(), dx.data(), false);
    ref::conv2d_backward_data(g, dy.data(), w.data(), dx_want.data(), false);
    conv2d_backward_weight(g, x.data(), dy.data(), dw.data(), db.data());
    ref::conv2d_backward_weight(g, x.data(), dy.data(), dw_want.data(), db_want.data());
    const double fan_out = double(g.c_out / g.groups * g.kh * g.kw);
    CHECK_CLOSE(dx.data(), dx_want.data(), nx, 1e-6 * fan_out, 1e-5, "backward data");
    // Overwrite contract: the old contents (NaN here) are never read.
    std::vector<float> dx_fresh(nx, NAN), dx_fresh_want(nx, 0.0f);
    conv2d_backward_data(g, dy.data(), w.data(), dx_fresh.data(), true);
    ref::conv2d_backward_data(g, dy.data(), w.data(), dx_fresh_want.data(), true);
    CHECK_CLOSE(dx_fresh.data(), dx_fresh_want.data(), nx, 1e-6 * fan_out, 1e-5,
                "backward data, overwrite");
    const double per_w = double(g.n * g.out_h() * g.out_w());
    CHECK_CLOSE(dw.data(), dw_want.data(), nw, 1e-6 * per_w, 1e-5, "backward weight");
    CHECK_CLOSE(db.data(), db_want.data(), size_t(g.c_out), 1e-6 * per_w, 1e-5, "backward bias");
  }
  test::context().clear();
}

// Winograd F(4x4, 3x3) and F(2x2, 5x5): sizes that are not a multiple of the tile, a single
// pixel, kernels wider than the image, padding wider than the kernel, asymmetric padding,
// channel counts past a vector, long reductions, tall and wide images (several bands; more
// tiles in a row than a weight-gradient block) and batches of
// small images (several per task), forward (plain, bias + relu, bias + tanh), the
// accumulating stride-1 backward data (the mirrored convolution, run the same way) and the
// weight and bias gradients. Every
// shape also runs under the implicit GEMM, so both agree with the reference on it.
TEST(conv2d_winograd_matches_reference) {
  std::vector<ConvGeometry> shapes = {
      geo(2, 17, 33, 17, 13, 3, 3, 1, 1),  geo(1, 33, 17, 9, 30, 5, 5, 1, 2),
      geo(3, 16, 65, 7, 7, 3, 3),          geo(1, 20, 24, 127, 5, 3, 3, 1, 1),
      geo(1, 16, 16, 1, 1, 3, 3, 1, 1),    geo(1, 16, 18, 3, 3, 5, 5, 1, 2),
      geo(1, 16, 16, 4, 4, 3, 3, 1, 3),    geo(9, 16, 20, 6, 6, 5, 5, 1, 2),
      geo(2, 129, 16, 10, 10, 3, 3, 1, 1), geo(2, 1, 3, 9, 9, 3, 3, 1, 1),
      geo(1, 3, 2, 5, 6, 5, 5, 1, 2),      geo(2, 32, 64, 14, 14, 5, 5, 1, 2),
  };
  // Wide images: one tile row holds more tiles than a block of the weight gradient (64).
  shapes.push_back(geo(1, 8, 8, 5, 300, 3, 3, 1, 1));
  shapes.push_back(geo(1, 16, 8, 3, 140, 5, 5, 1, 2));
  ConvGeometry asym = geo(2, 16, 16, 11, 10, 3, 3);
  asym.pad_top = 0, asym.pad_left = 2, asym.pad_bottom = 1, asym.pad_right = 0;
  shapes.push_back(asym);
  uint32_t seed = 500;
  for (ConvAlgorithm algorithm : {ConvAlgorithm::Winograd, ConvAlgorithm::ImplicitGemm}) {
    set_conv_algorithm(algorithm);
    for (const ConvGeometry& g : shapes) {
      test::context() = describe(g) + " " + conv2d_forward_algorithm(g);
      CHECK(std::string(conv2d_forward_algorithm(g))
                .rfind(algorithm == ConvAlgorithm::Winograd ? "winograd" : "implicit-gemm", 0) ==
            0);
      const size_t nx = size_t(g.n * g.c_in * g.h * g.w),
                   nw = size_t(g.c_out * g.c_in * g.kh * g.kw),
                   ny = size_t(g.n * g.c_out * g.out_h() * g.out_w());
      auto x = random_vector(nx, seed++);
      auto w = random_vector(nw, seed++);
      auto b = random_vector(size_t(g.c_out), seed++);
      const double k = double(g.c_in * g.kh * g.kw);
      for (int variant = 0; variant < 3; ++variant) {
        const UnaryOp act = variant == 0   ? UnaryOp::Identity
                            : variant == 1 ? UnaryOp::Relu
                                           : UnaryOp::Tanh;
        std::vector<float> y(ny, NAN), want(ny);
        conv2d_forward(g, x.data(), w.data(), variant ? b.data() : nullptr, act, 0, y.data());
        ref::conv2d_forward(g, x.data(), w.data(), variant ? b.data() : nullptr, act, 0,
                            want.data());
        CHECK_CLOSE(y.data(), want.data(), ny, 1e-6 * k, 1e-5, "forward");
      }
      auto dy = random_vector(ny, seed++);
      auto dx = random_vector(nx, seed++), dx_want = dx;
      conv2d_backward_data(g, dy.data(), w.data(), dx.data(), false);
      ref::conv2d_backward_data(g, dy.data(), w.data(), dx_want.data(), false);
      CHECK_CLOSE(dx.data(), dx_want.data(), nx, 1e-6 * double(g.c_out * g.kh * g.kw), 1e-5,
                  "backward data");
      std::vector<float> dx_fresh(nx, NAN), dx_fresh_want(nx, 0.0f);
      conv2d_backward_data(g, dy.data(), w.data(), dx_fresh.data(), true);
      ref::conv2d_backward_data(g, dy.data(), w.data(), dx_fresh_want.data(), true);
      CHECK_CLOSE(dx_fresh.data(), dx_fresh_want.data(), nx, 1e-6 * double(g.c_out * g.kh * g.kw),
                  1e-5, "backward data, overwrite");
      auto dw = random_vector(nw, seed++), dw_want = dw;
      auto db = random_vector(size_t(g.c_out), seed++), db_want = db;
      conv2d_backward_weight(g, x.data(), dy.data(), dw.data(), db.data());
      ref::conv2d_backward_weight(g, x.data(), dy.data(), dw_want.data(), db_want.data());
      const double per_w = double(g.n * g.out_h() * g.out_w());
      CHECK_CLOSE(dw.data(), dw_want.data(), nw, 1e-6 * per_w, 1e-5, "backward weight");
      CHECK_CLOSE(db.data(), db_want.data(), size_t(g.c_out), 1e-6 * per_w, 1e-5, "backward bias");
    }
  }
  set_conv_algorithm(ConvAlgorithm::Auto);
  test::context().clear();
}

// The Winograd forward keeps the transformed weights per thread, keyed by the weights' address
// and checked against their content: the same buffer edited in place (one element, the last
// one, all of them), the same buffer under another shape, and a different buffer with equal
// content must all give the reference's result.
TEST(conv2d_winograd_weight_cache_sees_every_change) {
  set_conv_algorithm(ConvAlgorithm::Winograd);
  const ConvGeometry g = geo(1, 16, 24, 9, 9, 3, 3, 1, 1);
  const size_t nx = size_t(g.c_in * g.h * g.w), nw = size_t(g.c_out * g.c_in * 9),
               ny = size_t(g.c_out * g.out_h() * g.out_w());
  auto x = random_vector(nx, 71);
  auto w = random_vector(nw, 72);
  std::vector<float> y(ny), want(ny);
  auto check = [&](const ConvGeometry& geom, const float* weights, const char* what) {
    const size_t n_out = size_t(geom.c_out * geom.out_h() * geom.out_w());
    std::fill(y.begin(), y.end(), NAN);
    conv2d_forward(geom, x.data(), weights, nullptr, UnaryOp::Identity, 0, y.data());
    ref::conv2d_forward(geom, x.data(), weights, nullptr, UnaryOp::Identity, 0, want.data());
    CHECK_CLOSE(y.data(), want.data(), n_out, 1e-6 * double(geom.c_in * 9), 1e-5, what);
  };
  check(g, w.data(), "first call");
  check(g, w.data(), "cached");
  w[0] += 1.0f;
  check(g, w.data(), "first weight edited in place");
  w[nw - 1] -= 2.0f;
  check(g, w.data(), "last weight edited in place");
  for (auto& v : w) v *= 0.5f;
  check(g, w.data(), "every weight edited in place");
  ConvGeometry narrower = g;  // same buffer, fewer output channels: another entry
  narrower.c_out = 16;
  check(narrower, w.data(), "same buffer, another shape");
  std::vector<float> copy = w;
  check(g, copy.data(), "equal content at another address");
  set_conv_algorithm(ConvAlgorithm::Auto);
}

// A fused relu keeps NaN, as the relu op does, on every forward algorithm (direct for few
// taps, Winograd, implicit GEMM): a NaN input must reach the outputs it touches. (Winograd's
// transforms spread it over the whole tile, so there it may reach more.)
TEST(conv2d_fused_relu_keeps_nan) {
  const ConvGeometry direct = geo(1, 1, 8, 9, 9, 3, 3, 1, 1);
  const ConvGeometry wide = geo(1, 16, 8, 9, 9, 3, 3, 1, 1);
  const ConvGeometry strided = geo(1, 16, 8, 9, 9, 3, 3, 2, 1);
  for (ConvAlgorithm algorithm :
       {ConvAlgorithm::Auto, ConvAlgorithm::Winograd, ConvAlgorithm::ImplicitGemm})
    for (const ConvGeometry& g : {direct, wide, strided}) {
      set_conv_algorithm(algorithm);
      test::context() = describe(g) + " " + conv2d_forward_algorithm(g);
      const size_t nx = size_t(g.c_in * g.h * g.w), nw = size_t(g.c_out * g.c_in * 9),
                   ny = size_t(g.c_out * g.out_h() * g.out_w());
      auto x = random_vector(nx, 81);
      auto w = random_vector(nw, 82);
      auto b = random_vector(size_t(g.c_out), 83);
      x[nx / 2] = NAN;
      std::vector<float> y(ny), want(ny);
      conv2d_forward(g, x.data(), w.data(), b.data(), UnaryOp::Relu, 0, y.data());
      ref::conv2d_forward(g, x.data(), w.data(), b.data(), UnaryOp::Relu, 0, want.data());
      size_t nan_want = 0, nan_kept = 0;
      for (size_t i = 0; i < ny; ++i)
        if (std::isnan(want[i])) ++nan_want, nan_kept += std::isnan(y[i]);
      CHECK(nan_want > 0);
      CHECK_MSG(nan_kept == nan_want, "a NaN output of the reference came out as a number");
      if (std::string(conv2d_forward_algorithm(g)).rfind("winograd", 0) != 0)
        CHECK_CLOSE(y.data(), want.data(), ny, 1e-5 * 16 * 9, 1e-5, "fused relu with a NaN input");
    }
  set_conv_algorithm(ConvAlgorithm::Auto);
  test::context().clear();
}

// What Auto picks for the CNN's layers, and what forcing changes (and what it cannot).
TEST(conv2d_algorithm_choice) {
  const ConvGeometry first = geo(64, 1, 32, 28, 28, 5, 5, 1, 2),
                     second = geo(64, 32, 64, 14, 14, 5, 5, 1, 2),
                     vgg = geo(32, 64, 64, 56, 56, 3, 3, 1, 1),
                     strided = geo(8, 64, 64, 56, 56, 3, 3, 2, 1),
                     thin = geo(8, 4, 64, 56, 56, 3, 3, 1, 1),
                     eight3 = geo(8, 8, 64, 56, 56, 3, 3, 1, 1),
                     eight5 = geo(8, 8, 64, 14, 14, 5, 5, 1, 2);
  auto name = [](const ConvGeometry& g) { return std::string(conv2d_forward_algorithm(g)); };
  CHECK(conv_algorithm() == ConvAlgorithm::Auto);
  CHECK(name(first) == "direct");
  CHECK(name(second) == "winograd-f2x2-5x5");
  CHECK(name(vgg) == "winograd-f4x4-3x3");
  CHECK(name(strided) == "implicit-gemm");
  CHECK(name(thin) == "implicit-gemm");  // 4 input channels: too short a reduction
  CHECK(name(eight3) == "winograd-f4x4-3x3");
  CHECK(name(eight5) == "implicit-gemm");  // 5x5 saves less: it needs 16
  set_conv_algorithm(ConvAlgorithm::ImplicitGemm);
  CHECK(name(first) == "implicit-gemm" && name(second) == "implicit-gemm");
  set_conv_algorithm(ConvAlgorithm::Winograd);
  CHECK(name(first) == "winograd-f2x2-5x5" && name(thin) == "winograd-f4x4-3x3");
  CHECK(name(strided) == "implicit-gemm");  // stride 2: Winograd does not apply
  set_conv_algorithm(ConvAlgorithm::Auto);
}

// The reference backward formulas against finite differences of the reference forward.
TEST(conv2d_backward_finite_differences) {
  const ConvGeometry shapes[] = {geo(1, 2, 3, 5, 6, 3, 2, 2, 1, 1),
                                 geo(2, 4, 4, 5, 5, 3, 3, 1, 2, 2, 2)};
  uint32_t seed = 200;
  for (const ConvGeometry& g : shapes) {
    test::context() = describe(g);
    const int64_t cin_g = g.c_in / g.groups;
    const size_t nx = size_t(g.n * g.c_in * g.h * g.w), nw = size_t(g.c_out * cin_g * g.kh * g.kw),
                 ny = size_t(g.n * g.c_out * g.out_h() * g.out_w());
    auto x = random_vector(nx, seed++);
    auto w = random_vector(nw, seed++);
    auto b = random_vector(size_t(g.c_out), seed++);
    auto up = random_vector(ny, seed++);
    auto loss = [&](const std::vector<float>& xs, const std::vector<float>& ws,
                    const std::vector<float>& bs) {
      std::vector<float> y(ny);
      ref::conv2d_forward(g, xs.data(), ws.data(), bs.data(), UnaryOp::Identity, 0, y.data());
      double l = 0;
      for (size_t i = 0; i < ny; ++i) l += double(up[i]) * y[i];
      return l;
    };
    std::vector<float> dx(nx, 0), dw(nw, 0), db(size_t(g.c_out), 0);
    conv2d_backward_data(g, up.data(), w.data(), dx.data(), false);
    conv2d_backward_weight(g, x.data(), up.data(), dw.data(), db.data());
    auto fd = [&](std::vector<float>& v, size_t i) {
      const float keep = v[i];
      const float h = 1e-2f;  // the loss is linear in each input: exact up to rounding
      v[i] = keep + h;
      const double lp = loss(x, w, b);
      v[i] = keep - h;
      const double lm = loss(x, w, b);
      v[i] = keep;
      return (lp - lm) / (2.0 * h);
    };
    for (size_t i = 0; i < nx; ++i) CHECK(std::fabs(fd(x, i) - dx[i]) < 1e-3);
    for (size_t i = 0; i < nw; ++i) CHECK(std::fabs(fd(w, i) - dw[i]) < 1e-3);
    for (size_t i = 0; i < b.size(); ++i) CHECK(std::fabs(fd(b, i) - db[i]) < 1e-3);
  }
  test::context().clear();
}

namespace {
PoolGeometry pool(int64_t planes, int64_t h, int64_t w, int64_t k, int64_t s, int64_t p, int64_t d,
                  bool ceil_mode, bool include_pad) {
  PoolGeometry g;
  g.planes = planes, g.h = h, g.w = w, g.kh = g.kw = k, g.stride_h = g.stride_w = s;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = p;
  g.dil_h = g.dil_w = d;
  g.out_h = pool_output_size(h, k, s, p, p, d, ceil_mode);
  g.out_w = pool_output_size(w, k, s, p, p, d, ceil_mode);
  g.count_include_pad = include_pad;
  return g;
}
}  // namespace

// The 2x2 stride-2 pool has a SIMD path per level: ties must go to the first in scan order,
// a NaN must win (the first one), -inf must be a value like any other.
TEST(max_pool_2x2_ties_nan_and_infinities) {
  for (int64_t w : {2, 3, 16, 33, 66}) {
    PoolGeometry g = pool(3, 8, w, 2, 2, 0, 1, false, true);
    test::context() = "pool 2x2 8x" + std::to_string(w);
    const size_t nx = size_t(g.planes * g.h * g.w), ny = size_t(g.planes * g.out_h * g.out_w);
    auto x = random_vector(nx, uint32_t(w));
    for (float& v : x) v = std::round(v * 2.0f);  // few distinct values: many ties
    for (size_t i = 5; i < nx; i += 37) x[i] = -std::numeric_limits<float>::infinity();
    for (int with_nan = 0; with_nan < 2; ++with_nan) {
      if (with_nan) x[size_t(g.h * g.w + 3)] = NAN, x[size_t(g.h * g.w + g.w + 2)] = NAN;
      std::vector<float> y(ny), want(ny);
      std::vector<int32_t> idx(ny), idx_want(ny);
      max_pool2d_forward(g, x.data(), y.data(), idx.data());
      ref::max_pool2d_forward(g, x.data(), want.data(), idx_want.data());
      for (size_t o = 0; o < ny; ++o)
        CHECK((std::isnan(y[o]) && std::isnan(want[o])) || y[o] == want[o]);
      CHECK(idx == idx_want);
    }
  }
  test::context().clear();
}

TEST(pooling_matches_reference_and_gradients) {
  const PoolGeometry shapes[] = {
      pool(3, 28, 28, 2, 2, 0, 1, false, true), pool(2, 17, 13, 3, 2, 1, 1, true, true),
      pool(2, 17, 13, 3, 2, 1, 1, true, false), pool(4, 9, 10, 3, 3, 1, 1, false, false),
      pool(2, 11, 12, 3, 1, 1, 2, false, true), pool(1, 5, 5, 5, 1, 0, 1, false, true),
      pool(2, 7, 8, 2, 3, 1, 1, true, true),    pool(3, 17, 13, 2, 2, 0, 1, false, true),
      pool(2, 6, 70, 2, 2, 0, 1, false, true),  pool(1, 3, 2, 2, 2, 0, 1, false, true)};
  uint32_t seed = 300;
  for (const PoolGeometry& g : shapes) {
    test::context() = "pool " + std::to_string(g.h) + "x" + std::to_string(g.w) + " k" +
                      std::to_string(g.kh) + " s" + std::to_string(g.stride_h) + " p" +
                      std::to_string(g.pad_top) + " d" + std::to_string(g.dil_h);
    const size_t nx = size_t(g.planes * g.h * g.w), ny = size_t(g.planes * g.out_h * g.out_w);
    auto x = random_vector(nx, seed++);
    std::vector<float> y(ny), want(ny);
    std::vector<int32_t> idx(ny), idx_want(ny);
    max_pool2d_forward(g, x.data(), y.data(), idx.data());
    ref::max_pool2d_forward(g, x.data(), want.data(), idx_want.data());
    CHECK_CLOSE(y.data(), want.data(), ny, 0, 0, "max");
    CHECK(idx == idx_want);
    auto up = random_vector(ny, seed++);
    std::vector<float> dx(nx, 0);
    max_pool2d_backward(g, idx.data(), up.data(), dx.data());
    double sum_dx = 0, sum_up = 0;
    for (float v : dx) sum_dx += v;
    for (float v : up) sum_up += v;
    CHECK(std::fabs(sum_dx - sum_up) < 1e-4);  // every gradient lands once
    {
      // overwrite: a dx holding anything (NaN) ends as the scatter into zeros.
      std::vector<float> over(nx, NAN);
      max_pool2d_backward(g, idx.data(), up.data(), over.data(), true);
      CHECK(over == dx);
    }
    {
      // relu_mask: pooling a relu's output (zeros, a NaN) with the mask gives the relu's
      // backward of the plain scatter: bit for bit when overwriting, and up to the order of
      // the sums (overlapping windows) when accumulating.
      std::vector<float> r(nx), ry(ny);
      for (size_t i = 0; i < nx; ++i) r[i] = x[i] > 0.3f ? x[i] : 0.0f;
      r[nx / 2] = NAN;
      max_pool2d_forward(g, r.data(), ry.data(), idx.data());
      std::vector<float> plain(nx, 0), want_masked(nx), masked = dx, over(nx, NAN);
      max_pool2d_backward(g, idx.data(), up.data(), plain.data());
      for (size_t i = 0; i < nx; ++i) want_masked[i] = dx[i] + (r[i] > 0 ? plain[i] : 0.0f);
      max_pool2d_backward(g, idx.data(), up.data(), masked.data(), false, ry.data());
      CHECK_CLOSE(masked.data(), want_masked.data(), nx, 1e-6, 1e-6, "masked accumulate");
      max_pool2d_backward(g, idx.data(), up.data(), over.data(), true, ry.data());
      for (size_t i = 0; i < nx; ++i) CHECK(over[i] == (r[i] > 0 ? plain[i] : 0.0f));
    }
    {
      // An index outside its window (in the plane, so accepted) still gets its gradient: the
      // 2x2 plane kernel must notice and fall back to the scatter.
      auto moved = idx;
      moved[0] = int32_t(g.h * g.w - 1);
      std::vector<float> want_moved(nx, 0), over(nx, NAN);
      for (int64_t p = 0; p < g.planes; ++p)
        for (int64_t o = 0; o < g.out_h * g.out_w; ++o)
          want_moved[size_t(p * g.h * g.w + moved[size_t(p * g.out_h * g.out_w + o)])] +=
              up[size_t(p * g.out_h * g.out_w + o)];
      CHECK(max_pool2d_backward(g, moved.data(), up.data(), over.data(), true));
      CHECK_CLOSE(over.data(), want_moved.data(), nx, 1e-6, 1e-6, "index outside its window");
      // Outside the plane: refused, nothing written out of bounds (ASan runs this too).
      moved[moved.size() - 1] = int32_t(g.h * g.w);
      CHECK(!max_pool2d_backward(g, moved.data(), up.data(), over.data(), true));
      moved[moved.size() - 1] = -1;
      CHECK(!max_pool2d_backward(g, moved.data(), up.data(), over.data(), false, up.data()));
    }
    if (g.dil_h == 1) {
      avg_pool2d_forward(g, x.data(), y.data());
      ref::avg_pool2d_forward(g, x.data(), want.data());
      CHECK_CLOSE(y.data(), want.data(), ny, 1e-6, 1e-5, "avg");
      // avg backward vs finite differences of the (linear) reference.
      std::fill(dx.begin(), dx.end(), 0.0f);
      avg_pool2d_backward(g, up.data(), dx.data());
      for (size_t i = 0; i < nx; i += 7) {
        auto xp = x;
        xp[i] += 1.0f;
        ref::avg_pool2d_forward(g, xp.data(), want.data());
        std::vector<float> base(ny);
        ref::avg_pool2d_forward(g, x.data(), base.data());
        double d = 0;
        for (size_t o = 0; o < ny; ++o) d += double(up[o]) * (double(want[o]) - base[o]);
        CHECK(std::fabs(d - dx[i]) < 1e-4);
      }
    }
  }
  // Adaptive average pooling: uneven windows; the 1x1 case is the global average.
  for (auto [h, w, oh, ow] :
       {std::array<int64_t, 4>{7, 9, 3, 4}, {5, 5, 5, 5}, {6, 10, 1, 1}, {4, 3, 6, 5}}) {
    auto x = random_vector(size_t(2 * h * w), seed++);
    std::vector<float> y(size_t(2 * oh * ow));
    adaptive_avg_pool2d_forward(2, h, w, oh, ow, x.data(), y.data());
    for (int64_t p = 0; p < 2; ++p)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          const int64_t h0 = i * h / oh, h1 = ((i + 1) * h + oh - 1) / oh, w0 = j * w / ow,
                        w1 = ((j + 1) * w + ow - 1) / ow;
          double s = 0;
          for (int64_t a = h0; a < h1; ++a)
            for (int64_t b = w0; b < w1; ++b) s += x[size_t((p * h + a) * w + b)];
          CHECK(std::fabs(s / double((h1 - h0) * (w1 - w0)) - y[size_t((p * oh + i) * ow + j)]) <
                1e-6);
        }
    auto up = random_vector(y.size(), seed++);
    std::vector<float> dx(x.size(), 0);
    adaptive_avg_pool2d_backward(2, h, w, oh, ow, up.data(), dx.data());
    for (size_t i = 0; i < x.size(); ++i) {
      auto xp = x;
      xp[i] += 1.0f;
      std::vector<float> yp(y.size());
      adaptive_avg_pool2d_forward(2, h, w, oh, ow, xp.data(), yp.data());
      double d = 0;
      for (size_t o = 0; o < y.size(); ++o) d += double(up[o]) * (double(yp[o]) - y[o]);
      CHECK(std::fabs(d - dx[i]) < 1e-4);
    }
  }
  test::context().clear();
}

namespace {
// Any padding up to the window extent - 1 per side (ONNX's pads): every window overlaps the input.
PoolGeometry pool4(int64_t planes, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t sh,
                   int64_t sw, std::array<int64_t, 4> pads, int64_t dh, int64_t dw, bool ceil_mode,
                   bool include_pad) {
  PoolGeometry g;
  g.planes = planes, g.h = h, g.w = w, g.kh = kh, g.kw = kw, g.stride_h = sh, g.stride_w = sw;
  g.pad_top = pads[0], g.pad_left = pads[1], g.pad_bottom = pads[2], g.pad_right = pads[3];
  g.dil_h = dh, g.dil_w = dw;
  g.out_h = pool_output_size(h, kh, sh, pads[0], pads[2], dh, ceil_mode);
  g.out_w = pool_output_size(w, kw, sw, pads[1], pads[3], dw, ceil_mode);
  g.count_include_pad = include_pad;
  return g;
}

std::string describe(const PoolGeometry& g) {
  char b[256];
  std::snprintf(
      b, sizeof b, "pool %lldx%lld k%lldx%lld s%lld,%lld p%lld,%lld,%lld,%lld d%lld,%lld %s%s",
      (long long)g.h, (long long)g.w, (long long)g.kh, (long long)g.kw, (long long)g.stride_h,
      (long long)g.stride_w, (long long)g.pad_top, (long long)g.pad_left, (long long)g.pad_bottom,
      (long long)g.pad_right, (long long)g.dil_h, (long long)g.dil_w,
      g.count_include_pad ? "incl" : "excl", g.out_h > 0 ? "" : " EMPTY");
  return b;
}

// Whether every window of g holds an input position (the binding refuses geometries where one
// does not; the kernels here are called directly, so the test checks its own grid).
bool every_window_holds_input(const PoolGeometry& g) {
  for (int64_t oh = 0; oh < g.out_h; ++oh)
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      bool any = false;
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j) {
          const int64_t ih = oh * g.stride_h - g.pad_top + i * g.dil_h,
                        iw = ow * g.stride_w - g.pad_left + j * g.dil_w;
          any |= ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
        }
      if (!any) return false;
    }
  return true;
}
}  // namespace

// Padding beyond half the kernel (ONNX allows each side up to the extent - 1): windows that
// start and end deep in the padding, asymmetric pads, ceil mode, both count_include_pad rules,
// the 2x2 stride-2 paths (padding only at the bottom/right keeps them), and the global indices.
TEST(pooling_with_deep_padding_matches_reference) {
  const PoolGeometry shapes[] = {
      pool4(2, 4, 4, 3, 3, 1, 1, {2, 2, 2, 2}, 1, 1, false, true),
      pool4(2, 4, 4, 3, 3, 1, 1, {2, 2, 2, 2}, 1, 1, false, false),
      pool4(2, 5, 7, 3, 3, 2, 2, {2, 1, 0, 2}, 1, 1, true, true),
      pool4(3, 9, 10, 4, 4, 3, 3, {3, 0, 3, 2}, 1, 1, true, false),
      pool4(3, 9, 10, 4, 4, 3, 3, {3, 0, 3, 2}, 1, 1, true, true),
      pool4(1, 1, 1, 3, 3, 1, 1, {2, 2, 2, 2}, 1, 1, false, true),
      pool4(1, 1, 1, 3, 3, 1, 1, {2, 2, 2, 2}, 1, 1, true, false),
      pool4(2, 1, 3, 3, 2, 2, 1, {2, 1, 2, 1}, 1, 1, true, true),
      pool4(2, 6, 6, 2, 2, 2, 2, {1, 1, 1, 1}, 1, 1, false, true),
      pool4(2, 6, 6, 2, 2, 2, 2, {1, 1, 1, 1}, 1, 1, true, false),
      pool4(2, 8, 8, 2, 2, 2, 2, {0, 0, 1, 1}, 1, 1, false, true),
      pool4(2, 8, 37, 2, 2, 2, 2, {0, 0, 1, 1}, 1, 1, true, false),
      pool4(2, 7, 9, 2, 2, 2, 2, {0, 0, 1, 1}, 1, 1, false, false),
      pool4(2, 5, 6, 5, 3, 1, 2, {4, 2, 4, 1}, 1, 1, true, true),
      pool4(2, 5, 6, 5, 3, 1, 2, {4, 2, 4, 1}, 1, 1, false, false),
      pool4(2, 13, 11, 7, 7, 4, 3, {6, 5, 6, 6}, 1, 1, true, true),
      // Dilated (max only): extent 5 with pads 4; the input smaller than the dilation.
      pool4(2, 5, 6, 3, 3, 1, 2, {4, 3, 4, 2}, 2, 2, false, true),
      pool4(2, 2, 9, 3, 3, 3, 1, {3, 0, 5, 0}, 3, 1, false, true),
      pool4(2, 7, 8, 3, 2, 2, 3, {5, 3, 1, 4}, 3, 4, true, true),
  };
  uint32_t seed = 700;
  for (const PoolGeometry& g : shapes) {
    test::context() = describe(g);
    CHECK(g.out_h > 0 && g.out_w > 0);
    CHECK(every_window_holds_input(g));
    const size_t nx = size_t(g.planes * g.h * g.w), ny = size_t(g.planes * g.out_h * g.out_w);
    auto x = random_vector(nx, seed++);
    for (size_t i = 3; i < nx; i += 11) x[i] = std::round(x[i]);  // some ties
    std::vector<float> y(ny, NAN), want(ny);
    std::vector<int32_t> idx(ny, -7), idx_want(ny);
    max_pool2d_forward(g, x.data(), y.data(), idx.data());
    ref::max_pool2d_forward(g, x.data(), want.data(), idx_want.data());
    CHECK_CLOSE(y.data(), want.data(), ny, 0, 0, "max");
    CHECK(idx == idx_want);
    // Every maximum is a finite input value (no window is all padding).
    for (size_t o = 0; o < ny; ++o) CHECK(std::isfinite(y[o]));
    // Global indices, both storage orders, against the reference and the definition.
    for (bool column_major : {false, true}) {
      std::vector<int32_t> global(ny, -7), global_want(ny);
      max_pool2d_global_index(g, idx.data(), column_major, global.data());
      ref::max_pool2d_global_index(g, idx.data(), column_major, global_want.data());
      CHECK(global == global_want);
      for (int64_t p = 0; p < g.planes; ++p)
        for (int64_t o = 0; o < g.out_h * g.out_w; ++o) {
          const size_t at = size_t(p * g.out_h * g.out_w + o);
          const int64_t ih = idx[at] / g.w, iw = idx[at] % g.w;
          const int64_t flat = column_major ? (p * g.w + iw) * g.h + ih : (p * g.h + ih) * g.w + iw;
          CHECK(global[at] == flat);
          if (!column_major) CHECK(x[size_t(global[at])] == y[at]);
        }
    }
    // Backward: the scatter of the reference's indices, accumulating and overwriting.
    auto up = random_vector(ny, seed++);
    std::vector<float> scatter(nx, 0);
    for (int64_t p = 0; p < g.planes; ++p)
      for (int64_t o = 0; o < g.out_h * g.out_w; ++o)
        scatter[size_t(p * g.h * g.w + idx_want[size_t(p * g.out_h * g.out_w + o)])] +=
            up[size_t(p * g.out_h * g.out_w + o)];
    std::vector<float> dx(nx, 0.5f), over(nx, NAN);
    CHECK(max_pool2d_backward(g, idx.data(), up.data(), dx.data()));
    for (size_t i = 0; i < nx; ++i) dx[i] -= 0.5f;
    CHECK_CLOSE(dx.data(), scatter.data(), nx, 1e-6, 1e-6, "max backward");
    CHECK(max_pool2d_backward(g, idx.data(), up.data(), over.data(), true));
    CHECK_CLOSE(over.data(), scatter.data(), nx, 1e-6, 1e-6, "max backward overwrite");
    if (g.dil_h == 1 && g.dil_w == 1) {
      avg_pool2d_forward(g, x.data(), y.data());
      ref::avg_pool2d_forward(g, x.data(), want.data());
      CHECK_CLOSE(y.data(), want.data(), ny, 1e-6, 1e-5, "avg");
      std::vector<float> dxa(nx, 0), base(ny), moved(ny);
      avg_pool2d_backward(g, up.data(), dxa.data());
      ref::avg_pool2d_forward(g, x.data(), base.data());
      for (size_t i = 0; i < nx; ++i) {
        auto xp = x;
        xp[i] += 1.0f;
        ref::avg_pool2d_forward(g, xp.data(), moved.data());
        double d = 0;
        for (size_t o = 0; o < ny; ++o) d += double(up[o]) * (double(moved[o]) - base[o]);
        CHECK(std::fabs(d - dxa[i]) < 1e-4);
      }
    }
  }
  test::context().clear();
  // The divisor by hand. One value 9 pooled 3x3 with padding 2 on every side: a 3x3 output
  // whose windows all lie in the 5x5 padded input, 9 / 9 counting the padding, 9 / 1 without.
  for (bool include : {true, false}) {
    PoolGeometry g = pool4(1, 1, 1, 3, 3, 1, 1, {2, 2, 2, 2}, 1, 1, false, include);
    const float v = 9.0f;
    std::vector<float> y(size_t(g.out_h * g.out_w));
    CHECK(g.out_h == 3 && g.out_w == 3);
    avg_pool2d_forward(g, &v, y.data());
    for (float o : y) CHECK(o == (include ? 1.0f : 9.0f));
    // Top/left padding only: a single window [-2, 1) x [-2, 1).
    g = pool4(1, 1, 1, 3, 3, 1, 1, {2, 2, 0, 0}, 1, 1, false, include);
    CHECK(g.out_h == 1 && g.out_w == 1);
    avg_pool2d_forward(g, &v, y.data());
    CHECK(y[0] == (include ? 1.0f : 9.0f));
    // Ceil mode: a 1x2 input [3, 5], window 1x3, stride 2, left padding 2. The windows start
    // at -2 and 0 (ceil mode's, starting inside the input); the second, [0, 3), reaches past
    // the padded input [-2, 2), so counting the padding divides by the 2 positions inside it.
    g = pool4(1, 1, 2, 1, 3, 1, 2, {0, 2, 0, 0}, 1, 1, true, include);
    CHECK(g.out_h == 1 && g.out_w == 2);
    const float xs[2] = {3.0f, 5.0f};
    avg_pool2d_forward(g, xs, y.data());
    CHECK(y[0] == (include ? 1.0f : 3.0f));
    CHECK(y[1] == 4.0f);
  }
}

TEST(pool_output_size_follows_pytorch) {
  CHECK(pool_output_size(28, 2, 2, 0, 0, 1, false) == 14);
  CHECK(pool_output_size(5, 2, 2, 0, 0, 1, false) == 2);
  CHECK(pool_output_size(5, 2, 2, 0, 0, 1, true) == 3);
  CHECK(pool_output_size(6, 3, 3, 1, 1, 1, true) == 3);  // last window would start in the pad
  CHECK(pool_output_size(2, 5, 1, 0, 0, 1, false) == 0);
}

// The fused forms a ResNet trains with: y = relu(bn(x) + residual), forward and backward
// against the naive twins, on runs shorter and longer than a vector (and than the scalar
// cut-off), with offset data (mean 100, std 1: the statistics must not cancel), the gradient
// written (overwrite) and accumulated, and the residual's gradient.
TEST(batch_norm_fused_relu_residual) {
  uint32_t seed = 470;
  for (const auto& shape :
       {std::array<int64_t, 3>{3, 2, 1}, {5, 3, 7}, {2, 4, 16}, {3, 2, 37}, {2, 3, 1031}}) {
    const int64_t n = shape[0], c = shape[1], s = shape[2];
    const size_t nx = size_t(n * c * s), nc = size_t(c);
    for (int variant = 0; variant < 4; ++variant) {
      BatchNormArgs a;
      a.n = n, a.c = c, a.s = s, a.training = variant != 3, a.relu = variant != 0;
      const bool with_residual = variant >= 2;
      auto x = random_vector(nx, seed++, 98, 102);
      auto r = random_vector(nx, seed++, -1, 1);
      auto gamma = random_vector(nc, seed++, 0.5f, 1.5f);
      auto beta = random_vector(nc, seed++, -0.5f, 0.5f);
      std::vector<float> rm(nc, 99.0f), rv(nc, 2.0f), rm2 = rm, rv2 = rv;
      std::vector<float> y(nx), want(nx), mean(nc), inv(nc), mean2(nc), inv2(nc);
      const float* res = with_residual ? r.data() : nullptr;
      batch_norm_forward(a, x.data(), res, gamma.data(), beta.data(), rm.data(), rv.data(),
                         y.data(), mean.data(), inv.data());
      ref::batch_norm_forward(a, x.data(), res, gamma.data(), beta.data(), rm2.data(), rv2.data(),
                              want.data(), mean2.data(), inv2.data());
      CHECK_CLOSE(y.data(), want.data(), nx, 2e-4, 2e-4, "fused batch norm forward");
      CHECK_CLOSE(mean.data(), mean2.data(), nc, 1e-6, 1e-6, "saved mean");
      CHECK_CLOSE(inv.data(), inv2.data(), nc, 1e-4, 1e-5, "saved invstd");
      CHECK_CLOSE(rv.data(), rv2.data(), nc, 1e-4, 1e-5, "running var of offset data");
      auto dy = random_vector(nx, seed++, -1, 1);
      for (const bool overwrite : {true, false}) {
        std::vector<float> dx(nx, overwrite ? 7.0f : 0.25f), dx2 = dx, dg(nc, 0.5f), dg2 = dg,
                                                             db(nc, -0.5f), db2 = db;
        std::vector<float> dr(nx, 3.0f), dr2(nx, 3.0f);
        float* drp = with_residual ? dr.data() : nullptr;
        float* drp2 = with_residual ? dr2.data() : nullptr;
        const float* gate = a.relu ? y.data() : nullptr;
        batch_norm_backward(a, x.data(), dy.data(), gate, gamma.data(), mean.data(), inv.data(),
                            dx.data(), overwrite, dg.data(), db.data(), drp);
        ref::batch_norm_backward(a, x.data(), dy.data(), gate, gamma.data(), mean.data(),
                                 inv.data(), dx2.data(), overwrite, dg2.data(), db2.data(), drp2);
        CHECK_CLOSE(dx.data(), dx2.data(), nx, 2e-4, 2e-4, "fused batch norm dx");
        CHECK_CLOSE(dg.data(), dg2.data(), nc, 2e-4, 2e-4, "fused batch norm dgamma");
        CHECK_CLOSE(db.data(), db2.data(), nc, 2e-4, 2e-4, "fused batch norm dbeta");
        if (with_residual) CHECK_CLOSE(dr.data(), dr2.data(), nx, 0, 0, "fused dresidual");
        // only the residual's gradient (the norm's input needs none)
        std::vector<float> dr3(nx, 5.0f);
        if (with_residual) {
          batch_norm_backward(a, x.data(), dy.data(), gate, gamma.data(), mean.data(), inv.data(),
                              nullptr, overwrite, nullptr, nullptr, dr3.data());
          CHECK_CLOSE(dr3.data(), dr2.data(), nx, 0, 0, "dresidual alone");
        }
      }
    }
  }
}

// Cross-replica batch norm (SyncBatchNorm): a batch split in two "replicas" whose sums are
// added gives, on each part, exactly the rows, saved statistics, running statistics and input
// gradients of one call on the whole batch; the parameter gradients of the parts add up to the
// whole's. Offset data (mean 100) so sums about the origin must not lose the variance; runs
// shorter and longer than the scalar cut-off; with the fused relu and residual; each half
// kernel against its naive twin.
TEST(batch_norm_across_replicas) {
  uint32_t seed = 520;
  for (const auto& shape : {std::array<int64_t, 3>{5, 3, 1}, {4, 2, 7}, {6, 3, 37}}) {
    const int64_t n = shape[0], c = shape[1], s = shape[2], n0 = 2;
    const size_t nx = size_t(n * c * s), nc = size_t(c), cut = size_t(n0 * c * s);
    for (const bool fused : {false, true}) {
      BatchNormArgs a;
      a.n = n, a.c = c, a.s = s, a.training = true, a.relu = fused;
      auto x = random_vector(nx, seed++, 98, 102);
      auto r = random_vector(nx, seed++, -1, 1);
      auto gamma = random_vector(nc, seed++, 0.5f, 1.5f);
      auto beta = random_vector(nc, seed++, -0.5f, 0.5f);
      auto dy = random_vector(nx, seed++, -1, 1);
      const float* res = fused ? r.data() : nullptr;
      // the whole batch
      std::vector<float> rm(nc, 99.0f), rv(nc, 2.0f), y(nx), mean(nc), inv(nc);
      batch_norm_forward(a, x.data(), res, gamma.data(), beta.data(), rm.data(), rv.data(),
                         y.data(), mean.data(), inv.data());
      std::vector<float> dx(nx), dg(nc, 0.0f), db(nc, 0.0f);
      batch_norm_backward(a, x.data(), dy.data(), fused ? y.data() : nullptr, gamma.data(),
                          mean.data(), inv.data(), dx.data(), true, dg.data(), db.data(), nullptr);
      // two parts of n0 and n - n0 rows, their sums added
      BatchNormArgs p[2] = {a, a};
      p[0].n = n0, p[1].n = n - n0;
      const size_t off[2] = {0, cut};
      std::vector<double> part(2 * nc + 1), want(2 * nc + 1), total(2 * nc + 1, 0.0);
      for (int k = 0; k < 2; ++k) {
        batch_norm_stats(p[k], x.data() + off[k], part.data());
        ref::batch_norm_stats(p[k], x.data() + off[k], want.data());
        for (size_t i = 0; i < part.size(); ++i) {
          CHECK(std::fabs(part[i] - want[i]) <= 1e-9 * (1 + std::fabs(want[i])));
          total[i] += part[i];
        }
      }
      CHECK(total[2 * nc] == double(n * s));
      std::vector<float> y2(nx), rm2(nc, 99.0f), rv2(nc, 2.0f), mean2(nc), inv2(nc);
      for (int k = 0; k < 2; ++k) {
        BatchNormArgs q = p[k];
        q.stats = total.data();
        // each replica updates its own copy of the running statistics, to the same values
        std::vector<float> rmk(nc, 99.0f), rvk(nc, 2.0f);
        batch_norm_forward(q, x.data() + off[k], res ? res + off[k] : nullptr, gamma.data(),
                           beta.data(), rmk.data(), rvk.data(), y2.data() + off[k], mean2.data(),
                           inv2.data());
        std::vector<float> yr(nx), mr(nc), ir(nc), rmr(nc, 99.0f), rvr(nc, 2.0f);
        ref::batch_norm_forward(q, x.data() + off[k], res ? res + off[k] : nullptr, gamma.data(),
                                beta.data(), rmr.data(), rvr.data(), yr.data(), mr.data(),
                                ir.data());
        const size_t len = size_t(q.n * c * s);
        CHECK_CLOSE(y2.data() + off[k], yr.data(), len, 2e-4, 2e-4, "replica forward vs twin");
        CHECK_CLOSE(rmk.data(), rm.data(), nc, 1e-5, 1e-6, "replica running mean");
        CHECK_CLOSE(rvk.data(), rv.data(), nc, 1e-4, 1e-5, "replica running var");
        CHECK_CLOSE(mean2.data(), mean.data(), nc, 1e-5, 1e-6, "replica saved mean");
        CHECK_CLOSE(inv2.data(), inv.data(), nc, 1e-4, 1e-5, "replica saved invstd");
      }
      CHECK_CLOSE(y2.data(), y.data(), nx, 2e-4, 2e-4, "replicas' rows vs the whole batch");
      // backward: the parts' gradient sums added, each part's dx from the total
      std::vector<double> gtotal(2 * nc + 1, 0.0);
      std::vector<float> dg2(nc, 0.0f), db2(nc, 0.0f), dgr(nc, 0.0f), dbr(nc, 0.0f);
      for (int k = 0; k < 2; ++k) {
        const float* gate = fused ? y.data() + off[k] : nullptr;
        batch_norm_grad_stats(p[k], x.data() + off[k], dy.data() + off[k], gate, mean.data(),
                              inv.data(), part.data(), dg2.data(), db2.data());
        ref::batch_norm_grad_stats(p[k], x.data() + off[k], dy.data() + off[k], gate, mean.data(),
                                   inv.data(), want.data(), dgr.data(), dbr.data());
        for (size_t i = 0; i < part.size(); ++i) {
          CHECK(std::fabs(part[i] - want[i]) <= 1e-6 * (1 + std::fabs(want[i])));
          gtotal[i] += part[i];
        }
      }
      CHECK_CLOSE(dg2.data(), dg.data(), nc, 2e-4, 2e-4, "parts' dgamma add up");
      CHECK_CLOSE(db2.data(), db.data(), nc, 2e-4, 2e-4, "parts' dbeta add up");
      CHECK_CLOSE(dgr.data(), dg.data(), nc, 2e-4, 2e-4, "twin's dgamma");
      std::vector<float> dx2(nx, 3.0f), dxr(nx, 3.0f);
      for (int k = 0; k < 2; ++k) {
        BatchNormArgs q = p[k];
        q.stats = gtotal.data();
        const float* gate = fused ? y.data() + off[k] : nullptr;
        batch_norm_backward(q, x.data() + off[k], dy.data() + off[k], gate, gamma.data(),
                            mean.data(), inv.data(), dx2.data() + off[k], true, nullptr, nullptr,
                            nullptr);
        ref::batch_norm_backward(q, x.data() + off[k], dy.data() + off[k], gate, gamma.data(),
                                 mean.data(), inv.data(), dxr.data() + off[k], true, nullptr,
                                 nullptr, nullptr);
      }
      CHECK_CLOSE(dx2.data(), dx.data(), nx, 2e-4, 2e-4, "replicas' dx vs the whole batch");
      CHECK_CLOSE(dxr.data(), dx.data(), nx, 2e-4, 2e-4, "twin's replica dx");
    }
  }
}

TEST(batch_norm_and_layer_norm) {
  uint32_t seed = 400;
  // Plain variables, not a structured binding: the lambdas below capture them, which C++17
  // allows only for variables (GCC accepts bindings too; Clang before 16 rejects them).
  for (const auto& shape : {std::array<int64_t, 3>{4, 3, 25}, {7, 5, 1}, {2, 16, 33}}) {
    const int64_t n = shape[0], c = shape[1], s = shape[2];
    BatchNormArgs a;
    a.n = n, a.c = c, a.s = s, a.eps = 1e-5f, a.momentum = 0.1f, a.training = true;
    const size_t nx = size_t(n * c * s);
    auto x = random_vector(nx, seed++, -3, 5);
    auto gamma = random_vector(static_cast<size_t>(c), seed++, 0.5f, 1.5f);
    auto beta = random_vector(static_cast<size_t>(c), seed++);
    std::vector<float> rm(static_cast<size_t>(c), 0.0f), rv(static_cast<size_t>(c), 1.0f), rm2 = rm,
                                                                                           rv2 = rv;
    std::vector<float> y(nx), want(nx), mean(static_cast<size_t>(c)), inv(static_cast<size_t>(c)),
        mean2(static_cast<size_t>(c)), inv2(static_cast<size_t>(c));
    batch_norm_forward(a, x.data(), nullptr, gamma.data(), beta.data(), rm.data(), rv.data(),
                       y.data(), mean.data(), inv.data());
    ref::batch_norm_forward(a, x.data(), nullptr, gamma.data(), beta.data(), rm2.data(), rv2.data(),
                            want.data(), mean2.data(), inv2.data());
    CHECK_CLOSE(y.data(), want.data(), nx, 1e-5, 1e-5, "batch norm train");
    CHECK_CLOSE(rm.data(), rm2.data(), static_cast<size_t>(c), 1e-6, 1e-6, "running mean");
    CHECK_CLOSE(rv.data(), rv2.data(), static_cast<size_t>(c), 1e-6, 1e-6, "running var");
    // backward vs finite differences of L = sum(up * bn(x)) through the batch statistics
    auto up = random_vector(nx, seed++);
    std::vector<float> dx(nx, 0), dg(static_cast<size_t>(c), 0), dbeta(static_cast<size_t>(c), 0);
    batch_norm_backward(a, x.data(), up.data(), nullptr, gamma.data(), mean.data(), inv.data(),
                        dx.data(), false, dg.data(), dbeta.data(), nullptr);
    auto loss = [&](const std::vector<float>& xs, const std::vector<float>& gs,
                    const std::vector<float>& bs) {
      std::vector<float> yy(nx), m(static_cast<size_t>(c)), iv(static_cast<size_t>(c)),
          r1(static_cast<size_t>(c), 0), r2(static_cast<size_t>(c), 1);
      ref::batch_norm_forward(a, xs.data(), nullptr, gs.data(), bs.data(), r1.data(), r2.data(),
                              yy.data(), m.data(), iv.data());
      double l = 0;
      for (size_t i = 0; i < nx; ++i) l += double(up[i]) * yy[i];
      return l;
    };
    auto fd = [&](std::vector<float>& v, size_t i) {
      const float keep = v[i], h = 1e-2f;
      v[i] = keep + h;
      const double lp = loss(x, gamma, beta);
      v[i] = keep - h;
      const double lm = loss(x, gamma, beta);
      v[i] = keep;
      return (lp - lm) / (2.0 * h);
    };
    for (size_t i = 0; i < nx; i += 3)
      CHECK(std::fabs(fd(x, i) - dx[i]) < 2e-3 * (1 + std::fabs(dx[i])));
    for (size_t i = 0; i < static_cast<size_t>(c); ++i)
      CHECK(std::fabs(fd(gamma, i) - dg[i]) < 2e-3 * (1 + std::fabs(dg[i])));
    for (size_t i = 0; i < static_cast<size_t>(c); ++i)
      CHECK(std::fabs(fd(beta, i) - dbeta[i]) < 2e-3 * (1 + std::fabs(dbeta[i])));
    // eval mode uses the running statistics
    a.training = false;
    batch_norm_forward(a, x.data(), nullptr, gamma.data(), beta.data(), rm.data(), rv.data(),
                       y.data(), nullptr, nullptr);
    ref::batch_norm_forward(a, x.data(), nullptr, gamma.data(), beta.data(), rm.data(), rv.data(),
                            want.data(), mean2.data(), inv2.data());
    CHECK_CLOSE(y.data(), want.data(), nx, 1e-5, 1e-5, "batch norm eval");
  }
  // 768: a transformer row; 5000: past the 4096-value float-lane blocks of the sums.
  for (const auto& shape : {std::array<int64_t, 2>{5, 17}, {3, 128}, {1, 1}, {6, 768}, {2, 5000}}) {
    const int64_t rows = shape[0], d = shape[1];
    const size_t n = size_t(rows * d);
    auto x = random_vector(n, seed++, -2, 4);
    auto gamma = random_vector(static_cast<size_t>(d), seed++, 0.5f, 1.5f);
    auto beta = random_vector(static_cast<size_t>(d), seed++);
    std::vector<float> y(n), want(n), m(static_cast<size_t>(rows)), iv(static_cast<size_t>(rows)),
        m2(static_cast<size_t>(rows)), iv2(static_cast<size_t>(rows));
    layer_norm_forward(rows, d, 1e-5f, x.data(), gamma.data(), beta.data(), y.data(), m.data(),
                       iv.data());
    ref::layer_norm_forward(rows, d, 1e-5f, x.data(), gamma.data(), beta.data(), want.data(),
                            m2.data(), iv2.data());
    CHECK_CLOSE(y.data(), want.data(), n, 1e-5, 1e-5, "layer norm");
    auto up = random_vector(n, seed++);
    std::vector<float> dx(n, 0), dg(static_cast<size_t>(d), 0), db(static_cast<size_t>(d), 0);
    layer_norm_backward(rows, d, x.data(), up.data(), gamma.data(), m.data(), iv.data(), dx.data(),
                        dg.data(), db.data());
    auto loss = [&](const std::vector<float>& xs, const std::vector<float>& gs) {
      std::vector<float> yy(n), mm(static_cast<size_t>(rows)), ii(static_cast<size_t>(rows));
      ref::layer_norm_forward(rows, d, 1e-5f, xs.data(), gs.data(), beta.data(), yy.data(),
                              mm.data(), ii.data());
      double l = 0;
      for (size_t i = 0; i < n; ++i) l += double(up[i]) * yy[i];
      return l;
    };
    for (size_t i = 0; i < n; i += 2) {
      auto xp = x, xm = x;
      xp[i] += 1e-2f, xm[i] -= 1e-2f;
      const double g = (loss(xp, gamma) - loss(xm, gamma)) / 2e-2;
      CHECK(std::fabs(g - dx[i]) < 2e-3 * (1 + std::fabs(dx[i])));
    }
    for (size_t j = 0; j < static_cast<size_t>(d); ++j) {
      auto gp = gamma, gm = gamma;
      gp[j] += 1e-2f, gm[j] -= 1e-2f;
      CHECK(std::fabs((loss(x, gp) - loss(x, gm)) / 2e-2 - dg[j]) < 2e-3 * (1 + std::fabs(dg[j])));
    }
  }
}
