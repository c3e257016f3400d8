// The public kernel API (axon/kernels.h): picks the SIMD level's table, arranges broadcasting
// and reduction axes, and threads the single-threaded table entries. Compiled once with the
// baseline flags; nothing here uses SIMD directly.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "axon/kernels.h"
#include "axon/thread_pool.h"
#include "kernel_table.h"

namespace axon::cpu {

const KernelTable& kernels_for(Isa isa) {
  switch (isa) {
#ifdef AXON_HAVE_AVX512
    case Isa::Avx512:
      return avx512::kernel_table();
#endif
#ifdef AXON_HAVE_AVX2
    case Isa::Avx2:
      return avx2::kernel_table();
#endif
#ifdef AXON_HAVE_NEON
    case Isa::Neon:
      return neon::kernel_table();
#endif
    default:
      return scalar::kernel_table();
  }
}

const KernelTable& active_kernels() { return kernels_for(active_isa()); }

}  // namespace axon::cpu

namespace axon {

using cpu::active_kernels;

namespace {

// Elements per parallel chunk for a loop whose element costs `cost` simple ops.
int64_t grain_for(int cost) { return std::max<int64_t>(2048, 65536 / std::max(cost, 1)); }

// A shape with its dims of extent 1 (in the output) removed and runs of dims that behave the
// same for every operand merged, so inner loops run as long as possible.
struct Collapsed {
  int ndim = 0;
  int64_t dims[kMaxDims];
  int64_t stride_a[kMaxDims];  // 0 where operand a is broadcast
  int64_t stride_b[kMaxDims];
};

Collapsed collapse_broadcast(const Shape& as, const Shape& bs, const Shape& os) {
  Collapsed c;
  for (int d = 0; d < os.ndim; ++d) {
    if (os.dims[d] == 1) continue;
    const bool a_full = as.dims[d] != 1, b_full = bs.dims[d] != 1;
    if (c.ndim > 0) {
      const int last = c.ndim - 1;
      const bool la = c.stride_a[last] != 0, lb = c.stride_b[last] != 0;
      if (la == a_full && lb == b_full) {
        c.dims[last] *= os.dims[d];
        continue;
      }
    }
    c.dims[c.ndim] = os.dims[d];
    c.stride_a[c.ndim] = a_full ? 1 : 0;
    c.stride_b[c.ndim] = b_full ? 1 : 0;
    ++c.ndim;
  }
  // Turn the 0/1 flags into element strides (contiguous operands, broadcast dims skipped).
  int64_t sa = 1, sb = 1;
  for (int d = c.ndim - 1; d >= 0; --d) {
    if (c.stride_a[d]) c.stride_a[d] = sa, sa *= c.dims[d];
    if (c.stride_b[d]) c.stride_b[d] = sb, sb *= c.dims[d];
  }
  return c;
}

}  // namespace

void gemm(const GemmArgs& args) { active_kernels().gemm(args); }
int64_t gemm_packed_b_size(int64_t k, int64_t n) {
  return active_kernels().gemm_packed_b_size(k, n);
}
void gemm_pack_b(const GemmArgs& g, float* packed) { active_kernels().gemm_pack_b(g, packed); }

void gemm_batched(const GemmBatchedArgs& b) {
  const GemmArgs& g = b.gemm;
  // An empty C (m or n 0) leaves nothing to do, however large the batch (the binding accepts
  // up to 2^31 empty GEMMs; looping over them took seconds).
  if (b.batch <= 0 || g.m == 0 || g.n == 0) return;
  auto one = [&](int64_t i) {
    GemmArgs gi = g;
    gi.a += i * b.stride_a;
    gi.b += i * b.stride_b;
    gi.c += i * b.stride_c;
    if (gi.bias) gi.bias += i * b.stride_bias;
    active_kernels().gemm(gi);
  };
  // Small matrices: one whole GEMM per task (nested parallel_for inside runs serially).
  const double flops = 2.0 * double(g.m) * double(g.n) * double(g.k);
  if (b.batch >= num_threads() && flops < 2.0 * 256 * 256 * 256) {
    parallel_for(b.batch, one);
  } else {
    for (int64_t i = 0; i < b.batch; ++i) one(i);
  }
}

// Forward tasks are blocks of 64 queries of one head (attention.cpp's block), so a single head
// of a long sequence still spreads over the pool; the backward's task is a whole head, which
// owns its dq, dk and dv.
void attention_forward(const AttentionArgs& a, float* o, float* lse) {
  const int64_t heads = a.batch * a.heads;
  if (heads == 0 || a.lq == 0) return;
  constexpr int64_t kRows = 64;
  const int64_t blocks = (a.lq + kRows - 1) / kRows;
  const auto& k = active_kernels();
  parallel_for(heads * blocks, [&](int64_t t) {
    const int64_t bh = t / blocks, q0 = (t % blocks) * kRows;
    k.attention_forward_rows(a, o, lse, bh, q0, std::min(a.lq, q0 + kRows));
  });
}

void attention_backward(const AttentionArgs& a, const float* o, const float* lse, const float* d_o,
                        float* dq, float* dk, float* dv) {
  const auto& k = active_kernels();
  parallel_for(a.batch * a.heads,
               [&](int64_t bh) { k.attention_backward_head(a, o, lse, d_o, dq, dk, dv, bh); });
}

void unary_forward(UnaryOp op, const float* x, float* y, int64_t n, float param) {
  const auto& k = active_kernels();
  parallel_range(n, grain_for(unary_cost(op)),
                 [&](int64_t b, int64_t e) { k.unary_forward(op, x + b, y + b, e - b, param); });
}

void unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx,
                    int64_t n, float param, bool overwrite) {
  const auto& k = active_kernels();
  parallel_range(n, grain_for(unary_cost(op) + 2), [&](int64_t b, int64_t e) {
    if (!overwrite) return k.unary_backward(op, x + b, y + b, dy + b, dx + b, e - b, param);
    // Zero a piece while it is about to be written anyway, rather than the caller zeroing the
    // whole buffer in a separate pass over memory.
    constexpr int64_t kPiece = 4096;
    for (int64_t s = b; s < e; s += kPiece) {
      const int64_t len = std::min(kPiece, e - s);
      std::memset(dx + s, 0, sizeof(float) * static_cast<size_t>(len));
      k.unary_backward(op, x + s, y + s, dy + s, dx + s, len, param);
    }
  });
}

