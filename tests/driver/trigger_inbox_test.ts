/**
 * TriggerInbox on its own: which runs, stops and ends the config and trigger messages make of a
 * node in each state, with and without a fleet key. The node's routing over a bus is node_test.ts.
 */
import assert from "node:assert/strict";
import type { Delivered } from "../../shared/bus.ts";
import { signCommand } from "../../shared/command_signature.ts";
import { FleetKey } from "../../shared/fleet_key.ts";
import { createLogger } from "../../shared/log.ts";
import {
  type TestConfigMessage,
  testConfigSchema,
  type TriggerMessage,
} from "../../shared/messages.ts";
import { PENDING_TRIGGER_MS, TriggerInbox } from "../../driver/trigger_inbox.ts";

/** A message delivered, the node's state changed, or the clock moved on. */
type Step = Delivered | { running?: string; ending?: boolean } | { advance: number };

/** A command as the bus delivers it, with its text. */
const deliver = (
  kind: "test_config" | "trigger",
  message: TestConfigMessage | TriggerMessage,
  old?: boolean,
): Delivered => ({ kind, message, text: JSON.stringify(message), old }) as Delivered;
const configOf = (testId: string, drivers?: string[]): Delivered =>
  deliver(
    "test_config",
    testConfigSchema.parse({
      test_id: testId,
      test_type: "AVALANCHE",
      test_message_delay: 0,
      message_count_per_driver: 10,
      target_url: "http://127.0.0.1:9/ping",
      drivers,
    }),
  );
/** Omit over each member of a union. */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A trigger; its timestamp is not read by the inbox. */
const trigger = (message: OmitEach<TriggerMessage, "timestamp">, old = false): Delivered =>
  deliver("trigger", { ...message, timestamp: 0 } as TriggerMessage, old);
const yes = (testId: string, drivers?: string[]) =>
  trigger({ trigger: "YES", test_id: testId, drivers });

/**
 * Runs the steps on an inbox for node "one" (with `fleetKey` if given); returns what it asked the
 * node to do, and its warnings in `warnings`.
 */
function play(
  steps: Step[],
  fleetKey?: FleetKey,
  warnings: string[] = [],
  configs: TestConfigMessage[] = [],
): string[] {
  const calls: string[] = [];
  const state: { running?: string; ending: boolean } = { ending: false };
  let clock = 1_000_000;
  const inbox = new TriggerInbox({
    nodeId: "one",
    logger: createLogger({}, { level: "warn", sink: (line) => warnings.push(line) }),
    now: () => clock,
    fleetKey,
    node: {
      runningTestId: () => state.running,
      ending: () => state.ending,
      run: (testId, config) => {
        configs.push(config);
        calls.push(`run ${testId} (${config.test_id})`);
      },
      stop: (testId) => calls.push(`stop ${testId}`),
      end: () => calls.push("end"),
    },
  });
  for (const step of steps) {
    if ("advance" in step) clock += step.advance;
    else if ("kind" in step) inbox.onMessage(step);
    else Object.assign(state, step);
  }
  return calls;
}

Deno.test("TriggerInbox runs each test once, when configured, for this node, and not busy", () => {
  const rows: [string, Step[], string[]][] = [
    ["config, then trigger", [configOf("t1"), yes("t1")], ["run t1 (t1)"]],
    ["trigger, then config", [yes("t1"), configOf("t1")], ["run t1 (t1)"]],
    ["a repeated trigger", [configOf("t1"), yes("t1"), yes("t1")], ["run t1 (t1)"]],
    ["a config for other drivers", [configOf("t1", ["two"]), yes("t1")], []],
    ["a trigger for other drivers", [configOf("t1"), yes("t1", ["two"])], []],
    ["a trigger naming this driver", [configOf("t1"), yes("t1", ["two", "one"])], ["run t1 (t1)"]],
    ["a trigger sent before the node started", [
      configOf("t1"),
      trigger({ trigger: "YES", test_id: "t1" }, true),
    ], []],
    ["a config at the end of the wait", [
      yes("t1"),
      { advance: PENDING_TRIGGER_MS },
      configOf("t1"),
    ], ["run t1 (t1)"]],
    [
      "a config after the wait",
      [yes("t1"), { advance: PENDING_TRIGGER_MS + 1 }, configOf("t1")],
      [],
    ],
    ["STOP before the config", [
      yes("t1"),
      trigger({ trigger: "STOP", test_id: "t1" }),
      configOf("t1"),
    ], ["stop t1"]],
    [
      "a trigger while another test runs is not remembered as run",
      [configOf("t1"), { running: "t0" }, yes("t1"), { running: undefined }, yes("t1")],
      ["run t1 (t1)"],
    ],
    ["a trigger once the node is ending", [configOf("t1"), { ending: true }, yes("t1")], []],
    ["END for other drivers", [trigger({ trigger: "END", drivers: ["two"] })], []],
    ["END", [trigger({ trigger: "END" })], ["end"]],
  ];
  for (const [name, steps, calls] of rows) assert.deepEqual(play(steps), calls, name);
});

