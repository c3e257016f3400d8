// Convolution as implicit GEMM with an offset-table microkernel (compiled once per SIMD level).
//
// The three passes are each a GEMM whose A operand is read straight out of a (zero-padded)
// image through a table of offsets, so nothing is ever im2col'd:
//
//   forward          C (pixels x Cout) = A (pixels x K) . W^T (K x Cout);  A[p][k] = x[base(p)
//                    + off(k)] with base(p) the pixel's window corner and off(k) = the tap
//                    (channel, row, column) offset. Rows of a register tile are 6 output
//                    pixels anywhere in a band of output rows (across row ends), so no tile
//                    is mostly padding; columns are output channels, 64 per tile (4 AVX-512
//                    vectors). The padding is added one band at a time into a per-thread
//                    buffer that stays in L2, never as a padded copy of the whole input.
//   backward weight  C (K x Cout) = A (K x pixels) . dY^T (pixels x Cout); A[k][p] is the
//                    same x[base(p) + off(k)], rows now taps, steps pixels.
//   backward data    (stride 1) dx is the forward convolution of dy, padded by the kernel's
//                    extent, with the flipped kernel transposed (Cin outputs, Cout*kH*kW taps).
//                    Strided convolutions scatter dcol = W^T dY back instead (col2im).
//
// The B operands (weights, dY) are small and packed once per call or image; C tiles are
// pixel-major and are transposed into NCHW a block at a time, with bias and activation fused
// there.
//
// Which algorithm runs (conv2d_forward_algorithm names it; bench/RESULTS.md has the figures):
//   direct        at most 32 taps per output (a network's first layer): vectors along the
//                 output plane (direct_forward); the GEMM's reduction would be too short.
//   Winograd      stride 1, 3x3 or 5x5, no groups, at least 8 output and 8 (3x3) or 16 (5x5)
//                 input channels:
//                 F(4x4, 3x3) / F(2x2, 5x5) (winograd_pass) do 4x / 2.8x fewer
//                 multiplications, and measured 2.0x / 1.5x the implicit GEMM's speed on the
//                 56x56 3x3 and 14x14 5x5 layers. Also the stride-1 backward data, and the
//                 weight gradient (its 36 GEMMs reduce over tiles: winograd_backward_weight).
//   implicit GEMM everything else (strides, dilation, groups, other kernels, few channels).
// AXON_CONV_ALGO / set_conv_algorithm force one where it applies (tests, benches).
//
// Why the implicit GEMM rather than
// im2col + GEMM: im2col writes K values per output pixel that the
// microkernel then reads only Cout/6 times, and for the layers CNNs have (Cout 32-128) that
// copy cost as much as a third of the time (measured: bench/RESULTS.md).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "simd/isa.h"
// after simd/isa.h, which names this level's namespace
#include "axon/thread_pool.h"
#include "gemm/microkernel.h"
#include "isa_kernels.h"

namespace axon::cpu::AXON_ISA_NS {

using namespace simd;

namespace {

// Register tile of the offset microkernel: kRows rows x kNv vectors of columns, and a
// narrow variant (twice the rows, half the vectors) for 32-channel layers on AVX-512.
#if defined(AXON_ISA_AVX512)
constexpr int kRows = 6, kNv = 4;
#elif defined(AXON_ISA_AVX2)
constexpr int kRows = 6, kNv = 2;
#elif defined(AXON_ISA_NEON)
constexpr int kRows = 8, kNv = 3;
#else
constexpr int kRows = 4, kNv = 4;
#endif
constexpr int kCols = kNv * kWidth;  // output channels per tile
// Reduction steps per call: the B panel (kSteps x kCols) streams from L2, so up to 1024 steps
// (256 KB) run in one pass; splitting K = 800 in two measured 1-2 % slower (C tiles reloaded).
constexpr int64_t kSteps = 1024;
constexpr int64_t kWeightSteps = 512;        // pixels per pass of the weight gradient (its B panel)
constexpr int64_t kPixelBlock = 16 * kRows;  // pixels whose C tile block is transposed at once
constexpr int64_t kBandBytes = 512 * 1024;   // forward_pass's padded input per task, in L2

// Per-thread buffers, grown on demand and kept, so a training step allocates nothing.
template <class T>
T* scratch(int slot, size_t count) {
  struct Buffers {
    void* ptr[8] = {};
    size_t cap[8] = {};
    ~Buffers() {
      for (void* p : ptr) std::free(p);
    }
  };
  thread_local Buffers buffers;
  const size_t bytes = count * sizeof(T);
  if (buffers.cap[slot] < bytes) {
    std::free(buffers.ptr[slot]);
    buffers.ptr[slot] = std::aligned_alloc(64, ((bytes + 63) / 64) * 64);
    buffers.cap[slot] = buffers.ptr[slot] ? bytes : 0;
    if (!buffers.ptr[slot]) std::abort();  // out of memory for a few MB of working space
  }
  return static_cast<T*>(buffers.ptr[slot]);
}
// Slots: 0 B panels (per task), 1 C blocks (per task), 2 offsets (per task), 3 padded dx of
// col2im (caller) or shifted planes (direct kernels, per task), 4 packed weights (caller),
// 5 weight-gradient accumulators (caller), 6 padded bands or images (band_buffer, per task:
// only band_buffer writes it, so its zero border survives from one call to the next), 7 the
// Winograd path's output block (per task; it also uses 0-3 per task and 4 for its weights).

// C (rows x cols, ld ldc) (+)= A B over `steps`: A[i][s] = rows[i][off[s]], B[s][c] =
// bp[s * NV * kWidth + c]. Rows past mr repeat a valid pointer and are not stored; columns
// past ncols are not stored.
// `init` (NV vectors, or null for zeros) starts every row: the bias, fused; `relu` clamps the
// result at zero when storing.
template <int R, int NV>
void offset_kernel(int64_t steps, const float* const* rows, const int64_t* off, const float* bp,
                   float* c, int64_t ldc, int mr, int ncols, float beta, const float* init,
                   bool relu) {
  VecF acc[R][NV];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = init ? load(init + v * kWidth) : zero();
  const float* a[R];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) a[i] = rows[i < mr ? i : (mr > 0 ? mr - 1 : 0)];
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t o = off[s];
    VecF b[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) b[v] = load(bp + v * kWidth);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const VecF x = set1(a[i][o]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = fmadd(x, b[v], acc[i][v]);
    }
    bp += NV * kWidth;
  }
  for (int i = 0; i < mr; ++i) {
    float* row = c + i * ldc;
    for (int v = 0; v < NV; ++v) {
      const int n = std::min(kWidth, ncols - v * kWidth);
      if (n <= 0) break;
      VecF r = acc[i][v];
      if (n == kWidth) {
        if (beta != 0.0f) r = add(r, load(row + v * kWidth));
        if (relu) r = max(r, zero());
        store(row + v * kWidth, r);
      } else {
        if (beta != 0.0f) r = add(r, load_partial(row + v * kWidth, n));
        if (relu) r = max(r, zero());
        store_partial(row + v * kWidth, r, n);
      }
    }
  }
}

// The tile shape for `cols` output columns: the narrow variant when half a tile covers them.
struct Tile {
  int rows, nv;
};
Tile tile_for(int64_t cols) {
  if (kNv % 2 == 0 && cols <= kCols / 2) return {2 * kRows, kNv / 2};
  return {kRows, kNv};
}

void run_kernel(Tile t, int64_t steps, const float* const* rows, const int64_t* off,
                const float* bp, float* c, int64_t ldc, int mr, int ncols, float beta,
                const float* init = nullptr, bool relu = false) {
  if (t.nv == kNv)
    offset_kernel<kRows, kNv>(steps, rows, off, bp, c, ldc, mr, ncols, beta, init, relu);
  else if constexpr (kNv % 2 == 0)
    offset_kernel<2 * kRows, kNv / 2>(steps, rows, off, bp, c, ldc, mr, ncols, beta, init, relu);
}

inline void zero_run(float* out, int64_t len) {
  int64_t t = 0;
  for (; t + kWidth <= len; t += kWidth) store(out + t, zero());
  if (t < len) store_partial(out + t, zero(), static_cast<int>(len - t));
}

inline void copy_run(float* out, const float* src, int64_t len) {
  int64_t t = 0;
  for (; t + kWidth <= len; t += kWidth) store(out + t, load(src + t));
  if (t < len)
    store_partial(out + t, load_partial(src + t, static_cast<int>(len - t)),
                  static_cast<int>(len - t));
}

// Sum of n floats (a channel's output gradient: its bias gradient).
inline float row_sum(const float* r, int64_t n) {
  VecF sum = zero();
  int64_t j = 0;
  for (; j + kWidth <= n; j += kWidth) sum = add(sum, load(r + j));
  float tail = reduce_add(sum);
  for (; j < n; ++j) tail += r[j];
  return tail;
}

// A convolution over an already padded input: the offset-table view of one pass.
struct Plan {
  int64_t n, c_in, h, w;  // the (padded) input the taps read, no padding left
  int64_t c_out, kh, kw, sh, sw, dh, dw, groups;
  int64_t oh, ow, p;         // output size
  int64_t cin_g, cout_g, k;  // K = cin_g * kh * kw
};

Plan plan_of(const ConvGeometry& g, int64_t hp, int64_t wp) {
  Plan q;
  q.n = g.n, q.c_in = g.c_in, q.h = hp, q.w = wp;
  q.c_out = g.c_out, q.kh = g.kh, q.kw = g.kw, q.sh = g.stride_h, q.sw = g.stride_w;
  q.dh = g.dil_h, q.dw = g.dil_w, q.groups = g.groups;
  q.oh = g.out_h(), q.ow = g.out_w(), q.p = q.oh * q.ow;
  q.cin_g = g.c_in / g.groups, q.cout_g = g.c_out / g.groups;
  q.k = q.cin_g * g.kh * g.kw;
  return q;
}

