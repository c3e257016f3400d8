// Peers for the bench CLI (src/cli/): OpenBLAS and oneDNN, loaded at run time when their shared
// libraries are found (dlopen/dlsym; LoadLibrary/GetProcAddress on Windows) and never needed to
// build or install the addon: no peer header is included, the few C entry points used are
// declared here with the ABI of the versions named below.
//
//   peerLoad(name, paths, errors?)  'openblas' | 'onednn': opens the first path that loads (and,
//                                   for oneDNN, prefers a supported version), returns what it
//                                   found or null; `errors` collects "path: reason" per failure.
//   peerSetThreads(n)               OpenBLAS's pool (openblas_set_num_threads) and oneDNN's
//                                   (omp_set_num_threads, when it runs on OpenMP).
//   peerSgemm(...)                  cblas_sgemm, row-major, C = op(A) op(B).
//   peerConv2dIm2col(...)           im2col (one image at a time, one thread) + cblas_sgemm.
//   peerDnnlConv2d(...)             oneDNN forward convolution on its own layouts; times it.
//   peerDnnlEltwise(...)            oneDNN relu / exp / logistic / binary add on plain buffers.
//
// OpenBLAS: the CBLAS enum values (CblasRowMajor 101, CblasNoTrans 111, CblasTrans 112) are
// ABI-stable. An ILP64 build (openblas_get_config() says USE64BITINT, e.g. Debian's
// libopenblas64.so.0) takes 64-bit integers; a suffixed one (cblas_sgemm64_) too.
//
// oneDNN: its C API changed between major versions (2.x *_desc_init, 3.x *_primitive_desc_create)
// and enum values may move. Only the versions in kDnnlVerified are driven: the values, struct
// sizes and signatures below were checked against the installed header (Debian 12's libdnnl-dev
// 2.6.3, /usr/include/oneapi/dnnl/dnnl.h and dnnl_types.h, by a C program printing each value
// and sizeof); any other version is reported as found but not supported. Its thread count is set
// through OpenMP (omp_set_num_threads, found through the library's dependencies) when it runs
// on OpenMP; on Windows, or with TBB or a threadpool, it keeps its default.
//
// Not for concurrent use from several threads (one mutex serialises every call): a bench tool.
// Loaded libraries are never closed (OpenBLAS and OpenMP keep threads; closing them is unsafe).
#include <napi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "args.h"
#include "peers.h"

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#else
#include <dlfcn.h>
#endif

