/**
 * Profiling chosen training steps of a fit (TensorBoard's `profile_batch`, torch.profiler's
 * schedule): the kernel profiler runs from the start of one batch to the end of another, and
 * the report goes to a callback and, optionally, to a trace file.
 */
import { isProfiling, startProfiling, stopProfiling, type ProfileReport } from '../profiler.js';
import { checkOptionKeys, intOption, optionKeys } from '../options.js';
import type { Callback } from './callbacks.js';

/**
 * Options of {@link ProfileSteps}: which batches of which epoch to profile and what to do with
 * the report.
 *
 * @example
 * ```ts
 * import { ProfileSteps, type ProfileStepsOptions } from 'axon-nn';
 * const options: ProfileStepsOptions = { epoch: 1, batches: [10, 20], trace: 'fit-trace.json' };
 * const profiler = new ProfileSteps(options);
 * ```
 */
export interface ProfileStepsOptions {
  /** The epoch whose batches are profiled (0-based; default 0). */
  epoch?: number;
  /** Batches [first, end) of that epoch (0-based, end excluded; default [2, 7): five steps after two of warm-up). */
  batches?: [number, number];
  /** Called with the report when the last profiled batch ends (or when fit ends before it). */
  onReport?: (report: ProfileReport) => void | Promise<void>;
  /** Also write the report's Chrome trace there (see {@link ProfileReport.saveTrace}). */
  trace?: string;
}
const PROFILE_STEPS_KEYS = optionKeys<ProfileStepsOptions>({ epoch: true, batches: true, onReport: true, trace: true });

/**
 * A fit callback that profiles the native kernels of chosen training steps: the profiler starts
 * at the beginning of batch `batches[0]` of `epoch` and stops at the end of batch `batches[1] - 1`
 * (or when training ends), then the report is passed to `onReport`, written as a trace, and
 * kept in {@link ProfileSteps.report}. While it waits for its steps, fit runs one step per native
 * call (as with any callback that watches every batch), so the profiled steps are the ones asked
 * for. Throws at construction for bad options, and at its first step when another profile is
 * running. If fit throws while the steps are profiled, the profiler is left running (fit calls
 * no callback on an error): `stopProfiling()` ends it.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, ProfileSteps, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(32, 64, { activation: 'relu' }), new Linear(64, 1)));
 * model.compile({ optimizer: 'adam', loss: 'mse' });
 * const steps = new ProfileSteps({ batches: [2, 4], onReport: (report) => console.log(String(report)) });
 * await model.fit(randn([256, 32]), randn([256, 1]), { epochs: 1, batchSize: 32, verbose: 0, callbacks: [steps] });
 * console.log(steps.report?.records.length); // the kernel calls of batches 2 and 3
 * ```
 */
export class ProfileSteps implements Callback {
  /** The report of the profiled steps, once they have run. */
  report: ProfileReport | null = null;
  private readonly epochToProfile: number;
  private readonly first: number;
  private readonly end: number;
  private epoch = -1;
  private running = false;

  constructor(private readonly options: ProfileStepsOptions = {}) {
    const op = 'ProfileSteps';
    checkOptionKeys(op, options, PROFILE_STEPS_KEYS);
    this.epochToProfile = intOption(op, 'epoch', options.epoch, 0, 0, Number.MAX_SAFE_INTEGER);
    const batches = options.batches ?? [2, 7];
    if (
      !Array.isArray(batches) ||
      batches.length !== 2 ||
      !batches.every((b) => Number.isSafeInteger(b) && b >= 0) ||
      batches[1] <= batches[0]
    )
      throw new RangeError(
        `${op}: batches must be [first, end) with 0 <= first < end integers, got ${JSON.stringify(batches)}`,
      );
    [this.first, this.end] = batches;
    if (options.onReport !== undefined && typeof options.onReport !== 'function')
      throw new TypeError(`${op}: onReport must be a function`);
    if (options.trace !== undefined && (typeof options.trace !== 'string' || options.trace === ''))
      throw new TypeError(`${op}: trace must be a non-empty path`);
  }

  /** Notes the epoch, so only the chosen one is profiled. */
  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }

  /** Starts the profiler at the first chosen batch. */
  onBatchBegin(batch: number): void {
    if (this.report || this.running || this.epoch !== this.epochToProfile || batch !== this.first) return;
    if (isProfiling()) throw new Error('ProfileSteps: another profile is running (stop it, or drop this callback)');
    startProfiling();
    this.running = true;
  }

  /** Stops it after the last chosen batch and hands the report on. */
  async onBatchEnd(batch: number): Promise<void> {
    if (this.running && batch >= this.end - 1) await this.finish();
  }

  /** Stops at the end of an epoch that had fewer batches than asked for. */
  async onEpochEnd(): Promise<void> {
    if (this.running) await this.finish();
  }

  /** Stops when training ends (or is stopped) before the last chosen batch. */
  async onTrainEnd(): Promise<void> {
    if (this.running) await this.finish();
  }

  private async finish(): Promise<void> {
    this.running = false;
    const report = stopProfiling();
    this.report = report;
    if (this.options.trace) await report.saveTrace(this.options.trace);
    await this.options.onReport?.(report);
  }
}
