/**
 * The process group: `init()` starts MPI (through the optional addon, see ./mpi.ts) and sizes
 * the kernel thread pool for the ranks sharing this node; rank/size queries; and the
 * collectives over tensors and typed arrays, each a Promise settled off the event loop.
 * Launch with `mpirun -np 2 node train.js` (docs/DISTRIBUTED.md). Tests: tests/distributed.
 */
import { cpus, hostname } from 'node:os';
import { inspect } from 'node:util';
import { backendInfo, setNumThreads } from '../backend.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys, optionKeys } from '../options.js';
import { loadMpi, mpiUnavailableReason, type MpiBinding, type MpiInitInfo, type ReduceOp } from './mpi.js';

export type { ReduceOp };

/**
 * Options of {@link init}: the kernel threads of this rank and the default collective timeout.
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * const options: distributed.InitOptions = { threads: 4, timeoutMs: 60_000 };
 * const { rank, size, threads } = await distributed.init(options);
 * console.log(`rank ${rank} of ${size}, ${threads} kernel threads`);
 * ```
 */
export interface InitOptions {
  /**
   * Kernel threads for this rank: a number, or 'auto' (default): the CPUs this process may use
   * when the launcher bound it to its own set, else the machine's CPUs divided by the ranks on
   * this node (at least 1), so ranks sharing a node do not oversubscribe it. AXON_NUM_THREADS,
   * when set, wins over 'auto'.
   */
  threads?: number | 'auto';
  /**
   * Default limit for every collective, in ms (0: none). Past it the call rejects with an
   * error naming the likely cause (a dead or stuck rank, mismatched calls) instead of hanging.
   * Default: AXON_MPI_TIMEOUT_MS or 300000 (5 minutes, room for a slow checkpoint write on rank 0).
   */
  timeoutMs?: number;
}
const INIT_KEYS = optionKeys<InitOptions>({ threads: true, timeoutMs: true });

/**
 * What {@link init} resolves to: this process's place in the job (rank, size, rank and count on
 * its node), the MPI library and thread level, and the kernel threads it set.
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * const info: distributed.DistributedInfo = await distributed.init();
 * if (info.rank === 0) console.log(`${info.size} ranks (${info.localSize} on this node), ${info.library}`);
 * ```
 */
export interface DistributedInfo extends MpiInitInfo {
  /** Kernel threads this rank now uses. */
  threads: number;
}

let mpi: MpiBinding | null = null;
let info: DistributedInfo | null = null;
/** Every rank's host name, by rank (gathered at init), for errors that name a rank. */
let hosts: string[] = [];

/** A collective's error with the hosts of the ranks it names: "waiting on rank 1" gains "(rank
 * 1 runs on node07)", and the message says which rank and host report it. */
function withHosts(e: unknown): never {
  if (!(e instanceof Error) || hosts.length === 0 || !info) throw e;
  const named = new Set<number>();
  for (const m of e.message.matchAll(/waiting on rank (\d+)/g)) named.add(Number(m[1]));
  const where = [...named].filter((r) => hosts[r] !== undefined).map((r) => `rank ${r} runs on ${hosts[r]}`);
  where.push(`reported by rank ${info.rank} on ${hosts[info.rank]}`);
  e.message = `${e.message} (${where.join('; ')})`;
  throw e;
}
let defaultTimeout = 300_000;
let initializing: Promise<DistributedInfo> | null = null;

/**
 * Whether MPI support is built: the optional addon exists and loads. It does not start MPI
 * (see {@link init}); {@link mpiUnavailableReason} says why when it is false.
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * if (distributed.isAvailable()) await distributed.init();
 * else console.warn(`training on one process: ${distributed.mpiUnavailableReason()}`);
 * ```
 */
export function isAvailable(): boolean {
  return loadMpi() !== null;
}

function requireMpi(op: string): MpiBinding {
  const m = loadMpi();
  if (!m) throw new Error(`distributed.${op}: ${mpiUnavailableReason()}`);
  return m;
}

/**
 * Milliseconds the comm thread has spent running allreduces since init (0 before init): the
 * busy time against which data parallelism reports the share backward hid. @internal
 */
