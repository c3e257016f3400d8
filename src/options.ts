/**
 * Option-object checks shared by every public function that takes `options`: an unknown key
 * (a typo such as `batchsize`, or an option another function takes) is refused by name rather
 * than silently ignored, and numeric options are range-checked with the function's name in
 * the message. Imports nothing, so any layer may use it.
 */

/**
 * Throws when `options` is not a plain object (undefined and null pass: "no options") or
 * holds a key outside `allowed`, naming the function, the key and the keys it takes.
 * @example checkOptionKeys('predict', options, ['batchSize']);
 */
export function checkOptionKeys(op: string, options: unknown, allowed: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(`${op}: options must be an object, got ${describeValue(options)}`);
  for (const key of Object.keys(options))
    if (!allowed.includes(key)) {
      const hint = closest(key, allowed);
      throw new TypeError(
        `${op}: unknown option '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}; it takes ${
          allowed.length ? allowed.map((k) => `'${k}'`).join(', ') : 'no options'
        }`,
      );
    }
}

/**
 * The option keys of an options type, written as `{ key: true, ... }` so TypeScript checks the
 * list against the type both ways: a key the type lacks is an excess property, a key the type
 * declares but the list forgets is a missing property. Keep the call next to the interface.
 * @example const FIT_KEYS = optionKeys<FitOptions>({ epochs: true, batchSize: true });
 */
export function optionKeys<T>(keys: { readonly [K in keyof Required<T>]-?: true }): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

/** An integer option in [min, max] (undefined gives `fallback`). */
export function intOption(
  op: string,
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${op}: ${name} must be an integer in [${min}, ${max}], got ${describeValue(value)}`);
  return value;
}

/** A finite number option in [min, max] (undefined gives `fallback`). */
export function numberOption(
  op: string,
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw new RangeError(`${op}: ${name} must be a number in [${min}, ${max}], got ${describeValue(value)}`);
  return value;
}

/** One of `choices` (undefined gives `fallback`). */
export function enumOption<T extends string>(
  op: string,
  name: string,
  value: unknown,
  fallback: T,
  choices: readonly T[],
): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value))
    throw new RangeError(
      `${op}: ${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describeValue(value)}`,
    );
  return value as T;
}

/**
 * A value as error messages print it: strings quoted, numbers, booleans, null and undefined as
 * written, 'an array', 'a Float32Array' or 'an Int32Array' (typed arrays by class), otherwise
 * its typeof.
 * @example describeValue('int32') // '"int32"'
 */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return `${/^[AEIOU]/.test(v.constructor.name) ? 'an' : 'a'} ${v.constructor.name}`;
  return typeof v;
}

/**
 * The name among `choices` nearest to `name` by edit distance (a swap of two neighbouring
 * letters counts as one edit), ignoring case, '_' and '-' (so Keras's
 * 'categorical_crossentropy' finds 'categoricalCrossentropy'), when it is close enough to be
 * the likely intent: at most a third of the name's length in edits (at least 1), so 'bce'
 * suggests nothing rather than 'mse'. Null when nothing is that close.
 * @example nearestName('adma', ['sgd', 'adam']) // 'adam'
 */
export function nearestName(name: string, choices: readonly string[]): string | null {
  const norm = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');
  const n = norm(name);
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(n.length / 3)) + 1;
  for (const c of choices) {
    const d = editDistance(n, norm(c), true);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/**
 * The message for a name outside `choices`: what was given, the nearest valid name (when one is
 * close) and every valid name. An empty `op` leaves the prefix out (for a caller that adds its own).
 * @example unknownNameMessage('compile', 'optimizer', 'adma', ['sgd', 'adam'])
 * // compile: unknown optimizer "adma" (did you mean 'adam'?); the valid names are 'sgd', 'adam'
 */
export function unknownNameMessage(op: string, what: string, value: unknown, choices: readonly string[]): string {
  const hint = typeof value === 'string' ? nearestName(value, choices) : null;
  const list = choices.map((c) => `'${c}'`).join(', ');
  return `${op ? `${op}: ` : ''}unknown ${what} ${describeValue(value)}${hint ? ` (did you mean '${hint}'?)` : ''}; the valid names are ${list}`;
}

/** The allowed key within edit distance 2 of `key`, if any (case-insensitive). */
function closest(key: string, allowed: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const a of allowed) {
    const d = editDistance(key.toLowerCase(), a.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [a, d];
  }
  return best;
}

/** Levenshtein distance; with `swaps`, the optimal-string-alignment variant (ab -> ba is 1). */
function editDistance(a: string, b: string, swaps = false): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (swaps && i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j], before[j - 2] + 1);
    }
    [before, prev] = [prev, row];
  }
  return prev[b.length];
}
