// axon kernels: the C++ API every caller (binding, native tests, benchmarks) uses.
//
// Each function validates nothing (callers check shapes and lengths; the N-API binding
// does so for JS), dispatches to the SIMD level chosen at load (axon/runtime.h) and
// spreads large work over the shared thread pool. Row-major everywhere. Backward kernels
// ACCUMULATE into their gradient outputs (dx += ...), llm.c-style; zero them first when a
// fresh gradient is wanted. The *_naive twins in axon/ref.h are the oracles.
#pragma once

#include <cstdint>

#include "axon/ops.h"

namespace axon {

inline constexpr int kMaxDims = 8;

struct Shape {
  int ndim = 0;
  int64_t dims[kMaxDims] = {};
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= dims[i];
    return n;
  }
};

// ---------------------------------------------------------------------------------------
// GEMM: C = act(alpha * op(A) op(B) + beta * C + bias)
// ---------------------------------------------------------------------------------------
enum class Trans : uint8_t { No = 0, Yes = 1 };
enum class BiasMode : uint8_t {
  None = 0,
  PerColumn = 1,  // bias[N] added to every row (a dense layer's bias)
  PerRow = 2,     // bias[M] added to every column (a convolution's per-channel bias)
};

struct GemmArgs {
  Trans trans_a = Trans::No, trans_b = Trans::No;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f;
  const float* a = nullptr;  // op(A) is (M,K): A is (M,K) with lda >= K, or (K,M) with lda >= M
  int64_t lda = 0;
  const float* b = nullptr;  // op(B) is (K,N): B is (K,N) with ldb >= N, or (N,K) with ldb >= K
  int64_t ldb = 0;
  float beta = 0.0f;   // beta == 0: C is write-only (NaN in C is ignored, as in BLAS)
  float* c = nullptr;  // (M,N), ldc >= N
  int64_t ldc = 0;
  // Epilogue, fused into the store of each output tile.
  BiasMode bias_mode = BiasMode::None;
  const float* bias = nullptr;
  UnaryOp activation = UnaryOp::Identity;
  float activation_param = 0.0f;
  // Optional: op(B) already packed by gemm_pack_b (same k, n, ISA). Products that reuse one
  // B with many A (a recurrent layer's W_hh, once per time step) then skip packing it each
  // time. b must still point at B (small-M products read it in place).
  const float* packed_b = nullptr;
};

// Fast path: packed, cache-blocked, threaded, ISA microkernels.
void gemm(const GemmArgs& args);
// Floats gemm_pack_b writes for op(B) of k x n, on the SIMD level in use.
int64_t gemm_packed_b_size(int64_t k, int64_t n);
// Packs op(B) of g (b, ldb, trans_b, k, n) for GemmArgs::packed_b; packed must be 64-byte
// aligned (the microkernels load B panels with aligned loads).
void gemm_pack_b(const GemmArgs& g, float* packed);

// `batch` independent GEMMs; operand i starts at a + i*stride_a (likewise b, c, and bias
// when bias_stride != 0). Threaded over the batch when the matrices are small.
struct GemmBatchedArgs {
  GemmArgs gemm;
  int64_t batch = 0;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0, stride_bias = 0;
};
void gemm_batched(const GemmBatchedArgs& args);

