// Every kernel signature, written once. One entry per distinct declaration:
//
//   AXON_KERNEL(name, return_type, (parameters), API, REF, ISA)
//
// The last three arguments say where the signature is declared; each is its own name or 0:
//   API  a function of the public kernel API, namespace axon (axon/kernels.h; defined in
//        native/kernels/cpu/, compiled once);
//   REF  a naive twin with exactly this signature, namespace axon::ref (axon/ref.h; defined in
//        native/kernels/ref/);
//   ISA  an entry of the per-ISA kernel table (native/kernels/cpu/kernel_list.h): a
//        KernelTable field and a function of each SIMD level's namespace axon::cpu::<level>.
// So `API, REF, ISA` declares one signature in all three places, `API, 0, 0` only in
// kernels.h, `0, 0, ISA` only in the table (a per-level building block the dispatch layer
// calls). Where the public signature and the twin's/table's differ, each is its own entry
// (unary_backward: the public one has `overwrite`, the twin and the table do not). Default
// arguments only in entries without ISA (a function pointer field cannot have them).
//
// Each includer defines AXON_KERNEL, keeping the entries of its column with the helpers
// below (a flag in the wrong column names no helper and fails to compile), includes this file
// inside its namespace and undefines AXON_KERNEL:
//
//   #define AXON_KERNEL(name, ret, params, api, ref, isa) AXON_IF_API_##api(ret name params;)
//
// The types come from axon/kernels.h. The ISA entries' order is the KernelTable fields'
// order; the table's entries are single-threaded except `gemm`, which blocks and threads
// itself (the dispatch layer threads the others). An X-macro file: deliberately no include
// guard.
#ifndef AXON_KERNEL
#error "define AXON_KERNEL(name, ret, params, api, ref, isa) before including kernel_decls.h"
#endif

#ifndef AXON_IF_API_API
#define AXON_IF_API_API(...) __VA_ARGS__
#define AXON_IF_API_0(...)
#define AXON_IF_REF_REF(...) __VA_ARGS__
#define AXON_IF_REF_0(...)
#define AXON_IF_ISA_ISA(...) __VA_ARGS__
#define AXON_IF_ISA_0(...)
#endif

// ---------------------------------------------------------------------------------------
// GEMM (GemmArgs, GemmBatchedArgs: kernels.h)
// ---------------------------------------------------------------------------------------
// Fast path: packed, cache-blocked, threaded, ISA microkernels.
AXON_KERNEL(gemm, void, (const GemmArgs& args), API, REF, ISA)
// Floats gemm_pack_b writes for op(B) of k x n, on the SIMD level in use.
AXON_KERNEL(gemm_packed_b_size, int64_t, (int64_t k, int64_t n), API, 0, ISA)
// Packs op(B) of g (b, ldb, trans_b, k, n) for GemmArgs::packed_b; packed must be 64-byte
// aligned (the microkernels load B panels with aligned loads).
AXON_KERNEL(gemm_pack_b, void, (const GemmArgs& g, float* packed), API, 0, ISA)
// `batch` independent GEMMs, laid out as GemmBatchedArgs says. Threaded over the batch when
// the matrices are small.
AXON_KERNEL(gemm_batched, void, (const GemmBatchedArgs& args), API, REF, 0)

// ---------------------------------------------------------------------------------------
// Convolution (ConvGeometry, ConvAlgorithm and the layout: kernels.h)
// ---------------------------------------------------------------------------------------
// y (N, Cout, OH, OW) = act(conv(x, w) + bias[co]); bias may be null.
AXON_KERNEL(conv2d_forward, void,
            (const ConvGeometry& g, const float* x, const float* w, const float* bias, UnaryOp act,
             float act_param, float* y),
            API, REF, ISA)
// dx (N, Cin, H, W) += the gradient of conv2d_forward's pre-activation output dy; with
// overwrite, dx = that gradient (dx's old contents are never read, so a fresh buffer needs no
// zero-fill first).
AXON_KERNEL(conv2d_backward_data, void,
            (const ConvGeometry& g, const float* dy, const float* w, float* dx, bool overwrite),
            API, REF, ISA)
// Sets / reads which algorithm the convolutions use (ConvAlgorithm, kernels.h; process-wide).
AXON_KERNEL(set_conv_algorithm, void, (ConvAlgorithm algorithm), API, 0, 0)
AXON_KERNEL(conv_algorithm, ConvAlgorithm, (), API, 0, 0)
// The algorithm conv2d_forward runs for g under the current setting: "direct",
// "implicit-gemm", "winograd-f4x4-3x3" or "winograd-f2x2-5x5".
AXON_KERNEL(conv2d_forward_algorithm, const char*, (const ConvGeometry& g), API, 0, ISA)
// dw (Cout, Cin/groups, kH, kW) += sum over the batch of dy (x) x; db (Cout) += sum of dy over
// batch and pixels (db may be null).
AXON_KERNEL(conv2d_backward_weight, void,
            (const ConvGeometry& g, const float* x, const float* dy, float* dw, float* db), API,
            REF, ISA)

