// Program: record once, replay natively (see program.h).
//
// Loop registers (a JS-owned Float64Array given to the constructor):
//   regs[0] start row of the current batch (read by gatherRowsAt)
//   regs[1] step index (logScalar writes dst[regs[1]])
//   regs[2] rows per step: after each replayed step, regs[0] += regs[2] and regs[1] += 1
//   regs[3] abort flag: when set (by JS, any time), replay stops before the next step
//
// Buffer lifetimes. The buffers a recording allocates (every tensor a traced step creates) are
// given to the program with own(); the program then decides when each must be zeroed: before
// its first use in the recorded sequence, unless that use writes all of it (a forward output,
// an op's `writesAll` output), or the op can be switched to overwriting it (its `overwrite`
// flag: unaryBackward, maxPool2dBackward), which the program then sets. Backward kernels add
// into their outputs, so this is what makes a gradient buffer start from zero on every replay;
// ops and layers never say whether a buffer is fresh. Buffers the program does not own
// (parameters, optimizer state, metric counters, the caller's inputs and outputs) keep their
// contents across replays.
#include "program.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>

#include "axon/thread_pool.h"
#include "exec.h"
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
  // The memory compact() moved owned buffers into (freed with the last reference).
  std::shared_ptr<std::vector<float>> arena;
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

// Zeroes one owned buffer (bytes, a multiple of 4) when it runs; profiled as "zero".
struct ZeroOp {
  static constexpr const char* kName = "zero";
  void* data;
  int64_t size;  // bytes
  void run() const { fill(data, size / 4, 0); }
  double flops() const { return 0; }
  double bytes() const { return double(size); }
  std::string shapes() const { return "n=" + std::to_string(size / 4); }
};
struct ZeroInstr : Instr {
  ZeroOp op;
  ZeroInstr(void* d, int64_t n) : op{d, n} {}
  void run() override { run_profiled(op); }
  const char* name() const override { return ZeroOp::kName; }
  double flops() const override { return 0; }
  double bytes() const override { return op.bytes(); }
  void buffers(std::vector<BufferUse>& uses) const override {
    uses.push_back({op.data, op.size, true});
  }
  bool* overwrite_flag(const void*) override { return nullptr; }
  void remap(const Remap& f) override { op.data = f(op.data); }
};

// The buffers a Program owns, by start address: [start, end) and whether the recorded sequence
// has used it yet.
struct Owned {
  uintptr_t end;
  bool used;
};

