/**
 * The baseline for the target benchmark: a bare `Deno.serve` answering `pong`, with none of the
 * target's routing, counters or knobs. `deno run --allow-net bench/bare_server.ts --port N`.
 */
import { z } from "zod";
import { flag, readArgs, validate } from "../shared/cli_args.ts";
import { portText } from "../shared/config.ts";
import { HELP, type Help, parseOrExit } from "../shared/usage_error.ts";

const USAGE = `Usage: deno run --allow-net bench/bare_server.ts [--port N]
  --port N  port on 127.0.0.1 (default 8081)`;

/** Where to listen, from the arguments (it reads no environment: it runs with --allow-net only). */
export function parseBareServerConfig(args: readonly string[]): { port: number } | Help {
  const { help, values, problems } = readArgs(args, { port: { type: "string" } });
  if (help) return HELP;
  return validate(z.object({ port: portText }), {
    port: flag("port", values.port, "8081"),
  }, problems);
}

if (import.meta.main) {
  const { port } = parseOrExit(
    "bare_server",
    USAGE,
    () => parseBareServerConfig(Deno.args),
  );
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => console.log(`bare server on ${port}`) },
    () => new Response("pong", { headers: { "content-type": "text/plain;charset=UTF-8" } }),
  );
  const stop = () => server.shutdown().then(() => Deno.exit(0));
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
