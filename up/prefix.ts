/**
 * Prefixes each line a child prints with its name (`orchestrator | ...`), like docker compose.
 * Output arrives in arbitrary chunks, so partial lines are held until their newline.
 */

const COLORS = [36, 33, 32, 35, 34, 91, 92, 93, 94, 95, 96];

/** The prefix of a child's lines, padded to `width` and coloured when `color` is on. */
export function prefixOf(name: string, index: number, width: number, color: boolean): string {
  const label = `${name.padEnd(width)} |`;
  return color ? `\x1b[${COLORS[index % COLORS.length]}m${label}\x1b[0m ` : `${label} `;
}

/** Splits a stream of text chunks into prefixed lines. */
export class LinePrefixer {
  #prefix: string;
  #pending = "";

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** Takes a chunk; returns the complete lines it finished, prefixed, each ending in "\n". */
  push(chunk: string): string {
    const text = this.#pending + chunk.replaceAll("\r\n", "\n");
    const end = text.lastIndexOf("\n");
    if (end < 0) {
      this.#pending = text;
      return "";
    }
    this.#pending = text.slice(end + 1);
    return text.slice(0, end).split("\n").map((line) => `${this.#prefix}${line}\n`).join("");
  }

  /** The unfinished last line, if any (at the child's exit). */
  flush(): string {
    const rest = this.#pending;
    this.#pending = "";
    return rest === "" ? "" : `${this.#prefix}${rest}\n`;
  }
}
