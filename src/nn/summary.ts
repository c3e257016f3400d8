/**
 * model.summary(): every layer with its type, output shape, parameters and whether they
 * train, then the totals, the parameter memory and the forward FLOPs per sample.
 *
 * Shapes and FLOPs come from one real forward of a zero batch of one sample of the declared
 * input shape (evaluation mode, no gradients), so they are what the kernels do, not a
 * formula per layer: the FLOPs are the native profiler's counts (2 per multiply-add in a
 * GEMM, one per element in elementwise kernels), attributed to the innermost module running.
 */
import { noGrad } from '../autograd/engine.js';
import { isProfiling, withKernelRecords } from '../profiler.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { Module, type Parameter } from './module.js';
import { observeForwards } from './observe.js';
import { checkOptionKeys, enumOption, optionKeys } from '../options.js';

/**
 * {@link summarize}'s options. Without inputShape the summary has no output shapes or FLOPs.
 *
 * @example
 * ```ts
 * import { Conv2d, Flatten, Linear, Sequential, summarize, type SummaryOptions } from 'axon-nn';
 * const net = new Sequential(new Conv2d(1, 8, 3), new Flatten(), new Linear(8 * 26 * 26, 10));
 * const options: SummaryOptions = { inputShape: [1, 28, 28] };
 * console.log(summarize(net, options).toString());
 * ```
 */
export interface SummaryOptions {
  /** One sample's shape (no batch axis), e.g. [784] or [1, 28, 28]. */
  inputShape?: readonly number[];
  /** Input dtype (int32 for token ids); default float32. */
  inputDtype?: 'float32' | 'int32';
  /** Show modules down to this depth (default: all). */
  maxDepth?: number;
}
const SUMMARY_KEYS = optionKeys<SummaryOptions>({ inputShape: true, inputDtype: true, maxDepth: true });

/**
 * One module's line in a {@link Summary}.
 *
 * @example
 * ```ts
 * import { Linear, ReLU, Sequential, summarize, type SummaryRow } from 'axon-nn';
 * const rows: SummaryRow[] = summarize(new Sequential(new Linear(4, 8), new ReLU()), { inputShape: [4] }).rows;
 * const heavy = rows.filter((r) => r.params > 0).map((r) => r.name); // ['0']
 * ```
 */
export interface SummaryRow {
  /** Dotted module name ('' for the root). */
  name: string;
  /** The module's class name. */
  type: string;
  /** Nesting depth (0 for the root, 1 for its children, ...). */
  depth: number;
  /** Output shape with the batch axis as -1, or null when unknown. */
  outputShape: number[] | null;
  /** Parameters this module owns directly (children's not included). */
  params: number;
  /** Whether its own parameters train: all, none, some, or '' when it has none. */
  trainable: 'yes' | 'no' | 'partly' | '';
  /** Forward FLOPs per sample in this module's own kernels (children's not included). */
  flops: number | null;
}

/**
 * A model's summary, as {@link summarize} returns it: one row per module, the parameter
 * totals, memory and FLOPs; toString() renders the table Keras's model.summary() prints.
 *
 * @example
 * ```ts
 * import { Linear, ReLU, Sequential, summarize, type Summary } from 'axon-nn';
 * const s: Summary = summarize(new Sequential(new Linear(784, 128), new ReLU(), new Linear(128, 10)));
 * console.log(s.totalParams); // 101770
 * ```
 */
export interface Summary {
  /** One row per module, depth first, the root first. */
  rows: SummaryRow[];
  /** Parameters in the whole model (tied ones once). */
  totalParams: number;
  /** Of which have requiresGrad. */
  trainableParams: number;
  /** Of which are frozen. */
  nonTrainableParams: number;
  /** Bytes of parameters and buffers. */
  memoryBytes: number;
  /** Forward FLOPs per sample, or null without an input shape. */
  flopsPerSample: number | null;
  /** The table: layer, type, output shape, params, trainable, FLOPs, then the totals. */
  toString(): string;
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function formatFlops(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GFLOP`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MFLOP`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)} kFLOP`;
  return `${n} FLOP`;
}

function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(2)} KiB`;
  return `${n} B`;
}

function ownParams(m: Module): Parameter[] {
  return m.namedParameters('', false).map(([, p]) => p);
}

/** Runs one forward of a single zero sample, recording each module's output shape and FLOPs. */
function trace(module: Module, options: SummaryOptions): Map<Module, { shape: number[]; flops: number }> {
  const inputShape = options.inputShape as readonly number[];
  if (!Array.isArray(inputShape) || !inputShape.every((d) => Number.isInteger(d) && d > 0))
    throw new RangeError(
      `summary: inputShape must be positive integers (one sample, no batch axis), got ${JSON.stringify(inputShape)}`,
    );
  if (isProfiling()) throw new Error('summary: stop the running profile first (summary uses the profiler)');
  const size = inputShape.reduce((a, b) => a * b, 1);
  const x = new Tensor(options.inputDtype === 'int32' ? new Int32Array(size) : new Float32Array(size), [
    1,
    ...inputShape,
  ]);
  const found = new Map<Module, { shape: number[]; flops: number }>();
  const stack: Module[] = [];
  const wasTraining = module.training;
  module.eval();
  try {
    withKernelRecords((take) => {
      const flush = (): void => {
        const records = take();
        const top = stack[stack.length - 1];
        if (!top) return;
        const entry = found.get(top) ?? { shape: [], flops: 0 };
        for (const r of records) entry.flops += r.flops;
        found.set(top, entry);
      };
      try {
        observeForwards(
          module,
          {
            enter: (m) => {
              flush();
              stack.push(m);
            },
            exit: (m, y) => {
              flush();
              const entry = found.get(m) ?? { shape: [], flops: 0 };
              entry.shape = y instanceof Tensor ? [-1, ...y.shape.slice(1)] : [];
              found.set(m, entry);
            },
            leave: () => void stack.pop(),
          },
          () => noGrad(() => module.forward(x)),
        );
      } catch (e) {
        throw new Error(
          `summary: the forward pass failed for input shape ${shapeToString([1, ...inputShape])}: ${(e as Error).message}`,
        );
      }
    });
  } finally {
    module.train(wasTraining);
  }
  return found;
}

