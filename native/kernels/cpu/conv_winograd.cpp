// Winograd convolution F(4x4, 3x3) and F(2x2, 5x5), compiled once per SIMD level: the forward
// (also the stride-1 backward data, through conv.cpp) and the weight gradient. conv.cpp
// decides when it runs; tested in native/tests/test_conv.cpp (AXON_CONV_ALGO forces it).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "simd/isa.h"
// after simd/isa.h, which names this level's namespace
#include "axon/aligned.h"
#include "axon/thread_pool.h"
#include "gemm/microkernel.h"
#include "isa_kernels.h"
#include "conv_internal.h"

namespace axon::cpu::AXON_ISA_NS::conv {

// ---- Winograd F(4x4, 3x3) and F(2x2, 5x5) ----------------------------------------------------
// Y = A^T [ (G g G^T) . (B^T d B) ] A per tile of m x m outputs, alpha = m + r - 1 = 6 for both,
// on the same points (0, 1, -1, 2, -2, inf), so they share the input transform B^T. The 36
// element-wise products summed over input channels are 36 GEMMs (tiles x Cin . Cin x Cout),
// run by the offset microkernel (conv_gemm.cpp) with tiles as rows. Multiplications per output fall
// from r*r*Cin to 36/(m*m)*Cin: 4x fewer for 3x3, 2.8x for 5x5; the transforms are vectors
// along channels over an HWC copy of the unit's input, so they cost a few percent.
// Rounding: alpha = 6 keeps the transform entries small (|entries| <= 5, G >= 1/24), and the
// tests hold the results to the same tolerance as the other paths.
constexpr int kAlpha = 6, kAlpha2 = kAlpha * kAlpha;
constexpr int64_t kWinogradTiles = 48;  // tiles per task: its HWC input and outputs stay in L2
constexpr int64_t kWinogradBlock = 64;  // most tiles per block of the weight gradient's GEMMs

namespace {

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
void winograd_weights_into(const float* w, int64_t cout, int64_t cin, int width, float* u) {
  const int64_t panels = (cout + width - 1) / width;
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
}

// The transformed weights cost as much as a batch-1 forward's GEMMs (measured: 25 % of a
// 32->64 3x3 conv on 14x14 against 33 % for its GEMMs), and a served model's weights do not
// change between requests. So each calling thread keeps the last transforms it made, keyed by
// the weights' address and shape and checked against a copy of their content on every call:
// a weight changed in any way (an optimizer step, an in-place edit, a buffer reused at the
// same address) fails the comparison and is transformed again. Bounded by kWeightCacheBytes
// per thread, least recently used first out; layers too large for it are transformed every
// call, as before.
constexpr size_t kWeightCacheBytes = size_t{16} << 20;

struct CachedWeights {
  const float* w;
  int64_t cout, cin;
  int width, r;
  std::vector<float> content;  // the weights u was made from
  float* u = nullptr;          // 64-byte aligned
  size_t u_floats = 0;
  uint64_t last_use = 0;
  CachedWeights() = default;
  CachedWeights(const CachedWeights&) = delete;
  CachedWeights& operator=(const CachedWeights&) = delete;
  ~CachedWeights() { aligned_free(u); }
  size_t bytes() const { return (content.size() + u_floats) * sizeof(float); }
};

struct WeightCache {
  std::vector<std::unique_ptr<CachedWeights>> entries;
  size_t bytes = 0;
  uint64_t clock = 0;
};

template <int R>
const float* winograd_weights(const float* w, int64_t cout, int64_t cin, int width) {
  const int64_t panels = (cout + width - 1) / width;
  const size_t u_floats = static_cast<size_t>(kAlpha2 * panels * cin * width);
  const size_t w_floats = static_cast<size_t>(cout * cin * R * R);
  thread_local WeightCache cache;
  for (auto& e : cache.entries) {
    if (e->w != w || e->cout != cout || e->cin != cin || e->width != width || e->r != R) continue;
    e->last_use = ++cache.clock;
    if (std::memcmp(e->content.data(), w, w_floats * sizeof(float)) != 0) {
      winograd_weights_into<R>(w, cout, cin, width, e->u);
      std::memcpy(e->content.data(), w, w_floats * sizeof(float));
    }
    return e->u;
  }
  const size_t need = (u_floats + w_floats) * sizeof(float);
  if (need > kWeightCacheBytes / 2) {  // too large to keep: transform into scratch each call
    float* u = scratch<float>(4, u_floats);
    winograd_weights_into<R>(w, cout, cin, width, u);
    return u;
  }
  while (cache.bytes + need > kWeightCacheBytes && !cache.entries.empty()) {
    auto oldest =
        std::min_element(cache.entries.begin(), cache.entries.end(),
                         [](const auto& a, const auto& b) { return a->last_use < b->last_use; });
    cache.bytes -= (*oldest)->bytes();
    cache.entries.erase(oldest);
  }
  auto e = std::make_unique<CachedWeights>();
  e->u = static_cast<float*>(aligned_alloc_bytes(64, u_floats * sizeof(float)));
  if (!e->u) std::abort();  // out of memory for a few MB, as scratch()
  e->w = w, e->cout = cout, e->cin = cin, e->width = width, e->r = R, e->u_floats = u_floats;
  e->content.assign(w, w + w_floats);
  e->last_use = ++cache.clock;
  winograd_weights_into<R>(w, cout, cin, width, e->u);
  cache.bytes += e->bytes();
  cache.entries.push_back(std::move(e));
  return cache.entries.back()->u;
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
        if (relu) r = max(zero(), r);  // keeps NaN (max returns its second operand on NaN)
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
// images when an image has few tiles (and there are images enough for the threads), about
// kWinogradTiles tiles while every thread still gets four units.
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
    // Bands also when the batch is smaller than the thread count (a batch-1 request): whole
    // images would leave all but one thread idle.
    if (th * tw >= kWinogradTiles || g.n < num_threads()) {
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
          const float* rows[kMaxTileRows];
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
            const float* rows[kMaxTileRows];
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

}  // namespace

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

void winograd_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                              float* db) {
  if (g.kh == 3)
    winograd_backward_weight<4>(g, x, dy, dw, db);
  else
    winograd_backward_weight<2>(g, x, dy, dw, db);
}

}  // namespace axon::cpu::AXON_ISA_NS::conv
