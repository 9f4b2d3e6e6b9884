/**
 * `deno task end` (the seed's `python3 end.py end`): tells every driver to finish and exit, waits
 * until they have gone quiet (so their final metrics reach a still-running orchestrator), then
 * stops the orchestrator. Everything goes through the orchestrator's API (with the API client);
 * when no orchestrator answers, END is published to Kafka directly so the drivers still stop.
 */
import { type ApiClient, createApiClient, UnreachableError } from "../cli/api_client.ts";
import { sleep } from "../shared/async.ts";
import { lazyEnv } from "../shared/cli_args.ts";
import { KafkaBus } from "../shared/kafka.ts";
import { createLogger } from "../shared/log.ts";
import { topicNames } from "../shared/topics.ts";
import { parseOrExit } from "../shared/usage_error.ts";
import { END_USAGE, type EndConfig, parseEndConfig } from "./config.ts";

const say = (line: string) => console.error(`[end] ${line}`);

/** `fetch` that gives up after `ms`: an orchestrator that stopped answering must not hang `end`. */
const fetchWithin = (ms: number): typeof fetch => (input, init) =>
  fetch(input, { ...init, signal: AbortSignal.timeout(ms) });

/** Why a request failed; for an unreachable orchestrator, the network's own words. */
function why(err: unknown): string {
  const cause = err instanceof UnreachableError ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

/** True once none of `ids` has heartbeated for two of its intervals (or it is lost). */
async function driversQuiet(api: ApiClient, ids: readonly string[]): Promise<boolean> {
  const drivers = await api.drivers();
  return drivers.filter((d) => ids.includes(d.node_id)).every((d) =>
    d.status === "lost" || d.heartbeat_age_ms > 2 * d.interval_ms
  );
}

async function endThroughKafka(config: EndConfig): Promise<number> {
  const bus = new KafkaBus({
    brokers: config.brokers,
    clientId: "surge-end",
    topics: topicNames(config.topicPrefix),
    logger: createLogger({ component: "end" }, { level: "warn" }),
  });
  try {
    await bus.publish("trigger", { trigger: "END", timestamp: Date.now() });
    say(`sent END to every driver through Kafka (${config.brokers.join(",")})`);
    return 0;
  } catch (err) {
    say(`cannot reach Kafka either: ${(err as Error).message}`);
    return 1;
  } finally {
    await bus.close().catch(() => {});
  }
}

async function main(): Promise<number> {
  const config = parseOrExit(
    "end",
    END_USAGE,
    () => parseEndConfig(lazyEnv((name) => Deno.env.get(name)), Deno.args),
  );
  const deadline = Date.now() + config.timeoutMs;
  const api = createApiClient(config.orchestratorUrl, fetchWithin(3000));
  let ended: string[];
  try {
    ended = await api.end();
  } catch (err) {
    say(`orchestrator at ${config.orchestratorUrl} did not take END (${why(err)})`);
    return await endThroughKafka(config);
  }
  say(`END sent; waiting for ${ended.length} driver(s) to finish: ${ended.join(", ") || "none"}`);
  while (ended.length > 0 && Date.now() < deadline) {
    try {
      if (await driversQuiet(api, ended)) break;
    } catch {
      break; // the orchestrator went away: nothing left to wait for
    }
    await sleep(250);
  }
  try {
    await api.shutdown();
  } catch (err) {
    say(`orchestrator did not take the shutdown request: ${why(err)}`);
    return 1;
  }
  // Polled briefly: once the server is down, a connection is refused at once.
  const probe = createApiClient(config.orchestratorUrl, fetchWithin(500));
  while (Date.now() < deadline) {
    try {
      await probe.health();
    } catch (err) {
      // Any answer, even an error status, means the orchestrator is still there.
      if (err instanceof UnreachableError) {
        say("drivers ended and orchestrator stopped");
        return 0;
      }
    }
    await sleep(200);
  }
  say(`orchestrator still answers after ${config.timeoutMs} ms`);
  return 1;
}

if (import.meta.main) Deno.exit(await main());
