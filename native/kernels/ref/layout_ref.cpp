// Naive twins of the layout kernels: one element at a time through an index odometer.
#include <cstring>
#include <vector>

#include "axon/ref.h"

namespace axon::ref {

namespace {
using Word = uint32_t;  // every layout kernel moves 4-byte elements (float32 or int32)

// Advances idx over `shape` in row-major order; returns false after the last index.
bool next_index(std::vector<int64_t>& idx, const Shape& shape) {
  for (int d = shape.ndim - 1; d >= 0; --d) {
    if (++idx[d] < shape.dims[d]) return true;
    idx[d] = 0;
  }
  return false;
}
}  // namespace

void permute(const void* xv, const Shape& shape, const int* perm, void* outv) {
  const Word* x = static_cast<const Word*>(xv);
  Word* out = static_cast<Word*>(outv);
  Shape os;
  os.ndim = shape.ndim;
  for (int i = 0; i < shape.ndim; ++i) os.dims[i] = shape.dims[perm[i]];
  if (os.numel() == 0) return;
  std::vector<int64_t> in_stride(shape.ndim, 1), idx(shape.ndim, 0);
  for (int d = shape.ndim - 2; d >= 0; --d) in_stride[d] = in_stride[d + 1] * shape.dims[d + 1];
  int64_t flat = 0;
  do {
    int64_t src = 0;
    for (int i = 0; i < os.ndim; ++i) src += idx[i] * in_stride[perm[i]];
    out[flat++] = x[src];
  } while (next_index(idx, os));
}

void concat(const void* const* xs, const int64_t* sizes, int count, int64_t outer, void* outv) {
  Word* out = static_cast<Word*>(outv);
  int64_t row = 0;
  for (int i = 0; i < count; ++i) row += sizes[i];
  int64_t offset = 0;
  for (int i = 0; i < count; ++i) {
    const Word* x = static_cast<const Word*>(xs[i]);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < sizes[i]; ++j) out[o * row + offset + j] = x[o * sizes[i] + j];
    offset += sizes[i];
  }
}

void slice_copy(const void* xv, const Shape& shape, const int64_t* start, const int64_t* step,
                const Shape& os, void* outv) {
  const Word* x = static_cast<const Word*>(xv);
  Word* out = static_cast<Word*>(outv);
  if (os.numel() == 0) return;
  std::vector<int64_t> stride(shape.ndim, 1), idx(shape.ndim, 0);
  for (int d = shape.ndim - 2; d >= 0; --d) stride[d] = stride[d + 1] * shape.dims[d + 1];
  int64_t flat = 0;
  do {
    int64_t src = 0;
    for (int d = 0; d < shape.ndim; ++d) src += (start[d] + idx[d] * step[d]) * stride[d];
    out[flat++] = x[src];
  } while (next_index(idx, os));
}

void slice_backward(const float* dy, const Shape& os, const int64_t* start, const int64_t* step,
                    const Shape& shape, float* dx) {
  if (os.numel() == 0) return;
  std::vector<int64_t> stride(shape.ndim, 1), idx(shape.ndim, 0);
  for (int d = shape.ndim - 2; d >= 0; --d) stride[d] = stride[d + 1] * shape.dims[d + 1];
  int64_t flat = 0;
  do {
    int64_t dst = 0;
    for (int d = 0; d < shape.ndim; ++d) dst += (start[d] + idx[d] * step[d]) * stride[d];
    dx[dst] += dy[flat++];
  } while (next_index(idx, os));
}

}  // namespace axon::ref
