/**
 * The only importer of the compiled addon (build/Release/axon_native.node) and its typed
 * interface, most of it generated from the op table (./ops.gen.ts). Every op runs
 * synchronously on the calling thread as `name`; the few the table marks async also have
 * `nameAsync`, which runs on libuv's thread pool and resolves when done (async calls queue
 * behind one another, so two never split the cores). Buffers are JS-owned typed arrays that
 * native code borrows for the call; during an async call the caller must not touch them.
 *
 * All arguments are re-checked natively: a wrong type, length, shape or overlap throws a
 * TypeError/RangeError naming the op and argument; nothing reaches a kernel unchecked. Checks
 * on buffer contents (class labels, gather indices, tokens, lengths, pooling indices,
 * optimizer hyperparameters, random-stream state) run every time the op runs, so a replayed
 * Program re-checks each step's new data: the first failing op stops the replay with a
 * RangeError.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { GeneratedKernels, Words } from './ops.gen.js';

export { UnaryCode, BinaryCode, ReduceCode, ArgReduceCode, BiasMode, RnnMode, SequencePoolMode } from './ops.gen.js';
export type { Words, ConvGeometry, PoolGeometry, AdaptivePoolGeometry, BatchNormDims } from './ops.gen.js';

export interface BackendInfo {
  /** SIMD level in use: 'scalar' | 'avx2' | 'avx512' | 'neon'. */
  isa: string;
  /** Why: 'auto', or the AXON_SIMD setting that forced it. */
  isaReason: string;
  /** Levels this build and CPU can run. */
  isaAvailable: string[];
  threads: number;
  availableCpus: number;
  compiler: string;
  buildFlags: string;
}

export interface ProfileRecord {
  op: string;
  shapes: string;
  ns: number;
  flops: number;
  bytes: number;
}

