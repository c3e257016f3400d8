// axon_native: the N-API entry point. Every export is listed in Init below: the op table's ops
// through export_ops (generated), each exported as `name` (synchronous, on the calling thread)
// and, where the table asks, `nameAsync` (on libuv's pool, returning a Promise); see export.h.
#include <napi.h>

#include <chrono>
#include <memory>
#include <mutex>

#include "args.h"
#include "axon/machine.h"
#include "axon/profiler.h"
#include "exec.h"
#include "peers.h"
#include "program.h"
#include "axon/cpu_config.h"
#include "axon/runtime.h"
#include "axon/thread_pool.h"
#include "backend.h"
#include "binding_ops.h"
#include "export.h"
#include "settle.h"

namespace axon::binding {

// ---- SettlingWorker (settle.h) ----------------------------------------------------------------

namespace {
void mark_env_closing(void* arg) {
  auto* life = static_cast<std::shared_ptr<EnvLife>*>(arg);
  (*life)->closing.store(true);
  delete life;
}
void delete_env_life(napi_env, void* data, void*) {
  delete static_cast<std::shared_ptr<EnvLife>*>(data);
}
}  // namespace

void init_env_life(Napi::Env env) {
  // The hook and the instance data each own a reference: Node runs them in no fixed order.
  auto life = std::make_shared<EnvLife>();
  if (napi_add_env_cleanup_hook(env, mark_env_closing, new std::shared_ptr<EnvLife>(life)) !=
      napi_ok)
    throw Napi::Error::New(env, "axon_native: napi_add_env_cleanup_hook failed");
  auto* data = new std::shared_ptr<EnvLife>(life);
  if (napi_set_instance_data(env, data, delete_env_life, nullptr) != napi_ok) {
    delete data;
    throw Napi::Error::New(env, "axon_native: napi_set_instance_data failed");
  }
}

std::shared_ptr<EnvLife> env_life(Napi::Env env) {
  void* data = nullptr;
  if (napi_get_instance_data(env, &data) != napi_ok || data == nullptr)
    throw Napi::Error::New(env, "axon_native: the addon was not initialised in this environment");
  return *static_cast<std::shared_ptr<EnvLife>*>(data);
}

SettlingWorker::SettlingWorker(Napi::Env env, const char* name)
    : Napi::AsyncWorker(env, name), name_(name), life_(env_life(env)) {
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_promise(env, &deferred_, &promise_));
}

void SettlingWorker::OnExecute(Napi::Env) {
  try {
    Execute();
  } catch (const std::exception& e) {
    error_ = std::string(name_) + ": " + e.what();
  } catch (...) {
    error_ = std::string(name_) + ": native error";
  }
}

// Statuses are ignored on purpose: a call fails only when the environment cannot run JS any
// more, and then there is no one to tell.
void SettlingWorker::Settle(napi_env env) noexcept {
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value v = nullptr;
  if (error_.empty()) {
    if (has_result_ ? napi_create_double(env, result_, &v) : napi_get_undefined(env, &v))
      v = nullptr;
    if (v) napi_resolve_deferred(env, deferred_, v);
  } else {
    napi_value msg = nullptr;
    if (napi_create_string_utf8(env, error_.data(), error_.size(), &msg) == napi_ok &&
        napi_create_range_error(env, nullptr, msg, &v) == napi_ok)
      napi_reject_deferred(env, deferred_, v);
  }
  napi_close_handle_scope(env, scope);
}

void SettlingWorker::OnWorkComplete(Napi::Env env, napi_status status) {
  if (status != napi_cancelled && !life_->closing.load()) Settle(env);
  Finished();
  Destroy();
}

