// The 2x2 stride-2 max pool of one plane (windows inside the plane), compiled once per SIMD
// level: the networks' usual pool, and memory-bound, so it pays to run at vector width. The
// scalar loop in pool.cpp (compiled once, baseline ISA) ran at 8 GB/s on the CNN's first pool.
#include <algorithm>
#include <cstdint>

#include "axon/portable.h"
#include "simd/isa.h"
// after simd/isa.h, which names this level's namespace
#include "isa_kernels.h"

namespace axon::cpu::AXON_ISA_NS {

using namespace simd;

// out/idx (out_h x out_w) of the plane `in` (rows of w floats): each output is the max of
// in[2i][2j], in[2i][2j+1], in[2i+1][2j], in[2i+1][2j+1], the first of equals in that (scan)
// order, with its position 2i*w + 2j (+1, +w). Returns false when the plane holds a NaN among
// the windows, whose outputs the caller then redoes (the first NaN in scan order wins).
bool max_pool_2x2_plane(const float* in, int64_t w, int64_t out_h, int64_t out_w, float* out,
                        int32_t* idx) {
#if defined(AXON_SIMD_LANE_PERMUTES)
  // kWidth outputs per step, the even and odd columns of two input vectors picked apart with
  // one permute each; rows shorter than kWidth outputs (the 14- and 7-wide pools of a 28x28
  // net on AVX-512) are one masked step, where the plain loop below would fall back to scalar
  // code.
  const VecI two_iota = add_i(iota_i(), iota_i());  // 0, 2, 4, ...: each window's corner
  Mask nan_seen = tail_mask(0);
  for (int64_t i = 0; i < out_h; ++i) {
    const float* r0 = in + 2 * i * w;
    const float* r1 = r0 + w;
    for (int64_t j0 = 0; j0 < out_w; j0 += kWidth) {
      const int n = static_cast<int>(std::min<int64_t>(kWidth, out_w - j0));
      const Mask lo = tail_mask(std::min(kWidth, 2 * n)),
                 hi = tail_mask(std::max(0, 2 * n - kWidth)), m_out = tail_mask(n);
      const float* p0 = r0 + 2 * j0;
      const float* p1 = r1 + 2 * j0;
      const VecF a0 = load_masked(p0, lo), a1 = load_masked(p0 + kWidth, hi);
      const VecF c0 = load_masked(p1, lo), c1 = load_masked(p1 + kWidth, hi);
      const VecF a = even_lanes(a0, a1), b = odd_lanes(a0, a1);
      const VecF c = even_lanes(c0, c1), d = odd_lanes(c0, c1);
      const VecI at0 = add_i(set1_i(static_cast<int32_t>(2 * i * w + 2 * j0)), two_iota);
      VecF m = a;
      VecI at = at0;
      Mask k = gt(b, m);
      m = select(k, b, m);
      at = select_i(k, add_i(at0, set1_i(1)), at);
      k = gt(c, m);
      m = select(k, c, m);
      at = select_i(k, add_i(at0, set1_i(static_cast<int32_t>(w))), at);
      k = gt(d, m);
      m = select(k, d, m);
      at = select_i(k, add_i(at0, set1_i(static_cast<int32_t>(w + 1))), at);
      nan_seen =
          mask_or(nan_seen, mask_or(mask_or(is_nan(a), is_nan(b)), mask_or(is_nan(c), is_nan(d))));
      store_masked(out + i * out_w + j0, m, m_out);
      store_masked_i(idx + i * out_w + j0, at, m_out);
    }
  }
  return !any(nan_seen);
#else
  int nan = 0;
  for (int64_t i = 0; i < out_h; ++i) {
    const float* r0 = in + 2 * i * w;
    const float* r1 = r0 + w;
    const int32_t row = static_cast<int32_t>(2 * i * w), down = static_cast<int32_t>(w);
    float* o = out + i * out_w;
    int32_t* x = idx + i * out_w;
    // Branch-free selects over whole rows: GCC vectorises this loop (strided loads, masked
    // blends) at every level that has vectors.
    AXON_IVDEP
    for (int64_t j = 0; j < out_w; ++j) {
      const float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
      const int32_t at0 = row + static_cast<int32_t>(2 * j);
      float m = a;
      int32_t at = at0;
      at = b > m ? at0 + 1 : at;
      m = b > m ? b : m;
      at = c > m ? at0 + down : at;
      m = c > m ? c : m;
      at = d > m ? at0 + down + 1 : at;
      m = d > m ? d : m;
      nan |= (a != a) | (b != b) | (c != c) | (d != d);
      o[j] = m;
      x[j] = at;
    }
  }
  return nan == 0;
#endif
}

// The gradient of one plane of that pool, written whole (overwrite): dx[r][c] = dy[o] where o
// is the window holding (r, c) and idx[o] points at (r, c), else zero; with relu_mask (the
// pooled output of a relu's output) only where relu_mask[o] > 0. Row by row, in order, instead
// of zeroing the plane and scattering into it. Returns false, having written garbage, when
// some index lies outside its window (not max_pool_2x2_plane's): the caller then scatters.
bool max_pool_2x2_backward_plane(const int32_t* idx, const float* dy, const float* relu_mask,
                                 int64_t h, int64_t w, int64_t out_h, int64_t out_w, float* dx) {
  int64_t matched = 0;  // each output's index matches exactly one position of its window
  const int64_t cols = 2 * out_w;
  for (int64_t r = 0; r < h; ++r) {
    float* row = dx + r * w;
    const int64_t i = r / 2;
    if (i >= out_h) {
      std::fill(row, row + w, 0.0f);
      continue;
    }
    const int32_t* ix = idx + i * out_w;
    const float* d = dy + i * out_w;
    const float* m = relu_mask ? relu_mask + i * out_w : nullptr;
    const int32_t at = static_cast<int32_t>(r * w);
#if defined(AXON_SIMD_LANE_PERMUTES)
    // kWidth columns (kWidth / 2 windows) per step: each window's index, gradient and mask
    // duplicated into its two lanes by one permute.
    for (int64_t c0 = 0; c0 < cols; c0 += kWidth) {
      const int nc = static_cast<int>(std::min<int64_t>(kWidth, cols - c0));
      const Mask mo = tail_mask(nc / 2), mc = tail_mask(nc);
      const int64_t o0 = c0 / 2;
      const VecI vi = dup_low_lanes_i(load_masked_i(ix + o0, mo));
      const VecF g = dup_low_lanes(load_masked(d + o0, mo));
      const VecI pos = add_i(set1_i(at + static_cast<int32_t>(c0)), iota_i());
      Mask hit = mask_and(mc, eq_i(vi, pos));
      matched += count(hit);
      if (m) hit = mask_and(hit, gt(dup_low_lanes(load_masked(m + o0, mo)), zero()));
      store_masked(row + c0, zero_unless(hit, g), mc);
    }
#else
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t o = c / 2;
      const bool hit = ix[o] == at + static_cast<int32_t>(c);
      matched += hit;
      row[c] = hit && (!m || m[o] > 0.0f) ? d[o] : 0.0f;
    }
#endif
    std::fill(row + cols, row + w, 0.0f);  // an odd last column belongs to no window
  }
  return matched == out_h * out_w;
}

}  // namespace axon::cpu::AXON_ISA_NS
