/**
 * One recorded step of fit, evaluate or a batched predict: the batch gather (rows chosen by
 * the order, from regs[0]), forward, loss, then backward, clipping and the optimizer update
 * (training) or nothing more (evaluation), loss logging and metric counting, recorded into a
 * native Program without running it; and the chunked replay of such a step on the thread pool.
 */
import { noGrad } from '../autograd/engine.js';
import type { NativeProgram } from '../native/binding.js';
import { kernels } from '../native/executor.js';
import type { Module } from '../nn/module.js';
import { add } from '../ops/elementwise.js';
import { clipGradNorm } from '../optim/clip.js';
import type { Optimizer } from '../optim/optimizer.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { traceWithinBudget, type ForwardLimits } from './budget.js';
import type { LossKind, LossSpec } from './compile.js';
import type { Accumulators, Metric } from './metrics.js';
import { trace } from './trace.js';

/** What recording a step needs from the model. */
export interface StepContext {
  module: Module;
  limits: ForwardLimits;
  metrics: Metric[];
  lossKind: LossKind;
  clipNorm: number | undefined;
  /** Record the loss log with the stop-on-non-finite flag (fit's onNonFinite 'stop'). */
  stopOnNonFinite: boolean;
  /** Makes the program a training step is recorded into (data-parallel training). */
  stepProgramFactory: ((regs: Float64Array) => NativeProgram) | null;
  /** The compiled optimizer and loss; throws naming `op` when the model is not compiled. */
  compiled(op: string): { optimizer: Optimizer<{ lr: number }>; loss: LossSpec };
}

/** A recorded step and the buffers it reads and writes. */
export interface StepProgram {
  program: NativeProgram;
  regs: Float64Array;
  rows: number;
  losses: Float32Array;
}

/** Steps one replay call runs at most (the loss log holds this many). */
export const MAX_CHUNK = 256;

/** A replay stopped at a step whose loss was not finite (logScalar's stop flag). */
export class NonFiniteStop extends Error {
  constructor(
    readonly value: number,
    /** First row (in the order) of the failing step's batch. */
    readonly startRow: number,
  ) {
    super('non-finite loss');
  }
}
export const NON_FINITE_STOP = /^logScalar: non-finite loss/;

export function accumulators(): Accumulators {
  return { confusion: null, classes: 0, topK: new Map(), regression: null };
}

export function resetAccumulators(acc: Accumulators): void {
  acc.confusion?.fill(0);
  acc.regression?.fill(0);
  for (const c of acc.topK.values()) c.fill(0);
}

/**
 * Records a step over `rows` rows gathered (by `order`, from regs[0]) out of x and y:
 * forward, loss, then either backward + update (training) or nothing more (evaluation),
 * loss logging and metric counting. `putOutput` (predict) receives the forward output.
 */
export function traceStep(
  ctx: StepContext,
  mode: 'train' | 'eval' | 'predict',
  x: Tensor,
  y: Tensor | null,
  order: Int32Array,
  rows: number,
  acc: Accumulators,
  putOutput: Tensor | null = null,
): StepProgram {
  const regs = new Float64Array([0, 0, rows, 0]);
  const losses = new Float32Array(MAX_CHUNK);
  const rowX = x.size / x.shape[0];
  const xb = new Tensor(x.dtype === 'int32' ? new Int32Array(rows * rowX) : new Float32Array(rows * rowX), [
    rows,
    ...x.shape.slice(1),
  ]);
  let yb: Tensor | null = null;
  if (y) {
    const rowY = y.size / y.shape[0];
    yb = new Tensor(y.dtype === 'int32' ? new Int32Array(rows * rowY) : new Float32Array(rows * rowY), [
      rows,
      ...y.shape.slice(1),
    ]);
  }
  const wasTraining = ctx.module.training;
  ctx.module.train(mode === 'train');
  // A data-parallel step must not stop on one rank mid-step (the others would wait in a
  // collective): there onChunk checks the losses between chunks instead.
  const stopOnNonFinite = mode === 'train' && ctx.stopOnNonFinite && !ctx.stepProgramFactory;
  try {
    const { program } = traceWithinBudget(ctx.limits, mode === 'train' ? 'fit' : mode, rows, mode === 'train', () =>
      trace(
        () => {
          kernels.gatherRowsAt(x.data, rowX, order, regs, rows, xb.data);
          if (y && yb) kernels.gatherRowsAt(y.data, y.size / y.shape[0], order, regs, rows, yb.data);
          if (mode === 'train') {
            const { optimizer, loss } = ctx.compiled('fit');
            optimizer.zeroGrad();
            const out = ctx.module.forward(xb);
            countMetrics(ctx, out, yb as Tensor, acc);
            let l = loss.fn(out, yb as Tensor);
            if (l.size !== 1)
              throw new Error(`fit: the loss must be a single value, got shape ${shapeToString(l.shape)}`);
            const reg = ctx.module.regularizationLoss();
            if (reg) l = add(l, reg);
            kernels.logScalar(l.data as Float32Array, losses, regs, stopOnNonFinite);
            l.backward();
            const clip = ctx.clipNorm;
            if (clip !== undefined)
              clipGradNorm(
                optimizer.paramGroups.flatMap((g) => g.params),
                clip,
              );
            optimizer.step();
          } else {
            noGrad(() => {
              const out = ctx.module.forward(xb);
              if (putOutput) kernels.putRowsAt(out.data, out.size / rows, regs, putOutput.data);
              if (mode === 'eval' && yb) {
                countMetrics(ctx, out, yb, acc);
                const l = ctx.compiled('evaluate').loss.fn(out, yb);
                kernels.logScalar(l.data as Float32Array, losses, regs);
              }
            });
          }
        },
        { execute: false, regs, program: mode === 'train' ? ctx.stepProgramFactory?.(regs) : undefined },
      ),
    );
    return { program, regs, rows, losses };
  } finally {
    ctx.module.train(wasTraining);
  }
}

