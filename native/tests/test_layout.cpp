// Layout kernels against their naive twins (axon/ref.h), bit for bit: permute over every
// permutation of rank 2-4 shapes with awkward dims and 1s (float and int32 data) plus a batched
// transpose crossing the 32x32 tiles; concat with empty inputs; slice_copy with positive and
// negative steps; slice_backward accumulating into dx.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>

#include "axon/kernels.h"
#include "axon/ref.h"
#include "check.h"

using namespace axon;
using axon::test::random_vector;

namespace {

Shape shape_of(const std::vector<int64_t>& dims) {
  Shape s;
  for (int64_t d : dims) s.dims[s.ndim++] = d;
  return s;
}

std::string dims_str(const int64_t* dims, int nd) {
  std::string r = "[";
  for (int i = 0; i < nd; ++i) r += (i ? "," : "") + std::to_string(dims[i]);
  return r + "]";
}

// Distinct int32 words (0x40000000 + i, with random high bits): a misplaced element cannot
// coincide with the right one, and the words are not all valid floats (the kernels move bits).
std::vector<int32_t> distinct_words(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<int32_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = int32_t((gen() & 0xFFF00000u) | uint32_t(i & 0xFFFFF));
  return v;
}

// permute(x) against ref::permute on float data and on int32 words; out has a sentinel tail.
void check_permute(const std::vector<int64_t>& dims, const std::vector<int>& perm, uint32_t seed) {
  const Shape s = shape_of(dims);
  const size_t n = size_t(s.numel());
  std::string what = "permute " + dims_str(s.dims, s.ndim) + " perm (";
  for (int p : perm) what += std::to_string(p) + " ";
  what += ")";
  auto xf = random_vector(n, seed);
  std::vector<float> outf(n + 1, 7.0f), wantf(n + 1, 7.0f);
  permute(xf.data(), s, perm.data(), outf.data());
  ref::permute(xf.data(), s, perm.data(), wantf.data());
  CHECK_MSG(std::memcmp(outf.data(), wantf.data(), sizeof(float) * (n + 1)) == 0, what + " float");
  auto xi = distinct_words(n, seed);
  std::vector<int32_t> outi(n + 1, 7), wanti(n + 1, 7);
  permute(xi.data(), s, perm.data(), outi.data());
  ref::permute(xi.data(), s, perm.data(), wanti.data());
  CHECK_MSG(outi == wanti, what + " int32");
}

}  // namespace

TEST(permute_all_permutations) {
  const std::vector<std::vector<int64_t>> shapes = {
      {1, 1},       {3, 5},       {1, 7},        {7, 1},       {33, 17},
      {0, 4},       {2, 3, 4},    {1, 5, 3},     {4, 1, 1},    {3, 33, 35},
      {5, 1, 7},    {2, 0, 3},    {2, 3, 1, 5},  {3, 1, 4, 2}, {2, 2, 3, 3},
      {1, 1, 1, 1}, {4, 5, 6, 7}, {1, 3, 1, 33}, {6, 1, 1, 5}, {2, 35, 1, 33},
  };
  uint32_t seed = 1;
  for (const auto& dims : shapes) {
    std::vector<int> perm(dims.size());
    std::iota(perm.begin(), perm.end(), 0);
    do check_permute(dims, perm, seed++);
    while (std::next_permutation(perm.begin(), perm.end()));
  }
}

TEST(permute_batched_transpose_tiles) {
  // (B, R, C) -> (B, C, R) with R, C not multiples of 32, plus big 2-D transposes (threaded).
  check_permute({3, 130, 70}, {0, 2, 1}, 100);
  check_permute({130, 70}, {1, 0}, 101);
  check_permute({1000, 97}, {1, 0}, 102);
  check_permute({2, 3, 64, 33}, {0, 1, 3, 2}, 103);
  check_permute({2, 3, 64, 33}, {1, 0, 3, 2}, 104);  // outer dims permuted too: general path
  check_permute({31, 1, 257}, {2, 1, 0}, 105);
  check_permute({8, 128, 64}, {2, 0, 1}, 106);
}

TEST(concat_with_empty_inputs) {
  struct Case {
    int64_t outer;
    std::vector<int64_t> sizes;
  };
  const Case cases[] = {
      {1, {3}},    {4, {2, 3}},       {5, {0, 7, 0, 1}},   {3, {0, 0}},
      {0, {4, 5}}, {37, {1, 33, 17}}, {2, {1000, 0, 513}}, {300, {64, 0, 65, 3}},
  };
  uint32_t seed = 200;
  for (const Case& c : cases) {
    std::vector<std::vector<float>> xs;
    std::vector<const void*> ptrs;
    int64_t row = 0;
    for (int64_t s : c.sizes) {
      xs.push_back(random_vector(size_t(c.outer * s), seed++));
      row += s;
    }
    for (auto& x : xs) ptrs.push_back(x.data());
    const size_t n = size_t(c.outer * row);
    std::vector<float> out(n + 1, 7.0f), want(n + 1, 7.0f);
    concat(ptrs.data(), c.sizes.data(), int(c.sizes.size()), c.outer, out.data());
    ref::concat(ptrs.data(), c.sizes.data(), int(c.sizes.size()), c.outer, want.data());
    const std::string what = "concat outer=" + std::to_string(c.outer) +
                             " sizes=" + dims_str(c.sizes.data(), int(c.sizes.size()));
    CHECK_MSG(std::memcmp(out.data(), want.data(), sizeof(float) * (n + 1)) == 0, what);
  }
}