// ---------------------------------------------------------------------------------------
// Convolution, NCHW, weights (Cout, Cin/groups, kH, kW) as PyTorch. Conv1d is H = kH = 1;
// ConvTranspose2d is conv2d_backward_data (its weight (Cin_t, Cout_t/groups, kH, kW) is the
// conv weight of the mirrored convolution).
// ---------------------------------------------------------------------------------------
struct ConvGeometry {
  int64_t n = 0, c_in = 0, h = 0, w = 0;  // input (N, Cin, H, W)
  int64_t c_out = 0, kh = 1, kw = 1;      // weight (Cout, Cin/groups, kH, kW)
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dil_h = 1, dil_w = 1;
  int64_t groups = 1;
  int64_t out_h() const { return (h + pad_top + pad_bottom - dil_h * (kh - 1) - 1) / stride_h + 1; }
  int64_t out_w() const { return (w + pad_left + pad_right - dil_w * (kw - 1) - 1) / stride_w + 1; }
};
// y (N, Cout, OH, OW) = act(conv(x, w) + bias[co]); bias may be null.
void conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    UnaryOp act, float act_param, float* y);
// dx (N, Cin, H, W) += the gradient of conv2d_forward's pre-activation output dy.
void conv2d_backward_data(const ConvGeometry& g, const float* dy, const float* w, float* dx);
// Which algorithm the convolutions use. Auto picks per shape (conv.cpp's header says how and
// why); the others force one wherever the geometry allows it (elsewhere Auto's choice stands),
// for tests and side-by-side benchmarks. Process-wide; AXON_CONV_ALGO=auto|gemm|winograd sets
// the starting value.
enum class ConvAlgorithm { Auto, ImplicitGemm, Winograd };
void set_conv_algorithm(ConvAlgorithm algorithm);
ConvAlgorithm conv_algorithm();
// The algorithm conv2d_forward runs for g under the current setting: "direct",
// "implicit-gemm", "winograd-f4x4-3x3" or "winograd-f2x2-5x5".
const char* conv2d_forward_algorithm(const ConvGeometry& g);
// dw (Cout, Cin/groups, kH, kW) += sum over the batch of dy (x) x; db (Cout) += sum of dy over
// batch and pixels (db may be null).
void conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                            float* db);

// ---------------------------------------------------------------------------------------
// Pooling over (N*C) planes of H x W. Output size per axis:
// floor-or-ceil((in + pad_a + pad_b - dil (k - 1) - 1) / stride) + 1; with ceil_mode a last
// window must start inside the input or the left padding (PyTorch's rule).
// ---------------------------------------------------------------------------------------
struct PoolGeometry {
  int64_t planes = 0, h = 0, w = 0;  // N*C planes of H x W
  int64_t kh = 1, kw = 1, stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dil_h = 1, dil_w = 1;
  int64_t out_h = 0, out_w = 0;   // computed by the caller (pool_output_size)
  bool count_include_pad = true;  // average pooling: divide by the window incl. padding
};
int64_t pool_output_size(int64_t in, int64_t k, int64_t stride, int64_t pad_a, int64_t pad_b,
                         int64_t dil, bool ceil_mode);
// y = window max; index = argmax position within its input plane (h * W + w); NaN wins.
void max_pool2d_forward(const PoolGeometry& g, const float* x, float* y, int32_t* index);
// dx[plane, index] += dy; with overwrite, dx = that scatter (each plane zeroed first, while it
// is in cache, which saves the caller a pass zeroing a fresh buffer). relu_mask (may be null):
// the pooled output y when the input was a relu's output; dy is dropped where y is not > 0,
// which is the relu's gradient there, so the relu's own backward pass can be skipped.
// Returns false when an index lies outside its plane (then dx is unspecified; nothing outside
// it is written).
bool max_pool2d_backward(const PoolGeometry& g, const int32_t* index, const float* dy, float* dx,
                         bool overwrite = false, const float* relu_mask = nullptr);
void avg_pool2d_forward(const PoolGeometry& g, const float* x, float* y);
void avg_pool2d_backward(const PoolGeometry& g, const float* dy, float* dx);
// Adaptive average pooling to (out_h, out_w): window i spans [floor(i H / OH), ceil((i+1) H / OH)).
void adaptive_avg_pool2d_forward(int64_t planes, int64_t h, int64_t w, int64_t out_h, int64_t out_w,
                                 const float* x, float* y);
void adaptive_avg_pool2d_backward(int64_t planes, int64_t h, int64_t w, int64_t out_h,
                                  int64_t out_w, const float* dy, float* dx);

// ---------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------
// Batch norm over x viewed as (N, C, S) (S = H*W, or 1 for (N, C) inputs). Training: per
// channel batch mean and biased variance; mean and invstd = 1/sqrt(var + eps) are saved for
// the backward; running stats (if non-null) become (1 - m) running + m batch, the variance
// unbiased (n/(n-1)) as PyTorch. Eval (training false): the running stats normalise.
// gamma/beta may be null (affine false).
struct BatchNormArgs {
  int64_t n = 0, c = 0, s = 1;
  float eps = 1e-5f, momentum = 0.1f;
  bool training = true;
};
void batch_norm_forward(const BatchNormArgs& a, const float* x, const float* gamma,
                        const float* beta, float* running_mean, float* running_var, float* y,
                        float* save_mean, float* save_invstd);
