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
import { setAllocationHook, setRecordingOnly } from '../tensor/tensor.js';

/** Exports that are not kernels (no tracing) or that return values (not replayable). */
const NOT_KERNELS = new Set([
  'backendInfo',
  'setNumThreads',
  'getNumThreads',
  'setConvAlgorithm',
  'getConvAlgorithm',
  'profilerEnable',
  'profilerTake',
  'sumSquares',
  'rnnSizes',
  'Program',
]);

let tracing = false;

export function isTracing(): boolean {
  return tracing;
}

export interface Traced<T> {
  program: NativeProgram;
  value: T;
}

/**
 * Runs fn, recording its kernel calls into `program` (a new one when not given, with loop
 * registers `regs`). With execute = false the kernels are recorded but not run (fn must not
 * read tensor values), so tracing a training step costs microseconds, not a step. Buffers
 * fn allocates through Tensor.empty are re-zeroed at their allocation point on every replay.
 */
export function trace<T>(
  fn: () => T,
  options: { execute: boolean; regs?: Float64Array; program?: NativeProgram },
): Traced<T> {
  if (tracing) throw new Error('trace: already tracing (nested traces are not supported)');
  const program = options.program ?? new native.Program(options.regs ?? new Float64Array(4));
  const table = native as unknown as Record<string, unknown>;
  const saved = new Map<string, unknown>();
  for (const [name, value] of Object.entries(table)) {
    if (typeof value !== 'function' || NOT_KERNELS.has(name) || name.endsWith('Async')) continue;
    saved.set(name, value);
    table[name] = (...args: unknown[]) => program.record(name, args, options.execute);
  }
  tracing = true;
  setAllocationHook((data) => program.record('fill', [data, 0], false));
  setRecordingOnly(!options.execute);
  try {
    return { program, value: fn() };
  } finally {
    setRecordingOnly(false);
    setAllocationHook(null);
    tracing = false;
    for (const [name, value] of saved) table[name] = value;
  }
}
