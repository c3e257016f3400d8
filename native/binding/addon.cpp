// axon_native: the N-API entry point. Every export is listed in Init below; each kernel op is
// exported twice, `name` (synchronous, on the calling thread) and `nameAsync` (an AsyncWorker
// on libuv's pool that returns a Promise). Argument checks live in ops.cpp / args.cpp; this
// file only wires ops to JS, times them for the profiler and serialises async calls.
#include <napi.h>

#include <chrono>
#include <memory>
#include <mutex>

#include "args.h"
#include "axon/profiler.h"
#include "exec.h"
#include "program.h"
#include "axon/runtime.h"
#include "axon/thread_pool.h"
#include "ops.h"
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

template <class Op>
Napi::Value run_sync(const Napi::CallbackInfo& info) {
  Args args(info, Op::kName);
  const Op op = Op::parse(args);
  run_profiled(op);
  std::string e = take_runtime_error();
  if (!e.empty()) throw Napi::RangeError::New(info.Env(), e);
  return info.Env().Undefined();
}

// Runs one op on a libuv thread. The typed arrays stay referenced (so the GC keeps their
// memory) until the promise settles; the caller must not touch them meanwhile.
template <class Op>
class OpWorker : public SettlingWorker {
 public:
  OpWorker(Napi::Env env, Op op, std::vector<Napi::Object>& buffers)
      : SettlingWorker(env, Op::kName), op_(std::move(op)) {
    for (auto& b : buffers) keep_.push_back(Napi::Persistent(b));
  }

 protected:
  void Execute() override {
    // Async calls queue here, so two in flight never split the cores between them.
    std::lock_guard<std::mutex> lock(compute_lock());
    run_profiled(op_);
    error_ = take_runtime_error();
  }

 private:
  Op op_;
  std::vector<Napi::ObjectReference> keep_;
};

template <class Op>
struct OpInstr : Instr {
  Op op;
  explicit OpInstr(Op o) : op(std::move(o)) {}
  void run() override { run_profiled(op); }
  const char* name() const override { return Op::kName; }
  double flops() const override { return op.flops(); }
  double bytes() const override { return op.bytes(); }
};

template <class Op>
Napi::Value run_async(const Napi::CallbackInfo& info) {
  Args args(info, Op::kName);
  Op op = Op::parse(args);
  auto* worker = new OpWorker<Op>(info.Env(), std::move(op), args.buffers());
  Napi::Value p = worker->promise();
  worker->Queue();
  return p;
}

Napi::Value backend_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
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

// rnnSizes(mode, steps, batch, input, hidden) -> [workspace floats, scratch floats]
Napi::Value rnn_sizes(const Napi::CallbackInfo& info) {
  Args args(info, "rnnSizes");
  RnnArgs a;
  a.mode = args.enumeration<RnnMode>(0, "mode");
  a.steps = args.integer(1, "steps", 0, int64_t{1} << 31);
  a.batch = args.integer(2, "batch", 0, int64_t{1} << 31);
  a.input = args.integer(3, "input", 1, int64_t{1} << 31);
  a.hidden = args.integer(4, "hidden", 1, int64_t{1} << 31);
  args.mul(args.mul(a.steps, a.batch, "sizes"), args.mul(a.hidden + a.input, 8, "sizes"), "sizes");
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(uint32_t{0}, Napi::Number::New(info.Env(), double(rnn_workspace_size(a))));
  out.Set(uint32_t{1}, Napi::Number::New(info.Env(), double(rnn_scratch_size(a))));
  return out;
}

Napi::Value profiler_enable(const Napi::CallbackInfo& info) {
  Args args(info, "profilerEnable");
  profiler::set_enabled(args.boolean(0, "on"));
  return info.Env().Undefined();
}

Napi::Value profiler_take(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<profiler::Record> records = profiler::take();
  Napi::Array out = Napi::Array::New(env, records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("op", records[i].op);
    r.Set("shapes", records[i].shapes);
    r.Set("ns", static_cast<double>(records[i].ns));
    r.Set("flops", records[i].flops);
    r.Set("bytes", records[i].bytes);
    out.Set(static_cast<uint32_t>(i), r);
  }
  return out;
}

// sumSquares(x): the sum of x^2 in double (for gradient-norm clipping). Synchronous only.
Napi::Value sum_squares_js(const Napi::CallbackInfo& info) {
  Args args(info, "sumSquares");
  F32 x = args.f32(0, "x");
  return Napi::Number::New(info.Env(), sum_squares(x.data, x.length));
}