// off[k] for the taps of one group: channel, then kernel row, then kernel column.
void tap_offsets(const Plan& q, int64_t* off) {
  int64_t k = 0;
  for (int64_t ci = 0; ci < q.cin_g; ++ci)
    for (int64_t ki = 0; ki < q.kh; ++ki)
      for (int64_t kj = 0; kj < q.kw; ++kj) off[k++] = ci * q.h * q.w + ki * q.dh * q.w + kj * q.dw;
}

// Offset of pixel j's window corner (j counts pixels of all images, image-major) in x.
inline int64_t pixel_base(const Plan& q, int64_t j) {
  const int64_t img = j / q.p, p = j % q.p;
  return img * q.c_in * q.h * q.w + (p / q.ow) * q.sh * q.w + (p % q.ow) * q.sw;
}

// rows[i] = x + pixel_base(q, j0 + i) for i < n, walking (image, row, column) without
// dividing per pixel (divisions cost more than a small layer's whole tile).
void pixel_rows(const Plan& q, const float* x, int64_t j0, int64_t n, const float** rows) {
  int64_t img = j0 / q.p, p = j0 % q.p, oh = p / q.ow, ow = p % q.ow;
  const int64_t image = q.c_in * q.h * q.w;
  const float* row = x + img * image + oh * q.sh * q.w;
  for (int64_t i = 0; i < n; ++i) {
    rows[i] = row + ow * q.sw;
    if (++ow == q.ow) {
      ow = 0;
      if (++oh == q.oh) {
        oh = 0;
        ++img;
      }
      row = x + img * image + oh * q.sh * q.w;
    }
  }
}

// Packs B[k][c] = W[c0 + c][k] for the group's K x cols panel (zero past cout), kCols wide
// (or kCols/2 for the narrow tile).
void pack_weights(const float* w, int64_t k, int64_t c0, int64_t cols, int width, float* out) {
  for (int64_t s = 0; s < k; ++s)
    for (int c = 0; c < width; ++c) out[s * width + c] = c < cols ? w[(c0 + c) * k + s] : 0.0f;
}

// C block (np pixels x cout_g channels, pixel-major) -> y (NCHW), image runs at a time, with
// the bias and activation applied on each channel row; accumulate adds to y instead.
void store_block(const Plan& q, const float* cblk, int64_t j0, int64_t np, float* y,
                 const float* bias, UnaryOp act, float param, bool accumulate) {
  for (int64_t off = 0; off < np;) {
    const int64_t j = j0 + off, img = j / q.p, p = j % q.p;
    const int64_t len = std::min(q.p - p, np - off);
    float* base = y + img * q.c_out * q.p + p;  // channel 0 of this group, pixel p
    alignas(64) float tile[kWidth * kWidth];
    for (int64_t r0 = 0; r0 < len; r0 += kWidth) {
      const int rows = static_cast<int>(std::min<int64_t>(kWidth, len - r0));
      for (int64_t c0 = 0; c0 < q.cout_g; c0 += kWidth) {
        const int cols = static_cast<int>(std::min<int64_t>(kWidth, q.cout_g - c0));
        const float* src = cblk + (off + r0) * q.cout_g + c0;
        if (!accumulate) {
          transpose_tile(src, q.cout_g, rows, cols, base + c0 * q.p + r0, q.p);
        } else {
          transpose_tile(src, q.cout_g, rows, cols, tile, kWidth);
          for (int c = 0; c < cols; ++c) {
            float* out = base + (c0 + c) * q.p + r0;
            const VecF t = load(tile + c * kWidth);
            if (rows == kWidth)
              store(out, add(load(out), t));
            else
              store_partial(out, add(load_partial(out, rows), t), rows);
          }
        }
      }
    }
    if (bias || act != UnaryOp::Identity)
      for (int64_t co = 0; co < q.cout_g; ++co) {
        float* row = base + co * q.p;
        if (bias) {
          const VecF b = set1(bias[co]);
          int64_t t = 0;
          for (; t + kWidth <= len; t += kWidth) store(row + t, add(load(row + t), b));
          for (; t < len; ++t) row[t] += bias[co];
        }
        if (act != UnaryOp::Identity) AXON_ISA_NS::unary_forward(act, row, row, len, param);
      }
    off += len;
  }
}

// Output rows per band of forward_pass: about 8 pixel blocks, fewer when the band's padded
// input would leave L2 or when there would be too few tasks to share among the threads.
int64_t band_rows(const Plan& q, bool padded, int64_t wp) {
  auto in_rows = [&](int64_t rows) { return (rows - 1) * q.sh + q.dh * (q.kh - 1) + 1; };
  int64_t rb = std::clamp<int64_t>((8 * kPixelBlock + q.ow - 1) / q.ow, 1, q.oh);
  while (padded && rb > 1 && q.cin_g * in_rows(rb) * wp * int64_t{sizeof(float)} > kBandBytes) --rb;
  const int64_t want = 4 * int64_t{num_threads()};
  while (rb > 1 && q.groups * q.n * ((q.oh + rb - 1) / rb) < want) rb = (rb + 1) / 2;
  return rb;
}

// Rows [r0, r0 + rows) of `planes` unpadded planes (h x w, plane stride h*w) as rows of the
// zero-padded plane (row r of the result is padded row r0 + r): `rows` rows of wp floats per
// plane, plane stride `plane_stride`. Only the image's columns of a row are written (and
// whole rows of padding): the caller keeps the left and right border columns zero.
void pad_band(const float* x, int64_t planes, int64_t h, int64_t w, int64_t top, int64_t left,
              int64_t wp, int64_t r0, int64_t rows, float* out, int64_t plane_stride) {
  for (int64_t c = 0; c < planes; ++c) {
    const float* src = x + c * h * w;
    float* dst = out + c * plane_stride;
    for (int64_t r = 0; r < rows; ++r) {
      float* row = dst + r * wp;
      const int64_t sr = r0 + r - top;
      if (sr < 0 || sr >= h)
        zero_run(row, wp);
      else
        copy_run(row + left, src + sr * w, w);
    }
  }
}

// The per-thread band buffer (scratch slot 6) for `count` floats laid out as planes of
// (plane / wp) rows of wp floats with the image's columns at [left, left + w): zeroed when
// that layout differs from the previous call's, so pad_band never rewrites the border.
float* band_buffer(int64_t count, int64_t plane, int64_t wp, int64_t left, int64_t w) {
  struct Layout {
    const float* buf = nullptr;
    int64_t count = 0, plane = 0, wp = 0, left = 0, w = 0;
  };
  thread_local Layout last;
  float* buf = scratch<float>(6, static_cast<size_t>(count));
  if (last.buf != buf || last.count < count || last.plane != plane || last.wp != wp ||
      last.left != left || last.w != w) {
    zero_run(buf, count);
    last = {buf, count, plane, wp, left, w};
  }
  return buf;
}

