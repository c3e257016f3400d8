// Program: record once, replay natively (see program.h).
//
// Loop registers (a JS-owned Float64Array given to the constructor):
//   regs[0] start row of the current batch (read by gatherRowsAt)
//   regs[1] step index (logScalar writes dst[regs[1]])
//   regs[2] rows per step: after each replayed step, regs[0] += regs[2] and regs[1] += 1
//   regs[3] abort flag: when set (by JS, any time), replay stops before the next step
#include "program.h"

#include <atomic>
#include <map>
#include <mutex>

#include "axon/thread_pool.h"
#include "ops.h"

namespace axon::binding {

namespace {

std::map<std::string, Factory>& factories() {
  static auto* f = new std::map<std::string, Factory>();
  return *f;
}

class Program : public Napi::ObjectWrap<Program> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Program",
        {InstanceMethod("record", &Program::Record), InstanceMethod("run", &Program::Run),
         InstanceMethod("runAsync", &Program::RunAsync), InstanceMethod("clear", &Program::Clear),
         InstanceAccessor("length", &Program::Length, nullptr),
         InstanceAccessor("ops", &Program::Ops, nullptr)});
  }

  explicit Program(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Program>(info) {
    Args args(info, "Program");
    F64 regs = args.f64(0, "regs");
    args.expect_length(regs.length, 4, "regs", "start, step, rows per step, abort flag");
    regs_ = regs.data;
    keep_.push_back(Napi::Persistent(args.buffers().back()));
  }

  // Replays `times` steps; returns how many ran (fewer when aborted). Sets `error_` and stops
  // at the first op that fails its run-time checks.
  int64_t Replay(int64_t times) {
    int64_t done = 0;
    for (; done < times; ++done) {
      double abort_flag;  // written by JS on the main thread while a replay runs
      __atomic_load(&regs_[3], &abort_flag, __ATOMIC_RELAXED);
      if (abort_flag != 0) break;
      for (auto& instr : instrs_) {
        instr->run();
        std::string e = take_runtime_error();
        if (!e.empty()) {
          error_ = std::move(e);
          return done;
        }
      }
      regs_[0] += regs_[2];
      regs_[1] += 1;
    }
    return done;
  }

  std::string error_;
  bool busy_ = false;

 private:
  void ensure_idle(Napi::Env env, const char* what) {
    if (busy_)
      throw Napi::Error::New(env, std::string("Program.") + what +
                                      ": the program is running (runAsync has not settled)");
  }

  // record(opName, args: unknown[], execute: boolean)
  Napi::Value Record(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ensure_idle(env, "record");
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsBoolean())
      throw Napi::TypeError::New(env, "Program.record: expected (opName, args array, execute)");
    const std::string name = info[0].As<Napi::String>();
    auto it = factories().find(name);
    if (it == factories().end())
      throw Napi::TypeError::New(env, "Program.record: unknown op '" + name + "'");
    Args args(env, info[1].As<Napi::Array>(), it->first.c_str());
    std::unique_ptr<Instr> instr = it->second(args);
    for (auto& b : args.buffers()) keep_.push_back(Napi::Persistent(b));
    if (info[2].As<Napi::Boolean>().Value()) {
      instr->run();
      std::string e = take_runtime_error();
      if (!e.empty()) throw Napi::RangeError::New(env, e);
    }
    instrs_.push_back(std::move(instr));
    return env.Undefined();
  }

  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ensure_idle(env, "run");
    Args args(info, "Program.run");
    const int64_t times = info.Length() > 0 ? args.integer(0, "times", 0, int64_t{1} << 40) : 1;
    error_.clear();
    const int64_t done = Replay(times);
    if (!error_.empty()) throw Napi::RangeError::New(env, error_);
    return Napi::Number::New(env, static_cast<double>(done));
  }

  Napi::Value RunAsync(const Napi::CallbackInfo& info);

  Napi::Value Clear(const Napi::CallbackInfo& info) {
    ensure_idle(info.Env(), "clear");
    instrs_.clear();
    keep_.erase(keep_.begin() + 1, keep_.end());  // keep the registers
    return info.Env().Undefined();
  }

  Napi::Value Length(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(instrs_.size()));
  }

  Napi::Value Ops(const Napi::CallbackInfo& info) {
    Napi::Array out = Napi::Array::New(info.Env(), instrs_.size());
    for (size_t i = 0; i < instrs_.size(); ++i)
      out.Set(static_cast<uint32_t>(i), instrs_[i]->name());
    return out;
  }

  std::vector<std::unique_ptr<Instr>> instrs_;
  std::vector<Napi::ObjectReference> keep_;  // every buffer the ops point into
  double* regs_ = nullptr;

  friend class ReplayWorker;
};

class ReplayWorker : public Napi::AsyncWorker {
 public:
  ReplayWorker(Napi::Env env, Program* program, int64_t times)
      : Napi::AsyncWorker(env, "Program.runAsync"),
        program_(program),
        times_(times),
        deferred_(env) {
    self_ = Napi::Persistent(program->Value());
    program->busy_ = true;
    program->error_.clear();
  }
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    std::lock_guard<std::mutex> lock(compute_lock());
    done_ = program_->Replay(times_);
  }
  void OnOK() override {
    program_->busy_ = false;
    if (!program_->error_.empty())
      deferred_.Reject(Napi::RangeError::New(Env(), program_->error_).Value());
    else
      deferred_.Resolve(Napi::Number::New(Env(), static_cast<double>(done_)));
  }
  void OnError(const Napi::Error& e) override {
    program_->busy_ = false;
    deferred_.Reject(e.Value());
  }

 private:
  Program* program_;
  int64_t times_;
  int64_t done_ = 0;
  Napi::ObjectReference self_;  // keeps the Program (and its buffers) alive while running
  Napi::Promise::Deferred deferred_;
};

Napi::Value Program::RunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ensure_idle(env, "runAsync");
  Args args(info, "Program.runAsync");
  const int64_t times = info.Length() > 0 ? args.integer(0, "times", 0, int64_t{1} << 40) : 1;
  auto* worker = new ReplayWorker(env, this, times);
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

}  // namespace

void register_factory(const char* name, Factory factory) { factories()[name] = factory; }

void init_program(Napi::Env env, Napi::Object exports) {
  exports.Set("Program", Program::Define(env));
}

}  // namespace axon::binding
