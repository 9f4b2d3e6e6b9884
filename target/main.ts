/** `deno task target`: serves the target app on 127.0.0.1:8080 (or --port / PORT). */
import { createTargetApp } from "./app.ts";
import { parseTargetConfig, TARGET_USAGE } from "./config.ts";
import { parseOrExit } from "../shared/usage_error.ts";
import { lazyEnv } from "../shared/cli_args.ts";

if (import.meta.main) {
  const config = parseOrExit(
    "target",
    TARGET_USAGE,
    () => parseTargetConfig(lazyEnv((name) => Deno.env.get(name)), Deno.args),
  );
  const { app } = createTargetApp();
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: config.hostname,
      port: config.port,
      onListen: ({ hostname, port }) =>
        console.log(`surge target listening on http://${hostname}:${port}/ping`),
    }, app.fetch);
  } catch (err) {
    console.error(`Cannot listen on ${config.hostname}:${config.port}: ${(err as Error).message}`);
    Deno.exit(1);
  }
  const stop = () => server.shutdown().then(() => Deno.exit(0));
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
