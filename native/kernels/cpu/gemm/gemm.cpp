// GEMM driver (compiled once per SIMD level): BLIS's five loops around the microkernel.
//
//   C (M,N) = act(alpha * op(A) (M,K) * op(B) (K,N) + beta * C + bias)
//
//   for jc in N step nc:            B block (kc x nc) packed into NR-wide panels -> L3
//     for pc in K step kc:
//       for ic in M step mc:        A block (mc x kc) packed into MR-tall panels -> L2
//         for jr in nc step NR:     one B panel (kc x NR) -> L1
//           for ir in mc step MR:   microkernel: MR x NR tile of C in registers
//
// Threads split C into a grid of rectangles (aligned to MR/NR), each running the loops above
// with its own packing buffers. The bias/activation epilogue runs on each tile right after
// its last microkernel call, while the tile is in L1. Rows M <= kSmallM skip packing
// (gemm_small_m): there B is read once either way, so packing would double the traffic.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "../simd/isa.h"
#include "../isa_kernels.h"
#include "axon/aligned.h"
#include "axon/cpu_config.h"
#include "axon/thread_pool.h"
#include "microkernel.h"

namespace axon::cpu::AXON_ISA_NS {

using namespace simd;

namespace {

constexpr int MR = kBlocking.mr;
constexpr int NR = kBlocking.nr;
// kc, mc and nc come from the CPU's row of the configuration table (axon/cpu_config.h), read
// per call: the table is keyed by microarchitecture, not by SIMD level, and checked there (mc
// a multiple of MR, nc of NR).
constexpr int64_t kSmallM = 4;          // small_m_dispatch instantiates 1..4
constexpr int64_t kSwapMaxRowsNN = 96;  // should_swap: most rows of C for the NN swap
// Most columns of C the narrow-N path takes (a classifier's 10 outputs): the packed path would
// run them in NR-wide register tiles, mostly padding.
constexpr int64_t kNarrowMaxN = 32;
// Whether large problems pack A (the microkernels read A in place either way).
constexpr bool kPackA = true;
// Below this many flops a GEMM runs on one thread: waking the pool costs more.
constexpr double kMinParallelFlops = 2.0 * 96 * 96 * 96;

// Per-thread packing buffers, grown on demand and kept (pool threads are persistent), so a
// training step does not allocate.
float* scratch(int slot, size_t floats) {
  struct Buffers {
    float* ptr[4] = {nullptr, nullptr, nullptr, nullptr};
    size_t cap[4] = {0, 0, 0, 0};
    ~Buffers() {
      for (float* p : ptr) aligned_free(p);
    }
  };
  thread_local Buffers buffers;
  if (buffers.cap[slot] < floats) {
    aligned_free(buffers.ptr[slot]);
    buffers.ptr[slot] = static_cast<float*>(aligned_alloc_bytes(64, floats * sizeof(float)));
    buffers.cap[slot] = buffers.ptr[slot] ? floats : 0;
  }
  return buffers.ptr[slot];
}

// A block rows [row0, row0+rows) x k [k0, k0+kc) -> MR-tall k-major panels.
void pack_a(const GemmArgs& g, int64_t row0, int64_t rows, int64_t k0, int64_t kc, float* ap) {
  for (int64_t ir = 0; ir < rows; ir += MR) {
    const int mr = static_cast<int>(std::min<int64_t>(MR, rows - ir));
    float* dst = ap + ir * kc;
    if (g.trans_a == Trans::Yes) {  // A is (K, M): each k gives mr contiguous values
      const float* src = g.a + k0 * g.lda + row0 + ir;
      for (int64_t k = 0; k < kc; ++k) {
        for (int v = 0; v < MR; v += kWidth) {
          const int w = std::clamp(mr - v, 0, kWidth);
          const VecF x =
              w == kWidth ? load(src + k * g.lda + v) : load_partial(src + k * g.lda + v, w);
          if (v + kWidth <= MR)
            store(dst + k * MR + v, x);
          else
            store_partial(dst + k * MR + v, x, MR - v);
        }
      }
    } else {  // A is (M, K): transpose row groups of up to kWidth rows
      if (mr < MR) std::memset(dst, 0, sizeof(float) * MR * kc);
      const float* src0 = g.a + (row0 + ir) * g.lda + k0;
      int64_t kk = 0;
      if constexpr (MR <= kWidth) {
        // A full panel: one branch-free transpose per kWidth columns of k.
        if (mr == MR)
          for (; kk + kWidth <= kc; kk += kWidth)
            transpose_rows<MR>(src0 + kk, g.lda, dst + kk * MR, MR);
      }
      for (int rg = 0; rg < mr; rg += kWidth) {
        const int rows_here = std::min(kWidth, mr - rg);
        const float* src = src0 + rg * g.lda;
        for (int64_t k2 = kk; k2 < kc; k2 += kWidth) {
          const int cols = static_cast<int>(std::min<int64_t>(kWidth, kc - k2));
          transpose_tile(src + k2, g.lda, rows_here, cols, dst + k2 * MR + rg, MR);
        }
      }
    }
  }
}

// B block k [k0, k0+kc) x cols [col0, col0+cols) -> NR-wide k-major panels.
void pack_b(const GemmArgs& g, int64_t k0, int64_t kc, int64_t col0, int64_t cols, float* bp) {
  for (int64_t jr = 0; jr < cols; jr += NR) {
    const int nr = static_cast<int>(std::min<int64_t>(NR, cols - jr));
    float* dst = bp + jr * kc;
    if (g.trans_b == Trans::No) {  // B is (K, N): each k gives nr contiguous values
      const float* src = g.b + k0 * g.ldb + col0 + jr;
      for (int64_t k = 0; k < kc; ++k) {
        const float* s = src + k * g.ldb;
        float* d = dst + k * NR;
        if (nr == NR) {
          for (int v = 0; v < NR; v += kWidth) store(d + v, load(s + v));
        } else {
          for (int v = 0; v < NR; v += kWidth)
            store(d + v, load_partial(s + v, std::clamp(nr - v, 0, kWidth)));
        }
      }
    } else {  // B is (N, K): transpose column groups of up to kWidth
      if (nr < NR) std::memset(dst, 0, sizeof(float) * NR * kc);
      for (int jg = 0; jg < nr; jg += kWidth) {
        const int rows_here = std::min(kWidth, nr - jg);
        const float* src = g.b + (col0 + jr + jg) * g.ldb + k0;
        int64_t kk = 0;
        if (rows_here == kWidth)
          for (; kk + kWidth <= kc; kk += kWidth)
            transpose_rows<kWidth>(src + kk, g.ldb, dst + kk * NR + jg, NR);
        for (; kk < kc; kk += kWidth) {
          const int kcols = static_cast<int>(std::min<int64_t>(kWidth, kc - kk));
          transpose_tile(src + kk, g.ldb, rows_here, kcols, dst + kk * NR + jg, NR);
        }
      }
    }
  }
}

bool has_epilogue(const GemmArgs& g) {
  return g.bias_mode != BiasMode::None || g.activation != UnaryOp::Identity;
}

// Bias and activation on the finished block C[row0.., col0..] (rows x cols).
void apply_epilogue(const GemmArgs& g, int64_t row0, int64_t rows, int64_t col0, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i) {
    float* row = g.c + (row0 + i) * g.ldc + col0;
    if (g.bias_mode == BiasMode::PerColumn) {
      const float* b = g.bias + col0;
      int64_t j = 0;
      for (; j + kWidth <= cols; j += kWidth) store(row + j, add(load(row + j), load(b + j)));
      for (; j < cols; ++j) row[j] += b[j];
    } else if (g.bias_mode == BiasMode::PerRow) {
      const VecF b = set1(g.bias[row0 + i]);
      int64_t j = 0;
      for (; j + kWidth <= cols; j += kWidth) store(row + j, add(load(row + j), b));
      for (; j < cols; ++j) row[j] += g.bias[row0 + i];
    }
    if (g.activation != UnaryOp::Identity)
      AXON_ISA_NS::unary_forward(g.activation, row, row, cols, g.activation_param);
  }
}

// C = beta * C (+ epilogue): the K == 0 or alpha == 0 case, where no product is needed.
void scale_c(const GemmArgs& g) {
  for (int64_t i = 0; i < g.m; ++i) {
    float* row = g.c + i * g.ldc;
    if (g.beta == 0.0f)
      std::memset(row, 0, sizeof(float) * g.n);
    else if (g.beta != 1.0f)
      for (int64_t j = 0; j < g.n; ++j) row[j] *= g.beta;
  }
  if (has_epilogue(g)) apply_epilogue(g, 0, g.m, 0, g.n);
}

// The packed five-loop algorithm on C[m0:m1, n0:n1].
void gemm_region(const GemmArgs& g, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  const GemmCacheBlocking& blocking = cpu_config().gemm[size_t(kLevel)];
  const int64_t KC = blocking.kc, MC = blocking.mc, NC = blocking.nc;
  const int64_t kc_max = std::min<int64_t>(KC, g.k);
  const int64_t mc_max = std::min<int64_t>(MC, (m1 - m0 + MR - 1) / MR * MR);
  const int64_t nc_max = std::min<int64_t>(NC, (n1 - n0 + NR - 1) / NR * NR);
  // Reading A in place saves the packing pass; the packed copy pays off only when each A
  // panel is reused across many B panels and A's rows are far apart (TLB/prefetch streams).
  const bool pack = kPackA && (n1 - n0) > 8 * NR;
  float* ap = pack ? scratch(0, static_cast<size_t>(mc_max * kc_max)) : nullptr;
  float* bp = g.packed_b ? nullptr : scratch(1, static_cast<size_t>(nc_max * kc_max));
  if ((pack && !ap) || (!bp && !g.packed_b))
    std::abort();  // out of memory for a few MB of packing space
  const bool epilogue = has_epilogue(g);
  for (int64_t jc = n0; jc < n1; jc += NC) {
    const int64_t nc = std::min(NC, n1 - jc);
    for (int64_t pc = 0; pc < g.k; pc += KC) {
      const int64_t kc = std::min(KC, g.k - pc);
      const bool last = pc + kc == g.k;
      const float beta = pc == 0 ? g.beta : 1.0f;
      // Prepacked B (gemm_pack_b): NR-wide panels of all K rows, panel j at j*K*NR.
      const float* b_block = bp;
      int64_t b_panel = kc * NR;
      if (g.packed_b) {
        b_block = g.packed_b + jc * g.k + pc * NR;
        b_panel = g.k * NR;
      } else {
        pack_b(g, pc, kc, jc, nc, bp);
      }
      for (int64_t ic = m0; ic < m1; ic += MC) {
        const int64_t mc = std::min(MC, m1 - ic);
        // A tile addressing: packed panels, or A read in place (see kPackA).
        const float* a_block;
        int64_t rs, cs, panel;
        if (pack) {
          pack_a(g, ic, mc, pc, kc, ap);
          a_block = ap, rs = 1, cs = MR, panel = kc;  // panel ir starts at ap + ir*kc
        } else if (g.trans_a == Trans::No) {
          a_block = g.a + ic * g.lda + pc, rs = g.lda, cs = 1, panel = g.lda;
        } else {
          a_block = g.a + pc * g.lda + ic, rs = 1, cs = g.lda, panel = 1;
        }
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int nr = static_cast<int>(std::min<int64_t>(NR, nc - jr));
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int mr = static_cast<int>(std::min<int64_t>(MR, mc - ir));
            float* c = g.c + (ic + ir) * g.ldc + jc + jr;
            gemm_microkernel(kc, a_block + ir * panel, rs, cs, b_block + jr / NR * b_panel, c,
                             g.ldc, mr, nr, g.alpha, beta);
            if (last && epilogue) apply_epilogue(g, ic + ir, mr, jc + jr, nr);
          }
        }
      }
    }
  }
}

