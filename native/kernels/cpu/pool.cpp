// Pooling over (N*C) planes (compiled once; planes are threaded over the pool). Memory-bound:
// each output reads its window once, so plain loops the compiler vectorises are enough.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "axon/kernels.h"
#include "axon/thread_pool.h"
#include "kernel_table.h"

namespace axon {

namespace {

int64_t plane_grain(int64_t work) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(work, 1));
}

// Window of output (oh, ow) clipped to the input: [h0, h1) x [w0, w1), plus the unclipped
// size (for count_include_pad: the window clipped to the padded input, as PyTorch).
struct Window {
  int64_t h0, h1, w0, w1, padded;
};

Window window(const PoolGeometry& g, int64_t oh, int64_t ow) {
  const int64_t hs = oh * g.stride_h - g.pad_top, ws = ow * g.stride_w - g.pad_left;
  const int64_t he = std::min(hs + (g.kh - 1) * g.dil_h + 1, g.h + g.pad_bottom);
  const int64_t we = std::min(ws + (g.kw - 1) * g.dil_w + 1, g.w + g.pad_right);
  Window win;
  win.padded = ((he - hs + g.dil_h - 1) / g.dil_h) * ((we - ws + g.dil_w - 1) / g.dil_w);
  win.h0 = hs, win.h1 = std::min(he, g.h), win.w0 = ws, win.w1 = std::min(we, g.w);
  return win;
}

// First in-range tap at or after `start` stepping by `dil`.
inline int64_t first_tap(int64_t start, int64_t dil) {
  return start >= 0 ? start : start + ((-start + dil - 1) / dil) * dil;
}

}  // namespace

int64_t pool_output_size(int64_t in, int64_t k, int64_t stride, int64_t pad_a, int64_t pad_b,
                         int64_t dil, bool ceil_mode) {
  const int64_t span = in + pad_a + pad_b - dil * (k - 1) - 1;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // PyTorch: the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad_a) --out;
  return out;
}

// The common case (no padding, dilation 1): every window lies inside the plane, so the taps
// need no clipping and the loops are plain.
// One plane, windows fully inside it. KH/KW > 0 fix the kernel size at compile time (the
// 2x2 and 3x3 pools nets use), 0 reads it from kh/kw.
template <int KH, int KW>
void max_pool_plane(const float* in, int64_t w, int64_t out_h, int64_t out_w, int64_t sh,
                    int64_t sw, int64_t kh_rt, int64_t kw_rt, float* out, int32_t* idx) {
  const int64_t kh = KH ? KH : kh_rt, kw = KW ? KW : kw_rt;
  for (int64_t oh = 0; oh < out_h; ++oh) {
    const int64_t h0 = oh * sh;
    for (int64_t ow = 0; ow < out_w; ++ow) {
      const int64_t w0 = ow * sw;
      int32_t at = static_cast<int32_t>(h0 * w + w0);
      float best = in[at];
      bool nan = false;
      // Plain max with selects; a NaN anywhere is detected alongside and resolved below
      // (NaN logic inside the comparisons made the compiler spill the loop to the stack).
      for (int64_t i = 0; i < kh; ++i) {
        const float* row = in + (h0 + i) * w + w0;
        for (int64_t j = 0; j < kw; ++j) {
          const float v = row[j];
          nan |= v != v;
          // Arithmetic selects: GCC turns ?: here into branches, which mispredict half the
          // time on real activations (a 7x slowdown measured on random data).
          const int32_t take = v > best;
          at += take * (static_cast<int32_t>((h0 + i) * w + w0 + j) - at);
          best = best < v ? v : best;
        }
      }
      if (nan) {  // the first NaN in scan order wins (NaN propagates, as PyTorch)
        bool done = false;
        for (int64_t i = 0; i < kh && !done; ++i)
          for (int64_t j = 0; j < kw && !done; ++j) {
            const int64_t o = (h0 + i) * w + w0 + j;
            if (in[o] != in[o]) best = in[o], at = static_cast<int32_t>(o), done = true;
          }
      }
      out[oh * out_w + ow] = best;
      idx[oh * out_w + ow] = at;
    }
  }
}

