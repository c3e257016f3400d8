// Convolution GFLOP/s, axon side by side with oneDNN (when built with dnnl.hpp) in one
// process, timed in alternation, medians of rounds. oneDNN chooses its own memory layouts
// (format_tag::any, usually blocked nChw16c): the reorders to and from NCHW happen once,
// outside the timing, which is its best case. Forward, backward data and backward weights
// (with bias) for the three shapes plus the CNN's layers. Run via `npm run bench:conv`.
//
//   OMP_NUM_THREADS=T axon_conv_bench --threads T [--rounds 7] [--cases 0,2] [--passes 0]
//                                     [--shape N,Cin,Cout,H,W,k,pad]
//
// --cases and --passes pick shapes and passes (0 forward, 1 backward data, 2 backward
// weights) by index, e.g. to profile one of them under `perf record`.
//
// GFLOP/s are the direct convolution's 2*N*Cout*OH*OW*Cin*kH*kW over the time, whatever the
// algorithm: Winograd does fewer multiplications, so its figure is an effective rate (as
// oneDNN and cuDNN report theirs). The algorithm column says which one ran; AXON_CONV_ALGO=gemm
// forces the implicit GEMM, to compare the two on one machine.
//
// oneDNN (Debian's build uses OpenMP) takes its thread count from OMP_NUM_THREADS at start-up,
// so run one process per thread count with both set alike (tools/bench.mjs does).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "axon/kernels.h"
#include "axon/runtime.h"
#include "axon/thread_pool.h"

#ifdef AXON_WITH_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

using Clock = std::chrono::steady_clock;

struct Case {
  const char* label;
  int64_t n, cin, cout, h, w, k, pad;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class F>
double time_reps(F&& fn, int reps) {
  auto t0 = Clock::now();
  for (int r = 0; r < reps; ++r) fn();
  return std::chrono::duration<double>(Clock::now() - t0).count() / reps;
}

template <class F>
int reps_for(F&& fn) {
  fn();
  const double once = time_reps(fn, 1);
  return std::max(1, int(0.05 / std::max(once, 1e-7)));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> thread_counts = {1, 2};
  int rounds = 7;
  std::vector<int> case_filter, pass_filter, extra;
  auto parse_list = [](char* text) {
    std::vector<int> out;
    for (char* t = std::strtok(text, ","); t; t = std::strtok(nullptr, ","))
      out.push_back(std::atoi(t));
    return out;
  };
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      thread_counts.clear();
      for (char* s = std::strtok(argv[++i], ","); s; s = std::strtok(nullptr, ","))
        thread_counts.push_back(std::atoi(s));
    } else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--cases") && i + 1 < argc) {
      case_filter = parse_list(argv[++i]);
    } else if (!std::strcmp(argv[i], "--passes") && i + 1 < argc) {
      pass_filter = parse_list(argv[++i]);
    } else if (!std::strcmp(argv[i], "--shape") && i + 1 < argc) {
      extra = parse_list(argv[++i]);
      if (extra.size() != 7) {
        std::fprintf(stderr, "--shape wants N,Cin,Cout,H,W,k,pad\n");
        return 2;
      }
    }
  }
  std::vector<Case> cases = {
      {"N64 1->32 28x28 k5 p2", 64, 1, 32, 28, 28, 5, 2},
      {"N64 32->64 14x14 k5 p2", 64, 32, 64, 14, 14, 5, 2},
      {"N32 64->64 56x56 k3 p1", 32, 64, 64, 56, 56, 3, 1},
  };
  std::string extra_label;
  if (!extra.empty()) {  // one shape of the caller's instead of the three
    char label[96];
    std::snprintf(label, sizeof label, "N%d %d->%d %dx%d k%d p%d", extra[0], extra[1], extra[2],
                  extra[3], extra[4], extra[5], extra[6]);
    extra_label = label;
    cases = {{extra_label.c_str(), extra[0], extra[1], extra[2], extra[3], extra[4], extra[5],
              extra[6]}};
  }
  std::printf("# axon conv benchmark: isa=%s (%s)\n", axon::isa_name(axon::active_isa()),
              axon::isa_choice_reason().c_str());
