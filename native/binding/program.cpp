// Program: record once, replay natively (see program.h).
//
// Loop registers (a JS-owned Float64Array given to the constructor):
//   regs[0] start row of the current batch (read by gatherRowsAt)
//   regs[1] step index (logScalar writes dst[regs[1]])
//   regs[2] rows per step: after each replayed step, regs[0] += regs[2] and regs[1] += 1
//   regs[3] abort flag: when set (by JS, any time), replay stops before the next step
#include "program.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

#include "axon/thread_pool.h"
#include "op_util.h"
#include "settle.h"

namespace axon::binding {

namespace {

std::mutex& factories_lock() {
  static auto* m = new std::mutex();
  return *m;
}
std::map<std::string, Factory>& factories() {
  static auto* f = new std::map<std::string, Factory>();
  return *f;
}

// What a replay touches, shared by the Program and an in-flight ReplayWorker: the worker's
// completion may run after the Program object is gone (a worker_thread's teardown finalizes
// every wrapped object), so neither side may own it alone.
struct ReplayState {
  std::vector<std::unique_ptr<Instr>> instrs;
  double* regs = nullptr;
  std::string error;
  bool busy = false;  // a runAsync has not settled (JS thread only)

  // Execute on a pool thread vs the Program's destructor on the JS thread: the destructor
  // marks the state released and waits for a replay in progress, so the buffers the ops point
  // into (referenced by the Program) outlive every replay; a replay that starts after that
  // does nothing.
  std::mutex m;
  std::condition_variable cv;
  bool running = false;
  bool released = false;

  // Replays `times` steps; returns how many ran (fewer when aborted). Sets `error` and stops
  // at the first op that fails its run-time checks.
  int64_t Replay(int64_t times) {
    int64_t done = 0;
    for (; done < times; ++done) {
      double abort_flag;  // written by JS on the main thread while a replay runs
      __atomic_load(&regs[3], &abort_flag, __ATOMIC_RELAXED);
      if (abort_flag != 0) break;
      for (auto& instr : instrs) {
        instr->run();
        std::string e = take_runtime_error();
        if (!e.empty()) {
          error = std::move(e);
          return done;
        }
      }
      regs[0] += regs[2];
      regs[1] += 1;
    }
    return done;
  }
};

class Program : public Napi::ObjectWrap<Program> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Program",
        {InstanceMethod("record", &Program::Record), InstanceMethod("run", &Program::Run),
         InstanceMethod("runAsync", &Program::RunAsync), InstanceMethod("clear", &Program::Clear),
         InstanceAccessor("length", &Program::Length, nullptr),
         InstanceAccessor("ops", &Program::Ops, nullptr),
         InstanceAccessor("flops", &Program::Flops, nullptr),
         InstanceAccessor("bytes", &Program::Bytes, nullptr)});
  }

  explicit Program(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<Program>(info), state_(std::make_shared<ReplayState>()) {
    Args args(info, "Program");
    F64 regs = args.f64(0, "regs");
    args.expect_length(regs.length, 4, "regs", "start, step, rows per step, abort flag");
    state_->regs = regs.data;
    keep_.push_back(Napi::Persistent(args.buffers().back()));
  }

  ~Program() override {
    std::unique_lock<std::mutex> lock(state_->m);
    state_->released = true;
    state_->cv.wait(lock, [&] { return !state_->running; });
  }

 private:
  void ensure_idle(Napi::Env env, const char* what) {
    if (state_->busy)
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
    const char* op_name = nullptr;
    Factory factory = nullptr;
    {
      std::lock_guard<std::mutex> lock(factories_lock());
      auto it = factories().find(name);
      if (it != factories().end()) op_name = it->first.c_str(), factory = it->second;
    }
    if (!factory) throw Napi::TypeError::New(env, "Program.record: unknown op '" + name + "'");
    Args args(env, info[1].As<Napi::Array>(), op_name);
    std::unique_ptr<Instr> instr = factory(args);
    for (auto& b : args.buffers()) keep_.push_back(Napi::Persistent(b));
    if (info[2].As<Napi::Boolean>().Value()) {
      instr->run();
      std::string e = take_runtime_error();
      if (!e.empty()) throw Napi::RangeError::New(env, e);
    }
    state_->instrs.push_back(std::move(instr));
    return env.Undefined();
  }

  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ensure_idle(env, "run");
    Args args(info, "Program.run");
    const int64_t times = info.Length() > 0 ? args.integer(0, "times", 0, int64_t{1} << 40) : 1;
    state_->error.clear();
    const int64_t done = state_->Replay(times);
    if (!state_->error.empty()) throw Napi::RangeError::New(env, state_->error);
    return Napi::Number::New(env, static_cast<double>(done));
  }

  Napi::Value RunAsync(const Napi::CallbackInfo& info);

  // Drops every op and every buffer reference now (the registers stay), so the GC can take
  // the buffers before the Program itself goes.
  Napi::Value Clear(const Napi::CallbackInfo& info) {
    ensure_idle(info.Env(), "clear");
    state_->instrs.clear();
    state_->instrs.shrink_to_fit();
    keep_.erase(keep_.begin() + 1, keep_.end());
    keep_.shrink_to_fit();
    return info.Env().Undefined();
  }

  Napi::Value Length(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(state_->instrs.size()));
  }

  Napi::Value Ops(const Napi::CallbackInfo& info) {
    const auto& instrs = state_->instrs;
    Napi::Array out = Napi::Array::New(info.Env(), instrs.size());
    for (size_t i = 0; i < instrs.size(); ++i) out.Set(static_cast<uint32_t>(i), instrs[i]->name());
    return out;
  }

  // One replayed step's estimated floating-point operations and bytes moved.
  Napi::Value Flops(const Napi::CallbackInfo& info) {
    double total = 0;
    for (const auto& instr : state_->instrs) total += instr->flops();
    return Napi::Number::New(info.Env(), total);
  }
  Napi::Value Bytes(const Napi::CallbackInfo& info) {
    double total = 0;
    for (const auto& instr : state_->instrs) total += instr->bytes();
    return Napi::Number::New(info.Env(), total);
  }

  std::shared_ptr<ReplayState> state_;
  std::vector<Napi::ObjectReference> keep_;  // the registers, then every buffer the ops use
};

