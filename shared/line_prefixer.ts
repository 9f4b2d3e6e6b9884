/**
 * Prefixes each line a child prints with its name (`orchestrator | ...`), like docker compose.
 * Output arrives in arbitrary chunks, so partial lines are held until their newline.
 */

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