namespace axon::binding {

namespace {

// ---- loading -----------------------------------------------------------------------------

void* lib_open(const std::string& path, std::string& error) {
#if defined(_WIN32)
  HMODULE h = LoadLibraryA(path.c_str());
  if (!h) error = "LoadLibrary failed (error " + std::to_string(GetLastError()) + ")";
  return reinterpret_cast<void*>(h);
#else
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    error = e ? e : "dlopen failed";
  }
  return h;
#endif
}

// The symbol as a function pointer of type F, or null. On Linux and macOS dlsym on a handle
// also searches the libraries it depends on (oneDNN's OpenMP runtime).
template <class F>
F lib_symbol(void* handle, const char* name) {
#if defined(_WIN32)
  FARPROC p = GetProcAddress(static_cast<HMODULE>(handle), name);
#else
  void* p = dlsym(handle, name);
#endif
  F f = nullptr;
  static_assert(sizeof f == sizeof p, "function and data pointers differ in size");
  std::memcpy(&f, &p, sizeof f);
  return f;
}

// The file the library was loaded from ("" when unknown): `symbol` is one of its functions.
template <class F>
std::string lib_file(void* handle, F symbol) {
#if defined(_WIN32)
  (void)symbol;
  char buf[MAX_PATH];
  const DWORD n = GetModuleFileNameA(static_cast<HMODULE>(handle), buf, MAX_PATH);
  return n > 0 && n < MAX_PATH ? std::string(buf, n) : std::string();
#else
  (void)handle;
  void* p = nullptr;
  static_assert(sizeof p == sizeof symbol, "function and data pointers differ in size");
  std::memcpy(&p, &symbol, sizeof p);
  Dl_info info;
  return p && dladdr(p, &info) && info.dli_fname ? std::string(info.dli_fname) : std::string();
#endif
}

std::mutex g_mutex;

// ---- OpenBLAS ----------------------------------------------------------------------------

constexpr int kCblasRowMajor = 101, kCblasNoTrans = 111, kCblasTrans = 112;
using SgemmLp64 = void (*)(int, int, int, int32_t, int32_t, int32_t, float, const float*, int32_t,
                           const float*, int32_t, float, float*, int32_t);
using SgemmIlp64 = void (*)(int, int, int, int64_t, int64_t, int64_t, float, const float*, int64_t,
                            const float*, int64_t, float, float*, int64_t);

struct OpenBlas {
  std::string path, file, version, config, corename;
  bool ilp64 = false;
  SgemmLp64 sgemm32 = nullptr;
  SgemmIlp64 sgemm64 = nullptr;
  void (*set_threads)(int) = nullptr;
  int (*get_threads)() = nullptr;
  int parallel = -1;           // openblas_get_parallel(): 0 sequential, 1 pthreads, 2 OpenMP
  std::vector<float> scratch;  // im2col columns, reused across calls
};
OpenBlas* g_blas = nullptr;  // never freed (see the top)

// Fills `b` from an opened library; false with `why` when it is not a usable OpenBLAS.
bool bind_openblas(void* h, OpenBlas& b, std::string& why) {
  using Str = char* (*)();
  Str config = lib_symbol<Str>(h, "openblas_get_config");
  Str corename = lib_symbol<Str>(h, "openblas_get_corename");
  b.set_threads = lib_symbol<void (*)(int)>(h, "openblas_set_num_threads");
  b.get_threads = lib_symbol<int (*)()>(h, "openblas_get_num_threads");
  if (void (*plain)() = lib_symbol<void (*)()>(h, "cblas_sgemm")) {
    b.config = config ? config() : "";
    b.ilp64 = b.config.find("USE64BITINT") != std::string::npos;
    if (b.ilp64)
      b.sgemm64 = reinterpret_cast<SgemmIlp64>(plain);
    else
      b.sgemm32 = reinterpret_cast<SgemmLp64>(plain);
  } else if ((b.sgemm64 = lib_symbol<SgemmIlp64>(h, "cblas_sgemm64_"))) {
    // A suffixed ILP64 build: its other entry points carry the suffix too.
    config = config ? config : lib_symbol<Str>(h, "openblas_get_config64_");
    corename = corename ? corename : lib_symbol<Str>(h, "openblas_get_corename64_");
    if (!b.set_threads) b.set_threads = lib_symbol<void (*)(int)>(h, "openblas_set_num_threads64_");
    if (!b.get_threads) b.get_threads = lib_symbol<int (*)()>(h, "openblas_get_num_threads64_");
    b.config = config ? config() : "";
    b.ilp64 = true;
  } else {
    why = "no cblas_sgemm symbol";
    return false;
  }
  b.file = b.sgemm32 ? lib_file(h, b.sgemm32) : lib_file(h, b.sgemm64);
  b.corename = corename ? corename() : "";
  auto parallel = lib_symbol<int (*)()>(h, "openblas_get_parallel");
  if (!parallel) parallel = lib_symbol<int (*)()>(h, "openblas_get_parallel64_");
  if (parallel) b.parallel = parallel();
  // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...": the second word.
  if (b.config.rfind("OpenBLAS ", 0) == 0) {
    const size_t end = b.config.find(' ', 9);
    b.version = b.config.substr(9, end == std::string::npos ? std::string::npos : end - 9);
  }
  return true;
}

void sgemm(const OpenBlas& b, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a,
           int64_t lda, const float* bm, int64_t ldb, float* c, int64_t ldc) {
  const int ota = ta ? kCblasTrans : kCblasNoTrans, otb = tb ? kCblasTrans : kCblasNoTrans;
  if (b.ilp64)
    b.sgemm64(kCblasRowMajor, ota, otb, m, n, k, 1.0f, a, lda, bm, ldb, 0.0f, c, ldc);
  else
    b.sgemm32(kCblasRowMajor, ota, otb, int32_t(m), int32_t(n), int32_t(k), 1.0f, a, int32_t(lda),
              bm, int32_t(ldb), 0.0f, c, int32_t(ldc));
}

// ---- oneDNN 2.x C API (values of dnnl_types.h 2.6.3) ------------------------------------------

struct DnnlVersion {
  int major, minor, patch;
  const char* hash;
  unsigned cpu_runtime, gpu_runtime;
};
// Versions whose enum values and entry points were checked against their header.
struct VerifiedVersion {
  int major, minor;
};
constexpr VerifiedVersion kDnnlVerified[] = {{2, 6}};

using dnnl_status = int;
constexpr dnnl_status kDnnlSuccess = 0;
constexpr int kDnnlF32 = 3;                          // dnnl_f32
constexpr int kTagAny = 1, kTagA = 2, kTagAbcd = 5;  // any, a (x), abcd (nchw, oihw)
constexpr int kForwardInference = 96;                // dnnl_forward_inference
constexpr int kConvolutionAuto = 0x3;                // dnnl_convolution_auto
constexpr int kEltwiseRelu = 0x1f, kEltwiseLogistic = 0xaf, kEltwiseExp = 0xbf;
constexpr int kBinaryAdd = 0x1fff0;
constexpr int kEngineCpu = 1;  // dnnl_cpu
constexpr int kQuerySrcMd = 129, kQueryWeightsMd = 131, kQueryDstMd = 133;
constexpr int kQueryImplInfoStr = 8;
constexpr unsigned kStreamDefaultFlags = 1;  // dnnl_stream_in_order
constexpr int kArgSrc = 1, kArgSrc1 = 2, kArgDst = 17, kArgWeights = 33, kArgBias = 41;
constexpr unsigned kRuntimeSeq = 1, kRuntimeOmp = 2, kRuntimeTbb = 4, kRuntimeThreadpool = 8;
void* const kMemoryAllocate = reinterpret_cast<void*>(~uintptr_t{0});  // DNNL_MEMORY_ALLOCATE

// dnnl_memory_desc_t (696 bytes in 2.6) and the op descriptors (convolution 5,976, eltwise 1,416,
// binary 2,096) are opaque here: the library fills them through a pointer. Twice the 2.6 sizes.
struct alignas(64) MemDesc {
  unsigned char bytes[2048];
};
struct alignas(64) OpDesc {
  unsigned char bytes[12288];
};
using Dims = int64_t[12];  // dnnl_dims_t
struct ExecArg {
  int arg;
  void* memory;
};
using Handle = void*;  // dnnl_engine_t, dnnl_stream_t, dnnl_memory_t, primitive (desc)

struct Dnnl {
  std::string path, file, version, runtime, reason;
  bool supported = false;
  const DnnlVersion* v = nullptr;
  dnnl_status (*engine_create)(Handle*, int, size_t) = nullptr;
  dnnl_status (*stream_create)(Handle*, Handle, unsigned) = nullptr;
  dnnl_status (*md_init_by_tag)(MemDesc*, int, const int64_t*, int, int) = nullptr;
  dnnl_status (*conv_fwd_desc_init)(OpDesc*, int, int, const MemDesc*, const MemDesc*,
                                    const MemDesc*, const MemDesc*, const int64_t*, const int64_t*,
                                    const int64_t*) = nullptr;
  dnnl_status (*eltwise_fwd_desc_init)(OpDesc*, int, int, const MemDesc*, float, float) = nullptr;
  dnnl_status (*binary_desc_init)(OpDesc*, int, const MemDesc*, const MemDesc*,
                                  const MemDesc*) = nullptr;
  dnnl_status (*pd_create)(Handle*, const void*, const void*, Handle, const void*) = nullptr;
  dnnl_status (*reorder_pd_create)(Handle*, const MemDesc*, Handle, const MemDesc*, Handle,
                                   const void*) = nullptr;
  const MemDesc* (*pd_query_md)(const void*, int, int) = nullptr;
  dnnl_status (*pd_query)(const void*, int, int, void*) = nullptr;
  dnnl_status (*pd_destroy)(Handle) = nullptr;
  dnnl_status (*primitive_create)(Handle*, const void*) = nullptr;
  dnnl_status (*primitive_execute)(const void*, Handle, int, const ExecArg*) = nullptr;
  dnnl_status (*primitive_destroy)(Handle) = nullptr;
  dnnl_status (*memory_create)(Handle*, const MemDesc*, Handle, void*) = nullptr;
  dnnl_status (*memory_get_data_handle)(const void*, void**) = nullptr;
  dnnl_status (*memory_destroy)(Handle) = nullptr;
  dnnl_status (*stream_wait)(Handle) = nullptr;
  void (*omp_set_num_threads)(int) = nullptr;
  int (*omp_get_max_threads)() = nullptr;
  Handle engine = nullptr, stream = nullptr;
};
Dnnl* g_dnnl = nullptr;  // never freed

bool dnnl_version_verified(const DnnlVersion& v) {
  for (const VerifiedVersion& ok : kDnnlVerified)
    if (v.major == ok.major && v.minor == ok.minor) return true;
  return false;
}

std::string verified_list() {
  std::string s;
  for (const VerifiedVersion& ok : kDnnlVerified)
    s += (s.empty() ? "" : ", ") + std::to_string(ok.major) + "." + std::to_string(ok.minor) + ".x";
  return s;
}

// Fills `d` from an opened library. Returns false when it is not oneDNN at all; a oneDNN of
// another version returns true with d.supported false and d.reason.
bool bind_dnnl(void* h, Dnnl& d, std::string& why) {
  auto version = lib_symbol<const DnnlVersion* (*)()>(h, "dnnl_version");
  if (!version || !(d.v = version())) {
    why = "no dnnl_version symbol";
    return false;
  }
  const DnnlVersion& v = *d.v;
  d.file = lib_file(h, version);
  d.version =
      std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
  d.runtime = v.cpu_runtime == kRuntimeOmp          ? "openmp"
              : v.cpu_runtime == kRuntimeTbb        ? "tbb"
              : v.cpu_runtime == kRuntimeThreadpool ? "threadpool"
              : v.cpu_runtime == kRuntimeSeq        ? "sequential"
                                                    : "unknown";
  if (!dnnl_version_verified(v)) {
    d.reason = "oneDNN " + d.version + " found but not supported by this bench (its C API and " +
               "enum values were verified for " + verified_list() + " only)";
    return true;
  }
  bool missing = false;
  std::string names;
  auto sym = [&](auto& fn, const char* name) {
    fn = lib_symbol<std::remove_reference_t<decltype(fn)>>(h, name);
    if (!fn) names += (missing ? ", " : "") + std::string(name), missing = true;
  };
  sym(d.engine_create, "dnnl_engine_create");
  sym(d.stream_create, "dnnl_stream_create");
  sym(d.md_init_by_tag, "dnnl_memory_desc_init_by_tag");
  sym(d.conv_fwd_desc_init, "dnnl_convolution_forward_desc_init");
  sym(d.eltwise_fwd_desc_init, "dnnl_eltwise_forward_desc_init");
  sym(d.binary_desc_init, "dnnl_binary_desc_init");
  sym(d.pd_create, "dnnl_primitive_desc_create");
  sym(d.reorder_pd_create, "dnnl_reorder_primitive_desc_create");
  sym(d.pd_query_md, "dnnl_primitive_desc_query_md");
  sym(d.pd_query, "dnnl_primitive_desc_query");
  sym(d.pd_destroy, "dnnl_primitive_desc_destroy");
  sym(d.primitive_create, "dnnl_primitive_create");
  sym(d.primitive_execute, "dnnl_primitive_execute");
  sym(d.primitive_destroy, "dnnl_primitive_destroy");
  sym(d.memory_create, "dnnl_memory_create");
  sym(d.memory_get_data_handle, "dnnl_memory_get_data_handle");
  sym(d.memory_destroy, "dnnl_memory_destroy");
  sym(d.stream_wait, "dnnl_stream_wait");
  if (missing) {
    d.reason = "oneDNN " + d.version + " lacks " + names;
    return true;
  }
  if (v.cpu_runtime == kRuntimeOmp) {
    d.omp_set_num_threads = lib_symbol<void (*)(int)>(h, "omp_set_num_threads");
    d.omp_get_max_threads = lib_symbol<int (*)()>(h, "omp_get_max_threads");
  }
  d.supported = true;
  return true;
}

// Throws "<op>: oneDNN <what> failed (status N)" unless s is dnnl_success.
void dnnl_check(const char* op, dnnl_status s, const char* what) {
  if (s != kDnnlSuccess)
    throw std::runtime_error(std::string(op) + ": oneDNN " + what + " failed (status " +
                             std::to_string(s) + ")");
}

// Owners of oneDNN objects, destroyed through the loaded library.
struct DnnlObject {
  Handle h = nullptr;
  dnnl_status (*destroy)(Handle) = nullptr;
  DnnlObject() = default;
  DnnlObject(const DnnlObject&) = delete;
  DnnlObject& operator=(const DnnlObject&) = delete;
  void reset(Handle nh = nullptr, dnnl_status (*nd)(Handle) = nullptr) {
    if (h && destroy) destroy(h);
    h = nh, destroy = nd;
  }
  ~DnnlObject() { reset(); }
};

void dnnl_engine(const char* op, Dnnl& d) {
  if (d.engine) return;
  dnnl_check(op, d.engine_create(&d.engine, kEngineCpu, 0), "engine creation");
  dnnl_check(op, d.stream_create(&d.stream, d.engine, kStreamDefaultFlags), "stream creation");
}

int dnnl_threads(const Dnnl& d) { return d.omp_get_max_threads ? d.omp_get_max_threads() : 0; }

void dnnl_primitive(const char* op, Dnnl& d, const OpDesc& desc, DnnlObject& pd, DnnlObject& prim) {
  Handle p = nullptr;
  dnnl_check(op, d.pd_create(&p, &desc, nullptr, d.engine, nullptr), "primitive descriptor");
  pd.reset(p, d.pd_destroy);
  Handle q = nullptr;
  dnnl_check(op, d.primitive_create(&q, pd.h), "primitive creation");
  prim.reset(q, d.primitive_destroy);
}

void dnnl_memory(const char* op, Dnnl& d, const MemDesc* md, void* data, DnnlObject& mem) {
  Handle m = nullptr;
  dnnl_check(op, d.memory_create(&m, md, d.engine, data), "memory creation");
  mem.reset(m, d.memory_destroy);
}

void dnnl_run(const char* op, Dnnl& d, const DnnlObject& prim,
              std::initializer_list<ExecArg> args) {
  dnnl_check(op, d.primitive_execute(prim.h, d.stream, int(args.size()), args.begin()), "execute");
  dnnl_check(op, d.stream_wait(d.stream), "stream wait");
}

// A convolution prepared for one geometry and thread count, on the layouts oneDNN chose.
struct ConvGeom {
  int64_t n, cin, cout, h, w, kh, kw, stride, pad;
  bool has_bias;
  bool operator==(const ConvGeom& o) const {
    return n == o.n && cin == o.cin && cout == o.cout && h == o.h && w == o.w && kh == o.kh &&
           kw == o.kw && stride == o.stride && pad == o.pad && has_bias == o.has_bias;
  }
  int64_t oh() const { return (h + 2 * pad - kh) / stride + 1; }
  int64_t ow() const { return (w + 2 * pad - kw) / stride + 1; }
};

struct DnnlConv {
  ConvGeom g{};
  int threads = -1;
  std::string impl;
  MemDesc user_src, user_wei, user_dst, bias_md;
  DnnlObject pd, prim, src, wei, bia, dst;
  DnnlObject src_pd, src_reorder, wei_pd, wei_reorder, dst_pd, dst_reorder;
};
DnnlConv* g_conv = nullptr;

void reorder(const char* op, Dnnl& d, const MemDesc* from, const MemDesc* to, DnnlObject& pd,
             DnnlObject& prim) {
  Handle p = nullptr;
  dnnl_check(op, d.reorder_pd_create(&p, from, d.engine, to, d.engine, nullptr), "reorder");
  pd.reset(p, d.pd_destroy);
  Handle q = nullptr;
  dnnl_check(op, d.primitive_create(&q, pd.h), "reorder creation");
  prim.reset(q, d.primitive_destroy);
}

DnnlConv& dnnl_conv(const char* op, Dnnl& d, const ConvGeom& g) {
  const int threads = dnnl_threads(d);
  if (g_conv && g_conv->g == g && g_conv->threads == threads) return *g_conv;
  delete g_conv;
  g_conv = nullptr;
  auto c = std::make_unique<DnnlConv>();
  c->g = g, c->threads = threads;
  const Dims src = {g.n, g.cin, g.h, g.w}, wei = {g.cout, g.cin, g.kh, g.kw}, bias = {g.cout},
             dst = {g.n, g.cout, g.oh(), g.ow()}, strides = {g.stride, g.stride},
             pad = {g.pad, g.pad};
  MemDesc any_src, any_wei, any_dst;
  dnnl_check(op, d.md_init_by_tag(&any_src, 4, src, kDnnlF32, kTagAny), "memory descriptor");
  dnnl_check(op, d.md_init_by_tag(&any_wei, 4, wei, kDnnlF32, kTagAny), "memory descriptor");
  dnnl_check(op, d.md_init_by_tag(&any_dst, 4, dst, kDnnlF32, kTagAny), "memory descriptor");
  dnnl_check(op, d.md_init_by_tag(&c->bias_md, 1, bias, kDnnlF32, kTagA), "memory descriptor");
  dnnl_check(op, d.md_init_by_tag(&c->user_src, 4, src, kDnnlF32, kTagAbcd), "memory descriptor");
  dnnl_check(op, d.md_init_by_tag(&c->user_wei, 4, wei, kDnnlF32, kTagAbcd), "memory descriptor");
  dnnl_check(op, d.md_init_by_tag(&c->user_dst, 4, dst, kDnnlF32, kTagAbcd), "memory descriptor");
  OpDesc desc;
  dnnl_check(op,
             d.conv_fwd_desc_init(&desc, kForwardInference, kConvolutionAuto, &any_src, &any_wei,
                                  g.has_bias ? &c->bias_md : nullptr, &any_dst, strides, pad, pad),
             "convolution descriptor");
  dnnl_primitive(op, d, desc, c->pd, c->prim);
  const char* impl = nullptr;
  if (d.pd_query(c->pd.h, kQueryImplInfoStr, 0, &impl) == kDnnlSuccess && impl) c->impl = impl;
  const MemDesc* src_md = d.pd_query_md(c->pd.h, kQuerySrcMd, 0);
  const MemDesc* wei_md = d.pd_query_md(c->pd.h, kQueryWeightsMd, 0);
  const MemDesc* dst_md = d.pd_query_md(c->pd.h, kQueryDstMd, 0);
  if (!src_md || !wei_md || !dst_md)
    throw std::runtime_error(std::string(op) + ": oneDNN gave no memory descriptor");
  dnnl_memory(op, d, src_md, kMemoryAllocate, c->src);
  dnnl_memory(op, d, wei_md, kMemoryAllocate, c->wei);
  dnnl_memory(op, d, dst_md, kMemoryAllocate, c->dst);
  if (g.has_bias) dnnl_memory(op, d, &c->bias_md, kMemoryAllocate, c->bia);
  reorder(op, d, &c->user_src, src_md, c->src_pd, c->src_reorder);
  reorder(op, d, &c->user_wei, wei_md, c->wei_pd, c->wei_reorder);
  reorder(op, d, dst_md, &c->user_dst, c->dst_pd, c->dst_reorder);
  g_conv = c.release();
  return *g_conv;
}

struct DnnlEltwise {
  int alg = -1;
  int64_t n = -1;
  int threads = -1;
  MemDesc md;
  DnnlObject pd, prim;
};
DnnlEltwise* g_eltwise = nullptr;

// ---- the exports -----------------------------------------------------------------------------

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Napi::Object blas_info(Napi::Env env, const OpenBlas& b) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", "openblas");
  o.Set("path", b.path);
  o.Set("file", b.file);
  o.Set("version", b.version.empty() ? "unknown" : b.version);
  o.Set("supported", true);
  o.Set("config", b.config);
  o.Set("corename", b.corename);
  o.Set("ilp64", b.ilp64);
  o.Set("threading", b.parallel == 0   ? "sequential"
                     : b.parallel == 1 ? "pthreads"
                     : b.parallel == 2 ? "openmp"
                                       : "unknown");
  o.Set("threads",
        b.get_threads ? Napi::Value(Napi::Number::New(env, b.get_threads())) : env.Null());
  return o;
}

