/**
 * Storage faults on the real orchestrator process, with real Kafka: its data dir on a 2 MB tmpfs
 * that fills up, then its database locked by another connection. What must hold: writes answer
 * 503 naming storage and SQLite's reason, reads keep working, `/healthz` says what is wrong, the
 * process stays up, a metrics report is not acknowledged until it is stored, and everything
 * works again once space is back or the lock is gone.
 *
 * Mounting a tmpfs needs root. CI runs as root; elsewhere the test is skipped, saying so.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { BUSY_TIMEOUT_MS } from "../../orchestrator/database.ts";
import { FakeDriver, latencies } from "../orchestrator/fake_driver.ts";
import { createTestBus, testBrokers, uniquePrefix } from "../support/kafka.ts";
import { eventually, ProcessGroup } from "../support/processes.ts";
import { startOrchestrator } from "../support/cluster.ts";
import { AUTH } from "../support/api_json.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const isRoot = Deno.uid() === 0;
if (!isRoot) {
  console.warn(
    "tests/faults/storage_test.ts is skipped: mounting a tmpfs needs root (CI runs as root)",
  );
}

const TEST = {
  test_type: "AVALANCHE",
  test_message_delay: 0,
  message_count_per_driver: 100,
  target_url: "http://127.0.0.1:9/ping",
};

/** One API call: the status, the JSON body and the headers. Never throws for a status. */
async function api(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? AUTH : { ...AUTH, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json, headers: res.headers };
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; text: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  return { ok: out.success, text };
}

/** CPU time a process has used so far, in seconds (Linux: utime + stime, 100 ticks/s). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Writes zeros to `path` until the file system is full; returns the bytes written. */
async function fillUp(path: string): Promise<number> {
  const file = await Deno.open(path, { create: true, write: true });
  let written = 0;
  try {
    for (const size of [64 * 1024, 4096, 512]) {
      const chunk = new Uint8Array(size);
      try {
        for (;;) written += await file.write(chunk);
      } catch {
        // ENOSPC: on to smaller chunks for the rest
      }
    }
  } finally {
    file.close();
  }
  return written;
}

