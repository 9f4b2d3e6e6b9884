/**
 * shared/process.ts against real child processes and real signals: `sleep 60` stops on SIGTERM,
 * and a child that ignores SIGTERM is SIGKILLed once the grace period is over. Every child is
 * SIGKILLed and awaited in a `finally`, also when an assertion fails.
 */
import assert from "node:assert/strict";
import { pollUntil, sleep } from "../../shared/async.ts";
import {
  type Child,
  killQuietly,
  ProcessGroup,
  spawnChild,
  stopWithGrace,
} from "../../shared/process.ts";

/** `sh -c script`, with its output captured. */
function shell(name: string, script: string): { child: Child; output: () => string } {
  let text = "";
  const child = spawnChild({
    name,
    cmd: "sh",
    args: ["-c", script],
    prefix: `${name} | `,
    output: (lines) => text += lines,
  });
  return { child, output: () => text };
}

/** Ignores SIGTERM: an ignored signal stays ignored across `exec`, so `sleep` inherits it. */
const IGNORES_TERM = 'trap "" TERM; echo ready; exec sleep 60';

/** Spawns a bare Deno.Command child with no stdio to drain. */
function command(args: string[]): Deno.ChildProcess {
  return new Deno.Command(args[0]!, {
    args: args.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Stops `child` with stopWithGrace (SIGTERM, SIGKILL after `graceMs`): how, and how long it took. */
async function termThenKill(child: Deno.ChildProcess, graceMs: number) {
  const started = performance.now();
  const status = await stopWithGrace({
    exited: child.status,
    ask: () => child.kill("SIGTERM"),
    force: () => child.kill("SIGKILL"),
    graceMs,
  });
  return { signal: status.signal, tookMs: performance.now() - started };
}

async function cleanUp(...children: Deno.ChildProcess[]): Promise<void> {
  for (const child of children) {
    killQuietly(child, "SIGKILL");
    await child.status;
  }
}

Deno.test("stopWithGrace: `sleep 60` exits on the polite SIGTERM, long before the grace", async () => {
  const child = command(["sleep", "60"]);
  try {
    const { signal, tookMs } = await termThenKill(child, 10_000);
    assert.equal(signal, "SIGTERM");
    assert.ok(tookMs < 5_000, "did not wait for the grace period");
  } finally {
    await cleanUp(child);
  }
});

Deno.test("stopWithGrace: a child that ignores SIGTERM is SIGKILLed after the grace", async () => {
  const child = new Deno.Command("sh", {
    args: ["-c", IGNORES_TERM],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    // SIGTERM before the trap is set would simply end the shell: wait for "ready".
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await reader.read()).value, "ready\n");
    await reader.cancel();
    const { signal, tookMs } = await termThenKill(child, 300);
    assert.equal(signal, "SIGKILL");
    assert.ok(tookMs >= 290 && tookMs < 5_000, `took ${tookMs} ms`);
  } finally {
    await cleanUp(child);
  }
});

Deno.test("stopWithGrace clears its timer when the process exits in time", async () => {
  const child = command(["sleep", "60"]);
  let forced = false;
  try {
    await stopWithGrace({
      exited: child.status,
      ask: () => child.kill("SIGTERM"),
      force: () => forced = true,
      graceMs: 200,
    });
    // The op sanitizer fails the test if the 200 ms timer were still pending; make sure anyway.
    await sleep(300);
    assert.equal(forced, false);
  } finally {
    await cleanUp(child);
  }
});

Deno.test("spawnChild prefixes whole lines of stdout and stderr and flushes them before status", async () => {
  const { child, output } = shell("sh", "echo one; echo two >&2; printf 'no newline'");
  try {
    const status = await child.status;
    assert.equal(status.code, 0);
    assert.equal(child.done(), true);
    const lines = output().split("\n").filter(Boolean).sort();
    assert.deepEqual(lines, ["sh | no newline", "sh | one", "sh | two"]);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
});

Deno.test("Child.stop: SIGTERM first, SIGKILL when ignored, and nothing for an exited child", async () => {
  const polite = shell("polite", "exec sleep 60");
  const stubborn = shell("stubborn", IGNORES_TERM);
  try {
    await pollUntil(() => stubborn.output().includes("ready"), { what: "ready", timeoutMs: 5000 });
    assert.equal((await polite.child.stop()).signal, "SIGTERM");
    const started = performance.now();
    const status = await stubborn.child.stop({ graceMs: 300 });
    assert.equal(status.signal, "SIGKILL");
    assert.ok(performance.now() - started >= 290);
    assert.equal(stubborn.child.done(), true);
    // Stopping again is a no-op that answers the same status.
    assert.equal((await stubborn.child.stop({ graceMs: 1 })).signal, "SIGKILL");
  } finally {
    for (const { child } of [polite, stubborn]) {
      child.kill("SIGKILL");
      await child.status;
    }
  }
});

Deno.test("ProcessGroup.stopAll stops every child, newest first", async () => {
  const group = new ProcessGroup();
  const lines: string[] = [];
  try {
    for (const name of ["server", "client"]) {
      // The trap prints the name as the shell gets SIGTERM, so the output shows the order.
      group.spawn({
        name,
        cmd: "sh",
        args: ["-c", `trap 'echo ${name}; exit 0' TERM; echo up; while :; do sleep 0.05; done`],
        output: (text) => lines.push(...text.trim().split("\n")),
      });
    }
    await pollUntil(() => lines.filter((l) => l === "up").length === 2, {
      what: "both traps to be set",
      timeoutMs: 5000,
    });
    await group.stopAll({ graceMs: 5000 });
    assert.ok(group.children.every((c) => c.done()));
    assert.deepEqual(lines.filter((l) => l !== "up"), ["client", "server"]);
  } finally {
    for (const child of group.children) {
      child.kill("SIGKILL");
      await child.status;
    }
  }
});