#ifdef AXON_WITH_DNNL
  std::printf(
      "| shape | pass | threads | axon algorithm | axon GFLOP/s | oneDNN GFLOP/s | axon / oneDNN "
      "|\n");
  std::printf("|---|---|---:|---|---:|---:|---:|\n");
#else
  std::printf(
      "# built without dnnl.hpp: axon only\n| shape | pass | threads | axon algorithm | axon "
      "GFLOP/s |\n|---|---|---:|---|---:|\n");
#endif
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int threads : thread_counts) {
    axon::set_num_threads(threads);
    for (size_t ci = 0; ci < cases.size(); ++ci) {
      if (!case_filter.empty() &&
          std::find(case_filter.begin(), case_filter.end(), int(ci)) == case_filter.end())
        continue;
      const Case& cs = cases[ci];
      axon::ConvGeometry g;
      g.n = cs.n, g.c_in = cs.cin, g.c_out = cs.cout, g.h = cs.h, g.w = cs.w, g.kh = g.kw = cs.k;
      g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = cs.pad;
      const int64_t oh = g.out_h(), ow = g.out_w();
      std::vector<float> x(size_t(g.n * g.c_in * g.h * g.w)),
          w(size_t(g.c_out * g.c_in * g.kh * g.kw)), b(size_t(g.c_out)),
          y(size_t(g.n * g.c_out * oh * ow)), dx(x.size()), dw(w.size()), db(b.size());
      for (auto* v : {&x, &w, &b, &y})
        for (auto& e : *v) e = dist(gen);
      const double flops = 2.0 * g.n * g.c_out * oh * ow * g.c_in * g.kh * g.kw;
      // The backward data of these stride-1 'same' layers is the forward of the mirrored
      // convolution (channels swapped); the weight gradient follows the forward's choice.
      axon::ConvGeometry mirrored = g;
      std::swap(mirrored.c_in, mirrored.c_out);
      auto algorithm = [&](int pass) {
        return axon::conv2d_forward_algorithm(pass == 1 ? mirrored : g);
      };
      struct Pass {
        const char* name;
        std::function<void()> ours;
      };
      auto fwd = [&] {
        axon::conv2d_forward(g, x.data(), w.data(), b.data(), axon::UnaryOp::Identity, 0, y.data());
      };
      auto bwd_data = [&] { axon::conv2d_backward_data(g, y.data(), w.data(), dx.data(), false); };
      auto bwd_weight = [&] {
        axon::conv2d_backward_weight(g, x.data(), y.data(), dw.data(), db.data());
      };
#ifdef AXON_WITH_DNNL
      using namespace dnnl;
      engine eng(engine::kind::cpu, 0);
      stream st(eng);
      const memory::dims src_d = {g.n, g.c_in, g.h, g.w}, wei_d = {g.c_out, g.c_in, g.kh, g.kw},
                         bia_d = {g.c_out}, dst_d = {g.n, g.c_out, oh, ow}, strides = {1, 1},
                         pad = {cs.pad, cs.pad};
      auto any = [](const memory::dims& d) {
        return memory::desc(d, memory::data_type::f32, memory::format_tag::any);
      };
      auto fdesc = convolution_forward::desc(prop_kind::forward_training,
                                             algorithm::convolution_direct, any(src_d), any(wei_d),
                                             any(bia_d), any(dst_d), strides, pad, pad);
      auto fpd = convolution_forward::primitive_desc(fdesc, eng);
      memory src(fpd.src_desc(), eng), wei(fpd.weights_desc(), eng), bia(fpd.bias_desc(), eng),
          dst(fpd.dst_desc(), eng);
      auto fill = [&](memory& m) {
        float* p = static_cast<float*>(m.get_data_handle());
        for (size_t i = 0; i < m.get_desc().get_size() / sizeof(float); ++i) p[i] = dist(gen);
      };
      fill(src), fill(wei), fill(bia), fill(dst);
      convolution_forward fprim(fpd);
      auto dnnl_fwd = [&] {
        fprim.execute(st, {{DNNL_ARG_SRC, src},
                           {DNNL_ARG_WEIGHTS, wei},
                           {DNNL_ARG_BIAS, bia},
                           {DNNL_ARG_DST, dst}});
        st.wait();
      };
      auto ddesc = convolution_backward_data::desc(algorithm::convolution_direct, any(src_d),
                                                   any(wei_d), any(dst_d), strides, pad, pad);
      auto dpd = convolution_backward_data::primitive_desc(ddesc, eng, fpd);
      memory diff_src(dpd.diff_src_desc(), eng), diff_dst_d(dpd.diff_dst_desc(), eng),
          wei_d2(dpd.weights_desc(), eng);
      fill(diff_dst_d), fill(wei_d2);
      convolution_backward_data dprim(dpd);
      auto dnnl_bwd_data = [&] {
        dprim.execute(st, {{DNNL_ARG_DIFF_DST, diff_dst_d},
                           {DNNL_ARG_WEIGHTS, wei_d2},
                           {DNNL_ARG_DIFF_SRC, diff_src}});
        st.wait();
      };
      auto wdesc =
          convolution_backward_weights::desc(algorithm::convolution_direct, any(src_d), any(wei_d),
                                             any(bia_d), any(dst_d), strides, pad, pad);
      auto wpd = convolution_backward_weights::primitive_desc(wdesc, eng, fpd);
      memory src_w(wpd.src_desc(), eng), diff_dst_w(wpd.diff_dst_desc(), eng),
          diff_wei(wpd.diff_weights_desc(), eng), diff_bia(wpd.diff_bias_desc(), eng);
      fill(src_w), fill(diff_dst_w);
      convolution_backward_weights wprim(wpd);
      auto dnnl_bwd_weight = [&] {
        wprim.execute(st, {{DNNL_ARG_SRC, src_w},
                           {DNNL_ARG_DIFF_DST, diff_dst_w},
                           {DNNL_ARG_DIFF_WEIGHTS, diff_wei},
                           {DNNL_ARG_DIFF_BIAS, diff_bia}});
        st.wait();
      };
      const std::function<void()> peers[] = {dnnl_fwd, dnnl_bwd_data, dnnl_bwd_weight};
#endif
      const std::function<void()> ours[] = {fwd, bwd_data, bwd_weight};
      const char* names[] = {"forward", "backward data", "backward weights"};
      for (int p = 0; p < 3; ++p) {
        if (!pass_filter.empty() &&
            std::find(pass_filter.begin(), pass_filter.end(), p) == pass_filter.end())
          continue;
        const int ra = reps_for(ours[p]);
#ifdef AXON_WITH_DNNL
        const int rb = reps_for(peers[p]);
#endif
        std::vector<double> ta, tb;
        for (int r = 0; r < rounds; ++r) {
          if (threads > 1) std::this_thread::sleep_for(std::chrono::milliseconds(200));
          ta.push_back(time_reps(ours[p], ra));
#ifdef AXON_WITH_DNNL
          if (threads > 1) std::this_thread::sleep_for(std::chrono::milliseconds(200));
          tb.push_back(time_reps(peers[p], rb));
#endif
        }
        const double ga = flops / median(ta) / 1e9;
#ifdef AXON_WITH_DNNL
        const double gb = flops / median(tb) / 1e9;
        std::printf("| %s | %s | %d | %s | %.1f | %.1f | %.2f |\n", cs.label, names[p], threads,
                    algorithm(p), ga, gb, ga / gb);
#else
        std::printf("| %s | %s | %d | %s | %.1f |\n", cs.label, names[p], threads, algorithm(p),
                    ga);
#endif
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
