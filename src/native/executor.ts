/**
 * The executor every op sends its kernel calls to. Ops call `kernels.<op>(...)`; that forwards
 * to the current executor, which is either the addon itself (eager: the kernel runs now) or a
 * recording executor that appends the call to a native Program (src/train/trace.ts), which
 * then replays the whole recorded step without JS. Both executors have exactly the op table's
 * ops (native/optable), so which calls can be recorded comes from the table, and the
 * non-kernel exports (backendInfo, Program, profiler, ...) are not reachable through it.
 */
import { native, type NativeProgram } from './binding.js';
import { OP_TABLE, type GeneratedKernels } from './ops.gen.js';

/** The kernel calls of the op table, however they are carried out. */
export type Executor = GeneratedKernels;

type AnyOp = (...args: unknown[]) => void;

const eager: Executor = native;
let current: Executor = eager;

function opsForwardingTo(target: (name: string) => AnyOp): Executor {
  const ops: Record<string, AnyOp> = {};
  for (const { name } of OP_TABLE) ops[name] = target(name);
  return ops as unknown as Executor;
}

/** Where ops send kernel calls: forwards each to the current executor (eager by default). */
export const kernels: Executor = opsForwardingTo(
  (name) =>
    (...args) =>
      (current as unknown as Record<string, AnyOp>)[name](...args),
);

/**
 * An executor that records every call into `program` (checked there exactly as the direct
 * export checks it) and, when `execute`, also runs it.
 */
export function recordingExecutor(program: NativeProgram, execute: boolean): Executor {
  return opsForwardingTo(
    (name) =>
      (...args) =>
        program.record(name, args, execute),
  );
}

/** Runs fn with `executor` receiving the kernel calls, then restores the previous one. */
export function withExecutor<T>(executor: Executor, fn: () => T): T {
  const previous = current;
  current = executor;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/** Runs fn with kernel calls carried out now, even inside a recording. */
export function withEagerExecutor<T>(fn: () => T): T {
  return withExecutor(eager, fn);
}

/** True while a recording (non-eager) executor is current. */
export function isRecording(): boolean {
  return current !== eager;
}