// M <= kSmallM rows: B streams through once, unpacked. `a_rows` holds op(A) as (M, K). M is
// a template parameter so the accumulators live in registers.
template <int M>
void small_m_columns(const GemmArgs& g, const float* a_rows, int64_t j0, int64_t j1) {
  const int64_t K = g.k;
  if (g.trans_b == Trans::No) {
    // B (K, N) row-major: vectors along N, 2 vectors x M rows of accumulators.
    constexpr int64_t kCols = 2 * kWidth;
    for (int64_t j = j0; j < j1; j += kCols) {
      const int64_t cols = std::min(kCols, j1 - j);
      const int w0 = static_cast<int>(std::min<int64_t>(kWidth, cols));
      const int w1 = static_cast<int>(std::max<int64_t>(0, cols - kWidth));
      VecF acc[M][2];
      for (int i = 0; i < M; ++i) acc[i][0] = acc[i][1] = zero();
      for (int64_t k = 0; k < K; ++k) {
        const float* brow = g.b + k * g.ldb + j;
        const VecF b0 = w0 == kWidth ? load(brow) : load_partial(brow, w0);
        const VecF b1 = w1 == kWidth ? load(brow + kWidth) : load_partial(brow + kWidth, w1);
        for (int i = 0; i < M; ++i) {
          const VecF a = set1(a_rows[i * K + k]);
          acc[i][0] = fmadd(a, b0, acc[i][0]);
          acc[i][1] = fmadd(a, b1, acc[i][1]);
        }
      }
      for (int i = 0; i < M; ++i) {
        float* c = g.c + i * g.ldc + j;
        VecF r0 = mul(acc[i][0], set1(g.alpha)), r1 = mul(acc[i][1], set1(g.alpha));
        if (g.beta != 0.0f) {
          r0 = fmadd(set1(g.beta), load_partial(c, w0), r0);
          r1 = fmadd(set1(g.beta), load_partial(c + kWidth, w1), r1);
        }
        store_partial(c, r0, w0);
        store_partial(c + kWidth, r1, w1);
      }
    }
  } else {
    // B (N, K): C[i, j] = dot(A row i, B row j). Eight B rows stream together (this shape is
    // bound by reading B) and their partial-sum vectors are reduced in one transposing step.
    constexpr int kCols = 8;
    const int64_t k_full = K / kWidth * kWidth;
    for (int64_t j = j0; j < j1; j += kCols) {
      const int64_t cols = std::min<int64_t>(kCols, j1 - j);
      VecF acc[M][kCols];
      for (int i = 0; i < M; ++i)
        for (int q = 0; q < kCols; ++q) acc[i][q] = zero();
      const float* brow[kCols];
      for (int q = 0; q < kCols; ++q) brow[q] = g.b + (j + std::min<int64_t>(q, cols - 1)) * g.ldb;
      for (int64_t k = 0; k < k_full; k += kWidth) {
        VecF a[M];
        for (int i = 0; i < M; ++i) a[i] = load(a_rows + i * K + k);
        for (int q = 0; q < kCols; ++q) {
          const VecF b = load(brow[q] + k);
          for (int i = 0; i < M; ++i) acc[i][q] = fmadd(a[i], b, acc[i][q]);
        }
      }
      if (k_full < K) {
        const int w = static_cast<int>(K - k_full);
        for (int q = 0; q < kCols; ++q) {
          const VecF b = load_partial(brow[q] + k_full, w);
          for (int i = 0; i < M; ++i)
            acc[i][q] = fmadd(load_partial(a_rows + i * K + k_full, w), b, acc[i][q]);
        }
      }
      for (int i = 0; i < M; ++i) {
        float sums[kCols];
        reduce_add8(acc[i], sums);
        for (int64_t q = 0; q < cols; ++q) {
          float& c = g.c[i * g.ldc + j + q];
          const float v = g.alpha * sums[q];
          c = g.beta == 0.0f ? v : v + g.beta * c;
        }
      }
    }
  }
  if (has_epilogue(g)) apply_epilogue(g, 0, M, j0, j1 - j0);
}