// ---------------------------------------------------------------------------------------
// Pooling over (N*C) planes of H x W (PoolGeometry and the output size rule: kernels.h)
// ---------------------------------------------------------------------------------------
// The output size of one axis (kernels.h's Pooling section gives the rule).
AXON_KERNEL(pool_output_size, int64_t,
            (int64_t in, int64_t k, int64_t stride, int64_t pad_a, int64_t pad_b, int64_t dil,
             bool ceil_mode),
            API, 0, 0)
// y = window max; index = argmax position within its input plane (h * W + w); NaN wins.
// Windows may reach deep into the padding (each side up to the dilated extent - 1), but every
// window must hold at least one input element (the binding checks it).
AXON_KERNEL(max_pool2d_forward, void,
            (const PoolGeometry& g, const float* x, float* y, int32_t* index), API, REF, 0)
// out = max_pool2d_forward's per-plane index made global over the whole input: for output o of
// plane p (= n * C + c), p * H * W + index[o] (row-major, ONNX MaxPool's Indices with
// storage_order 0), or with column_major p * H * W + w * H + h (storage_order 1). Indices must
// lie in their plane and planes * H * W fit int32 (the binding checks both).
AXON_KERNEL(max_pool2d_global_index, void,
            (const PoolGeometry& g, const int32_t* index, bool column_major, int32_t* out), API,
            REF, 0)
// dx[plane, index] += dy; with overwrite, dx = that scatter (each plane zeroed first, while it
// is in cache, which saves the caller a pass zeroing a fresh buffer). relu_mask (may be null):
// the pooled output y when the input was a relu's output; dy is dropped where y is not > 0,
// which is the relu's gradient there, so the relu's own backward pass can be skipped.
// Returns false when an index lies outside its plane (then dx is unspecified; nothing outside
// it is written).
AXON_KERNEL(max_pool2d_backward, bool,
            (const PoolGeometry& g, const int32_t* index, const float* dy, float* dx,
             bool overwrite = false, const float* relu_mask = nullptr),
            API, 0, 0)
// The 2x2 stride-2 max pool of one plane (rows of w floats; windows inside the plane) into
// out/idx (out_h x out_w), at vector width. Returns false when the plane holds a NaN among the
// windows, whose outputs the caller then redoes (native/kernels/cpu/pool_plane.cpp).
AXON_KERNEL(max_pool_2x2_plane, bool,
            (const float* in, int64_t w, int64_t out_h, int64_t out_w, float* out, int32_t* idx), 0,
            0, ISA)
// Its gradient on one plane, written whole (overwrite): dx (h x w) = dy at each window's
// index, else zero (only where relu_mask > 0 when relu_mask is not null). Returns false, having
// written garbage, when some index lies outside its window: the caller then scatters.
AXON_KERNEL(max_pool_2x2_backward_plane, bool,
            (const int32_t* idx, const float* dy, const float* relu_mask, int64_t h, int64_t w,
             int64_t out_h, int64_t out_w, float* dx),
            0, 0, ISA)
AXON_KERNEL(avg_pool2d_forward, void, (const PoolGeometry& g, const float* x, float* y), API, REF,
            0)
AXON_KERNEL(avg_pool2d_backward, void, (const PoolGeometry& g, const float* dy, float* dx), API, 0,
            0)
// Adaptive average pooling to (out_h, out_w): window i spans [floor(i H / OH), ceil((i+1) H / OH)).
AXON_KERNEL(adaptive_avg_pool2d_forward, void,
            (int64_t planes, int64_t h, int64_t w, int64_t out_h, int64_t out_w, const float* x,
             float* y),
            API, 0, 0)
AXON_KERNEL(adaptive_avg_pool2d_backward, void,
            (int64_t planes, int64_t h, int64_t w, int64_t out_h, int64_t out_w, const float* dy,
             float* dx),
            API, 0, 0)

// ---------------------------------------------------------------------------------------
// Normalisation (BatchNormArgs: kernels.h)
// ---------------------------------------------------------------------------------------
// Batch norm over x viewed as (N, C, S) (S = H*W, or 1 for (N, C) inputs). Training: per
// channel batch mean and biased variance; mean and invstd = 1/sqrt(var + eps) are saved for
// the backward; running stats (if non-null) become (1 - m) running + m batch, the variance
// unbiased (n/(n-1)) as PyTorch. Eval (training false): the running stats normalise.
// gamma/beta may be null (affine false). y = act(bn(x) + residual): residual (x's shape) may
// be null, act is the relu when a.relu (a ResNet's norm + relu and norm + add + relu as one
// pass over the activations). With a.stats (training), the mean and variance come from those
// sums (batch_norm_stats), the running variance's n/(n-1) from their count.
AXON_KERNEL(batch_norm_forward, void,
            (const BatchNormArgs& a, const float* x, const float* residual, const float* gamma,
             const float* beta, float* running_mean, float* running_var, float* y, float* save_mean,
             float* save_invstd),
            API, REF, 0)