static void max_pool2d_simple(const PoolGeometry& g, const float* x, float* y, int32_t* index) {
  const int64_t per_plane = g.out_h * g.out_w;
  if (g.kh == 2 && g.kw == 2 && g.stride_h == 2 && g.stride_w == 2) {
    // The SIMD level's plane kernel; a plane with a NaN is redone here in scan order.
    const auto simd_plane = cpu::active_kernels().max_pool_2x2_plane;
    parallel_range(g.planes, plane_grain(per_plane * 4), [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const float* in = x + p * g.h * g.w;
        float* out = y + p * per_plane;
        int32_t* idx = index + p * per_plane;
        if (!simd_plane(in, g.w, g.out_h, g.out_w, out, idx))
          max_pool_plane<2, 2>(in, g.w, g.out_h, g.out_w, 2, 2, 2, 2, out, idx);
      }
    });
    return;
  }
  auto plane = g.kh == 2 && g.kw == 2   ? &max_pool_plane<2, 2>
               : g.kh == 3 && g.kw == 3 ? &max_pool_plane<3, 3>
                                        : &max_pool_plane<0, 0>;
  parallel_range(g.planes, plane_grain(per_plane * g.kh * g.kw), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      plane(x + p * g.h * g.w, g.w, g.out_h, g.out_w, g.stride_h, g.stride_w, g.kh, g.kw,
            y + p * per_plane, index + p * per_plane);
  });
}

void max_pool2d_forward(const PoolGeometry& g, const float* x, float* y, int32_t* index) {
  const int64_t per_plane = g.out_h * g.out_w;
  const bool simple = g.pad_top == 0 && g.pad_left == 0 && g.dil_h == 1 && g.dil_w == 1 &&
                      (g.out_h - 1) * g.stride_h + g.kh <= g.h &&
                      (g.out_w - 1) * g.stride_w + g.kw <= g.w;
  if (simple) return max_pool2d_simple(g, x, y, index);
  parallel_range(g.planes, plane_grain(per_plane * g.kh * g.kw), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const float* in = x + p * g.h * g.w;
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          const Window w = window(g, oh, ow);
          float best = -std::numeric_limits<float>::infinity();
          int64_t at = -1;
          bool nan = false;  // the first NaN wins and stays (NaN propagates, as PyTorch)
          for (int64_t ih = first_tap(w.h0, g.dil_h); ih < w.h1 && !nan; ih += g.dil_h)
            for (int64_t iw = first_tap(w.w0, g.dil_w); iw < w.w1 && !nan; iw += g.dil_w) {
              const float v = in[ih * g.w + iw];
              if (at < 0 || v > best || std::isnan(v)) {
                best = v;
                at = ih * g.w + iw;
                nan = std::isnan(v);
              }
            }
          const int64_t o = p * per_plane + oh * g.out_w + ow;
          y[o] = at < 0 ? -std::numeric_limits<float>::infinity() : best;
          index[o] = static_cast<int32_t>(at < 0 ? 0 : at);
        }
    }
  });
}

void max_pool2d_global_index(const PoolGeometry& g, const int32_t* index, bool column_major,
                             int32_t* out) {
  const int64_t per_plane = g.out_h * g.out_w, plane = g.h * g.w;
  // int64 arithmetic: a stray index cannot overflow (it only gives a wrong value).
  parallel_range(g.planes, plane_grain(per_plane), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int32_t* idx = index + p * per_plane;
      int32_t* o = out + p * per_plane;
      const int64_t base = p * plane;
      if (column_major)
        for (int64_t i = 0; i < per_plane; ++i)
          o[i] = static_cast<int32_t>(base + (idx[i] % g.w) * g.h + idx[i] / g.w);
      else
        for (int64_t i = 0; i < per_plane; ++i) o[i] = static_cast<int32_t>(base + idx[i]);
    }
  });
}

bool max_pool2d_backward(const PoolGeometry& g, const int32_t* index, const float* dy, float* dx,
                         bool overwrite, const float* relu_mask) {
  const int64_t per_plane = g.out_h * g.out_w, plane = g.h * g.w;
  std::atomic<bool> all_inside{true};
  // The usual 2x2/2 pool, overwriting: the SIMD level writes each plane in order (a plane whose
  // indices are not all in their windows falls back to the scatter below).
  const bool plane_kernel = overwrite && g.kh == 2 && g.kw == 2 && g.stride_h == 2 &&
                            g.stride_w == 2 && g.pad_top == 0 && g.pad_left == 0 && g.dil_h == 1 &&
                            g.dil_w == 1 && 2 * g.out_h <= g.h && 2 * g.out_w <= g.w;
  const auto simd_plane = cpu::active_kernels().max_pool_2x2_backward_plane;
  parallel_range(g.planes, plane_grain(per_plane), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float* out = dx + p * g.h * g.w;
      const int32_t* idx = index + p * per_plane;
      const float* d = dy + p * per_plane;
      if (plane_kernel && simd_plane(idx, d, relu_mask ? relu_mask + p * per_plane : nullptr, g.h,
                                     g.w, g.out_h, g.out_w, out))
        continue;
      // Indices come from max_pool2d_forward, or from a caller: checked before any is used.
      bool inside = true;
      for (int64_t o = 0; o < per_plane; ++o) inside &= idx[o] >= 0 && idx[o] < plane;
      if (!inside) {
        all_inside.store(false, std::memory_order_relaxed);
        continue;
      }
      if (overwrite) std::memset(out, 0, sizeof(float) * static_cast<size_t>(g.h * g.w));
      if (relu_mask) {
        const float* m = relu_mask + p * per_plane;
        // NaN and zero outputs pass nothing, as relu; a select, not a branch (the mask is
        // data: a branch on it mispredicted often enough to double the pass's time).
        for (int64_t o = 0; o < per_plane; ++o) out[idx[o]] += m[o] > 0.0f ? d[o] : 0.0f;
      } else {
        for (int64_t o = 0; o < per_plane; ++o) out[idx[o]] += d[o];
      }
    }
  });
  return all_inside.load();
}