// y (+)= conv(x, packed weights) for every group and pixel. x is the unpadded input; the
// padding is added a band of output rows at a time into a per-thread buffer that stays in L2
// for the taps reading it (a padded copy of the whole input costs a pass over memory: 18 % of
// the 56x56 layer's forward). Small images go several to a task, so register tiles run on
// across image ends (14x14 = 196 pixels would otherwise end each image on a 4-of-6 tile).
// wpk: per group, ceil(cout_g / width) panels of K x width.
void forward_pass(const ConvGeometry& g, const float* x, const float* wpk, const float* bias,
                  UnaryOp act, float param, float* y, bool accumulate) {
  const int64_t hp = g.h + g.pad_top + g.pad_bottom, wp = g.w + g.pad_left + g.pad_right;
  const bool padded = hp != g.h || wp != g.w;
  const Plan q = plan_of(g, hp, wp);
  const Tile t = tile_for(q.cout_g);
  const int width = t.nv * kWidth;
  const int64_t panels = (q.cout_g + width - 1) / width;
  const int64_t rb = band_rows(q, padded, wp);
  const int64_t bands = (q.oh + rb - 1) / rb;
  // Rows per plane of what the taps read: the band buffer, or the input itself.
  const int64_t band_h = (rb - 1) * q.sh + q.dh * (q.kh - 1) + 1;
  const int64_t plane = padded ? band_h * wp : g.h * g.w;
  const int64_t image = padded ? q.cin_g * plane : q.c_in * g.h * g.w;  // image stride there
  // Whole images per task when an image is one band: as many as fit the buffer while every
  // thread still gets four tasks.
  int64_t ipt = 1;
  if (bands == 1) {
    const int64_t by_tasks = q.groups * q.n / (4 * int64_t{num_threads()});
    const int64_t by_bytes = padded ? kBandBytes / (image * int64_t{sizeof(float)}) : q.n;
    ipt = std::clamp<int64_t>(std::min(by_tasks, by_bytes), 1, q.n);
  }
  const int64_t units = bands == 1 ? (q.n + ipt - 1) / ipt : q.n * bands;
  Plan qb = q;  // the taps' view: planes of `plane` floats, rows of wp
  qb.h = plane / wp, qb.w = wp;
  struct Unit {
    int64_t group, img0, images, r0, rows_out;
  };
  auto unit_of = [&](int64_t task) {
    Unit u;
    u.group = task / units;
    const int64_t k = task % units;
    if (bands == 1) {
      u.img0 = k * ipt, u.images = std::min(ipt, q.n - u.img0), u.r0 = 0, u.rows_out = q.oh;
    } else {
      u.img0 = k / bands, u.images = 1, u.r0 = k % bands * rb;
      u.rows_out = std::min(rb, q.oh - u.r0);
    }
    return u;
  };
  // Unpadded input rows [first, last) a unit reads, clamped to the image.
  auto source_rows = [&](const Unit& u, int64_t* first, int64_t* last) {
    *first = std::max<int64_t>(0, u.r0 * q.sh - g.pad_top);
    *last = std::clamp<int64_t>((u.r0 + u.rows_out - 1) * q.sh + q.dh * (q.kh - 1) + 1 - g.pad_top,
                                *first, g.h);
  };
  const int64_t tasks = q.groups * units;
  // Contiguous runs of tasks per thread, so that while one unit is computed the next one's
  // input can be prefetched into L2 (copying it in cold took 10 % of the 56x56 layer).
  parallel_range(tasks, 1, [&](int64_t task0, int64_t task1) {
    for (int64_t task = task0; task < task1; ++task) {
      const Unit u = unit_of(task);
      const int64_t gi = u.group;
      const float* src;
      if (padded) {
        float* buf = band_buffer(ipt * image, plane, wp, g.pad_left, g.w);
        for (int64_t m = 0; m < u.images; ++m)
          pad_band(x + ((u.img0 + m) * q.c_in + gi * q.cin_g) * g.h * g.w, q.cin_g, g.h, g.w,
                   g.pad_top, g.pad_left, wp, u.r0 * q.sh,
                   (u.rows_out - 1) * q.sh + q.dh * (q.kh - 1) + 1, buf + m * image, plane);
        src = buf;
      } else {
        src = x + (u.img0 * q.c_in + gi * q.cin_g) * g.h * g.w + u.r0 * q.sh * wp;
      }
      // The next task's input rows, one range per channel and image, prefetched into L2 a
      // share per pixel block.
      const float* next_x = nullptr;
      Unit next{};
      int64_t next_len = 0, next_lines = 0, prefetched = 0, line_per_chan = 1, next_chan = 0,
              next_line = 0;
      auto next_channel = [&](int64_t c) {
        return x + ((next.img0 + c / q.cin_g) * q.c_in + next.group * q.cin_g + c % q.cin_g) * g.h *
                       g.w;
      };
      if (task + 1 < task1) {
        next = unit_of(task + 1);
        int64_t first, last;
        source_rows(next, &first, &last);
        next_len = (last - first) * g.w;
        line_per_chan = std::max<int64_t>(1, (next_len + 15) / 16);
        next_lines = next.images * q.cin_g * line_per_chan;
        next_x = next_channel(0) + first * g.w;
      }
      const float* wg = wpk + gi * panels * q.k * width;
      int64_t* off = scratch<int64_t>(2, static_cast<size_t>(q.k));
      tap_offsets(qb, off);
      float* cblk = scratch<float>(1, static_cast<size_t>(kPixelBlock * q.cout_g));
      float* yg = y + gi * q.cout_g * q.p;
      const float* bg = bias ? bias + gi * q.cout_g : nullptr;
      // Bias is the accumulators' starting value and relu is applied as the tile is stored, so
      // only other activations need a pass over the output (after the transpose into NCHW).
      const bool fuse = !accumulate;
      const bool relu = fuse && act == UnaryOp::Relu;
      float* binit = scratch<float>(0, static_cast<size_t>(panels * width));
      for (int64_t c = 0; c < panels * width; ++c) binit[c] = bg && c < q.cout_g ? bg[c] : 0.0f;
      // The unit's pixels as `images` images of rows_out rows (pixel_rows walks them).
      Plan unit_plan = qb;
      unit_plan.n = u.images, unit_plan.oh = u.rows_out, unit_plan.p = u.rows_out * q.ow;
      unit_plan.c_in = image / plane;  // so that pixel_rows steps images by `image`
      const int64_t total = u.images * unit_plan.p, first_pixel = u.img0 * q.p + u.r0 * q.ow;
      const float* rows[kPixelBlock];
      const int64_t ksplit = (q.k + kSteps - 1) / kSteps;
      const int64_t kchunk = (q.k + ksplit - 1) / ksplit;  // even chunks: no short last one
      for (int64_t j0 = 0; j0 < total; j0 += kPixelBlock) {
        const int64_t np = std::min(kPixelBlock, total - j0);
        pixel_rows(unit_plan, src, j0, np, rows);
        if (next_x) {
          const int64_t upto = next_lines * std::min(total, j0 + kPixelBlock) / total;
          for (; prefetched < upto; ++prefetched) {
            __builtin_prefetch(next_x + next_line * 16, 0, 2);
            if (++next_line == line_per_chan && prefetched + 1 < next_lines) {
              next_line = 0;
              next_x += next_channel(next_chan + 1) - next_channel(next_chan);
              ++next_chan;
            }
          }
        }
        // The block's output lines (one run per channel and image), fetched for writing while
        // the block computes: stores that miss stall once the store buffer fills with them.
        for (int64_t done = 0; done < np;) {
          const int64_t j = first_pixel + j0 + done, im = j / q.p, p = j % q.p;
          const int64_t len = std::min(q.p - p, np - done);
          for (int64_t co = 0; co < q.cout_g; ++co) {
            const float* run = yg + (im * q.c_out + co) * q.p + p;
            for (int64_t e = 0; e < len; e += 16) __builtin_prefetch(run + e, 1, 3);
            __builtin_prefetch(run + len - 1, 1, 3);
          }
          done += len;
        }
        for (int64_t pc = 0; pc < q.k; pc += kchunk) {
          const int64_t kc = std::min(kchunk, q.k - pc);
          const bool first = pc == 0, last = pc + kc == q.k;
          for (int64_t cp = 0; cp < panels; ++cp) {
            const float* bp = wg + cp * q.k * width + pc * width;
            const int ncols = static_cast<int>(std::min<int64_t>(width, q.cout_g - cp * width));
            for (int64_t i0 = 0; i0 < np; i0 += t.rows) {
              const int mr = static_cast<int>(std::min<int64_t>(t.rows, np - i0));
              run_kernel(t, kc, rows + i0, off + pc, bp, cblk + i0 * q.cout_g + cp * width,
                         q.cout_g, mr, ncols, first ? 0.0f : 1.0f,
                         first && fuse && bg ? binit + cp * width : nullptr, last && relu);
            }
          }
        }
        store_block(q, cblk, first_pixel + j0, np, yg, fuse ? nullptr : bg,
                    relu ? UnaryOp::Identity : act, param, accumulate);
      }
    }
  });
}

// Weights of every group packed for forward_pass: [group][panel][k][width].
float* packed_weights(const ConvGeometry& g, const float* w, int64_t cout_g, int64_t k, int slot) {
  const int width = tile_for(cout_g).nv * kWidth;
  const int64_t panels = (cout_g + width - 1) / width;
  float* out = scratch<float>(slot, static_cast<size_t>(g.groups * panels * k * width));
  for (int64_t gi = 0; gi < g.groups; ++gi)
    for (int64_t cp = 0; cp < panels; ++cp)
      pack_weights(w + gi * cout_g * k, k, cp * width,
                   std::min<int64_t>(width, cout_g - cp * width), width,
                   out + (gi * panels + cp) * k * width);
  return out;
}

// ---- backward data through col2im (strided convolutions) ------------------------------------

void backward_data_col2im(const ConvGeometry& g, const float* dy, const float* w, float* dx) {
  const int64_t hp = g.h + g.pad_top + g.pad_bottom, wp = g.w + g.pad_left + g.pad_right;
  const bool pad = hp != g.h || wp != g.w;
  float* dxp = dx;
  if (pad) {
    dxp = scratch<float>(3, static_cast<size_t>(g.n * g.c_in * hp * wp));
    parallel_range(g.n * g.c_in, 8, [&](int64_t p0, int64_t p1) {
      zero_run(dxp + p0 * hp * wp, (p1 - p0) * hp * wp);
    });
  }
  const Plan q = plan_of(g, hp, wp);
  const int64_t block =
      std::max<int64_t>(64, std::min<int64_t>(q.p, (int64_t{1} << 20) / std::max<int64_t>(q.k, 1)));
  parallel_for(g.n * g.groups, [&](int64_t job) {
    const int64_t n = job / g.groups, gi = job % g.groups;
    const float* wg = w + gi * q.cout_g * q.k;
    const float* dyg = dy + (n * g.c_out + gi * q.cout_g) * q.p;
    float* dxg = dxp + (n * g.c_in + gi * q.cin_g) * hp * wp;
    float* dcol = scratch<float>(1, static_cast<size_t>(q.k * block));
    int64_t* off = scratch<int64_t>(2, static_cast<size_t>(q.k));
    tap_offsets(q, off);
    for (int64_t p0 = 0; p0 < q.p; p0 += block) {
      const int64_t np = std::min(block, q.p - p0);
      GemmArgs ga;
      ga.trans_a = Trans::Yes, ga.trans_b = Trans::No;
      ga.m = q.k, ga.n = np, ga.k = q.cout_g;
      ga.a = wg, ga.lda = q.k;
      ga.b = dyg + p0, ga.ldb = q.p;
      ga.c = dcol, ga.ldc = np;
      AXON_ISA_NS::gemm(ga);
      for (int64_t j = 0; j < np; ++j) {
        float* corner = dxg + pixel_base(q, p0 + j);  // image 0 of this job
        for (int64_t k = 0; k < q.k; ++k) corner[off[k]] += dcol[k * np + j];
      }
    }
  });
  if (pad)
    parallel_range(g.n * g.c_in, 8, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p)
        for (int64_t r = 0; r < g.h; ++r) {
          const float* src = dxp + (p * hp + g.pad_top + r) * wp + g.pad_left;
          float* out = dx + (p * g.h + r) * g.w;
          int64_t t = 0;
          for (; t + kWidth <= g.w; t += kWidth) store(out + t, add(load(out + t), load(src + t)));
          for (; t < g.w; ++t) out[t] += src[t];
        }
    });
}