// The gradient of y = act(bn(x) + residual), act the relu when a.relu: with g = dy where
// y > 0 (a.relu; y is the forward output, required then) else dy, dx += (overwrite: =) the
// gradient through the norm, dgamma += sum g xhat, dbeta += sum g, dresidual = g (written
// whole). Any of dx, dgamma, dbeta, dresidual may be null. Training: the batch statistics'
// gradient is included; eval: dx = g gamma invstd. One read of x, dy (and y) for the sums and
// one for dx / dresidual, per channel while its data is in cache. With a.stats (training) the
// sums come from there (batch_norm_grad_stats) and dgamma and dbeta must be null.
AXON_KERNEL(batch_norm_backward, void,
            (const BatchNormArgs& a, const float* x, const float* dy, const float* y,
             const float* gamma, const float* save_mean, const float* save_invstd, float* dx,
             bool overwrite, float* dgamma, float* dbeta, float* dresidual),
            API, REF, 0)
// Cross-replica batch norm, in two halves around a sum over replicas (SyncBatchNorm): the
// sums of this batch, per channel c, in double: stats[2c] = sum x, stats[2c+1] = sum x^2,
// stats[2C] = the count of values per channel (n s). Summed over replicas and passed back as
// a.stats, batch_norm_forward normalises by the statistics of the union of the batches.
AXON_KERNEL(batch_norm_stats, void, (const BatchNormArgs& a, const float* x, double* stats), API,
            REF, 0)
// The backward's half: with g as batch_norm_backward's, stats[2c] = sum g, stats[2c+1] =
// sum g (x - mean), stats[2C] = n s; and this batch's dgamma += sum g xhat, dbeta += sum g
// (either may be null: the parameters' gradients stay per replica, as the replicas' losses).
// The summed stats passed as a.stats give batch_norm_backward the union's dx.
AXON_KERNEL(batch_norm_grad_stats, void,
            (const BatchNormArgs& a, const float* x, const float* dy, const float* y,
             const float* save_mean, const float* save_invstd, double* stats, float* dgamma,
             float* dbeta),
            API, REF, 0)
// Batch norm's per-level building blocks over one contiguous run of a channel (norm_rows.cpp;
// batch_norm_forward / _backward thread over channels and call them per batch row).
// sums[0] += sum (x - shift), sums[1] += sum (x - shift)^2.
AXON_KERNEL(norm_moments, void, (const float* x, int64_t n, float shift, double* sums), 0, 0, ISA)
// y = act((x - mean) scale + beta + r): r may be null, act the relu when relu; y may equal x.
AXON_KERNEL(norm_apply, void,
            (const float* x, const float* r, float* y, int64_t n, float mean, float scale,
             float beta, bool relu),
            0, 0, ISA)
// With g = dy where y > 0 (y null: g = dy): sums[0] += sum g, sums[1] += sum g (x - mean).
AXON_KERNEL(norm_grad_sums, void,
            (const float* x, const float* dy, const float* y, int64_t n, float mean, double* sums),
            0, 0, ISA)
// g as norm_grad_sums; dx (overwrite: =, else +=) a g + b (x - mean) + c when dx is not null;
// dr = g when dr is not null.
AXON_KERNEL(norm_grad_apply, void,
            (const float* x, const float* dy, const float* y, int64_t n, float mean, float a,
             float b, float c, float* dx, bool overwrite, float* dr),
            0, 0, ISA)
// Layer norm's per-level building blocks over one row of d values (norm_rows.cpp; the
// layer_norm_* kernels thread over rows). y = (x - mean) invstd gamma + beta (gamma/beta may
// be null).
AXON_KERNEL(layer_norm_row, void,
            (const float* x, int64_t d, float mean, float invstd, const float* gamma,
             const float* beta, float* y),
            0, 0, ISA)
// With gy = dy gamma and xhat = (x - mean) invstd: sums[0] += sum gy, sums[1] += sum gy xhat.
AXON_KERNEL(layer_norm_grad_sums, void,
            (const float* x, const float* dy, const float* gamma, int64_t d, float mean,
             float invstd, double* sums),
            0, 0, ISA)
// dx += invstd (gy - m1 - xhat m2); dgamma += dy xhat and dbeta += dy where not null.
AXON_KERNEL(layer_norm_grad_apply, void,
            (const float* x, const float* dy, const float* gamma, int64_t d, float mean,
             float invstd, float m1, float m2, float* dx, float* dgamma, float* dbeta),
            0, 0, ISA)