Napi::Object dnnl_info(Napi::Env env, const Dnnl& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", "onednn");
  o.Set("path", d.path);
  o.Set("file", d.file);
  o.Set("version", d.version);
  o.Set("supported", d.supported);
  if (!d.reason.empty()) o.Set("reason", d.reason);
  o.Set("threading", d.runtime);
  const int t = dnnl_threads(d);
  o.Set("threads", t > 0 ? Napi::Value(Napi::Number::New(env, t)) : env.Null());
  return o;
}

// peerLoad(name, paths, errors?) -> info | null
Napi::Value peer_load(const Napi::CallbackInfo& info) {
  Args args(info, "peerLoad");
  Napi::Env env = info.Env();
  Napi::Value name_v = info.Length() > 0 ? info[0] : env.Undefined();
  if (!name_v.IsString()) args.type_error("argument 'name' must be 'openblas' or 'onednn'");
  const std::string name = name_v.As<Napi::String>();
  if (name != "openblas" && name != "onednn")
    args.range_error("argument 'name' must be 'openblas' or 'onednn', got '" + name + "'");
  Napi::Array list = args.array(1, "paths");
  if (list.Length() > 64) args.range_error("argument 'paths' has more than 64 entries");
  std::vector<std::string> paths;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value p = list.Get(i);
    if (!p.IsString() || p.As<Napi::String>().Utf8Value().empty())
      args.type_error("argument 'paths' must hold non-empty strings (entry " + std::to_string(i) +
                      " does not)");
    paths.push_back(p.As<Napi::String>());
  }
  Napi::Array errors;
  const bool want_errors = info.Length() > 2 && !info[2].IsUndefined();
  if (want_errors) errors = args.array(2, "errors");
  auto report = [&](const std::string& path, const std::string& why) {
    // dlerror() names the path already.
    if (want_errors) errors.Set(errors.Length(), why.rfind(path, 0) == 0 ? why : path + ": " + why);
  };

  std::lock_guard<std::mutex> lock(g_mutex);
  if (name == "openblas") {
    if (g_blas) return blas_info(env, *g_blas);
    for (const std::string& path : paths) {
      std::string why;
      void* h = lib_open(path, why);
      if (!h) {
        report(path, why);
        continue;
      }
      auto b = std::make_unique<OpenBlas>();
      if (!bind_openblas(h, *b, why)) {
        report(path, why);
        continue;
      }
      b->path = path;
      g_blas = b.release();
      return blas_info(env, *g_blas);
    }
    return env.Null();
  }
  if (g_dnnl && g_dnnl->supported) return dnnl_info(env, *g_dnnl);
  Dnnl* unsupported = g_dnnl;  // a oneDNN found earlier that this bench cannot drive
  for (const std::string& path : paths) {
    if (unsupported && unsupported->path == path) continue;
    std::string why;
    void* h = lib_open(path, why);
    if (!h) {
      report(path, why);
      continue;
    }
    auto d = std::make_unique<Dnnl>();
    if (!bind_dnnl(h, *d, why)) {
      report(path, why);
      continue;
    }
    d->path = path;
    if (d->supported) {
      g_dnnl = d.release();  // the unsupported one, if any, stays loaded but unused
      return dnnl_info(env, *g_dnnl);
    }
    report(path, d->reason);
    if (!unsupported) unsupported = g_dnnl = d.release();
  }
  return unsupported ? Napi::Value(dnnl_info(env, *unsupported)) : env.Null();
}

