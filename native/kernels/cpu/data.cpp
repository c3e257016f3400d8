// Data movement and metric accumulators for training loops (compiled once: memory-bound
// loops the compiler vectorises, threaded over rows).
//   fill, copy:        x (n) words
//   gather_rows:       dst (rows, row_size) = src rows picked by indices[start..start+rows)
//   confusion_update:  matrix (c', c') += counts of (label, predicted) pairs
//   regression_update: stats (5) += count, squared error, absolute error, sum t, sum t^2
#include <algorithm>
#include <cmath>
#include <cstring>

#include "axon/kernels.h"
#include "axon/portable.h"
#include "axon/thread_pool.h"

namespace axon {

void fill(void* x, int64_t n, uint32_t word) {
  auto* w = static_cast<uint32_t*>(x);
  parallel_range(n, 1 << 16, [&](int64_t b, int64_t e) { std::fill(w + b, w + e, word); });
}

void copy(const void* src, void* dst, int64_t n) {
  const auto* s = static_cast<const uint32_t*>(src);
  auto* d = static_cast<uint32_t*>(dst);
  parallel_range(n, 1 << 16, [&](int64_t b, int64_t e) {
    std::memcpy(d + b, s + b, sizeof(uint32_t) * (e - b));
  });
}

void gather_rows(const void* src, int64_t row_size, const int32_t* indices, int64_t start,
                 int64_t rows, void* dst) {
  const auto* s = static_cast<const uint32_t*>(src);
  auto* d = static_cast<uint32_t*>(dst);
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(row_size, 1));
  // Shuffled rows are scattered over a large array (DRAM latency, TLB misses): request the
  // rows a few ahead while copying the current one.
  constexpr int64_t kAhead = 3;
  const int64_t row_bytes = row_size * int64_t{sizeof(uint32_t)};
  parallel_range(rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      if (r + kAhead < e) {
        const char* p =
            reinterpret_cast<const char*>(s + int64_t{indices[start + r + kAhead]} * row_size);
        for (int64_t off = 0; off < row_bytes; off += 64) AXON_PREFETCH(p + off, 0, 0);
      }
      std::memcpy(d + r * row_size, s + int64_t{indices[start + r]} * row_size,
                  sizeof(uint32_t) * row_size);
    }
  });
}

void confusion_update(const float* scores, int64_t n, int64_t c, const int32_t* labels,
                      const float* label_floats, int64_t label_cols, float threshold,
                      double* matrix, double* skipped) {
  const int64_t cc = std::max<int64_t>(c, 2);
  for (int64_t i = 0; i < n; ++i) {
    int64_t label;
    if (labels) {
      label = labels[i];
    } else if (label_cols > 1) {
      const float* lr = label_floats + i * label_cols;
      label = 0;
      for (int64_t j = 1; j < label_cols; ++j)
        if (lr[j] > lr[label]) label = j;
    } else {
      const float lf = label_floats[i];
      // A float label is data: NaN, +-Inf or one far outside the classes must not reach the
      // float-to-integer conversion (undefined behaviour); it counts as skipped below.
      if (c == 1)
        label = std::isnan(lf) ? -1 : (lf > 0.5f ? 1 : 0);
      else
        label = lf > -1.0f && lf < static_cast<float>(cc) ? static_cast<int64_t>(lf) : -1;
    }
    const float* row = scores + i * c;
    int64_t pred = 0;
    if (c == 1) {
      pred = row[0] > threshold ? 1 : 0;
    } else {
      float best = row[0];
      for (int64_t j = 1; j < c; ++j)
        if (row[j] > best || (std::isnan(row[j]) && !std::isnan(best))) best = row[j], pred = j;
    }
    if (label < 0 || label >= cc) {
      *skipped += 1;
      continue;
    }
    matrix[label * cc + pred] += 1;
  }
}

void top_k_update(const float* scores, int64_t n, int64_t c, const int32_t* labels, int64_t k,
                  double* counts) {
  for (int64_t i = 0; i < n; ++i) {
    const int32_t y = labels[i];
    if (y < 0 || y >= c) continue;
    const float* row = scores + i * c;
    const float target = row[y];
    // The label is in the top k when fewer than k scores beat it (ties favour the label).
    int64_t better = 0;
    for (int64_t j = 0; j < c && better < k; ++j) better += row[j] > target ? 1 : 0;
    counts[0] += better < k ? 1 : 0;
    counts[1] += 1;
  }
}

void regression_update(const float* pred, const float* target, int64_t n, double* stats) {
  double sq = 0, ab = 0, st = 0, st2 = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = double(pred[i]) - target[i];
    sq += d * d;
    ab += std::fabs(d);
    st += target[i];
    st2 += double(target[i]) * target[i];
  }
  stats[0] += double(n);
  stats[1] += sq;
  stats[2] += ab;
  stats[3] += st;
  stats[4] += st2;
}

}  // namespace axon
