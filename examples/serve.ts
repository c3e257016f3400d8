/**
 * An HTTP inference server: POST /predict (JSON or raw float32) through the dynamic batcher,
 * GET /healthz, GET /metrics (Prometheus, via prom-client), graceful shutdown on SIGTERM.
 * node:http only; routes, body formats, errors and metric names are in docs/SERVING.md.
 *
 *   npx tsx examples/serve.ts --model model.axon [--port 8080] [--max-batch 32] [--max-delay-ms 2]
 *   npx tsx examples/serve.ts --model model.onnx      # an ONNX file, run by loadOnnx
 *   npx tsx examples/serve.ts                         # a tiny demo model, trained at start
 *
 * createInferenceServer is exported so tests (tests/serve.test.ts) and benchmarks can build
 * the same server around other predictors (any BatchPredictor function).
 */
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { endianness } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  BatcherClosedError,
  BatchTimeoutError,
  createBatcher,
  Linear,
  loadOnnx,
  Model,
  OnnxSession,
  OverloadedError,
  randn,
  Sequential,
  Tensor,
  type Batcher,
  type BatcherOptions,
  type BatchPredictor,
} from 'axon-nn';

export interface InferenceServerOptions {
  /** What computes a batch: a Model, an OnnxSession (one input, one output) or a function. */
  predictor: Model | OnnxSession | BatchPredictor;
  /** One sample's input shape, without the batch axis (request bodies are checked against it). */
  sampleShape: number[];
  /** The batcher's options (maxBatchSize, maxDelayMs, maxQueue, maxInFlight). */
  batcher?: BatcherOptions;
  /** Largest request body in bytes (default 8 MiB); larger ones get 413 unread. */
  maxBodyBytes?: number;
  /** Per-request limit on the batcher's queue and forward, in ms (default 30000): 504 after. */
  timeoutMs?: number;
  /** Collect prom-client's default process metrics (RSS, CPU, event-loop lag; default true). */
  defaultMetrics?: boolean;
  /** Most rows one request may carry (default min(16, maxQueue) x maxBatchSize); 413 past that,
   * since a request larger than the batcher's queue could never be admitted. */
  maxRows?: number;
}

export interface InferenceServer {
  server: Server;
  batcher: Batcher;
  /** The Prometheus registry GET /metrics serves (this server's own, not prom-client's global). */
  registry: Registry;
  /** Starts listening (port 0: any free port); resolves with the port bound. */
  listen(port: number, host?: string): Promise<{ port: number }>;
  /** Graceful: /healthz turns 503, new requests get 503, in-flight ones are answered, then
   * the listener and the batcher close. Calling it again returns the same promise. */
  close(): Promise<void>;
}

/** Status for a request whose client went away before the answer (nginx's convention);
 * recorded in the metrics, never seen by the client. */
const CLIENT_CLOSED = 499;
const ROUTES: Record<string, string> = { '/predict': 'POST', '/healthz': 'GET', '/metrics': 'GET' };
const LITTLE_ENDIAN = endianness() === 'LE';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * An HTTP server around a dynamic batcher in front of `options.predictor`. Not listening yet:
 * call listen().
 * @throws RangeError on a bad sampleShape, maxBodyBytes or timeoutMs; what createBatcher throws.
 * @example
 * const { listen, close } = createInferenceServer({ predictor: model, sampleShape: [784] });
 * const { port } = await listen(8080);
 */