// peerSetThreads(n) -> { openblas: threads | null, onednn: threads | null }
Napi::Value peer_set_threads(const Napi::CallbackInfo& info) {
  Args args(info, "peerSetThreads");
  const int n = static_cast<int>(args.integer(0, "n", 1, 1024));
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(g_mutex);
  Napi::Object o = Napi::Object::New(env);
  o.Set("openblas", env.Null());
  o.Set("onednn", env.Null());
  if (g_blas && g_blas->set_threads) {
    g_blas->set_threads(n);
    if (g_blas->get_threads) o.Set("openblas", g_blas->get_threads());
  }
  if (g_dnnl && g_dnnl->supported && g_dnnl->omp_set_num_threads) {
    g_dnnl->omp_set_num_threads(n);
    o.Set("onednn", dnnl_threads(*g_dnnl));
  }
  return o;
}

OpenBlas& need_blas(const Args& args) {
  if (!g_blas)
    throw Napi::Error::New(args.env(), std::string(args.op()) +
                                           ": OpenBLAS is not loaded (call peerLoad('openblas', "
                                           "paths) first)");
  return *g_blas;
}

Dnnl& need_dnnl(const Args& args) {
  if (!g_dnnl || !g_dnnl->supported)
    throw Napi::Error::New(args.env(),
                           std::string(args.op()) + ": " +
                               (g_dnnl ? g_dnnl->reason
                                       : "oneDNN is not loaded (call peerLoad('onednn', paths) "
                                         "first)"));
  return *g_dnnl;
}

