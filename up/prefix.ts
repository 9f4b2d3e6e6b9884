/**
 * The name in front of each line a child of `deno task up` prints (`orchestrator | ...`), like
 * docker compose: padded to one width, and coloured per child on a terminal.
 */

const COLORS = [36, 33, 32, 35, 34, 91, 92, 93, 94, 95, 96];

/** The prefix of a child's lines, padded to `width` and coloured when `color` is on. */
export function prefixOf(name: string, index: number, width: number, color: boolean): string {
  const label = `${name.padEnd(width)} |`;
  return color ? `\x1b[${COLORS[index % COLORS.length]}m${label}\x1b[0m ` : `${label} `;
}
