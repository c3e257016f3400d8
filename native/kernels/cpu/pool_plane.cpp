// The 2x2 stride-2 max pool of one plane (windows inside the plane), compiled once per SIMD
// level: the networks' usual pool, and memory-bound, so it pays to run at vector width. The
// scalar loop in pool.cpp (compiled once, baseline ISA) ran at 8 GB/s on the CNN's first pool.
#include <algorithm>
#include <cstdint>

#include "simd/isa.h"
// after simd/isa.h, which names this level's namespace
#include "isa_kernels.h"

namespace axon::cpu::AXON_ISA_NS {

// out/idx (out_h x out_w) of the plane `in` (rows of w floats): each output is the max of
// in[2i][2j], in[2i][2j+1], in[2i+1][2j], in[2i+1][2j+1], the first of equals in that (scan)
// order, with its position 2i*w + 2j (+1, +w). Returns false when the plane holds a NaN among
// the windows, whose outputs the caller then redoes (the first NaN in scan order wins).
bool max_pool_2x2_plane(const float* in, int64_t w, int64_t out_h, int64_t out_w, float* out,
                        int32_t* idx) {
#if defined(AXON_ISA_AVX512)
  // 16 outputs per step, the even and odd columns of two input vectors picked apart with one
  // permute each; rows shorter than 16 outputs (the 14- and 7-wide pools of a 28x28 net) are
  // one masked step, where the generic loop below would fall back to scalar code.
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512i two_iota = _mm512_add_epi32(even, _mm512_setzero_si512());
  __mmask16 nan_seen = 0;
  for (int64_t i = 0; i < out_h; ++i) {
    const float* r0 = in + 2 * i * w;
    const float* r1 = r0 + w;
    for (int64_t j0 = 0; j0 < out_w; j0 += 16) {
      const int n = static_cast<int>(std::min<int64_t>(16, out_w - j0));
      const __mmask16 lo = simd::tail_mask(std::min(16, 2 * n)),
                      hi = simd::tail_mask(std::max(0, 2 * n - 16)), m_out = simd::tail_mask(n);
      const float* p0 = r0 + 2 * j0;
      const float* p1 = r1 + 2 * j0;
      const __m512 a0 = _mm512_maskz_loadu_ps(lo, p0), a1 = _mm512_maskz_loadu_ps(hi, p0 + 16);
      const __m512 c0 = _mm512_maskz_loadu_ps(lo, p1), c1 = _mm512_maskz_loadu_ps(hi, p1 + 16);
      const __m512 a = _mm512_permutex2var_ps(a0, even, a1),
                   b = _mm512_permutex2var_ps(a0, odd, a1);
      const __m512 c = _mm512_permutex2var_ps(c0, even, c1),
                   d = _mm512_permutex2var_ps(c0, odd, c1);
      const __m512i at0 =
          _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(2 * i * w + 2 * j0)), two_iota);
      __m512 m = a;
      __m512i at = at0;
      __mmask16 k = _mm512_cmp_ps_mask(b, m, _CMP_GT_OQ);
      m = _mm512_mask_mov_ps(m, k, b);
      at = _mm512_mask_mov_epi32(at, k, _mm512_add_epi32(at0, _mm512_set1_epi32(1)));
      k = _mm512_cmp_ps_mask(c, m, _CMP_GT_OQ);
      m = _mm512_mask_mov_ps(m, k, c);
      at = _mm512_mask_mov_epi32(at, k,
                                 _mm512_add_epi32(at0, _mm512_set1_epi32(static_cast<int32_t>(w))));
      k = _mm512_cmp_ps_mask(d, m, _CMP_GT_OQ);
      m = _mm512_mask_mov_ps(m, k, d);
      at = _mm512_mask_mov_epi32(
          at, k, _mm512_add_epi32(at0, _mm512_set1_epi32(static_cast<int32_t>(w + 1))));
      nan_seen |= _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q) |
                  _mm512_cmp_ps_mask(c, c, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(d, d, _CMP_UNORD_Q);
      _mm512_mask_storeu_ps(out + i * out_w + j0, m_out, m);
      _mm512_mask_storeu_epi32(idx + i * out_w + j0, m_out, at);
    }
  }
  return nan_seen == 0;
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
#pragma GCC ivdep
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
#if defined(AXON_ISA_AVX512)
    // 16 columns (8 windows) per step: each window's index, gradient and mask duplicated into
    // its two lanes by one permute.
    const __m512i dup = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int64_t c0 = 0; c0 < cols; c0 += 16) {
      const int nc = static_cast<int>(std::min<int64_t>(16, cols - c0));
      const __mmask16 mo = simd::tail_mask(nc / 2), mc = simd::tail_mask(nc);
      const int64_t o0 = c0 / 2;
      const __m512i vi = _mm512_permutexvar_epi32(dup, _mm512_maskz_loadu_epi32(mo, ix + o0));
      const __m512 g = _mm512_permutexvar_ps(dup, _mm512_maskz_loadu_ps(mo, d + o0));
      const __m512i pos = _mm512_add_epi32(_mm512_set1_epi32(at + static_cast<int32_t>(c0)), iota);
      __mmask16 hit = _mm512_mask_cmpeq_epi32_mask(mc, vi, pos);
      matched += __builtin_popcount(hit);
      if (m) {
        const __m512 mv = _mm512_permutexvar_ps(dup, _mm512_maskz_loadu_ps(mo, m + o0));
        hit &= _mm512_cmp_ps_mask(mv, _mm512_setzero_ps(), _CMP_GT_OQ);
      }
      _mm512_mask_storeu_ps(row + c0, mc, _mm512_maskz_mov_ps(hit, g));
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