export function allreduceBusyMs(): number {
  return mpi ? mpi.commStats().allreduceNs / 1e6 : 0;
}

/** The share of `busyMs` of reduction that was not waited for: 1 - exposed / busy, in [0, 1]. @internal */
export function hiddenShare(exposedMs: number, busyMs: number): number {
  return busyMs > 0 ? Math.min(1, Math.max(0, 1 - exposedMs / busyMs)) : 0;
}

function requireInit(op: string): { mpi: MpiBinding; info: DistributedInfo } {
  if (!mpi || !info) throw new Error(`distributed.${op}: call await distributed.init() first`);
  return { mpi, info };
}

function checkTimeout(op: string, t: number | undefined): number {
  if (t === undefined) return defaultTimeout;
  if (!(typeof t === 'number' && t >= 0 && Number.isFinite(t)))
    throw new RangeError(`distributed.${op}: timeoutMs must be a number of milliseconds >= 0 (0: none), got ${t}`);
  return t;
}

/**
 * Starts MPI (MPI_Init_thread on the addon's comm thread) once per process; later calls
 * return the same info. Sets this rank's kernel threads (see InitOptions.threads) and, at
 * process exit, finalizes MPI, or aborts the whole job when this process exits with an error,
 * so the other ranks stop instead of waiting for it.
 * @returns rank, size, localRank, localSize, the MPI library and the thread count.
 * @throws (rejects) when the MPI addon is not built, MPI fails to start, or threads or timeoutMs
 *   is out of range; an unknown option key throws at the call.
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * const { rank, size } = await distributed.init();
 * console.log(`rank ${rank} of ${size}`);
 * ```
 */
export function init(options: InitOptions = {}): Promise<DistributedInfo> {
  checkOptionKeys('distributed.init', options, INIT_KEYS);
  if (info) return Promise.resolve(info);
  if (initializing) return initializing;
  const run = async (): Promise<DistributedInfo> => {
    const m = requireMpi('init');
    const threads = options.threads ?? 'auto';
    if (threads !== 'auto' && !(Number.isInteger(threads) && threads >= 1))
      throw new RangeError(`distributed.init: threads must be a positive integer or 'auto', got ${threads}`);
    const envTimeout = process.env.AXON_MPI_TIMEOUT_MS;
    defaultTimeout = checkTimeout('init', options.timeoutMs ?? (envTimeout ? Number(envTimeout) : 300_000));
    const got = await m.init();
    // Node emits 'exit' for an uncaught error before it prints the error, and MPI_Abort ends
    // the process at once: keep the error to print it first, or the rank dies silently.
    let fatal: { error: unknown } | null = null;
    process.on('uncaughtExceptionMonitor', (error) => {
      fatal ??= { error };
    });
    process.on('exit', (code) => {
      // The error first, whatever the MPI state: after a failed collective shutdown() aborts
      // the job too, and mpirun would show only "MPI_ABORT was invoked".
      if (code !== 0 && fatal) process.stderr.write(`rank ${got.rank} on ${hostname()}: ${inspect(fatal.error)}\n`);
      // A failing rank must not sit in MPI_Finalize (a collective in Open MPI) while the others
      // wait for it in a reduction: abort the job instead, which mpirun reports and stops.
      if (code !== 0 && m.state() === 'ready') m.abort(code);
      m.shutdown();
    });
    let n: number;
    if (threads !== 'auto') n = threads;
    else if (process.env.AXON_NUM_THREADS) n = backendInfo().threads;
    else {
      // The CPUs this process may use: when the launcher bound the rank (Slurm's
      // --cpus-per-task, mpirun --map-by slot:PE=n) that set is already this rank's share;
      // only when it is the whole machine do the node's ranks split it.
      const avail = backendInfo().availableCpus;
      const shared = avail >= cpus().length;
      n = Math.max(1, shared ? Math.floor(avail / Math.max(1, got.localSize)) : avail);
    }
    setNumThreads(n);
    // Host names by rank, so a collective's error can say where the rank it waited on runs.
    const name = new TextEncoder().encode(hostname()).subarray(0, 63);
    const mine = new Uint8Array(64);
    mine.set(name);
    const all = new Uint8Array(64 * got.size);
    await m.allgather(mine, all, defaultTimeout);
    hosts = Array.from({ length: got.size }, (_, r) =>
      new TextDecoder().decode(all.subarray(64 * r, 64 * r + 64)).replace(/\0+$/, ''),
    );
    mpi = m;
    info = { ...got, threads: n };
    return info;
  };
  initializing = run().finally(() => {
    initializing = null;
  });
  return initializing;
}