// dx += ..., dgamma += sum dy xhat, dbeta += sum dy (any of dx, dgamma, dbeta may be null).
// Training: the batch statistics' gradient is included; eval: dx = dy gamma invstd.
void batch_norm_backward(const BatchNormArgs& a, const float* x, const float* dy,
                         const float* gamma, const float* save_mean, const float* save_invstd,
                         float* dx, float* dgamma, float* dbeta);
// Layer norm over the last d values of each of `rows` rows; gamma/beta (d) may be null.
void layer_norm_forward(int64_t rows, int64_t d, float eps, const float* x, const float* gamma,
                        const float* beta, float* y, float* save_mean, float* save_invstd);
void layer_norm_backward(int64_t rows, int64_t d, const float* x, const float* dy,
                         const float* gamma, const float* save_mean, const float* save_invstd,
                         float* dx, float* dgamma, float* dbeta);

// ---------------------------------------------------------------------------------------
// Recurrent layers (one layer, one direction) over a time-major sequence x (steps, batch,
// input). Weights as PyTorch: w_ih (G*hidden, input), w_hh (G*hidden, hidden), biases
// (G*hidden) or null, G = 4 (LSTM i,f,g,o), 3 (GRU r,z,n), 1 (tanh/relu RNN). lengths (batch)
// or null: row r runs steps [0, lengths[r]); past it its state is kept and its output is 0.
// reverse processes t = steps-1 .. 0 (the backward direction of a bidirectional layer).
// ---------------------------------------------------------------------------------------
enum class RnnMode : uint8_t { Lstm = 0, Gru, RnnTanh, RnnRelu, Count };
struct RnnArgs {
  RnnMode mode = RnnMode::Lstm;
  int64_t steps = 0, batch = 0, input = 0, hidden = 0;
  bool reverse = false;
};
int64_t rnn_gate_count(RnnMode mode);
// Floats of the workspace the forward fills and the backward reads.
int64_t rnn_workspace_size(const RnnArgs& a);
// Floats of scratch the backward needs.
int64_t rnn_scratch_size(const RnnArgs& a);
// y (steps, batch, hidden); hn, cn (batch, hidden) the final states (cn: LSTM only, else
// unused); h0/c0 initial states or null for zeros.
void rnn_forward(const RnnArgs& a, const float* x, const float* w_ih, const float* w_hh,
                 const float* b_ih, const float* b_hh, const float* h0, const float* c0,
                 const int32_t* lengths, float* y, float* hn, float* cn, float* workspace);
// Gradients for upstream dy (or null), dhn, dcn (or null): dx, dw_*, db_* are accumulated
// (+=; any may be null); dh0, dc0 are written (or null).
void rnn_backward(const RnnArgs& a, const float* x, const float* w_ih, const float* w_hh,
                  const int32_t* lengths, const float* workspace, const float* dy, const float* dhn,
                  const float* dcn, float* dx, float* dw_ih, float* dw_hh, float* db_ih,
                  float* db_hh, float* dh0, float* dc0, float* scratch);

// ---------------------------------------------------------------------------------------
// Embeddings over token sequences tokens (rows, steps), every token in [0, vocab) (checked by
// the caller). Output row of token (r, t): r*steps + t (batch-major) or t*rows + r
// (time_major, what the recurrent kernels read).
// ---------------------------------------------------------------------------------------
// The kernels re-check each token against vocab as they read it (a token changed after the
// caller's check, e.g. by JS during an async call, must not index out of bounds): an
// out-of-range token reads as a zero vector and contributes no gradient.
// out (rows*steps, dim) = weight (vocab, dim) rows of the tokens.
void embedding_forward(const float* weight, int64_t vocab, int64_t dim, const int32_t* tokens,
                       int64_t rows, int64_t steps, bool time_major, float* out);
// dweight (vocab, dim) += dout rows at their tokens; tokens equal to padding_idx (or none when
// it is -1) contribute nothing.
void embedding_backward(const float* dout, int64_t dim, const int32_t* tokens, int64_t rows,
                        int64_t steps, bool time_major, int64_t padding_idx, int64_t vocab,
                        float* dweight);
// Rows of weight named by the n tokens whose norm_type-norm exceeds max_norm are scaled to
// max_norm (in place, as torch.embedding_renorm_).
void embedding_renorm(float* weight, int64_t vocab, int64_t dim, const int32_t* tokens, int64_t n,
                      float max_norm, float norm_type);