namespace {

Napi::Value backend_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("backend", backend_name(current_backend()));
  o.Set("isa", isa_name(active_isa()));
  o.Set("isaReason", isa_choice_reason());
  Napi::Array avail = Napi::Array::New(env);
  uint32_t i = 0;
  for (Isa isa : available_isas()) avail.Set(i++, isa_name(isa));
  o.Set("isaAvailable", avail);
  o.Set("threads", num_threads());
  o.Set("availableCpus", available_cpus());
  const BuildInfo b = build_info();
  o.Set("compiler", b.compiler);
  o.Set("buildFlags", b.flags);
  const CpuIdentity& id = cpu_identity();
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("arch", id.arch);
  cpu.Set("vendor", id.vendor);
  cpu.Set("brand", id.brand);
  cpu.Set("family", id.family);
  cpu.Set("model", id.model);
  cpu.Set("stepping", id.stepping);
  cpu.Set("microarchitecture", microarchitecture(id));
  const CpuConfig& cfg = cpu_config();
  Napi::Object config = Napi::Object::New(env);
  config.Set("name", cfg.name);
  config.Set("reason", cpu_config_reason());
  config.Set("measured", cfg.measured);
  const GemmCacheBlocking& gb = cfg.gemm[size_t(active_isa())];
  Napi::Object gemm = Napi::Object::New(env);
  gemm.Set("kc", Napi::Number::New(env, double(gb.kc)));
  gemm.Set("mc", Napi::Number::New(env, double(gb.mc)));
  gemm.Set("nc", Napi::Number::New(env, double(gb.nc)));
  config.Set("gemm", gemm);
  Napi::Object wino = Napi::Object::New(env);
  wino.Set("minIn3x3", Napi::Number::New(env, double(cfg.winograd_min_in_3x3)));
  wino.Set("minIn5x5", Napi::Number::New(env, double(cfg.winograd_min_in_5x5)));
  wino.Set("minOut", Napi::Number::New(env, double(cfg.winograd_min_out)));
  config.Set("winograd", wino);
  Napi::Array names = Napi::Array::New(env);
  uint32_t k = 0;
  for (const std::string& n : cpu_config_names()) names.Set(k++, n);
  config.Set("known", names);
  cpu.Set("config", config);
  o.Set("cpu", cpu);
  Napi::Object lowp = Napi::Object::New(env);
  lowp.Set("bf16", lowp_native(LowpFormat::Bf16));
  lowp.Set("int8", lowp_native(LowpFormat::Int8));
  o.Set("lowpNative", lowp);
  return o;
}

// machineMeasure(): the FMA peak and read bandwidths (axon/machine.h), about a second.
Napi::Value machine_measure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const MachineMeasure m = measure_machine();
  Napi::Object o = Napi::Object::New(env);
  o.Set("lanes", m.lanes);
  o.Set("threads", m.threads);
  o.Set("fmaGflopsOne", m.fma_gflops_one);
  o.Set("fmaGflopsAll", m.fma_gflops_all);
  o.Set("l2GbpsOne", m.l2_gbps_one);
  o.Set("l2GbpsAll", m.l2_gbps_all);
  o.Set("dramGbpsAll", m.dram_gbps_all);
  o.Set("seconds", m.seconds);
  return o;
}

Napi::Value set_threads(const Napi::CallbackInfo& info) {
  Args args(info, "setNumThreads");
  set_num_threads(static_cast<int>(args.integer(0, "n", 1, 1024)));
  return info.Env().Undefined();
}

// setConvAlgorithm(0 auto | 1 implicit GEMM | 2 Winograd): process-wide (src/backend.ts).
Napi::Value set_conv_algorithm_js(const Napi::CallbackInfo& info) {
  Args args(info, "setConvAlgorithm");
  set_conv_algorithm(static_cast<ConvAlgorithm>(args.integer(0, "algorithm", 0, 2)));
  return info.Env().Undefined();
}

Napi::Value get_conv_algorithm_js(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<int>(conv_algorithm()));
}

Napi::Value get_threads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), num_threads());
}

// rnnSizes(dims) -> [workspace floats, scratch floats]; dims is rnn's RnnDims (the fields and
// ranges of native/optable/sequence.ops.mjs), with the same overflow checks as rnn.
Napi::Value rnn_sizes(const Napi::CallbackInfo& info) {
  Args args(info, "rnnSizes");
  const Napi::Object s = args.object(0, "dims");
  RnnArgs a;
  a.mode = static_cast<RnnMode>(
      args.int_field(s, "dims", "mode", 0, static_cast<int64_t>(RnnMode::Count) - 1));
  a.steps = args.int_field(s, "dims", "steps", 0, int64_t{1} << 31);
  a.batch = args.int_field(s, "dims", "batch", 0, int64_t{1} << 31);
  a.input = args.int_field(s, "dims", "input", 1, int64_t{1} << 31);
  a.hidden = args.int_field(s, "dims", "hidden", 1, int64_t{1} << 31);
  a.reverse = args.bool_field(s, "dims", "reverse");
  static const char* const kKeys[] = {"mode", "steps", "batch", "input", "hidden", "reverse"};
  args.only_fields(s, "dims", 6, kKeys);
  const RnnSizes sizes = rnn_sizes_checked(args, a);
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(uint32_t{0}, Napi::Number::New(info.Env(), double(sizes.workspace)));
  out.Set(uint32_t{1}, Napi::Number::New(info.Env(), double(sizes.scratch)));
  return out;
}