/** The ops not yet declared in the op table (native/optable), typed by hand. */
interface Kernels extends GeneratedKernels {
  permute(x: Words, shape: readonly number[], perm: readonly number[], out: Words): void;
  /** [sync] out (outer, sum sizes) = the inputs (outer, sizes[i]) side by side. */
  concat(inputs: readonly Words[], sizes: readonly number[], outer: number, out: Words): void;
  sliceCopy(
    x: Words,
    shape: readonly number[],
    starts: readonly number[],
    steps: readonly number[],
    outShape: readonly number[],
    out: Words,
  ): void;
  /**
   * [sync] Fused SGD update. hyper = [lr, momentum, dampening, weightDecay, nesterov, maximize,
   * started]; read when the op runs (so a replayed Program sees lr changes); `started` becomes 1
   * after the first momentum step.
   */
  sgdStep(param: Float32Array, grad: Float32Array, momentumBuf: Float32Array | null, hyper: Float64Array): void;
  /** [sync] Fused Adam/AdamW update. hyper = [lr, beta1, beta2, eps, weightDecay, decoupled,
   * amsgrad, maximize, step]; `step` (updates done) is incremented before the update. */
  adamStep(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, vmax: Float32Array | null, hyper: Float64Array): void;
  /** [sync] Fused RMSprop update. hyper = [lr, alpha, eps, weightDecay, momentum, centered, maximize]. */
  rmspropStep(
    param: Float32Array,
    grad: Float32Array,
    squareAvg: Float32Array,
    gradAvg: Float32Array | null,
    momentumBuf: Float32Array | null,
    hyper: Float64Array,
  ): void;
  /** [sync] Fused Adagrad update. hyper = [lr, lrDecay, eps, weightDecay, maximize, step]. */
  adagradStep(param: Float32Array, grad: Float32Array, sum: Float32Array, hyper: Float64Array): void;
  /** [sync] Scales the gradients together to global norm <= io[0] (io[1] = 2 or Infinity); io[2] = the norm before. */
  clipGradNorm(grads: readonly Float32Array[], io: Float64Array): void;
  /**
   * [sync] Cross-entropy from logits (n, c); exactly one of the targets is non-null.
   * reduction 0 = none (out has n values), 1 = mean (divided by the summed target weights),
   * 2 = sum; lse (n) and rows (n) are kept for the backward / used as scratch.
   */
  crossEntropy(
    logits: Float32Array,
    n: number,
    c: number,
    targetIndex: Int32Array | null,
    targetProb: Float32Array | null,
    classWeight: Float32Array | null,
    labelSmoothing: number,
    ignoreIndex: number,
    reduction: number,
    out: Float32Array,
    lse: Float32Array,
    rows: Float32Array,
  ): void;
  /** [sync] dlogits += the gradient of crossEntropy given dout (n values or 1). */
  crossEntropyBackward(
    logits: Float32Array,
    n: number,
    c: number,
    targetIndex: Int32Array | null,
    targetProb: Float32Array | null,
    classWeight: Float32Array | null,
    labelSmoothing: number,
    ignoreIndex: number,
    reduction: number,
    lse: Float32Array,
    dout: Float32Array,
    dlogits: Float32Array,
    scratch: Float32Array,
  ): void;
  bceLogits(x: Float32Array, target: Float32Array, posWeight: Float32Array | null, c: number, loss: Float32Array): void;
  bceLogitsBackward(
    x: Float32Array,
    target: Float32Array,
    posWeight: Float32Array | null,
    c: number,
    dloss: Float32Array,
    dx: Float32Array,
  ): void;
  bce(p: Float32Array, target: Float32Array, loss: Float32Array): void;
  bceBackward(p: Float32Array, target: Float32Array, dloss: Float32Array, dp: Float32Array): void;
  /** [sync] Random crop (from x zero-padded by pad) and horizontal flip per sample; geometry =
   * [n, c, h, w, outH, outW, pad]; random false gives the centre crop. state as dropout's. */
  randomCropFlip(x: Float32Array, geometry: number[], flipP: number, random: boolean, state: Float64Array, y: Float32Array): void;
  /** [sync] Inverted dropout; mask receives 0 or 1/(1-p). state = [seedHigh, seedLow, counter]:
   * each call draws the stream of (seed, counter) and advances the counter. */
  dropout(x: Float32Array, y: Float32Array, mask: Float32Array, p: number, state: Float64Array): void;
  /** [sync] gatherRows with start = regs[0], indices checked when it runs. */
  gatherRowsAt(src: Words, rowSize: number, indices: Int32Array, regs: Float64Array, rows: number, dst: Words): void;
  /** [sync] dst rows [regs[0], regs[0] + rows) = src (rows x rowSize). */
  putRowsAt(src: Words, rowSize: number, regs: Float64Array, dst: Words): void;
  /**
   * [sync] dst[regs[1]] = src[0]. With stopOnNonFinite (default false), a NaN or ±Infinity
   * value is still written, then the op fails with `logScalar: non-finite loss <value> at step
   * <regs[1]>`: a replayed Program stops right there, before the step's later ops (backward,
   * optimizer) run, and regs[1] keeps the failing step's index.
   */
  logScalar(src: Float32Array, dst: Float32Array, regs: Float64Array, stopOnNonFinite?: boolean): void;
  /** [sync] Every element of x = value. */
  fill(x: Words, value: number): void;
  /** [sync] dst = src (same type and length). */
  copy(src: Words, dst: Words): void;
  /** [sync] dst row r (rowSize elements) = src row indices[start + r]; indices are checked. */
  gatherRows(src: Words, rowSize: number, indices: Int32Array, start: number, rows: number, dst: Words): void;
  /**
   * [sync] Adds (label, predicted) counts of scores (n, c) into matrix (max(c,2)^2, row = label).
   * c == 1: predicted = score > threshold. Labels out of range count into skipped[0].
   */
  confusionUpdate(
    scores: Float32Array,
    n: number,
    c: number,
    labels: Int32Array | null,
    labelFloats: Float32Array | null,
    labelCols: number,
    threshold: number,
    matrix: Float64Array,
    skipped: Float64Array,
  ): void;
  /** [sync] counts += [rows whose label is among the k highest scores, rows]. */
  topKUpdate(scores: Float32Array, n: number, c: number, labels: Int32Array, k: number, counts: Float64Array): void;
  /** [sync] stats += [count, sum (p-t)^2, sum |p-t|, sum t, sum t^2]. */
  regressionUpdate(pred: Float32Array, target: Float32Array, stats: Float64Array): void;
  /**
   * [sync] One recurrent layer, one direction, over a time-major sequence x (steps, batch,
   * input). dims = [mode (0 lstm, 1 gru, 2 rnn tanh, 3 rnn relu), steps, batch, input, hidden,
   * reverse]. Writes y (steps, batch, hidden), hn, cn (LSTM) and the workspace the backward
   * reads (rnnSizes gives its length). lengths (batch) mask padded steps; checked when it runs.
   */
  rnn(
    x: Float32Array,
    wIh: Float32Array,
    wHh: Float32Array,
    bIh: Float32Array | null,
    bHh: Float32Array | null,
    h0: Float32Array | null,
    c0: Float32Array | null,
    lengths: Int32Array | null,
    dims: number[],
    y: Float32Array,
    hn: Float32Array,
    cn: Float32Array | null,
    workspace: Float32Array,
  ): void;
  /** [sync] Backward through time of rnn: dx, dw*, db* accumulate (+=); dh0, dc0 are written. */
  rnnBackward(
    x: Float32Array,
    wIh: Float32Array,
    wHh: Float32Array,
    lengths: Int32Array | null,
    workspace: Float32Array,
    dims: number[],
    dy: Float32Array | null,
    dhn: Float32Array | null,
    dcn: Float32Array | null,
    dx: Float32Array | null,
    dwIh: Float32Array | null,
    dwHh: Float32Array | null,
    dbIh: Float32Array | null,
    dbHh: Float32Array | null,
    dh0: Float32Array | null,
    dc0: Float32Array | null,
    scratch: Float32Array,
  ): void;
  /** [sync] out rows = weight rows of tokens (rows, steps); dims = [rows, steps, timeMajor]:
   * output row r*steps + t, or t*rows + r when time-major. Tokens checked when it runs. */
  embedding(weight: Float32Array, dim: number, tokens: Int32Array, dims: number[], out: Float32Array): void;
  /** [sync] dweight rows += dout rows at their tokens, except tokens equal to paddingIdx (-1: none). */
  embeddingBackward(
    dout: Float32Array,
    dim: number,
    tokens: Int32Array,
    dims: number[],
    paddingIdx: number,
    dweight: Float32Array,
  ): void;
  /** [sync] Rows of weight used by tokens rescaled in place to norm <= maxNorm. */
  embeddingRenorm(weight: Float32Array, dim: number, tokens: Int32Array, maxNorm: number, normType: number): void;
  /** [sync] lengths[r] = 1 + position of the last token != pad in row r of tokens (rows, steps). */
  sequenceLengths(tokens: Int32Array, rows: number, steps: number, pad: number, lengths: Int32Array): void;
  /** [sync] out (batch, dim) = last valid step (mode 0) or mean over valid steps (mode 1) of x;
   * dims = [steps, batch, dim, timeMajor, mode]. */
  sequencePool(x: Float32Array, dims: number[], lengths: Int32Array | null, out: Float32Array): void;
  /** [sync] dx += the sequencePool gradient for dout. */
  sequencePoolBackward(dout: Float32Array, dims: number[], lengths: Int32Array | null, dx: Float32Array): void;
  /** [sync] dx[start + i*step] += dy[i]. */
  sliceBackward(
    dy: Float32Array,
    outShape: readonly number[],
    starts: readonly number[],
    steps: readonly number[],
    shape: readonly number[],
    dx: Float32Array,
  ): void;
}

