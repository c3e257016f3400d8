/**
 * The HTTP inference server (examples/serve.ts): every route and error, JSON and binary bodies
 * against model.predict, the Prometheus text, coalescing seen in the batch-size histogram,
 * client disconnects, graceful close, an ONNX predictor, and the command line (a model file,
 * the "listening" line, one request, SIGTERM, exit 0).
 *   npx vitest run tests/serve.test.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_NODE_ARGS } from './run-example.js';
import { createInferenceServer, type InferenceServer } from '../examples/serve.js';
import {
  exportOnnxBytes,
  Linear,
  loadOnnx,
  Model,
  randn,
  Sequential,
  Tensor,
  tensor,
  type BatchPredictor,
} from '../src/index.js';

const root = join(import.meta.dirname, '..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function smallModel(): Model {
  return new Model(new Sequential(new Linear(4, 16, { activation: 'relu' }), new Linear(16, 3)));
}

async function start(options: Parameters<typeof createInferenceServer>[0]) {
  const app = createInferenceServer({ defaultMetrics: false, ...options });
  const { port } = await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${port}`, port };
}

function postJson(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

interface Answer {
  outputs: number[][];
  shape: number[];
  error: string;
}
function readJson(res: Response): Promise<Answer> {
  return res.json() as Promise<Answer>;
}

function toBytes(x: Tensor): Uint8Array {
  const f = x.data as Float32Array;
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** `name{labels} value` lines of a Prometheus text page (comments skipped). */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

