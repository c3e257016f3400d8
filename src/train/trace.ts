/**
 * Tracing: runs a function once while every kernel call it makes is recorded into a native
 * Program, which can then replay the same computation on the same buffers with no JS per op
 * and no allocation, synchronously or on a libuv thread (src/native/binding.ts, Program).
 *
 * What a traced function must respect (every built-in layer, loss and optimizer does): all
 * per-step data movement goes through kernel calls (no JS loops over tensor data whose results
 * feed the next ops), shapes and control flow do not depend on values, and random streams,
 * step counts and learning rates live in JS-owned cells the kernels read when they run.
 */
import { native, type NativeProgram } from '../native/binding.js';
import { isRecording, recordingExecutor, withEagerExecutor, withExecutor } from '../native/executor.js';
import { getAllocationHook, isRecordingOnly, setAllocationHook, setRecordingOnly } from '../tensor/tensor.js';

export interface Traced<T> {
  program: NativeProgram;
  value: T;
}

/**
 * Runs fn with a recording executor (src/native/executor.ts): every kernel call its ops make
 * is recorded into `program` (a new one when not given, with loop registers `regs`). With
 * execute = false the kernels are recorded but not run (fn must not read tensor values), so
 * tracing a training step costs microseconds, not a step. Buffers fn allocates (Tensor.empty)
 * are owned by the program, which zeroes each before its first use on every replay unless
 * that use writes all of it. The engine's tool for plans (Model.fit's traced step, the
 * inference cache); exported for tests and benchmarks, not part of the supported API.
 * @internal
 */
export function trace<T>(
  fn: () => T,
  options: { execute: boolean; regs?: Float64Array; program?: NativeProgram },
): Traced<T> {
  if (isRecording()) throw new Error('trace: already tracing (nested traces are not supported)');
  const program = options.program ?? new native.Program(options.regs ?? new Float64Array(4));
  // The step's fresh buffers belong to the program, which zeroes them where a replay needs it.
  setAllocationHook((data) => program.own(data));
  setRecordingOnly(!options.execute);
  try {
    return { program, value: withExecutor(recordingExecutor(program, options.execute), fn) };
  } finally {
    setRecordingOnly(false);
    setAllocationHook(null);
  }
}

/**
 * Runs fn now, outside any recording in progress: its kernels run, and the buffers it
 * allocates are ordinary tensors, not the program's. For values computed once and reused by
 * every replay (an imported model's folded constants and rearranged weights).
 */
export function untraced<T>(fn: () => T): T {
  if (!isRecording()) return fn();
  const hook = getAllocationHook();
  const recordingOnly = isRecordingOnly();
  setAllocationHook(null);
  setRecordingOnly(false);
  try {
    return withEagerExecutor(fn);
  } finally {
    setAllocationHook(hook);
    setRecordingOnly(recordingOnly);
  }
}