void binary_scalar(BinaryOp op, const float* x, float s, bool scalar_first, float* y, int64_t n) {
  const auto& k = active_kernels();
  const int cost = op == BinaryOp::Pow ? 16 : 1;
  parallel_range(n, grain_for(cost), [&](int64_t b, int64_t e) {
    k.binary_scalar(op, x + b, s, scalar_first, y + b, e - b);
  });
}

void binary_forward(BinaryOp op, const float* a, const Shape& as, const float* b, const Shape& bs,
                    float* out, const Shape& os) {
  const int64_t total = os.numel();
  if (total == 0) return;
  const Collapsed c = collapse_broadcast(as, bs, os);
  const auto& k = active_kernels();
  if (c.ndim == 0) {  // every operand has one element
    k.binary_contiguous(op, a, b, out, 1);
    return;
  }
  const int last = c.ndim - 1;
  const int64_t len = c.dims[last];
  const int64_t rows = total / len;
  const bool a_row = c.stride_a[last] != 0, b_row = c.stride_b[last] != 0;
  const int cost = op == BinaryOp::Pow ? 16 : 1;
  if (rows == 1) {
    // One row (same shapes, or a scalar operand, collapse to this): split along it, or a
    // large add would run on one thread. Elementwise, so the split cannot change a result.
    parallel_range(len, grain_for(cost), [&](int64_t s, int64_t e) {
      if (a_row && b_row)
        k.binary_contiguous(op, a + s, b + s, out + s, e - s);
      else if (a_row)
        k.binary_scalar(op, a + s, b[0], false, out + s, e - s);
      else
        k.binary_scalar(op, b + s, a[0], true, out + s, e - s);
    });
    return;
  }
  const int64_t row_grain = std::max<int64_t>(1, grain_for(cost) / len);
  parallel_range(rows, row_grain, [&](int64_t r0, int64_t r1) {
    // Odometer over the outer dims, starting at row r0.
    int64_t idx[kMaxDims] = {};
    int64_t rem = r0;
    for (int d = last - 1; d >= 0; --d) idx[d] = rem % c.dims[d], rem /= c.dims[d];
    for (int64_t r = r0; r < r1; ++r) {
      int64_t oa = 0, ob = 0;
      for (int d = 0; d < last; ++d) oa += idx[d] * c.stride_a[d], ob += idx[d] * c.stride_b[d];
      float* o = out + r * len;
      if (a_row && b_row)
        k.binary_contiguous(op, a + oa, b + ob, o, len);
      else if (a_row)
        k.binary_scalar(op, a + oa, b[ob], false, o, len);
      else
        k.binary_scalar(op, b + ob, a[oa], true, o, len);
      for (int d = last - 1; d >= 0; --d) {
        if (++idx[d] < c.dims[d]) break;
        idx[d] = 0;
      }
    }
  });
}

