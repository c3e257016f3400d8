// How one op of the table becomes JS functions: `name` runs it synchronously, `nameAsync`
// (only where the table asks for it) on libuv's pool, and every op registers a factory so a
// Program can record it. Each path parses with the op's generated parse() and runs it timed
// for the profiler. Internal header.
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "args.h"
#include "axon/thread_pool.h"
#include "exec.h"
#include "op_util.h"
#include "program.h"
#include "settle.h"

namespace axon::binding {

template <class Op>
Napi::Value run_sync(const Napi::CallbackInfo& info) {
  Args args(info, Op::kName);
  const Op op = Op::parse(args);
  ComputeScope computing;
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
    // No lock: concurrent calls share the cores (the policy in axon/thread_pool.h).
    ComputeScope computing;
    run_profiled(op_);
    error_ = take_runtime_error();
  }

 private:
  Op op_;
  std::vector<Napi::ObjectReference> keep_;
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

template <class Op>
struct OpInstr : Instr {
  Op op;
  explicit OpInstr(Op o) : op(std::move(o)) {}
  void run() override { run_profiled(op); }
  const char* name() const override { return Op::kName; }
  double flops() const override { return op.flops(); }
  double bytes() const override { return op.bytes(); }
  void buffers(std::vector<BufferUse>& uses) const override { op.buffers(uses); }
  bool* overwrite_flag(const void* target) override { return op.overwrite_flag(target); }
  void remap(const Remap& f) override { op.remap(f); }
};

template <class Op>
void export_op(Napi::Env env, Napi::Object exports, bool with_async) {
  exports.Set(Op::kName, Napi::Function::New(env, run_sync<Op>, Op::kName));
  if (with_async) {
    const std::string async_name = std::string(Op::kName) + "Async";
    exports.Set(async_name, Napi::Function::New(env, run_async<Op>, async_name));
  }
  register_factory(Op::kName, [](Args& args) -> std::unique_ptr<Instr> {
    return std::make_unique<OpInstr<Op>>(Op::parse(args));
  });
}

}  // namespace axon::binding