Napi::Value profiler_enable(const Napi::CallbackInfo& info) {
  Args args(info, "profilerEnable");
  profiler::set_enabled(args.boolean(0, "on"));
  return info.Env().Undefined();
}

Napi::Value profiler_take(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  profiler::Taken taken = profiler::take();
  const std::vector<profiler::Record>& records = taken.records;
  Napi::Array list = Napi::Array::New(env, records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("op", records[i].op);
    r.Set("shapes", records[i].shapes);
    r.Set("ns", static_cast<double>(records[i].ns));
    r.Set("flops", records[i].flops);
    r.Set("bytes", records[i].bytes);
    r.Set("id", static_cast<double>(records[i].id));
    r.Set("startNs", static_cast<double>(records[i].start_ns));
    r.Set("thread", records[i].thread);
    list.Set(static_cast<uint32_t>(i), r);
  }
  Napi::Array spans = Napi::Array::New(env, taken.spans.size());
  for (size_t i = 0; i < taken.spans.size(); ++i) {
    const profiler::Span& s = taken.spans[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("record", static_cast<double>(s.record));
    o.Set("worker", s.worker);
    o.Set("thread", s.thread);
    o.Set("startNs", static_cast<double>(s.start_ns));
    o.Set("endNs", static_cast<double>(s.end_ns));
    o.Set("tasks", static_cast<double>(s.tasks));
    spans.Set(static_cast<uint32_t>(i), o);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("records", list);
  out.Set("spans", spans);
  out.Set("dropped", static_cast<double>(taken.dropped));
  return out;
}

// sumSquares(x): the sum of x^2 in double (for gradient-norm clipping). Synchronous only.
Napi::Value sum_squares_js(const Napi::CallbackInfo& info) {
  Args args(info, "sumSquares");
  F32 x = args.f32(0, "x");
  return Napi::Number::New(info.Env(), sum_squares(x.data, x.length));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // A tuning override that names nothing, or blocking the GEMM cannot run, is refused at load
  // rather than ignored.
  if (const std::string& problem = cpu_config_error(); !problem.empty())
    throw Napi::Error::New(env, "axon-nn: " + problem);
  init_env_life(env);
  exports.Set("backendInfo", Napi::Function::New(env, backend_info, "backendInfo"));
  exports.Set("setNumThreads", Napi::Function::New(env, set_threads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, get_threads, "getNumThreads"));
  exports.Set("setConvAlgorithm",
              Napi::Function::New(env, set_conv_algorithm_js, "setConvAlgorithm"));
  exports.Set("getConvAlgorithm",
              Napi::Function::New(env, get_conv_algorithm_js, "getConvAlgorithm"));
  exports.Set("profilerEnable", Napi::Function::New(env, profiler_enable, "profilerEnable"));
  exports.Set("profilerTake", Napi::Function::New(env, profiler_take, "profilerTake"));
  exports.Set("machineMeasure", Napi::Function::New(env, machine_measure, "machineMeasure"));
  exports.Set("rnnSizes", Napi::Function::New(env, rnn_sizes, "rnnSizes"));
  export_ops(env, exports);
  exports.Set("sumSquares", Napi::Function::New(env, sum_squares_js, "sumSquares"));
  init_program(env, exports);
  export_peers(env, exports);
  return exports;
}

}  // namespace

}  // namespace axon::binding

static Napi::Object InitAxonNative(Napi::Env env, Napi::Object exports) {
  return axon::binding::Init(env, exports);
}

NODE_API_MODULE(axon_native, InitAxonNative)
