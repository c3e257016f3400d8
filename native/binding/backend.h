// The backend contract. Read this before adding a backend.
//
// An op is declared once, backend-independent, in the op table (native/optable/*.ops.mjs):
// its arguments, their checks, its cost model. Where it runs is a backend's business. A
// backend is a value of `Backend` plus, for each op it implements, one member function of
// the op's generated struct (native/generated/binding_ops.h):
//
//     void <Op>::run_<backend>() const;   // e.g. GemmOp::run_cpu(), GemmOp::run_cuda()
//
// The generated `<Op>::run()` (what the sync export, async export and Program replay call)
// dispatches on current_backend() to that member, or fails the op with "<op>: not
// implemented on the <backend> backend" (a RangeError in JS) when the backend has none.
//
// Which ops a backend implements is listed in native/optable/backends.mjs, not in the op
// declarations: adding a backend touches that list, this enum, and the backend's own
// implementation files; op declarations, layers and autograd stay as they are.
//
// What an implementation may rely on: every argument passed parse() (types, ranges, lengths,
// aliasing, the op's check()); data-dependent checks (labels, indices, registers) are its job
// in run_<backend>(), reported with set_runtime_error() (op_util.h) and never by throwing.
// Buffers are host memory (JS typed arrays), valid for the duration of the call; a replayed
// Program calls run() again on the same buffers. It must not allocate JS objects or call
// into JS. It may use the thread pool (axon/thread_pool.h). It may run on several threads at
// once, on different buffers (concurrent calls hold no lock): per-call scratch is
// thread_local or on the stack, never a shared static.
//
// The CPU backend: run_cpu() of every op, from the table's `run` expression or written by
// hand in native/binding/ops_<family>.cpp; it calls the kernels of native/include/axon/
// kernels.h, which pick their SIMD level at load (native/kernels/cpu/kernel_list.h).
#pragma once

#include <cstdint>

namespace axon::binding {

enum class Backend : uint8_t { Cpu, Count };

const char* backend_name(Backend backend);
// The backend ops run on. Process-wide; CPU unless set_backend chose another.
Backend current_backend();
void set_backend(Backend backend);
// Fails the running op: "<op>: not implemented on the <backend> backend".
void backend_missing(const char* op);

}  // namespace axon::binding