// ---- direct forward for few input taps (a network's first layer) ---------------------------
//
// With K = Cin*kH*kW small (a grey or RGB image), each implicit-GEMM tile does only K steps,
// so starting and storing the tile and transposing it into NCHW cost more than the
// arithmetic. Here vectors run along a channel's output plane flattened (o = i*OW + j, which
// NCHW keeps contiguous), so every lane is useful even when OW is not a multiple of the vector
// width (28 of 32 lanes were with vectors along rows). For each input channel ci and kernel
// column kj the band's input is first copied into a shifted plane
//   S[ci][kj][r][j] = x[ci][r0 + r - pad_top][j + kj - pad_left]  (zero outside the image),
// rows of OW, after which output o of the band is sum over (ci, ki, kj) of
// w[co][ci][ki][kj] * S[ci][kj][o + ki*OW]: one contiguous load per tap and vector, one
// broadcast weight per tap and channel, and the tile stored straight into NCHW.
#if defined(AXON_ISA_AVX512) || defined(AXON_ISA_NEON)
constexpr int kDirectCo = 8, kDirectV = 3;  // 24 accumulators of 32 registers
#elif defined(AXON_ISA_AVX2)
constexpr int kDirectCo = 4, kDirectV = 3;  // 12 of 16
#else
constexpr int kDirectCo = 4, kDirectV = 2;
#endif
constexpr int64_t kDirectMaxTaps = 32;

bool direct_applies(const ConvGeometry& g) {
  return g.groups == 1 && g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 && g.dil_w == 1 &&
         g.c_in * g.kh * g.kw <= kDirectMaxTaps && g.c_out >= kDirectCo;
}

// Winograd's F(4x4, 3x3) and F(2x2, 5x5) (below): stride 1, square 3x3 or 5x5, no groups.
bool winograd_applies(const ConvGeometry& g) {
  return g.groups == 1 && g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 && g.dil_w == 1 &&
         g.kh == g.kw && (g.kh == 3 || g.kh == 5);
}

// The direct forward kernel, unless an algorithm is forced that applies here.
bool use_direct(const ConvGeometry& g) {
  const ConvAlgorithm a = conv_algorithm();
  if (a == ConvAlgorithm::ImplicitGemm || (a == ConvAlgorithm::Winograd && winograd_applies(g)))
    return false;
  return direct_applies(g);
}

// One tile: kDirectCo channels x V vectors of flattened outputs. s: the shifted planes at the
// tile's first output; toff[k]: tap k's offset from there; wb[k][c]: the block's weights;
// init[c]: the bias; y: the first channel's output at the tile, channel planes `plane` apart;
// the last vector stores last_n lanes.
template <int V>
void direct_tile(const float* s, const int64_t* toff, int64_t taps, const float* wb,
                 const float* init, int cos, float* y, int64_t plane, int last_n, bool relu) {
  VecF acc[kDirectCo][V];
#pragma GCC unroll 8
  for (int c = 0; c < kDirectCo; ++c) {
    const VecF b = set1(init[c]);
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[c][v] = b;
  }
  for (int64_t k = 0; k < taps; ++k) {
    const float* xs = s + toff[k];
    VecF xv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) xv[v] = load(xs + v * kWidth);
    const float* wk = wb + k * kDirectCo;
#pragma GCC unroll 8
    for (int c = 0; c < kDirectCo; ++c) {
      const VecF wv = set1(wk[c]);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[c][v] = fmadd(wv, xv[v], acc[c][v]);
    }
  }
#pragma GCC unroll 8
  for (int c = 0; c < kDirectCo; ++c) {
    if (c >= cos) break;
    float* out = y + c * plane;
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const VecF r = relu ? max(acc[c][v], zero()) : acc[c][v];
      if (v + 1 < V || last_n == kWidth)
        store(out + v * kWidth, r);
      else
        store_partial(out + v * kWidth, r, last_n);
    }
  }
}

// The shifted planes of one image's output rows [r0, r0 + rows_in - kH + 1): for each input
// channel ci and kernel column kj, rows_in rows of OW floats,
//   sp[(ci*kW + kj)*splane + r*OW + j] = x[ci][r0 + r - pad_top][j + kj - pad_left]
// (zero outside the image), then zeros to the end of the plane (splane floats).
void shifted_planes(const ConvGeometry& g, const float* x, int64_t r0, int64_t rows_in, float* sp,
                    int64_t splane) {
  const int64_t ow = g.out_w();
  for (int64_t ci = 0; ci < g.c_in; ++ci) {
    const float* xc = x + ci * g.h * g.w;
    for (int64_t kj = 0; kj < g.kw; ++kj) {
      float* dst = sp + (ci * g.kw + kj) * splane;
      const int64_t shift = kj - g.pad_left;
      const int64_t lo = std::clamp<int64_t>(-shift, 0, ow);
      const int64_t hi = std::clamp<int64_t>(g.w - shift, lo, ow);
      for (int64_t r = 0; r < rows_in; ++r) {
        float* row = dst + r * ow;
        const int64_t sr = r0 + r - g.pad_top;
        if (sr < 0 || sr >= g.h) {
          zero_run(row, ow);
          continue;
        }
        zero_run(row, lo);
        copy_run(row + lo, xc + sr * g.w + lo + shift, hi - lo);
        zero_run(row + hi, ow - hi);
      }
      zero_run(dst + rows_in * ow, splane - rows_in * ow);
    }
  }
}

void direct_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    UnaryOp act, float param, float* y) {
  const int64_t oh = g.out_h(), ow = g.out_w(), taps = g.c_in * g.kh * g.kw;
  const int64_t co_blocks = (g.c_out + kDirectCo - 1) / kDirectCo;
  // wt[block][tap][c]: the block's channel weights of each tap side by side (zero past Cout),
  // taps in (ci, ki, kj) order; binit[block][c]: the bias.
  float* wt = scratch<float>(4, static_cast<size_t>(co_blocks * (taps + 1) * kDirectCo));
  float* binit = wt + co_blocks * taps * kDirectCo;
  for (int64_t b = 0; b < co_blocks; ++b)
    for (int c = 0; c < kDirectCo; ++c) {
      const int64_t co = b * kDirectCo + c;
      for (int64_t k = 0; k < taps; ++k)
        wt[(b * taps + k) * kDirectCo + c] = co < g.c_out ? w[co * taps + k] : 0.0f;
      binit[b * kDirectCo + c] = co < g.c_out && bias ? bias[co] : 0.0f;
    }
  // Bands of output rows: a few thousand outputs each, enough bands for every thread.
  int64_t rb = std::clamp<int64_t>((4096 + ow - 1) / ow, 1, oh);
  while (rb > 1 && g.n * ((oh + rb - 1) / rb) < 2 * int64_t{num_threads()}) rb = (rb + 1) / 2;
  const int64_t bands = (oh + rb - 1) / rb;
  const int64_t rows_max = rb + g.kh - 1;
  // A shifted plane, with a vector of slack per tile vector so the last tile reads in bounds.
  const int64_t splane = (rows_max * ow + kDirectV * kWidth + 15) / 16 * 16;
  int64_t toff[kDirectMaxTaps];
  for (int64_t ci = 0, k = 0; ci < g.c_in; ++ci)
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj) toff[k++] = (ci * g.kw + kj) * splane + ki * ow;
  const bool relu = act == UnaryOp::Relu;
  const int64_t plane = oh * ow;
  // Contiguous runs of bands per thread: claiming bands one by one from the pool measured
  // 0.68x oneDNN at 2 threads on the 1->32 layer against 0.89x this way.
  parallel_range(g.n * bands, 1, [&](int64_t task0, int64_t task1) {
    for (int64_t task = task0; task < task1; ++task) {
      const int64_t n = task / bands, r0 = task % bands * rb, rows_out = std::min(rb, oh - r0);
      const int64_t rows_in = rows_out + g.kh - 1;
      float* sp = scratch<float>(3, static_cast<size_t>(g.c_in * g.kw * splane));
      shifted_planes(g, x + n * g.c_in * g.h * g.w, r0, rows_in, sp, splane);
      const int64_t total = rows_out * ow;
      float* yband = y + n * g.c_out * plane + r0 * ow;
      constexpr int64_t span = kDirectV * kWidth;
      for (int64_t o0 = 0; o0 < total; o0 += span) {
        const int64_t left = total - o0;
        const int vecs =
            static_cast<int>(std::min<int64_t>(kDirectV, (left + kWidth - 1) / kWidth));
        const int last_n = static_cast<int>(left >= span ? kWidth : left - (vecs - 1) * kWidth);
        // The next tile's output lines, fetched for writing while this one computes.
        if (o0 + span < total)
          for (int64_t co = 0; co < g.c_out; ++co)
            for (int64_t e = 0; e < span; e += 16)
              __builtin_prefetch(yband + co * plane + o0 + span + e, 1, 3);
        for (int64_t b = 0; b < co_blocks; ++b) {
          const int cos = static_cast<int>(std::min<int64_t>(kDirectCo, g.c_out - b * kDirectCo));
          const float* wb = wt + b * taps * kDirectCo;
          const float* init = binit + b * kDirectCo;
          float* yt = yband + b * kDirectCo * plane + o0;
          if (vecs == kDirectV)
            direct_tile<kDirectV>(sp + o0, toff, taps, wb, init, cos, yt, plane, last_n, relu);
          else if (vecs == 2)
            direct_tile<2>(sp + o0, toff, taps, wb, init, cos, yt, plane, last_n, relu);
          else
            direct_tile<1>(sp + o0, toff, taps, wb, init, cos, yt, plane, last_n, relu);
        }
      }
      if (act != UnaryOp::Identity && !relu)
        for (int64_t co = 0; co < g.c_out; ++co)
          AXON_ISA_NS::unary_forward(act, yband + co * plane, yband + co * plane, total, param);
    }
  });
}

// ---- direct weight gradient for few input taps ----------------------------------------------
//
// dW[co][k] = sum over images and outputs o of dy[co][o] * S[tap k][o] with the shifted planes
// of direct_forward: a tile of kWgradCo channels x kWgradTaps taps keeps one vector accumulator
// per pair, each output vector costs one load per channel and per tap, and the sums are
// reduced across lanes once per image. The implicit GEMM instead ran 25-tap tiles of 12 rows
// (25 = 2 x 12 + 1) at half of oneDNN's rate on the 1->32 layer.
constexpr int kWgradCo = 4, kWgradTaps = 6;