void avg_pool2d_forward(const PoolGeometry& g, const float* x, float* y) {
  const int64_t per_plane = g.out_h * g.out_w;
  parallel_range(g.planes, plane_grain(per_plane * g.kh * g.kw), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const float* in = x + p * g.h * g.w;
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          const Window w = window(g, oh, ow);
          double s = 0;
          int64_t count = 0;
          for (int64_t ih = first_tap(w.h0, g.dil_h); ih < w.h1; ih += g.dil_h)
            for (int64_t iw = first_tap(w.w0, g.dil_w); iw < w.w1; iw += g.dil_w) {
              s += in[ih * g.w + iw];
              ++count;
            }
          const int64_t div = g.count_include_pad ? w.padded : count;
          y[p * per_plane + oh * g.out_w + ow] = div > 0 ? static_cast<float>(s / div) : 0.0f;
        }
    }
  });
}

void avg_pool2d_backward(const PoolGeometry& g, const float* dy, float* dx) {
  const int64_t per_plane = g.out_h * g.out_w;
  parallel_range(g.planes, plane_grain(per_plane * g.kh * g.kw), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float* out = dx + p * g.h * g.w;
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          const Window w = window(g, oh, ow);
          int64_t count = 0;
          if (!g.count_include_pad)
            for (int64_t ih = first_tap(w.h0, g.dil_h); ih < w.h1; ih += g.dil_h)
              for (int64_t iw = first_tap(w.w0, g.dil_w); iw < w.w1; iw += g.dil_w) ++count;
          const int64_t div = g.count_include_pad ? w.padded : count;
          if (div <= 0) continue;
          const float share = dy[p * per_plane + oh * g.out_w + ow] / static_cast<float>(div);
          for (int64_t ih = first_tap(w.h0, g.dil_h); ih < w.h1; ih += g.dil_h)
            for (int64_t iw = first_tap(w.w0, g.dil_w); iw < w.w1; iw += g.dil_w)
              out[ih * g.w + iw] += share;
        }
    }
  });
}

void adaptive_avg_pool2d_forward(int64_t planes, int64_t h, int64_t w, int64_t out_h, int64_t out_w,
                                 const float* x, float* y) {
  parallel_range(planes, plane_grain(h * w), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const float* in = x + p * h * w;
      for (int64_t i = 0; i < out_h; ++i) {
        const int64_t h0 = i * h / out_h, h1 = ((i + 1) * h + out_h - 1) / out_h;
        for (int64_t j = 0; j < out_w; ++j) {
          const int64_t w0 = j * w / out_w, w1 = ((j + 1) * w + out_w - 1) / out_w;
          double s = 0;
          for (int64_t a = h0; a < h1; ++a)
            for (int64_t b = w0; b < w1; ++b) s += in[a * w + b];
          y[(p * out_h + i) * out_w + j] = static_cast<float>(s / double((h1 - h0) * (w1 - w0)));
        }
      }
    }
  });
}

void adaptive_avg_pool2d_backward(int64_t planes, int64_t h, int64_t w, int64_t out_h,
                                  int64_t out_w, const float* dy, float* dx) {
  parallel_range(planes, plane_grain(h * w), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float* out = dx + p * h * w;
      for (int64_t i = 0; i < out_h; ++i) {
        const int64_t h0 = i * h / out_h, h1 = ((i + 1) * h + out_h - 1) / out_h;
        for (int64_t j = 0; j < out_w; ++j) {
          const int64_t w0 = j * w / out_w, w1 = ((j + 1) * w + out_w - 1) / out_w;
          const float share =
              dy[(p * out_h + i) * out_w + j] / static_cast<float>((h1 - h0) * (w1 - w0));
          for (int64_t a = h0; a < h1; ++a)
            for (int64_t b = w0; b < w1; ++b) out[a * w + b] += share;
        }
      }
    }
  });
}

}  // namespace axon
