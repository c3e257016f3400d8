// Recurrent layers (LSTM, GRU, tanh/ReLU RNN) against the step-by-step double reference on
// awkward sizes, both directions, with and without lengths and initial states; and the
// backward through time against finite differences of L = sum(gy*y) + sum(ghn*hn) +
// sum(gcn*cn) computed from the reference forward.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "axon/kernels.h"
#include "axon/ref.h"
#include "axon/thread_pool.h"
#include "check.h"

using namespace axon;
using axon::test::random_vector;

namespace {

const char* mode_name(RnnMode m) {
  switch (m) {
    case RnnMode::Lstm:
      return "lstm";
    case RnnMode::Gru:
      return "gru";
    case RnnMode::RnnTanh:
      return "rnn_tanh";
    default:
      return "rnn_relu";
  }
}

struct Case {
  RnnArgs a;
  bool with_lengths, with_state;
};

std::string describe(const Case& c) {
  char b[160];
  std::snprintf(b, sizeof b, "%s T%lld N%lld I%lld H%lld%s%s%s", mode_name(c.a.mode),
                (long long)c.a.steps, (long long)c.a.batch, (long long)c.a.input,
                (long long)c.a.hidden, c.a.reverse ? " reverse" : "",
                c.with_lengths ? " lengths" : "", c.with_state ? " h0" : "");
  return b;
}

// Everything one call needs, filled deterministically.
struct Data {
  std::vector<float> x, w_ih, w_hh, b_ih, b_hh, h0, c0;
  std::vector<int32_t> lengths;
  explicit Data(const Case& c, uint32_t seed) {
    const RnnArgs& a = c.a;
    const int64_t G = rnn_gate_count(a.mode) * a.hidden;
    const float s = 1.0f / std::sqrt(static_cast<float>(a.hidden));
    x = random_vector(a.steps * a.batch * a.input, seed);
    w_ih = random_vector(G * a.input, seed + 1, -s, s);
    w_hh = random_vector(G * a.hidden, seed + 2, -s, s);
    b_ih = random_vector(G, seed + 3, -s, s);
    b_hh = random_vector(G, seed + 4, -s, s);
    h0 = random_vector(a.batch * a.hidden, seed + 5, -0.5f, 0.5f);
    c0 = random_vector(a.batch * a.hidden, seed + 6, -0.5f, 0.5f);
    // Lengths from full down to 1 (row 0 keeps the full length, so some step has every row).
    for (int64_t r = 0; r < a.batch; ++r)
      lengths.push_back(static_cast<int32_t>(std::max<int64_t>(1, a.steps - (r * 3) % a.steps)));
  }
};

std::vector<Case> cases() {
  std::vector<Case> v;
  // Batches past 16 rows split the step loops into row blocks run on different threads.
  const int64_t sizes[][4] = {{1, 1, 1, 1},    {5, 3, 17, 33}, {7, 4, 3, 17},
                              {3, 2, 33, 127}, {3, 70, 5, 9},  {2, 65, 4, 16}};
  for (RnnMode m : {RnnMode::Lstm, RnnMode::Gru, RnnMode::RnnTanh, RnnMode::RnnRelu})
    for (const auto& s : sizes)
      for (bool rev : {false, true})
        for (int flags = 0; flags < 4; ++flags) {
          Case c;
          c.a.mode = m, c.a.steps = s[0], c.a.batch = s[1], c.a.input = s[2], c.a.hidden = s[3];
          c.a.reverse = rev;
          c.with_lengths = flags & 1, c.with_state = flags & 2;
          v.push_back(c);
        }
  return v;
}

}  // namespace

