/**
 * What an operator implementation sees: its node's inputs (Values), attributes with their
 * defaults, the opset in force, and errors that name the node. Implementations live in
 * ops-*.ts and are listed in ops.ts (the one table of supported operators).
 */
import type { Tensor } from '../tensor/tensor.js';
import type { HostArray } from './host.js';
import { OnnxError, type AttrValue, type NodeInfo } from './proto.js';
import type { Value } from './value.js';

export class OpContext {
  constructor(
    readonly node: NodeInfo,
    readonly opset: number,
    readonly inputs: readonly (Value | null)[],
    /** Whether every input is known at load (the op then runs once per input shape). */
    readonly allKnown: boolean,
    /** Inference session (true) or trainable module (false): sessions may fold parameters. */
    readonly inference: boolean,
    /**
     * fold(deps, tag, fn): fn's tensor, computed once and reused when every dep is known at
     * load (a weight rearranged for our kernels), else computed now (recorded with the rest).
     */
    readonly fold: (deps: readonly Tensor[], tag: string, fn: () => Tensor) => Tensor,
  ) {}

  get what(): string {
    return `${this.node.opType} (node '${this.node.name}')`;
  }

  error(message: string): OnnxError {
    return new OnnxError(`${this.what}: ${message}`);
  }

  private attr(name: string): AttrValue | undefined {
    return this.node.attrs.get(name);
  }
  has(name: string): boolean {
    return this.node.attrs.has(name);
  }
  int(name: string, fallback: number): number {
    const a = this.attr(name);
    if (a === undefined) return fallback;
    if (a.kind !== 'int') throw this.error(`attribute '${name}' must be an int, got ${a.kind}`);
    return a.value;
  }
  float(name: string, fallback: number): number {
    const a = this.attr(name);
    if (a === undefined) return fallback;
    if (a.kind === 'int') return a.value;
    if (a.kind !== 'float') throw this.error(`attribute '${name}' must be a float, got ${a.kind}`);
    return a.value;
  }
  string(name: string, fallback: string): string {
    const a = this.attr(name);
    if (a === undefined) return fallback;
    if (a.kind !== 'string') throw this.error(`attribute '${name}' must be a string, got ${a.kind}`);
    return a.value;
  }
  ints(name: string): number[] | null {
    return this.list(name, 'ints') as number[] | null;
  }
  floats(name: string): number[] | null {
    return this.list(name, 'floats') as number[] | null;
  }
  strings(name: string): string[] | null {
    return this.list(name, 'strings') as string[] | null;
  }
  private list(name: string, kind: 'ints' | 'floats' | 'strings'): (number | string)[] | null {
    const a = this.attr(name);
    if (a === undefined) return null;
    if (a.kind !== kind) throw this.error(`attribute '${name}' must be ${kind}, got ${a.kind}`);
    return a.value as (number | string)[];
  }
  rawAttr(name: string): AttrValue | undefined {
    return this.attr(name);
  }

  /** Input i, which the operator requires. */
  input(i: number, name: string): Value {
    const v = this.inputs[i];
    if (!v) throw this.error(`input ${i} ('${name}') is required`);
    return v;
  }
  optional(i: number): Value | null {
    return this.inputs[i] ?? null;
  }

  /** Input i as a float32 tensor. */
  floatInput(i: number, name: string): Tensor {
    const v = this.input(i, name);
    if (!v.isFloat || !v.tensor) throw this.error(`input '${name}' must be a floating tensor, got ${v.type}`);
    return v.tensor;
  }

  /** Input i's exact values, which must be known at load (initializers, constants, shapes). */
  knownInts(i: number, name: string): HostArray {
    return this.knownValues(this.input(i, name), name);
  }

  /** A value's exact numbers, which must be known at load. */
  knownValues(v: Value, name: string): HostArray {
    if (v.ints) return { shape: v.shape, data: v.ints };
    if (v.isFloat && v.known && v.tensor)
      return { shape: v.shape, data: Float64Array.from(v.tensor.data as Float32Array) };
    throw this.error(
      `input '${name}' must be known when the model is loaded (computed from initializers, constants and input shapes); here it depends on input data`,
    );
  }

  /** A normalised axis in [0, rank). */
  axis(a: number, rank: number, name = 'axis'): number {
    if (!Number.isInteger(a) || a < -rank || a >= Math.max(rank, 1))
      throw this.error(`${name} ${a} is out of range for rank ${rank}`);
    return a < 0 ? a + rank : a;
  }
}

export type OpImpl = (c: OpContext) => Value[];