void small_m_dispatch(const GemmArgs& g, const float* a_rows, int64_t j0, int64_t j1) {
  switch (g.m) {
    case 1:
      return small_m_columns<1>(g, a_rows, j0, j1);
    case 2:
      return small_m_columns<2>(g, a_rows, j0, j1);
    case 3:
      return small_m_columns<3>(g, a_rows, j0, j1);
    default:
      return small_m_columns<4>(g, a_rows, j0, j1);
  }
}

void gemm_small_m(const GemmArgs& g, int threads) {  // threads: the pool size
  // op(A) rows made contiguous (they are already when A is not transposed and lda == K).
  const float* a_rows = g.a;
  if (g.trans_a == Trans::Yes || g.lda != g.k) {
    float* buf = scratch(2, static_cast<size_t>(g.m * g.k));
    if (!buf) std::abort();
    for (int64_t i = 0; i < g.m; ++i)
      for (int64_t k = 0; k < g.k; ++k)
        buf[i * g.k + k] = g.trans_a == Trans::Yes ? g.a[k * g.lda + i] : g.a[i * g.lda + k];
    a_rows = buf;
  }
  // Few rows: the cost is reading B once, so split B's columns over threads once B is big
  // enough that each thread streams a few hundred KB.
  if (g.k * g.n < (int64_t{1} << 17)) threads = 1;
  if (threads <= 1) return small_m_dispatch(g, a_rows, 0, g.n);
  // Chunks aligned to 2 vectors so each thread's column blocks are full.
  const int64_t align = 2 * kWidth;
  const int64_t blocks = (g.n + align - 1) / align;
  parallel_range(blocks, 1, [&](int64_t b0, int64_t b1) {
    small_m_dispatch(g, a_rows, b0 * align, std::min(g.n, b1 * align));
  });
}