/** Records the native counting ops the compiled metrics need for this batch's output. */
function countMetrics(ctx: StepContext, out: Tensor, yb: Tensor, acc: Accumulators): void {
  if (ctx.metrics.length === 0) return;
  const rows = out.shape[0];
  const width = out.size / Math.max(rows, 1);
  const kind = ctx.lossKind;
  const needs = new Set(ctx.metrics.map((m) => m.needs));
  if (needs.has('regression')) {
    if (out.size !== yb.size || yb.dtype !== 'float32')
      throw new Error(
        `metrics: regression metrics need float targets shaped like the output ${shapeToString(out.shape)}, got ${shapeToString(yb.shape)}`,
      );
    acc.regression ??= new Float64Array(5);
    kernels.regressionUpdate(out.data as Float32Array, yb.data as Float32Array, acc.regression);
  }
  if (needs.has('confusion') || needs.has('topK')) {
    const cc = Math.max(width, 2);
    acc.classes = width;
    acc.confusion ??= new Float64Array(cc * cc);
    const skipped = new Float64Array(1);
    const labels = yb.dtype === 'int32' ? (yb.data as Int32Array) : null;
    const floats = labels ? null : (yb.data as Float32Array);
    const labelCols = floats ? yb.size / rows : 1;
    if (floats && labelCols !== 1 && labelCols !== width)
      throw new Error(`metrics: targets ${shapeToString(yb.shape)} do not match outputs ${shapeToString(out.shape)}`);
    const threshold = kind === 'binaryLogits' ? 0 : 0.5;
    if (needs.has('confusion'))
      kernels.confusionUpdate(
        out.data as Float32Array,
        rows,
        width,
        labels,
        floats,
        labelCols,
        threshold,
        acc.confusion,
        skipped,
      );
    for (const m of ctx.metrics)
      if (m.needs === 'topK') {
        if (!labels) throw new Error('metrics: top-k accuracy needs int32 class labels');
        const k = m.k ?? 5;
        if (!acc.topK.has(k)) acc.topK.set(k, new Float64Array(2));
        kernels.topKUpdate(out.data as Float32Array, rows, width, labels, k, acc.topK.get(k) as Float64Array);
      }
  }
}

/**
 * Replays `steps` steps of `sp` starting at row `start`, in chunks; calls onChunk with the
 * chunk's per-step losses after each. Returns steps completed (fewer when aborted).
 */
export async function replay(
  sp: StepProgram,
  start: number,
  steps: number,
  chunk: () => number,
  onChunk: (first: number, losses: Float32Array) => Promise<boolean>,
  awaitReplay: (p: Promise<number>) => Promise<number>,
  signal?: AbortSignal,
): Promise<number> {
  let done = 0;
  const abort = (): void => {
    sp.regs[3] = 1;
  };
  signal?.addEventListener('abort', abort, { once: true });
  try {
    while (done < steps) {
      if (signal?.aborted) break;
      const k = Math.min(chunk(), steps - done, MAX_CHUNK);
      sp.regs[0] = start + done * sp.rows;
      sp.regs[1] = 0;
      sp.regs[3] = 0;
      let ran: number;
      try {
        ran = await awaitReplay(sp.program.runAsync(k));
      } catch (e) {
        if (!NON_FINITE_STOP.test((e as Error).message)) throw e;
        // Steps before the failing one completed (their updates applied): report them, then
        // stop with the failing step's loss and batch (its update was not applied).
        const completed = sp.regs[1];
        if (completed > 0) await onChunk(done, sp.losses.subarray(0, completed));
        throw new NonFiniteStop(sp.losses[completed], sp.regs[0]);
      }
      if (ran > 0) {
        const keepGoing = await onChunk(done, sp.losses.subarray(0, ran));
        done += ran;
        if (!keepGoing) break;
      }
      if (ran < k) break;
    }
    return done;
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}