// Layer norm over the last d values of each of `rows` rows; gamma/beta (d) may be null.
AXON_KERNEL(layer_norm_forward, void,
            (int64_t rows, int64_t d, float eps, const float* x, const float* gamma,
             const float* beta, float* y, float* save_mean, float* save_invstd),
            API, REF, 0)
AXON_KERNEL(layer_norm_backward, void,
            (int64_t rows, int64_t d, const float* x, const float* dy, const float* gamma,
             const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
             float* dbeta),
            API, 0, 0)

// ---------------------------------------------------------------------------------------
// Recurrent layers (RnnMode, RnnArgs and the sequence layout: kernels.h)
// ---------------------------------------------------------------------------------------
AXON_KERNEL(rnn_gate_count, int64_t, (RnnMode mode), API, 0, 0)
// Floats of the workspace the forward fills and the backward reads.
AXON_KERNEL(rnn_workspace_size, int64_t, (const RnnArgs& a), API, 0, 0)
// Floats of scratch the backward needs.
AXON_KERNEL(rnn_scratch_size, int64_t, (const RnnArgs& a), API, 0, 0)
// y (steps, batch, hidden); hn, cn (batch, hidden) the final states (cn: LSTM only, else
// unused); h0/c0 initial states or null for zeros. (The twin, ref::rnn_forward, has no
// workspace: it is declared in axon/ref.h.)
AXON_KERNEL(rnn_forward, void,
            (const RnnArgs& a, const float* x, const float* w_ih, const float* w_hh,
             const float* b_ih, const float* b_hh, const float* h0, const float* c0,
             const int32_t* lengths, float* y, float* hn, float* cn, float* workspace),
            API, 0, 0)
// Gradients for upstream dy (or null), dhn, dcn (or null): dx, dw_*, db_* are accumulated
// (+=; any may be null); dh0, dc0 are written (or null).
AXON_KERNEL(rnn_backward, void,
            (const RnnArgs& a, const float* x, const float* w_ih, const float* w_hh,
             const int32_t* lengths, const float* workspace, const float* dy, const float* dhn,
             const float* dcn, float* dx, float* dw_ih, float* dw_hh, float* db_ih, float* db_hh,
             float* dh0, float* dc0, float* scratch),
            API, 0, 0)
// The elementwise part of one time step of n rows (native/kernels/cpu/rnn_cell.cpp says the
// gate layouts); `active` (n bytes, or null for all) marks rows whose sequence still runs.
AXON_KERNEL(lstm_cell_forward, void,
            (float* gates, const float* c_prev, const float* h_prev, float* c, float* h, int64_t n,
             int64_t hidden, const uint8_t* active),
            0, 0, ISA)
AXON_KERNEL(lstm_cell_backward, void,
            (const float* gates, const float* c_prev, const float* c, const float* dh, float* dc,
             float* dgates, int64_t n, int64_t hidden, const uint8_t* active),
            0, 0, ISA)
AXON_KERNEL(gru_cell_forward, void,
            (const float* gx, const float* gh, const float* h_prev, float* h, float* rzn, int64_t n,
             int64_t hidden, const uint8_t* active),
            0, 0, ISA)
AXON_KERNEL(gru_cell_backward, void,
            (const float* rzn, const float* gh, const float* h_prev, const float* dh, float* dgx,
             float* dgh, float* dh_prev, int64_t n, int64_t hidden, const uint8_t* active),
            0, 0, ISA)

// ---------------------------------------------------------------------------------------
// Embeddings over token sequences tokens (rows, steps), every token in [0, vocab) (checked by
// the caller). Output row of token (r, t): r*steps + t (batch-major) or t*rows + r
// (time_major, what the recurrent kernels read).
// ---------------------------------------------------------------------------------------
// The kernels re-check each token against vocab as they read it (a token changed after the
// caller's check, e.g. by JS during an async call, must not index out of bounds): an
// out-of-range token reads as a zero vector and contributes no gradient.
// out (rows*steps, dim) = weight (vocab, dim) rows of the tokens.
AXON_KERNEL(embedding_forward, void,
            (const float* weight, int64_t vocab, int64_t dim, const int32_t* tokens, int64_t rows,
             int64_t steps, bool time_major, float* out),
            API, 0, 0)
// dweight (vocab, dim) += dout rows at their tokens; tokens equal to padding_idx (or none when
// it is -1) contribute nothing.
AXON_KERNEL(embedding_backward, void,
            (const float* dout, int64_t dim, const int32_t* tokens, int64_t rows, int64_t steps,
             bool time_major, int64_t padding_idx, int64_t vocab, float* dweight),
            API, 0, 0)
// Rows of weight named by the n tokens whose norm_type-norm exceeds max_norm are scaled to
// max_norm (in place, as torch.embedding_renorm_).
AXON_KERNEL(embedding_renorm, void,
            (float* weight, int64_t vocab, int64_t dim, const int32_t* tokens, int64_t n,
             float max_norm, float norm_type),
            API, 0, 0)