class Program : public Napi::ObjectWrap<Program> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Program",
        {InstanceMethod("record", &Program::Record), InstanceMethod("run", &Program::Run),
         InstanceMethod("runAsync", &Program::RunAsync), InstanceMethod("clear", &Program::Clear),
         InstanceMethod("own", &Program::Own), InstanceMethod("used", &Program::Used),
         InstanceMethod("compact", &Program::Compact),
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
    if (compacted_)
      throw Napi::Error::New(env, "Program.record: the program was compacted; record no more");
    Args args(env, info[1].As<Napi::Array>(), op_name);
    std::unique_ptr<Instr> instr = factory(args);
    for (auto& b : args.buffers()) keep_.push_back(Napi::Persistent(b));
    const bool execute = info[2].As<Napi::Boolean>().Value();
    for (std::unique_ptr<Instr>& zero : first_uses(*instr)) {
      if (execute) zero->run();
      state_->instrs.push_back(std::move(zero));
    }
    if (execute) {
      instr->run();
      std::string e = take_runtime_error();
      if (!e.empty()) throw Napi::RangeError::New(env, e);
    }
    state_->instrs.push_back(std::move(instr));
    return env.Undefined();
  }

  // own(buffer: Float32Array | Int32Array): the program owns this buffer (see the header).
  Napi::Value Own(const Napi::CallbackInfo& info) {
    ensure_idle(info.Env(), "own");
    Args args(info, "Program.own");
    const Words w = args.words(0, "buffer");
    keep_.push_back(Napi::Persistent(args.buffers().back()));
    if (w.length == 0) return info.Env().Undefined();
    const auto start = reinterpret_cast<uintptr_t>(w.data);
    const uintptr_t end = start + static_cast<uintptr_t>(w.length) * 4;
    // A buffer overlapping one already owned would make first uses ambiguous: refuse it.
    auto next = owned_.lower_bound(start);
    if ((next != owned_.end() && next->first < end) ||
        (next != owned_.begin() && std::prev(next)->second.end > start))
      throw Napi::RangeError::New(info.Env(), "Program.own: the buffer overlaps one it owns");
    owned_.emplace(start, Owned{end, false});
    return info.Env().Undefined();
  }

  // used(buffer): whether a recorded op has used this owned buffer yet (false when not owned).
  // A step recorded in several programs (DDP) hands unused ones on to the next.
  Napi::Value Used(const Napi::CallbackInfo& info) {
    Args args(info, "Program.used");
    const Words w = args.words(0, "buffer");
    auto it = owned_.find(reinterpret_cast<uintptr_t>(w.data));
    return Napi::Boolean::New(info.Env(), it != owned_.end() && it->second.used);
  }

  // The zeroing a new op needs before it: one ZeroInstr per owned buffer it is the first to use
  // without writing all of it, unless its overwrite flag can take that role (then it is set).
  std::vector<std::unique_ptr<Instr>> first_uses(Instr& instr) {
    std::vector<std::unique_ptr<Instr>> zeros;
    if (owned_.empty()) return zeros;
    std::vector<BufferUse> uses;
    instr.buffers(uses);
    for (const BufferUse& u : uses) {
      if (u.bytes <= 0) continue;
      const auto start = reinterpret_cast<uintptr_t>(u.data);
      auto it = owned_.upper_bound(start);
      if (it == owned_.begin()) continue;
      --it;
      Owned& o = it->second;
      if (start >= o.end || o.used) continue;
      o.used = true;
      const bool whole = start == it->first && start + static_cast<uintptr_t>(u.bytes) == o.end;
      if (whole && u.writes_all) continue;
      if (bool* flag = whole ? instr.overwrite_flag(u.data) : nullptr) {
        *flag = true;
        continue;
      }
      zeros.push_back(std::make_unique<ZeroInstr>(reinterpret_cast<void*>(it->first),
                                                  static_cast<int64_t>(o.end - it->first)));
    }
    return zeros;
  }

  // compact(keep: typed arrays): owned buffers whose uses in the recorded sequence do not
  // overlap share memory from then on (one arena, first-fit by size, intervals of
  // instructions); the buffers in `keep` (what JS reads after a replay: the outputs) and
  // unused ones stay where they are. Returns the bytes saved. Sound because every owned
  // buffer is zeroed or written whole at its first use in each replay (first_uses). No more
  // ops may be recorded afterwards.
  Napi::Value Compact(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ensure_idle(env, "compact");
    if (compacted_) throw Napi::Error::New(env, "Program.compact: already compacted");
    if (info.Length() < 1 || !info[0].IsArray())
      throw Napi::TypeError::New(env, "Program.compact: expected an array of typed arrays to keep");
    struct Life {
      uintptr_t start, end;
      int64_t first = -1, last = -1;
      bool keep = false;
      size_t offset = 0;
    };
    std::vector<Life> lives;
    std::map<uintptr_t, size_t> index;  // start -> lives[i]
    for (const auto& [start, o] : owned_) {
      index.emplace(start, lives.size());
      lives.push_back({start, o.end});
    }
    auto owner = [&](uintptr_t p) -> Life* {
      auto it = index.upper_bound(p);
      if (it == index.begin()) return nullptr;
      Life& l = lives[std::prev(it)->second];
      return p < l.end ? &l : nullptr;
    };
    const Napi::Array keep = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < keep.Length(); ++i) {
      const Napi::Value v = keep.Get(i);
      if (!v.IsTypedArray())
        throw Napi::TypeError::New(
            env, "Program.compact: keep[" + std::to_string(i) + "] is not a typed array");
      const Napi::TypedArray t = v.As<Napi::TypedArray>();
      const auto p =
          reinterpret_cast<uintptr_t>(static_cast<char*>(t.ArrayBuffer().Data()) + t.ByteOffset());
      if (Life* l = owner(p)) l->keep = true;
    }
    std::vector<BufferUse> uses;
    for (size_t i = 0; i < state_->instrs.size(); ++i) {
      uses.clear();
      state_->instrs[i]->buffers(uses);
      for (const BufferUse& u : uses)
        if (Life* l = u.bytes > 0 ? owner(reinterpret_cast<uintptr_t>(u.data)) : nullptr) {
          if (l->first < 0) l->first = static_cast<int64_t>(i);
          l->last = static_cast<int64_t>(i);
        }
    }
    // First fit, largest first, 64-byte aligned, against the placed buffers live at once.
    std::vector<Life*> order;
    for (Life& l : lives)
      if (!l.keep && l.first >= 0) order.push_back(&l);
    std::stable_sort(order.begin(), order.end(), [](const Life* a, const Life* b) {
      return a->end - a->start > b->end - b->start;
    });
    std::vector<Life*> placed;
    size_t total = 0, before = 0;
    for (Life* l : order) {
      const size_t size = (l->end - l->start + 63) / 64 * 64;
      before += l->end - l->start;
      std::vector<std::pair<size_t, size_t>> busy;  // [offset, end) of overlapping lifetimes
      for (const Life* q : placed)
        if (q->first <= l->last && l->first <= q->last)
          busy.push_back({q->offset, q->offset + (q->end - q->start + 63) / 64 * 64});
      std::sort(busy.begin(), busy.end());
      size_t off = 0;
      for (const auto& [b0, b1] : busy) {
        if (off + size <= b0) break;
        off = std::max(off, b1);
      }
      l->offset = off;
      total = std::max(total, off + size);
      placed.push_back(l);
    }
    compacted_ = true;
    // Nothing shares (each buffer's lifetime overlaps the others', or there is one): the arena
    // would only add the 64-byte rounding, so the buffers stay where they are and 0 is saved.
    if (placed.empty() || total + 64 >= before) return Napi::Number::New(env, 0);
    // 64 bytes of slack so the arena's start can be aligned to 64.
    auto arena = std::make_shared<std::vector<float>>((total + 64) / 4, 0.0f);
    const uintptr_t base = (reinterpret_cast<uintptr_t>(arena->data()) + 63) / 64 * 64;
    const Remap remap = [&](const void* p) -> void* {
      const auto a = reinterpret_cast<uintptr_t>(p);
      Life* l = owner(a);
      if (!l || l->keep || l->first < 0) return const_cast<void*>(p);
      return reinterpret_cast<void*>(base + l->offset + (a - l->start));
    };
    for (auto& instr : state_->instrs) instr->remap(remap);
    state_->arena = std::move(arena);
    // The moved buffers' JS memory is no longer the program's: let the GC have it.
    for (size_t i = 1; i < keep_.size(); ++i) {
      const Napi::Value v = keep_[i].Value();
      if (!v.IsTypedArray()) continue;
      const Napi::TypedArray t = v.As<Napi::TypedArray>();
      const auto p =
          reinterpret_cast<uintptr_t>(static_cast<char*>(t.ArrayBuffer().Data()) + t.ByteOffset());
      const Life* l = owner(p);
      if (l && !l->keep && l->first >= 0) keep_[i].Reset();
    }
    return Napi::Number::New(env, static_cast<double>(before) - static_cast<double>(total));
  }

  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ensure_idle(env, "run");
    Args args(info, "Program.run");
    const int64_t times = info.Length() > 0 ? args.integer(0, "times", 0, int64_t{1} << 40) : 1;
    state_->error.clear();
    ComputeScope computing;
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
    owned_.clear();
    state_->arena.reset();
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
  std::map<uintptr_t, Owned> owned_;
  bool compacted_ = false;
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
      ComputeScope computing;  // no lock: see the policy in axon/thread_pool.h
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
