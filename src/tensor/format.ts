/**
 * PyTorch-style printing: `tensor([[ 0.1000, -2.0000], [ 3.0000,  4.0000]])` with aligned
 * columns, 4 decimals (scientific notation when magnitudes span a wide range), integral
 * floats as `1.`, and `...` elision for tensors over 1000 elements (3 items per edge).
 */
import type { Shape } from './shape.js';

const SUMMARY_THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const PRECISION = 4;

interface Formatter {
  format(v: number): string;
  width: number;
}

function makeFormatter(values: ArrayLike<number>, isInt: boolean): Formatter {
  if (isInt) {
    let width = 1;
    for (let i = 0; i < values.length; i++) width = Math.max(width, String(values[i]).length);
    return { format: (v) => String(v), width };
  }
  let allIntegral = true;
  let maxAbs = 0;
  let minAbs = Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v !== Math.trunc(v)) allIntegral = false;
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
    if (a !== 0 && a < minAbs) minAbs = a;
  }
  const special = (v: number): string | null =>
    Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : null;
  let format: (v: number) => string;
  if (allIntegral && maxAbs < 1e8) {
    format = (v) => special(v) ?? `${v.toFixed(0)}.`;
  } else if (maxAbs >= 1e8 || (minAbs !== Infinity && (minAbs < 1e-4 || maxAbs / minAbs > 1000))) {
    format = (v) => special(v) ?? v.toExponential(PRECISION).replace(/e([+-])(\d)$/, 'e$10$2');
  } else {
    format = (v) => special(v) ?? v.toFixed(PRECISION);
  }
  let width = 1;
  for (let i = 0; i < values.length; i++) width = Math.max(width, format(values[i]).length);
  return { format, width };
}

/** Indices of one axis that are printed (all, or the edges around an elision). */
function shownIndices(n: number, summarize: boolean): (number | null)[] {
  if (!summarize || n <= 2 * EDGE_ITEMS) return Array.from({ length: n }, (_, i) => i);
  const head = Array.from({ length: EDGE_ITEMS }, (_, i) => i);
  const tail = Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i);
  return [...head, null, ...tail];
}

export function formatTensor(
  data: ArrayLike<number>,
  shape: Shape,
  options: { isInt: boolean; suffix: string[] },
): string {
  const summarize = data.length > SUMMARY_THRESHOLD;
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  // Collect the printed values first so the column width covers only what is shown.
  const shown: number[] = [];
  const collect = (axis: number, offset: number): void => {
    if (axis === shape.length) {
      shown.push(data[offset]);
      return;
    }
    for (const i of shownIndices(shape[axis], summarize)) if (i !== null) collect(axis + 1, offset + i * strides[axis]);
  };
  if (data.length > 0) collect(0, 0);
  const fmt = makeFormatter(shown, options.isInt);
  const prefix = 'tensor(';
  const render = (axis: number, offset: number, indent: number): string => {
    if (axis === shape.length) return fmt.format(data[offset]).padStart(fmt.width);
    const parts: string[] = [];
    for (const i of shownIndices(shape[axis], summarize))
      parts.push(i === null ? '...' : render(axis + 1, offset + i * strides[axis], indent + 1));
    if (axis === shape.length - 1) return `[${parts.join(', ')}]`;
    const sep = ',' + '\n'.repeat(shape.length - axis - 1) + ' '.repeat(indent + 1);
    return `[${parts.join(sep)}]`;
  };
  let body: string;
  if (shape.length === 0) body = fmt.format(data[0]);
  else if (data.length === 0) body = '[]';
  else body = render(0, 0, prefix.length);
  const extra = [...options.suffix];
  if (data.length === 0 && shape.length > 0) extra.unshift(`size=[${shape.join(', ')}]`);
  return `${prefix}${body}${extra.length ? ', ' + extra.join(', ') : ''})`;
}