TEST(rnn_forward_matches_reference) {
  uint32_t seed = 100;
  for (const Case& c : cases()) {
    const RnnArgs& a = c.a;
    Data d(c, seed += 10);
    const int64_t NH = a.batch * a.hidden;
    std::vector<float> y(a.steps * NH, 7.0f), hn(NH), cn(NH), ws(rnn_workspace_size(a));
    std::vector<float> ry(a.steps * NH), rhn(NH), rcn(NH);
    const float* h0 = c.with_state ? d.h0.data() : nullptr;
    const float* c0 = c.with_state ? d.c0.data() : nullptr;
    const int32_t* len = c.with_lengths ? d.lengths.data() : nullptr;
    rnn_forward(a, d.x.data(), d.w_ih.data(), d.w_hh.data(), d.b_ih.data(), d.b_hh.data(), h0, c0,
                len, y.data(), hn.data(), cn.data(), ws.data());
    ref::rnn_forward(a, d.x.data(), d.w_ih.data(), d.w_hh.data(), d.b_ih.data(), d.b_hh.data(), h0,
                     c0, len, ry.data(), rhn.data(), rcn.data());
    const std::string what = describe(c);
    CHECK_CLOSE(y.data(), ry.data(), y.size(), 2e-5, 1e-4, what + " y");
    CHECK_CLOSE(hn.data(), rhn.data(), hn.size(), 2e-5, 1e-4, what + " hn");
    if (a.mode == RnnMode::Lstm)
      CHECK_CLOSE(cn.data(), rcn.data(), cn.size(), 2e-5, 1e-4, what + " cn");
  }
}

TEST(rnn_forward_without_biases) {
  Case c;
  c.a.mode = RnnMode::Gru, c.a.steps = 4, c.a.batch = 3, c.a.input = 5, c.a.hidden = 9;
  c.with_lengths = c.with_state = false;
  Data d(c, 7);
  const int64_t NH = c.a.batch * c.a.hidden;
  std::vector<float> y(c.a.steps * NH), hn(NH), cn(NH), ws(rnn_workspace_size(c.a));
  std::vector<float> ry(y.size()), rhn(NH), rcn(NH);
  rnn_forward(c.a, d.x.data(), d.w_ih.data(), d.w_hh.data(), nullptr, nullptr, nullptr, nullptr,
              nullptr, y.data(), hn.data(), cn.data(), ws.data());
  ref::rnn_forward(c.a, d.x.data(), d.w_ih.data(), d.w_hh.data(), nullptr, nullptr, nullptr,
                   nullptr, nullptr, ry.data(), rhn.data(), rcn.data());
  CHECK_CLOSE(y.data(), ry.data(), y.size(), 2e-5, 1e-4, "gru no bias y");
}

// Padded steps: the outputs at valid steps and the final states do not depend on what the
// padding holds, and the gradient reaching padded inputs is exactly zero.
TEST(rnn_padding_has_no_effect) {
  for (RnnMode m : {RnnMode::Lstm, RnnMode::Gru, RnnMode::RnnTanh})
    for (bool rev : {false, true}) {
      Case c;
      c.a.mode = m, c.a.steps = 6, c.a.batch = 3, c.a.input = 4, c.a.hidden = 5, c.a.reverse = rev;
      c.with_lengths = true, c.with_state = false;
      Data d(c, 31);
      d.lengths = {6, 2, 4};
      const RnnArgs& a = c.a;
      const int64_t NH = a.batch * a.hidden, G = rnn_gate_count(m) * a.hidden;
      auto run = [&](const std::vector<float>& x, std::vector<float>& y, std::vector<float>& hn,
                     std::vector<float>& dx) {
        std::vector<float> cn(NH), ws(rnn_workspace_size(a)), scratch(rnn_scratch_size(a));
        y.assign(a.steps * NH, 0), hn.assign(NH, 0), dx.assign(x.size(), 0);
        rnn_forward(a, x.data(), d.w_ih.data(), d.w_hh.data(), d.b_ih.data(), d.b_hh.data(),
                    nullptr, nullptr, d.lengths.data(), y.data(), hn.data(), cn.data(), ws.data());
        std::vector<float> dy(y.size(), 1.0f), dhn(NH, 1.0f), dcn(NH, 1.0f);
        std::vector<float> dwi(G * a.input), dwh(G * a.hidden), dbi(G), dbh(G);
        rnn_backward(a, x.data(), d.w_ih.data(), d.w_hh.data(), d.lengths.data(), ws.data(),
                     dy.data(), dhn.data(), dcn.data(), dx.data(), dwi.data(), dwh.data(),
                     dbi.data(), dbh.data(), nullptr, nullptr, scratch.data());
      };
      std::vector<float> y1, hn1, dx1, y2, hn2, dx2;
      run(d.x, y1, hn1, dx1);
      std::vector<float> x2 = d.x;
      for (int64_t t = 0; t < a.steps; ++t)
        for (int64_t r = 0; r < a.batch; ++r)
          if (t >= d.lengths[r])
            for (int64_t i = 0; i < a.input; ++i) x2[(t * a.batch + r) * a.input + i] = 1e3f;
      run(x2, y2, hn2, dx2);
      const std::string what = std::string(mode_name(m)) + (rev ? " reverse" : "");
      CHECK_CLOSE(y2.data(), y1.data(), y1.size(), 0, 0, what + " y");
      CHECK_CLOSE(hn2.data(), hn1.data(), hn1.size(), 0, 0, what + " hn");
      for (int64_t t = 0; t < a.steps; ++t)
        for (int64_t r = 0; r < a.batch; ++r)
          for (int64_t i = 0; i < a.input; ++i)
            if (t >= d.lengths[r]) {
              CHECK_MSG(dx1[(t * a.batch + r) * a.input + i] == 0.0f, what + " dx padded");
              CHECK_MSG(y1[(t * a.batch + r) * a.hidden] == 0.0f, what + " y padded");
            }
    }
}