export function createInferenceServer(options: InferenceServerOptions): InferenceServer {
  const op = 'createInferenceServer';
  const sampleShape = options.sampleShape;
  if (!Array.isArray(sampleShape) || !sampleShape.every((d) => Number.isSafeInteger(d) && d >= 1))
    throw new RangeError(`${op}: sampleShape must be positive integers, got ${JSON.stringify(sampleShape)}`);
  const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
  const maxBodyBytes = options.maxBodyBytes ?? 8 << 20;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1)
    throw new RangeError(`${op}: maxBodyBytes must be a positive integer, got ${maxBodyBytes}`);
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!(timeoutMs > 0 && timeoutMs <= 2 ** 31 - 1))
    throw new RangeError(`${op}: timeoutMs must be in (0, 2^31 - 1], got ${timeoutMs}`);
  const batcher = createBatcher(options.predictor, options.batcher);
  const maxRows = options.maxRows ?? Math.min(16, batcher.maxQueue) * batcher.maxBatchSize;
  if (!Number.isSafeInteger(maxRows) || maxRows < 1)
    throw new RangeError(`${op}: maxRows must be a positive integer, got ${maxRows}`);
  if (Math.ceil(maxRows / batcher.maxBatchSize) > batcher.maxQueue)
    throw new RangeError(
      `${op}: maxRows ${maxRows} needs ${Math.ceil(maxRows / batcher.maxBatchSize)} batcher requests, more than its maxQueue ${batcher.maxQueue}`,
    );

  const registry = new Registry();
  // Event-loop delay sampled every 1 ms (prom-client's default, 10 ms, hides short stalls);
  // the reported lag includes that 1 ms interval.
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1 });
  const requests = new Counter({
    name: 'axon_http_requests_total',
    help: 'HTTP requests by route, method and status (499: the client closed the connection first)',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'axon_http_request_duration_seconds',
    help: 'HTTP request latency, from the request to the last byte of the answer',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const seenSizes = new Array<number>(batcher.maxBatchSize + 1).fill(0);
  new Histogram({
    name: 'axon_batch_size_rows',
    help: 'Rows per forward the batcher dispatched',
    buckets: sizeBuckets(batcher.maxBatchSize),
    registers: [registry],
    // The batcher keeps its own histogram (stats().batchSizes); the new batches since the last
    // scrape are observed here, so the batcher needs no metrics hook.
    collect() {
      const sizes = batcher.stats().batchSizes;
      for (let rows = 1; rows < sizes.length; rows++) {
        for (let k = seenSizes[rows]; k < sizes[rows]; k++) this.observe(rows);
        seenSizes[rows] = sizes[rows];
      }
    },
  });
  new Gauge({
    name: 'axon_batcher_queue_depth',
    help: 'Requests waiting in the batcher (not yet dispatched)',
    registers: [registry],
    collect() {
      this.set(batcher.queueDepth);
    },
  });
  new Gauge({
    name: 'axon_batcher_in_flight',
    help: 'Forwards running',
    registers: [registry],
    collect() {
      this.set(batcher.inFlight);
    },
  });

  let draining = false;
  /** Responses not yet finished: close() marks them `connection: close`, so their keep-alive
   * connections end with the answer instead of idling until the keep-alive timeout. */
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      // handle answers every error itself; this is a bug guard, not a path.
      if (!res.headersSent) sendError(res, 500, `internal error: ${(e as Error).message}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = path in ROUTES ? path : 'other';
    const controller = new AbortController();
    open.add(res);
    res.on('close', () => {
      open.delete(res);
      const gone = !res.writableFinished;
      if (gone) controller.abort(new Error('the client closed the connection'));
      const status = String(gone ? CLIENT_CLOSED : res.statusCode);
      requests.inc({ route, method: req.method ?? '', status });
      latency.observe({ route }, (performance.now() - started) / 1e3);
    });
    if (draining) res.setHeader('connection', 'close');
    try {
      const expected = ROUTES[path];
      if (!expected)
        throw new HttpError(
          404,
          `no route ${req.method} ${path}; the routes are POST /predict, GET /healthz, GET /metrics`,
        );
      if (req.method !== expected && !(expected === 'GET' && req.method === 'HEAD'))
        throw new HttpError(405, `${path} takes ${expected}, got ${req.method}`, { allow: expected });
      if (path === '/healthz') {
        res.writeHead(draining ? 503 : 200, { 'content-type': 'text/plain' }).end(draining ? 'draining' : 'ok');
      } else if (path === '/metrics') {
        const text = await registry.metrics();
        res.writeHead(200, { 'content-type': registry.contentType }).end(text);
      } else await predict(req, res, controller.signal);
    } catch (e) {
      if (controller.signal.aborted) return; // nobody to answer
      if (e instanceof HttpError) sendError(res, e.status, e.message, e.headers);
      else if (e instanceof OverloadedError || e instanceof BatcherClosedError)
        sendError(res, 503, e.message, { 'retry-after': '1' });
      else if (e instanceof BatchTimeoutError) sendError(res, 504, e.message);
      else sendError(res, 500, `the forward failed: ${(e as Error).message}`);
    }
  }

  async function predict(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    if (draining) throw new HttpError(503, 'the server is shutting down', { 'retry-after': '1' });
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json' && type !== 'application/octet-stream')
      throw new HttpError(
        415,
        `POST /predict takes content-type application/json or application/octet-stream, got ${type || 'none'}`,
      );
    const body = await readBody(req, maxBodyBytes, signal);
    const binary = type === 'application/octet-stream';
    const x = binary ? binaryInputs(body, sampleShape, sampleSize) : jsonInputs(body, sampleShape, sampleSize);
    if (x.shape[0] > maxRows)
      throw new HttpError(
        413,
        `the body holds ${x.shape[0]} rows; this server takes at most ${maxRows} per request (send several requests)`,
      );
    const y = await predictRows(batcher, x, signal, timeoutMs);
    const outShape = y.shape.join(',');
    if (binary) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-output-shape': outShape });
      res.end(float32ToBytes(y.data));
    } else {
      const rows = y.shape[0];
      const k = y.size / rows;
      const outputs = Array.from({ length: rows }, (_, i) => Array.from(y.data.subarray(i * k, (i + 1) * k)));
      sendJson(res, 200, { outputs, shape: y.shape });
    }
  }

  let closing: Promise<void> | null = null;
  return {
    server,
    batcher,
    registry,
    listen(port, host) {
      return new Promise((resolvePort, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          resolvePort({ port: typeof address === 'object' && address ? address.port : port });
        });
      });
    },
    close() {
      if (!closing) {
        draining = true;
        for (const res of open) if (!res.headersSent) res.setHeader('connection', 'close');
        closing = (async () => {
          // server.close stops accepting and ends idle keep-alive connections; its callback
          // runs once every connection has ended, so once every request has been answered
          // (answers carry `connection: close` while draining).
          if (server.listening) {
            const closed = new Promise<void>((done) => server.close(() => done()));
            server.closeIdleConnections();
            await closed;
          }
          await batcher.close();
        })();
      }
      return closing;
    },
  };
}

/** Buckets for rows per forward: powers of two up to maxBatchSize, and maxBatchSize. */
function sizeBuckets(maxBatchSize: number): number[] {
  const buckets: number[] = [];
  for (let b = 1; b < maxBatchSize; b *= 2) buckets.push(b);
  buckets.push(maxBatchSize);
  return buckets;
}

/**
 * The rows of x through the batcher. A request with more rows than one forward takes goes
 * in maxBatchSize pieces (they may join other callers' batches); the first failure aborts
 * the other pieces.
 */
async function predictRows(batcher: Batcher, x: Tensor, signal: AbortSignal, timeoutMs: number): Promise<Tensor> {
  const n = x.shape[0];
  if (n <= batcher.maxBatchSize) return batcher.predict(x, { signal, timeoutMs });
  const pieces = new AbortController();
  // Every piece's batcher request listens on this signal.
  setMaxListeners(Math.ceil(n / batcher.maxBatchSize) + 1, pieces.signal);
  const onAbort = (): void => pieces.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const parts: Promise<Tensor>[] = [];
    for (let start = 0; start < n; start += batcher.maxBatchSize) {
      const part = batcher.predict(x.slice(start, start + batcher.maxBatchSize), { signal: pieces.signal, timeoutMs });
      part.catch(() => pieces.abort());
      parts.push(part);
    }
    const ys = await Promise.all(parts);
    const data = new Float32Array(ys.reduce((s, y) => s + y.size, 0));
    let offset = 0;
    for (const y of ys) {
      data.set(y.data, offset);
      offset += y.size;
    }
    return new Tensor(data, [n, ...ys[0].shape.slice(1)]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** The body, at most maxBytes (413 past that: a content-length over it is refused unread,
 * a body that grows past it stops being buffered). */
function readBody(req: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxBytes)
    return Promise.reject(tooLarge(`the body is ${declared} bytes, more than maxBodyBytes (${maxBytes})`));
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: Error | null): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', finish);
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolveBody(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) finish(tooLarge(`the body is more than maxBodyBytes (${maxBytes} bytes)`));
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(null);
    const onAbort = (): void => finish(new Error('the client closed the connection'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', finish);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** 413, and the connection closes after it (the rest of the body is not read into memory). */
function tooLarge(message: string): HttpError {
  return new HttpError(413, message, { connection: 'close' });
}

function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** `{"inputs": number[] | rows}`: one sample, flat, or rows, each flat or nested as the sample. */
function jsonInputs(body: Buffer, sampleShape: number[], sampleSize: number): Tensor {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON: ${(e as Error).message}`);
  }
  const inputs = (value as { inputs?: unknown } | null)?.inputs;
  if (typeof value !== 'object' || value === null || !Array.isArray(inputs) || inputs.length === 0)
    throw new HttpError(
      400,
      `expected {"inputs": [...]}: one sample of ${sampleSize} numbers (shape ${describeShape(sampleShape)}) or an array of rows`,
    );
  // No arrays inside: one flat sample (its values are checked below).
  const rows: unknown[] = inputs.some((v) => Array.isArray(v)) ? inputs : [inputs];
  const data = new Float32Array(rows.length * sampleSize);
  rows.forEach((row, i) => {
    const where = rows === inputs ? `inputs[${i}]` : 'inputs';
    const flat = flattenSample(row, sampleShape, sampleSize);
    if (!flat)
      throw new HttpError(
        400,
        `${where}: expected ${sampleSize} numbers, flat or nested as the sample shape ${describeShape(sampleShape)}, got ${describeJson(row)}`,
      );
    for (let j = 0; j < sampleSize; j++) {
      const v = flat[j];
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new HttpError(
          400,
          `${where}: element ${j} is ${typeof v === 'number' ? v : JSON.stringify(v)}, not a finite number`,
        );
      data[i * sampleSize + j] = v;
    }
  });
  return new Tensor(data, [rows.length, ...sampleShape]);
}

