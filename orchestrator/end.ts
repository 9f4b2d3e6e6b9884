/**
 * `deno task end` (the seed's `python3 end.py end`): tells every driver to finish and exit, waits
 * until they have gone quiet (so their final metrics reach a still-running orchestrator), then
 * stops the orchestrator. Everything goes through the orchestrator's API; when no orchestrator
 * answers, END is published to Kafka directly so the drivers still stop.
 */
import { KafkaBus } from "../shared/kafka.ts";
import { createLogger } from "../shared/log.ts";
import { topicNames } from "../shared/topics.ts";
import { parseOrExit } from "../shared/usage_error.ts";
import { END_USAGE, type EndConfig, parseEndConfig } from "./config.ts";

const say = (line: string) => console.error(`[end] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface DriverRow {
  node_id: string;
  status: string;
  heartbeat_age_ms: number;
  interval_ms: number;
}

async function request(url: string, method = "GET", timeoutMs = 3000): Promise<Response> {
  return await fetch(url, { method, signal: AbortSignal.timeout(timeoutMs) });
}

/** True once none of `ids` has heartbeated for two of its intervals (or it is lost). */
async function driversQuiet(config: EndConfig, ids: readonly string[]): Promise<boolean> {
  const res = await request(`${config.orchestratorUrl}/api/drivers`);
  const { drivers } = await res.json() as { drivers: DriverRow[] };
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
    () => parseEndConfig(Deno.env.toObject(), Deno.args),
  );
  const deadline = Date.now() + config.timeoutMs;
  let ended: string[];
  try {
    const res = await request(`${config.orchestratorUrl}/api/end`, "POST");
    if (!res.ok) throw new Error(`POST /api/end answered ${res.status}: ${await res.text()}`);
    ended = (await res.json() as { drivers: string[] }).drivers;
  } catch (err) {
    say(`orchestrator at ${config.orchestratorUrl} did not take END (${(err as Error).message})`);
    return await endThroughKafka(config);
  }
  say(`END sent; waiting for ${ended.length} driver(s) to finish: ${ended.join(", ") || "none"}`);
  while (ended.length > 0 && Date.now() < deadline) {
    try {
      if (await driversQuiet(config, ended)) break;
    } catch {
      break; // the orchestrator went away: nothing left to wait for
    }
    await sleep(250);
  }
  try {
    await request(`${config.orchestratorUrl}/api/shutdown`, "POST");
  } catch (err) {
    say(`orchestrator did not take the shutdown request: ${(err as Error).message}`);
    return 1;
  }
  while (Date.now() < deadline) {
    try {
      await request(`${config.orchestratorUrl}/healthz`, "GET", 500);
    } catch {
      say("drivers ended and orchestrator stopped");
      return 0;
    }
    await sleep(200);
  }
  say(`orchestrator still answers after ${config.timeoutMs} ms`);
  return 1;
}

Deno.exit(await main());
