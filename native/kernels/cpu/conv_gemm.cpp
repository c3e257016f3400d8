// Convolution as implicit GEMM with an offset-table microkernel (compiled once per SIMD level):
// the forward pass, the strided backward data by col2im and the weight gradient. The design is
// described in conv.cpp's header, which also says when this runs; conv_internal.h declares it.
// Tested against the naive twins in native/tests/test_conv.cpp (AXON_CONV_ALGO forces it).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "simd/isa.h"
// after simd/isa.h, which names this level's namespace
#include "axon/thread_pool.h"
#include "axon/portable.h"
#include "gemm/microkernel.h"
#include "isa_kernels.h"
#include "conv_internal.h"

namespace axon::cpu::AXON_ISA_NS::conv {

namespace {

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
  AXON_UNROLL(16)
  for (int i = 0; i < R; ++i) AXON_UNROLL(8)
  for (int v = 0; v < NV; ++v) acc[i][v] = init ? load(init + v * kWidth) : zero();
  const float* a[R];
  AXON_UNROLL(16)
  for (int i = 0; i < R; ++i) a[i] = rows[i < mr ? i : (mr > 0 ? mr - 1 : 0)];
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t o = off[s];
    VecF b[NV];
    AXON_UNROLL(8)
    for (int v = 0; v < NV; ++v) b[v] = load(bp + v * kWidth);
    AXON_UNROLL(16)
    for (int i = 0; i < R; ++i) {
      const VecF x = set1(a[i][o]);
      AXON_UNROLL(8)
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
        if (relu) r = max(zero(), r);  // keeps NaN (max returns its second operand on NaN)
        store(row + v * kWidth, r);
      } else {
        if (beta != 0.0f) r = add(r, load_partial(row + v * kWidth, n));
        if (relu) r = max(zero(), r);  // keeps NaN (max returns its second operand on NaN)
        store_partial(row + v * kWidth, r, n);
      }
    }
  }
}

}  // namespace

void run_kernel(Tile t, int64_t steps, const float* const* rows, const int64_t* off,
                const float* bp, float* c, int64_t ldc, int mr, int ncols, float beta,
                const float* init, bool relu) {
  if (t.nv == kNv)
    offset_kernel<kRows, kNv>(steps, rows, off, bp, c, ldc, mr, ncols, beta, init, relu);
  else if constexpr (kNv % 4 == 0) {
    if (t.nv == kNv / 4)
      offset_kernel<4 * kRows, kNv / 4>(steps, rows, off, bp, c, ldc, mr, ncols, beta, init, relu);
    else
      offset_kernel<2 * kRows, kNv / 2>(steps, rows, off, bp, c, ldc, mr, ncols, beta, init, relu);
  } else if constexpr (kNv % 2 == 0)
    offset_kernel<2 * kRows, kNv / 2>(steps, rows, off, bp, c, ldc, mr, ncols, beta, init, relu);
}

namespace {

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

}  // namespace

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

namespace {

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

}  // namespace

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
            AXON_PREFETCH(next_x + next_line * 16, 0, 2);
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
            for (int64_t e = 0; e < len; e += 16) AXON_PREFETCH(run + e, 1, 3);
            AXON_PREFETCH(run + len - 1, 1, 3);
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

void backward_data_col2im(const ConvGeometry& g, const float* dy, const float* w, float* dx,
                          bool overwrite) {
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
    // overwrite without padding: this job's slice of dx is zeroed here, while it is about to
    // be scattered into (cache-hot), rather than by a pass over the whole tensor before.
    if (overwrite && !pad) zero_run(dxg, q.cin_g * hp * wp);
    float* dcol = scratch<float>(1, static_cast<size_t>(q.k * block));
    int64_t* off = scratch<int64_t>(2, static_cast<size_t>(q.k));
    int64_t* base = scratch<int64_t>(3, static_cast<size_t>(block));
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
      // Tap-major: each tap's row of dcol is read in order (pixel-major strode np floats
      // between taps and missed the cache on every read).
      for (int64_t j = 0; j < np; ++j) base[j] = pixel_base(q, p0 + j);  // image 0 of this job
      for (int64_t k = 0; k < q.k; ++k) {
        const float* src = dcol + k * np;
        float* tap = dxg + off[k];
        for (int64_t j = 0; j < np; ++j) tap[base[j]] += src[j];
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
          if (overwrite) {
            for (; t + kWidth <= g.w; t += kWidth) store(out + t, load(src + t));
            for (; t < g.w; ++t) out[t] = src[t];
          } else {
            for (; t + kWidth <= g.w; t += kWidth)
              store(out + t, add(load(out + t), load(src + t)));
            for (; t < g.w; ++t) out[t] += src[t];
          }
        }
    });
}

void gemm_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                          float* db) {
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
              const float* rows[kMaxTileRows];
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

}  // namespace axon::cpu::AXON_ISA_NS::conv
