// Layout kernels: permute (transpose), concat, strided slice and its gradient. They move
// 4-byte elements (float32 or int32) and are bound by memory, so they are compiled once,
// with the baseline flags: the wins are contiguous runs (memcpy) and cache-blocked transposes.
//   permute: out (shape[perm[0]], ...) = x (shape) permuted
//   concat:  out (outer, sum sizes) = [x_0 (outer, sizes[0]) | x_1 | ...]
//   slice:   out[i] = x[start + i * step] per axis; slice_backward: dx[start + i*step] += dy[i]
#include <algorithm>
#include <cstring>

#include "axon/kernels.h"
#include "axon/thread_pool.h"

namespace axon {

namespace {

using Word = uint32_t;
constexpr int64_t kGrainElems = 32768;

int64_t row_grain(int64_t row_len) {
  return std::max<int64_t>(1, kGrainElems / std::max<int64_t>(row_len, 1));
}

// Decomposes a flat row number into an odometer index over dims[0..nd).
void unflatten(int64_t flat, const int64_t* dims, int nd, int64_t* idx) {
  for (int d = nd - 1; d >= 0; --d) idx[d] = flat % dims[d], flat /= dims[d];
}
void advance(const int64_t* dims, int nd, int64_t* idx) {
  for (int d = nd - 1; d >= 0; --d) {
    if (++idx[d] < dims[d]) return;
    idx[d] = 0;
  }
}

// Rows [i0, i1) of out (rows_out, cols_out) = x (cols_out, rows_out) transposed, in 32 x 32
// tiles so both sides stay in cache.
void transpose_rows(const Word* x, Word* out, int64_t rows_out, int64_t cols_out, int64_t i0,
                    int64_t i1) {
  constexpr int64_t T = 32;
  for (int64_t ib = i0; ib < i1; ib += T)
    for (int64_t j0 = 0; j0 < cols_out; j0 += T) {
      const int64_t ie = std::min(i1, ib + T), j1 = std::min(cols_out, j0 + T);
      for (int64_t i = ib; i < ie; ++i)
        for (int64_t j = j0; j < j1; ++j) out[i * cols_out + j] = x[j * rows_out + i];
    }
}

}  // namespace

void permute(const void* xv, const Shape& shape, const int* perm, void* outv) {
  const Word* x = static_cast<const Word*>(xv);
  Word* out = static_cast<Word*>(outv);
  const int64_t total = shape.numel();
  if (total == 0) return;
  // Drop extent-1 dims, then merge input dims that stay adjacent and in order in the output.
  int keep_map[kMaxDims];
  int nkeep = 0;
  for (int d = 0; d < shape.ndim; ++d) keep_map[d] = shape.dims[d] == 1 ? -1 : nkeep++;
  int p[kMaxDims];
  int np = 0;
  for (int i = 0; i < shape.ndim; ++i)
    if (keep_map[perm[i]] >= 0) p[np++] = keep_map[perm[i]];
  int64_t kdims[kMaxDims];
  for (int d = 0, k = 0; d < shape.ndim; ++d)
    if (keep_map[d] >= 0) kdims[k++] = shape.dims[d];
  // Group output positions into runs of consecutive input dims.
  int group_of[kMaxDims] = {};  // input dim -> group id (in output order)
  int ng = 0;
  for (int i = 0; i < np; ++i) {
    if (i > 0 && p[i] == p[i - 1] + 1) {
      group_of[p[i]] = ng - 1;
    } else {
      group_of[p[i]] = ng++;
    }
  }
  // Collapsed input dims (in input order) and the collapsed permutation.
  int64_t in_dims[kMaxDims];
  int cperm[kMaxDims] = {};
  int nin = 0;
  int in_group[kMaxDims];
  for (int d = 0; d < nkeep; ++d) {
    if (d > 0 && group_of[d] == group_of[d - 1]) {
      in_dims[nin - 1] *= kdims[d];
    } else {
      in_group[nin] = group_of[d];
      in_dims[nin++] = kdims[d];
    }
  }
  for (int g = 0; g < ng; ++g)
    for (int d = 0; d < nin; ++d)
      if (in_group[d] == g) cperm[g] = d;
  if (nin <= 1 || [&] {
        for (int i = 0; i < nin; ++i)
          if (cperm[i] != i) return false;
        return true;
      }()) {
    std::memcpy(out, x, sizeof(Word) * total);
    return;
  }
  int64_t in_stride[kMaxDims];
  in_stride[nin - 1] = 1;
  for (int d = nin - 2; d >= 0; --d) in_stride[d] = in_stride[d + 1] * in_dims[d + 1];
  int64_t od[kMaxDims];
  for (int i = 0; i < nin; ++i) od[i] = in_dims[cperm[i]];
  // Batched matrix transpose: (B, R, C) -> (B, C, R).
  if (cperm[nin - 1] == nin - 2 && cperm[nin - 2] == nin - 1 && [&] {
        for (int i = 0; i < nin - 2; ++i)
          if (cperm[i] != i) return false;
        return true;
      }()) {
    const int64_t rows_out = od[nin - 2], cols_out = od[nin - 1];
    const int64_t matrix = rows_out * cols_out, batch = total / matrix;
    constexpr int64_t kStrip = 32;
    const int64_t strips = (rows_out + kStrip - 1) / kStrip;
    parallel_range(batch * strips, row_grain(kStrip * cols_out), [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t b = t / strips, s0 = (t % strips) * kStrip;
        transpose_rows(x + b * matrix, out + b * matrix, rows_out, cols_out, s0,
                       std::min(rows_out, s0 + kStrip));
      }
    });
    return;
  }
  // General: walk output rows; the innermost output dim gathers with a fixed input stride.
  const int last = nin - 1;
  const int64_t len = od[last];
  const int64_t src_step = in_stride[cperm[last]];
  const int64_t rows = total / len;
  parallel_range(rows, row_grain(len), [&](int64_t r0, int64_t r1) {
    int64_t idx[kMaxDims] = {};
    unflatten(r0, od, last, idx);
    for (int64_t r = r0; r < r1; ++r) {
      int64_t src = 0;
      for (int i = 0; i < last; ++i) src += idx[i] * in_stride[cperm[i]];
      Word* o = out + r * len;
      if (src_step == 1) {
        std::memcpy(o, x + src, sizeof(Word) * len);
      } else {
        for (int64_t j = 0; j < len; ++j) o[j] = x[src + j * src_step];
      }
      advance(od, last, idx);
    }
  });
}

