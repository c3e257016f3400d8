/**
 * Dynamic batching for inference (issue 16): concurrent `predict` calls whose samples have
 * the same shape and dtype are coalesced into one forward (rows concatenated along axis 0),
 * and each caller gets its own rows of the output back. It is not a scheduler across models
 * and not a worker pool: one target (a Model, an OnnxSession or a function), in this process.
 * Tests: `npx vitest run tests/batcher.test.ts`; the HTTP server built on it is
 * examples/serve.ts, documented with it in docs/SERVING.md.
 */
import { checkOptionKeys, intOption, numberOption, optionKeys } from '../options.js';
import { OnnxSession } from '../onnx/session.js';
import { Tensor } from '../tensor/tensor.js';
import { shapeToString } from '../tensor/shape.js';
import { AbortError } from '../train/fit.js';
import { Model } from '../train/model.js';

/**
 * Options of {@link createBatcher}: the most rows per forward, how long a request waits for
 * company, the queue bound and the forwards run at once. Out-of-range values are a RangeError.
 *
 * @example
 * ```ts
 * import { createBatcher, Model, Linear, type BatcherOptions } from 'axon-nn';
 * const options: BatcherOptions = { maxBatchSize: 64, maxDelayMs: 0, maxQueue: 256, maxInFlight: 1 };
 * const batcher = createBatcher(new Model(new Linear(8, 1)), options);
 * ```
 */
export interface BatcherOptions {
  /** Most rows in one forward (default 32). A request never splits across forwards, so this
   * is also the most rows one `predict` may carry. */
  maxBatchSize?: number;
  /** How long the first waiting request of a shape waits for company before its batch is
   * dispatched, in milliseconds (default 2). 0: no waiting for company; requests that arrive
   * in the same event-loop turn share a forward, and under load the queue fills while the
   * forwards run (maxInFlight), so batches still form. A batch that reaches maxBatchSize rows
   * goes at once. */
  maxDelayMs?: number;
  /** Requests waiting (not yet dispatched) before new ones are refused with an
   * OverloadedError (default 1024). Waiting memory is bounded by maxQueue * maxBatchSize rows. */
  maxQueue?: number;
  /** Forwards running at once (default 2): while they run, batches keep filling. */
  maxInFlight?: number;
}
const BATCHER_KEYS = optionKeys<BatcherOptions>({
  maxBatchSize: true,
  maxDelayMs: true,
  maxQueue: true,
  maxInFlight: true,
});

/**
 * Options of one {@link Batcher.predict} call: an AbortSignal and a deadline.
 *
 * @example
 * ```ts
 * import { createBatcher, Model, Linear, randn, type BatchRequestOptions } from 'axon-nn';
 * const batcher = createBatcher(new Model(new Linear(8, 1)));
 * const controller = new AbortController(); // e.g. aborted when the HTTP client disconnects
 * const request: BatchRequestOptions = { signal: controller.signal, timeoutMs: 100 };
 * const y = await batcher.predict(randn([1, 8]), request);
 * ```
 */
export interface BatchRequestOptions {
  /** Aborting rejects the call with an AbortError at once, wherever it is: refused before it
   * queues, removed from the queue, or its rows dropped when its batch's forward returns. */
  signal?: AbortSignal;
  /** Milliseconds from the call until it rejects with a BatchTimeoutError (the same three
   * cases as an abort). Default: no limit. */
  timeoutMs?: number;
}
const REQUEST_KEYS = optionKeys<BatchRequestOptions>({ signal: true, timeoutMs: true });

/**
 * What the batcher knows of its load when it calls a forward: the second argument of a
 * {@link BatchPredictor}.
 *
 * @example
 * ```ts
 * import { createBatcher, Model, Linear, Tensor, type BatchLoad } from 'axon-nn';
 * const model = new Model(new Linear(8, 1));
 * // What createBatcher(model) does itself: leave the JS thread only when other work waits.
 * const forward = (x: Tensor, load?: BatchLoad): Promise<Tensor> => model.predict(x, { offload: load?.busy });
 * const batcher = createBatcher(forward);
 * ```
 */
