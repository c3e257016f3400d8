/**
 * Optimizer base (PyTorch's torch.optim.Optimizer): parameter groups with their own
 * hyperparameters over shared defaults, per-parameter state created lazily on the first step,
 * and an index-based stateDict() so a checkpoint can be loaded into a fresh model. Subclasses
 * implement `update` with one fused native kernel per parameter.
 */
import { kernels } from '../native/executor.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys } from '../options.js';

export type GroupOptions = Record<string, unknown> & { lr?: number };
/**
 * A parameter group given to an optimizer's constructor or {@link Optimizer.addParamGroup}: its
 * params plus overrides of any of the optimizer's hyperparameters (PyTorch's param groups);
 * keys the optimizer does not have are refused with a TypeError.
 *
 * @example
 * ```ts
 * import { Linear, SGD, type ParamGroupInput, type SGDOptions } from 'axon-nn';
 * const body = new Linear(8, 4);
 * const head = new Linear(4, 2);
 * const groups: ParamGroupInput<SGDOptions>[] = [{ params: body.parameters(), lr: 1e-3 }, { params: head.parameters() }];
 * const opt = new SGD(groups, { lr: 1e-2, momentum: 0.9 }); // the head trains at 1e-2, the body at 1e-3
 * ```
 */
export type ParamGroupInput<O> = Partial<O> & {
  /** The tensors (float32 parameters) this group updates. */
  params: Tensor[];
};
/**
 * A parameter group as the optimizer holds it in `paramGroups`: every hyperparameter filled in
 * from the group's overrides and the optimizer's defaults. Changing a field (such as `lr`)
 * takes effect at the next step; schedulers do exactly that.
 *
 * @example
 * ```ts
 * import { Linear, Adam, type ParamGroup, type AdamOptions } from 'axon-nn';
 * const opt = new Adam(new Linear(4, 2).parameters(), { lr: 1e-3 });
 * const group: ParamGroup<AdamOptions> = opt.paramGroups[0];
 * group.lr = group.initialLr / 2; // halve this group's learning rate by hand
 * ```
 */
export type ParamGroup<O> = O & {
  /** The tensors this group updates. */
  params: Tensor[];
  /** The group's lr when it was added (schedulers compute their lr from it). */
  initialLr: number;
};
/**
 * One parameter's optimizer state, as `optimizer.state.get(param)` returns it: named float
 * buffers and the hyperparameter block the native update reads when it runs (so a replayed
 * training step picks up lr changes). The step count is a cell of that block, advanced by the
 * native update itself: a recorded step that is replayed n times counts n steps.
 *
 * @example
 * ```ts
 * import { Linear, Adam, mseLoss, randn, type ParamState } from 'axon-nn';
 * const layer = new Linear(4, 1);
 * const opt = new Adam(layer.parameters());
 * mseLoss(layer.forward(randn([8, 4])), randn([8, 1])).backward();
 * opt.step();
 * const st: ParamState | undefined = opt.state.get(layer.weight);
 * console.log(st?.step, Object.keys(st?.buffers ?? {})); // 1 [ 'expAvg', 'expAvgSq' ]
 * ```
 */
export interface ParamState {
  /** Updates applied so far (reads and writes the block's step cell). */
  step: number;
  /** The optimizer's per-parameter buffers by name (SGD's momentumBuffer, Adam's expAvg and expAvgSq, ...). */
  buffers: Record<string, Float32Array>;
  /** The hyperparameter block the native update reads (engine-owned: change hyperparameters through paramGroups). */
  hyper: Float64Array;
}

function paramState(buffers: Record<string, Float32Array>, hyper: Float64Array, stepCell: number): ParamState {
  return {
    buffers,
    hyper,
    get step(): number {
      return hyper[stepCell];
    },
    set step(v: number) {
      hyper[stepCell] = v;
    },
  };
}