// lengths[r] = 1 + the position of the last token != pad in row r (0 for an all-pad row):
// the valid length of post-padded sequences.
void sequence_lengths(const int32_t* tokens, int64_t rows, int64_t steps, int32_t pad,
                      int32_t* lengths);
// Pools a sequence x (steps, batch, dim) (time_major) or (batch, steps, dim) over its valid
// steps [0, lengths[r]) (all when lengths is null): the last valid step, or their mean. A row
// of length 0 gives zeros. Backward: dx += the gradient routed back to the pooled steps.
enum class SequencePool : uint8_t { Last = 0, Mean, Count };
void sequence_pool_forward(const float* x, int64_t steps, int64_t batch, int64_t dim,
                           bool time_major, SequencePool mode, const int32_t* lengths, float* out);
void sequence_pool_backward(const float* dout, int64_t steps, int64_t batch, int64_t dim,
                            bool time_major, SequencePool mode, const int32_t* lengths, float* dx);

// ---------------------------------------------------------------------------------------
// Elementwise
// ---------------------------------------------------------------------------------------
// y[i] = f(x[i]); x may equal y.
void unary_forward(UnaryOp op, const float* x, float* y, int64_t n, float param);
// dx[i] += dy[i] * f'(x[i]); y = f(x) is the forward output (sigmoid, tanh, exp... use it).
// With overwrite, dx[i] = dy[i] * f'(x[i]) (zeroed a cache-sized piece at a time first).
void unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx,
                    int64_t n, float param, bool overwrite = false);

// out = a (op) b with NumPy broadcasting. Shapes must have the same rank (pad with leading
// 1s); each a/b dim equals the out dim or is 1.
void binary_forward(BinaryOp op, const float* a, const Shape& a_shape, const float* b,
                    const Shape& b_shape, float* out, const Shape& out_shape);
// y[i] = x[i] (op) s, or s (op) x[i] when scalar_first.
void binary_scalar(BinaryOp op, const float* x, float s, bool scalar_first, float* y, int64_t n);
// Same-shape backward: da[i] += dy[i] * d(a op b)/da, db[i] += dy[i] * d(a op b)/db; either
// of da, db may be null. y is the forward output. Broadcast inputs: compute the full-shape
// gradient, then sum_to_shape.
void binary_backward(BinaryOp op, const float* a, const float* b, const float* y, const float* dy,
                     float* da, float* db, int64_t n);

// ---------------------------------------------------------------------------------------
// Reductions over the middle axis of x viewed as (outer, r, inner) -> out (outer, inner)
// ---------------------------------------------------------------------------------------
// Max/Min propagate NaN. r == 0: Sum gives 0, Mean NaN, Max -inf, Min +inf.
void reduce(ReduceOp op, const float* x, float* out, int64_t outer, int64_t r, int64_t inner);
// Index (0..r-1) of the first max/min; NaN counts as the max (and the min), as PyTorch.
void arg_reduce(ArgReduceOp op, const float* x, int32_t* out, int64_t outer, int64_t r,
                int64_t inner);
// dx (outer, r, inner) += gradient of reduce; y = reduce output. Max/Min send each output's
// gradient to the first element equal to it (the arg_reduce index).
void reduce_backward(ReduceOp op, const float* x, const float* y, const float* dy, float* dx,
                     int64_t outer, int64_t r, int64_t inner);
// out (out_shape) = x (in_shape) summed over the axes where out_shape has 1 and in_shape not.
// Same rank. This is the gradient of broadcasting.
void sum_to_shape(const float* x, const Shape& in_shape, float* out, const Shape& out_shape);

// ---------------------------------------------------------------------------------------
// Softmax / log-softmax over the middle axis of (outer, r, inner); max-subtracted, so
// softmax([1000, 1001]) is finite.
// ---------------------------------------------------------------------------------------
void softmax_forward(const float* x, float* y, int64_t outer, int64_t r, int64_t inner, bool log);
// dx += softmax: y * (dy - sum(dy * y)); log-softmax: dy - exp(y) * sum(dy).
void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t r,
                      int64_t inner, bool log);