TEST(rnn_backward_finite_differences) {
  uint32_t seed = 500;
  for (RnnMode m : {RnnMode::Lstm, RnnMode::Gru, RnnMode::RnnTanh, RnnMode::RnnRelu})
    for (bool rev : {false, true})
      for (bool lengths : {false, true}) {
        Case c;
        c.a.mode = m, c.a.steps = 4, c.a.batch = 3, c.a.input = 3, c.a.hidden = 5;
        c.a.reverse = rev, c.with_lengths = lengths, c.with_state = true;
        const RnnArgs& a = c.a;
        Data d(c, seed += 20);
        const int64_t NH = a.batch * a.hidden, G = rnn_gate_count(m) * a.hidden;
        const int32_t* len = lengths ? d.lengths.data() : nullptr;
        const auto gy = random_vector(a.steps * NH, seed + 11);
        const auto ghn = random_vector(NH, seed + 12);
        const auto gcn = random_vector(NH, seed + 13);
        auto loss = [&]() {
          std::vector<float> y(a.steps * NH), hn(NH), cn(NH);
          ref::rnn_forward(a, d.x.data(), d.w_ih.data(), d.w_hh.data(), d.b_ih.data(),
                           d.b_hh.data(), d.h0.data(), d.c0.data(), len, y.data(), hn.data(),
                           cn.data());
          double l = 0;
          for (size_t i = 0; i < y.size(); ++i) l += double(gy[i]) * y[i];
          for (int64_t i = 0; i < NH; ++i) l += double(ghn[i]) * hn[i];
          if (m == RnnMode::Lstm)
            for (int64_t i = 0; i < NH; ++i) l += double(gcn[i]) * cn[i];
          return l;
        };
        std::vector<float> y(a.steps * NH), hn(NH), cn(NH), ws(rnn_workspace_size(a));
        std::vector<float> scratch(rnn_scratch_size(a));
        rnn_forward(a, d.x.data(), d.w_ih.data(), d.w_hh.data(), d.b_ih.data(), d.b_hh.data(),
                    d.h0.data(), d.c0.data(), len, y.data(), hn.data(), cn.data(), ws.data());
        // Accumulation: start every accumulated gradient at 0.25 and subtract it afterwards.
        std::vector<float> dx(d.x.size(), 0.25f), dwi(G * a.input, 0.25f), dwh(G * a.hidden, 0.25f),
            dbi(G, 0.25f), dbh(G, 0.25f), dh0(NH, 9.0f), dc0(NH, 9.0f);
        rnn_backward(a, d.x.data(), d.w_ih.data(), d.w_hh.data(), len, ws.data(), gy.data(),
                     ghn.data(), m == RnnMode::Lstm ? gcn.data() : nullptr, dx.data(), dwi.data(),
                     dwh.data(), dbi.data(), dbh.data(), dh0.data(), dc0.data(), scratch.data());
        const std::string what =
            describe(c) + (m == RnnMode::RnnRelu ? " (relu: kinks may differ)" : "");
        auto check = [&](std::vector<float>& v, const std::vector<float>& g, float offset,
                         const char* name) {
          for (size_t i = 0; i < v.size(); ++i) {
            const float keep = v[i];
            const float eps = 1e-3f;
            v[i] = keep + eps;
            const double up = loss();
            v[i] = keep - eps;
            const double down = loss();
            v[i] = keep;
            const double fd = (up - down) / (2.0 * eps);
            const double an = double(g[i]) - offset;
            if (std::fabs(fd - an) > 2e-3 * (1 + std::fabs(fd))) {
              char b[128];
              std::snprintf(b, sizeof b, " %s[%zu]: analytic %.6g, numeric %.6g", name, i, an, fd);
              CHECK_MSG(false, what + b);
              return;
            }
          }
        };
        check(d.x, dx, 0.25f, "dx");
        check(d.w_ih, dwi, 0.25f, "dw_ih");
        check(d.w_hh, dwh, 0.25f, "dw_hh");
        check(d.b_ih, dbi, 0.25f, "db_ih");
        check(d.b_hh, dbh, 0.25f, "db_hh");
        check(d.h0, dh0, 0.0f, "dh0");
        if (m == RnnMode::Lstm) check(d.c0, dc0, 0.0f, "dc0");
      }
}

