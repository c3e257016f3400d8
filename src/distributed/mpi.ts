/**
 * The optional MPI addon (native/mpi, axon_mpi.node): the only importer of it, and its typed
 * interface. Missing when MPI was not found at install time; `loadMpi()` then explains how to
 * get it instead of failing at import, so the rest of the engine never depends on MPI.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Results of MPI_Init_thread, as the addon reports them. */
export interface MpiInitInfo {
  /** This process's rank in MPI_COMM_WORLD, 0 to size - 1. */
  rank: number;
  /** Number of processes in the job (MPI_COMM_WORLD's size). */
  size: number;
  /** Rank among the processes on this node (MPI_Comm_split_type SHARED). */
  localRank: number;
  /** Number of processes on this node. */
  localSize: number;
  /** MPI_Query_thread's level (MPI_THREAD_FUNNELED or better). */
  threadLevel: number;
  /** MPI_Get_library_version's first line, e.g. "Open MPI v4.1.4". */
  library: string;
}

/**
 * Every call runs on the addon's comm thread in the order made here; each [async] call's
 * promise settles when the collective completed on this rank. Buffers are borrowed until then:
 * do not touch them meanwhile. timeoutMs 0 waits forever; past a timeout the call rejects and
 * every later call rejects too (the ranks are out of step).
 */
export interface MpiBinding {
  /** [async] MPI_Init_thread on the comm thread; then rank, size, local rank and size. */
  init(): Promise<MpiInitInfo>;
  /** [async] MPI_Ibarrier. */
  barrier(timeoutMs?: number): Promise<void>;
  /** [async] MPI_Ibcast of the buffer's bytes from `root`, in place. */
  broadcast(buffer: ArrayBufferView, root: number, timeoutMs?: number): Promise<void>;
  /** [async] MPI_Iallreduce in place; 'mean' is a sum divided by size on the comm thread. */
  allreduce(
    buffer: Float32Array | Float64Array,
    op: ReduceOp,
    timeoutMs?: number,
    compression?: 'none' | 'bf16',
  ): Promise<void>;
  /** [sync] The same reduction as allreduce, queued behind the calls already made, the calling
   * thread waiting for it (the event loop held); throws its error. */
  allreduceSync(buffer: Float32Array | Float64Array, op: ReduceOp, timeoutMs?: number): void;
  /** [async] MPI_Iallgather of bytes: recv (size x send bytes) holds every rank's send by rank. */
  allgather(send: ArrayBufferView, recv: ArrayBufferView, timeoutMs?: number): Promise<void>;
  /** [async] MPI_Finalize. */
  finalize(): Promise<void>;
  /** [sync] MPI_Abort on every rank; does not return. */
  abort(code: number): never;
  /** [sync] Process exit: finalize, or abort the job after a failed collective. */
  shutdown(): void;
  /** [sync] The comm thread's time in allreduces (ns, cumulative) and the nice value it runs at. */
  commStats(): { allreduceNs: number; nice: number; raisedPriority: boolean };
  /** [sync] 'uninitialized' | 'ready' | 'finalized' | 'failed'. */
  state(): 'uninitialized' | 'ready' | 'finalized' | 'failed';
}

/**
 * How {@link allreduce} combines the ranks' values, element by element: `'sum'`, `'mean'` (the
 * sum divided by the rank count), `'max'` or `'min'`.
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const op: distributed.ReduceOp = 'max';
 * const t0 = performance.now();
 * await distributed.barrier(); // stands for this rank's share of the work
 * const slowest = new Float64Array([performance.now() - t0]);
 * await distributed.allreduce(slowest, op); // every rank now holds the slowest rank's time
 * ```
 */
export type ReduceOp = 'sum' | 'mean' | 'max' | 'min';

/** Where the addon is expected (AXON_MPI_PATH overrides). */
export function mpiAddonPath(): string {
  const override = process.env.AXON_MPI_PATH;
  if (override) return override;
  // src/distributed/mpi.ts and dist/distributed/mpi.js both sit two levels below the root.
  return join(
    dirname(fileURLToPath(import.meta.url)),
    '..',
    '..',
    'native',
    'mpi',
    'build',
    'Release',
    'axon_mpi.node',
  );
}

let cached: MpiBinding | null = null;
let loadError: string | null = null;

/** The addon, or null with the reason in `mpiUnavailableReason()`. */
export function loadMpi(): MpiBinding | null {
  if (cached || loadError) return cached;
  const path = mpiAddonPath();
  if (!existsSync(path)) {
    loadError =
      `the MPI addon is not built (${path} is missing). Install an MPI (Debian: apt-get install ` +
      'openmpi-bin libopenmpi-dev) and run `npm run build:mpi` in the axon-nn package';
    return null;
  }
  try {
    cached = createRequire(import.meta.url)(path) as MpiBinding;
  } catch (e) {
    loadError = `the MPI addon at ${path} failed to load: ${(e as Error).message}`;
  }
  return cached;
}

/**
 * Why MPI support cannot be used (the addon is not built, with how to build it, or it failed to
 * load), or null when it loads. {@link isAvailable} is the boolean form.
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * const reason = distributed.mpiUnavailableReason();
 * if (reason !== null) console.warn(`no data-parallel training: ${reason}`);
 * ```
 */
export function mpiUnavailableReason(): string | null {
  loadMpi();
  return loadError;
}
