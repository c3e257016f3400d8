#include "op_util.h"

#include <atomic>
#include <cstddef>

#include "backend.h"

namespace axon::binding {

namespace {
thread_local std::string t_runtime_error;
}  // namespace

void set_runtime_error(std::string message) {
  if (t_runtime_error.empty()) t_runtime_error = std::move(message);
}

std::string take_runtime_error() {
  std::string e;
  e.swap(t_runtime_error);
  return e;
}

std::string gemm_desc(const GemmArgs& g) {
  return std::string(g.trans_a == Trans::Yes ? "T" : "N") + (g.trans_b == Trans::Yes ? "T" : "N") +
         " m=" + std::to_string(g.m) + " n=" + std::to_string(g.n) + " k=" + std::to_string(g.k);
}

std::string orc_string(int64_t outer, int64_t r, int64_t inner) {
  return "(" + std::to_string(outer) + "," + std::to_string(r) + "," + std::to_string(inner) + ")";
}

}  // namespace axon::binding

// ---- backends (backend.h) ---------------------------------------------------------------------

namespace axon::binding {

namespace {
std::atomic<Backend> g_backend{Backend::Cpu};
constexpr const char* kBackendNames[] = {"cpu"};
static_assert(sizeof(kBackendNames) / sizeof(kBackendNames[0]) == size_t(Backend::Count));
}  // namespace

const char* backend_name(Backend backend) { return kBackendNames[size_t(backend)]; }
Backend current_backend() { return g_backend.load(std::memory_order_relaxed); }
void set_backend(Backend backend) { g_backend.store(backend, std::memory_order_relaxed); }
void backend_missing(const char* op) {
  set_runtime_error(std::string(op) + ": not implemented on the " +
                    backend_name(current_backend()) + " backend");
}

}  // namespace axon::binding
