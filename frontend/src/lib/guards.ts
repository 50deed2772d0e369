/** Type guards for JSON of unknown shape, the building blocks of the API shape checks. */

/** A plain object (not null, not an array), its keys open to inspection. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A guard for an array whose every item passes `guard`. */
export function isArrayOf<T>(guard: (item: unknown) => item is T): (value: unknown) => value is T[] {
  return (value: unknown): value is T[] => Array.isArray(value) && value.every(guard);
}