/**
 * A recorded op sequence replayed natively. regs = [start row, step index, rows per step,
 * abort flag]: after each replayed step regs[0] += regs[2] and regs[1] += 1; setting regs[3]
 * stops a replay before its next step.
 */
export interface NativeProgram {
  /** Parses and checks args as the direct export does, keeps the op, and runs it when execute. */
  record(op: string, args: unknown[], execute: boolean): void;
  /** Replays `times` steps (default 1) on this thread; returns the steps run. */
  run(times?: number): number;
  /** Replays on libuv's pool; resolves to the steps run (fewer when aborted). */
  runAsync(times?: number): Promise<number>;
  /** Drops every recorded op and its buffer references now (the registers stay). */
  clear(): void;
  readonly length: number;
  readonly ops: string[];
  /** Estimated floating-point operations of one replayed step (the recorded ops' sum). */
  readonly flops: number;
  /** Estimated bytes one replayed step moves (the recorded ops' sum). */
  readonly bytes: number;
}

export type NativeBinding = Kernels & {
  /** gatherRows on libuv's pool (the data loader's prefetch). */
  gatherRowsAsync(src: Words, rowSize: number, indices: Int32Array, start: number, rows: number, dst: Words): Promise<void>;
  backendInfo(): BackendInfo;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  /** 0 auto, 1 implicit GEMM, 2 Winograd (src/backend.ts: setConvAlgorithm). */
  setConvAlgorithm(algorithm: number): void;
  getConvAlgorithm(): number;
  profilerEnable(on: boolean): void;
  profilerTake(): ProfileRecord[];
  /** [workspace floats, scratch floats] of an rnn call: mode, steps, batch, input, hidden. */
  rnnSizes(mode: number, steps: number, batch: number, input: number, hidden: number): [number, number];
  /** [sync] Sum of squares of x, accumulated in double. */
  sumSquares(x: Float32Array): number;
  Program: new (regs: Float64Array) => NativeProgram;
};

function locateAddon(): string {
  const override = process.env.AXON_NATIVE_PATH;
  if (override) return override;
  // src/native/binding.ts and dist/native/binding.js both sit two levels below the root.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  for (const config of ['Release', 'Debug']) {
    const candidate = join(root, 'build', config, 'axon_native.node');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    'axon-nn: the native addon is not built (build/Release/axon_native.node is missing). ' +
      'Run `npm install` or `npm run build:native` in the package directory.',
  );
}

const require = createRequire(import.meta.url);

/** The loaded addon. */
export const native = require(locateAddon()) as NativeBinding;