// lengths[r] = 1 + the position of the last token != pad in row r (0 for an all-pad row):
// the valid length of post-padded sequences.
AXON_KERNEL(sequence_lengths, void,
            (const int32_t* tokens, int64_t rows, int64_t steps, int32_t pad, int32_t* lengths),
            API, 0, 0)
// Pools a sequence x (steps, batch, dim) (time_major) or (batch, steps, dim) over its valid
// steps [0, lengths[r]) (all when lengths is null): the last valid step, or their mean. A row
// of length 0 gives zeros. Backward: dx += the gradient routed back to the pooled steps.
AXON_KERNEL(sequence_pool_forward, void,
            (const float* x, int64_t steps, int64_t batch, int64_t dim, bool time_major,
             SequencePool mode, const int32_t* lengths, float* out),
            API, 0, 0)
AXON_KERNEL(sequence_pool_backward, void,
            (const float* dout, int64_t steps, int64_t batch, int64_t dim, bool time_major,
             SequencePool mode, const int32_t* lengths, float* dx),
            API, 0, 0)

// ---------------------------------------------------------------------------------------
// Elementwise
// ---------------------------------------------------------------------------------------
// y[i] = f(x[i]); x may equal y.
AXON_KERNEL(unary_forward, void, (UnaryOp op, const float* x, float* y, int64_t n, float param),
            API, REF, ISA)
// dx[i] += dy[i] * f'(x[i]); y = f(x) is the forward output (sigmoid, tanh, exp... use it).
// With overwrite, dx[i] = dy[i] * f'(x[i]) (zeroed a cache-sized piece at a time first).
AXON_KERNEL(unary_backward, void,
            (UnaryOp op, const float* x, const float* y, const float* dy, float* dx, int64_t n,
             float param, bool overwrite = false),
            API, 0, 0)
// The same without overwrite (always accumulates): the twin and the per-level kernel, which
// the dispatch layer runs on zeroed pieces for overwrite.
AXON_KERNEL(unary_backward, void,
            (UnaryOp op, const float* x, const float* y, const float* dy, float* dx, int64_t n,
             float param),
            0, REF, ISA)

// out = a (op) b with NumPy broadcasting. Shapes must have the same rank (pad with leading
// 1s); each a/b dim equals the out dim or is 1.
AXON_KERNEL(binary_forward, void,
            (BinaryOp op, const float* a, const Shape& a_shape, const float* b,
             const Shape& b_shape, float* out, const Shape& out_shape),
            API, REF, 0)
// y = a (op) b, all contiguous, length n: binary_forward's inner loop.
AXON_KERNEL(binary_contiguous, void,
            (BinaryOp op, const float* a, const float* b, float* y, int64_t n), 0, 0, ISA)
// y[i] = x[i] (op) s, or s (op) x[i] when scalar_first.
AXON_KERNEL(binary_scalar, void,
            (BinaryOp op, const float* x, float s, bool scalar_first, float* y, int64_t n), API,
            REF, ISA)
// Same-shape backward: da[i] += dy[i] * d(a op b)/da, db[i] += dy[i] * d(a op b)/db; either
// of da, db may be null. y is the forward output. Broadcast inputs: compute the full-shape
// gradient, then sum_to_shape.
AXON_KERNEL(binary_backward, void,
            (BinaryOp op, const float* a, const float* b, const float* y, const float* dy,
             float* da, float* db, int64_t n),
            API, REF, ISA)
// out[i] = cond[i] != 0 ? x[i] : y[i] (ONNX Where, torch.where), all contiguous, length n.
// Truthiness is C's: any non-zero cond is true, NaN included; +0 and -0 are false. Exact: the
// chosen element is copied bit for bit (no arithmetic), so an inf or NaN in the unselected
// operand never reaches out. out may equal x or y.
AXON_KERNEL(select_forward, void,
            (const float* cond, const float* x, const float* y, float* out, int64_t n), API, REF,
            ISA)
// Its gradient: dx[i] += dout[i] where cond[i] is true, dy[i] += dout[i] where it is false;
// the other elements of dx / dy are left exactly as they were (not even + 0, so a NaN or inf
// in dout never reaches the unselected side). Either of dx, dy may be null.
AXON_KERNEL(select_backward, void,
            (const float* cond, const float* dout, float* dx, float* dy, int64_t n), API, REF, ISA)

// ---------------------------------------------------------------------------------------
// Reductions over the middle axis of x viewed as (outer, r, inner) -> out (outer, inner)
// ---------------------------------------------------------------------------------------
// Max/Min propagate NaN. r == 0: Sum gives 0, Mean NaN, Max -inf, Min +inf.
AXON_KERNEL(reduce, void,
            (ReduceOp op, const float* x, float* out, int64_t outer, int64_t r, int64_t inner), API,
            REF, ISA)
