/// <reference lib="deno.worker" />
/**
 * A load worker that crashes on purpose 200 ms after its test starts: the real worker, plus an
 * uncaught exception, as a bug in the engine would throw.
 */
import "../../driver/worker.ts";
import type { MainToWorker } from "../../driver/worker_protocol.ts";

const real = self.onmessage as (event: MessageEvent<MainToWorker>) => void;
self.onmessage = (event: MessageEvent<MainToWorker>) => {
  real(event);
  if (event.data.type === "start") {
    setTimeout(() => {
      throw new Error("deliberate crash");
    }, 200);
  }
};