void binary_backward(BinaryOp op, const float* a, const float* b, const float* y, const float* dy,
                     float* da, float* db, int64_t n) {
  const auto& k = active_kernels();
  const int cost = op == BinaryOp::Pow ? 40 : 2;
  parallel_range(n, grain_for(cost), [&](int64_t s, int64_t e) {
    k.binary_backward(op, a + s, b + s, y + s, dy + s, da ? da + s : nullptr, db ? db + s : nullptr,
                      e - s);
  });
}

void select_forward(const float* cond, const float* x, const float* y, float* out, int64_t n) {
  const auto& k = active_kernels();
  parallel_range(n, grain_for(1), [&](int64_t b, int64_t e) {
    k.select_forward(cond + b, x + b, y + b, out + b, e - b);
  });
}

void select_backward(const float* cond, const float* dout, float* dx, float* dy, int64_t n) {
  if (!dx && !dy) return;
  const auto& k = active_kernels();
  parallel_range(n, grain_for(2), [&](int64_t b, int64_t e) {
    k.select_backward(cond + b, dout + b, dx ? dx + b : nullptr, dy ? dy + b : nullptr, e - b);
  });
}

void reduce(ReduceOp op, const float* x, float* out, int64_t outer, int64_t r, int64_t inner) {
  if (outer <= 0 || inner <= 0) return;
  const auto& k = active_kernels();
  const int threads = num_threads();
  if (outer * inner == 1 && r >= 2 * 65536 && threads > 1) {
    // One output over a long row: per-chunk partials combined in a fixed order.
    const int64_t chunks = threads;
    std::vector<float> part(static_cast<size_t>(chunks));
    const ReduceOp part_op = op == ReduceOp::Mean ? ReduceOp::Sum : op;
    parallel_for(chunks, [&](int64_t c) {
      const int64_t s = r * c / chunks, e = r * (c + 1) / chunks;
      k.reduce(part_op, x + s, &part[c], 1, e - s, 1);
    });
    double acc = part[0];
    bool nan = std::isnan(part[0]);
    for (int64_t c = 1; c < chunks; ++c) {
      nan = nan || std::isnan(part[c]);
      if (op == ReduceOp::Sum || op == ReduceOp::Mean) acc += part[c];
      if (op == ReduceOp::Max) acc = std::max<double>(acc, part[c]);
      if (op == ReduceOp::Min) acc = std::min<double>(acc, part[c]);
    }
    if (op == ReduceOp::Mean) acc /= static_cast<double>(r);
    if (nan && (op == ReduceOp::Max || op == ReduceOp::Min)) acc = NAN;
    *out = static_cast<float>(acc);
    return;
  }
  const int64_t per_outer = std::max<int64_t>(1, r * inner);
  parallel_range(outer, std::max<int64_t>(1, 32768 / per_outer), [&](int64_t b, int64_t e) {
    k.reduce(op, x + b * r * inner, out + b * inner, e - b, r, inner);
  });
}