// Index (0..r-1) of the first max/min; NaN counts as the max (and the min), as PyTorch. With
// select_last, the last such index (ONNX select_last_index = 1: the first index of the
// reversed axis, so the last NaN when there are NaNs).
AXON_KERNEL(arg_reduce, void,
            (ArgReduceOp op, const float* x, int32_t* out, int64_t outer, int64_t r, int64_t inner,
             bool select_last = false),
            API, REF, 0)
// dx (outer, r, inner) += gradient of reduce; y = reduce output. Max/Min send each output's
// gradient to the first element equal to it (the arg_reduce index).
AXON_KERNEL(reduce_backward, void,
            (ReduceOp op, const float* x, const float* y, const float* dy, float* dx, int64_t outer,
             int64_t r, int64_t inner),
            API, REF, 0)
// out (out_shape) = x (in_shape) summed over the axes where out_shape has 1 and in_shape not.
// Same rank. This is the gradient of broadcasting.
AXON_KERNEL(sum_to_shape, void,
            (const float* x, const Shape& in_shape, float* out, const Shape& out_shape), API, REF,
            0)

// ---------------------------------------------------------------------------------------
// Casts between int32 and float32
// ---------------------------------------------------------------------------------------
// y[i] = float(x[i]), rounded to nearest even (exact for |x| <= 2^24).
AXON_KERNEL(cast_i32_to_f32, void, (const int32_t* x, float* y, int64_t n), API, REF, 0)
// y[i] = x[i] truncated toward zero. x must hold no NaN and only values in [-2^31, 2^31) (the
// binding checks it on every run: cast_to_int32_problem); any other gives INT32_MIN, as x86's
// cvttps2dq, rather than undefined behaviour.
AXON_KERNEL(cast_f32_to_i32, void, (const float* x, int32_t* y, int64_t n), API, REF, 0)

// ---------------------------------------------------------------------------------------
// Softmax / log-softmax over the middle axis of (outer, r, inner); max-subtracted, so
// softmax([1000, 1001]) is finite.
// ---------------------------------------------------------------------------------------
AXON_KERNEL(softmax_forward, void,
            (const float* x, float* y, int64_t outer, int64_t r, int64_t inner, bool log), API, REF,
            ISA)
// dx += softmax: y * (dy - sum(dy * y)); log-softmax: dy - exp(y) * sum(dy).
AXON_KERNEL(softmax_backward, void,
            (const float* y, const float* dy, float* dx, int64_t outer, int64_t r, int64_t inner,
             bool log),
            API, REF, ISA)

// ---------------------------------------------------------------------------------------
// Layout (any 4-byte element: float32 or int32)
// ---------------------------------------------------------------------------------------
// out = x permuted: out.shape[i] = shape[perm[i]].
AXON_KERNEL(permute, void, (const void* x, const Shape& shape, const int* perm, void* out), API,
            REF, 0)
// Concatenates `count` inputs along an axis. Input i is viewed as (outer, sizes[i]) where
// sizes[i] = its axis length * inner; out is (outer, sum of sizes).
AXON_KERNEL(concat, void,
            (const void* const* xs, const int64_t* sizes, int count, int64_t outer, void* out), API,
            REF, 0)
// out[i0, i1, ...] = x[start0 + i0*step0, ...]; steps may be negative; out_shape gives the
// result size per axis. Caller guarantees every index is in range.
AXON_KERNEL(slice_copy, void,
            (const void* x, const Shape& shape, const int64_t* start, const int64_t* step,
             const Shape& out_shape, void* out),
            API, REF, 0)
// dx[start + i*step] += dy[i] (float only): the gradient of slice_copy.
AXON_KERNEL(slice_backward, void,
            (const float* dy, const Shape& out_shape, const int64_t* start, const int64_t* step,
             const Shape& shape, float* dx),
            API, REF, 0)

// ---------------------------------------------------------------------------------------
// Optimizers: one fused pass per parameter tensor, formulas as torch.optim documents them.
// p: param (n), g: grad (n); state buffers (n) are updated in place. `maximize` negates g.
// (SgdConfig, AdamConfig, RmspropConfig, AdagradConfig: kernels.h)
// ---------------------------------------------------------------------------------------
// g' = g + wd p; buf = first ? g' : momentum buf + (1 - dampening) g';
// d = nesterov ? g' + momentum buf : buf (or g' without momentum); p -= lr d.
AXON_KERNEL(sgd_step, void,
            (float* p, const float* g, float* momentum_buf, int64_t n, const SgdConfig& c), API, 0,
            ISA)
// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; vmax = max(vmax, v) with amsgrad;
// p -= lr / (1 - b1^t) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)
AXON_KERNEL(adam_step, void,
            (float* p, const float* g, float* m, float* v, float* vmax, int64_t n,
             const AdamConfig& c),
            API, 0, ISA)
