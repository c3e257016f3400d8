// Reduced-precision linear layers (axon/kernels.h, LowpWeights): packing a Linear's weight
// once, and y = act(x W^T + b) on the packed form. The products run on AVX512-BF16 / VNNI
// microkernels (lowp_avx512.cpp) when the CPU has them and the AVX-512 level is active;
// otherwise the same rounding is applied and the float32 GEMM does the products, so a model
// prepared on one machine computes the same method everywhere.
//
// Activations are converted per call (bf16: rounded; int8: one scale per row, the row's
// largest magnitude / 127, dynamic quantisation), into per-thread scratch kept between calls.
#include <algorithm>
#include <cmath>
#include <vector>

#include "axon/kernels.h"
#include "axon/runtime.h"
#include "axon/thread_pool.h"
#include "lowp_internal.h"

namespace axon {

using namespace lowp;

namespace {
int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }
int64_t steps(LowpFormat f, int64_t k) { return f == LowpFormat::Bf16 ? (k + 1) / 2 : (k + 3) / 4; }

// Weight (row j, column i) as the packed form holds it, in float.
float unpacked_weight(const LowpWeights& w, int64_t j, int64_t i) {
  const int64_t panel = j / 32, c = j % 32;
  if (w.format == LowpFormat::Bf16) {
    const int64_t kp = steps(w.format, w.k);
    const uint32_t word = static_cast<uint32_t>(w.packed[(panel * kp + i / 2) * 32 + c]);
    return from_bf16(static_cast<uint16_t>(i % 2 ? word >> 16 : word & 0xFFFF));
  }
  const int64_t kq = steps(w.format, w.k);
  const uint32_t word = static_cast<uint32_t>(w.packed[(panel * kq + i / 4) * 32 + c]);
  const int8_t q = static_cast<int8_t>((word >> (8 * (i % 4))) & 0xFF);
  return static_cast<float>(q) * w.scales[j];
}

}  // namespace

int64_t lowp_packed_size(LowpFormat format, int64_t n, int64_t k) {
  return round_up(n, 32) * steps(format, k);
}

void lowp_pack(LowpFormat format, const float* w, int64_t n, int64_t k, int32_t* packed,
               float* scales, int32_t* colsum) {
  const int64_t s = steps(format, k);
  const int64_t panels = round_up(n, 32) / 32;
  if (format == LowpFormat::Int8)
    for (int64_t j = 0; j < n; ++j) {
      float amax = 0.0f;
      for (int64_t i = 0; i < k; ++i) amax = std::max(amax, std::fabs(w[j * k + i]));
      scales[j] = int8_scale(amax);
      int32_t sum = 0;
      for (int64_t i = 0; i < k; ++i) sum += quantize(w[j * k + i], scales[j]);
      colsum[j] = sum;
    }
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t t = 0; t < s; ++t)
      for (int64_t c = 0; c < 32; ++c) {
        const int64_t j = p * 32 + c;
        int32_t word = 0;
        if (j < n) {
          if (format == LowpFormat::Bf16) {
            const int64_t i = 2 * t;
            word = bf16_pair(w[j * k + i], i + 1 < k ? w[j * k + i + 1] : 0.0f);
          } else {
            uint32_t bytes = 0;
            for (int64_t b = 0; b < 4; ++b) {
              const int64_t i = 4 * t + b;
              const int32_t q = i < k ? quantize(w[j * k + i], scales[j]) : 0;
              bytes |= (static_cast<uint32_t>(q) & 0xFFu) << (8 * b);
            }
            word = static_cast<int32_t>(bytes);
          }
        }
        packed[(p * s + t) * 32 + c] = word;
      }
}

bool lowp_native(LowpFormat format) {
#if defined(AXON_HAVE_AVX512)
  if (active_isa() != Isa::Avx512) return false;
  const CpuFeatures& f = cpu_features();
  return format == LowpFormat::Bf16 ? f.avx512_bf16 : f.avx512_vnni;
#else
  (void)format;
  return false;
#endif
}

void lowp_linear(const LowpWeights& w, const float* x, int64_t m, const float* bias, UnaryOp act,
                 float act_param, float* y) {
  const int64_t n = w.n, k = w.k, s = steps(w.format, k);
  if (m == 0 || n == 0) return;
  thread_local std::vector<int32_t> converted;
  thread_local std::vector<float> row_scale;
  if (converted.size() < size_t(m * s)) converted.resize(size_t(m * s));
  if (row_scale.size() < size_t(m)) row_scale.resize(size_t(m));
#if defined(AXON_HAVE_AVX512)
  if (lowp_native(w.format)) {
    // Pointers, not the names: inside a task a thread_local name is the worker's own.
    int32_t* a = converted.data();
    float* rs = row_scale.data();
    // Rows of 16: conversion is cheap next to the products, and each task stays in cache.
    parallel_range(m, 16, [&](int64_t r0, int64_t r1) {
      if (w.format == LowpFormat::Bf16)
        bf16_convert_avx512(x + r0 * k, r1 - r0, k, a + r0 * s, s);
      else
        int8_quantize_avx512(x + r0 * k, r1 - r0, k, s, rs + r0, a + r0 * s);
    });
    // Tasks: panels x blocks of 48 rows, so batch-1 sequences still use every thread.
    const int64_t panels = round_up(n, 32) / 32, row_blocks = (m + 47) / 48;
    parallel_for(panels * row_blocks, [&](int64_t t) {
      const int64_t p = t % panels, rb = t / panels;
      const int64_t r0 = rb * 48, r1 = std::min(m, r0 + 48);
      if (w.format == LowpFormat::Bf16)
        bf16_gemm_avx512(a, s, w.packed, n, y, r0, r1, p, p + 1, bias, act, act_param);
      else
        int8_gemm_avx512(a, s, w.packed, w.scales, w.colsum, rs, n, y, r0, r1, p, p + 1, bias, act,
                         act_param);
    });
    return;
  }
#endif
  // Float fallback: the packed weights unpacked, x rounded as the native path rounds it.
  thread_local std::vector<float> wf, xf;
  if (wf.size() < size_t(n * k)) wf.resize(size_t(n * k));
  if (xf.size() < size_t(m * k)) xf.resize(size_t(m * k));
  // Pointers, not the names: inside a task a thread_local name is the worker's own.
  float* wfp = wf.data();
  float* xfp = xf.data();
  parallel_range(n, 8, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j)
      for (int64_t i = 0; i < k; ++i) wfp[j * k + i] = unpacked_weight(w, j, i);
  });
  parallel_range(m, 8, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* src = x + r * k;
      float* dst = xfp + r * k;
      if (w.format == LowpFormat::Bf16) {
        for (int64_t i = 0; i < k; ++i) dst[i] = from_bf16(to_bf16(src[i]));
      } else {
        float amax = 0.0f;
        for (int64_t i = 0; i < k; ++i) amax = std::max(amax, std::fabs(src[i]));
        const float sc = int8_scale(amax);
        for (int64_t i = 0; i < k; ++i) dst[i] = static_cast<float>(quantize(src[i], sc)) * sc;
      }
    }
  });
  GemmArgs g;
  g.trans_b = Trans::Yes;
  g.m = m, g.n = n, g.k = k;
  g.a = xfp, g.lda = k;
  g.b = wfp, g.ldb = k;
  g.c = y, g.ldc = n;
  g.bias_mode = bias ? BiasMode::PerColumn : BiasMode::None;
  g.bias = bias;
  g.activation = act;
  g.activation_param = act_param;
  gemm(g);
}

}  // namespace axon
