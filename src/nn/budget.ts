/**
 * An allocation budget for building layers from untrusted architecture JSON: while one is
 * active (deserializeModule with maxElements), every layer reserves its parameter and buffer
 * values before allocating them, so a few bytes of JSON cannot make the process allocate
 * gigabytes (or spend seconds filling them with random numbers).
 */
let budget: { left: number; limit: number } | null = null;

/** Called by initialisers and layers before allocating `n` values. */
export function reserveValues(op: string, n: number): void {
  if (!budget) return;
  if (!(Number.isSafeInteger(n) && n >= 0 && n <= budget.left))
    throw new RangeError(`${op}: ${n} values would exceed the ${budget.limit} the file holds`);
  budget.left -= n;
}

/** Runs fn with at most `limit` values allocatable through reserveValues. */
export function withValueBudget<T>(limit: number, fn: () => T): T {
  const outer = budget;
  budget = { left: limit, limit };
  try {
    return fn();
  } finally {
    budget = outer;
  }
}