// sq = a sq + (1-a) g^2; avg = sqrt(sq - ga^2 (centered, ga = a ga + (1-a) g)) + eps;
// momentum: buf = mu buf + g / avg, p -= lr buf; else p -= lr g / avg
AXON_KERNEL(rmsprop_step, void,
            (float* p, const float* g, float* square_avg, float* grad_avg, float* buf, int64_t n,
             const RmspropConfig& c),
            API, 0, ISA)
// sum += g^2; p -= lr g / (sqrt(sum) + eps)
AXON_KERNEL(adagrad_step, void,
            (float* p, const float* g, float* sum, int64_t n, const AdagradConfig& c), API, 0, ISA)

// Sum of squares of x (n), accumulated in double (gradient-norm clipping).
AXON_KERNEL(sum_squares, double, (const float* x, int64_t n), API, 0, ISA)

// Clips the global norm of count gradients in place (PyTorch clip_grad_norm_); grads[i] has
// sizes[i] floats. norm_type 2: sqrt of the double sum, in tensor order, of each tensor's
// sum_squares; +inf: the largest |g| (NaNs skipped). When scale = max_norm / (norm + 1e-6) is
// below 1, every gradient is multiplied by float(scale). Returns the norm before clipping.
AXON_KERNEL(clip_grad_norm, double,
            (float* const* grads, const int64_t* sizes, int64_t count, double max_norm,
             double norm_type),
            API, REF, 0)

// ---------------------------------------------------------------------------------------
// Losses: fused, numerically stable (log-sum-exp with the max subtracted; finite at +-1e4)
// (CrossEntropyArgs: kernels.h)
// ---------------------------------------------------------------------------------------
// loss (n) per row; norm (n): the row's share of the 'mean' denominator (w[y], 0 if ignored,
// 1 for probability targets); lse (n): log-sum-exp of each row, kept for the backward.
// With t_ic the smoothed, weighted target: loss_i = sum_c t_ic (lse_i - x_ic).
AXON_KERNEL(cross_entropy_forward, void,
            (const CrossEntropyArgs& a, float* loss, float* norm, float* lse), API, 0, 0)
// dlogits (n, c) += dloss_i (T_i softmax_ic - t_ic), T_i = sum_c t_ic.
AXON_KERNEL(cross_entropy_backward, void,
            (const CrossEntropyArgs& a, const float* lse, const float* dloss, float* dlogits), API,
            0, 0)
// The reduced loss of the per-row losses rows (n) from cross_entropy_forward: their double
// sum, divided (mean) by the summed target weights (PyTorch's denominator: w[y] per kept row,
// 0 for ignored rows, 1 per row for probability targets) or not (sum).
AXON_KERNEL(cross_entropy_reduce, float, (const CrossEntropyArgs& a, const float* rows, bool mean),
            API, REF, 0)
// drows (n) = dout / that denominator (mean) or dout (sum): the dloss of cross_entropy_backward.
AXON_KERNEL(cross_entropy_reduce_backward, void,
            (const CrossEntropyArgs& a, float dout, bool mean, float* drows), API, REF, 0)

// Binary cross-entropy on logits x (n) with targets t (n); pos_weight (c) applies to the
// last axis (element i uses pos_weight[i % c]) or is null:
// loss = (1 - t) x + (1 + (pw - 1) t) log(1 + e^-x)   [computed stably]
AXON_KERNEL(bce_logits_forward, void,
            (const float* x, const float* t, const float* pos_weight, int64_t c, float* loss,
             int64_t n),
            API, 0, 0)
// dx += dloss ((1 - t) - (1 + (pw - 1) t) sigmoid(-x))
AXON_KERNEL(bce_logits_backward, void,
            (const float* x, const float* t, const float* pos_weight, int64_t c, const float* dloss,
             float* dx, int64_t n),
            API, 0, 0)
// Binary cross-entropy on probabilities p (n): -(t log p + (1 - t) log(1 - p)), each log
// clamped at -100 as PyTorch does.
AXON_KERNEL(bce_forward, void, (const float* p, const float* t, float* loss, int64_t n), API, 0, 0)
// dp += dloss (p - t) / max(p (1 - p), 1e-12)
AXON_KERNEL(bce_backward, void,
            (const float* p, const float* t, const float* dloss, float* dp, int64_t n), API, 0, 0)

// Image augmentation for a batch x (n, c, h, w) -> y (n, c, oh, ow): sample i is cropped at a
// random offset from x zero-padded by `pad` on every side, then mirrored left-right with
// probability flip_p; offsets and flips come from a counter-based hash of (seed, i), so the
// result does not depend on the thread count. random false: the centre crop, no flip.
AXON_KERNEL(random_crop_flip, void,
            (const float* x, float* y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t oh,
             int64_t ow, int64_t pad, float flip_p, bool random, uint64_t seed),
            API, 0, 0)

// Inverted dropout: mask[i] = 0 with probability p else 1/(1-p); y = x * mask. The random
// stream is a counter-based hash of (seed, i), so results do not depend on the thread count.
AXON_KERNEL(dropout_forward, void,
            (const float* x, float* y, float* mask, int64_t n, float p, uint64_t seed), API, 0, 0)