// Rethrows a std::exception from the peer code as a JS Error.
template <class F>
auto js_errors(Napi::Env env, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// peerSgemm(transA, transB, m, n, k, a, b, c): c (m x n) = op(a) op(b), row-major, contiguous:
// a is m x k (k x m when transA), b is k x n (n x k when transB).
Napi::Value peer_sgemm(const Napi::CallbackInfo& info) {
  Args args(info, "peerSgemm");
  const bool ta = args.boolean(0, "transA"), tb = args.boolean(1, "transB");
  const int64_t limit = INT32_MAX;  // the LP64 interface's; checked before knowing the library
  const int64_t m = args.integer(2, "m", 1, limit), n = args.integer(3, "n", 1, limit),
                k = args.integer(4, "k", 1, limit);
  F32 a = args.f32(5, "a"), b = args.f32(6, "b"), c = args.f32(7, "c");
  args.expect_length(a.length, args.mul(m, k, "m*k"), "a", "m*k");
  args.expect_length(b.length, args.mul(k, n, "k*n"), "b", "k*n");
  args.expect_length(c.length, args.mul(m, n, "m*n"), "c", "m*n");
  args.expect_disjoint(c.data, c.length, "c", a.data, a.length, "a", false);
  args.expect_disjoint(c.data, c.length, "c", b.data, b.length, "b", false);
  if (info.Length() > 8) args.type_error("takes 8 arguments, got " + std::to_string(info.Length()));
  std::lock_guard<std::mutex> lock(g_mutex);
  const OpenBlas& blas = need_blas(args);
  sgemm(blas, ta, tb, m, n, k, a.data, ta ? m : k, b.data, tb ? k : n, c.data, n);
  return info.Env().Undefined();
}

// The geometry object {n, cin, cout, h, w, kh, kw, stride, pad} and the four buffers' checks.
struct ConvArgs {
  ConvGeom g;
  F32 x, w, b, y;
};

ConvArgs conv_args(Args& args) {
  const Napi::Object o = args.object(0, "geometry");
  static const char* const kKeys[] = {"n", "cin", "cout", "h", "w", "kh", "kw", "stride", "pad"};
  const int64_t big = int64_t{1} << 24;
  ConvArgs c{};
  ConvGeom& g = c.g;
  g.n = args.int_field(o, "geometry", "n", 1, big);
  g.cin = args.int_field(o, "geometry", "cin", 1, big);
  g.cout = args.int_field(o, "geometry", "cout", 1, big);
  g.h = args.int_field(o, "geometry", "h", 1, big);
  g.w = args.int_field(o, "geometry", "w", 1, big);
  g.kh = args.int_field(o, "geometry", "kh", 1, 64);
  g.kw = args.int_field(o, "geometry", "kw", 1, 64);
  g.stride = args.int_field(o, "geometry", "stride", 1, 64);
  g.pad = args.int_field(o, "geometry", "pad", 0, 64);
  args.only_fields(o, "geometry", 9, kKeys);
  if (g.h + 2 * g.pad < g.kh || g.w + 2 * g.pad < g.kw)
    args.range_error("the kernel (" + std::to_string(g.kh) + "x" + std::to_string(g.kw) +
                     ") is larger than the padded input (" + std::to_string(g.h + 2 * g.pad) + "x" +
                     std::to_string(g.w + 2 * g.pad) + ")");
  c.x = args.f32(1, "x");
  c.w = args.f32(2, "w");
  c.b = args.f32_or_null(3, "b");
  c.y = args.f32(4, "y");
  g.has_bias = c.b.present;
  const int64_t xs = args.mul(args.mul(g.n, g.cin, "n*cin"), args.mul(g.h, g.w, "h*w"), "x size");
  const int64_t ws =
      args.mul(args.mul(g.cout, g.cin, "cout*cin"), args.mul(g.kh, g.kw, "kh*kw"), "w size");
  const int64_t ys =
      args.mul(args.mul(g.n, g.cout, "n*cout"), args.mul(g.oh(), g.ow(), "oh*ow"), "y size");
  args.expect_length(c.x.length, xs, "x", "n*cin*h*w");
  args.expect_length(c.w.length, ws, "w", "cout*cin*kh*kw");
  if (c.b.present) args.expect_length(c.b.length, g.cout, "b", "cout");
  args.expect_length(c.y.length, ys, "y", "n*cout*oh*ow");
  args.expect_disjoint(c.y.data, c.y.length, "y", c.x.data, c.x.length, "x", false);
  args.expect_disjoint(c.y.data, c.y.length, "y", c.w.data, c.w.length, "w", false);
  if (c.b.present)
    args.expect_disjoint(c.y.data, c.y.length, "y", c.b.data, c.b.length, "b", false);
  return c;
}

// peerConv2dIm2col(geometry, x, w, b | null, y): NCHW / OIHW, symmetric padding. Per image:
// columns (cin*kh*kw x oh*ow) by one thread, then cblas_sgemm W x columns, then the bias.
Napi::Value peer_conv2d_im2col(const Napi::CallbackInfo& info) {
  Args args(info, "peerConv2dIm2col");
  const ConvArgs c = conv_args(args);
  const ConvGeom& g = c.g;
  std::lock_guard<std::mutex> lock(g_mutex);
  OpenBlas& blas = need_blas(args);
  const int64_t oh = g.oh(), ow = g.ow(), p = oh * ow, kk = g.cin * g.kh * g.kw;
  if (!blas.ilp64 && (p > INT32_MAX || kk > INT32_MAX || g.cout * p > INT32_MAX))
    args.range_error("the im2col GEMM of this geometry exceeds the 32-bit OpenBLAS interface");
  const bool direct = g.kh == 1 && g.kw == 1 && g.stride == 1 && g.pad == 0;
  js_errors(info.Env(), [&] {
    if (!direct && int64_t(blas.scratch.size()) < kk * p) blas.scratch.resize(size_t(kk * p));
  });
  float* cols = blas.scratch.data();
  for (int64_t img = 0; img < g.n; ++img) {
    const float* x = c.x.data + img * g.cin * g.h * g.w;
    float* y = c.y.data + img * g.cout * p;
    if (!direct) {
      for (int64_t ci = 0; ci < g.cin; ++ci)
        for (int64_t ky = 0; ky < g.kh; ++ky)
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            float* row = cols + ((ci * g.kh + ky) * g.kw + kx) * p;
            for (int64_t oy = 0; oy < oh; ++oy) {
              const int64_t iy = oy * g.stride - g.pad + ky;
              float* out = row + oy * ow;
              if (iy < 0 || iy >= g.h) {
                std::fill(out, out + ow, 0.0f);
                continue;
              }
              const float* in = x + (ci * g.h + iy) * g.w;
              for (int64_t ox = 0; ox < ow; ++ox) {
                const int64_t ix = ox * g.stride - g.pad + kx;
                out[ox] = ix >= 0 && ix < g.w ? in[ix] : 0.0f;
              }
            }
          }
    }
    sgemm(blas, false, false, g.cout, p, kk, c.w.data, kk, direct ? x : cols, p, y, p);
    if (c.b.present)
      for (int64_t co = 0; co < g.cout; ++co) {
        float* row = y + co * p;
        const float bias = c.b.data[co];
        for (int64_t i = 0; i < p; ++i) row[i] += bias;
      }
  }
  return info.Env().Undefined();
}

