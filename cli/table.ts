/** Plain-text tables and number formats for terminal output. */

/** Column alignment: numbers right, text left. */
export type Align = "left" | "right";

/**
 * Lays out rows under headers with two spaces between columns. Each column is as wide as its
 * widest cell; `align` gives each column's alignment (left when absent).
 */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  const widths = headers.map((h, i) =>
    Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? "")].length))
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => {
      const pad = " ".repeat(Math.max(0, widths[i]! - [...cell].length));
      return align[i] === "right" ? pad + cell : cell + pad;
    }).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/** A latency in ms with a precision that suits its size: 0.123, 12.35, 1234.6. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return ms.toFixed(1);
  if (ms >= 10) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** A latency with its unit, as short as is readable: 850µs, 12.3ms, 1.25s. */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 100) return `${ms.toFixed(1)}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

/** A count with thousands separators: 12,345. */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** `key:count` pairs sorted by key, or `-` when empty: `200:980 503:10`. */
export function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts).filter(([, n]) => n > 0).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0
  );
  return entries.length === 0 ? "-" : entries.map(([k, n]) => `${k}:${n}`).join(" ");
}