namespace {

struct SliceCase {
  std::vector<int64_t> shape, start, step, out;
};

// Random valid slices of `shape`: per axis a step in {1, 2, 3, -1, -2} and a start/count that
// stay in range (count 0 sometimes).
std::vector<SliceCase> slice_cases() {
  std::vector<SliceCase> cases = {
      {{10}, {0}, {1}, {10}},              // whole
      {{10}, {9}, {-1}, {10}},             // reversed
      {{10}, {8}, {-3}, {3}},              // 8, 5, 2
      {{4, 6}, {3, 5}, {-1, -2}, {4, 3}},  //
      {{4, 6}, {1, 0}, {2, 1}, {2, 6}},    // whole rows: memcpy path
      {{5, 7, 9}, {4, 1, 8}, {-2, 3, -1}, {3, 2, 9}},
      {{5, 7, 9}, {0, 0, 0}, {1, 1, 1}, {0, 7, 9}},  // empty
      {{3, 1, 600}, {2, 0, 599}, {-1, 1, -1}, {3, 1, 600}},
      {{2, 3, 4, 5}, {1, 2, 0, 4}, {-1, -1, 2, -2}, {2, 3, 2, 3}},
      {{}, {}, {}, {}},  // rank 0: one element
  };
  std::mt19937 gen(5);
  const int64_t steps[] = {1, 2, 3, -1, -2};
  for (int t = 0; t < 40; ++t) {
    SliceCase c;
    const int nd = 1 + int(gen() % 4);
    for (int d = 0; d < nd; ++d) {
      const int64_t dim = 1 + int64_t(gen() % (d == nd - 1 ? 70 : 9));
      const int64_t step = steps[gen() % 5];
      const int64_t mag = step < 0 ? -step : step;
      const int64_t start = int64_t(gen() % uint64_t(dim));
      // Elements reachable from start in the step's direction.
      const int64_t room = step > 0 ? (dim - 1 - start) / mag + 1 : start / mag + 1;
      const int64_t count = t % 13 == 5 ? 0 : 1 + int64_t(gen() % uint64_t(room));
      c.shape.push_back(dim), c.start.push_back(start), c.step.push_back(step);
      c.out.push_back(count);
    }
    cases.push_back(c);
  }
  return cases;
}

}  // namespace

TEST(slice_copy_and_backward_match_ref) {
  uint32_t seed = 300;
  for (const SliceCase& c : slice_cases()) {
    const Shape s = shape_of(c.shape), os = shape_of(c.out);
    const size_t n_in = size_t(s.numel()), n_out = size_t(os.numel());
    std::string what = "slice " + dims_str(s.dims, s.ndim) + " start " +
                       dims_str(c.start.data(), s.ndim) + " step " +
                       dims_str(c.step.data(), s.ndim) + " -> " + dims_str(os.dims, os.ndim);
    // Forward, float and int32.
    auto x = random_vector(n_in, seed++);
    std::vector<float> out(n_out + 1, 7.0f), want(n_out + 1, 7.0f);
    slice_copy(x.data(), s, c.start.data(), c.step.data(), os, out.data());
    ref::slice_copy(x.data(), s, c.start.data(), c.step.data(), os, want.data());
    CHECK_MSG(std::memcmp(out.data(), want.data(), sizeof(float) * (n_out + 1)) == 0, what);
    auto xi = distinct_words(n_in, seed++);
    std::vector<int32_t> outi(n_out + 1, 7), wanti(n_out + 1, 7);
    slice_copy(xi.data(), s, c.start.data(), c.step.data(), os, outi.data());
    ref::slice_copy(xi.data(), s, c.start.data(), c.step.data(), os, wanti.data());
    CHECK_MSG(outi == wanti, what + " int32");
    // Backward: dx (pre-filled) += dy at the sliced positions, once each.
    auto dy = random_vector(n_out, seed++);
    auto dx0 = random_vector(n_in + 1, seed++);
    std::vector<float> dx = dx0, dx_want = dx0;
    slice_backward(dy.data(), os, c.start.data(), c.step.data(), s, dx.data());
    ref::slice_backward(dy.data(), os, c.start.data(), c.step.data(), s, dx_want.data());
    CHECK_MSG(std::memcmp(dx.data(), dx_want.data(), sizeof(float) * (n_in + 1)) == 0,
              what + " backward");
  }
}

TEST(slice_large_threaded) {
  // Enough rows for the thread pool to split them: [600, 300] -> every 2nd row reversed,
  // every column reversed with step -1 (gathers) and a step-1 slice (memcpy rows).
  const Shape s = shape_of({600, 300});
  auto x = random_vector(size_t(s.numel()), 400);
  struct Sl {
    int64_t start[2], step[2], out[2];
  };
  const Sl sls[] = {{{599, 299}, {-2, -1}, {300, 300}}, {{1, 5}, {1, 1}, {599, 290}}};
  for (const Sl& sl : sls) {
    Shape os;
    os.ndim = 2, os.dims[0] = sl.out[0], os.dims[1] = sl.out[1];
    std::vector<float> out(size_t(os.numel())), want(out.size());
    slice_copy(x.data(), s, sl.start, sl.step, os, out.data());
    ref::slice_copy(x.data(), s, sl.start, sl.step, os, want.data());
    CHECK(out == want);
    std::vector<float> dx(size_t(s.numel()), 0.5f), dx_want = dx;
    slice_backward(out.data(), os, sl.start, sl.step, s, dx.data());
    ref::slice_backward(out.data(), os, sl.start, sl.step, s, dx_want.data());
    CHECK(dx == dx_want);
  }
}