/**
 * Whether {@link init} has completed in this process (it stays true after {@link finalize}).
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * if (!distributed.isInitialized()) await distributed.init();
 * ```
 */
export function isInitialized(): boolean {
  return info !== null;
}

/**
 * This process's rank, 0 to size() - 1 (0 when MPI is not initialized: a single process is
 * rank 0 of 1), like `torch.distributed.get_rank`.
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * console.log(distributed.rank(), distributed.size()); // 0 1 before init() or without mpirun
 * ```
 */
export function rank(): number {
  return info?.rank ?? 0;
}

/**
 * Number of processes in the job (1 when MPI is not initialized), like
 * `torch.distributed.get_world_size`.
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const batchPerRank = Math.ceil(64 / distributed.size()); // global batch 64 whatever the rank count
 * ```
 */
export function size(): number {
  return info?.size ?? 1;
}

/**
 * Rank among the processes on this node, 0 to localSize() - 1 (0 when MPI is not initialized).
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * if (distributed.localRank() === 0) console.log(`this node runs ${distributed.localSize()} ranks`);
 * ```
 */
export function localRank(): number {
  return info?.localRank ?? 0;
}

/**
 * Number of processes on this node (1 when MPI is not initialized); init() divides the node's
 * CPUs among them.
 *
 * @example
 * ```ts
 * import { distributed, backendInfo } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * console.log(`${distributed.localSize()} ranks here, ${backendInfo().threads} threads each`);
 * ```
 */
export function localSize(): number {
  return info?.localSize ?? 1;
}

/**
 * True on rank 0 (and in a process without MPI): the rank that writes files and logs.
 *
 * @example
 * ```ts
 * import { distributed, Model, Sequential, Linear } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const model = new Model(new Sequential(new Linear(8, 1)));
 * if (distributed.isMainProcess()) await model.save('model.axon');
 * ```
 */
export function isMainProcess(): boolean {
  return rank() === 0;
}

/**
 * Options of one collective call (barrier, broadcast, allreduce, allgather).
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const options: distributed.CollectiveOptions = { timeoutMs: 30_000 };
 * await distributed.barrier(options); // rejects after 30 s if a rank never arrives
 * ```
 */
export interface CollectiveOptions {
  /** Limit in ms for this call (default: init's timeoutMs). */
  timeoutMs?: number;
}
const COLLECTIVE_KEYS = optionKeys<CollectiveOptions>({ timeoutMs: true });

/**
 * Options of {@link allreduce}: the collective's limit, and what goes on the wire.
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const options: distributed.AllreduceOptions = { compression: 'bf16', timeoutMs: 30_000 };
 * await distributed.allreduce(new Float32Array(1 << 20), 'mean', options); // half the bytes on the wire
 * ```
 */
export interface AllreduceOptions extends CollectiveOptions {
  /**
   * 'bf16': send bfloat16 (float32's top 16 bits, rounded to nearest even) and accumulate in
   * float32, halving the bytes on the wire; the result carries bf16's 8-bit mantissa (about 3
   * significant digits) and is the same bits on every rank. float32 buffers with 'sum' or
   * 'mean' only. Default 'none' (exact float32).
   */
  compression?: 'none' | 'bf16';
}
const ALLREDUCE_KEYS = optionKeys<AllreduceOptions>({ timeoutMs: true, compression: true });

/**
 * What {@link allreduce} reduces in place: a float32 Tensor (its data), a Float32Array or a
 * Float64Array.
 *
 * @example
 * ```ts
 * import { distributed, tensor } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const averaged = async (x: distributed.Buffer32): Promise<void> => distributed.allreduce(x, 'mean');
 * await averaged(tensor([1, 2, 3]));
 * await averaged(new Float64Array([distributed.rank()]));
 * ```
 */
