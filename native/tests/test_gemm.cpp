// GEMM against its naive twin on awkward sizes, every transpose pair, padded leading
// dimensions, alpha/beta, the fused epilogue and batching; large shapes (crossing every
// blocking boundary) by a random-vector residual check, as BLIS's testsuite does.
#include <cstdint>
#include <cstring>

#include "axon/cpu_config.h"
#include "axon/kernels.h"
#include "gemm/gemm_config.h"
#include "axon/ref.h"
#include "check.h"

using namespace axon;
using axon::test::random_vector;

namespace {

struct Problem {
  Trans ta, tb;
  int64_t m, n, k, pad;  // pad: extra elements per row of every operand (ld = cols + pad)
  float alpha = 1.0f, beta = 0.0f;
  BiasMode bias = BiasMode::None;
  UnaryOp act = UnaryOp::Identity;
};

void run_against_ref(const Problem& p, uint32_t seed, bool prepack = false) {
  const int64_t a_rows = p.ta == Trans::No ? p.m : p.k, a_cols = p.ta == Trans::No ? p.k : p.m;
  const int64_t b_rows = p.tb == Trans::No ? p.k : p.n, b_cols = p.tb == Trans::No ? p.n : p.k;
  const int64_t lda = a_cols + p.pad, ldb = b_cols + p.pad, ldc = p.n + p.pad;
  auto a = random_vector(size_t(a_rows * lda) + 1, seed);
  auto b = random_vector(size_t(b_rows * ldb) + 1, seed + 1);
  auto c0 = random_vector(size_t(p.m * ldc) + 1, seed + 2);
  auto bias = random_vector(size_t(std::max(p.m, p.n)), seed + 3);
  if (p.beta == 0.0f)  // beta == 0 must ignore C entirely, NaN included
    for (auto& v : c0) v = NAN;
  auto c_fast = c0, c_ref = c0;
  GemmArgs g;
  g.trans_a = p.ta, g.trans_b = p.tb, g.m = p.m, g.n = p.n, g.k = p.k;
  g.alpha = p.alpha, g.beta = p.beta;
  g.a = a.data(), g.lda = lda, g.b = b.data(), g.ldb = ldb, g.ldc = ldc;
  g.bias_mode = p.bias, g.bias = bias.data(), g.activation = p.act, g.activation_param = 0.1f;
  g.c = c_fast.data();
  std::vector<float> packed_storage;
  if (prepack) {  // B packed once by gemm_pack_b into a 64-byte aligned buffer
    packed_storage.resize(size_t(gemm_packed_b_size(p.k, p.n)) + 16);
    float* packed = packed_storage.data();
    while (reinterpret_cast<uintptr_t>(packed) % 64) ++packed;
    gemm_pack_b(g, packed);
    g.packed_b = packed;
  }
  gemm(g);
  g.packed_b = nullptr;
  g.c = c_ref.data();
  ref::gemm(g);
  char what[160];
  std::snprintf(what, sizeof what,
                "gemm %c%c m=%lld n=%lld k=%lld pad=%lld a=%g b=%g bias=%d act=%s",
                p.ta == Trans::Yes ? 'T' : 'N', p.tb == Trans::Yes ? 'T' : 'N', (long long)p.m,
                (long long)p.n, (long long)p.k, (long long)p.pad, p.alpha, p.beta, int(p.bias),
                op_name(p.act));
  // Padding past each row's n columns must be left as it was.
  if (p.beta == 0.0f)
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t j = p.n; j < ldc; ++j)
        CHECK_MSG(std::isnan(c_fast[i * ldc + j]), std::string(what) + ": wrote past n");
  const double atol = 4e-6 * (double(p.k) + 1.0);
  for (int64_t i = 0; i < p.m; ++i)
    CHECK_CLOSE(c_fast.data() + i * ldc, c_ref.data() + i * ldc, size_t(p.n), atol, 1e-5, what);
}

const int64_t kSizes[] = {1, 2, 3, 7, 17, 33, 127};

}  // namespace