export interface BatchLoad {
  /** Another forward is running or requests are waiting: the JS thread has other work, so a
   * forward that can leave it (Model.predict's `offload`) should. */
  busy: boolean;
}

/**
 * A forward over a batch: rows in, the same number of rows out (axis 0); a target of
 * {@link createBatcher} besides a Model or an OnnxSession. Returning another row count rejects
 * every request of that batch with a RangeError.
 *
 * @example
 * ```ts
 * import { createBatcher, Model, Linear, randn, type BatchPredictor } from 'axon-nn';
 * const model = new Model(new Linear(8, 3));
 * const probabilities: BatchPredictor = async (x, load) =>
 *   (await model.predict(x, { offload: load?.busy })).softmax(-1);
 * const batcher = createBatcher(probabilities, { maxBatchSize: 16 });
 * console.log((await batcher.predict(randn([2, 8]))).shape); // [2, 3]
 * ```
 */
export type BatchPredictor = (x: Tensor, load?: BatchLoad) => Promise<Tensor>;

/**
 * What a batcher has done since it was created ({@link Batcher.stats}): for metrics endpoints
 * and for tuning maxBatchSize and maxDelayMs.
 *
 * @example
 * ```ts
 * import { createBatcher, Model, Linear, randn, type BatcherStats } from 'axon-nn';
 * const batcher = createBatcher(new Model(new Linear(8, 1)));
 * await Promise.all([1, 2, 3, 4].map(() => batcher.predict(randn([1, 8]))));
 * const stats: BatcherStats = batcher.stats();
 * console.log(`${stats.requests} requests in ${stats.batches} forwards of ${stats.rows / stats.batches} rows`);
 * ```
 */
export interface BatcherStats {
  /** predict calls accepted into the queue. */
  requests: number;
  /** Forwards dispatched. */
  batches: number;
  /** Rows dispatched, over all forwards. */
  rows: number;
  /** Calls refused with an OverloadedError because the queue was full. */
  rejected: number;
  /** Calls rejected by their AbortSignal (before queueing, while queued or while in flight). */
  aborted: number;
  /** Calls rejected by their timeoutMs. */
  timedOut: number;
  /** Calls rejected because their batch's forward failed or returned the wrong rows. */
  failed: number;
  /** A histogram of rows per forward: batchSizes[r] forwards had r rows (length
   * maxBatchSize + 1; index 0 stays 0). */
  batchSizes: number[];
}

/**
 * The queue was full (maxQueue requests waiting): the caller should retry later (HTTP 503).
 *
 * @example
 * ```ts
 * import { createBatcher, OverloadedError, tensor } from 'axon-nn';
 * const batcher = createBatcher(async (x) => x, { maxQueue: 1 });
 * const first = batcher.predict(tensor([[1]])); // waits its maxDelayMs in the queue
 * await batcher.predict(tensor([[2]])).catch((e) => {
 *   if (e instanceof OverloadedError) console.log(e.code, e.maxQueue); // ERR_AXON_OVERLOADED 1
 * });
 * await first;
 * ```
 */
export class OverloadedError extends Error {
  /** Always 'OverloadedError'. */
  override name = 'OverloadedError';
  /** 'ERR_AXON_OVERLOADED', to match without instanceof. */
  readonly code = 'ERR_AXON_OVERLOADED';
  constructor(
    message: string,
    /** The limit that was reached (BatcherOptions.maxQueue). */
    readonly maxQueue: number,
  ) {
    super(message);
  }
}