// Few columns of C with B transposed (x W^T through a small output layer): C is computed in
// blocks of kSmallM rows by the small-M kernel, each row a set of dot products with B's rows,
// which stay in L1. Each row's result depends only on that row, so the split over threads (by
// row blocks) changes nothing.
void gemm_narrow_n(const GemmArgs& g) {
  const int64_t blocks = (g.m + kSmallM - 1) / kSmallM;
  const double flops =
      2.0 * static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
  auto run = [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t i0 = b * kSmallM;
      GemmArgs rows = g;
      rows.m = std::min(kSmallM, g.m - i0);
      rows.c = g.c + i0 * g.ldc;
      if (g.bias_mode == BiasMode::PerRow) rows.bias = g.bias + i0;
      const float* a_rows = g.a + i0 * g.lda;
      if (g.lda != g.k) {  // rows made contiguous, as gemm_small_m does
        float* buf = scratch(2, static_cast<size_t>(rows.m * g.k));
        if (!buf) std::abort();
        for (int64_t i = 0; i < rows.m; ++i)
          std::memcpy(buf + i * g.k, a_rows + i * g.lda, sizeof(float) * g.k);
        a_rows = buf;
      }
      small_m_dispatch(rows, a_rows, 0, g.n);
    }
  };
  if (flops < kMinParallelFlops || num_threads() == 1)
    run(0, blocks);
  else
    parallel_range(blocks, 1, run);
}