// peerDnnlConv2d(geometry, x, w, b | null, y, reps) -> { seconds, reorderSeconds, impl }:
// reorders x and w from NCHW / OIHW into the layouts oneDNN chose (format_tag any), runs the
// forward convolution `reps` times (inference, algorithm auto), reorders its output into y.
// `seconds` is the mean time of one convolution, `reorderSeconds` the three reorders'.
Napi::Value peer_dnnl_conv2d(const Napi::CallbackInfo& info) {
  Args args(info, "peerDnnlConv2d");
  const ConvArgs c = conv_args(args);
  const int64_t reps = args.integer(5, "reps", 1, 1000000);
  std::lock_guard<std::mutex> lock(g_mutex);
  Dnnl& d = need_dnnl(args);
  const char* op = "peerDnnlConv2d";
  Napi::Env env = info.Env();
  return js_errors(env, [&] {
    dnnl_engine(op, d);
    DnnlConv& conv = dnnl_conv(op, d, c.g);
    DnnlObject ux, uw, uy;
    dnnl_memory(op, d, &conv.user_src, c.x.data, ux);
    dnnl_memory(op, d, &conv.user_wei, c.w.data, uw);
    dnnl_memory(op, d, &conv.user_dst, c.y.data, uy);
    auto t0 = Clock::now();
    dnnl_run(op, d, conv.src_reorder, {{kArgSrc, ux.h}, {kArgDst, conv.src.h}});
    dnnl_run(op, d, conv.wei_reorder, {{kArgSrc, uw.h}, {kArgDst, conv.wei.h}});
    double reorder_s = seconds_since(t0);
    if (c.g.has_bias) {
      void* bias = nullptr;
      dnnl_check(op, d.memory_get_data_handle(conv.bia.h, &bias), "bias handle");
      std::memcpy(bias, c.b.data, size_t(c.b.length) * sizeof(float));
    }
    const ExecArg exec[4] = {{kArgSrc, conv.src.h},
                             {kArgWeights, conv.wei.h},
                             {kArgDst, conv.dst.h},
                             {kArgBias, conv.bia.h}};
    const int nargs = c.g.has_bias ? 4 : 3;
    t0 = Clock::now();
    for (int64_t r = 0; r < reps; ++r)
      dnnl_check(op, d.primitive_execute(conv.prim.h, d.stream, nargs, exec), "execute");
    dnnl_check(op, d.stream_wait(d.stream), "stream wait");
    const double conv_s = seconds_since(t0) / double(reps);
    t0 = Clock::now();
    dnnl_run(op, d, conv.dst_reorder, {{kArgSrc, conv.dst.h}, {kArgDst, uy.h}});
    reorder_s += seconds_since(t0);
    Napi::Object o = Napi::Object::New(env);
    o.Set("seconds", conv_s);
    o.Set("reorderSeconds", reorder_s);
    o.Set("impl", conv.impl);
    return o;
  });
}

