/**
 * Training checkpoints with exact resume. One model file (see model-file.ts: safetensors,
 * architecture, checksum, atomic write) that also holds everything a run's future depends on:
 *
 *   - the optimizer: per-parameter buffers (Adam's moments...) as float32 tensors under
 *     `optimizer/<index>/<buffer>`, step counts and every group's hyperparameters;
 *   - schedulers' state (anything with stateDict/loadStateDict);
 *   - every random stream: the global generator, each Dropout's mask stream (modules with an
 *     `rngState`), the data loaders' shuffling generators, order and position;
 *   - a Model's fit cursor (next epoch, sample order, shuffling generator), so
 *     fit({ initialEpoch }) continues the same sequence of batches;
 *   - counters (epoch, step...) and any JSON the caller adds.
 *
 * Restoring all of it makes the continued run bitwise identical to one that never stopped
 * (on one thread; with more, reductions may split differently between runs).
 */
import { DataLoader } from '../data/dataset.js';
import { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { defaultGenerator, type GeneratorState } from '../tensor/random.js';
import { shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from './atomic.js';
import { checkOptionKeys } from '../options.js';
import {
  DEFAULT_MAX_BYTES,
  ModelFileError,
  decodeModelFile,
  encodeModel,
  readFileChecked,
  type ModelFileContent,
} from './model-file.js';

/**
 * Anything whose state a checkpoint can carry (LRScheduler, ReduceLROnPlateau, ...): pass it
 * in CheckpointParts.schedulers. The state must survive JSON.stringify.
 *
 * @example
 * ```ts
 * import { saveCheckpoint, Linear, type Stateful } from 'axon-nn';
 * import { tmpdir } from 'node:os';
 * class Counter implements Stateful {
 *   count = 0;
 *   stateDict() { return { count: this.count }; }
 *   loadStateDict(state: { count: number }) { this.count = state.count; }
 * }
 * await saveCheckpoint(`${tmpdir()}/s.ckpt`, { model: new Linear(2, 1), schedulers: { counter: new Counter() } });
 * ```
 */
export interface Stateful {
  /** The state to save, as a JSON-serialisable value. */
  stateDict(): unknown;
  /** Restores a value stateDict() returned (after a JSON round trip); throws to refuse it. */
  loadStateDict(state: never): void;
}

/**
 * What saveCheckpoint saves and loadCheckpoint restores into: the model plus whatever else a
 * run's future depends on. Unknown keys throw. Restore into parts built the same way as the
 * saved ones.
 *
 * @example
 * ```ts
 * import { saveCheckpoint, DataLoader, Dataset, Linear, Adam, StepLR, randn, type CheckpointParts } from 'axon-nn';
 * import { tmpdir } from 'node:os';
 * const net = new Linear(4, 1);
 * const optimizer = new Adam(net.parameters(), { lr: 1e-3 });
 * const train = new DataLoader(Dataset.fromTensors(randn([64, 4]), randn([64, 1])), { batchSize: 16, shuffle: true });
 * const schedulers = { lr: new StepLR(optimizer, 10) };
 * const parts: CheckpointParts = { model: net, optimizer, schedulers, loaders: { train }, counters: { epoch: 3 } };
 * await saveCheckpoint(`${tmpdir()}/run.ckpt`, parts);
 * ```
 */
export interface CheckpointParts {
  /** The network, or a Model (its module, optimizer and fit cursor are then included). */
  model: Module | CheckpointModel;
  /** The optimizer whose state to carry; default the Model's compiled optimizer, null for none. */
  optimizer?: Optimizer<{
    /** The learning rate. */
    lr: number;
  }> | null;
  /** Learning-rate schedulers and other stateful helpers, by name. */
  schedulers?: Record<string, Stateful>;
  /** Data loaders, by name: position in the epoch, order, shuffling generator. */
  loaders?: Record<string, DataLoader>;
  /** Numbers to carry (epoch, global step, ...); returned by loadCheckpoint. */
  counters?: Record<string, number>;
  /** Any JSON value to carry; returned by loadCheckpoint. */
  extra?: unknown;
}

/**
 * What loadCheckpoint and restoreCheckpoint return besides restoring the parts: the caller's
 * counters and extra value, and the file's metadata.
 *
 * @example
 * ```ts
 * import { saveCheckpoint, loadCheckpoint, Linear, type CheckpointInfo } from 'axon-nn';
 * import { tmpdir } from 'node:os';
 * const extra = { note: 'warm-up done' };
 * await saveCheckpoint(`${tmpdir()}/c.ckpt`, { model: new Linear(2, 2), counters: { epoch: 5 }, extra });
 * const info: CheckpointInfo = await loadCheckpoint(`${tmpdir()}/c.ckpt`, { model: new Linear(2, 2) });
 * console.log(info.counters, info.extra); // { epoch: 5 } { note: 'warm-up done' }
 * ```
 */
export interface CheckpointInfo {
  /** The counters saved with the checkpoint ({} when none). */
  counters: Record<string, number>;
  /** The extra JSON value saved with the checkpoint (null when none). */
  extra: unknown;
  /** The metadata stored with the file. */
  metadata: Record<string, string>;
}

/**
 * What a checkpoint uses of a Model: pass a Model as CheckpointParts.model and its module,
 * compiled optimizer and fit cursor are saved and restored. Model implements it; there is no
 * need to implement it yourself.
 *
 * @example
 * ```ts
 * import { Model, saveCheckpoint, Linear, randn, type CheckpointModel } from 'axon-nn';
 * import { tmpdir } from 'node:os';
 * const model = new Model(new Linear(3, 1)).compile({ optimizer: 'adam', loss: 'mse' });
 * await model.fit(randn([32, 3]), randn([32, 1]), { epochs: 1, verbose: 0 });
 * const asCheckpointModel: CheckpointModel = model;
 * await saveCheckpoint(`${tmpdir()}/model.ckpt`, { model: asCheckpointModel, counters: { epoch: 1 } });
 * ```
 */
export interface CheckpointModel {
  /** The network whose weights are saved. */
  readonly module: Module;
  /** Its compiled optimizer, if any (the default optimizer of a checkpoint). */
  readonly optimizer: Optimizer<{
    /** The learning rate. */
    lr: number;
  }> | null;
  /** Runs `work` with no other fit, predict, save or load of the model running. */
  exclusive<T>(op: string, work: () => Promise<T>): Promise<T>;
  /** The fit cursor to save (null before any fit on tensors). */
  fitCursor(): FitCursor | null;
  /** Restores a saved fit cursor for the next fit. */
  setFitCursor(cursor: FitCursor): void;
  /** The cursor a next fit would resume from (saved by loadCheckpoint for its undo). */
  pendingFitCursor(): FitCursor | null;
  /** Puts back what pendingFitCursor returned, when loadCheckpoint rolls back a failed restore. */
  restorePendingFitCursor(cursor: FitCursor | null): void;
}

/**
 * Where a Model's fit stands, so that `fit({ initialEpoch: nextEpoch })` after a restore
 * continues the same sequence of batches. Checkpoints save and restore it through
 * CheckpointModel; it is rarely handled directly.
 *
 * @example
 * ```ts
 * import { Model, Linear, randn, type FitCursor } from 'axon-nn';
 * const model = new Model(new Linear(3, 1)).compile({ optimizer: 'sgd', loss: 'mse' });
 * await model.fit(randn([20, 3]), randn([20, 1]), { epochs: 2, verbose: 0 });
 * const cursor: FitCursor | null = model.fitCursor();
 * console.log(cursor?.nextEpoch, cursor?.order.length); // 2 20
 * ```
 */
export interface FitCursor {
  /** The epoch the next fit starts at. */
  nextEpoch: number;
  /** The sample order of the current shuffle. */
  order: Int32Array;
  /** The shuffling generator's state. */
  generator: GeneratorState;
}

interface CheckpointJson {
  version: 1;
  optimizer: {
    name: string;
    groups: Record<string, unknown>[];
    params: number;
    steps: Record<string, number>;
  } | null;
  schedulers: Record<string, unknown>;
  loaders: Record<string, { epoch: number; position: number; generator: GeneratorState; hasOrder: boolean }>;
  rng: { global: GeneratorState; dropout: Record<string, number[]> };
  fit: { nextEpoch: number; generator: GeneratorState } | null;
  counters: Record<string, number>;
  extra: unknown;
}

const isModel = (m: unknown): m is CheckpointModel =>
  typeof m === 'object' &&
  m !== null &&
  'module' in m &&
  (m as CheckpointModel).module instanceof Module &&
  'fitCursor' in m;

function moduleOf(parts: CheckpointParts): Module {
  const m = parts.model;
  if (m instanceof Module) return m;
  if (isModel(m)) return m.module;
  throw new TypeError('checkpoint: model must be a Module or a Model');
}

/** Modules carrying a mask stream (Dropout and friends), by dotted name. */
function rngModules(module: Module): [string, Float64Array][] {
  const out: [string, Float64Array][] = [];
  for (const [name, m] of module.namedModules()) {
    const s = (m as unknown as { rngState?: unknown }).rngState;
    if (s instanceof Float64Array) out.push([name, s]);
  }
  return out;
}

/** The parameters an optimizer updates, in group order (its stateDict's indices). */
function optimizerParams(opt: Optimizer<{ lr: number }>): Tensor[] {
  return opt.paramGroups.flatMap((g) => g.params);
}

const PART_KEYS = [
  'model',
  'optimizer',
  'schedulers',
  'loaders',
  'counters',
  'extra',
] as const satisfies readonly (keyof CheckpointParts)[];

/**
 * The checkpoint's bytes (what saveCheckpoint writes): a model file holding the parts' state.
 * Global and Dropout random streams are read at this moment.
 *
 * @throws TypeError for an unknown part, a model that is neither a Module nor a Model, a
 *   loader that is not a DataLoader, a scheduler without stateDict() or a non-finite counter.
 * @example
 * ```ts
 * import { encodeCheckpoint, decodeModelFile, restoreCheckpoint, Linear } from 'axon-nn';
 * const bytes = encodeCheckpoint({ model: new Linear(2, 1), counters: { step: 100 } });
 * const info = restoreCheckpoint(decodeModelFile(bytes), { model: new Linear(2, 1) });
 * console.log(info.counters.step); // 100
 * ```
 */
export function encodeCheckpoint(parts: CheckpointParts): Uint8Array {
  checkOptionKeys('saveCheckpoint', parts, PART_KEYS);
  const module = moduleOf(parts);
  const model = isModel(parts.model) ? parts.model : null;
  const optimizer = parts.optimizer === undefined ? (model?.optimizer ?? null) : parts.optimizer;
  const extraTensors: Record<string, Tensor> = {};
  let optJson: CheckpointJson['optimizer'] = null;
  if (optimizer) {
    const params = optimizerParams(optimizer);
    const steps: Record<string, number> = {};
    params.forEach((p, i) => {
      const st = optimizer.state.get(p);
      if (!st) return;
      steps[i] = st.step;
      for (const [k, buf] of Object.entries(st.buffers)) {
        if (!/^\w+$/.test(k)) throw new RangeError(`saveCheckpoint: optimizer buffer name '${k}' is not an identifier`);
        extraTensors[`optimizer/${i}/${k}`] = new Tensor(buf, [buf.length]);
      }
    });
    optJson = {
      name: optimizer.name,
      params: params.length,
      groups: optimizer.paramGroups.map((g) => {
        const { params: ps, ...hyper } = g;
        return { ...hyper, params: ps.length };
      }),
      steps,
    };
  }
  const loaders: CheckpointJson['loaders'] = {};
  for (const [name, loader] of Object.entries(parts.loaders ?? {})) {
    if (!(loader instanceof DataLoader)) throw new TypeError(`saveCheckpoint: loaders.${name} is not a DataLoader`);
    const s = loader.state();
    loaders[name] = { epoch: s.epoch, position: s.position, generator: s.generator, hasOrder: s.order !== null };
    if (s.order) extraTensors[`loader/${name}/order`] = new Tensor(Int32Array.from(s.order), [s.order.length]);
  }
  let fit: CheckpointJson['fit'] = null;
  const cursor = model?.fitCursor() ?? null;
  if (cursor) {
    fit = { nextEpoch: cursor.nextEpoch, generator: cursor.generator };
    extraTensors['fit/order'] = new Tensor(Int32Array.from(cursor.order), [cursor.order.length]);
  }
  const schedulers: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(parts.schedulers ?? {})) {
    if (typeof s?.stateDict !== 'function')
      throw new TypeError(`saveCheckpoint: schedulers.${name} has no stateDict()`);
    schedulers[name] = s.stateDict();
  }
  const counters: Record<string, number> = {};
  for (const [k, v] of Object.entries(parts.counters ?? {})) {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new TypeError(`saveCheckpoint: counters.${k} must be a finite number`);
    counters[k] = v;
  }
  const json: CheckpointJson = {
    version: 1,
    optimizer: optJson,
    schedulers,
    loaders,
    rng: {
      global: defaultGenerator().getState(),
      dropout: Object.fromEntries(rngModules(module).map(([n, s]) => [n, Array.from(s)])),
    },
    fit,
    counters,
    extra: parts.extra ?? null,
  };
  return encodeModel(module, { extraTensors, metadata: { 'checkpoint.state': JSON.stringify(json) } });
}

/**
 * Saves a checkpoint atomically (temp file, fsync, rename, fsync of the directory). With a
 * Model, the save waits until no fit, predict or load of it is running.
 *
 * @throws what encodeCheckpoint throws, or an Error naming the path when it cannot be written.
 * @example
 * ```ts
 * import { saveCheckpoint, Linear, SGD } from 'axon-nn';
 * import { tmpdir } from 'node:os';
 * const net = new Linear(8, 2);
 * const optimizer = new SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
 * await saveCheckpoint(`${tmpdir()}/epoch-3.ckpt`, { model: net, optimizer, counters: { epoch: 3 } });
 * ```
 */
export async function saveCheckpoint(path: string, parts: CheckpointParts): Promise<void> {
  // Through the model's monitor, so the weights are not being trained while they are encoded.
  const save = async (): Promise<void> => writeFileAtomic(path, encodeCheckpoint(parts));
  return isModel(parts.model) ? parts.model.exclusive('saveCheckpoint', save) : save();
}

function fail(source: string, what: string): never {
  throw new ModelFileError(`${source}: ${what}`);
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function checkGenerator(source: string, where: string, g: unknown): GeneratorState {
  const s = (g as GeneratorState | null)?.s;
  if (!Array.isArray(s) || s.length !== 4 || !s.every((v) => Number.isInteger(v) && Math.abs(v) <= 0xffffffff))
    fail(source, `${where}: not a generator state`);
  const spare = (g as GeneratorState).spare;
  if (spare !== null && !(typeof spare === 'number' && Number.isFinite(spare)))
    fail(source, `${where}: bad spare value`);
  return g as GeneratorState;
}

/**
 * Restores a decoded checkpoint into the given parts (the same kinds of objects, built the
 * same way: same architecture, optimizer over the same parameters, same schedulers and
 * loaders), and the global and Dropout random streams. Everything is checked before anything
 * is changed, and a part that refuses its state rolls the others back, so a bad file leaves
 * them untouched.
 *
 * @param source the name errors start with.
 * @throws ModelFileError naming what does not match (not a checkpoint, another architecture
 *   or optimizer, a missing loader or scheduler state, ...).
 * @example
 * ```ts
 * import { decodeModelFile, encodeCheckpoint, restoreCheckpoint, Linear, Adam } from 'axon-nn';
 * const net = new Linear(4, 2);
 * const bytes = encodeCheckpoint({ model: net, optimizer: new Adam(net.parameters()) });
 * const fresh = new Linear(4, 2);
 * restoreCheckpoint(decodeModelFile(bytes), { model: fresh, optimizer: new Adam(fresh.parameters()) }, 'in-memory');
 * ```
 */
export function restoreCheckpoint(
  content: ModelFileContent,
  parts: CheckpointParts,
  source = 'checkpoint',
): CheckpointInfo {
  checkOptionKeys('loadCheckpoint', parts, PART_KEYS);
  const module = moduleOf(parts);
  const model = isModel(parts.model) ? parts.model : null;
  const optimizer = parts.optimizer === undefined ? (model?.optimizer ?? null) : parts.optimizer;
  const text = content.metadata['checkpoint.state'];
  if (typeof text !== 'string')
    fail(source, 'not a checkpoint (no checkpoint.state metadata); use loadModel or loadWeights');
  let json: CheckpointJson;
  try {
    json = JSON.parse(text) as CheckpointJson;
  } catch (e) {
    fail(source, `checkpoint.state is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || json.version !== 1) fail(source, 'unsupported checkpoint version');

  // ---- validate everything first ----
  const state: Record<string, Tensor> = Object.create(null);
  for (const [name, t] of content.tensors) if (!name.includes('/')) state[name] = t;
  const mine = new Map(Object.entries(module.stateDict()));
  const problems: string[] = [];
  for (const name of mine.keys()) if (!(name in state)) problems.push(`missing ${name}`);
  for (const [name, t] of Object.entries(state)) {
    const target = mine.get(name);
    if (!target) problems.push(`unexpected ${name}`);
    else if (!shapesEqual(target.shape, t.shape) || target.dtype !== t.dtype) problems.push(`mis-shaped ${name}`);
  }
  if (problems.length) fail(source, `the model does not match the checkpoint (${problems.slice(0, 10).join(', ')})`);

  const optJson = json.optimizer;
  const optBuffers = new Map<number, Record<string, Float32Array>>();
  if (optimizer) {
    if (!optJson || typeof optJson !== 'object') fail(source, 'the checkpoint holds no optimizer state');
    if (optJson.name !== optimizer.name)
      fail(source, `optimizer is ${String(optJson.name).slice(0, 40)} in the file, ${optimizer.name} here`);
    const params = optimizerParams(optimizer);
    if (optJson.params !== params.length)
      fail(source, `the optimizer has ${params.length} parameters here, ${String(optJson.params)} saved`);
    if (!Array.isArray(optJson.groups) || optJson.groups.length !== optimizer.paramGroups.length)
      fail(
        source,
        `the optimizer has ${optimizer.paramGroups.length} parameter groups here, the file a different number`,
      );
    optJson.groups.forEach((g, i) => {
      if (typeof g !== 'object' || g === null || g.params !== optimizer.paramGroups[i].params.length)
        fail(source, `optimizer group ${i} holds a different number of parameters`);
    });
    if (typeof optJson.steps !== 'object' || optJson.steps === null) fail(source, 'optimizer steps missing');
    for (const [k, v] of Object.entries(optJson.steps)) {
      const i = Number(k);
      if (!isInt(i) || i >= params.length || !isInt(v)) fail(source, `bad optimizer step entry ${k.slice(0, 20)}`);
    }
    for (const [name, t] of content.tensors) {
      if (!name.startsWith('optimizer/')) continue;
      const [, idx, buf] = name.split('/');
      const i = Number(idx);
      if (!isInt(i) || i >= params.length || !buf || t.dtype !== 'float32' || t.size !== params[i].size)
        fail(source, `optimizer tensor '${name.slice(0, 80)}' does not fit parameter ${idx}`);
      if (!(idx in optJson.steps)) fail(source, `optimizer tensor '${name.slice(0, 80)}' has no step count`);
      const rec = optBuffers.get(i) ?? {};
      rec[buf] = t.data as Float32Array;
      optBuffers.set(i, rec);
    }
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(json.schedulers) || !isObject(json.loaders) || !isObject(json.rng) || !isObject(json.counters))
    fail(source, 'checkpoint.state is missing or has malformed sections');
  const loaderStates = new Map<DataLoader, Parameters<DataLoader['setState']>[0]>();
  for (const [name, loader] of Object.entries(parts.loaders ?? {})) {
    const s = json.loaders?.[name];
    if (!s || typeof s !== 'object') fail(source, `no state for loader '${name}'`);
    if (!isInt(s.epoch) || !isInt(s.position)) fail(source, `loader '${name}': bad epoch or position`);
    const order = content.tensors.get(`loader/${name}/order`) ?? null;
    if (s.hasOrder !== (order !== null)) fail(source, `loader '${name}': the order tensor is missing or unexpected`);
    loaderStates.set(loader, {
      epoch: s.epoch,
      position: s.position,
      order: order ? Array.from(order.data) : null,
      generator: checkGenerator(source, `loader '${name}'`, s.generator),
    });
  }
  const dropout = json.rng?.dropout;
  const rngTargets = rngModules(module);
  if (typeof dropout !== 'object' || dropout === null) fail(source, 'random stream states missing');
  for (const [name, s] of rngTargets) {
    const v = dropout[name];
    if (!Array.isArray(v) || v.length !== s.length || !v.every((x) => Number.isSafeInteger(x) && x >= 0))
      fail(source, `no valid random stream state for module '${name}' (non-negative integers)`);
  }
  const globalState = checkGenerator(source, 'global generator', json.rng?.global);
  let fit: { nextEpoch: number; order: Int32Array; generator: GeneratorState } | null = null;
  if (model && json.fit) {
    const order = content.tensors.get('fit/order');
    if (!isInt(json.fit.nextEpoch) || !order || order.dtype !== 'int32' || order.ndim !== 1)
      fail(source, 'bad fit cursor');
    const seen = new Uint8Array(order.size);
    for (const i of order.data) {
      if (!(i >= 0 && i < order.size) || seen[i]) fail(source, 'the fit cursor order is not a permutation');
      seen[i] = 1;
    }
    fit = {
      nextEpoch: json.fit.nextEpoch,
      order: order.data as Int32Array,
      generator: checkGenerator(source, 'fit', json.fit.generator),
    };
  }
  const counters: Record<string, number> = {};
  for (const [k, v] of Object.entries(json.counters ?? {})) {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(source, `counter '${k.slice(0, 40)}' is not a number`);
    counters[k] = v;
  }
  for (const name of Object.keys(parts.schedulers ?? {}))
    if (!Object.prototype.hasOwnProperty.call(json.schedulers, name)) fail(source, `no state for scheduler '${name}'`);

  // ---- apply, rolling everything back if any part refuses its state ----
  const undo = snapshot(module, optimizer, parts, rngTargets, model);
  try {
    apply();
  } catch (e) {
    undo();
    if (e instanceof ModelFileError) throw e;
    fail(source, (e as Error).message);
  }
  return { counters, extra: json.extra ?? null, metadata: content.metadata };

  function apply(): void {
    module.loadStateDict(state);
    if (optimizer && optJson) {
      const sd = {
        paramGroups: optJson.groups.map((g, gi) => {
          const start = optimizer.paramGroups.slice(0, gi).reduce((n, x) => n + x.params.length, 0);
          return { ...g, params: optimizer.paramGroups[gi].params.map((_, j) => start + j) };
        }),
        state: Object.fromEntries(
          Object.entries(optJson.steps).map(([k, step]) => [k, { step, buffers: optBuffers.get(Number(k)) ?? {} }]),
        ),
      };
      try {
        optimizer.loadStateDict(sd as unknown as Parameters<typeof optimizer.loadStateDict>[0]);
      } catch (e) {
        fail(source, (e as Error).message);
      }
    }
    for (const [name, s] of Object.entries(parts.schedulers ?? {})) {
      try {
        s.loadStateDict(json.schedulers[name] as never);
      } catch (e) {
        fail(source, `scheduler '${name}': ${(e as Error).message}`);
      }
    }
    for (const [loader, s] of loaderStates) {
      try {
        loader.setState(s);
      } catch (e) {
        fail(source, (e as Error).message);
      }
    }
    for (const [name, s] of rngTargets) s.set(dropout[name] as number[]);
    defaultGenerator().setState(globalState);
    if (model && fit) model.setFitCursor(fit);
  }
}

/** Copies of everything restoreCheckpoint may change; the returned function puts them back. */
function snapshot(
  module: Module,
  optimizer: Optimizer<{ lr: number }> | null,
  parts: CheckpointParts,
  rngTargets: [string, Float64Array][],
  model: CheckpointModel | null,
): () => void {
  const tensors = Object.values(module.stateDict()).map((t) => [t, t.data.slice()] as const);
  const groups = optimizer?.paramGroups.map((g) => ({ ...g })) ?? [];
  const states = optimizer ? new Map(optimizer.state) : null;
  const schedulers = Object.values(parts.schedulers ?? {}).map(
    (s) => [s, JSON.parse(JSON.stringify(s.stateDict()))] as const,
  );
  const loaders = Object.values(parts.loaders ?? {}).map((l) => [l, l.state()] as const);
  const streams = rngTargets.map(([, s]) => [s, s.slice()] as const);
  const global = defaultGenerator().getState();
  const cursor = model?.pendingFitCursor() ?? null;
  return () => {
    for (const [t, d] of tensors) t.data.set(d);
    if (optimizer && states) {
      optimizer.paramGroups.forEach((g, i) => Object.assign(g, groups[i]));
      optimizer.state.clear();
      for (const [p, st] of states) optimizer.state.set(p, st);
      optimizer.syncHyper();
    }
    for (const [s, sd] of schedulers) s.loadStateDict(sd as never);
    for (const [l, st] of loaders) l.setState(st);
    for (const [s, d] of streams) s.set(d);
    defaultGenerator().setState(global);
    model?.restorePendingFitCursor(cursor);
  };
}

/**
 * Loads a checkpoint file into the given parts (see restoreCheckpoint). The path must name a
 * regular file of at most maxBytes (default 8 GiB): a device, FIFO or directory is refused.
 * With a Model, the load waits until no fit, predict or save of it is running.
 *
 * @throws ModelFileError (or SafetensorsError) naming the path and what is wrong.
 * @example
 * ```ts
 * import { saveCheckpoint, loadCheckpoint, Linear, Adam } from 'axon-nn';
 * import { tmpdir } from 'node:os';
 * const path = `${tmpdir()}/last.ckpt`;
 * const net = new Linear(4, 2);
 * await saveCheckpoint(path, { model: net, optimizer: new Adam(net.parameters()), counters: { epoch: 7 } });
 * const resumed = new Linear(4, 2);
 * const { counters } = await loadCheckpoint(path, { model: resumed, optimizer: new Adam(resumed.parameters()) });
 * console.log(counters.epoch); // 7
 * ```
 */
export async function loadCheckpoint(
  path: string,
  parts: CheckpointParts,
  options: {
    /** Refuse files larger than this many bytes (default 8 GiB). */
    maxBytes?: number;
  } = {},
): Promise<CheckpointInfo> {
  checkOptionKeys('loadCheckpoint', options, ['maxBytes']);
  const load = async (): Promise<CheckpointInfo> => {
    const bytes = await readFileChecked(path, options.maxBytes ?? DEFAULT_MAX_BYTES);
    return restoreCheckpoint(decodeModelFile(bytes, path), parts, path);
  };
  // Through the model's monitor: not while a fit, predict or save of it runs.
  return isModel(parts.model) ? parts.model.exclusive('loadCheckpoint', load) : load();
}
