// Embedding lookups over token sequences, forward next to backward, and the sequence lengths a
// padded token batch implies (compiled once: row copies and row sums the compiler vectorises).
//   embedding_forward:  out (rows*steps, dim) = weight[tokens], batch- or time-major
//   embedding_backward: dweight (vocab, dim) += rows of dout at their tokens (not padding_idx)
//   embedding_renorm:   rows of weight used by tokens rescaled to norm <= max_norm
//   sequence_lengths:   lengths (rows) = 1 + position of the last token != pad in each row
//   sequence_pool:      out (batch, dim) = last valid step or mean over valid steps
// Tokens are checked by the caller (the binding checks them when the op runs).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "axon/kernels.h"
#include "axon/thread_pool.h"

namespace axon {

namespace {
// Output row of token (r, t): time-major puts step t's batch rows together.
inline int64_t out_row(int64_t r, int64_t t, int64_t rows, int64_t steps, bool time_major) {
  return time_major ? t * rows + r : r * steps + t;
}
}  // namespace

void embedding_forward(const float* weight, int64_t vocab, int64_t dim, const int32_t* tokens,
                       int64_t rows, int64_t steps, bool time_major, float* out) {
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(dim * steps, 1));
  parallel_range(rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r)
      for (int64_t t = 0; t < steps; ++t) {
        const int64_t tok = tokens[r * steps + t];
        float* dst = out + out_row(r, t, rows, steps, time_major) * dim;
        if (tok < 0 || tok >= vocab)
          std::memset(dst, 0, sizeof(float) * dim);
        else
          std::memcpy(dst, weight + tok * dim, sizeof(float) * dim);
      }
  });
}

void embedding_backward(const float* dout, int64_t dim, const int32_t* tokens, int64_t rows,
                        int64_t steps, bool time_major, int64_t padding_idx, int64_t vocab,
                        float* dweight) {
  // Threads split the embedding columns, each scanning every token: a token repeated in the
  // batch accumulates without races, in the same order for any thread count.
  const int64_t grain = std::max<int64_t>(16, 4096 / std::max<int64_t>(rows * steps, 1));
  parallel_range(dim, grain, [&](int64_t c0, int64_t c1) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t t = 0; t < steps; ++t) {
        const int64_t tok = tokens[r * steps + t];
        if (tok == padding_idx || tok < 0 || tok >= vocab) continue;
        const float* src = dout + out_row(r, t, rows, steps, time_major) * dim;
        float* dst = dweight + tok * dim;
        for (int64_t c = c0; c < c1; ++c) dst[c] += src[c];
      }
  });
}

void embedding_renorm(float* weight, int64_t vocab, int64_t dim, const int32_t* tokens, int64_t n,
                      float max_norm, float norm_type) {
  // Each distinct row once (as torch.embedding_renorm_), in token order.
  std::vector<int32_t> seen(tokens, tokens + n);
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  for (int32_t tok : seen) {
    if (tok < 0 || tok >= vocab) continue;
    float* row = weight + int64_t{tok} * dim;
    double norm = 0;
    if (norm_type == 1.0f) {
      for (int64_t c = 0; c < dim; ++c) norm += std::fabs(row[c]);
    } else if (norm_type == 2.0f) {
      for (int64_t c = 0; c < dim; ++c) norm += double(row[c]) * row[c];
      norm = std::sqrt(norm);
    } else if (std::isinf(norm_type)) {
      for (int64_t c = 0; c < dim; ++c) norm = std::max(norm, double(std::fabs(row[c])));
    } else {
      for (int64_t c = 0; c < dim; ++c) norm += std::pow(std::fabs(double(row[c])), norm_type);
      norm = std::pow(norm, 1.0 / norm_type);
    }
    if (norm > max_norm) {
      const float scale = static_cast<float>(max_norm / (norm + 1e-7));
      for (int64_t c = 0; c < dim; ++c) row[c] *= scale;
    }
  }
}

void sequence_lengths(const int32_t* tokens, int64_t rows, int64_t steps, int32_t pad,
                      int32_t* lengths) {
  for (int64_t r = 0; r < rows; ++r) {
    int64_t len = steps;
    while (len > 0 && tokens[r * steps + len - 1] == pad) --len;
    lengths[r] = static_cast<int32_t>(len);
  }
}

void sequence_pool_forward(const float* x, int64_t steps, int64_t batch, int64_t dim,
                           bool time_major, SequencePool mode, const int32_t* lengths, float* out) {
  parallel_range(
      batch, std::max<int64_t>(1, 4096 / std::max<int64_t>(dim * steps, 1)),
      [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          // Clamped: the caller checked the lengths, but JS may change them during an async call.
          const int64_t len = lengths ? std::clamp<int64_t>(lengths[r], 0, steps) : steps;
          float* o = out + r * dim;
          auto at = [&](int64_t t) { return x + out_row(r, t, batch, steps, time_major) * dim; };
          if (mode == SequencePool::Last) {
            if (len == 0)
              std::memset(o, 0, sizeof(float) * dim);
            else
              std::memcpy(o, at(len - 1), sizeof(float) * dim);
            continue;
          }
          std::memset(o, 0, sizeof(float) * dim);
          for (int64_t t = 0; t < len; ++t) {
            const float* v = at(t);
            for (int64_t c = 0; c < dim; ++c) o[c] += v[c];
          }
          const float inv = len > 0 ? 1.0f / static_cast<float>(len) : 0.0f;
          for (int64_t c = 0; c < dim; ++c) o[c] *= inv;
        }
      });
}

void sequence_pool_backward(const float* dout, int64_t steps, int64_t batch, int64_t dim,
                            bool time_major, SequencePool mode, const int32_t* lengths, float* dx) {
  parallel_range(
      batch, std::max<int64_t>(1, 4096 / std::max<int64_t>(dim * steps, 1)),
      [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          // Clamped: the caller checked the lengths, but JS may change them during an async call.
          const int64_t len = lengths ? std::clamp<int64_t>(lengths[r], 0, steps) : steps;
          const float* g = dout + r * dim;
          auto at = [&](int64_t t) { return dx + out_row(r, t, batch, steps, time_major) * dim; };
          if (mode == SequencePool::Last) {
            if (len > 0) {
              float* d = at(len - 1);
              for (int64_t c = 0; c < dim; ++c) d[c] += g[c];
            }
            continue;
          }
          const float inv = len > 0 ? 1.0f / static_cast<float>(len) : 0.0f;
          for (int64_t t = 0; t < len; ++t) {
            float* d = at(t);
            for (int64_t c = 0; c < dim; ++c) d[c] += g[c] * inv;
          }
        }
      });
}

}  // namespace axon