export type Buffer32 = Tensor | Float32Array | Float64Array;

function bufferOf(op: string, x: Buffer32): Float32Array | Float64Array {
  if (x instanceof Tensor) {
    if (x.dtype !== 'float32') throw new TypeError(`distributed.${op}: expected a float32 tensor, got ${x.dtype}`);
    return x.data as Float32Array;
  }
  if (x instanceof Float32Array || x instanceof Float64Array) return x;
  throw new TypeError(`distributed.${op}: expected a float32 Tensor, a Float32Array or a Float64Array`);
}

/**
 * Resolves once every rank has called barrier, like `torch.distributed.barrier`.
 * @throws (throws) before init(); (rejects) past the timeout.
 *
 * @example
 * ```ts
 * import { distributed, Model, Sequential, Linear } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * if (distributed.isMainProcess()) await new Model(new Sequential(new Linear(4, 1))).save('shared.axon');
 * await distributed.barrier(); // every rank may read shared.axon now
 * const model = await Model.load('shared.axon');
 * ```
 */
export function barrier(options: CollectiveOptions = {}): Promise<void> {
  checkOptionKeys('distributed.barrier', options, COLLECTIVE_KEYS);
  const { mpi: m } = requireInit('barrier');
  return m.barrier(checkTimeout('barrier', options.timeoutMs)).catch(withHosts);
}

/**
 * Replaces x's values on every rank with rank `root`'s (default 0), in place (any typed array
 * or tensor, copied as bytes), like `torch.distributed.broadcast`. Every rank must call it with
 * the same byte size. x must not be used until the promise settles.
 * @throws before init(), or when root is not a rank; (rejects) past the timeout.
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const seed = new Int32Array([distributed.rank() === 0 ? Date.now() % 1e9 : 0]);
 * await distributed.broadcast(seed, 0); // every rank now holds rank 0's seed
 * ```
 */
export function broadcast(x: Tensor | ArrayBufferView, root = 0, options: CollectiveOptions = {}): Promise<void> {
  checkOptionKeys('distributed.broadcast', options, COLLECTIVE_KEYS);
  const { mpi: m, info: i } = requireInit('broadcast');
  if (!Number.isInteger(root) || root < 0 || root >= i.size)
    throw new RangeError(`distributed.broadcast: root must be a rank in [0, ${i.size}), got ${root}`);
  const data = x instanceof Tensor ? x.data : x;
  if (!ArrayBuffer.isView(data)) throw new TypeError('distributed.broadcast: expected a Tensor or a typed array');
  return m.broadcast(data, root, checkTimeout('broadcast', options.timeoutMs)).catch(withHosts);
}

/**
 * Reduces x across ranks in place: 'sum', 'mean' (sum / size), 'max' or 'min', element by
 * element. x (float32 tensor, Float32Array or Float64Array) must have the same length on every
 * rank and must not be used until the promise settles. PyTorch's `all_reduce`.
 * With `compression: 'bf16'` the values cross the network as bfloat16 (see AllreduceOptions).
 * @throws before init(), on another op or buffer type; (rejects) past the timeout.
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const counts = new Float64Array([distributed.rank() === 0 ? 90 : 80, 100]); // [correct, seen]
 * await distributed.allreduce(counts, 'sum');
 * console.log(counts[0] / counts[1]); // 0.85 on every rank of 2
 * ```
 */
export function allreduce(x: Buffer32, op: ReduceOp = 'sum', options: AllreduceOptions = {}): Promise<void> {
  checkOptionKeys('distributed.allreduce', options, ALLREDUCE_KEYS);
  const { mpi: m } = requireInit('allreduce');
  if (op !== 'sum' && op !== 'mean' && op !== 'max' && op !== 'min')
    throw new RangeError(`distributed.allreduce: op must be 'sum', 'mean', 'max' or 'min', got ${String(op)}`);
  const compression = options.compression ?? 'none';
  if (compression !== 'none' && compression !== 'bf16')
    throw new RangeError(`distributed.allreduce: compression must be 'none' or 'bf16', got ${String(compression)}`);
  const data = bufferOf('allreduce', x);
  if (compression === 'bf16' && (!(data instanceof Float32Array) || (op !== 'sum' && op !== 'mean')))
    throw new RangeError(
      `distributed.allreduce: bf16 compression reduces float32 buffers with 'sum' or 'mean' only, got ${data.constructor.name} and '${op}'`,
    );
  return m.allreduce(data, op, checkTimeout('allreduce', options.timeoutMs), compression).catch(withHosts);
}