// B packed once and reused (a recurrent layer's W_hh): every shape class, including K past the
// KC block (several packed k blocks per panel), N past an NC block, small M (reads B in
// place), the fused epilogue, and both threads splitting N.
TEST(gemm_prepacked_b_matches_reference) {
  uint32_t seed = 900;
  const int64_t shapes[][3] = {{32, 512, 128}, {32, 128, 512}, {5, 33, 17},  {3, 70, 9},
                               {127, 65, 600}, {7, 4100, 3},   {64, 129, 1}, {33, 1, 127}};
  for (const auto& s : shapes)
    for (Trans tb : {Trans::No, Trans::Yes})
      for (float beta : {0.0f, 1.0f}) {
        Problem p{Trans::No, tb, s[0], s[1], s[2], 3, 1.0f, beta};
        p.bias = BiasMode::PerColumn;
        run_against_ref(p, seed += 7, true);
      }
}

TEST(gemm_awkward_sizes_all_transposes) {
  uint32_t seed = 1;
  for (Trans ta : {Trans::No, Trans::Yes})
    for (Trans tb : {Trans::No, Trans::Yes})
      for (int64_t m : kSizes)
        for (int64_t n : kSizes)
          for (int64_t k : {1, 3, 17, 127, 385}) run_against_ref({ta, tb, m, n, k, 0}, seed++);
}

TEST(gemm_leading_dimensions_alpha_beta) {
  uint32_t seed = 100;
  for (Trans ta : {Trans::No, Trans::Yes})
    for (Trans tb : {Trans::No, Trans::Yes})
      for (float beta : {0.0f, 1.0f, -0.5f})
        for (int64_t m : {1, 5, 13, 40})
          run_against_ref({ta, tb, m, 37, 29, 3, 0.75f, beta}, seed++);
}

TEST(gemm_fused_epilogue) {
  uint32_t seed = 200;
  for (BiasMode bias : {BiasMode::None, BiasMode::PerColumn, BiasMode::PerRow})
    for (UnaryOp act : {UnaryOp::Identity, UnaryOp::Relu, UnaryOp::Sigmoid, UnaryOp::GeluErf,
                        UnaryOp::Tanh, UnaryOp::LeakyRelu})
      for (int64_t m : {1, 3, 30})
        run_against_ref(
            {Trans::No, Trans::Yes, m, 45, 70, 1, 1.0f, m == 3 ? 1.0f : 0.0f, bias, act}, seed++);
}

// Few rows, many columns: computed as the swapped product C^T = op(B)^T op(A)^T and
// transposed back (B transposed: its rows read in place; B not transposed, up to 96 rows and
// 8 columns per row: read in place as a transposed A), so beta, padding and the epilogue all
// take that path.
TEST(gemm_swapped_product_for_wide_b) {
  uint32_t seed = 300;
  for (Trans ta : {Trans::No, Trans::Yes})
    for (Trans tb : {Trans::No, Trans::Yes})
      for (float beta : {0.0f, 1.0f, -0.5f})
        for (BiasMode bias : {BiasMode::None, BiasMode::PerColumn, BiasMode::PerRow})
          for (int64_t m : {5, 8, 17, 40})
            for (int64_t n : {200, 513})
              run_against_ref({ta, tb, m, n, m == 17 ? 300 : 64, 3, 0.75f, beta, bias,
                               bias == BiasMode::PerRow ? UnaryOp::Tanh : UnaryOp::Relu},
                              seed++);
}

// Few columns with B transposed (a classifier layer, x W^T with 10 outputs): computed by row
// blocks of the small-M kernel. Every row count around the block size, padded rows, beta,
// both bias modes with an activation, K around the vector width, and enough work to split
// over threads.
TEST(gemm_narrow_n_rows_in_blocks) {
  uint32_t seed = 400;
  for (int64_t m : {5, 6, 7, 8, 9, 64, 301})
    for (int64_t n : {1, 10, 16, 31, 32})
      for (int64_t k : {3, 16, 128, 1000})
        for (float beta : {0.0f, 1.0f}) {
          Problem p{Trans::No, Trans::Yes, m, n, k, (m + n) % 3, 0.5f, beta};
          p.bias = (m + k) % 2 ? BiasMode::PerColumn : BiasMode::PerRow;
          p.act = n == 10 ? UnaryOp::Relu : UnaryOp::Identity;
          run_against_ref(p, seed++);
        }
}