/**
 * An optimizer's state as {@link Optimizer.stateDict} returns it and {@link Optimizer.loadStateDict}
 * takes it (PyTorch's optimizer state_dict): plain numbers and arrays, so it survives
 * JSON, with parameters referred to by their position across the groups.
 *
 * @example
 * ```ts
 * import { Linear, SGD, type OptimizerStateDict, type SGDOptions } from 'axon-nn';
 * const opt = new SGD(new Linear(4, 1).parameters(), { lr: 0.1, momentum: 0.9 });
 * const saved: OptimizerStateDict<SGDOptions> = JSON.parse(JSON.stringify(opt.stateDict()));
 * const fresh = new SGD(new Linear(4, 1).parameters(), { lr: 0.1, momentum: 0.9 });
 * fresh.loadStateDict(saved);
 * ```
 */
export interface OptimizerStateDict<O> {
  /** Per-parameter state by parameter position (parameters that have not stepped yet are absent). */
  state: Record<
    number,
    {
      /** Updates applied to the parameter so far. */
      step: number;
      /** Its buffers by name, as plain arrays (Float32Arrays are accepted when loading). */
      buffers: Record<string, number[] | Float32Array>;
    }
  >;
  /** Each group's hyperparameters, with its parameters as positions. */
  paramGroups: (Omit<ParamGroup<O>, 'params'> & {
    /** Positions of the group's parameters (counted across all groups in order). */
    params: number[];
  })[];
}

function isGroupList<O>(x: unknown): x is ParamGroupInput<O>[] {
  return Array.isArray(x) && x.length > 0 && typeof x[0] === 'object' && x[0] !== null && 'params' in x[0];
}

/**
 * Base class of the optimizers (PyTorch's torch.optim.Optimizer): parameter groups with their
 * own hyperparameters over shared defaults, per-parameter state created at a parameter's first
 * step, and an index-based stateDict() that loads into a fresh model. Use a subclass
 * ({@link SGD}, {@link Adam}, {@link AdamW}, {@link RMSprop}, {@link Adagrad}); constructors throw a
 * RangeError on an empty parameter list or an out-of-range hyperparameter, and a TypeError on
 * an unknown option.
 *
 * @example
 * ```ts
 * import { Linear, Adam, mseLoss, randn } from 'axon-nn';
 * const layer = new Linear(4, 1);
 * const opt = new Adam(layer.parameters(), { lr: 1e-2 });
 * mseLoss(layer.forward(randn([8, 4])), randn([8, 1])).backward();
 * opt.step();
 * opt.zeroGrad();
 * ```
 */
export abstract class Optimizer<
  O extends {
    /** The learning rate. */
    lr: number;
  },
