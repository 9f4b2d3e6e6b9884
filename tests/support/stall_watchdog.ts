/**
 * Notices a `deno test` run that has gone silent: every test prints its name when it starts and
 * its verdict when it ends, so no output for a long time means the test named last hangs.
 */
const START = /^(.*) \.\.\.\s*$/;
/** deno test colours its output unless NO_COLOR is set: ESC [ … m sequences. */
const ANSI_COLOUR = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g");

/** Calls `onStall` once when nothing was seen for `stallMs`. */
export class StallWatchdog {
  /** True once it has fired. */
  fired = false;
  #last = performance.now();
  #running = "(before the first test)";
  #pending = "";
  #timer: ReturnType<typeof setInterval>;
  #decoder = new TextDecoder();

  constructor(stallMs: number, onStall: (test: string) => void, checkMs = 1000) {
    this.#timer = setInterval(() => {
      if (this.fired || performance.now() - this.#last < stallMs) return;
      this.fired = true;
      clearInterval(this.#timer);
      onStall(this.#running);
    }, Math.min(checkMs, stallMs));
  }

  /** Output arrived; remembers the test that started last. */
  saw(chunk: Uint8Array): void {
    this.#last = performance.now();
    const text = this.#pending + this.#decoder.decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.#pending = lines.pop()!;
    for (const line of [...lines, this.#pending]) {
      const plain = line.replace(ANSI_COLOUR, "");
      const started = START.exec(plain);
      if (started) this.#running = started[1]!.trim();
    }
  }

  /** Stops watching. */
  close(): void {
    clearInterval(this.#timer);
  }
}