const KEY = new FleetKey("fleet-key-for-the-inbox-test-0123456789");
const OTHER_KEY = new FleetKey("some-other-fleet-key-0123456789-abcdef");
/** `delivered` signed with `key`, as a publisher with that key sends it. */
const signed = (delivered: Delivered, key = KEY): Delivered => {
  if (delivered.kind === "test_config") {
    return deliver(
      "test_config",
      signCommand("test_config", delivered.message, key),
      delivered.old,
    );
  }
  if (delivered.kind === "trigger") {
    return deliver("trigger", signCommand("trigger", delivered.message, key), delivered.old);
  }
  return delivered;
};

Deno.test("with a fleet key, TriggerInbox obeys signed commands only and logs each refusal", () => {
  const forgedConfig = (d: Delivered): Delivered =>
    d.kind === "test_config"
      ? deliver("test_config", { ...d.message, target_url: "http://169.254.169.254/" })
      : d;
  // [name, steps, calls, refusals logged (each a part of one warning)]
  const rows: [string, Step[], string[], string[]][] = [
    ["signed config and trigger", [signed(configOf("t1")), signed(yes("t1"))], ["run t1 (t1)"], []],
    ["an unsigned trigger", [signed(configOf("t1")), yes("t1")], [], [
      "refused a trigger: unsigned test_id=t1 trigger=YES refused_total=1",
    ]],
    [
      "a trigger signed with another key",
      [
        signed(configOf("t1")),
        signed(yes("t1"), OTHER_KEY),
      ],
      [],
      ["refused a trigger: bad signature"],
    ],
    ["an unsigned config", [configOf("t1"), signed(yes("t1"))], [], [
      "refused a test_config: unsigned test_id=t1",
    ]],
    [
      "a signed config aimed elsewhere",
      [forgedConfig(signed(configOf("t1"))), signed(yes("t1"))],
      [],
      ["refused a test_config: bad signature"],
    ],
    [
      "an unsigned STOP and END",
      [
        signed(configOf("t1")),
        signed(yes("t1")),
        { running: "t1" },
        trigger({ trigger: "STOP", test_id: "t1" }),
        trigger({ trigger: "END" }),
      ],
      ["run t1 (t1)"],
      ["trigger: unsigned test_id=t1 trigger=STOP", "trigger=END"],
    ],
    [
      "a signed STOP and END",
      [
        signed(configOf("t1")),
        signed(yes("t1")),
        signed(trigger({ trigger: "STOP", test_id: "t1" })),
        signed(trigger({ trigger: "END" })),
      ],
      ["run t1 (t1)", "stop t1", "end"],
      [],
    ],
  ];
  for (const [name, steps, calls, refusals] of rows) {
    const warnings: string[] = [];
    assert.deepEqual(play(steps, KEY, warnings), calls, name);
    assert.equal(warnings.length, refusals.length, `${name}: ${warnings.join("\n")}`);
    refusals.forEach((want, i) => assert.ok(warnings[i]!.includes(want), warnings[i]));
  }
});

Deno.test("a config that reuses a known test id for another config is refused, signed or not", () => {
  const other = (d: Delivered): Delivered =>
    d.kind === "test_config" ? deliver("test_config", { ...d.message, connections: 500 }) : d;
  const rows: [string, Step[], FleetKey | undefined, string[], number][] = [
    [
      "the same config twice (Kafka redelivers)",
      [
        configOf("t1"),
        configOf("t1"),
        yes("t1"),
      ],
      undefined,
      ["run t1 (t1)"],
      0,
    ],
    [
      "another config under the id, no key",
      [
        configOf("t1"),
        other(configOf("t1")),
        yes("t1"),
      ],
      undefined,
      ["run t1 (t1)"],
      1,
    ],
    [
      "another config under the id, both signed",
      [
        signed(configOf("t1")),
        signed(other(configOf("t1"))),
        signed(yes("t1")),
      ],
      KEY,
      ["run t1 (t1)"],
      1,
    ],
  ];
  for (const [name, steps, key, calls, refused] of rows) {
    const warnings: string[] = [];
    const configs: TestConfigMessage[] = [];
    assert.deepEqual(play(steps, key, warnings, configs), calls, name);
    // The config that runs is the first one: 10 connections, not 500.
    assert.deepEqual(configs.map((c) => c.connections), [10], name);
    assert.equal(warnings.length, refused, `${name}: ${warnings.join("\n")}`);
    if (refused > 0) {
      assert.match(warnings[0]!, /refused a test_config: its test id has another config already/);
    }
  }
});
