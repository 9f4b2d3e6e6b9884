/**
 * The orchestrator process and its API access: it refuses to bind anything but loopback without
 * SURGE_API_TOKEN, generates its token file (mode 0600) on the first start and reuses it, and on
 * the wire answers a foreign `Host` with 421. Its Kafka is a port nothing listens on: the API
 * serves before Kafka connects, and a SIGTERM while connecting stops it at once.
 */
import assert from "node:assert/strict";
import { startOrchestrator } from "../support/cluster.ts";
import { ProcessGroup } from "../support/processes.ts";

const root = new URL("../..", import.meta.url).pathname;

/** No broker there; blank SURGE_API_TOKEN counts as unset, whatever the test run's env holds. */
const ENV = { KAFKA_BROKERS: "127.0.0.1:1", SURGE_API_TOKEN: "", LOG_LEVEL: "info" };

/** One request written by hand, so the Host header is whatever the test says. */
async function rawGet(port: number, host: string, path: string, token: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const head = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\n` +
      "Connection: close\r\n\r\n";
    await conn.write(new TextEncoder().encode(head));
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    return Number(new TextDecoder().decode(buf.subarray(0, n ?? 0)).split(" ")[1]);
  } finally {
    conn.close();
  }
}

const get = async (base: string, path: string, token?: string) => {
  const res = await fetch(`${base}${path}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  await res.body?.cancel();
  return res.status;
};

Deno.test("the orchestrator refuses to bind a non-loopback address without SURGE_API_TOKEN (exit 2)", async () => {
  for (const [args, name] of [[["--host", "0.0.0.0"], "--host"], [[], "SURGE_HOST"]] as const) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "orchestrator/main.ts", "--port", "0", ...args],
      cwd: root,
      env: { ...ENV, SURGE_HOST: "0.0.0.0" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 2);
    assert.equal(
      new TextDecoder().decode(out.stderr),
      `orchestrator: ${name} 0.0.0.0 is not a loopback address: set SURGE_API_TOKEN (at least 16 ` +
        "characters) to the token clients must send; surge serves nothing beyond this machine " +
        "without one\nRun with --help for usage.\n",
    );
  }
});

Deno.test({
  name:
    "the orchestrator creates its token file (0600) once, reuses it, and answers 421 to Host: evil.example",
  // The children are stopped in the finally; their pipes outlive single ops.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "surge-access-" });
    const group = new ProcessGroup();
    try {
      let { child, base } = await startOrchestrator(group, ENV, dataDir);
      const file = `${dataDir}/api_token`;
      assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
      const token = (await Deno.readTextFile(file)).trim();
      assert.match(token, /^[0-9a-f]{64}$/);
      assert.ok(!child.output().includes(token), "the token is never logged");
      assert.match(child.output(), /API token generated/);

      assert.equal(await get(base, "/api/tests"), 401);
      assert.equal(await get(base, "/api/tests", "wrong-token-0123456789"), 401);
      assert.equal(await get(base, "/api/tests", token), 200);
      assert.equal(await get(base, "/healthz"), 503, "open (503: Kafka is not connected)");
      const port = Number(new URL(base).port);
      assert.equal(await rawGet(port, "evil.example", "/api/tests", token), 421);
      assert.equal(await rawGet(port, `evil.example:${port}`, "/healthz", token), 421);
      assert.equal(await rawGet(port, `localhost:${port}`, "/api/tests", token), 200);

      // Restarted on the same data dir: the same token, read back rather than made anew.
      await child.stop();
      ({ child, base } = await startOrchestrator(group, ENV, dataDir));
      assert.equal((await Deno.readTextFile(file)).trim(), token);
      assert.match(child.output(), /API token read/);
      assert.equal(await get(base, "/api/tests", token), 200);
    } finally {
      await group.stopAll();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "with SURGE_API_TOKEN the orchestrator binds 0.0.0.0, writes no token file and takes that token",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "surge-access-" });
    const group = new ProcessGroup();
    const token = "chosen-by-the-operator-0123456789";
    try {
      const args = ["run", "-A", "orchestrator/main.ts", "--port", "0", "--data-dir", dataDir];
      const child = group.spawnDeno("orchestrator", [...args, "--host", "0.0.0.0"], {
        ...ENV,
        SURGE_API_TOKEN: token,
      });
      const [, base] = await child.waitForOutput(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      assert.equal(await get(base!, "/api/tests", token), 200);
      assert.equal(await get(base!, "/api/tests"), 401);
      await assert.rejects(Deno.stat(`${dataDir}/api_token`), Deno.errors.NotFound);
      assert.match(child.output(), /API token from SURGE_API_TOKEN/);
    } finally {
      await group.stopAll();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
