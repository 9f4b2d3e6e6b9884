/**
 * Canonical JSON: object keys sorted at every depth, `undefined` members left out, no whitespace.
 * Two values that mean the same give the same text whatever order their keys were written in, so
 * "is this the same test config?" is a string comparison.
 */

/** The canonical JSON text of `value` (a JSON-compatible value). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) sorted[key] = sortKeys(member);
  }
  return sorted;
}