> {
  /** The parameter groups, every hyperparameter filled in; change a group's `lr` here (or let a scheduler do it). */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state (step count and buffers), created at each parameter's first step. */
  readonly state = new Map<Tensor, ParamState>();

  protected constructor(
    /** The optimizer's name ('SGD', 'Adam', ...), used in its error messages. */
    readonly name: string,
    params: Tensor[] | ParamGroupInput<O>[],
    /** The hyperparameters a group takes unless it overrides them (the constructor's options over the optimizer's defaults). */
    readonly defaults: O,
  ) {
    this.validate(defaults, 'defaults');
    const groups = isGroupList<O>(params) ? params : [{ params: params as Tensor[] } as ParamGroupInput<O>];
    if (groups.length === 0) throw new RangeError(`${name}: got an empty parameter list`);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Checks hyperparameters; subclasses extend it. Throws naming the optimizer and field. */
  protected validate(o: O, where: string): void {
    if (typeof o.lr !== 'number' || !Number.isFinite(o.lr) || o.lr < 0)
      throw new RangeError(`${this.name}: lr must be a finite number >= 0, got ${String(o.lr)} (${where})`);
  }

  /**
   * Adds a group of parameters, with optional overrides of this optimizer's hyperparameters
   * (PyTorch's add_param_group), e.g. to train layers unfrozen later. Throws a TypeError for
   * non-float32 tensors or an unknown key, and an Error when a parameter already is in a group.
   */
  addParamGroup(group: ParamGroupInput<O>): void {
    if (!group || !Array.isArray(group.params))
      throw new TypeError(`${this.name}: a parameter group needs a 'params' array`);
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of group.params) {
      if (!p || typeof p !== 'object' || !('data' in p) || p.dtype !== 'float32')
        throw new TypeError(`${this.name}: parameters must be float32 tensors`);
      if (seen.has(p)) throw new Error(`${this.name}: a parameter appears in more than one group`);
      seen.add(p);
    }
    // A group may override any hyperparameter the optimizer has (its defaults' keys), nothing else.
    const allowed = [...Object.keys(this.defaults), 'params', 'initialLr'];
    checkOptionKeys(`${this.name}.addParamGroup`, group, allowed);
    const full = { ...this.defaults, ...group, params: [...group.params] } as ParamGroup<O>;
    full.initialLr = (group as { initialLr?: number }).initialLr ?? full.lr;
    this.validate(full, `group ${this.paramGroups.length}`);
    this.paramGroups.push(full);
  }

  /**
   * Clears gradients: sets them to null (default, as PyTorch 2: the next backward hands each
   * fresh gradient over without a zero-fill and an add), or zero-fills the existing buffers with
   * setToNone = false.
   */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups)
      for (const p of g.params) {
        if (setToNone || !p.grad) p.grad = null;
        else kernels.fill(p.grad.data, 0); // a kernel call, so a recorded step replays it
      }
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    for (const [gi, group] of this.paramGroups.entries()) {
      this.validate(group, `group ${gi}`);
      for (const p of group.params) {
        if (!p.grad) continue;
        const st = this.stateFor(p, group);
        this.writeHyper(st.hyper, group);
        this.update(p.data as Float32Array, p.grad.data as Float32Array, st, group);
      }
    }
  }

  private stateFor(p: Tensor, group: ParamGroup<O>): ParamState {
    let st = this.state.get(p);
    if (!st) {
      st = paramState(this.initState(p, group), new Float64Array(this.hyperSize), this.stepCell);
      this.state.set(p, st);
    }
    return st;
  }

  /**
   * Rewrites every parameter's hyperparameter block from its group (after a scheduler or a
   * user changed a group's lr): a replayed training step reads the blocks, not the groups.
   */
  syncHyper(): void {
    for (const [gi, group] of this.paramGroups.entries()) {
      this.validate(group, `group ${gi}`);
      for (const p of group.params) {
        const st = this.state.get(p);
        if (st) this.writeHyper(st.hyper, group);
      }
    }
  }

  /** Length of the hyperparameter block of this optimizer's native update. */
  protected abstract readonly hyperSize: number;
  /** Index of the block's step cell (the native update increments it before updating). */
  protected abstract readonly stepCell: number;
  /** Writes the group's hyperparameters into a block (leaving its state slots alone). */
  protected abstract writeHyper(h: Float64Array, group: ParamGroup<O>): void;
  /** Restores state slots of a block (step counts) after loadStateDict. */
  protected restoreHyper(_h: Float64Array, _st: ParamState): void {}

  /** The state buffers a parameter starts with. */
  protected abstract initState(p: Tensor, group: ParamGroup<O>): Record<string, Float32Array>;
  /** One in-place update of `param` from `grad` (the native op increments `state.step`). */
  protected abstract update(param: Float32Array, grad: Float32Array, state: ParamState, group: ParamGroup<O>): void;

  /** State and hyperparameters, with parameters referred to by position across groups. */
  stateDict(): OptimizerStateDict<O> {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...rest } = g;
      return {
        ...(rest as Omit<ParamGroup<O>, 'params'>),
        params: params.map((p) => {
          if (!index.has(p)) index.set(p, index.size);
          return index.get(p) as number;
        }),
      };
    });
    const state: OptimizerStateDict<O>['state'] = {};
    for (const [p, st] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      state[i] = {
        step: st.step,
        buffers: Object.fromEntries(Object.entries(st.buffers).map(([k, v]) => [k, Array.from(v)])),
      };
    }
    return { state, paramGroups };
  }

  /**
   * Restores a stateDict() taken from an optimizer over parameters of the same shapes.
   * Everything is checked (hyperparameters, buffer names and sizes, step counts) before
   * anything changes; only hyperparameters this optimizer knows are read from the groups.
   */
  loadStateDict(sd: OptimizerStateDict<O>): void {
    if (
      !sd ||
      typeof sd !== 'object' ||
      !Array.isArray(sd.paramGroups) ||
      typeof sd.state !== 'object' ||
      sd.state === null
    )
      throw new TypeError(`${this.name}.loadStateDict: expected { state, paramGroups }`);
    if (sd.paramGroups.length !== this.paramGroups.length)
      throw new RangeError(
        `${this.name}.loadStateDict: ${sd.paramGroups.length} groups saved, ${this.paramGroups.length} here`,
      );
    const params: Tensor[] = [];
    const groups = sd.paramGroups.map((g, gi) => {
      const mine = this.paramGroups[gi];
      if (!g || typeof g !== 'object' || !Array.isArray(g.params) || g.params.length !== mine.params.length)
        throw new RangeError(
          `${this.name}.loadStateDict: group ${gi} has ${Array.isArray(g?.params) ? g.params.length : 'no'} params saved, ${mine.params.length} here`,
        );
      g.params.forEach((idx, j) => {
        if (!Number.isSafeInteger(idx) || idx < 0 || idx >= 1 << 30 || params[idx])
          throw new RangeError(`${this.name}.loadStateDict: group ${gi} has a bad parameter index`);
        params[idx] = mine.params[j];
      });
      // A copy of this group with the saved values of the keys it already has.
      const next = { ...mine } as ParamGroup<O>;
      const src = g as unknown as Record<string, unknown>;
      for (const key of Object.keys(mine))
        if (key !== 'params' && Object.prototype.hasOwnProperty.call(src, key)) {
          const v = src[key];
          const cur = (mine as Record<string, unknown>)[key];
          if (
            typeof v !== typeof cur ||
            (typeof v === 'number' && Number.isNaN(v)) ||
            (Array.isArray(cur) && !Array.isArray(v))
          )
            throw new TypeError(`${this.name}.loadStateDict: group ${gi} '${key}' has the wrong type`);
          (next as Record<string, unknown>)[key] = Array.isArray(v) ? [...v] : v;
        }
      this.validate(next, `group ${gi}`);
      if (!(typeof next.initialLr === 'number' && Number.isFinite(next.initialLr) && next.initialLr >= 0))
        throw new RangeError(`${this.name}.loadStateDict: group ${gi} initialLr must be a finite number >= 0`);
      return next;
    });
    const groupOf = new Map<Tensor, ParamGroup<O>>();
    this.paramGroups.forEach((g, gi) => g.params.forEach((p) => groupOf.set(p, groups[gi])));
    const restored = new Map<Tensor, ParamState>();
    for (const [key, st] of Object.entries(sd.state)) {
      const p = params[Number(key)];
      if (!p) throw new RangeError(`${this.name}.loadStateDict: state for unknown parameter ${key.slice(0, 20)}`);
      if (!st || typeof st !== 'object' || !Number.isSafeInteger(st.step) || st.step < 0)
        throw new RangeError(`${this.name}.loadStateDict: parameter ${key} has a bad step count`);
      const want = Object.keys(this.initState(p, groupOf.get(p) as ParamGroup<O>)).sort();
      const have = Object.keys(st.buffers ?? {}).sort();
      if (want.join() !== have.join())
        throw new RangeError(
          `${this.name}.loadStateDict: parameter ${key} has buffers [${have.join(', ').slice(0, 80)}], expected [${want.join(', ')}]`,
        );
      const buffers: Record<string, Float32Array> = {};
      for (const k of want) {
        const v = st.buffers[k] as ArrayLike<number>;
        if (!v || typeof v.length !== 'number' || v.length !== p.size)
          throw new RangeError(
            `${this.name}.loadStateDict: buffer '${k}' of parameter ${key} has ${v?.length} values, the parameter ${p.size}`,
          );
        buffers[k] = Float32Array.from(v);
      }
      const state = paramState(buffers, new Float64Array(this.hyperSize), this.stepCell);
      state.step = st.step;
      this.restoreHyper(state.hyper, state);
      restored.set(p, state);
    }
    groups.forEach((g, gi) => {
      const { params: _p, ...hyper } = g;
      Object.assign(this.paramGroups[gi], hyper);
    });
    this.state.clear();
    for (const [p, st] of restored) this.state.set(p, st);
    this.syncHyper();
  }
}
