/**
 * The fleet lab's lock (tests/support/lab_lock.ts): one holder at a time, a dead holder's lock
 * taken over with what it had added, a half-written file waited for briefly, never for ever.
 */
import assert from "node:assert/strict";
import { LabLock, parseLockState, processStart } from "../support/lab_lock.ts";

const quiet = () => {};

/** A pid that belonged to a process which has exited. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "surge-lab-lock-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("parseLockState reads a holder and refuses anything else", () => {
  const rows: [string, unknown][] = [
    ['{"pid":12,"started":"345"}', { pid: 12, started: "345" }],
    ['{"pid":12,"started":"345","route_added":true}', {
      pid: 12,
      started: "345",
      route_added: true,
    }],
    ["", undefined],
    ['{"pid":"12","started":"345"}', undefined],
    ['{"pid":12}', undefined],
    ["{not json", undefined],
  ];
  for (const [text, want] of rows) assert.deepEqual(parseLockState(text), want, text);
});

Deno.test("processStart tells a live process's start time and nothing for a dead one", async () => {
  assert.match((await processStart(Deno.pid))!, /^\d+$/);
  assert.equal(await processStart(await deadPid()), undefined);
});

Deno.test("LabLock: a live holder keeps it; released, it is free; state updates are kept", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/lock`;
    const { lock, stale } = await LabLock.acquire(path, { timeoutMs: 1_000, log: quiet });
    assert.equal(stale, undefined);
    await lock.update({ route_added: true });
    assert.deepEqual(parseLockState(await Deno.readTextFile(path)), {
      pid: Deno.pid,
      started: await processStart(Deno.pid),
      route_added: true,
    });
    const t = Date.now();
    await assert.rejects(
      LabLock.acquire(path, { timeoutMs: 600, log: quiet }),
      /another fleet lab holds/,
    );
    assert.ok(Date.now() - t >= 600);
    await lock.release();
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
    const again = await LabLock.acquire(path, { timeoutMs: 1_000, log: quiet });
    await again.lock.release();
  });
});

Deno.test("LabLock: a dead holder's lock is taken over at once, with its state", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/lock`;
    const rows = [
      { pid: await deadPid(), started: "1", route_added: true },
      // A live pid with another start time: the pid was reused, the holder is gone.
      { pid: Deno.pid, started: "0" },
    ];
    for (const dead of rows) {
      await Deno.writeTextFile(path, JSON.stringify(dead));
      const lines: string[] = [];
      const t = Date.now();
      const { lock, stale } = await LabLock.acquire(path, {
        timeoutMs: 0,
        log: (l) => lines.push(l),
      });
      assert.ok(Date.now() - t < 1_000);
      assert.deepEqual(stale, dead);
      assert.match(lines.join("\n"), /taking over the stale lab lock/);
      await lock.release();
    }
  });
});

Deno.test("LabLock: an unreadable lock is a holder still writing it for 5 s, then stale", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/lock`;
    await Deno.writeTextFile(path, "");
    await assert.rejects(
      LabLock.acquire(path, { timeoutMs: 300, log: quiet }),
      /another fleet lab/,
    );
    const old = new Date(Date.now() - 10_000);
    await Deno.utime(path, old, old);
    const { lock, stale } = await LabLock.acquire(path, { timeoutMs: 0, log: quiet });
    assert.equal(stale, undefined);
    await lock.release();
  });
});