/**
 * A request's timeoutMs passed before its rows came back (while queued or while its batch's
 * forward ran; the forward itself is not stopped). Its `name` is 'TimeoutError'.
 *
 * @example
 * ```ts
 * import { createBatcher, BatchTimeoutError, tensor } from 'axon-nn';
 * const batcher = createBatcher((x) => new Promise((resolve) => setTimeout(() => resolve(x), 500)));
 * await batcher.predict(tensor([[1, 2]]), { timeoutMs: 50 }).catch((e) => {
 *   if (e instanceof BatchTimeoutError) console.log(e.name, e.code); // TimeoutError ERR_AXON_TIMEOUT
 * });
 * await batcher.close();
 * ```
 */
export class BatchTimeoutError extends Error {
  /** Always 'TimeoutError' (as a DOMException from AbortSignal.timeout). */
  override name = 'TimeoutError';
  /** 'ERR_AXON_TIMEOUT', to match without instanceof. */
  readonly code = 'ERR_AXON_TIMEOUT';
}

/**
 * A predict called after {@link Batcher.close}: the batcher takes no new requests.
 *
 * @example
 * ```ts
 * import { createBatcher, BatcherClosedError, tensor } from 'axon-nn';
 * const batcher = createBatcher(async (x) => x.mul(2));
 * await batcher.close();
 * await batcher.predict(tensor([[1]])).catch((e) => console.log(e instanceof BatcherClosedError)); // true
 * ```
 */
export class BatcherClosedError extends Error {
  /** Always 'BatcherClosedError'. */
  override name = 'BatcherClosedError';
  /** 'ERR_AXON_CLOSED', to match without instanceof. */
  readonly code = 'ERR_AXON_CLOSED';
}

/** Longest delay or timeout a Node timer takes (ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Request {
  readonly x: Tensor;
  readonly rows: number;
  readonly lane: Lane;
  readonly enqueuedAt: number;
  state: 'queued' | 'dispatched' | 'settled';
  /** Settles the promise once (later calls do nothing) and releases its timer and listener. */
  resolve(value: Tensor): void;
  reject(error: unknown): void;
}

