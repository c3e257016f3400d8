// Program: a recorded sequence of binding ops replayed without JS. The TypeScript layer traces
// one training (or inference) step by routing every kernel call into `record`, which parses and
// checks the arguments exactly as the direct export does and keeps the op; `run`/`runAsync`
// then replay the whole step, any number of times, on the same buffers (nothing allocates),
// the async form on a libuv thread so the event loop stays free. Internal header.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "op_util.h"

namespace axon::binding {

struct Instr {
  virtual ~Instr() = default;
  virtual void run() = 0;
  virtual const char* name() const = 0;
  // The op's cost estimates (its profiler figures), summed by Program.flops / Program.bytes.
  virtual double flops() const = 0;
  virtual double bytes() const = 0;
  // The buffers it uses (Op::buffers) and its overwrite switch for one of them, if any: how a
  // Program decides which fresh buffers to zero (program.cpp, Record).
  virtual void buffers(std::vector<BufferUse>& uses) const = 0;
  virtual bool* overwrite_flag(const void* target) = 0;
  // Moves every buffer pointer it holds through f (Program.compact).
  virtual void remap(const Remap& f) = 0;
};

using Factory = std::unique_ptr<Instr> (*)(Args& args);
// Every environment's Init registers the same ops (the main thread's and each worker's, on
// their own threads): registration and lookup are serialised, and a name keeps its first entry.
void register_factory(const char* name, Factory factory);

// Exports the Program class.
void init_program(Napi::Env env, Napi::Object exports);

}  // namespace axon::binding