// ---------------------------------------------------------------------------------------
// Data movement and metric accumulators (training loops)
// ---------------------------------------------------------------------------------------
// x[i] = value (4-byte words: float or int32 bit pattern).
AXON_KERNEL(fill, void, (void* x, int64_t n, uint32_t word), API, 0, 0)
// dst[i] = src[i]
AXON_KERNEL(copy, void, (const void* src, void* dst, int64_t n), API, 0, 0)
// dst row r (row_size words) = src row indices[start + r], for r < rows.
AXON_KERNEL(gather_rows, void,
            (const void* src, int64_t row_size, const int32_t* indices, int64_t start, int64_t rows,
             void* dst),
            API, 0, 0)
// Classification counts: for row i of scores (n, c) (c == 1: a binary probability/logit with
// threshold), predicted = argmax (or score > threshold), matrix[label * c' + predicted] += 1,
// c' = max(c, 2). Labels outside [0, c') are skipped and counted in *skipped.
// label_floats has label_cols values per row: 1 = the class (or a 0/1 target when c == 1),
// c = one-hot or probabilities (the argmax is the label).
AXON_KERNEL(confusion_update, void,
            (const float* scores, int64_t n, int64_t c, const int32_t* labels,
             const float* label_floats, int64_t label_cols, float threshold, double* matrix,
             double* skipped),
            API, 0, 0)
// counts += {rows whose label is among the k highest scores, rows}
AXON_KERNEL(top_k_update, void,
            (const float* scores, int64_t n, int64_t c, const int32_t* labels, int64_t k,
             double* counts),
            API, 0, 0)
// Regression sums over pairs (pred, target): stats += {count, sum (p-t)^2, sum |p-t|, sum t,
// sum t^2}.
AXON_KERNEL(regression_update, void,
            (const float* pred, const float* target, int64_t n, double* stats), API, 0, 0)

// Attention (AttentionArgs: kernels.h). o (batch*heads, lq, dv) and lse (batch*heads, lq),
// the log-sum-exp of each query's scaled, masked scores (+inf for a query that sees no key),
// which the backward uses to rebuild the weights. Tiled with an online softmax: memory is
// O(block * (lk + d)) per thread, never lq x lk.
AXON_KERNEL(attention_forward, void, (const AttentionArgs& a, float* o, float* lse), API, REF, 0)
// dq, dk, dv (the shapes of q, k, v) written (not added to) from d_o, given the forward's o
// and lse.
AXON_KERNEL(attention_backward, void,
            (const AttentionArgs& a, const float* o, const float* lse, const float* d_o, float* dq,
             float* dk, float* dv),
            API, REF, 0)
// Building blocks the dispatch layer threads: queries [q0, q1) of head bh; every query of
// head bh.
AXON_KERNEL(attention_forward_rows, void,
            (const AttentionArgs& a, float* o, float* lse, int64_t bh, int64_t q0, int64_t q1), 0,
            0, ISA)
AXON_KERNEL(attention_backward_head, void,
            (const AttentionArgs& a, const float* o, const float* lse, const float* d_o, float* dq,
             float* dk, float* dv, int64_t bh),
            0, 0, ISA)

// Reduced-precision linear layers (LowpWeights: kernels.h). Words lowp_pack writes for W
// (n, k) in `format`.
AXON_KERNEL(lowp_packed_size, int64_t, (LowpFormat format, int64_t n, int64_t k), API, 0, 0)
// Packs W (n, k) row-major; int8 also writes scales (n) and colsum (n).
AXON_KERNEL(lowp_pack, void,
            (LowpFormat format, const float* w, int64_t n, int64_t k, int32_t* packed,
             float* scales, int32_t* colsum),
            API, 0, 0)
// y (m, n) = act(x (m, k) W^T + bias); bias may be null.
AXON_KERNEL(lowp_linear, void,
            (const LowpWeights& w, const float* x, int64_t m, const float* bias, UnaryOp act,
             float act_param, float* y),
            API, REF, 0)
// Whether lowp_linear runs `format` on its own instructions (else the float32 fallback).
AXON_KERNEL(lowp_native, bool, (LowpFormat format), API, 0, 0)

// Machine probes (native/kernels/cpu/probe.cpp, timed by runtime/machine_probe.cpp): vector
// width, FMA chains per call, iterations x chains vector FMAs, and streaming reads of `n`
// floats `repeats` times. Each returns a value derived from all its work.
AXON_KERNEL(probe_lanes, int, (), 0, 0, ISA)
AXON_KERNEL(probe_fma_chains, int, (), 0, 0, ISA)
AXON_KERNEL(probe_fma, double, (int64_t iterations), 0, 0, ISA)
AXON_KERNEL(probe_read, double, (const float* data, int64_t n, int64_t repeats), 0, 0, ISA)