/**
 * A module's summary: every module with its type, parameters and whether they train, the
 * totals and parameter memory; with an inputShape also each output shape and the forward FLOPs
 * per sample, from one real evaluation-mode forward of a zero sample (training mode is restored).
 * Throws if that forward fails, or while the profiler is running.
 *
 * @example
 * ```ts
 * import { Linear, ReLU, Sequential, summarize } from 'axon-nn';
 * const net = new Sequential(new Linear(784, 128), new ReLU(), new Linear(128, 10));
 * console.log(summarize(net, { inputShape: [784] }).toString());
 * ```
 */
export function summarize(module: Module, options: SummaryOptions = {}): Summary {
  if (!(module instanceof Module)) throw new TypeError('summary: expected a Module');
  checkOptionKeys('summarize', options, SUMMARY_KEYS);
  enumOption('summarize', 'inputDtype', options.inputDtype, 'float32', ['float32', 'int32']);
  const depth = options.maxDepth;
  if (depth !== undefined && !(depth === Infinity || (Number.isInteger(depth) && depth >= 0)))
    throw new RangeError(`summarize: maxDepth must be a non-negative integer, got ${String(depth)}`);
  const traced = options.inputShape ? trace(module, options) : null;
  const maxDepth = options.maxDepth ?? Infinity;
  const rows: SummaryRow[] = [];
  for (const [name, m] of module.namedModules()) {
    const depth = name === '' ? 0 : name.split('.').length;
    if (depth > maxDepth) continue;
    const own = ownParams(m);
    const n = own.reduce((a, p) => a + p.size, 0);
    const trainable = own.filter((p) => p.requiresGrad).length;
    const t = traced?.get(m);
    rows.push({
      name,
      type: m.constructor.name,
      depth,
      outputShape: t ? t.shape : null,
      params: n,
      trainable: own.length === 0 ? '' : trainable === own.length ? 'yes' : trainable === 0 ? 'no' : 'partly',
      flops: traced ? (t?.flops ?? 0) : null,
    });
  }
  const params = module.parameters();
  const totalParams = params.reduce((a, p) => a + p.size, 0);
  const trainableParams = params.filter((p) => p.requiresGrad).reduce((a, p) => a + p.size, 0);
  const bufferBytes = module.namedBuffers().reduce((a, [, b]) => a + b.data.byteLength, 0);
  const memoryBytes = params.reduce((a, p) => a + p.data.byteLength, 0) + bufferBytes;
  const flopsPerSample = traced ? [...traced.values()].reduce((a, e) => a + e.flops, 0) : null;
  const summary: Summary = {
    rows,
    totalParams,
    trainableParams,
    nonTrainableParams: totalParams - trainableParams,
    memoryBytes,
    flopsPerSample,
    toString: () => render(summary, options),
  };
  return summary;
}

function render(s: Summary, options: SummaryOptions): string {
  const head = ['Layer', 'Type', 'Output shape', 'Params', 'Trainable', 'FLOPs/sample'];
  const body = s.rows.map((r) => [
    r.name === '' ? '(model)' : `${'  '.repeat(Math.max(0, r.depth - 1))}${r.name}`,
    r.type,
    r.outputShape ? shapeToString(r.outputShape).replace('-1', 'batch') : '?',
    formatCount(r.params),
    r.trainable,
    r.flops === null ? '?' : r.flops === 0 ? '-' : formatFlops(r.flops),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (row: string[]): string =>
    row
      .map((c, i) => (i >= 3 && i !== 4 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = '-'.repeat(widths.reduce((a, w) => a + w + 2, -2));
  const lines = [line(head), rule, ...body.map(line), rule];
  lines.push(`Total params:         ${formatCount(s.totalParams)}`);
  lines.push(`Trainable params:     ${formatCount(s.trainableParams)}`);
  lines.push(`Non-trainable params: ${formatCount(s.nonTrainableParams)}`);
  lines.push(`Weights and buffers:  ${formatBytes(s.memoryBytes)}`);
  lines.push(
    s.flopsPerSample === null
      ? 'Forward FLOPs/sample: ? (pass an input shape)'
      : `Forward FLOPs/sample: ${formatFlops(s.flopsPerSample)} (input (batch, ${(options.inputShape ?? []).join(', ')}))`,
  );
  return lines.join('\n');
}