/** A predictor that holds each batch until released. */
function gated() {
  const calls: { x: Tensor; release(): void }[] = [];
  const predictor: BatchPredictor = (x) => new Promise((resolve) => calls.push({ x, release: () => resolve(x) }));
  return { calls, predictor };
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

describe('a server around a Model', () => {
  const model = smallModel();
  let app: InferenceServer;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await start({
      predictor: model,
      sampleShape: [4],
      batcher: { maxBatchSize: 8, maxDelayMs: 20 },
      maxBodyBytes: 4096,
      defaultMetrics: true,
    }));
  });
  afterAll(() => app.close());

  it('answers JSON for one flat sample and for rows, equal to model.predict', async () => {
    const x = randn([3, 4], { seed: 5 });
    const one = await postJson(url, { inputs: Array.from(x.data.subarray(0, 4)) });
    expect(one.status).toBe(200);
    expect(one.headers.get('content-type')).toBe('application/json');
    const body1 = await readJson(one);
    expect(body1.shape).toEqual([1, 3]);
    // Alone in its batch: the forward over exactly these rows, so bitwise.
    expect(body1.outputs).toEqual([Array.from((await model.predict(x.slice(0, 1))).data)]);

    const rows = await postJson(url, { inputs: x.toArray() });
    const body3 = await readJson(rows);
    expect(body3.shape).toEqual([3, 3]);
    expect(body3.outputs.flat()).toEqual(Array.from((await model.predict(x)).data));

    // Rows may also be nested as the sample shape: here [4] is already flat; a [2, 2] sample is
    // checked in the ONNX test below.
  });

  it('answers raw float32 for an octet-stream body, with x-output-shape', async () => {
    const x = randn([2, 4], { seed: 6 });
    const res = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: toBytes(x),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('x-output-shape')).toBe('2,3');
    const got = new Float32Array(await res.arrayBuffer());
    expect(Array.from(got)).toEqual(Array.from((await model.predict(x)).data));
  });

  it('splits a request with more rows than maxBatchSize across forwards', async () => {
    const x = randn([20, 4], { seed: 7 });
    const res = await postJson(url, { inputs: x.toArray() });
    expect(res.status).toBe(200);
    const body = await readJson(res);
    expect(body.shape).toEqual([20, 3]);
    // Pieces of 8, 8 and 4 rows: equal to one forward up to the GEMM's blocking.
    expect(maxAbsDiff(body.outputs.flat(), (await model.predict(x)).data)).toBeLessThan(1e-5);
  });

  it('answers bad requests with 4xx JSON errors', async () => {
    const cases: [Promise<Response>, number, RegExp][] = [
      [postJson(url, '{"inputs": [1, 2,'), 400, /not valid JSON/],
      [postJson(url, { input: [1, 2, 3, 4] }), 400, /expected \{"inputs": \[\.\.\.\]\}.*4 numbers.*\[4\]/],
      [postJson(url, { inputs: [] }), 400, /expected \{"inputs"/],
      [postJson(url, { inputs: [1, 2, 3] }), 400, /inputs: expected 4 numbers.*got an array of 3/],
      [
        postJson(url, {
          inputs: [
            [1, 2, 3, 4],
            [1, 2],
          ],
        }),
        400,
        /inputs\[1\]: expected 4 numbers/,
      ],
      [postJson(url, { inputs: [[1, 2, 3, 4], 5] }), 400, /inputs\[1\]: expected 4 numbers.*got number/],
      [postJson(url, '{"inputs": [1, 2, 3, 1e999]}'), 400, /element 3 is Infinity, not a finite number/],
      [postJson(url, { inputs: [1, 2, 'x', 4] }), 400, /element 2 is "x", not a finite number/],
      [
        fetch(`${url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: new Uint8Array(20),
        }),
        400,
        /20 bytes; expected a positive multiple of 16/,
      ],
      [
        fetch(`${url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: toBytes(tensor([[1, 2, NaN, 4]])),
        }),
        400,
        /float 2 of the body \(row 0\) is NaN/,
      ],
      [
        fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '1,2,3,4' }),
        415,
        /application\/json or application\/octet-stream, got text\/plain/,
      ],
      [postJson(url, { inputs: new Array(3000).fill(0) }), 413, /more than maxBodyBytes \(4096\)/],
      [fetch(`${url}/predict`), 405, /\/predict takes POST, got GET/],
      [fetch(`${url}/metrics`, { method: 'POST' }), 405, /takes GET/],
      [fetch(`${url}/nope`), 404, /no route GET \/nope/],
    ];
    for (const [response, status, message] of cases) {
      const res = await response;
      expect(res.status, String(message)).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect((await readJson(res)).error).toMatch(message);
    }
    expect((await fetch(`${url}/predict`)).headers.get('allow')).toBe('POST');
  });

  it('refuses more rows than maxRows with 413, and maxRows the batcher could never admit at creation', async () => {
    const predictor: BatchPredictor = async (x) => x;
    const small = await start({ predictor, sampleShape: [2], maxRows: 5, batcher: { maxBatchSize: 2, maxDelayMs: 0 } });
    try {
      const ok = await postJson(small.url, { inputs: new Array(5).fill([1, 2]) });
      expect(ok.status).toBe(200);
      const tooMany = await postJson(small.url, { inputs: new Array(6).fill([1, 2]) });
      expect(tooMany.status).toBe(413);
      expect((await readJson(tooMany)).error).toMatch(/6 rows; this server takes at most 5 per request/);
    } finally {
      await small.app.close();
    }
    expect(() =>
      createInferenceServer({ predictor, sampleShape: [2], maxRows: 100, batcher: { maxBatchSize: 2, maxQueue: 10 } }),
    ).toThrow(/maxRows 100 needs 50 batcher requests, more than its maxQueue 10/);
  });

  it('refuses a chunked body that grows past maxBodyBytes with 413', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${url}/predict`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.write('{"inputs": [');
      for (let i = 0; i < 8; i++) req.write('0,'.repeat(512));
      req.end('0]}');
    });
    expect(status).toBe(413);
    expect(JSON.parse(body).error).toMatch(/more than maxBodyBytes \(4096 bytes\)/);
  });

  it('coalesces concurrent requests (the batch-size histogram shows a batch > 1)', async () => {
    const x = randn([6, 4], { seed: 8 });
    const before = parseMetrics(await (await fetch(`${url}/metrics`)).text());
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => postJson(url, { inputs: Array.from(x.data.subarray(i * 4, i * 4 + 4)) })),
    );
    const want = await model.predict(x);
    for (let i = 0; i < 6; i++) {
      expect(responses[i].status).toBe(200);
      const got = (await readJson(responses[i])).outputs[0];
      expect(maxAbsDiff(got, want.data.subarray(i * 3, i * 3 + 3))).toBeLessThan(1e-5);
    }
    const after = parseMetrics(await (await fetch(`${url}/metrics`)).text());
    const batches = after.get('axon_batch_size_rows_count')! - before.get('axon_batch_size_rows_count')!;
    const rows = after.get('axon_batch_size_rows_sum')! - before.get('axon_batch_size_rows_sum')!;
    expect(rows).toBe(6);
    expect(batches).toBeLessThan(6);
    const singles =
      after.get('axon_batch_size_rows_bucket{le="1"}')! - before.get('axon_batch_size_rows_bucket{le="1"}')!;
    expect(singles).toBeLessThan(batches);
  });

  it('serves /healthz and Prometheus /metrics with counts, latency, queue depth and process metrics', async () => {
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok');
    const before = parseMetrics(await (await fetch(`${url}/metrics`)).text());
    const ok = 'axon_http_requests_total{route="/predict",method="POST",status="200"}';
    const bad = 'axon_http_requests_total{route="/predict",method="POST",status="400"}';
    await postJson(url, { inputs: [1, 2, 3, 4] });
    await postJson(url, { inputs: [1, 2, 3, 4] });
    await postJson(url, { inputs: [1] });
    await fetch(`${url}/nowhere`);
    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const after = parseMetrics(await res.text());
    expect(after.get(ok)! - (before.get(ok) ?? 0)).toBe(2);
    expect(after.get(bad)! - (before.get(bad) ?? 0)).toBe(1);
    expect(after.get('axon_http_requests_total{route="other",method="GET",status="404"}')).toBeGreaterThanOrEqual(1);
    expect(after.get('axon_http_requests_total{route="/healthz",method="GET",status="200"}')).toBeGreaterThanOrEqual(1);
    const latencyCount = 'axon_http_request_duration_seconds_count{route="/predict"}';
    expect(after.get(latencyCount)! - before.get(latencyCount)!).toBe(3);
    expect(after.get('axon_http_request_duration_seconds_bucket{le="+Inf",route="/predict"}')).toBe(
      after.get(latencyCount),
    );
    expect(after.get('axon_batcher_queue_depth')).toBe(0);
    expect(after.get('axon_batcher_in_flight')).toBe(0);
    expect(after.get('process_resident_memory_bytes')).toBeGreaterThan(1e6);
    expect(after.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(after.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
  });
});

describe('load, disconnects and shutdown', () => {
  it('answers 503 with retry-after when the batcher queue is full', async () => {
    const { calls, predictor } = gated();
    const { app, url } = await start({
      predictor,
      sampleShape: [2],
      batcher: { maxBatchSize: 1, maxDelayMs: 0, maxQueue: 1, maxInFlight: 1 },
    });
    const running = postJson(url, { inputs: [1, 2] });
    await until(() => calls.length === 1, 'the first forward');
    const queued = postJson(url, { inputs: [3, 4] });
    await until(() => app.batcher.queueDepth === 1, 'the second request to queue');
    const refused = await postJson(url, { inputs: [5, 6] });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await readJson(refused)).error).toMatch(/overloaded.*maxQueue 1/);
    calls[0].release();
    await until(() => calls.length === 2, 'the second forward');
    calls[1].release();
    expect((await readJson(await running)).outputs).toEqual([[1, 2]]);
    expect((await readJson(await queued)).outputs).toEqual([[3, 4]]);
    await app.close();
  });

  it('answers 504 when a request outlives timeoutMs', async () => {
    const { calls, predictor } = gated();
    const { app, url } = await start({ predictor, sampleShape: [2], timeoutMs: 50, batcher: { maxDelayMs: 0 } });
    const res = await postJson(url, { inputs: [1, 2] });
    expect(res.status).toBe(504);
    expect((await readJson(res)).error).toMatch(/timed out after 50 ms/);
    calls[0].release();
    await app.close();
  });

  it('aborts the batcher request of a client that disconnects, and counts it as 499', async () => {
    const { calls, predictor } = gated();
    const { app, url } = await start({ predictor, sampleShape: [2], batcher: { maxDelayMs: 10_000 } });
    const controller = new AbortController();
    const pending = postJson(url, { inputs: [1, 2] }, { signal: controller.signal }).catch((e: Error) => e);
    await until(() => app.batcher.queueDepth === 1, 'the request to queue');
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    await until(() => app.batcher.stats().aborted === 1, 'the batcher to see the abort');
    expect(app.batcher.queueDepth).toBe(0);
    const metrics = parseMetrics(await (await fetch(`${url}/metrics`)).text());
    expect(metrics.get('axon_http_requests_total{route="/predict",method="POST",status="499"}')).toBe(1);
    expect(calls.length).toBe(0);
    await app.close();
  });

  it('close() answers the request in flight, turns /healthz 503, then stops', async () => {
    const { calls, predictor } = gated();
    const { app, url, port } = await start({ predictor, sampleShape: [2], batcher: { maxDelayMs: 0 } });
    const inFlight = postJson(url, { inputs: [7, 8] });
    await until(() => calls.length === 1, 'the forward');
    // A second connection, its request begun before close() and finished after it, asks for
    // /healthz while draining (a request the server had not started on would be refused).
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.on('connect', resolve));
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n');
    let answer = '';
    socket.on('data', (d) => (answer += d));
    const socketClosed = new Promise((resolve) => socket.on('close', resolve));
    await sleep(10);
    let closed = false;
    const closing = app.close().then(() => (closed = true));
    socket.write('\r\n');
    await socketClosed;
    expect(answer).toMatch(/^HTTP\/1\.1 503 [^]*connection: close[^]*draining/i);
    await sleep(20);
    expect(closed).toBe(false);
    calls[0].release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect((await readJson(res)).outputs).toEqual([[7, 8]]);
    await closing;
    expect(app.server.listening).toBe(false);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

describe('other predictors', () => {
  it('serves an OnnxSession, rows nested as the sample shape', async () => {
    const model = new Model(new Sequential(new Linear(4, 5)));
    const session = await loadOnnx(exportOnnxBytes(model, { inputShape: [4] }).bytes);
    const { app, url } = await start({ predictor: session, sampleShape: [4] });
    const x = randn([2, 4], { seed: 9 });
    const res = await postJson(url, { inputs: x.toArray() });
    expect(res.status).toBe(200);
    const body = await readJson(res);
    expect(body.outputs.flat()).toEqual(Array.from((await session.run({ input: x })).output.data));
    await app.close();
  });

  it('takes rows nested as a multi-axis sample shape', async () => {
    const { app, url } = await start({ predictor: async (x) => x, sampleShape: [2, 2] });
    const res = await postJson(url, {
      inputs: [
        [
          [1, 2],
          [3, 4],
        ],
        [5, 6, 7, 8],
      ],
    });
    expect(await readJson(res)).toEqual({
      outputs: [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ],
      shape: [2, 2, 2],
    });
    const bad = await postJson(url, { inputs: [[[1, 2, 3], [4]]] });
    expect((await readJson(bad)).error).toMatch(
      /inputs\[0\]: expected 4 numbers, flat or nested as the sample shape \[2, 2\]/,
    );
    await app.close();
  });

  it('answers 500 with the error when the forward fails', async () => {
    const { app, url } = await start({
      predictor: async () => {
        throw new Error('weights on fire');
      },
      sampleShape: [1],
    });
    const res = await postJson(url, { inputs: [1] });
    expect(res.status).toBe(500);
    expect((await readJson(res)).error).toBe('the forward failed: weights on fire');
    await app.close();
  });

  it('checks its options', () => {
    const predictor: BatchPredictor = async (x) => x;
    expect(() => createInferenceServer({ predictor, sampleShape: [0] })).toThrow(/sampleShape must be positive/);
    expect(() => createInferenceServer({ predictor, sampleShape: [2], maxBodyBytes: 0 })).toThrow(/maxBodyBytes/);
    expect(() => createInferenceServer({ predictor, sampleShape: [2], timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(() => createInferenceServer({ predictor, sampleShape: [2], batcher: { maxBatchSize: 0 } })).toThrow(
      /createBatcher: maxBatchSize/,
    );
  });
});

describe('the command line', () => {
  const tsx = [process.execPath, ...EXAMPLE_NODE_ARGS, 'examples/serve.ts'];

  it('prints its usage with --help', () => {
    const r = spawnSync(tsx[0], [...tsx.slice(1), '--help'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/usage: npx tsx examples\/serve\.ts/);
    expect(r.stdout).toMatch(/--max-delay-ms/);
  });

  it('serves a saved model file, then drains and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-serve-'));
    try {
      const model = smallModel();
      const x = randn([1, 4], { seed: 10 });
      const want = await model.predict(x); // also records the input shape the file stores
      const file = join(dir, 'model.axon');
      await model.save(file);
      const child = spawn(tsx[0], [...tsx.slice(1), '--model', file, '--port', '0', '--max-delay-ms', '1'], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        await until(
          () => /listening on http:\/\/127\.0\.0\.1:\d+/.test(stdout) || child.exitCode !== null,
          'listening',
          60_000,
        );
        expect(stdout, stderr).toMatch(/serving .*model\.axon, sample shape \[4\]/);
        const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)![1];
        const res = await postJson(`http://127.0.0.1:${port}`, { inputs: Array.from(x.data) });
        expect(res.status).toBe(200);
        expect((await readJson(res)).outputs).toEqual([Array.from(want.data)]);
        child.kill('SIGTERM');
        expect(await exited, stderr).toBe(0);
        expect(stdout).toMatch(/SIGTERM: draining in-flight requests\ndrained, bye/);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