// The packed algorithm threaded over a grid of C blocks.
void gemm_packed(const GemmArgs& g) {
  const double flops =
      2.0 * static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
  const int threads = flops < kMinParallelFlops ? 1 : num_threads();
  if (threads <= 1) return gemm_region(g, 0, g.m, 0, g.n);
  // Grid tm x tn = threads with the most square rectangles, in units of MR and NR.
  const int64_t m_units = (g.m + MR - 1) / MR, n_units = (g.n + NR - 1) / NR;
  int tm = 1;
  double best = 1e300;
  for (int cand = 1; cand <= threads; ++cand) {
    if (threads % cand) continue;
    const int cn = threads / cand;
    if (cand > m_units || cn > n_units) continue;
    const double h = static_cast<double>(g.m) / cand, w = static_cast<double>(g.n) / cn;
    const double score = std::fabs(std::log(h / w));
    if (score < best) best = score, tm = cand;
  }
  const int tn = threads / tm;
  if (tm > m_units || tn > n_units) return gemm_region(g, 0, g.m, 0, g.n);
  parallel_for(tm * tn, [&](int64_t t) {
    const int64_t bi = t / tn, bj = t % tn;
    const int64_t m0 = std::min(g.m, m_units * bi / tm * MR);
    const int64_t m1 = std::min(g.m, m_units * (bi + 1) / tm * MR);
    const int64_t n0 = std::min(g.n, n_units * bj / tn * NR);
    const int64_t n1 = std::min(g.n, n_units * (bj + 1) / tn * NR);
    if (m0 < m1 && n0 < n1) gemm_region(g, m0, m1, n0, n1);
  });
}

// Whether to compute C^T = op(B)^T op(A)^T instead. With B transposed (a dense layer's
// forward, x W^T) packing op(B) is a transpose of all N*K weights on every call; the swapped
// product reads the weights in place as its A operand and transposes only op(A) (M*K) and the
// result (M*N). Worth it when M is small next to N: a batch of 64 through a 784->256 layer
// packs 4x fewer values.
bool should_swap(const GemmArgs& g) {
  // B not transposed and few rows of C (a dense layer's input gradient, dY W): packing B costs
  // as much as the product; the swapped product reads B in place as its (transposed) A and
  // packs only A^T. Measured 64 x 3136 x 1024: 137-145 -> 171-177 GFLOP/s on one thread.
  if (g.trans_b == Trans::No) return g.m > kSmallM && g.m <= kSwapMaxRowsNN && g.m * 8 <= g.n;
  if (g.trans_b != Trans::Yes || g.m <= kSmallM || g.m * 2 > g.n) return false;
  const double swapped = static_cast<double>(g.m) * static_cast<double>(g.k + g.n);
  return swapped < 0.8 * static_cast<double>(g.n) * static_cast<double>(g.k);
}