// ---------------------------------------------------------------------------------------
// Layout (any 4-byte element: float32 or int32)
// ---------------------------------------------------------------------------------------
// out = x permuted: out.shape[i] = shape[perm[i]].
void permute(const void* x, const Shape& shape, const int* perm, void* out);
// Concatenates `count` inputs along an axis. Input i is viewed as (outer, sizes[i]) where
// sizes[i] = its axis length * inner; out is (outer, sum of sizes).
void concat(const void* const* xs, const int64_t* sizes, int count, int64_t outer, void* out);
// out[i0, i1, ...] = x[start0 + i0*step0, ...]; steps may be negative; out_shape gives the
// result size per axis. Caller guarantees every index is in range.
void slice_copy(const void* x, const Shape& shape, const int64_t* start, const int64_t* step,
                const Shape& out_shape, void* out);
// dx[start + i*step] += dy[i] (float only): the gradient of slice_copy.
void slice_backward(const float* dy, const Shape& out_shape, const int64_t* start,
                    const int64_t* step, const Shape& shape, float* dx);

// ---------------------------------------------------------------------------------------
// Optimizers: one fused pass per parameter tensor, formulas as torch.optim documents them.
// p: param (n), g: grad (n); state buffers (n) are updated in place. `maximize` negates g.
// ---------------------------------------------------------------------------------------
struct SgdConfig {
  float lr = 0.01f, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
  bool first_step = true;  // momentum buffer starts as the gradient itself
};
// g' = g + wd p; buf = first ? g' : momentum buf + (1 - dampening) g';
// d = nesterov ? g' + momentum buf : buf (or g' without momentum); p -= lr d.
void sgd_step(float* p, const float* g, float* momentum_buf, int64_t n, const SgdConfig& c);

struct AdamConfig {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0;
  bool decoupled = false;  // AdamW: p *= 1 - lr wd, instead of g += wd p
  bool amsgrad = false, maximize = false;
  int64_t step = 1;  // this update's step number (1-based), for bias correction
};
// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; vmax = max(vmax, v) with amsgrad;
// p -= lr / (1 - b1^t) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)
void adam_step(float* p, const float* g, float* m, float* v, float* vmax, int64_t n,
               const AdamConfig& c);

struct RmspropConfig {
  float lr = 0.01f, alpha = 0.99f, eps = 1e-8f, weight_decay = 0, momentum = 0;
  bool centered = false, maximize = false;
};
// sq = a sq + (1-a) g^2; avg = sqrt(sq - ga^2 (centered, ga = a ga + (1-a) g)) + eps;
// momentum: buf = mu buf + g / avg, p -= lr buf; else p -= lr g / avg
void rmsprop_step(float* p, const float* g, float* square_avg, float* grad_avg, float* buf,
                  int64_t n, const RmspropConfig& c);

struct AdagradConfig {
  float lr = 0.01f;  // already decayed: lr / (1 + (step - 1) lr_decay)
  float eps = 1e-10f, weight_decay = 0;
  bool maximize = false;
};
// sum += g^2; p -= lr g / (sqrt(sum) + eps)
void adagrad_step(float* p, const float* g, float* sum, int64_t n, const AdagradConfig& c);

// Sum of squares of x (n), accumulated in double (gradient-norm clipping).
double sum_squares(const float* x, int64_t n);

// Clips the global norm of count gradients in place (PyTorch clip_grad_norm_); grads[i] has
// sizes[i] floats. norm_type 2: sqrt of the double sum, in tensor order, of each tensor's
// sum_squares; +inf: the largest |g| (NaNs skipped). When scale = max_norm / (norm + 1e-6) is
// below 1, every gradient is multiplied by float(scale). Returns the norm before clipping.
double clip_grad_norm(float* const* grads, const int64_t* sizes, int64_t count, double max_norm,
                      double norm_type);

// ---------------------------------------------------------------------------------------
// Losses: fused, numerically stable (log-sum-exp with the max subtracted; finite at +-1e4)
// ---------------------------------------------------------------------------------------
struct CrossEntropyArgs {
  const float* logits = nullptr;  // (n, c)
  int64_t n = 0, c = 0;
  const int32_t* target_index = nullptr;  // (n) class indices, or
  const float* target_prob = nullptr;     // (n, c) probabilities
  const float* class_weight = nullptr;    // (c) or null
  float label_smoothing = 0;
  int32_t ignore_index = -100;  // index targets equal to it contribute nothing
};
// loss (n) per row; norm (n): the row's share of the 'mean' denominator (w[y], 0 if ignored,
// 1 for probability targets); lse (n): log-sum-exp of each row, kept for the backward.
// With t_ic the smoothed, weighted target: loss_i = sum_c t_ic (lse_i - x_ic).
void cross_entropy_forward(const CrossEntropyArgs& a, float* loss, float* norm, float* lse);
// dlogits (n, c) += dloss_i (T_i softmax_ic - t_ic), T_i = sum_c t_ic.
void cross_entropy_backward(const CrossEntropyArgs& a, const float* lse, const float* dloss,
                            float* dlogits);