/**
 * Sums `sums` over every rank in place before returning, for code that cannot await (a
 * synchronized batch norm's eager forward and backward): queued behind the collectives already
 * started, the event loop held until it completes. @internal
 */
export function allreduceSumNow(op: string, sums: Float64Array, timeoutMs?: number): void {
  const { mpi: m } = requireInit(op);
  try {
    m.allreduceSync(sums, 'sum', checkTimeout(op, timeoutMs));
  } catch (e) {
    withHosts(e);
  }
}

/**
 * Every rank's x, stacked by rank: a tensor x of shape S gives [size, ...S] (float32, or int32
 * for an int32 tensor); a typed array gives one of the same type and size x its length. Every
 * rank must pass the same length. Like `torch.distributed.all_gather` into one tensor.
 * @throws before init(); (rejects) past the timeout.
 *
 * @example
 * ```ts
 * import { distributed, tensor } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const r = distributed.rank();
 * const all = await distributed.allgather(tensor([r, 10 * r]));
 * console.log(all.shape); // [2, 2] with 2 ranks: [[0, 0], [1, 10]]
 * ```
 */
export async function allgather<T extends Tensor | ArrayBufferView>(x: T, options: CollectiveOptions = {}): Promise<T> {
  checkOptionKeys('distributed.allgather', options, COLLECTIVE_KEYS);
  const { mpi: m, info: i } = requireInit('allgather');
  const timeout = checkTimeout('allgather', options.timeoutMs);
  if (x instanceof Tensor) {
    const out = new Tensor(x.dtype === 'int32' ? new Int32Array(x.size * i.size) : new Float32Array(x.size * i.size), [
      i.size,
      ...x.shape,
    ]);
    await m.allgather(x.data, out.data, timeout).catch(withHosts);
    return out as T;
  }
  if (!ArrayBuffer.isView(x)) throw new TypeError('distributed.allgather: expected a Tensor or a typed array');
  const Ctor = (x as unknown as { constructor: new (n: number) => ArrayBufferView }).constructor;
  const per = x.byteLength / ((x as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1);
  const out = new Ctor(per * i.size);
  await m.allgather(x, out, timeout).catch(withHosts);
  return out as T;
}

/**
 * Ends MPI in this process (every rank must call it). No collective can run afterwards, and MPI
 * cannot be restarted: a later init() only returns the earlier info. Optional: a normal
 * process exit finalizes too.
 * @throws before init().
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * await distributed.barrier();
 * await distributed.finalize();
 * ```
 */
export async function finalize(): Promise<void> {
  const { mpi: m } = requireInit('finalize');
  await m.finalize();
}

/**
 * Stops every rank of the job now (MPI_Abort) with this exit code (default 1), instead of
 * leaving the other ranks waiting in a collective for this one. Does not return.
 * @throws when the MPI addon is not available.
 *
 * @example
 * ```ts
 * import { existsSync } from 'node:fs';
 * import { distributed } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * if (!existsSync('data/train.csv')) distributed.abort(2); // ends the whole job, not just this rank
 * ```
 */
export function abort(code = 1): never {
  const m = requireMpi('abort');
  return m.abort(code);
}

/**
 * The default collective timeout in ms: init's timeoutMs, else `AXON_MPI_TIMEOUT_MS`, else
 * 300000 (both read by init(); 300000 before it).
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init({ timeoutMs: 120_000 });
 * console.log(distributed.defaultTimeoutMs()); // 120000
 * ```
 */
export function defaultTimeoutMs(): number {
  return defaultTimeout;
}
