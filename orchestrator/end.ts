/**
 * `deno task end` (the seed's `python3 end.py end`): tells every driver to finish and exit, waits
 * until they have gone quiet (so their final metrics reach a still-running orchestrator), then
 * stops the orchestrator. With `--driver NAME` it ends those drivers only, waits until they have
 * left, and leaves the orchestrator running. Everything goes through the orchestrator's API
 * (with the API client); one still connecting to Kafka is waited for, a standby's refusal
 * (naming the active one) is reported, and when no orchestrator answers, END is published to
 * Kafka directly so the drivers still stop.
 */
import { type ApiClient, createApiClient, UnreachableError } from "../cli/api_client.ts";
import { ApiError } from "../shared/api_error.ts";
import { findClientToken } from "../shared/api_token.ts";
import { sleep } from "../shared/async.ts";
import { signIfKeyed } from "../shared/command_signature.ts";
import { lazyEnv } from "../shared/cli_args.ts";
import { KafkaBus } from "../shared/kafka.ts";
import { type KafkaClientAccess, kafkaClientOptions } from "../shared/kafka_client_options.ts";
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

/**
 * The drivers of `ids` still heard from: alive, and — unless `untilGone` — heartbeating within
 * two of their intervals (before stopping the orchestrator, a quiet driver is as good as gone;
 * `--driver` waits until the orchestrator shows it `left`, or `lost`).
 */
async function stillHeard(
  api: ApiClient,
  ids: readonly string[],
  untilGone: boolean,
): Promise<string[]> {
  const drivers = await api.drivers();
  return drivers.filter((d) =>
    ids.includes(d.node_id) && d.status === "alive" &&
    (untilGone || d.heartbeat_age_ms <= 2 * d.interval_ms)
  ).map((d) => d.node_id);
}

async function endThroughKafka(config: EndConfig, access: KafkaClientAccess): Promise<number> {
  const bus = new KafkaBus({
    brokers: config.brokers,
    clientId: "surge-end",
    topics: topicNames(config.topicPrefix),
    logger: createLogger({ component: "end" }, { level: "warn" }),
    access,
  });
  try {
    const end = { trigger: "END" as const, timestamp: Date.now(), drivers: config.drivers };
    await bus.publish("trigger", signIfKeyed("trigger", end, config.fleetKey));
    const who = config.drivers ? config.drivers.join(", ") : "every driver";
    say(`sent END to ${who} through Kafka (${config.brokers.join(",")})`);
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
  // Read now, not when the orchestrator fails to answer: a bad file is bad usage either way.
  const access = parseOrExit(
    "end",
    END_USAGE,
    () => kafkaClientOptions(config.access, Deno.readTextFileSync),
  );
  const deadline = Date.now() + config.timeoutMs;
  let token: string | undefined;
  try {
    token = await findClientToken(lazyEnv((name) => Deno.env.get(name)));
  } catch (err) {
    say((err as Error).message);
    return 1;
  }
  const api = createApiClient(config.orchestratorUrl, { fetch: fetchWithin(3000), token });
  let ended: string[];
  for (let waited = false;; waited = true) {
    try {
      ended = await api.end(config.drivers);
      break;
    } catch (err) {
      // Still connecting to Kafka (or electing): it will take END in a moment.
      if (err instanceof ApiError && err.status === 503 && Date.now() < deadline) {
        if (!waited) say(`orchestrator is not ready yet (${err.message}); waiting`);
        await sleep(500);
        continue;
      }
      // A standby: its answer names the orchestrator to ask instead.
      if (err instanceof ApiError && err.status === 409) {
        say(err.message);
        return 1;
      }
      say(`orchestrator at ${config.orchestratorUrl} did not take END (${why(err)})`);
      // It answered but refused us (no token, or a driver it does not know or that has left):
      // going around it through Kafka would be going around its answer.
      if (err instanceof ApiError && [400, 401, 403, 404, 421].includes(err.status)) return 1;
      return await endThroughKafka(config, access);
    }
  }
  say(`END sent; waiting for ${ended.length} driver(s) to finish: ${ended.join(", ") || "none"}`);
  let heard = ended;
  while (heard.length > 0 && Date.now() < deadline) {
    try {
      heard = await stillHeard(api, ended, config.drivers !== undefined);
      if (heard.length === 0) break;
    } catch (err) {
      // The orchestrator went away: nothing left to wait for, and nobody to say who left.
      if (config.drivers === undefined) break;
      say(`the orchestrator stopped answering (${why(err)}): cannot tell whether they left`);
      return 1;
    }
    await sleep(250);
  }
  if (config.drivers !== undefined) return await reportSubset(api, ended, heard, config.timeoutMs);
  try {
    await api.shutdown();
  } catch (err) {
    say(`orchestrator did not take the shutdown request: ${why(err)}`);
    return 1;
  }
  // Polled briefly: once the server is down, a connection is refused at once.
  const probe = createApiClient(config.orchestratorUrl, { fetch: fetchWithin(500) });
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

/** `--driver`: how the named drivers went; the orchestrator and the others keep running. */
async function reportSubset(
  api: ApiClient,
  ended: readonly string[],
  heard: readonly string[],
  timeoutMs: number,
): Promise<number> {
  if (heard.length > 0) {
    say(`still alive after ${timeoutMs} ms: ${heard.join(", ")}`);
    return 1;
  }
  const drivers = await api.drivers().catch(() => []);
  const statusOf = (id: string) => drivers.find((d) => d.node_id === id)?.status ?? "gone";
  say(
    `ended ${ended.map((id) => `${id} (${statusOf(id)})`).join(", ")}; the orchestrator ` +
      `keeps running with ${drivers.filter((d) => d.status === "alive").length} driver(s) alive`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