template <class Op>
void export_op(Napi::Env env, Napi::Object exports) {
  exports.Set(Op::kName, Napi::Function::New(env, run_sync<Op>, Op::kName));
  const std::string async_name = std::string(Op::kName) + "Async";
  exports.Set(async_name, Napi::Function::New(env, run_async<Op>, async_name));
  register_factory(Op::kName, [](Args& args) -> std::unique_ptr<Instr> {
    return std::make_unique<OpInstr<Op>>(Op::parse(args));
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
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
  exports.Set("rnnSizes", Napi::Function::New(env, rnn_sizes, "rnnSizes"));
  export_op<GemmOp>(env, exports);
  export_op<GemmBatchedOp>(env, exports);
  export_op<UnaryOpCall>(env, exports);
  export_op<UnaryBackwardOp>(env, exports);
  export_op<BinaryOpCall>(env, exports);
  export_op<BinaryScalarOp>(env, exports);
  export_op<BinaryBackwardOp>(env, exports);
  export_op<ReduceOpCall>(env, exports);
  export_op<ArgReduceOpCall>(env, exports);
  export_op<ReduceBackwardOp>(env, exports);
  export_op<SumToShapeOp>(env, exports);
  export_op<SoftmaxOp>(env, exports);
  export_op<SoftmaxBackwardOp>(env, exports);
  export_op<PermuteOp>(env, exports);
  export_op<ConcatOp>(env, exports);
  export_op<SliceOp>(env, exports);
  export_op<SliceBackwardOp>(env, exports);
  export_op<SgdOp>(env, exports);
  export_op<AdamOp>(env, exports);
  export_op<RmspropOp>(env, exports);
  export_op<AdagradOp>(env, exports);
  export_op<CrossEntropyOp>(env, exports);
  export_op<CrossEntropyBackwardOp>(env, exports);
  export_op<BceLogitsOp>(env, exports);
  export_op<BceLogitsBackwardOp>(env, exports);
  export_op<BceOp>(env, exports);
  export_op<BceBackwardOp>(env, exports);
  export_op<DropoutOp>(env, exports);
  export_op<ClipGradNormOp>(env, exports);
  export_op<GatherRowsAtOp>(env, exports);
  export_op<LogScalarOp>(env, exports);
  export_op<PutRowsAtOp>(env, exports);
  export_op<FillOp>(env, exports);
  export_op<CopyOp>(env, exports);
  export_op<GatherRowsOp>(env, exports);
  export_op<ConfusionOp>(env, exports);
  export_op<TopKOp>(env, exports);
  export_op<RegressionStatsOp>(env, exports);
  export_op<Conv2dOp>(env, exports);
  export_op<Conv2dBackwardDataOp>(env, exports);
  export_op<Conv2dBackwardWeightOp>(env, exports);
  export_op<MaxPool2dOp>(env, exports);
  export_op<MaxPool2dBackwardOp>(env, exports);
  export_op<AvgPool2dOp>(env, exports);
  export_op<AvgPool2dBackwardOp>(env, exports);
  export_op<AdaptiveAvgPool2dOp>(env, exports);
  export_op<AdaptiveAvgPool2dBackwardOp>(env, exports);
  export_op<BatchNormOp>(env, exports);
  export_op<BatchNormBackwardOp>(env, exports);
  export_op<LayerNormOp>(env, exports);
  export_op<LayerNormBackwardOp>(env, exports);
  export_op<RandomCropFlipOp>(env, exports);
  export_op<RnnOp>(env, exports);
  export_op<RnnBackwardOp>(env, exports);
  export_op<EmbeddingOp>(env, exports);
  export_op<EmbeddingBackwardOp>(env, exports);
  export_op<EmbeddingRenormOp>(env, exports);
  export_op<SequenceLengthsOp>(env, exports);
  export_op<SequencePoolOp>(env, exports);
  export_op<SequencePoolBackwardOp>(env, exports);
  exports.Set("sumSquares", Napi::Function::New(env, sum_squares_js, "sumSquares"));
  init_program(env, exports);
  return exports;
}

}  // namespace

}  // namespace axon::binding

static Napi::Object InitAxonNative(Napi::Env env, Napi::Object exports) {
  return axon::binding::Init(env, exports);
}

NODE_API_MODULE(axon_native, InitAxonNative)