// C = alpha op(A) op(B) + beta C through the swapped product into a scratch C^T (N, M).
void gemm_swapped(const GemmArgs& g) {
  float* ct = scratch(3, static_cast<size_t>(g.m * g.n));
  if (!ct) std::abort();
  GemmArgs s;
  s.m = g.n, s.n = g.m, s.k = g.k;
  s.alpha = g.alpha, s.beta = 0.0f;
  // op(B)^T: B stored (N, K) is the new A as is; B stored (K, N) is it transposed.
  s.a = g.b, s.lda = g.ldb, s.trans_a = g.trans_b == Trans::Yes ? Trans::No : Trans::Yes;
  // op(A)^T: A stored (M, K) is the new B transposed; A stored (K, M) is it as is.
  s.b = g.a, s.ldb = g.lda, s.trans_b = g.trans_a == Trans::No ? Trans::Yes : Trans::No;
  s.c = ct, s.ldc = g.m;
  gemm_packed(s);
  // C[i, j] = C^T[j, i] (+ beta C), then the epilogue, in row blocks of kWidth.
  const int64_t row_blocks = (g.m + kWidth - 1) / kWidth;
  auto rows = [&](int64_t b0, int64_t b1) {
    alignas(64) float tile[kWidth * kWidth];
    for (int64_t i0 = b0 * kWidth; i0 < std::min(g.m, b1 * kWidth); i0 += kWidth) {
      const int ri = static_cast<int>(std::min<int64_t>(kWidth, g.m - i0));
      for (int64_t j0 = 0; j0 < g.n; j0 += kWidth) {
        const int cj = static_cast<int>(std::min<int64_t>(kWidth, g.n - j0));
        float* c = g.c + i0 * g.ldc + j0;
        if (g.beta == 0.0f) {  // write-only: C may hold NaN
          transpose_tile(ct + j0 * g.m + i0, g.m, cj, ri, c, g.ldc);
          continue;
        }
        transpose_tile(ct + j0 * g.m + i0, g.m, cj, ri, tile, kWidth);
        for (int r = 0; r < ri; ++r)
          for (int q = 0; q < cj; ++q)
            c[r * g.ldc + q] = g.beta * c[r * g.ldc + q] + tile[r * kWidth + q];
      }
      if (has_epilogue(g)) apply_epilogue(g, i0, ri, 0, g.n);
    }
  };
  if (num_threads() > 1 && g.m * g.n >= (int64_t{1} << 14))
    parallel_range(row_blocks, 1, rows);
  else
    rows(0, row_blocks);
}

}  // namespace

void gemm(const GemmArgs& g) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.k <= 0 || g.alpha == 0.0f) return scale_c(g);
  if (g.m <= kSmallM) {
    GemmArgs plain = g;  // reads B in place
    plain.packed_b = nullptr;
    return gemm_small_m(plain, num_threads());
  }
  if (g.packed_b) return gemm_packed(g);  // B is ready: the swap would only add work
  if (g.trans_b == Trans::Yes && g.trans_a == Trans::No && g.n <= kNarrowMaxN)
    return gemm_narrow_n(g);
  if (should_swap(g)) return gemm_swapped(g);
  gemm_packed(g);
}

int64_t gemm_packed_b_size(int64_t k, int64_t n) { return (n + NR - 1) / NR * NR * k; }

void gemm_pack_b(const GemmArgs& g, float* packed) {
  // Panel j holds columns [j*NR, j*NR + NR) for all K rows: pack_b over all of K writes
  // exactly that (its panel stride is kc*NR = K*NR), one NR-column group at a time.
  const int64_t panels = (g.n + NR - 1) / NR;
  parallel_range(panels, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      pack_b(g, 0, g.k, p * NR, std::min<int64_t>(NR, g.n - p * NR), packed + p * g.k * NR);
  });
}

}  // namespace axon::cpu::AXON_ISA_NS