// part: the tile's running sums, one vector per (channel, tap), (c * taps + t) * kWidth;
// reduced across lanes only once all images are done.
template <int T>
void wgrad_tile(const float* dy, int64_t plane, int cos, const float* s, const int64_t* toff,
                int64_t total, float* part, int64_t taps) {
  VecF acc[kWgradCo][T];
#pragma GCC unroll 4
  for (int c = 0; c < kWgradCo; ++c)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[c][t] = zero();
  const float* dyc[kWgradCo];
  for (int c = 0; c < kWgradCo; ++c) dyc[c] = dy + std::min(c, cos - 1) * plane;
  const float* st[T];
  for (int t = 0; t < T; ++t) st[t] = s + toff[t];
  int64_t o = 0;
  for (; o + kWidth <= total; o += kWidth) {
    VecF d[kWgradCo];
#pragma GCC unroll 4
    for (int c = 0; c < kWgradCo; ++c) d[c] = load(dyc[c] + o);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const VecF v = load(st[t] + o);
#pragma GCC unroll 4
      for (int c = 0; c < kWgradCo; ++c) acc[c][t] = fmadd(d[c], v, acc[c][t]);
    }
  }
  if (o < total) {
    const int n = static_cast<int>(total - o);
    VecF d[kWgradCo];
    for (int c = 0; c < kWgradCo; ++c) d[c] = load_partial(dyc[c] + o, n);
    for (int t = 0; t < T; ++t) {
      const VecF v = load_partial(st[t] + o, n);
      for (int c = 0; c < kWgradCo; ++c) acc[c][t] = fmadd(d[c], v, acc[c][t]);
    }
  }
#pragma GCC unroll 4
  for (int c = 0; c < kWgradCo; ++c)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      float* p = part + (c * taps + t) * kWidth;
      store(p, add(load(p), acc[c][t]));
    }
}

// wgrad_tile by tap count (1..kWgradTaps).
using WgradTile = void (*)(const float*, int64_t, int, const float*, const int64_t*, int64_t,
                           float*, int64_t);
constexpr WgradTile kWgradTiles[kWgradTaps + 1] = {nullptr,        &wgrad_tile<1>, &wgrad_tile<2>,
                                                   &wgrad_tile<3>, &wgrad_tile<4>, &wgrad_tile<5>,
                                                   &wgrad_tile<6>};

void direct_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                            float* db) {
  const int64_t oh = g.out_h(), ow = g.out_w(), taps = g.c_in * g.kh * g.kw, plane = oh * ow;
  // Whole images (the sums run over a plane's outputs), shared out in contiguous runs; each
  // chunk accumulates its own dW and db, added up in chunk order (deterministic).
  const int64_t splane = (oh + g.kh - 1) * ow + kWidth;
  int64_t toff[kDirectMaxTaps];
  for (int64_t ci = 0, k = 0; ci < g.c_in; ++ci)
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj) toff[k++] = (ci * g.kw + kj) * splane + ki * ow;
  // Taps in even blocks of at most kWgradTaps (25 = 5 x 5, not 4 x 6 + 1).
  const int64_t tap_blocks = (taps + kWgradTaps - 1) / kWgradTaps;
  const int64_t tap_block = (taps + tap_blocks - 1) / tap_blocks;
  const int64_t chunks = std::min<int64_t>(num_threads(), g.n);
  // Per chunk: dW (Cout x taps) then db, reduced from the chunk's own vector sums.
  const int64_t co_pad = (g.c_out + kWgradCo - 1) / kWgradCo * kWgradCo;
  const int64_t per = g.c_out * taps + g.c_out;
  float* acc = scratch<float>(5, static_cast<size_t>(chunks * per));
  parallel_for(chunks, [&](int64_t chunk) {
    // One vector of running sums per (channel, tap), in this thread's own buffer.
    float* dwc = scratch<float>(0, static_cast<size_t>(co_pad * taps * kWidth));
    std::memset(dwc, 0, sizeof(float) * static_cast<size_t>(co_pad * taps * kWidth));
    float* dbc = acc + chunk * per + g.c_out * taps;
    std::memset(dbc, 0, sizeof(float) * static_cast<size_t>(g.c_out));
    float* sp = scratch<float>(3, static_cast<size_t>(g.c_in * g.kw * splane));
    for (int64_t n = g.n * chunk / chunks; n < g.n * (chunk + 1) / chunks; ++n) {
      shifted_planes(g, x + n * g.c_in * g.h * g.w, 0, oh + g.kh - 1, sp, splane);
      const float* dyn = dy + n * g.c_out * plane;
      for (int64_t c0 = 0; c0 < g.c_out; c0 += kWgradCo) {
        const int cos = static_cast<int>(std::min<int64_t>(kWgradCo, g.c_out - c0));
        const float* dyb = dyn + c0 * plane;
        for (int64_t t0 = 0; t0 < taps; t0 += tap_block) {
          const int64_t* to = toff + t0;
          float* out = dwc + (c0 * taps + t0) * kWidth;
          kWgradTiles[std::min<int64_t>(tap_block, taps - t0)](dyb, plane, cos, sp, to, plane, out,
                                                               taps);
        }
        if (db)
          for (int c = 0; c < cos; ++c) dbc[c0 + c] += row_sum(dyb + c * plane, plane);
      }
    }
    float* dw_chunk = acc + chunk * per;
    for (int64_t i = 0; i < g.c_out * taps; ++i) dw_chunk[i] = reduce_add(load(dwc + i * kWidth));
  });
  for (int64_t c = 0; c < chunks; ++c) {
    const float* dwc = acc + c * per;
    for (int64_t i = 0; i < g.c_out * taps; ++i) dw[i] += dwc[i];
    if (db)
      for (int64_t co = 0; co < g.c_out; ++co) db[co] += dwc[g.c_out * taps + co];
  }
}

// ---- Winograd F(4x4, 3x3) and F(2x2, 5x5) ----------------------------------------------------
// Y = A^T [ (G g G^T) . (B^T d B) ] A per tile of m x m outputs, alpha = m + r - 1 = 6 for both,
// on the same points (0, 1, -1, 2, -2, inf), so they share the input transform B^T. The 36
// element-wise products summed over input channels are 36 GEMMs (tiles x Cin . Cin x Cout),
// run by the offset microkernel above with tiles as rows. Multiplications per output fall
// from r*r*Cin to 36/(m*m)*Cin: 4x fewer for 3x3, 2.8x for 5x5; the transforms are vectors
// along channels over an HWC copy of the unit's input, so they cost a few percent.
// Rounding: alpha = 6 keeps the transform entries small (|entries| <= 5, G >= 1/24), and the
// tests hold the results to the same tolerance as the other paths.
constexpr int kAlpha = 6, kAlpha2 = kAlpha * kAlpha;
constexpr int64_t kWinogradTiles = 48;  // tiles per task: its HWC input and outputs stay in L2
constexpr int64_t kWinogradBlock = 64;  // most tiles per block of the weight gradient's GEMMs
// With fewer input channels the 36 GEMMs' reductions are too short for the transforms to pay:
// 8->64 runs at 1.11x the implicit GEMM's speed on 3x3 (4x fewer multiplications) but 0.96x on
// 5x5 (2.8x fewer), 4->32 on 5x5 at 0.55x; few output channels hurt the implicit GEMM as much
// (64->8: Winograd 1.6-2x). Measured: bench/RESULTS.md.
constexpr int64_t kWinogradMinIn3x3 = 8, kWinogradMinIn5x5 = 16, kWinogradMinOut = 8;

bool use_winograd(const ConvGeometry& g) {
  const ConvAlgorithm a = conv_algorithm();
  if (a == ConvAlgorithm::ImplicitGemm || !winograd_applies(g)) return false;
  const int64_t min_in = g.kh == 3 ? kWinogradMinIn3x3 : kWinogradMinIn5x5;
  return a == ConvAlgorithm::Winograd || (g.c_in >= min_in && g.c_out >= kWinogradMinOut);
}