// The row-block split depends on the batch only: forward and backward give the same bits with
// one thread and with every thread of the pool.
TEST(rnn_results_do_not_depend_on_the_thread_count) {
  for (RnnMode m : {RnnMode::Lstm, RnnMode::Gru}) {
    Case c;
    c.a.mode = m, c.a.steps = 5, c.a.batch = 97, c.a.input = 6, c.a.hidden = 24;
    c.with_lengths = true, c.with_state = true;
    Data d(c, 77);
    const RnnArgs& a = c.a;
    const int64_t NH = a.batch * a.hidden;
    auto run = [&](int threads, std::vector<float>& out) {
      const int before = num_threads();
      set_num_threads(threads);
      std::vector<float> y(a.steps * NH), hn(NH), cn(NH), ws(rnn_workspace_size(a));
      rnn_forward(a, d.x.data(), d.w_ih.data(), d.w_hh.data(), d.b_ih.data(), d.b_hh.data(),
                  d.h0.data(), d.c0.data(), d.lengths.data(), y.data(), hn.data(), cn.data(),
                  ws.data());
      const int64_t G = rnn_gate_count(m) * a.hidden;
      std::vector<float> dy(y.size()), dhn(NH, 0.5f), dcn(NH, 0.25f), dx(d.x.size()),
          dwih(G * a.input), dwhh(G * a.hidden), dbih(G), dbhh(G), dh0(NH), dc0(NH),
          scratch(rnn_scratch_size(a));
      for (size_t i = 0; i < dy.size(); ++i) dy[i] = 0.01f * static_cast<float>(i % 17);
      rnn_backward(a, d.x.data(), d.w_ih.data(), d.w_hh.data(), d.lengths.data(), ws.data(),
                   dy.data(), dhn.data(), dcn.data(), dx.data(), dwih.data(), dwhh.data(),
                   dbih.data(), dbhh.data(), dh0.data(), dc0.data(), scratch.data());
      set_num_threads(before);
      out = y;
      for (const auto* v : {&hn, &cn, &dx, &dwih, &dwhh, &dbih, &dbhh, &dh0, &dc0})
        out.insert(out.end(), v->begin(), v->end());
    };
    std::vector<float> one, all;
    run(1, one);
    run(std::max(2, num_threads()), all);
    CHECK(one.size() == all.size());
    CHECK_MSG(std::memcmp(one.data(), all.data(), one.size() * sizeof(float)) == 0,
              m == RnnMode::Lstm ? "LSTM bits differ between 1 and 2+ threads"
                                 : "GRU bits differ between 1 and 2+ threads");
  }
}