/** The sample's values in order, when `row` is a flat array of sampleSize values or nested
 * exactly as sampleShape; null otherwise. Values are checked by the caller. */
function flattenSample(row: unknown, sampleShape: number[], sampleSize: number): unknown[] | null {
  if (!Array.isArray(row)) return null;
  if (row.length === sampleSize && row.every((v) => !Array.isArray(v))) return row;
  const out: unknown[] = [];
  const walk = (v: unknown, axis: number): boolean => {
    if (axis === sampleShape.length) {
      if (Array.isArray(v)) return false;
      out.push(v);
      return true;
    }
    return Array.isArray(v) && v.length === sampleShape[axis] && v.every((w) => walk(w, axis + 1));
  };
  return walk(row, 0) ? out : null;
}

function describeJson(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return v === null ? 'null' : typeof v;
}

/** Raw little-endian float32, r * sampleSize of them. */
function binaryInputs(body: Buffer, sampleShape: number[], sampleSize: number): Tensor {
  const rowBytes = sampleSize * 4;
  if (body.length === 0 || body.length % rowBytes !== 0)
    throw new HttpError(
      400,
      `the body is ${body.length} bytes; expected a positive multiple of ${rowBytes} (float32 rows of shape ${describeShape(sampleShape)})`,
    );
  const data = new Float32Array(body.length / 4);
  if (LITTLE_ENDIAN) new Uint8Array(data.buffer).set(body);
  else for (let i = 0; i < data.length; i++) data[i] = body.readFloatLE(i * 4);
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i]))
      throw new HttpError(400, `float ${i} of the body (row ${Math.floor(i / sampleSize)}) is ${data[i]}, not finite`);
  return new Tensor(data, [data.length / sampleSize, ...sampleShape]);
}

