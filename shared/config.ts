/** Small validators shared by every component's pure `parseConfig(env, args)`. */

/** Parses a TCP port (1-65535); on a bad value records a problem naming `what` and returns 0. */
export function parsePort(text: string, what: string, problems: string[]): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < 1 || n > 65535) {
    problems.push(`${what} must be a port number 1-65535, got "${text}"`);
    return 0;
  }
  return n;
}

/** Parses a whole number within [min, max]; on a bad value records a problem and returns `min`. */
export function parseIntIn(
  text: string,
  what: string,
  min: number,
  max: number,
  problems: string[],
): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || n < min || n > max) {
    problems.push(`${what} must be a whole number from ${min} to ${max}, got "${text}"`);
    return min;
  }
  return n;
}

/** Parses a finite number within [min, max]; on a bad value records a problem and returns `min`. */
export function parseNumberIn(
  text: string,
  what: string,
  min: number,
  max: number,
  problems: string[],
): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    problems.push(`${what} must be a number from ${min} to ${max}, got "${text}"`);
    return min;
  }
  return n;
}