/** The waiting requests of one sample shape and dtype, oldest first. */
interface Lane {
  readonly key: string;
  requests: Request[];
  rows: number;
  /** Set when the oldest request has waited maxDelayMs (its timer fired). */
  due: boolean;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * Coalesces concurrent predict calls into batched forwards. Requests are grouped by sample
 * shape and dtype (different shapes batch separately); a group is dispatched when it holds
 * maxBatchSize rows or its oldest request has waited maxDelayMs, and at most maxInFlight
 * forwards run at once (due groups wait for a free slot, oldest first, and keep filling
 * meanwhile). A batch takes whole requests from the front of its group up to maxBatchSize
 * rows. Make one with createBatcher.
 *
 * Each caller's rows equal the target's output for the concatenated batch bitwise. Rows
 * predicted in a batch can differ in the last bits from the same rows predicted alone (the
 * GEMM's blocking depends on the row count), so compare with a tolerance (~1e-5) or with a
 * forward over the same concatenated batch.
 *
 * @example
 * ```ts
 * import { createBatcher, Model, Linear, randn } from 'axon-nn';
 * const batcher = createBatcher(new Model(new Linear(16, 4)), { maxBatchSize: 32, maxDelayMs: 2 });
 * const requests = [1, 2, 3].map(() => batcher.predict(randn([1, 16]))); // concurrent callers
 * const outputs = await Promise.all(requests); // three [1, 4] tensors
 * console.log(batcher.stats().batches); // 1: one forward of 3 rows
 * await batcher.close();
 * ```
 */
export class Batcher {
  /** Most rows in one forward, and in one request (BatcherOptions.maxBatchSize). */
  readonly maxBatchSize: number;
  /** How long a request waits for company, in ms (BatcherOptions.maxDelayMs). */
  readonly maxDelayMs: number;
  /** Waiting requests before new ones get an OverloadedError (BatcherOptions.maxQueue). */
  readonly maxQueue: number;
  /** Forwards running at once (BatcherOptions.maxInFlight). */
  readonly maxInFlight: number;
  private readonly lanes = new Map<string, Lane>();
  private queuedRequests = 0;
  private queuedRowCount = 0;
  private running = 0;
  private pumpScheduled = false;
  private closing = false;
  private drained: Promise<void> | null = null;
  private resolveDrained: (() => void) | null = null;
  private readonly counts = { requests: 0, batches: 0, rows: 0, rejected: 0, aborted: 0, timedOut: 0, failed: 0 };
  private readonly histogram: number[];

  /** @internal use createBatcher */
  constructor(
    private readonly forward: BatchPredictor,
    options: BatcherOptions = {},
  ) {
    const op = 'createBatcher';
    checkOptionKeys(op, options, BATCHER_KEYS);
    this.maxBatchSize = intOption(op, 'maxBatchSize', options.maxBatchSize, 32, 1, 1 << 24);
    this.maxDelayMs = numberOption(op, 'maxDelayMs', options.maxDelayMs, 2, 0, MAX_TIMER_MS);
    this.maxQueue = intOption(op, 'maxQueue', options.maxQueue, 1024, 1, 1 << 24);
    this.maxInFlight = intOption(op, 'maxInFlight', options.maxInFlight, 2, 1, 1024);
    this.histogram = new Array<number>(this.maxBatchSize + 1).fill(0);
  }

  /** Requests waiting to be dispatched. */
  get queueDepth(): number {
    return this.queuedRequests;
  }
  /** Rows waiting to be dispatched. */
  get queuedRows(): number {
    return this.queuedRowCount;
  }
  /** Forwards running now (including those whose callers have all gone). */
  get inFlight(): number {
    return this.running;
  }
  /** True once close() was called. */
  get closed(): boolean {
    return this.closing;
  }

  /** Counters since creation (a copy). */
  stats(): BatcherStats {
    return { ...this.counts, batchSizes: this.histogram.slice() };
  }

  /**
   * The target's output rows for x, computed in a batch with other callers' rows.
   * @param x `[r, ...sample]` with 1 <= r <= maxBatchSize, float32 or int32.
   * @param options an AbortSignal and/or a timeout (see BatchRequestOptions).
   * @returns (resolves) this caller's r rows of the output, in memory of its own.
   * @throws (rejects) TypeError/RangeError on a bad input or option; BatcherClosedError after
   *   close(); OverloadedError when maxQueue requests are waiting; AbortError;
   *   BatchTimeoutError; the forward's own error when the batch's forward fails.
   * @example
   * ```ts
   * import { createBatcher, Model, Linear, randn } from 'axon-nn';
   * const batcher = createBatcher(new Model(new Linear(16, 4)), { maxBatchSize: 32, maxDelayMs: 2 });
   * const y = await batcher.predict(randn([1, 16]), { timeoutMs: 100 }); // [1, 4]
   * ```
   */
  predict(x: Tensor, options: BatchRequestOptions = {}): Promise<Tensor> {
    const op = 'batcher.predict';
    let signal: AbortSignal | undefined;
    let timeoutMs: number | undefined;
    try {
      checkOptionKeys(op, options, REQUEST_KEYS);
      signal = options?.signal;
      if (signal !== undefined && !isAbortSignal(signal))
        throw new TypeError(`${op}: options.signal must be an AbortSignal, got ${typeof signal}`);
      timeoutMs = options?.timeoutMs;
      if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS))
        throw new RangeError(`${op}: options.timeoutMs must be a number in (0, ${MAX_TIMER_MS}], got ${timeoutMs}`);
      if (!(x instanceof Tensor)) throw new TypeError(`${op}: x must be a Tensor, got ${describe(x)}`);
      if (x.ndim === 0)
        throw new RangeError(`${op}: x needs a batch axis ([rows, ...sample]), got a scalar of shape []`);
      if (x.shape[0] < 1 || x.shape[0] > this.maxBatchSize)
        throw new RangeError(
          `${op}: x must have 1 to maxBatchSize (${this.maxBatchSize}) rows, got shape ${shapeToString(x.shape)}`,
        );
      if (this.closing) throw new BatcherClosedError(`${op}: the batcher is closed (close() was called)`);
      if (signal?.aborted) {
        this.counts.aborted++;
        throw new AbortError(`${op}: aborted before it was queued`, { cause: signal.reason });
      }
      if (this.queuedRequests >= this.maxQueue) {
        this.counts.rejected++;
        throw new OverloadedError(
          `${op}: overloaded, ${this.queuedRequests} requests are waiting (maxQueue ${this.maxQueue}); retry later`,
          this.maxQueue,
        );
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(x, signal, timeoutMs);
  }

  /**
   * Stops accepting requests (new predicts reject with a BatcherClosedError), dispatches
   * everything queued without waiting for maxDelayMs, and resolves once every forward has
   * settled: a graceful drain. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    if (!this.drained) {
      this.closing = true;
      this.drained = new Promise((resolve) => (this.resolveDrained = resolve));
      this.pump();
    }
    return this.drained;
  }

  private enqueue(x: Tensor, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<Tensor> {
    const op = 'batcher.predict';
    const key = `${x.dtype}[${x.shape.slice(1).join(',')}]`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { key, requests: [], rows: 0, due: false, timer: null };
      this.lanes.set(key, lane);
    }
    let timer: ReturnType<typeof setTimeout> | null = null;
    let onAbort: (() => void) | null = null;
    return new Promise<Tensor>((resolvePromise, rejectPromise) => {
      const done = (): boolean => {
        if (request.state === 'settled') return false;
        if (request.state === 'queued') this.unqueue(request);
        request.state = 'settled';
        if (timer) clearTimeout(timer);
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const request: Request = {
        x,
        rows: x.shape[0],
        lane: lane as Lane,
        enqueuedAt: performance.now(),
        state: 'queued',
        resolve: (value) => {
          if (done()) resolvePromise(value);
        },
        reject: (error) => {
          if (done()) rejectPromise(error);
        },
      };
      if (signal) {
        onAbort = () => {
          const where = request.state === 'queued' ? 'while queued' : 'while its batch was running';
          this.counts.aborted++;
          request.reject(new AbortError(`${op}: aborted ${where}`, { cause: signal.reason }));
          this.pump();
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      if (timeoutMs !== undefined) {
        const ms = timeoutMs;
        timer = setTimeout(() => {
          const where = request.state === 'queued' ? 'waiting in the queue' : 'its batch still running';
          this.counts.timedOut++;
          request.reject(new BatchTimeoutError(`${op}: timed out after ${ms} ms (${where})`));
          this.pump();
        }, ms);
      }
      this.counts.requests++;
      const ln = lane as Lane;
      ln.requests.push(request);
      ln.rows += request.rows;
      this.queuedRequests++;
      this.queuedRowCount += request.rows;
      if (ln.requests.length === 1) this.armLane(ln, this.maxDelayMs);
      if (ln.rows >= this.maxBatchSize) this.schedulePump(); // full: no need to wait
    });
  }

  /** Takes a queued request out of its lane (dispatch, abort or timeout). */
  private unqueue(request: Request): void {
    const lane = request.lane;
    const i = lane.requests.indexOf(request);
    if (i < 0) return;
    lane.requests.splice(i, 1);
    lane.rows -= request.rows;
    this.queuedRequests--;
    this.queuedRowCount -= request.rows;
    if (lane.requests.length === 0) this.dropLane(lane);
    else if (i === 0) this.rearm(lane);
  }

  private dropLane(lane: Lane): void {
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = null;
    lane.due = false;
    if (this.lanes.get(lane.key) === lane) this.lanes.delete(lane.key);
  }

  /** The oldest request changed: its wait runs from its own arrival. */
  private rearm(lane: Lane): void {
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = null;
    lane.due = false;
    const left = this.maxDelayMs - (performance.now() - lane.requests[0].enqueuedAt);
    if (left <= 0) lane.due = true;
    else this.armLane(lane, left);
  }

  private armLane(lane: Lane, ms: number): void {
    if (ms <= 0) {
      // No wait asked: due after this event-loop turn's I/O (setImmediate runs after the poll
      // phase), so requests that arrived together still share a forward and an idle server
      // adds no delay; under load the queue fills while the forwards run.
      lane.due = true;
      this.scheduleImmediatePump();
      return;
    }
    lane.timer = setTimeout(() => {
      lane.timer = null;
      lane.due = true;
      this.pump();
    }, ms);
  }

  private immediatePumpScheduled = false;

  private scheduleImmediatePump(): void {
    if (this.immediatePumpScheduled) return;
    this.immediatePumpScheduled = true;
    setImmediate(() => {
      this.immediatePumpScheduled = false;
      this.pump();
    });
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // A microtask, not inline: calls issued in the same tick join the batch, and the forward
    // never runs inside a caller's predict() call.
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Dispatches due lanes, oldest request first, while forward slots are free. */
  private pump(): void {
    while (this.running < this.maxInFlight) {
      let next: Lane | null = null;
      for (const lane of this.lanes.values()) {
        if (!(lane.due || this.closing || lane.rows >= this.maxBatchSize)) continue;
        if (!next || lane.requests[0].enqueuedAt < next.requests[0].enqueuedAt) next = lane;
      }
      if (!next) break;
      this.dispatch(next);
    }
    if (this.closing && this.running === 0 && this.queuedRequests === 0 && this.resolveDrained) {
      this.resolveDrained();
      this.resolveDrained = null;
    }
  }

  private dispatch(lane: Lane): void {
    const batch: Request[] = [];
    let rows = 0;
    while (lane.requests.length > 0 && rows + lane.requests[0].rows <= this.maxBatchSize) {
      const request = lane.requests.shift() as Request;
      rows += request.rows;
      batch.push(request);
      request.state = 'dispatched';
    }
    lane.rows -= rows;
    this.queuedRequests -= batch.length;
    this.queuedRowCount -= rows;
    if (lane.requests.length === 0) this.dropLane(lane);
    else this.rearm(lane);
    this.counts.batches++;
    this.counts.rows += rows;
    this.histogram[rows]++;
    this.running++;

    const input = batch.length === 1 ? batch[0].x : concatRows(batch.map((r) => r.x));
    // Busy: another forward runs or requests wait, so the JS thread has other work to do.
    const load: BatchLoad = { busy: this.running > 1 || this.queuedRequests > 0 };
    let result: Promise<Tensor>;
    try {
      result = Promise.resolve(this.forward(input, load));
    } catch (e) {
      result = Promise.reject(e);
    }
    result
      .then(
        (output) => this.deliver(batch, input, output),
        (error) => this.fail(batch, error),
      )
      .then(() => {
        this.running--;
        this.pump();
      });
  }

  private deliver(batch: Request[], input: Tensor, output: unknown): void {
    const rows = input.shape[0];
    if (!(output instanceof Tensor) || output.ndim === 0 || output.shape[0] !== rows) {
      const got = output instanceof Tensor ? `shape ${shapeToString(output.shape)}` : describe(output);
      this.fail(
        batch,
        new RangeError(
          `batcher: the forward returned ${got} for a batch of shape ${shapeToString(input.shape)} (${batch.length} requests); expected a tensor with ${rows} rows along axis 0`,
        ),
      );
      return;
    }
    if (batch.length === 1) {
      batch[0].resolve(output);
      return;
    }
    const rowSize = output.size / rows;
    const tail = output.shape.slice(1);
    let row = 0;
    for (const request of batch) {
      const start = row;
      row += request.rows;
      if (request.state !== 'dispatched') continue; // aborted or timed out: dropped
      const data = output.data.slice(start * rowSize, row * rowSize);
      request.resolve(new Tensor(data, [request.rows, ...tail]));
    }
  }

  private fail(batch: Request[], error: unknown): void {
    for (const request of batch)
      if (request.state === 'dispatched') {
        this.counts.failed++;
        request.reject(error);
      }
  }
}

/** The rows of same-shaped, same-dtype tensors, one after another, in a new tensor. */
function concatRows(xs: Tensor[]): Tensor {
  let rows = 0;
  let size = 0;
  for (const x of xs) {
    rows += x.shape[0];
    size += x.size;
  }
  const data = xs[0].dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  let offset = 0;
  for (const x of xs) {
    data.set(x.data, offset);
    offset += x.size;
  }
  return new Tensor(data, [rows, ...xs[0].shape.slice(1)]);
}

/**
 * A Batcher in front of `target`: a Model (its predict), an OnnxSession with exactly one
 * input and one output (run on `{ [input]: batch }`), or a function from a batch to its
 * output rows.
 * @param target what computes a batch's outputs.
 * @param options maxBatchSize, maxDelayMs, maxQueue, maxInFlight (see BatcherOptions).
 * @returns a Batcher; close() it to drain before exit.
 * @throws TypeError on a target of another kind or an OnnxSession with several inputs or
 *   outputs; RangeError on an option out of range or an ONNX input with a fixed batch size.
 * @example
 * ```ts
 * import { createBatcher, Model, randn } from 'axon-nn';
 * const batcher = createBatcher(await Model.load('model.axon'), { maxBatchSize: 64 });
 * const oneImage = randn([1, 784]); // a request: [rows, ...sample]
 * const probabilities = (await batcher.predict(oneImage)).softmax(-1);
 * await batcher.close(); // drains what is queued
 * ```
 */
export function createBatcher(target: Model | OnnxSession | BatchPredictor, options: BatcherOptions = {}): Batcher {
  const op = 'createBatcher';
  // Under load a model's forward leaves the JS thread (offload) so the event loop keeps
  // taking requests meanwhile; an idle server runs a cheap one synchronously, without a hop.
  if (target instanceof Model) return new Batcher((x, load) => target.predict(x, { offload: load?.busy }), options);
  if (target instanceof OnnxSession) {
    const names = (vs: { name: string }[]): string => vs.map((v) => `'${v.name}'`).join(', ') || 'none';
    if (target.inputs.length !== 1 || target.outputs.length !== 1)
      throw new TypeError(
        `${op}: an OnnxSession needs exactly one input and one output to batch, this one has inputs ${names(target.inputs)} and outputs ${names(target.outputs)}; wrap session.run in a BatchPredictor function instead`,
      );
    const input = target.inputs[0];
    const output = target.outputs[0].name;
    const batcher = new Batcher(async (x) => {
      const result = await target.run({ [input.name]: x });
      return result[output];
    }, options);
    const batchDim = input.shape?.[0];
    if (typeof batchDim === 'number' && !(batchDim === 1 && batcher.maxBatchSize === 1))
      throw new RangeError(
        `${op}: the ONNX input '${input.name}' has a fixed batch size ${batchDim} (shape [${input.shape?.join(', ')}]); export it with a symbolic batch axis (exportOnnx's dynamicBatch) to batch requests`,
      );
    return batcher;
  }
  if (typeof target === 'function') return new Batcher(target, options);
  throw new TypeError(
    `${op}: target must be a Model, an OnnxSession or a function (x) => Promise<Tensor>, got ${describe(target)}`,
  );
}

function isAbortSignal(s: unknown): s is AbortSignal {
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof (s as AbortSignal).aborted === 'boolean' &&
    typeof (s as AbortSignal).addEventListener === 'function'
  );
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}