// peerDnnlEltwise(op, x, x2 | null, y): y = relu(x) | exp(x) | sigmoid(x) | x + x2, on plain
// 1-D buffers of one length (y may be x itself).
Napi::Value peer_dnnl_eltwise(const Napi::CallbackInfo& info) {
  Args args(info, "peerDnnlEltwise");
  Napi::Env env = info.Env();
  Napi::Value op_v = info.Length() > 0 ? info[0] : env.Undefined();
  if (!op_v.IsString()) args.type_error("argument 'op' must be 'relu', 'exp', 'sigmoid' or 'add'");
  const std::string name = op_v.As<Napi::String>();
  const int alg = name == "relu"      ? kEltwiseRelu
                  : name == "exp"     ? kEltwiseExp
                  : name == "sigmoid" ? kEltwiseLogistic
                  : name == "add"     ? kBinaryAdd
                                      : -1;
  if (alg < 0)
    args.range_error("argument 'op' must be 'relu', 'exp', 'sigmoid' or 'add', got '" + name + "'");
  F32 x = args.f32(1, "x");
  F32 x2 = args.f32_or_null(2, "x2");
  F32 y = args.f32(3, "y");
  if (x.length < 1) args.range_error("argument 'x' is empty");
  if (alg == kBinaryAdd && !x2.present) args.type_error("argument 'x2' is required for 'add'");
  if (alg != kBinaryAdd && x2.present)
    args.type_error("argument 'x2' must be null for '" + name + "'");
  if (x2.present) args.expect_length(x2.length, x.length, "x2", "the length of x");
  args.expect_length(y.length, x.length, "y", "the length of x");
  args.expect_disjoint(y.data, y.length, "y", x.data, x.length, "x", true);
  if (x2.present) args.expect_disjoint(y.data, y.length, "y", x2.data, x2.length, "x2", true);
  std::lock_guard<std::mutex> lock(g_mutex);
  Dnnl& d = need_dnnl(args);
  const char* op = "peerDnnlEltwise";
  js_errors(env, [&] {
    dnnl_engine(op, d);
    const int threads = dnnl_threads(d);
    if (!g_eltwise || g_eltwise->alg != alg || g_eltwise->n != x.length ||
        g_eltwise->threads != threads) {
      delete g_eltwise;
      g_eltwise = nullptr;
      auto e = std::make_unique<DnnlEltwise>();
      e->alg = alg, e->n = x.length, e->threads = threads;
      const Dims dims = {x.length};
      dnnl_check(op, d.md_init_by_tag(&e->md, 1, dims, kDnnlF32, kTagA), "memory descriptor");
      OpDesc desc;
      if (alg == kBinaryAdd)
        dnnl_check(op, d.binary_desc_init(&desc, alg, &e->md, &e->md, &e->md), "binary descriptor");
      else
        dnnl_check(op, d.eltwise_fwd_desc_init(&desc, kForwardInference, alg, &e->md, 0.0f, 0.0f),
                   "eltwise descriptor");
      dnnl_primitive(op, d, desc, e->pd, e->prim);
      g_eltwise = e.release();
    }
    DnnlObject mx, mx2, my;
    dnnl_memory(op, d, &g_eltwise->md, x.data, mx);
    dnnl_memory(op, d, &g_eltwise->md, y.data, my);
    if (alg == kBinaryAdd) {
      dnnl_memory(op, d, &g_eltwise->md, x2.data, mx2);
      dnnl_run(op, d, g_eltwise->prim, {{kArgSrc, mx.h}, {kArgSrc1, mx2.h}, {kArgDst, my.h}});
    } else {
      dnnl_run(op, d, g_eltwise->prim, {{kArgSrc, mx.h}, {kArgDst, my.h}});
    }
  });
  return env.Undefined();
}

}  // namespace

void export_peers(Napi::Env env, Napi::Object exports) {
  exports.Set("peerLoad", Napi::Function::New(env, peer_load, "peerLoad"));
  exports.Set("peerSetThreads", Napi::Function::New(env, peer_set_threads, "peerSetThreads"));
  exports.Set("peerSgemm", Napi::Function::New(env, peer_sgemm, "peerSgemm"));
  exports.Set("peerConv2dIm2col", Napi::Function::New(env, peer_conv2d_im2col, "peerConv2dIm2col"));
  exports.Set("peerDnnlConv2d", Napi::Function::New(env, peer_dnnl_conv2d, "peerDnnlConv2d"));
  exports.Set("peerDnnlEltwise", Napi::Function::New(env, peer_dnnl_eltwise, "peerDnnlEltwise"));
}

}  // namespace axon::binding