Deno.test({
  name:
    "faults: a full disk and a locked database answer 503; the orchestrator stays up and recovers",
  ignore: !isRoot,
  // kafkajs (the test's own bus) leaves internal timers behind; every client is closed.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "surge-tmpfs-" });
    const group = new ProcessGroup();
    const prefix = uniquePrefix("faults");
    let bus: Awaited<ReturnType<typeof createTestBus>>["bus"] | undefined;
    let mounted = false;
    let heartbeats: ReturnType<typeof setInterval> | undefined;
    try {
      const mount = await run("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir]);
      assert.ok(mount.ok, `mount -t tmpfs failed: ${mount.text}`);
      mounted = true;
      bus = (await createTestBus("faults-storage", prefix)).bus;
      const env = { KAFKA_BROKERS: testBrokers().join(","), SURGE_TOPIC_PREFIX: prefix };
      const { child: orchestrator, base } = await startOrchestrator(group, env, dir);
      await eventually(
        "Kafka connected",
        async () => (await api(base, "GET", "/healthz")).status === 200,
        60_000,
      );
      // A running test on driver "one", played by this test: heartbeats busy with the test
      // (an idle or silent driver would be counted lost), and a report published by hand.
      const first = await api(base, "POST", "/api/tests", TEST);
      assert.equal(first.status, 201);
      const testId = String(first.body.test_id);
      const beat = (test_id: string | null) =>
        bus!.publish("heartbeat", {
          node_id: "one",
          heartbeat: "YES",
          timestamp: Date.now(),
          test_id,
        });
      await beat(null);
      await eventually(
        "driver one alive",
        async () =>
          (await api(base, "GET", "/api/drivers")).body.drivers.some((d: Json) =>
            d.node_id === "one" && d.status === "alive"
          ),
      );
      heartbeats = setInterval(() => beat(testId).catch(() => {}), 500);
      assert.equal((await api(base, "POST", `/api/tests/${testId}/trigger`)).status, 200);

      await t.step(
        "a full disk: writes answer 503, reads work, nothing is acknowledged",
        async () => {
          const filler = `${dir}/filler`;
          const bytes = await fillUp(filler);
          assert.ok(bytes > 0 && bytes < 2 * 1024 * 1024, `filler ${bytes} bytes`);
          // SQLite may still fit a few rows in pages it already has; then the disk refuses.
          let refused: Awaited<ReturnType<typeof api>> | undefined;
          for (let i = 0; i < 300 && !refused; i++) {
            const res = await api(base, "POST", "/api/tests", TEST);
            assert.ok(res.status === 201 || res.status === 503, `${res.status}: ${res.body.error}`);
            if (res.status === 503) refused = res;
          }
          assert.ok(refused, "300 tests created on a full 2 MB disk");
          assert.match(
            refused.body.error,
            /^Storage unavailable: cannot insert test ".+": database or disk is full \(SQLITE_FULL\)$/,
          );
          assert.equal(refused.headers.get("retry-after"), "5");

          const read = await api(base, "GET", `/api/tests/${testId}`);
          assert.equal(read.status, 200, "stored tests are still served");
          assert.equal((await api(base, "GET", "/api/tests")).status, 200);
          const health = await api(base, "GET", "/healthz");
          assert.equal(health.status, 200, "alive");
          assert.equal(health.body.ok, false);
          assert.equal(health.body.storage.writable, false);
          assert.match(health.body.storage.error, /SQLITE_FULL/);

          // A driver's report for the test: it cannot be stored, so it must not be
          // acknowledged. It is tried again after 250, 500, 1000 and 2000 ms: the 4th try comes
          // 1.75 s after the 1st, time a process retrying without a pause would spend on CPU.
          const driver = new FakeDriver("one", testId, Date.now()).record(
            latencies(1, 25, 1000, 100),
          );
          await bus!.publish("metrics", driver.report(1000));
          const retry = (n: number) => new RegExp(`not handled yet.*metrics.*attempt=${n} `);
          await orchestrator.waitForOutput(retry(1), 30_000);
          const [cpu, wall] = [await cpuSeconds(orchestrator.pid), performance.now()];
          await orchestrator.waitForOutput(retry(4), 30_000);
          const cpuUsed = await cpuSeconds(orchestrator.pid) - cpu;
          const wallUsed = (performance.now() - wall) / 1000;
          assert.ok(cpuUsed < wallUsed / 2, `${cpuUsed} s of CPU in ${wallUsed} s of retrying`);
          const pauses = [...orchestrator.output().matchAll(/retry_in_ms=(\d+)/g)].map((m) =>
            Number(m[1])
          );
          assert.deepEqual(pauses, [250, 500, 1000, 2000]);
          assert.equal((await api(base, "GET", "/healthz")).body.counters.metrics_accepted, 0);
          assert.equal((await api(base, "GET", `/api/tests/${testId}`)).body.overall.responses, 0);
          assert.ok(!orchestrator.done(), "the orchestrator is still running");

          await Deno.remove(filler);
          const again = await api(base, "POST", "/api/tests", TEST);
          assert.equal(again.status, 201, "space is back: tests can be created again");
          assert.equal((await api(base, "GET", "/healthz")).body.storage.writable, true);
          // The report is tried again when the current pause ends (at most 4 s), and stored.
          await eventually("the report stored", async () => {
            const view = await api(base, "GET", `/api/tests/${testId}`);
            return view.body.overall.responses === 25;
          }, 20_000);
          assert.equal((await api(base, "GET", "/healthz")).body.counters.metrics_accepted, 1);
          await orchestrator.waitForOutput(/message handled .*metrics.*attempts=5/);
        },
      );

      await t.step("a locked database: 503 after the busy timeout, then works again", async () => {
        const other = new DatabaseSync(`${dir}/surge.sqlite`);
        try {
          other.exec("BEGIN EXCLUSIVE");
          const started = performance.now();
          const refused = await api(base, "POST", "/api/tests", TEST);
          const waited = performance.now() - started;
          assert.equal(refused.status, 503);
          assert.match(refused.body.error, /database is locked \(SQLITE_BUSY\)$/);
          assert.ok(waited >= BUSY_TIMEOUT_MS * 0.9, `answered after ${waited} ms`);
          assert.equal((await api(base, "GET", `/api/tests/${testId}`)).status, 200);
          assert.equal((await api(base, "GET", "/healthz")).body.storage.writable, false);
          other.exec("ROLLBACK");
          assert.equal((await api(base, "POST", "/api/tests", TEST)).status, 201);
          assert.equal((await api(base, "GET", "/healthz")).body.ok, true);
        } finally {
          other.close();
        }
        assert.ok(!orchestrator.done(), "the orchestrator is still running");
      });
    } finally {
      clearInterval(heartbeats);
      await bus?.close();
      await group.stopAll();
      if (mounted && !(await run("umount", [dir])).ok) await run("umount", ["-l", dir]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
