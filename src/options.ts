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
    throw new TypeError(`${op}: options must be an object, got ${describe(options)}`);
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
    throw new RangeError(`${op}: ${name} must be an integer in [${min}, ${max}], got ${describe(value)}`);
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
    throw new RangeError(`${op}: ${name} must be a number in [${min}, ${max}], got ${describe(value)}`);
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
      `${op}: ${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describe(value)}`,
    );
  return value as T;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  return typeof v;
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

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}