class ReplayWorker : public SettlingWorker {
 public:
  ReplayWorker(Napi::Env env, Napi::Object program, std::shared_ptr<ReplayState> state,
               int64_t times)
      : SettlingWorker(env, "Program.runAsync"), state_(std::move(state)), times_(times) {
    self_ = Napi::Persistent(program);
    state_->busy = true;
    state_->error.clear();
    has_result_ = true;
  }

 protected:
  void Execute() override {
    {
      std::lock_guard<std::mutex> lock(state_->m);
      if (state_->released) {
        error_ = "Program.runAsync: the program was released before it ran";
        return;
      }
      state_->running = true;
    }
    // However the replay ends (an op may throw std::bad_alloc), the Program's destructor must
    // not wait for it forever.
    struct Done {
      ReplayState& state;
      ~Done() {
        std::lock_guard<std::mutex> lock(state.m);
        state.running = false;
        state.cv.notify_all();
      }
    } done_guard{*state_};
    int64_t done = 0;
    {
      std::lock_guard<std::mutex> lock(compute_lock());
      done = state_->Replay(times_);
    }
    result_ = static_cast<double>(done);
    error_ = state_->error;
  }
  void Finished() noexcept override { state_->busy = false; }

 private:
  std::shared_ptr<ReplayState> state_;
  int64_t times_;
  Napi::ObjectReference self_;  // keeps the Program (and its buffers) alive while running
};

Napi::Value Program::RunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ensure_idle(env, "runAsync");
  Args args(info, "Program.runAsync");
  const int64_t times = info.Length() > 0 ? args.integer(0, "times", 0, int64_t{1} << 40) : 1;
  auto* worker = new ReplayWorker(env, Value(), state_, times);
  Napi::Value p = worker->promise();
  worker->Queue();
  return p;
}

}  // namespace

void register_factory(const char* name, Factory factory) {
  std::lock_guard<std::mutex> lock(factories_lock());
  factories().emplace(name, factory);
}

void init_program(Napi::Env env, Napi::Object exports) {
  exports.Set("Program", Program::Define(env));
}

}  // namespace axon::binding
