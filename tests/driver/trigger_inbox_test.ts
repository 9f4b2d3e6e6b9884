/**
 * TriggerInbox on its own: which runs, stops and ends the config and trigger messages make of a
 * node in each state. The node's routing over a bus is node_test.ts.
 */
import assert from "node:assert/strict";
import type { Delivered } from "../../shared/bus.ts";
import { createLogger } from "../../shared/log.ts";
import { testConfigSchema, type TriggerMessage } from "../../shared/messages.ts";
import { PENDING_TRIGGER_MS, TriggerInbox } from "../../driver/trigger_inbox.ts";

/** A message delivered, the node's state changed, or the clock moved on. */
type Step = Delivered | { running?: string; ending?: boolean } | { advance: number };

const configOf = (testId: string, drivers?: string[]): Delivered => ({
  kind: "test_config",
  message: testConfigSchema.parse({
    test_id: testId,
    test_type: "AVALANCHE",
    test_message_delay: 0,
    message_count_per_driver: 10,
    target_url: "http://127.0.0.1:9/ping",
    drivers,
  }),
});
/** Omit over each member of a union. */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A trigger; its timestamp is not read by the inbox. */
const trigger = (message: OmitEach<TriggerMessage, "timestamp">, old = false): Delivered => ({
  kind: "trigger",
  message: { ...message, timestamp: 0 } as TriggerMessage,
  old,
});
const yes = (testId: string, drivers?: string[]) =>
  trigger({ trigger: "YES", test_id: testId, drivers });

/** Runs the steps on an inbox for node "one"; returns what it asked the node to do. */
function play(steps: Step[]): string[] {
  const calls: string[] = [];
  const state: { running?: string; ending: boolean } = { ending: false };
  let clock = 1_000_000;
  const inbox = new TriggerInbox({
    nodeId: "one",
    logger: createLogger({}, { sink: () => {} }),
    now: () => clock,
    node: {
      runningTestId: () => state.running,
      ending: () => state.ending,
      run: (testId, config) => calls.push(`run ${testId} (${config.test_id})`),
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
