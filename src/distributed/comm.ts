/**
 * The process group: `init()` starts MPI (through the optional addon, see ./mpi.ts) and sizes
 * the kernel thread pool for the ranks sharing this node; rank/size queries; and the
 * collectives over tensors and typed arrays, each a Promise settled off the event loop.
 * Launch with `mpirun -np 2 node train.js` (docs/DISTRIBUTED.md). Tests: tests/distributed.
 */
import { cpus } from 'node:os';
import { backendInfo, setNumThreads } from '../backend.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys, optionKeys } from '../options.js';
import { loadMpi, mpiUnavailableReason, type MpiBinding, type MpiInitInfo, type ReduceOp } from './mpi.js';

export type { ReduceOp };

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

export interface DistributedInfo extends MpiInitInfo {
  /** Kernel threads this rank now uses. */
  threads: number;
}

let mpi: MpiBinding | null = null;
let info: DistributedInfo | null = null;
let defaultTimeout = 300_000;
let initializing: Promise<DistributedInfo> | null = null;

/** Whether MPI support is built (the addon exists and loads). */
export function isAvailable(): boolean {
  return loadMpi() !== null;
}

function requireMpi(op: string): MpiBinding {
  const m = loadMpi();
  if (!m) throw new Error(`distributed.${op}: ${mpiUnavailableReason()}`);
  return m;
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
 * @throws when the MPI addon is not built, or MPI fails to start.
 * @example
 * const { rank, size } = await distributed.init();
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
    process.on('exit', (code) => {
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
    mpi = m;
    info = { ...got, threads: n };
    return info;
  };
  initializing = run().finally(() => {
    initializing = null;
  });
  return initializing;
}

/** Whether init() has completed in this process. */
export function isInitialized(): boolean {
  return info !== null;
}

/** This process's rank (0 when MPI is not initialized: a single process is rank 0 of 1). */
export function rank(): number {
  return info?.rank ?? 0;
}

/** Number of processes (1 when MPI is not initialized). */
export function size(): number {
  return info?.size ?? 1;
}

/** Rank among the processes on this node. */
export function localRank(): number {
  return info?.localRank ?? 0;
}

export function localSize(): number {
  return info?.localSize ?? 1;
}

/** True on rank 0 (and in a process without MPI): the rank that writes files and logs. */
export function isMainProcess(): boolean {
  return rank() === 0;
}

export interface CollectiveOptions {
  /** Limit in ms for this call (default: init's timeoutMs). */
  timeoutMs?: number;
}
const COLLECTIVE_KEYS = optionKeys<CollectiveOptions>({ timeoutMs: true });

export type Buffer32 = Tensor | Float32Array | Float64Array;

function bufferOf(op: string, x: Buffer32): Float32Array | Float64Array {
  if (x instanceof Tensor) {
    if (x.dtype !== 'float32') throw new TypeError(`distributed.${op}: expected a float32 tensor, got ${x.dtype}`);
    return x.data as Float32Array;
  }
  if (x instanceof Float32Array || x instanceof Float64Array) return x;
  throw new TypeError(`distributed.${op}: expected a float32 Tensor, a Float32Array or a Float64Array`);
}

/** Waits until every rank has called barrier. */
export function barrier(options: CollectiveOptions = {}): Promise<void> {
  checkOptionKeys('distributed.barrier', options, COLLECTIVE_KEYS);
  const { mpi: m } = requireInit('barrier');
  return m.barrier(checkTimeout('barrier', options.timeoutMs));
}

/**
 * Replaces x's values on every rank with rank `root`'s, in place (any typed array or tensor).
 * Every rank must call it with the same size. x must not be used until the promise settles.
 */
export function broadcast(x: Tensor | ArrayBufferView, root = 0, options: CollectiveOptions = {}): Promise<void> {
  checkOptionKeys('distributed.broadcast', options, COLLECTIVE_KEYS);
  const { mpi: m, info: i } = requireInit('broadcast');
  if (!Number.isInteger(root) || root < 0 || root >= i.size)
    throw new RangeError(`distributed.broadcast: root must be a rank in [0, ${i.size}), got ${root}`);
  const data = x instanceof Tensor ? x.data : x;
  if (!ArrayBuffer.isView(data)) throw new TypeError('distributed.broadcast: expected a Tensor or a typed array');
  return m.broadcast(data, root, checkTimeout('broadcast', options.timeoutMs));
}

/**
 * Reduces x across ranks in place: 'sum', 'mean' (sum / size), 'max' or 'min', element by
 * element. x (float32 tensor, Float32Array or Float64Array) must have the same length on every
 * rank and must not be used until the promise settles.
 * @example await distributed.allreduce(lossSum, 'sum');
 */
export function allreduce(x: Buffer32, op: ReduceOp = 'sum', options: CollectiveOptions = {}): Promise<void> {
  checkOptionKeys('distributed.allreduce', options, COLLECTIVE_KEYS);
  const { mpi: m } = requireInit('allreduce');
  if (op !== 'sum' && op !== 'mean' && op !== 'max' && op !== 'min')
    throw new RangeError(`distributed.allreduce: op must be 'sum', 'mean', 'max' or 'min', got ${String(op)}`);
  return m.allreduce(bufferOf('allreduce', x), op, checkTimeout('allreduce', options.timeoutMs));
}

/**
 * Every rank's x, stacked by rank: a float32 tensor x of shape S gives [size, ...S]; a typed
 * array gives one of the same type and size x its length. Every rank must pass the same length.
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
    await m.allgather(x.data, out.data, timeout);
    return out as T;
  }
  if (!ArrayBuffer.isView(x)) throw new TypeError('distributed.allgather: expected a Tensor or a typed array');
  const Ctor = (x as unknown as { constructor: new (n: number) => ArrayBufferView }).constructor;
  const per = x.byteLength / ((x as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1);
  const out = new Ctor(per * i.size);
  await m.allgather(x, out, timeout);
  return out as T;
}

/** Ends MPI in this process (every rank must call it); init cannot be called again. Optional:
 * a normal process exit finalizes too. */
export async function finalize(): Promise<void> {
  const { mpi: m } = requireInit('finalize');
  await m.finalize();
}

/** Stops every rank of the job now (MPI_Abort) with this exit code. */
export function abort(code = 1): never {
  const m = requireMpi('abort');
  return m.abort(code);
}

/** The default collective timeout in ms (init's timeoutMs). */
export function defaultTimeoutMs(): number {
  return defaultTimeout;
}