void arg_reduce(ArgReduceOp op, const float* x, int32_t* out, int64_t outer, int64_t r,
                int64_t inner, bool select_last) {
  if (outer == 0 || inner == 0) return;  // empty: no loop over a huge outer
  const bool is_max = op == ArgReduceOp::ArgMax;
  const int64_t per_outer = std::max<int64_t>(1, r * inner);
  // select_last scans the axis backwards with the same strict rule: the first index of the
  // reversed axis, i.e. the last among ties.
  const int64_t first = select_last ? r - 1 : 0, step = select_last ? -1 : 1;
  parallel_range(outer, std::max<int64_t>(1, 32768 / per_outer), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const float* p = x + o * r * inner + i;
        int64_t best = r > 0 ? first : 0;
        float bv = r > 0 ? p[best * inner] : 0.0f;
        for (int64_t k = 1; k < r && !std::isnan(bv); ++k) {
          const int64_t j = first + k * step;
          const float v = p[j * inner];
          if (std::isnan(v) || (is_max ? v > bv : v < bv)) best = j, bv = v;
        }
        out[o * inner + i] = static_cast<int32_t>(best);
      }
  });
}

void cast_i32_to_f32(const int32_t* x, float* y, int64_t n) {
  parallel_range(n, grain_for(1), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = static_cast<float>(x[i]);
  });
}

void cast_f32_to_i32(const float* x, int32_t* y, int64_t n) {
  parallel_range(n, grain_for(1), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float v = x[i];
      // The range test is exact in float (both bounds are powers of two) and false for NaN.
      y[i] = v >= -2147483648.0f && v < 2147483648.0f ? static_cast<int32_t>(v) : INT32_MIN;
    }
  });
}

void reduce_backward(ReduceOp op, const float* x, const float* y, const float* dy, float* dx,
                     int64_t outer, int64_t r, int64_t inner) {
  if (outer == 0 || r == 0 || inner == 0) return;  // empty: no loop over a huge outer
  const int64_t per_outer = std::max<int64_t>(1, r * inner);
  parallel_range(outer, std::max<int64_t>(1, 32768 / per_outer), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const float* go = dy + o * inner;
      float* dxo = dx + o * r * inner;
      if (op == ReduceOp::Sum || op == ReduceOp::Mean) {
        const float scale = op == ReduceOp::Mean ? 1.0f / static_cast<float>(r) : 1.0f;
        for (int64_t j = 0; j < r; ++j)
          for (int64_t i = 0; i < inner; ++i) dxo[j * inner + i] += go[i] * scale;
        continue;
      }
      const float* xo = x + o * r * inner;
      const float* yo = y + o * inner;
      for (int64_t i = 0; i < inner; ++i) {
        const float t = yo[i];
        for (int64_t j = 0; j < r; ++j) {
          const float v = xo[j * inner + i];
          if (v == t || (std::isnan(v) && std::isnan(t))) {
            dxo[j * inner + i] += go[i];
            break;
          }
        }
      }
    }
  });
}

