/**
 * The baseline for the target benchmark: a bare `Deno.serve` answering `pong`, with none of the
 * target's routing, counters or knobs. `deno run --allow-net bench/bare_server.ts --port N`.
 */
import { parseArgs } from "node:util";

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { port: { type: "string" } } });
  const port = Number(values.port ?? "8081");
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => console.log(`bare server on ${port}`) },
    () => new Response("pong", { headers: { "content-type": "text/plain;charset=UTF-8" } }),
  );
  const stop = () => server.shutdown().then(() => Deno.exit(0));
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