void concat(const void* const* xs, const int64_t* sizes, int count, int64_t outer, void* outv) {
  Word* out = static_cast<Word*>(outv);
  int64_t row = 0;
  for (int i = 0; i < count; ++i) row += sizes[i];
  if (row == 0) return;
  parallel_range(outer, row_grain(row), [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      int64_t off = 0;
      for (int i = 0; i < count; ++i) {
        if (sizes[i])
          std::memcpy(out + o * row + off, static_cast<const Word*>(xs[i]) + o * sizes[i],
                      sizeof(Word) * sizes[i]);
        off += sizes[i];
      }
    }
  });
}

void slice_copy(const void* xv, const Shape& shape, const int64_t* start, const int64_t* step,
                const Shape& os, void* outv) {
  const Word* x = static_cast<const Word*>(xv);
  Word* out = static_cast<Word*>(outv);
  const int64_t total = os.numel();
  if (total == 0) return;
  const int nd = shape.ndim;
  if (nd == 0) {
    out[0] = x[0];
    return;
  }
  int64_t stride[kMaxDims];
  stride[nd - 1] = 1;
  for (int d = nd - 2; d >= 0; --d) stride[d] = stride[d + 1] * shape.dims[d + 1];
  const int last = nd - 1;
  const int64_t len = os.dims[last];
  const int64_t rows = total / len;
  parallel_range(rows, row_grain(len), [&](int64_t r0, int64_t r1) {
    int64_t idx[kMaxDims] = {};
    unflatten(r0, os.dims, last, idx);
    for (int64_t r = r0; r < r1; ++r) {
      int64_t src = start[last];
      for (int d = 0; d < last; ++d) src += (start[d] + idx[d] * step[d]) * stride[d];
      Word* o = out + r * len;
      if (step[last] == 1)
        std::memcpy(o, x + src, sizeof(Word) * len);
      else
        for (int64_t j = 0; j < len; ++j) o[j] = x[src + j * step[last]];
      advance(os.dims, last, idx);
    }
  });
}

void slice_backward(const float* dy, const Shape& os, const int64_t* start, const int64_t* step,
                    const Shape& shape, float* dx) {
  const int64_t total = os.numel();
  if (total == 0) return;
  const int nd = shape.ndim;
  if (nd == 0) {
    dx[0] += dy[0];
    return;
  }
  int64_t stride[kMaxDims];
  stride[nd - 1] = 1;
  for (int d = nd - 2; d >= 0; --d) stride[d] = stride[d + 1] * shape.dims[d + 1];
  const int last = nd - 1;
  const int64_t len = os.dims[last];
  const int64_t rows = total / len;
  // Distinct output rows map to distinct input elements (steps are non-zero), so threads
  // never add to the same dx element.
  parallel_range(rows, row_grain(len), [&](int64_t r0, int64_t r1) {
    int64_t idx[kMaxDims] = {};
    unflatten(r0, os.dims, last, idx);
    for (int64_t r = r0; r < r1; ++r) {
      int64_t dst = start[last];
      for (int d = 0; d < last; ++d) dst += (start[d] + idx[d] * step[d]) * stride[d];
      const float* g = dy + r * len;
      for (int64_t j = 0; j < len; ++j) dx[dst + j * step[last]] += g[j];
      advance(os.dims, last, idx);
    }
  });
}

}  // namespace axon