void sum_to_shape(const float* x, const Shape& in, float* out, const Shape& os) {
  // Group the input dims into alternating kept / reduced runs (dims of extent 1 dropped).
  struct Run {
    bool reduced;
    int64_t size;
  };
  std::vector<Run> runs;
  for (int d = 0; d < in.ndim; ++d) {
    if (in.dims[d] == 1) continue;
    const bool red = os.dims[d] == 1;
    if (!runs.empty() && runs.back().reduced == red)
      runs.back().size *= in.dims[d];
    else
      runs.push_back({red, in.dims[d]});
  }
  const int64_t n_out = os.numel();
  bool any_reduced = false;
  for (const Run& r : runs) any_reduced = any_reduced || r.reduced;
  if (!any_reduced) {
    if (n_out) std::memcpy(out, x, sizeof(float) * n_out);
    return;
  }
  if (in.numel() == 0) {
    std::fill(out, out + n_out, 0.0f);
    return;
  }
  // Reduce the innermost reduced run first, repeatedly, until one run is left.
  std::vector<float> tmp_a, tmp_b;
  const float* src = x;
  while (true) {
    int last_red = -1;
    for (int i = static_cast<int>(runs.size()) - 1; i >= 0; --i)
      if (runs[i].reduced) {
        last_red = i;
        break;
      }
    if (last_red < 0) break;
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < last_red; ++i) outer *= runs[i].size;
    for (size_t i = last_red + 1; i < runs.size(); ++i) inner *= runs[i].size;
    bool more = false;
    for (int i = 0; i < last_red; ++i) more = more || runs[i].reduced;
    float* dst;
    if (!more) {
      dst = out;
    } else {
      std::vector<float>& t = src == tmp_a.data() ? tmp_b : tmp_a;
      t.resize(static_cast<size_t>(outer * inner));
      dst = t.data();
    }
    reduce(ReduceOp::Sum, src, dst, outer, runs[last_red].size, inner);
    src = dst;
    runs.erase(runs.begin() + last_red);
    // Merge neighbours that are now adjacent and of the same kind.
    for (size_t i = 1; i < runs.size();) {
      if (runs[i].reduced == runs[i - 1].reduced) {
        runs[i - 1].size *= runs[i].size;
        runs.erase(runs.begin() + i);
      } else {
        ++i;
      }
    }
    if (!more) break;
  }
}

void softmax_forward(const float* x, float* y, int64_t outer, int64_t r, int64_t inner, bool log) {
  if (outer == 0 || r == 0 || inner == 0) return;  // empty: no loop over a huge outer
  const auto& k = active_kernels();
  const int64_t per_outer = std::max<int64_t>(1, r * inner);
  parallel_range(outer, std::max<int64_t>(1, 8192 / per_outer), [&](int64_t b, int64_t e) {
    const int64_t off = b * r * inner;
    k.softmax_forward(x + off, y + off, e - b, r, inner, log);
  });
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t r,
                      int64_t inner, bool log) {
  if (outer == 0 || r == 0 || inner == 0) return;  // empty: no loop over a huge outer
  const auto& k = active_kernels();
  const int64_t per_outer = std::max<int64_t>(1, r * inner);
  parallel_range(outer, std::max<int64_t>(1, 8192 / per_outer), [&](int64_t b, int64_t e) {
    const int64_t off = b * r * inner;
    k.softmax_backward(y + off, dy + off, dx + off, e - b, r, inner, log);
  });
}

// Optimizer steps: elementwise over the parameter, split over the pool like unary ops.
void sgd_step(float* p, const float* g, float* buf, int64_t n, const SgdConfig& c) {
  const auto& k = active_kernels();
  parallel_range(n, grain_for(4), [&](int64_t b, int64_t e) {
    k.sgd_step(p + b, g + b, buf ? buf + b : nullptr, e - b, c);
  });
}

void adam_step(float* p, const float* g, float* m, float* v, float* vmax, int64_t n,
               const AdamConfig& c) {
  const auto& k = active_kernels();
  parallel_range(n, grain_for(12), [&](int64_t b, int64_t e) {
    k.adam_step(p + b, g + b, m + b, v + b, vmax ? vmax + b : nullptr, e - b, c);
  });
}