// The reduced loss of the per-row losses rows (n) from cross_entropy_forward: their double
// sum, divided (mean) by the summed target weights (PyTorch's denominator: w[y] per kept row,
// 0 for ignored rows, 1 per row for probability targets) or not (sum).
float cross_entropy_reduce(const CrossEntropyArgs& a, const float* rows, bool mean);
// drows (n) = dout / that denominator (mean) or dout (sum): the dloss of cross_entropy_backward.
void cross_entropy_reduce_backward(const CrossEntropyArgs& a, float dout, bool mean, float* drows);

// Binary cross-entropy on logits x (n) with targets t (n); pos_weight (c) applies to the
// last axis (element i uses pos_weight[i % c]) or is null:
// loss = (1 - t) x + (1 + (pw - 1) t) log(1 + e^-x)   [computed stably]
void bce_logits_forward(const float* x, const float* t, const float* pos_weight, int64_t c,
                        float* loss, int64_t n);
// dx += dloss ((1 - t) - (1 + (pw - 1) t) sigmoid(-x))
void bce_logits_backward(const float* x, const float* t, const float* pos_weight, int64_t c,
                         const float* dloss, float* dx, int64_t n);
// Binary cross-entropy on probabilities p (n): -(t log p + (1 - t) log(1 - p)), each log
// clamped at -100 as PyTorch does.
void bce_forward(const float* p, const float* t, float* loss, int64_t n);
// dp += dloss (p - t) / max(p (1 - p), 1e-12)
void bce_backward(const float* p, const float* t, const float* dloss, float* dp, int64_t n);

// Image augmentation for a batch x (n, c, h, w) -> y (n, c, oh, ow): sample i is cropped at a
// random offset from x zero-padded by `pad` on every side, then mirrored left-right with
// probability flip_p; offsets and flips come from a counter-based hash of (seed, i), so the
// result does not depend on the thread count. random false: the centre crop, no flip.
void random_crop_flip(const float* x, float* y, int64_t n, int64_t c, int64_t h, int64_t w,
                      int64_t oh, int64_t ow, int64_t pad, float flip_p, bool random,
                      uint64_t seed);

// Inverted dropout: mask[i] = 0 with probability p else 1/(1-p); y = x * mask. The random
// stream is a counter-based hash of (seed, i), so results do not depend on the thread count.
void dropout_forward(const float* x, float* y, float* mask, int64_t n, float p, uint64_t seed);

// ---------------------------------------------------------------------------------------
// Data movement and metric accumulators (training loops)
// ---------------------------------------------------------------------------------------
// x[i] = value (4-byte words: float or int32 bit pattern).
void fill(void* x, int64_t n, uint32_t word);
// dst[i] = src[i]
void copy(const void* src, void* dst, int64_t n);
// dst row r (row_size words) = src row indices[start + r], for r < rows.
void gather_rows(const void* src, int64_t row_size, const int32_t* indices, int64_t start,
                 int64_t rows, void* dst);
// Classification counts: for row i of scores (n, c) (c == 1: a binary probability/logit with
// threshold), predicted = argmax (or score > threshold), matrix[label * c' + predicted] += 1,
// c' = max(c, 2). Labels outside [0, c') are skipped and counted in *skipped.
// label_floats has label_cols values per row: 1 = the class (or a 0/1 target when c == 1),
// c = one-hot or probabilities (the argmax is the label).
void confusion_update(const float* scores, int64_t n, int64_t c, const int32_t* labels,
                      const float* label_floats, int64_t label_cols, float threshold,
                      double* matrix, double* skipped);
// counts += {rows whose label is among the k highest scores, rows}
void top_k_update(const float* scores, int64_t n, int64_t c, const int32_t* labels, int64_t k,
                  double* counts);
// Regression sums over pairs (pred, target): stats += {count, sum (p-t)^2, sum |p-t|, sum t,
// sum t^2}.
void regression_update(const float* pred, const float* target, int64_t n, double* stats);

}  // namespace axon
