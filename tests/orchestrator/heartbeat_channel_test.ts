/**
 * The heartbeat topic's liveness from the orchestrator's own probes: evidence runs with the clock
 * while probes come back, stops where a stall was noticed, resumes after MAX_PAUSE_MS, and the
 * return of the probes opens a fresh window. Only this process's probes, by number, count. The
 * prober publishes them on a MemoryBus (real encode/parse) and stops when its writes are refused.
 */
import assert from "node:assert/strict";
import {
  HeartbeatChannel,
  MAX_PAUSE_MS,
  PROBE_MS,
  STALL_MS,
} from "../../orchestrator/heartbeat_channel.ts";
import { ChannelProbe } from "../../orchestrator/channel_probe.ts";
import { MemoryBus } from "../../shared/bus.ts";
import { createLogger } from "../../shared/log.ts";
import { isProbe, parseMessage } from "../../shared/messages.ts";

const T0 = 1_800_000_000_000;

/** A channel whose probes, sent every PROBE_MS from T0, come back after `rtt`, or after a stall. */
function run(rtt: number, until: number, stall?: [number, number]) {
  const channel = new HeartbeatChannel("orch-1", T0);
  const inFlight: { back: number; probe: ReturnType<HeartbeatChannel["probe"]> }[] = [];
  for (let t = T0; t <= until; t += 100) {
    if ((t - T0) % PROBE_MS === 0) {
      const stalled = stall && t >= stall[0] && t < stall[1];
      // A probe sent during a stall is delivered once it ends (Kafka's client retries it).
      inFlight.push({ back: stalled ? stall![1] + rtt : t + rtt, probe: channel.probe(t) });
    }
    for (const m of inFlight.filter((m) => m.back === t)) channel.seen(m.probe, t);
  }
  return channel;
}

Deno.test("a probe is a valid heartbeat-topic message", () => {
  const probe = new HeartbeatChannel("orch-1", T0).probe(T0);
  const parsed = parseMessage("heartbeat", JSON.stringify(probe));
  assert.ok(parsed.ok, !parsed.ok ? parsed.error : "");
  assert.deepEqual(parsed.value, probe);
});

Deno.test("evidence and stalls, as probes come back or do not", () => {
  const cases: {
    name: string;
    rtt: number;
    stall?: [number, number];
    at: number;
    stalled: boolean;
    evidence: number;
    since: number;
  }[] = [
    {
      name: "probes back in 300 ms",
      rtt: 300,
      at: 10_000,
      stalled: false,
      evidence: 10_000,
      since: -Infinity,
    },
    {
      name: "probes back in 1.4 s: slow, not stalled",
      rtt: 1_400,
      at: 10_000,
      stalled: false,
      evidence: 10_000,
      since: -Infinity,
    },
    {
      name: "mid-stall: evidence stops where it was noticed",
      rtt: 300,
      stall: [5_000, 15_000],
      at: 12_000,
      stalled: true,
      evidence: 4_500 + STALL_MS,
      since: -Infinity,
    },
    {
      name: "after the stall: evidence is now, the fresh window starts at the return",
      rtt: 300,
      stall: [5_000, 15_000],
      at: 20_000,
      stalled: false,
      evidence: 20_000,
      since: 15_300,
    },
    {
      name: "a stall beyond MAX_PAUSE_MS is no longer waited out",
      rtt: 300,
      stall: [5_000, 5_000 + MAX_PAUSE_MS + 10_000],
      at: 5_000 + MAX_PAUSE_MS + 5_000,
      stalled: true,
      evidence: 5_000 + MAX_PAUSE_MS + 5_000,
      since: -Infinity,
    },
  ];
  for (const c of cases) {
    const channel = run(c.rtt, T0 + c.at, c.stall && [T0 + c.stall[0], T0 + c.stall[1]]);
    const now = T0 + c.at;
    assert.equal(channel.stalled(now), c.stalled, c.name);
    assert.equal(channel.evidenceAt(now) - T0, c.evidence, c.name);
    assert.equal(channel.since - T0, c.since, c.name);
  }
});

Deno.test("before any probe is back the channel counts from its start; never back, it stalls", () => {
  const channel = new HeartbeatChannel("orch-1", T0);
  channel.probe(T0);
  assert.equal(channel.evidenceAt(T0 + STALL_MS), T0 + STALL_MS);
  assert.equal(channel.evidenceAt(T0 + 5_000), T0 + STALL_MS);
});

Deno.test("another orchestrator's probe, an unknown number or a repeat change nothing", () => {
  const channel = new HeartbeatChannel("orch-1", T0);
  const mine = channel.probe(T0 + 4_000);
  const later = T0 + 9_000;
  channel.seen({ ...mine, orchestrator_id: "orch-2" }, later);
  channel.seen({ ...mine, probe: 99 }, later);
  assert.ok(channel.stalled(later));
  channel.seen(mine, later);
  assert.ok(!channel.stalled(T0 + 4_000 + STALL_MS));
  assert.equal(channel.since, later);
  channel.seen(mine, later + 1); // a duplicate delivery
  assert.equal(channel.since, later);
});

Deno.test("ChannelProbe: probes read back keep the evidence current; a refused write stops probing", async () => {
  const cases = [
    { name: "delivered", error: undefined, evidence: "now", warned: false },
    {
      name: "a transient failure",
      error: { type: "REQUEST_TIMED_OUT" },
      evidence: "stall",
      warned: false,
    },
    {
      name: "not authorized",
      error: { type: "TOPIC_AUTHORIZATION_FAILED" },
      evidence: "now",
      warned: true,
    },
  ];
  for (const c of cases) {
    const bus = new MemoryBus();
    let clock = T0;
    const warnings: string[] = [];
    const logger = createLogger({}, { level: "warn", sink: (line) => warnings.push(line) });
    if (c.error) bus.publish = () => Promise.reject(Object.assign(new Error(c.name), c.error));
    const probe = new ChannelProbe({ bus, logger, now: () => clock, id: "orch-1", probeMs: 500 });
    const sub = await bus.subscribe({
      groupId: "g",
      kinds: ["heartbeat"],
      fromBeginning: false,
      onMessage: (d) => {
        if (d.kind === "heartbeat" && isProbe(d.message)) probe.seen(d.message);
      },
    });
    for (let i = 0; i < 20; i++) {
      clock += 500;
      probe.send();
      await new Promise((r) => setTimeout(r, 0));
    }
    const expected = c.evidence === "now" ? clock : T0 + STALL_MS;
    assert.equal(probe.evidenceAt(clock), expected, c.name);
    assert.equal(warnings.some((w) => w.includes("cannot write probes")), c.warned, c.name);
    await sub.close();
  }
});