void rmsprop_step(float* p, const float* g, float* sq, float* ga, float* buf, int64_t n,
                  const RmspropConfig& c) {
  const auto& k = active_kernels();
  parallel_range(n, grain_for(12), [&](int64_t b, int64_t e) {
    k.rmsprop_step(p + b, g + b, sq + b, ga ? ga + b : nullptr, buf ? buf + b : nullptr, e - b, c);
  });
}

void adagrad_step(float* p, const float* g, float* sum, int64_t n, const AdagradConfig& c) {
  const auto& k = active_kernels();
  parallel_range(n, grain_for(12),
                 [&](int64_t b, int64_t e) { k.adagrad_step(p + b, g + b, sum + b, e - b, c); });
}

double sum_squares(const float* x, int64_t n) {
  const auto& k = active_kernels();
  const int threads = num_threads();
  if (n < 2 * 65536 || threads <= 1) return k.sum_squares(x, n);
  // Fixed chunks combined in order: the result depends only on n and the thread count.
  std::vector<double> part(static_cast<size_t>(threads));
  parallel_for(threads, [&](int64_t c) {
    const int64_t s = n * c / threads, e = n * (c + 1) / threads;
    part[c] = k.sum_squares(x + s, e - s);
  });
  double total = 0;
  for (double v : part) total += v;
  return total;
}

double clip_grad_norm(float* const* grads, const int64_t* sizes, int64_t count, double max_norm,
                      double norm_type) {
  double norm = 0;
  if (std::isinf(norm_type)) {
    for (int64_t i = 0; i < count; ++i)
      for (int64_t j = 0; j < sizes[i]; ++j) norm = std::max(norm, double(std::fabs(grads[i][j])));
  } else {
    for (int64_t i = 0; i < count; ++i) norm += sum_squares(grads[i], sizes[i]);
    norm = std::sqrt(norm);
  }
  const double scale = max_norm / (norm + 1e-6);
  if (scale < 1)
    for (int64_t i = 0; i < count; ++i)
      binary_scalar(BinaryOp::Mul, grads[i], static_cast<float>(scale), false, grads[i], sizes[i]);
  return norm;
}

// Convolution: the ISA kernels thread themselves (over images, groups and pixel blocks).
void conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    UnaryOp act, float act_param, float* y) {
  cpu::active_kernels().conv2d_forward(g, x, w, bias, act, act_param, y);
}
const char* conv2d_forward_algorithm(const ConvGeometry& g) {
  return cpu::active_kernels().conv2d_forward_algorithm(g);
}

namespace {
ConvAlgorithm algorithm_from_env() {
  const char* env = std::getenv("AXON_CONV_ALGO");
  if (env == nullptr || *env == '\0' || std::strcmp(env, "auto") == 0) return ConvAlgorithm::Auto;
  if (std::strcmp(env, "gemm") == 0) return ConvAlgorithm::ImplicitGemm;
  if (std::strcmp(env, "winograd") == 0) return ConvAlgorithm::Winograd;
  std::fprintf(stderr, "axon: AXON_CONV_ALGO=%s is not one of auto, gemm, winograd; using auto\n",
               env);
  return ConvAlgorithm::Auto;
}
std::atomic<int>& algorithm_setting() {
  static std::atomic<int> setting{static_cast<int>(algorithm_from_env())};
  return setting;
}
}  // namespace

void set_conv_algorithm(ConvAlgorithm algorithm) {
  algorithm_setting().store(static_cast<int>(algorithm), std::memory_order_relaxed);
}
ConvAlgorithm conv_algorithm() {
  return static_cast<ConvAlgorithm>(algorithm_setting().load(std::memory_order_relaxed));
}
void conv2d_backward_data(const ConvGeometry& g, const float* dy, const float* w, float* dx,
                          bool overwrite) {
  cpu::active_kernels().conv2d_backward_data(g, dy, w, dx, overwrite);
}
void conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                            float* db) {
  cpu::active_kernels().conv2d_backward_weight(g, x, dy, dw, db);
}

}  // namespace axon