// A row's result depends only on that row: the same row alone or inside a larger batch gives
// the same bits on the narrow-N path.
TEST(gemm_narrow_n_rows_independent_of_batch) {
  const int64_t n = 10, k = 200;
  auto a = random_vector(size_t(64 * k), 41);
  auto b = random_vector(size_t(n * k), 42);
  std::vector<float> whole(size_t(64 * n));
  GemmArgs g;
  g.trans_b = Trans::Yes, g.m = 64, g.n = n, g.k = k, g.a = a.data(), g.lda = k;
  g.b = b.data(), g.ldb = k, g.c = whole.data(), g.ldc = n;
  gemm(g);
  for (int64_t i : {0, 5, 13, 63}) {
    GemmArgs one = g;
    std::vector<float> seven(size_t(7 * n));
    one.m = 7, one.a = a.data() + std::min<int64_t>(i, 57) * k, one.c = seven.data();
    gemm(one);
    const int64_t r = i - std::min<int64_t>(i, 57);
    CHECK_MSG(std::memcmp(seven.data() + r * n, whole.data() + i * n, sizeof(float) * n) == 0,
              "narrow-N row " + std::to_string(i) + " differs between batches of 64 and 7");
  }
}

TEST(gemm_k_zero_and_alpha_zero_scale_c) {
  for (int64_t k : {0, 5}) {
    std::vector<float> a(50, 1.0f), b(50, 1.0f), c(12, 2.0f), bias(4, 1.0f);
    GemmArgs g;
    g.m = 3, g.n = 4, g.k = k, g.alpha = k == 0 ? 1.0f : 0.0f, g.beta = 0.5f;
    g.a = a.data(), g.lda = 5, g.b = b.data(), g.ldb = 4, g.c = c.data(), g.ldc = 4;
    g.bias_mode = BiasMode::PerColumn, g.bias = bias.data();
    gemm(g);
    for (float v : c) CHECK(v == 2.0f);  // 0.5 * 2 + 1
  }
}

// C = A B for big shapes, checked as C x == A (B x) in double: O(n^2) instead of O(n^3).
TEST(gemm_large_residual_check) {
  struct Shape3 {
    int64_t m, n, k;
  };
  const Shape3 shapes[] = {{513, 1000, 300}, {1000, 513, 777}, {300, 4100, 40},
                           {64, 256, 784},   {1, 512, 512},    {4, 1000, 1000}};
  uint32_t seed = 300;
  for (const auto& s : shapes)
    for (Trans ta : {Trans::No, Trans::Yes})
      for (Trans tb : {Trans::No, Trans::Yes}) {
        auto a = random_vector(size_t(s.m * s.k), seed++);
        auto b = random_vector(size_t(s.k * s.n), seed++);
        std::vector<float> c(size_t(s.m * s.n));
        GemmArgs g;
        g.trans_a = ta, g.trans_b = tb, g.m = s.m, g.n = s.n, g.k = s.k;
        g.a = a.data(), g.lda = ta == Trans::No ? s.k : s.m;
        g.b = b.data(), g.ldb = tb == Trans::No ? s.n : s.k;
        g.c = c.data(), g.ldc = s.n;
        gemm(g);
        auto x = random_vector(size_t(s.n), seed++);
        std::vector<double> bx(size_t(s.k), 0.0);
        for (int64_t p = 0; p < s.k; ++p)
          for (int64_t j = 0; j < s.n; ++j)
            bx[p] += double(tb == Trans::No ? b[p * s.n + j] : b[j * s.k + p]) * x[j];
        double worst = 0, scale = 0;
        for (int64_t i = 0; i < s.m; ++i) {
          double cx = 0, abx = 0;
          for (int64_t j = 0; j < s.n; ++j) cx += double(c[i * s.n + j]) * x[j];
          for (int64_t p = 0; p < s.k; ++p)
            abx += double(ta == Trans::No ? a[i * s.k + p] : a[p * s.m + i]) * bx[p];
          worst = std::max(worst, std::fabs(cx - abx));
          scale = std::max(scale, std::fabs(abx));
        }
        char what[128];
        std::snprintf(what, sizeof what, "residual m=%lld n=%lld k=%lld %d%d: %.3g (scale %.3g)",
                      (long long)s.m, (long long)s.n, (long long)s.k, int(ta), int(tb), worst,
                      scale);
        // float rounding grows like sqrt(k) * sqrt(n) * eps per entry of C x.
        CHECK_MSG(worst <= 1e-6 * std::sqrt(double(s.k) * double(s.n)) * 8 + 1e-6 * scale, what);
      }
}