function float32ToBytes(data: Float32Array | Int32Array): Buffer {
  const f = data instanceof Float32Array ? data : Float32Array.from(data);
  if (LITTLE_ENDIAN) return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
  const out = Buffer.alloc(f.length * 4);
  f.forEach((v, i) => out.writeFloatLE(v, i * 4));
  return out;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: message }, headers);
}

// ---- the command line ---------------------------------------------------------------------

const USAGE = `usage: npx tsx examples/serve.ts [--model FILE.axon|FILE.onnx] [options]

  --model PATH        a saved model (Model.save) or an ONNX file; without it, a tiny demo
                      model is trained at start (4 inputs, 3 classes)
  --input-shape A,B   one sample's shape, for a model file that does not record it
  --host HOST         default 127.0.0.1
  --port N            default 8080 (0: any free port)
  --max-batch N       rows per forward (default 32)
  --max-delay-ms MS   how long a request waits for company (default 2)
  --max-queue N       waiting requests before 503 (default 1024)
  --timeout-ms MS     per request, queue and forward (default 30000), 504 after
  --help              this text

SIGTERM or SIGINT: stop accepting, answer the requests in flight, exit 0.`;

async function loadPredictor(
  path: string | undefined,
  inputShape: number[] | undefined,
): Promise<{ predictor: Model | OnnxSession; sampleShape: number[]; what: string }> {
  if (!path) {
    // 3 classes by which of the first three inputs is largest: learnable in a few epochs.
    const x = randn([512, 4], { seed: 1 });
    const labels = Int32Array.from({ length: 512 }, (_, i) => {
      const [a, b, c] = x.data.subarray(i * 4, i * 4 + 3);
      return a >= b && a >= c ? 0 : b >= c ? 1 : 2;
    });
    const y = new Tensor(labels, [512]);
    const model = new Model(new Sequential(new Linear(4, 16, { activation: 'relu' }), new Linear(16, 3)));
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', learningRate: 1e-2 });
    await model.fit(x, y, { epochs: 5, batchSize: 32, verbose: 0, seed: 1 });
    return { predictor: model, sampleShape: [4], what: 'a demo model (4 inputs, 3 logits)' };
  }
  if (path.toLowerCase().endsWith('.onnx')) {
    const session = await loadOnnx(path);
    const shape = session.inputs[0]?.shape;
    if (session.inputs.length !== 1 || !shape)
      throw new Error(`${path}: expected one input with a declared shape, got ${JSON.stringify(session.inputs)}`);
    const sample = shape.slice(1);
    if (!sample.every((d): d is number => typeof d === 'number'))
      throw new Error(
        `${path}: the input '${session.inputs[0].name}' has shape [${shape.join(', ')}]; only the batch axis may be symbolic`,
      );
    return { predictor: session, sampleShape: sample, what: `${path} (ONNX)` };
  }
  const model = await Model.load(path, inputShape ? { inputShape } : {});
  const spec = model.inputSpec;
  if (!spec) throw new Error(`${path}: the file does not record its input shape; pass --input-shape (e.g. 1,28,28)`);
  if (spec.dtype !== 'float32') throw new Error(`${path}: takes ${spec.dtype} inputs; this server sends float32`);
  return { predictor: model, sampleShape: spec.shape.slice(), what: path };
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      model: { type: 'string' },
      'input-shape': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8080' },
      'max-batch': { type: 'string', default: '32' },
      'max-delay-ms': { type: 'string', default: '2' },
      'max-queue': { type: 'string', default: '1024' },
      'timeout-ms': { type: 'string', default: '30000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const inputShape = args['input-shape']?.split(',').map(Number);
  const { predictor, sampleShape, what } = await loadPredictor(args.model, inputShape);
  const app = createInferenceServer({
    predictor,
    sampleShape,
    batcher: {
      maxBatchSize: Number(args['max-batch']),
      maxDelayMs: Number(args['max-delay-ms']),
      maxQueue: Number(args['max-queue']),
    },
    timeoutMs: Number(args['timeout-ms']),
  });
  const { port } = await app.listen(Number(args.port), args.host);
  console.log(`serving ${what}, sample shape [${sampleShape.join(', ')}]`);
  console.log(`listening on http://${args.host}:${port}`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      console.error(`${signal} again: exiting without draining`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: draining in-flight requests`);
    app.close().then(
      () => {
        console.log('drained, bye');
        process.exit(0);
      },
      (e) => {
        console.error(`shutdown failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
