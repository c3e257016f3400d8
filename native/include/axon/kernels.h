// axon kernels: the C++ API every caller (binding, native tests, benchmarks) uses.
//
// Each function validates nothing (callers check shapes and lengths; the N-API binding
// does so for JS), dispatches to the SIMD level chosen at load (axon/runtime.h) and
// spreads large work over the shared thread pool. Row-major everywhere. Backward kernels
// ACCUMULATE into their gradient outputs (dx += ...), llm.c-style; zero them first when a
// fresh gradient is wanted. The naive twins in axon/ref.h are the oracles.
//
// This header defines the types the kernels take. The functions are declared from one list,
// axon/kernel_decls.h, where each has its doc comment: the same entry also declares its
// axon::ref twin and its per-ISA table entry when it has them, so every kernel signature is
// written once.
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

// `batch` independent GEMMs; operand i starts at a + i*stride_a (likewise b, c, and bias
// when bias_stride != 0).
struct GemmBatchedArgs {
  GemmArgs gemm;
  int64_t batch = 0;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0, stride_bias = 0;
};

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
// Which algorithm the convolutions use. Auto picks per shape (conv.cpp's header says how and
// why); the others force one wherever the geometry allows it (elsewhere Auto's choice stands),
// for tests and side-by-side benchmarks. Process-wide; AXON_CONV_ALGO=auto|gemm|winograd sets
// the starting value.
enum class ConvAlgorithm { Auto, ImplicitGemm, Winograd };

// ---------------------------------------------------------------------------------------
// Pooling over (N*C) planes of H x W. Output size per axis:
// floor-or-ceil((in + pad_a + pad_b - dil (k - 1) - 1) / stride) + 1; with ceil_mode a last
// window must start inside the input or the left padding (PyTorch's rule). Each side's padding
// may reach the dilated window's extent - 1 (ONNX's pads; PyTorch's layers allow half the
// kernel), so windows may start or end deep in the padding, but each holds an input element.
// ---------------------------------------------------------------------------------------
struct PoolGeometry {
  int64_t planes = 0, h = 0, w = 0;  // N*C planes of H x W
  int64_t kh = 1, kw = 1, stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dil_h = 1, dil_w = 1;
  int64_t out_h = 0, out_w = 0;   // computed by the caller (pool_output_size)
  bool count_include_pad = true;  // average pooling: divide by the window incl. padding
};

// ---------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------
// Batch norm over x viewed as (N, C, S) (S = H*W, or 1 for (N, C) inputs); training: batch
// statistics, else the running ones (batch_norm_forward says how).
struct BatchNormArgs {
  int64_t n = 0, c = 0, s = 1;
  float eps = 1e-5f, momentum = 0.1f;
  bool training = true;
  bool relu = false;  // a relu after the norm (and the residual add), fused
  // Cross-replica batch norm (SyncBatchNorm): when not null (training only), the statistics
  // come from these sums instead of this call's batch: batch_norm_stats' layout for the
  // forward, batch_norm_grad_stats' for the backward, summed over every replica's batch.
  const double* stats = nullptr;
};

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

// ---------------------------------------------------------------------------------------
// Embeddings and token sequences (the layouts: kernel_decls.h)
// ---------------------------------------------------------------------------------------
// What sequence_pool_forward keeps of the valid steps: the last one, or their mean.
enum class SequencePool : uint8_t { Last = 0, Mean, Count };

// ---------------------------------------------------------------------------------------
// Optimizers: each step's hyperparameters (the formulas: kernel_decls.h)
// ---------------------------------------------------------------------------------------
struct SgdConfig {
  float lr = 0.01f, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
  bool first_step = true;  // momentum buffer starts as the gradient itself
};

struct AdamConfig {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0;
  bool decoupled = false;  // AdamW: p *= 1 - lr wd, instead of g += wd p
  bool amsgrad = false, maximize = false;
  int64_t step = 1;  // this update's step number (1-based), for bias correction
};

struct RmspropConfig {
  float lr = 0.01f, alpha = 0.99f, eps = 1e-8f, weight_decay = 0, momentum = 0;
  bool centered = false, maximize = false;
};

struct AdagradConfig {
  float lr = 0.01f;  // already decayed: lr / (1 + (step - 1) lr_decay)
  float eps = 1e-10f, weight_decay = 0;
  bool maximize = false;
};

// ---------------------------------------------------------------------------------------
// Losses
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

// ---------------------------------------------------------------------------------------
// Scaled dot-product attention (attention.cpp): batch*heads independent heads, each with q
// (lq, d), k (lk, d), v (lk, dv) and the output (lq, dv), contiguous per head (head bh starts
// at bh*lq*d, bh*lk*d, bh*lk*dv, bh*lq*dv; bh = b*heads + h). Weights are
// softmax_j(scale * q_i.k_j + mask(b,h,i,j)), key j hidden from query i when causal and j > i
// (top-left aligned, PyTorch's is_causal). A query that sees no key (every key masked with
// -inf, or lk == 0) gets a zero output and zero gradients, not NaN.
// ---------------------------------------------------------------------------------------
struct AttentionArgs {
  int64_t batch = 0, heads = 0, lq = 0, lk = 0, d = 0, dv = 0;
  float scale = 1.0f;
  bool causal = false;
  // Additive mask or null: element (b, h, i, j) at
  // b*mask_stride_b + h*mask_stride_h + i*mask_stride_q + j (a zero stride broadcasts).
  const float* mask = nullptr;
  int64_t mask_stride_b = 0, mask_stride_h = 0, mask_stride_q = 0;
  // Dropout of the attention weights: weight (bh, i, j) is kept, scaled by 1/(1-dropout), when
  // dropout_keep(mix64(seed), (bh*lq + i)*lk + j) (axon/random_hash.h): the backward draws the
  // same decisions from the same seed instead of storing a mask.
  float dropout = 0.0f;
  uint64_t seed = 0;
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
};

// ---------------------------------------------------------------------------------------
// Reduced-precision inference (lowp_gemm.cpp): y (m, n) = x (m, k) W^T (W (n, k), a Linear's
// weight) with W converted once into a packed form.
//  - bf16: x and W rounded to bfloat16 (nearest even), products summed in float32
//    (AVX512-BF16 vdpbf16ps). Packed: panels of 32 output columns, each k-pair of a column one
//    32-bit word (ceil(n/32)*32 * ceil(k/2) words).
//  - int8: W per output channel, x per row, scaled to [-127, 127] and rounded; products summed
//    exactly in int32 (AVX512-VNNI vpdpbusd on x + 128, corrected by 128 * the column sums)
//    and rescaled. Packed: panels of 16 columns, each 4 consecutive k one word.
// Without those instructions the same rounding is kept and the products run through the
// float32 GEMM (weights unpacked per call): slower, numerically the same method.
// ---------------------------------------------------------------------------------------
enum class LowpFormat : uint8_t { Bf16 = 0, Int8 = 1 };
struct LowpWeights {
  LowpFormat format = LowpFormat::Bf16;
  int64_t n = 0, k = 0;
  const int32_t* packed = nullptr;
  const float* scales = nullptr;    // int8: n weight scales
  const int32_t* colsum = nullptr;  // int8: n sums of each column's quantised weights
};

// ---------------------------------------------------------------------------------------
// The kernels: one declaration per entry of axon/kernel_decls.h marked API.
// ---------------------------------------------------------------------------------------
#define AXON_KERNEL(name, ret, params, api, ref, isa) AXON_IF_API_##api(ret name params;)
#include "axon/kernel_decls.h"
#undef AXON_KERNEL

}  // namespace axon
