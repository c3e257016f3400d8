/**
 * Naming parts of a model for fine-tuning (freeze, unfreeze, parametersOf, replaceLayer): a
 * dotted module name ('0', 'encoder.fc1'), a parameter name ('0.bias'), or an index into a
 * Sequential's layers (negative counts from the end).
 */
import type { Module, Parameter } from '../nn/module.js';

/** The dotted name of layer `index` of a Sequential (negative counts from the end). */
export function layerName(module: Module, op: string, index: number): string {
  const layers = (module as { layers?: unknown }).layers;
  if (!Array.isArray(layers)) throw new TypeError(`${op}: index ${index} needs a Sequential model`);
  if (!Number.isInteger(index) || index >= layers.length || index < -layers.length)
    throw new RangeError(`${op}: index ${index} is out of range for ${layers.length} layers`);
  return String(index < 0 ? layers.length + index : index);
}

/** The parameters of the selected parts (all of them when there is no selector). */
export function selectParameters(module: Module, op: string, selectors: readonly (string | number)[]): Parameter[] {
  if (selectors.length === 0) return module.parameters();
  const out = new Set<Parameter>();
  const modules = new Map(module.namedModules());
  const params = new Map(module.namedParameters());
  for (const sel of selectors) {
    if (typeof sel !== 'number' && typeof sel !== 'string')
      throw new TypeError(`${op}: selectors are module names, parameter names or layer indices`);
    const name = typeof sel === 'number' ? layerName(module, op, sel) : sel;
    const m = modules.get(name);
    if (m) for (const p of m.parameters()) out.add(p);
    else if (params.has(name)) out.add(params.get(name) as Parameter);
    else
      throw new RangeError(
        `${op}: no module or parameter named '${name}' (modules: ${[...modules.keys()].filter(Boolean).slice(0, 20).join(', ')})`,
      );
  }
  return [...out];
}
