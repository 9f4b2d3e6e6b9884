/**
 * `deno task kafka` as a user runs it: it becomes ready, and neither SIGTERM nor a SIGKILL of the
 * Deno process leaves a JVM behind.
 */
import assert from "node:assert/strict";
import { pollUntil } from "../../shared/async.ts";
import { isListening } from "../../shared/probe.ts";
import { killQuietly } from "../../shared/process.ts";
import { freePortPair } from "../support/processes.ts";

async function jvmsFor(port: number): Promise<number[]> {
  const out = await new Deno.Command("pgrep", {
    args: ["-f", `^java .*kafka-${port}/server.properties`],
  })
    .output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((s) => s !== "").map(Number);
}

async function startTask(port: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "kafka", "--port", String(port), "--wipe", "--prefix", "proc-test."],
    // The suite runs with KAFKA_BROKERS set, which would tell the task to start nothing.
    clearEnv: true,
    env: Object.fromEntries(
      Object.entries(Deno.env.toObject()).filter(([k]) => k !== "KAFKA_BROKERS"),
    ),
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    const deadline = Date.now() + 90_000;
    while (!out.includes(" ready on ")) {
      if (Date.now() > deadline) throw new Error(`not ready in time: ${out}`);
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
  } catch (err) {
    child.kill("SIGKILL");
    await new Deno.Command("pkill", { args: ["-KILL", "-f", `kafka/main.ts --port ${port}`] })
      .output();
    throw err;
  } finally {
    await reader.cancel();
    await child.stderr.cancel();
  }
  return { child, out };
}

async function waitGone(port: number, timeoutMs = 20_000) {
  await pollUntil(async () => (await jvmsFor(port)).length === 0 && !(await isListening(port)), {
    what: `the JVM for port ${port} to be gone`,
    timeoutMs,
    intervalMs: 200,
  });
}

Deno.test("deno task kafka: ready line, topics created, SIGTERM stops the JVM", async () => {
  const port = freePortPair();
  const { child, out } = await startTask(port);
  try {
    assert.match(out, new RegExp(`ready on 127\\.0\\.0\\.1:${port}`));
    assert.match(out, /proc-test\.register, proc-test\.test_config, proc-test\.trigger/);
    assert.equal((await jvmsFor(port)).length, 1);
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0);
    await waitGone(port);
  } finally {
    killQuietly(child, "SIGKILL");
    await new Deno.Command("pkill", { args: ["-KILL", "-f", `kafka/main.ts --port ${port}`] })
      .output();
    for (const pid of await jvmsFor(port)) killQuietly(pid, "SIGKILL");
    await Deno.remove(new URL(`../../.data/kafka-${port}`, import.meta.url), { recursive: true })
      .catch(() => {});
  }
});

Deno.test("a SIGKILLed deno task kafka leaves no orphan JVM", async () => {
  const port = freePortPair();
  const { child } = await startTask(port);
  try {
    // `deno task` runs deno as a child: kill the whole tree's Deno side the hard way.
    const pids = await new Deno.Command("pgrep", { args: ["-f", `kafka/main.ts --port ${port}`] })
      .output();
    for (const pid of new TextDecoder().decode(pids.stdout).split("\n").filter(Boolean)) {
      Deno.kill(Number(pid), "SIGKILL");
    }
    child.kill("SIGKILL");
    await child.status;
    await waitGone(port);
  } finally {
    for (const pid of await jvmsFor(port)) killQuietly(pid, "SIGKILL");
    await Deno.remove(new URL(`../../.data/kafka-${port}`, import.meta.url), { recursive: true })
      .catch(() => {});
  }
});