// G (alpha x r) of each kernel size, rows in the order of the points.
template <int R>
constexpr float kG[kAlpha][R] = {};
template <>
constexpr float kG<3>[kAlpha][3] = {{1.0f / 4, 0, 0},
                                    {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                    {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                    {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                    {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                    {0, 0, 1}};
template <>
constexpr float kG<5>[kAlpha][5] = {{1.0f / 4, 0, 0, 0, 0},
                                    {-1.0f / 6, -1.0f / 6, -1.0f / 6, -1.0f / 6, -1.0f / 6},
                                    {-1.0f / 6, 1.0f / 6, -1.0f / 6, 1.0f / 6, -1.0f / 6},
                                    {1.0f / 24, 1.0f / 12, 1.0f / 6, 1.0f / 3, 2.0f / 3},
                                    {1.0f / 24, -1.0f / 12, 1.0f / 6, -1.0f / 3, 2.0f / 3},
                                    {0, 0, 0, 0, 1}};

// U[e][panel][ci][width] = (G w[co][ci] G^T)[e] for e = xi * 6 + nu, zero past cout: the B
// operands of the 36 GEMMs. w is (cout, cin, R, R). Vectors run along the panel's output
// channels (its columns), so each kernel is first gathered into taps x channels.
template <int R>
float* winograd_weights(const float* w, int64_t cout, int64_t cin, int width) {
  const int64_t panels = (cout + width - 1) / width;
  float* u = scratch<float>(4, static_cast<size_t>(kAlpha2 * panels * cin * width));
  parallel_range(panels * cin, 8, [&](int64_t j0, int64_t j1) {
    alignas(64) float k[R * R][kNv * kWidth];
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t cp = j / cin, ci = j % cin;
      for (int c = 0; c < width; ++c) {
        const int64_t co = cp * width + c;
        for (int tap = 0; tap < R * R; ++tap)
          k[tap][c] = co < cout ? w[(co * cin + ci) * R * R + tap] : 0.0f;
      }
      for (int c = 0; c < width; c += kWidth) {
        VecF t[kAlpha][R];  // t = G k
        for (int a = 0; a < kAlpha; ++a)
          for (int b = 0; b < R; ++b) {
            VecF sum = zero();
            for (int i = 0; i < R; ++i) sum = fmadd(set1(kG<R>[a][i]), load(k[i * R + b] + c), sum);
            t[a][b] = sum;
          }
        for (int a = 0; a < kAlpha; ++a)  // t G^T
          for (int b = 0; b < kAlpha; ++b) {
            VecF sum = zero();
            for (int i = 0; i < R; ++i) sum = fmadd(t[a][i], set1(kG<R>[b][i]), sum);
            store(u + (((a * kAlpha + b) * panels + cp) * cin + ci) * width + c, sum);
          }
      }
    }
  });
  return u;
}

// o = B^T d for one column (or row) of six vectors.
inline void input_transform6(const VecF d[kAlpha], VecF o[kAlpha]) {
  const VecF four = set1(4.0f), five = set1(5.0f), two = set1(2.0f);
  o[0] = fmadd(four, d[0], fnmadd(five, d[2], d[4]));
  const VecF a = fnmadd(four, d[2], d[4]), b = fnmadd(four, d[1], d[3]);
  o[1] = add(a, b);
  o[2] = sub(a, b);
  const VecF c = sub(d[4], d[2]), e = mul(two, sub(d[3], d[1]));
  o[3] = add(c, e);
  o[4] = sub(c, e);
  o[5] = fmadd(four, d[1], fnmadd(five, d[3], d[5]));
}

// o = A^T m for one column (or row) of six vectors: M outputs.
template <int M>
inline void output_transform6(const VecF m[kAlpha], VecF o[M]) {
  const VecF s1 = add(m[1], m[2]), d1 = sub(m[1], m[2]);
  const VecF s2 = add(m[3], m[4]), d2 = sub(m[3], m[4]);
  const VecF two = set1(2.0f);
  o[0] = add(m[0], add(s1, s2));
  if constexpr (M == 2) {
    o[1] = add(fmadd(two, d2, d1), m[5]);
  } else {
    o[1] = fmadd(two, d2, d1);
    o[2] = fmadd(set1(4.0f), s2, s1);
    o[3] = add(fmadd(set1(8.0f), d2, d1), m[5]);
  }
}

// V[e][tile][c] = (B^T d B)[e] for the tile whose 6 x 6 input window starts at d (HWC: rows
// `row` floats apart, columns cpad apart), every channel vector; `estride` floats between e's.
void winograd_input_tile(const float* d, int64_t row, int64_t cpad, float* v, int64_t estride) {
  for (int64_t c = 0; c < cpad; c += kWidth) {
    VecF t[kAlpha][kAlpha];  // t[a][b] = (B^T d)[a][b]
    for (int b = 0; b < kAlpha; ++b) {
      VecF col[kAlpha], o[kAlpha];
      for (int a = 0; a < kAlpha; ++a) col[a] = load(d + a * row + b * cpad + c);
      input_transform6(col, o);
      for (int a = 0; a < kAlpha; ++a) t[a][b] = o[a];
    }
    for (int a = 0; a < kAlpha; ++a) {
      VecF o[kAlpha];
      input_transform6(t[a], o);
      for (int b = 0; b < kAlpha; ++b) store(v + (a * kAlpha + b) * estride + c, o[b]);
    }
  }
}

// One tile's M x M outputs from its 36 GEMM results (M[e][c] at m + e * estride): A^T M A per
// channel vector, plus bias, relu when asked, stored pixel-major into out (ld cout) for the
// rows < rows and columns < cols of the tile that exist.
template <int M>
void winograd_output_tile(const float* m, int64_t estride, int64_t cout, const float* bias,
                          bool relu, float* out, int64_t ld_row, int rows, int cols) {
  for (int64_t c = 0; c < cout; c += kWidth) {
    const int n = static_cast<int>(std::min<int64_t>(kWidth, cout - c));
    VecF t[M][kAlpha];  // t = A^T M
    for (int b = 0; b < kAlpha; ++b) {
      VecF col[kAlpha], o[M];
      for (int a = 0; a < kAlpha; ++a) col[a] = load(m + (a * kAlpha + b) * estride + c);
      output_transform6<M>(col, o);
      for (int a = 0; a < M; ++a) t[a][b] = o[a];
    }
    const VecF bv = bias ? load_partial(bias + c, n) : zero();
    for (int a = 0; a < rows; ++a) {
      VecF o[M];
      output_transform6<M>(t[a], o);
      for (int b = 0; b < cols; ++b) {
        VecF r = add(o[b], bv);
        if (relu) r = max(r, zero());
        float* p = out + a * ld_row + b * cout + c;
        if (n == kWidth)
          store(p, r);
        else
          store_partial(p, r, n);
      }
    }
  }
}

// Rows [pr0, pr0 + rows) and columns [0, cols) of `planes` planes of h x w seen with `top`
// rows and `left` columns of zeros before them (the padded image), as HWC with cpad floats per
// pixel: zero outside the planes and in channels past `planes`.
void hwc_rows(const float* src, int64_t planes, int64_t h, int64_t w, int64_t top, int64_t left,
              int64_t pr0, int64_t rows, int64_t cols, int64_t cpad, float* buf) {
  zero_run(buf, rows * cols * cpad);
  const int64_t ncols = std::min(w, cols - left);
  for (int64_t a = 0; a < rows; ++a) {
    const int64_t sr = pr0 + a - top;
    if (sr < 0 || sr >= h || ncols <= 0) continue;
    float* dst = buf + (a * cols + left) * cpad;
    for (int64_t c0 = 0; c0 < planes; c0 += kWidth)
      for (int64_t s0 = 0; s0 < ncols; s0 += kWidth)
        transpose_tile(src + c0 * h * w + sr * w + s0, h * w,
                       static_cast<int>(std::min<int64_t>(kWidth, planes - c0)),
                       static_cast<int>(std::min<int64_t>(kWidth, ncols - s0)),
                       dst + s0 * cpad + c0, cpad);
  }
}

// How a Winograd pass splits the batch: a unit is a band of tile rows of one image, or whole
// images when an image has few tiles, about kWinogradTiles tiles while every thread still
// gets four units.
struct WinogradUnits {
  int64_t n, th, tw;   // images; tiles per image, down and across
  int64_t trows, ipt;  // tile rows per band; images per unit (when bands == 1)
  int64_t bands, count;
  struct Unit {
    int64_t img0, images, tr0, tr;  // images, and tile rows [tr0, tr0 + tr) of each
  };
  WinogradUnits(const ConvGeometry& g, int m) {
    n = g.n, th = (g.out_h() + m - 1) / m, tw = (g.out_w() + m - 1) / m;
    const int64_t want = 4 * int64_t{num_threads()};
    trows = th, ipt = 1;
    if (th * tw >= kWinogradTiles) {
      trows = std::clamp<int64_t>(kWinogradTiles / tw, 1, th);
      while (trows > 1 && g.n * ((th + trows - 1) / trows) < want) trows = (trows + 1) / 2;
    } else {
      ipt = std::clamp<int64_t>(std::min(kWinogradTiles / (th * tw), g.n / want), 1, g.n);
    }
    bands = (th + trows - 1) / trows;
    count = bands == 1 ? (g.n + ipt - 1) / ipt : g.n * bands;
  }
  int64_t max_tiles() const { return ipt * trows * tw; }
  Unit operator[](int64_t unit) const {
    if (bands == 1) return {unit * ipt, std::min(ipt, n - unit * ipt), 0, th};
    return {unit / bands, 1, unit % bands * trows, std::min(trows, th - unit % bands * trows)};
  }
};

// Tile `tile` of a unit (its images one after another, tr rows of tw tiles each): image, tile
// row, tile column.
struct TileAt {
  int64_t im, ty, tx;
};
inline TileAt tile_at(int64_t tile, int64_t tr, int64_t tw) {
  return {tile / (tr * tw), tile / tw % tr, tile % tw};
}

// y (+)= conv(x, w) by Winograd for a geometry winograd_applies to; u from winograd_weights.
template <int M>
void winograd_pass(const ConvGeometry& g, const float* x, const float* u, const float* bias,
                   UnaryOp act, float param, float* y, bool accumulate) {
  constexpr int r = kAlpha + 1 - M;
  const int64_t oh = g.out_h(), ow = g.out_w(), tw = (ow + M - 1) / M;
  const Plan q = plan_of(g, g.h + g.pad_top + g.pad_bottom, g.w + g.pad_left + g.pad_right);
  const Tile t = tile_for(g.c_out);
  const int width = t.nv * kWidth;
  const int64_t panels = (g.c_out + width - 1) / width, mld = panels * width;
  const int64_t cpad = (g.c_in + kWidth - 1) / kWidth * kWidth;
  const int64_t cols_in = tw * M + r - 1;
  const WinogradUnits units(g, M);
  const int64_t trows = units.trows, ipt = units.ipt;
  const int64_t rows_in = trows * M + r - 1, image_in = rows_in * cols_in * cpad;
  const bool fuse = !accumulate, relu = fuse && act == UnaryOp::Relu;
  parallel_range(units.count, 1, [&](int64_t u0, int64_t u1) {
    int64_t* ident = scratch<int64_t>(2, static_cast<size_t>(g.c_in));
    for (int64_t s = 0; s < g.c_in; ++s) ident[s] = s;
    float* hwc = scratch<float>(3, static_cast<size_t>(ipt * image_in));
    float* v = scratch<float>(0, static_cast<size_t>(kAlpha2 * t.rows * cpad));
    float* mres = scratch<float>(1, static_cast<size_t>(kAlpha2 * t.rows * mld));
    float* cblk = scratch<float>(7, static_cast<size_t>(ipt * trows * M * ow * g.c_out));
    for (int64_t unit = u0; unit < u1; ++unit) {
      const WinogradUnits::Unit un = units[unit];
      const int64_t img0 = un.img0, images = un.images, tr0 = un.tr0, tr = un.tr;
      const int64_t r0 = tr0 * M, rows_out = std::min(tr * M, oh - r0);  // output rows
      for (int64_t i = 0; i < images; ++i)
        hwc_rows(x + (img0 + i) * g.c_in * g.h * g.w, g.c_in, g.h, g.w, g.pad_top, g.pad_left, r0,
                 tr * M + r - 1, cols_in, cpad, hwc + i * image_in);
      const int64_t tiles = images * tr * tw;
      for (int64_t b0 = 0; b0 < tiles; b0 += t.rows) {
        const int nb = static_cast<int>(std::min<int64_t>(t.rows, tiles - b0));
        for (int i = 0; i < nb; ++i) {
          const TileAt at = tile_at(b0 + i, tr, tw);
          winograd_input_tile(hwc + at.im * image_in + (at.ty * M * cols_in + at.tx * M) * cpad,
                              cols_in * cpad, cpad, v + i * cpad, t.rows * cpad);
        }
        for (int e = 0; e < kAlpha2; ++e) {
          const float* rows[2 * kRows];
          for (int i = 0; i < nb; ++i) rows[i] = v + (e * t.rows + i) * cpad;
          for (int64_t cp = 0; cp < panels; ++cp)
            run_kernel(t, g.c_in, rows, ident, u + (e * panels + cp) * g.c_in * width,
                       mres + e * t.rows * mld + cp * width, mld, nb, width, 0.0f);
        }
        for (int i = 0; i < nb; ++i) {
          const TileAt at = tile_at(b0 + i, tr, tw);
          const int64_t oy = at.ty * M, ox = at.tx * M;  // from the unit's first output row
          winograd_output_tile<M>(mres + i * mld, t.rows * mld, g.c_out, fuse ? bias : nullptr,
                                  relu, cblk + ((at.im * rows_out + oy) * ow + ox) * g.c_out,
                                  ow * g.c_out,
                                  static_cast<int>(std::min<int64_t>(M, rows_out - oy)),
                                  static_cast<int>(std::min<int64_t>(M, ow - ox)));
        }
      }
      store_block(q, cblk, img0 * q.p + r0 * ow, images * rows_out * ow, y, fuse ? nullptr : bias,
                  relu ? UnaryOp::Identity : act, param, accumulate);
    }
  });
}

// o = A y for one column of M vectors, the output transform's transpose: the six values an
// output gradient of a tile contributes to the GEMM results' gradient.
template <int M>
inline void output_transform6_transposed(const VecF y[M], VecF o[kAlpha]) {
  const VecF two = set1(2.0f);
  if constexpr (M == 2) {
    o[0] = y[0];
    o[1] = add(y[0], y[1]);
    o[2] = sub(y[0], y[1]);
    o[3] = fmadd(two, y[1], y[0]);
    o[4] = fnmadd(two, y[1], y[0]);
    o[5] = y[1];
  } else {
    const VecF a = add(y[0], y[2]), b = add(y[1], y[3]);
    const VecF c = fmadd(set1(4.0f), y[2], y[0]), d = fmadd(set1(8.0f), y[3], mul(two, y[1]));
    o[0] = y[0];
    o[1] = add(a, b);
    o[2] = sub(a, b);
    o[3] = add(c, d);
    o[4] = sub(c, d);
    o[5] = y[3];
  }
}

// dM[e][c] = (A dy A^T)[e] for the tile whose M x M output gradient starts at d (HWC: rows
// `row` floats apart, columns copad apart), every channel vector, into the B panels of the
// weight-gradient GEMMs: channel c at dm + e * estride + (c / width) * pstride + c % width.
template <int M>
void winograd_dy_tile(const float* d, int64_t row, int64_t copad, float* dm, int width,
                      int64_t pstride, int64_t estride) {
  for (int64_t c = 0; c < copad; c += kWidth) {
    VecF t[kAlpha][M];  // t = A dy
    for (int b = 0; b < M; ++b) {
      VecF col[M], o[kAlpha];
      for (int a = 0; a < M; ++a) col[a] = load(d + a * row + b * copad + c);
      output_transform6_transposed<M>(col, o);
      for (int a = 0; a < kAlpha; ++a) t[a][b] = o[a];
    }
    float* out = dm + (c / width) * pstride + c % width;
    for (int a = 0; a < kAlpha; ++a) {
      VecF o[kAlpha];
      output_transform6_transposed<M>(t[a], o);
      for (int b = 0; b < kAlpha; ++b) store(out + (a * kAlpha + b) * estride, o[b]);
    }
  }
}

// dw (+)= the weight gradient by Winograd, db (+)= the bias gradient (may be null): per thread,
// dU[e][ci][co] = sum over tiles of V[e][tile][ci] dM[e][tile][co] (36 GEMMs whose reduction
// runs over tiles: long, unlike the forward's), then dw = G^T dU G once at the end.
template <int M>
void winograd_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                              float* db) {
  constexpr int r = kAlpha + 1 - M;
  const int64_t oh = g.out_h(), ow = g.out_w(), p = oh * ow;
  const Tile t = tile_for(g.c_out);
  const int width = t.nv * kWidth;
  const int64_t panels = (g.c_out + width - 1) / width, copad = panels * width;
  const int64_t cpad = (g.c_in + kWidth - 1) / kWidth * kWidth;
  const WinogradUnits units(g, M);
  const int64_t tw = units.tw, cols_in = tw * M + r - 1, cols_out = tw * M;
  const int64_t rows_in = units.trows * M + r - 1, image_in = rows_in * cols_in * cpad;
  const int64_t image_out = units.trows * M * cols_out * copad;
  // Tiles per block of GEMMs: a unit's, up to kWinogradBlock (a very wide image's tile row would
  // otherwise size V and dM past the caches).
  const int64_t nbmax = std::min(units.max_tiles(), kWinogradBlock);
  const int64_t pstride = nbmax * width, estride = panels * pstride;
  // Per chunk of units (one per thread): dU (36 x cin x copad), then the bias gradient.
  const int64_t per = kAlpha2 * g.c_in * copad + g.c_out;
  const int64_t chunks = std::min<int64_t>(num_threads(), units.count);
  float* acc = scratch<float>(5, static_cast<size_t>(chunks * per));
  std::memset(acc, 0, sizeof(float) * static_cast<size_t>(chunks * per));
  parallel_for(chunks, [&](int64_t chunk) {
    float* du = acc + chunk * per;
    float* dbt = du + kAlpha2 * g.c_in * copad;
    float* hwc = scratch<float>(3, static_cast<size_t>(units.ipt * image_in));
    float* hwc_dy = scratch<float>(7, static_cast<size_t>(units.ipt * image_out));
    float* v = scratch<float>(0, static_cast<size_t>(kAlpha2 * nbmax * cpad));
    float* dm = scratch<float>(1, static_cast<size_t>(kAlpha2 * estride));
    int64_t* off = scratch<int64_t>(2, static_cast<size_t>(nbmax));
    for (int64_t s = 0; s < nbmax; ++s) off[s] = s * cpad;
    for (int64_t unit = units.count * chunk / chunks; unit < units.count * (chunk + 1) / chunks;
         ++unit) {
      const WinogradUnits::Unit un = units[unit];
      const int64_t r0 = un.tr0 * M, rows_out = std::min(un.tr * M, oh - r0);
      for (int64_t i = 0; i < un.images; ++i) {
        const int64_t img = un.img0 + i;
        hwc_rows(x + img * g.c_in * g.h * g.w, g.c_in, g.h, g.w, g.pad_top, g.pad_left, r0,
                 un.tr * M + r - 1, cols_in, cpad, hwc + i * image_in);
        hwc_rows(dy + img * g.c_out * p, g.c_out, oh, ow, 0, 0, r0, un.tr * M, cols_out, copad,
                 hwc_dy + i * image_out);
        if (db)
          for (int64_t co = 0; co < g.c_out; ++co)
            dbt[co] += row_sum(dy + (img * g.c_out + co) * p + r0 * ow, rows_out * ow);
      }
      const int64_t tiles = un.images * un.tr * tw;
      for (int64_t b0 = 0; b0 < tiles; b0 += nbmax) {
        const int64_t nb = std::min(nbmax, tiles - b0);
        for (int64_t i = 0; i < nb; ++i) {
          const TileAt at = tile_at(b0 + i, un.tr, tw);
          winograd_input_tile(hwc + at.im * image_in + (at.ty * M * cols_in + at.tx * M) * cpad,
                              cols_in * cpad, cpad, v + i * cpad, nbmax * cpad);
          winograd_dy_tile<M>(
              hwc_dy + at.im * image_out + (at.ty * M * cols_out + at.tx * M) * copad,
              cols_out * copad, copad, dm + i * width, width, pstride, estride);
        }
        for (int e = 0; e < kAlpha2; ++e)
          for (int64_t ci0 = 0; ci0 < g.c_in; ci0 += t.rows) {
            const int mr = static_cast<int>(std::min<int64_t>(t.rows, g.c_in - ci0));
            const float* rows[2 * kRows];
            for (int i = 0; i < mr; ++i) rows[i] = v + e * nbmax * cpad + ci0 + i;
            for (int64_t cp = 0; cp < panels; ++cp)
              run_kernel(t, nb, rows, off, dm + e * estride + cp * pstride,
                         du + (e * g.c_in + ci0) * copad + cp * width, copad, mr, width, 1.0f);
          }
      }
    }
  });
  // Sum the chunks into the first (fixed order: deterministic per thread count), then
  // dw[co][ci] += G^T dU[.][ci][co] G, vectors along co.
  for (int64_t c = 1; c < chunks; ++c)
    for (int64_t j = 0; j < per; ++j) acc[j] += acc[c * per + j];
  if (db)
    for (int64_t co = 0; co < g.c_out; ++co) db[co] += acc[kAlpha2 * g.c_in * copad + co];
  parallel_range(g.c_in, 1, [&](int64_t ci0, int64_t ci1) {
    for (int64_t ci = ci0; ci < ci1; ++ci)
      for (int64_t c = 0; c < g.c_out; c += kWidth) {
        VecF tt[r][kAlpha];  // G^T dU
        for (int k = 0; k < r; ++k)
          for (int b = 0; b < kAlpha; ++b) {
            VecF sum = zero();
            for (int a = 0; a < kAlpha; ++a)
              sum = fmadd(set1(kG<r>[a][k]),
                          load(acc + ((a * kAlpha + b) * g.c_in + ci) * copad + c), sum);
            tt[k][b] = sum;
          }
        const int n = static_cast<int>(std::min<int64_t>(kWidth, g.c_out - c));
        for (int k = 0; k < r; ++k)
          for (int l = 0; l < r; ++l) {
            VecF sum = zero();
            for (int b = 0; b < kAlpha; ++b) sum = fmadd(tt[k][b], set1(kG<r>[b][l]), sum);
            alignas(64) float lanes[kWidth];
            store(lanes, sum);
            for (int j = 0; j < n; ++j) dw[((c + j) * g.c_in + ci) * r * r + k * r + l] += lanes[j];
          }
      }
  });
}

void winograd_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                      UnaryOp act, float param, float* y, bool accumulate) {
  const int width = tile_for(g.c_out).nv * kWidth;
  if (g.kh == 3)
    winograd_pass<4>(g, x, winograd_weights<3>(w, g.c_out, g.c_in, width), bias, act, param, y,
                     accumulate);
  else
    winograd_pass<2>(g, x, winograd_weights<5>(w, g.c_out, g.c_in, width), bias, act, param, y,
                     accumulate);
}
}  // namespace

void conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    UnaryOp act, float act_param, float* y) {
  if (g.n == 0 || g.out_h() <= 0 || g.out_w() <= 0 || g.c_out == 0) return;
  if (use_direct(g)) return direct_forward(g, x, w, bias, act, act_param, y);
  if (use_winograd(g)) return winograd_forward(g, x, w, bias, act, act_param, y, false);
  const int64_t cout_g = g.c_out / g.groups, k = g.c_in / g.groups * g.kh * g.kw;
  const float* wpk = packed_weights(g, w, cout_g, k, 4);
  forward_pass(g, x, wpk, bias, act, act_param, y, false);
}

const char* conv2d_forward_algorithm(const ConvGeometry& g) {
  if (use_direct(g)) return "direct";
  if (use_winograd(g)) return g.kh == 3 ? "winograd-f4x4-3x3" : "winograd-f2x2-5x5";
  return "implicit-gemm";
}

void conv2d_backward_data(const ConvGeometry& g, const float* dy, const float* w, float* dx) {
  if (g.n == 0 || g.out_h() <= 0 || g.out_w() <= 0 || g.h == 0 || g.w == 0) return;
  // Stride 1: dx = conv(dy padded by the kernel extent minus the padding, flipped W^T).
  const int64_t eh = g.dil_h * (g.kh - 1), ew = g.dil_w * (g.kw - 1);
  const int64_t top = eh - g.pad_top, left = ew - g.pad_left;
  const int64_t oh = g.out_h(), ow = g.out_w();
  const int64_t bottom = g.h + eh - oh - top, right = g.w + ew - ow - left;
  if (g.stride_h != 1 || g.stride_w != 1 || top < 0 || left < 0 || bottom < 0 || right < 0)
    return backward_data_col2im(g, dy, w, dx);
  // The mirrored convolution: input dy (Cout channels), output dx (Cin), same groups.
  ConvGeometry m;
  m.n = g.n, m.c_in = g.c_out, m.h = oh, m.w = ow, m.c_out = g.c_in, m.kh = g.kh, m.kw = g.kw;
  m.dil_h = g.dil_h, m.dil_w = g.dil_w, m.groups = g.groups;
  m.pad_top = top, m.pad_left = left, m.pad_bottom = bottom, m.pad_right = right;
  // W'[ci][co][ki][kj] = W[co][ci][kh-1-ki][kw-1-kj] within each group, packed.
  const int64_t cin_g = g.c_in / g.groups, cout_g = g.c_out / g.groups, khw = g.kh * g.kw;
  float* flipped = scratch<float>(5, static_cast<size_t>(g.c_in * cout_g * khw));
  for (int64_t gi = 0; gi < g.groups; ++gi)
    for (int64_t ci = 0; ci < cin_g; ++ci)
      for (int64_t co = 0; co < cout_g; ++co)
        for (int64_t r = 0; r < khw; ++r)
          flipped[((gi * cin_g + ci) * cout_g + co) * khw + r] =
              w[((gi * cout_g + co) * cin_g + ci) * khw + (khw - 1 - r)];
  if (use_winograd(m))
    return winograd_forward(m, dy, flipped, nullptr, UnaryOp::Identity, 0, dx, true);
  const float* wpk = packed_weights(m, flipped, cin_g, cout_g * khw, 4);
  forward_pass(m, dy, wpk, nullptr, UnaryOp::Identity, 0, dx, true);
}

void conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                            float* db) {
  if (g.n == 0 || g.out_h() <= 0 || g.out_w() <= 0) return;
  if (use_direct(g)) return direct_backward_weight(g, x, dy, dw, db);
  if (use_winograd(g))
    return g.kh == 3 ? winograd_backward_weight<4>(g, x, dy, dw, db)
                     : winograd_backward_weight<2>(g, x, dy, dw, db);
  // Each image is padded when its turn comes, into the task's L2 buffer (as forward_pass
  // does), rather than the whole batch into one padded copy first.
  const int64_t hp = g.h + g.pad_top + g.pad_bottom, wp = g.w + g.pad_left + g.pad_right;
  const bool padded = hp != g.h || wp != g.w;
  const Plan q = plan_of(g, hp, wp);
  const Tile t = tile_for(q.cout_g);
  const int width = t.nv * kWidth;
  const int64_t panels = (q.cout_g + width - 1) / width;
  // dW^T per group (K x cout_g, ld cout_g) accumulated per chunk of images, plus db.
  const int64_t per = g.groups * q.k * q.cout_g + g.c_out;
  const int64_t chunks = std::min<int64_t>(num_threads(), g.n);
  float* acc = scratch<float>(5, static_cast<size_t>(chunks * per));
  std::memset(acc, 0, sizeof(float) * static_cast<size_t>(chunks * per));
  parallel_for(chunks, [&](int64_t c) {
    float* at = acc + c * per;
    float* dbt = at + g.groups * q.k * q.cout_g;
    int64_t* off = scratch<int64_t>(2, static_cast<size_t>(std::min<int64_t>(kWeightSteps, q.p)));
    float* bp =
        scratch<float>(0, static_cast<size_t>(std::min<int64_t>(kWeightSteps, q.p) * width));
    int64_t* koff = scratch<int64_t>(1, static_cast<size_t>(q.k));
    tap_offsets(q, koff);
    for (int64_t n = g.n * c / chunks; n < g.n * (c + 1) / chunks; ++n) {
      const float* xn = x + n * g.c_in * g.h * g.w;
      if (padded) {
        float* buf = band_buffer(q.c_in * hp * wp, hp * wp, wp, g.pad_left, g.w);
        pad_band(xn, q.c_in, g.h, g.w, g.pad_top, g.pad_left, wp, 0, hp, buf, hp * wp);
        xn = buf;
      }
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        const float* xg = xn + gi * q.cin_g * q.h * q.w;
        const float* dyg = dy + (n * g.c_out + gi * q.cout_g) * q.p;
        float* ag = at + gi * q.k * q.cout_g;
        if (db)
          for (int64_t co = 0; co < q.cout_g; ++co)
            dbt[gi * q.cout_g + co] += row_sum(dyg + co * q.p, q.p);
        for (int64_t p0 = 0; p0 < q.p; p0 += kWeightSteps) {
          const int64_t np = std::min(kWeightSteps, q.p - p0);
          {
            const float* prow[kWeightSteps];
            pixel_rows(q, xg, p0, np, prow);  // image 0 relative: offsets from xg
            for (int64_t s = 0; s < np; ++s) off[s] = prow[s] - xg;
          }
          for (int64_t cp = 0; cp < panels; ++cp) {
            const int64_t c0 = cp * width;
            const int ncols = static_cast<int>(std::min<int64_t>(width, q.cout_g - c0));
            // B panel: dY^T rows (pixel s, channels c0..c0+width), zero past cout_g.
            if (ncols < width) zero_run(bp, np * width);
            for (int r0 = 0; r0 < ncols; r0 += kWidth)
              for (int64_t s0 = 0; s0 < np; s0 += kWidth)
                transpose_tile(dyg + (c0 + r0) * q.p + p0 + s0, q.p, std::min(kWidth, ncols - r0),
                               static_cast<int>(std::min<int64_t>(kWidth, np - s0)),
                               bp + s0 * width + r0, width);
            for (int64_t k0 = 0; k0 < q.k; k0 += t.rows) {
              const int mr = static_cast<int>(std::min<int64_t>(t.rows, q.k - k0));
              const float* rows[2 * kRows];
              for (int i = 0; i < mr; ++i) rows[i] = xg + koff[k0 + i];
              run_kernel(t, np, rows, off, bp, ag + k0 * q.cout_g + c0, q.cout_g, mr, ncols, 1.0f);
            }
          }
        }
      }
    }
  });
  // dw[co][k] += sum over chunks of dW^T[k][co] (fixed order: deterministic per thread count).
  for (int64_t c = 0; c < chunks; ++c) {
    const float* at = acc + c * per;
    for (int64_t gi = 0; gi < g.groups; ++gi)
      for (int64_t co = 0; co < q.cout_g; ++co) {
        float* out = dw + (gi * q.cout_g + co) * q.k;
        const float* src = at + gi * q.k * q.cout_g + co;
        for (int64_t k = 0; k < q.k; ++k) out[k] += src[k * q.cout_g];
      }
    if (db)
      for (int64_t co = 0; co < g.c_out; ++co) db[co] += at[g.groups * q.k * q.cout_g + co];
  }
}

}  // namespace axon::cpu::AXON_ISA_NS