TEST(gemm_batched_matches_loop) {
  for (int64_t batch : {1, 3, 9}) {
    const int64_t m = 7, n = 19, k = 11;
    auto a = random_vector(size_t(batch * m * k), 7);
    auto b = random_vector(size_t(batch * k * n), 8);
    auto bias = random_vector(size_t(batch * n), 9);
    std::vector<float> c1(size_t(batch * m * n)), c2(c1.size());
    GemmBatchedArgs bt;
    bt.gemm.m = m, bt.gemm.n = n, bt.gemm.k = k;
    bt.gemm.a = a.data(), bt.gemm.lda = k, bt.gemm.b = b.data(), bt.gemm.ldb = n;
    bt.gemm.ldc = n, bt.gemm.bias_mode = BiasMode::PerColumn, bt.gemm.bias = bias.data();
    bt.batch = batch, bt.stride_a = m * k, bt.stride_b = k * n, bt.stride_c = m * n;
    bt.stride_bias = n;
    bt.gemm.c = c1.data();
    gemm_batched(bt);
    bt.gemm.c = c2.data();
    ref::gemm_batched(bt);
    CHECK_CLOSE(c1.data(), c2.data(), c1.size(), 1e-5, 1e-5, "gemm_batched");
  }
}

// The per-CPU table (axon/cpu_config.h): every row valid for every level, unknown CPUs get the
// generic row, bad blockings are refused with the reason, and the GEMM gives the same results
// under each row and under a tiny blocking that makes every loop take many blocks.
TEST(gemm_per_cpu_configuration) {
  const std::vector<std::string> names = cpu_config_names();
  CHECK(names.size() >= 3);
  CHECK(cpu_config_for("zen4") == "zen4");
  CHECK(cpu_config_for("unknown AuthenticAMD family 99 model 1") == "generic");
  CHECK(!force_cpu_config_for_testing("zen9"));
  const Isa isa = active_isa();
  const cpu::GemmBlocking& k = cpu::kGemmBlocking[size_t(isa)];
  const GemmCacheBlocking bad_mc{64, k.mr + 1, k.nr}, bad_nc{64, k.mr, k.nr + 1},
      zero_kc{0, k.mr, k.nr}, huge{1 << 20, k.mr * 4096, k.nr};
  CHECK(check_gemm_blocking(isa, bad_mc).find("multiple of") != std::string::npos);
  CHECK(check_gemm_blocking(isa, bad_nc).find("multiple of") != std::string::npos);
  CHECK(!check_gemm_blocking(isa, zero_kc).empty());
  CHECK(!check_gemm_blocking(isa, huge).empty());
  CHECK(!force_cpu_config_for_testing("generic", isa, &bad_mc));
  const std::string before = cpu_config().name;
  const GemmCacheBlocking tiny{5, k.mr * 2, k.nr * 2};
  uint32_t seed = 4242;
  for (const std::string& name : names) {
    CHECK(force_cpu_config_for_testing(name));
    for (Isa level : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon})
      CHECK_MSG(check_gemm_blocking(level, cpu_config().gemm[size_t(level)]).empty(),
                name + ": invalid blocking for " + isa_name(level));
    for (const bool use_tiny : {false, true}) {
      CHECK(force_cpu_config_for_testing(name, isa, use_tiny ? &tiny : nullptr));
      for (Trans ta : {Trans::No, Trans::Yes})
        for (int64_t m : {7, 45})
          for (int64_t n : {33, 200}) run_against_ref({ta, Trans::No, m, n, 67, 1}, seed++);
    }
  }
  CHECK(force_cpu_config_for_testing(before));
}
