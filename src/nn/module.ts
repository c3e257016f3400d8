/**
 * Module: the base of every layer and model (PyTorch's nn.Module). Parameters and child
 * modules are found by walking the instance's own properties (a Parameter, a Module, or an
 * array of Modules), in the order they were assigned, so `this.fc1 = new Linear(...)` is all a
 * custom module needs. Buffers (state that is saved but not trained, like BatchNorm's running
 * statistics) are registered explicitly.
 */
import { isGradEnabled } from '../autograd/engine.js';
import { add, fillInPlace } from '../ops/elementwise.js';
import { shapeToString, shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { Regularizer } from './regularizers.js';
import { checkOptionKeys, optionKeys } from '../options.js';

/**
 * {@link Module.loadStateDict}'s options.
 *
 * @example
 * ```ts
 * import { Linear, randn, type LoadStateDictOptions } from 'axon-nn';
 * const options: LoadStateDictOptions = { strict: false };
 * const report = new Linear(4, 2).loadStateDict({ weight: randn([2, 4]) }, options);
 * console.log(report.missing); // ['bias']
 * ```
 */
export interface LoadStateDictOptions {
  /** Throw on any missing, unexpected or mis-shaped entry (default true). */
  strict?: boolean;
}
const LOAD_STATE_DICT_KEYS = optionKeys<LoadStateDictOptions>({ strict: true });

/**
 * A trainable tensor owned by a module (PyTorch's nn.Parameter): assigning one to a field of a
 * {@link Module} is what makes it show up in parameters() and stateDict(). It must be float32
 * (the constructor throws a TypeError otherwise) and shares the given tensor's data;
 * `requiresGrad` doubles as the trainable switch.
 *
 * @example
 * ```ts
 * import { Module, Parameter, ones, type Tensor } from 'axon-nn';
 * class Scale extends Module {
 *   gain = new Parameter(ones([4]));
 *   forward(x: Tensor): Tensor { return x.mul(this.gain); }
 * }
 * console.log(new Scale().parameters().length); // 1
 * ```
 */
export class Parameter extends Tensor {
  /** Penalty added by regularizationLoss(), if any. */
  regularizer: Regularizer | null = null;

  constructor(value: Tensor, requiresGrad = true) {
    if (value.dtype !== 'float32') throw new TypeError('Parameter: parameters must be float32');
    super(value.data, value.shape);
    this.requiresGrad = requiresGrad;
  }

  /** Whether an optimizer trains it (the same as requiresGrad). */
  get trainable(): boolean {
    return this.requiresGrad;
  }
  /** Turning training off also drops the gradient, so an optimizer skips the parameter
   * (a stale zero gradient would still move it through momentum or weight decay). */
  set trainable(on: boolean) {
    this.requiresGrad = on;
    if (!on) this.grad = null;
  }
}

/**
 * What {@link Module.loadStateDict} did not load: entries missing from the state dict,
 * entries the module has no place for, and entries whose shape (or dtype) differs. All three
 * are empty after a complete load; with `strict` (the default) a non-empty one throws instead.
 *
 * @example
 * ```ts
 * import { Linear, randn, type LoadReport } from 'axon-nn';
 * const state = { weight: randn([2, 5]), extra: randn([1]) };
 * const report: LoadReport = new Linear(4, 2).loadStateDict(state, { strict: false });
 * // missing ['bias'], unexpected ['extra'], mismatched [{ name: 'weight', expected: [2, 4], got: [2, 5] }]
 * ```
 */
export interface LoadReport {
  /** Names the module has but the state dict lacks. */
  missing: string[];
  /** Names in the state dict the module does not have. */
  unexpected: string[];
  /** Names present on both sides with different shapes (or dtypes). */
  mismatched: {
    /** The entry's dotted name. */
    name: string;
    /** The module's shape for it. */
    expected: number[];
    /** The state dict's shape for it ([] when the entry is not a tensor). */
    got: number[];
  }[];
}

/**
 * The base of every layer and model (PyTorch's nn.Module). Subclasses implement forward;
 * parameters and child modules are found by walking the instance's own fields (a
 * {@link Parameter}, a Module, or an array of Modules) in assignment order, so assigning
 * `this.fc1 = new Linear(...)` is all a custom module needs to be trained, saved and listed.
 *
 * @example
 * ```ts
 * import { Linear, Module, randn, type Tensor } from 'axon-nn';
 * class MLP extends Module {
 *   fc1 = new Linear(4, 16);
 *   fc2 = new Linear(16, 2);
 *   forward(x: Tensor): Tensor { return this.fc2.forward(this.fc1.forward(x).relu()); }
 * }
 * const y = new MLP().forward(randn([8, 4])); // [8, 2]
 * ```
 */
export abstract class Module {
  /** Training mode (dropout active, batch statistics used); switch with train()/eval(). */
  training = true;
  private readonly bufferMap = new Map<string, Tensor>();
  private activityLosses: Tensor[] = [];

  /** Computes the module's output from its input tensor(s); every subclass implements it. */
  abstract forward(...inputs: Tensor[]): Tensor;

  /** Direct children as [name, module]; arrays of modules are named `name.i`. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value))
        value.forEach((v, i) => {
          if (v instanceof Module) out.push([`${key}.${i}`, v]);
        });
    }
    return out;
  }

  /** Direct child modules, in namedChildren's order. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren())
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** This module and every descendant, depth first (namedModules without the names). */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** The descendant module at a dotted name (as namedModules lists it). */
  getSubmodule(name: string): Module {
    if (name === '') return this;
    const found = this.namedModules().find(([n]) => n === name);
    if (!found) throw new RangeError(`getSubmodule: no module named '${name}'`);
    return found[1];
  }

  /** Replaces the descendant module at a dotted name (as namedModules lists it). */
  setSubmodule(name: string, module: Module): void {
    if (!(module instanceof Module)) throw new TypeError('setSubmodule: expected a Module');
    for (const [parentName, parent] of this.namedModules()) {
      const prefix = parentName ? `${parentName}.` : '';
      if (!name.startsWith(prefix)) continue;
      const rest = name.slice(prefix.length);
      if (!parent.namedChildren().some(([n]) => n === rest)) continue;
      parent.replaceChild(rest, module);
      return;
    }
    throw new RangeError(`setSubmodule: no module named '${name}'`);
  }

  /** Puts `module` where the direct child `name` (from namedChildren) is. Containers that
   * name children differently (Sequential) override it. */
  protected replaceChild(name: string, module: Module): void {
    const self = this as unknown as Record<string, unknown>;
    const dot = name.lastIndexOf('.');
    if (dot > 0 && Array.isArray(self[name.slice(0, dot)])) {
      (self[name.slice(0, dot)] as Module[])[Number(name.slice(dot + 1))] = module;
      return;
    }
    if (!(self[name] instanceof Module)) throw new RangeError(`setSubmodule: '${name}' is not a child module`);
    self[name] = module;
  }

  /** Own parameters (not children's), in assignment order. */
  protected ownParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [key, value] of Object.entries(this)) if (value instanceof Parameter) out.push([key, value]);
    return out;
  }

  /**
   * Every parameter with its dotted name ('0.weight', 'encoder.fc1.bias', ...). A parameter
   * reachable twice (tied weights) is listed once, under its first name, as PyTorch does.
   */
  namedParameters(prefix = '', recurse = true): [string, Parameter][] {
    const seen = new Set<Parameter>();
    const out: [string, Parameter][] = [];
    const visit = (m: Module, pre: string): void => {
      const join = (n: string): string => (pre ? `${pre}.${n}` : n);
      for (const [n, p] of m.ownParameters())
        if (!seen.has(p)) {
          seen.add(p);
          out.push([join(n), p]);
        }
      if (recurse) for (const [name, child] of m.namedChildren()) visit(child, join(name));
    };
    visit(this, prefix);
    return out;
  }

  /** Every parameter, as namedParameters lists them; with recurse = false only this module's own. */
  parameters(recurse = true): Parameter[] {
    return this.namedParameters('', recurse).map(([, p]) => p);
  }

  /**
   * Whether parameters() would return exactly these buffers, in order, checked without
   * building any arrays (a cached recorded forward uses it to notice a replaced parameter).
   */
  parametersMatch(expected: readonly Float32Array[]): boolean {
    const state = { expected, i: 0, seen: new Set<Parameter>() };
    return matchParameters(this, state) && state.i === expected.length;
  }

  /** Parameters with requiresGrad (what an optimizer should get). */
  trainableParameters(): Parameter[] {
    return this.parameters().filter((p) => p.requiresGrad);
  }

  /** Registers (or replaces) a buffer: saved in stateDict, not trained. */
  registerBuffer(name: string, value: Tensor): void {
    if (!/^[A-Za-z_][\w]*$/.test(name)) throw new RangeError(`registerBuffer: invalid name '${name}'`);
    this.bufferMap.set(name, value);
  }

  /** This module's own buffer of that name (not a descendant's); throws a RangeError when there is none. */
  buffer(name: string): Tensor {
    const b = this.bufferMap.get(name);
    if (!b) throw new RangeError(`buffer: no buffer named '${name}'`);
    return b;
  }

  /** Every buffer of this module and its descendants with its dotted name ('1.running_mean', ...). */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const join = (n: string): string => (prefix ? `${prefix}.${n}` : n);
    const out: [string, Tensor][] = [...this.bufferMap].map(([n, t]) => [join(n), t]);
    for (const [name, child] of this.namedChildren()) out.push(...child.namedBuffers(join(name)));
    return out;
  }

  /** Sets training mode on this module and all descendants. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: dropout off, running statistics used. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Clears parameter gradients: sets them to null (default, as PyTorch 2: the next backward
   * hands each fresh gradient over without a zero-fill and an add), or zero-fills the existing
   * buffers with setToNone = false.
   */
  zeroGrad(setToNone = true): void {
    for (const p of this.parameters()) {
      if (setToNone || !p.grad) p.grad = null;
      else fillInPlace(p.grad, 0); // a kernel call, so a recorded step replays it
    }
  }

  /** Stops training this module's parameters (all descendants'); drops their gradients. */
  freeze(): this {
    for (const p of this.parameters()) p.trainable = false;
    return this;
  }

  /** Makes every parameter of this module and its descendants trainable again (undoes freeze). */
  unfreeze(): this {
    for (const p of this.parameters()) p.requiresGrad = true;
    return this;
  }

  /** Parameters and buffers by dotted name (tensors share memory with the module). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [n, p] of this.namedParameters()) out[n] = p.detach();
    for (const [n, b] of this.namedBuffers()) out[n] = b.detach();
    return out;
  }

  /**
   * Copies tensors into the parameters and buffers of the same name (the parameter objects
   * stay the same, so optimizers keep working). With strict (default) any missing, unexpected
   * or mis-shaped entry throws, listing all of them; otherwise the matching ones load and the
   * report says what did not.
   */
  loadStateDict(state: Record<string, Tensor>, options: LoadStateDictOptions = {}): LoadReport {
    checkOptionKeys('loadStateDict', options, LOAD_STATE_DICT_KEYS);
    const strict = options.strict ?? true;
    const targets = new Map<string, Tensor>([...this.namedParameters(), ...this.namedBuffers()]);
    const report: LoadReport = { missing: [], unexpected: [], mismatched: [] };
    for (const name of targets.keys()) if (!(name in state)) report.missing.push(name);
    for (const [name, t] of Object.entries(state)) {
      const target = targets.get(name);
      if (!target) report.unexpected.push(name);
      else if (!(t instanceof Tensor) || !shapesEqual(t.shape, target.shape) || t.dtype !== target.dtype)
        report.mismatched.push({ name, expected: [...target.shape], got: t instanceof Tensor ? [...t.shape] : [] });
    }
    if (strict && (report.missing.length || report.unexpected.length || report.mismatched.length)) {
      const parts: string[] = [];
      if (report.missing.length) parts.push(`missing: ${report.missing.join(', ')}`);
      if (report.unexpected.length) parts.push(`unexpected: ${report.unexpected.join(', ')}`);
      for (const m of report.mismatched) {
        const t = state[m.name];
        const target = targets.get(m.name);
        parts.push(
          t instanceof Tensor && target && t.dtype !== target.dtype && shapesEqual(t.shape, target.shape)
            ? `${m.name}: expected dtype ${target.dtype}, got ${t.dtype}`
            : `${m.name}: expected shape ${shapeToString(m.expected)}, got ${shapeToString(m.got)}`,
        );
      }
      throw new Error(`loadStateDict: the state dict does not match the module (${parts.join('; ')})`);
    }
    const bad = new Set(report.mismatched.map((m) => m.name));
    for (const [name, t] of Object.entries(state)) {
      const target = targets.get(name);
      if (target && !bad.has(name)) target.data.set(t.data);
    }
    return report;
  }

  /** Records an activity penalty during forward (consumed by regularizationLoss). */
  protected addActivityLoss(penalty: Tensor): void {
    if (this.training && isGradEnabled()) this.activityLosses.push(penalty);
  }

  /**
   * Sum of every weight/bias regularizer penalty in the model plus the activity penalties
   * recorded since the last call (which it clears); null when the model has none.
   */
  regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    const acc = (t: Tensor): void => {
      total = total === null ? t : add(total, t);
    };
    for (const m of this.modules()) {
      for (const [, p] of m.ownParameters()) if (p.regularizer && p.requiresGrad) acc(p.regularizer.penalty(p));
      for (const t of m.activityLosses) acc(t);
      m.activityLosses = [];
    }
    return total;
  }

  /** Calls fn on every module (children first), as torch's Module.apply. */
  apply(fn: (m: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /**
   * The constructor settings that rebuild this module (saved with the architecture in model
   * files; see registerLayer). JSON values only. Modules without settings keep this default;
   * a custom layer with settings overrides it and registers a matching fromConfig.
   */
  getConfig(): Record<string, unknown> {
    return {};
  }

  /** A one-line description of this module's own settings, shown by toString. */
  extraRepr(): string {
    return '';
  }

  /** The module tree, one line per module with its extraRepr, as PyTorch prints a model. */
  toString(): string {
    const children = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (children.length === 0) return `${head})`;
    const lines = children.map(([n, c]) => `  (${n}): ${c.toString().split('\n').join('\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}

/**
 * parametersMatch's walk: a module's own parameters, then its children's, as parameters()
 * orders them. It runs before every cached predict, so it allocates no arrays and no closures:
 * one Object.keys per module (V8 caches it per object shape).
 */
function matchParameters(
  m: Module,
  state: { expected: readonly Float32Array[]; i: number; seen: Set<Parameter> },
): boolean {
  const own = m as unknown as Record<string, unknown>;
  const keys = Object.keys(m);
  // typeof first: most fields are numbers and strings, and instanceof costs more.
  for (const key of keys) {
    const v = own[key];
    if (typeof v === 'object' && v instanceof Parameter) {
      if (state.seen.has(v)) continue;
      state.seen.add(v);
      if (state.expected[state.i++] !== v.data) return false;
    }
  }
  for (const key of keys) {
    const v = own[key];
    if (typeof v !== 'object' || v === null) continue;
    if (v instanceof Module) {
      if (!matchParameters(v, state)) return false;
    } else if (Array.isArray(v)) {
      for (const c of v) if (c instanceof Module && !matchParameters(c, state)) return false;
    }
  }
  return true;
}

/**
 * A snapshot of a module tree's structure: every module's field count, every object in its
 * fields (parameters, children, arrays of children, their lengths) and every parameter's data
 * buffer. `structureUnchanged` compares it field by field without walking by instanceof, so a
 * cached recorded forward can check before each replay, in a fraction of a microsecond, that
 * nothing it points into was replaced. Any field added, removed or reassigned to another
 * object shows as a change.
 */
export interface ModuleStructure {
  /** Flat triples: holder, key (or a count marker), value. */
  readonly slots: unknown[];
}

const COUNT = Symbol('field count');
const LENGTH = Symbol('length');

export function captureStructure(root: Module): ModuleStructure {
  const slots: unknown[] = [];
  const seen = new Set<unknown>();
  const visit = (m: Module): void => {
    if (seen.has(m)) return;
    seen.add(m);
    const own = m as unknown as Record<string, unknown>;
    const keys = Object.keys(m);
    slots.push(m, COUNT, keys.length);
    for (const key of keys) {
      const v = own[key];
      if (typeof v !== 'object' || v === null) continue;
      slots.push(m, key, v);
      if (v instanceof Parameter) slots.push(v, 'data', v.data);
      else if (v instanceof Module) visit(v);
      else if (Array.isArray(v)) {
        slots.push(v, LENGTH, v.length);
        for (let i = 0; i < v.length; i++) {
          const c: unknown = v[i];
          if (c instanceof Module) {
            slots.push(v, i, c);
            visit(c);
          }
        }
      }
    }
  };
  visit(root);
  return { slots };
}

export function structureUnchanged(s: ModuleStructure): boolean {
  const slots = s.slots;
  for (let i = 0; i < slots.length; i += 3) {
    const holder = slots[i] as Record<string | number, unknown>;
    const key = slots[i + 1];
    if (key === COUNT) {
      if (Object.keys(holder).length !== slots[i + 2]) return false;
    } else if (key === LENGTH) {
      if ((holder as unknown as unknown[]).length !== slots[i + 2]) return false;
    } else if (holder[key as string | number] !== slots[i + 2]) return false;
  }
  return true;
}

/**
 * An evaluation-mode batch norm as a per-channel affine map, y = x * scale + shift, for a layer
 * before it to absorb (Sequential's inference fold). Tensors of [C], read when the forward is
 * recorded, so a replay reads their current values.
 */
export interface NormFold {
  runningMean: import('../tensor/tensor.js').Tensor;
  runningVar: import('../tensor/tensor.js').Tensor;
  weight: import('../tensor/tensor.js').Tensor | null;
  bias: import('../tensor/tensor.js').Tensor | null;
  eps: number;
  /** Channels. */
  features: number;
  /** Input ranks the norm accepts (its forward refuses others: so must the fold). */
  ranks: readonly number[];
}
