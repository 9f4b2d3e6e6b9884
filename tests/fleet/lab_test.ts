/**
 * The fleet lab itself (tests/support/netns_lab.ts), for real: hosts reach each other and the
 * test process, and nothing else; the guard route is there while the lab is and gone after if
 * it was not there before; a pulled cable cuts a host off until it is plugged in again; an impaired
 * link delays and drops a host's frames; leftovers of a crashed lab are removed; after `close` no
 * `sl-` namespace or link remains.
 */
import assert from "node:assert/strict";
import { GUARD_ROUTE, Lab, LAB_LOCK_FILE, type LabHost } from "../support/netns_lab.ts";
import { run, toolPath, tryRun } from "../support/ip_tools.ts";
import { requireLab, skipLab } from "./lab_support.ts";

const ip = skipLab ? "" : await toolPath("ip");
const PORT = 8080;

async function guardRouted(): Promise<boolean> {
  return (await run(ip, ["route", "show", GUARD_ROUTE])).includes("unreachable");
}

async function labNames(): Promise<string[]> {
  const namespaces = (await run(ip, ["netns", "list"])).split("\n").map((l) => l.split(" ")[0]!);
  const links = (await run(ip, ["-o", "link", "show"])).split("\n").map((l) =>
    l.split(": ")[1] ?? ""
  );
  return [...namespaces, ...links].filter((n) => n.startsWith("sl-"));
}

/** An HTTP server on `host` that answers with the host's name. */
async function serve(lab: Lab, host: LabHost): Promise<void> {
  const code =
    `Deno.serve({ hostname: "${host.address}", port: ${PORT} }, () => new Response("${host.name}"))`;
  await lab.spawnDeno(host, `http-${host.name}`, ["eval", code]).waitForOutput(/Listening/, 30_000);
}

/** What `host` gets from `url`, or the error, run on the host itself. */
async function fetchFrom(lab: Lab, host: LabHost, url: string): Promise<string> {
  const code = `const t = performance.now();
    try { console.log(await (await fetch("${url}", { signal: AbortSignal.timeout(5000) })).text()); }
    catch (e) { console.log("error after " + Math.round(performance.now() - t) + " ms: " + (e.cause?.message ?? e.message)); }`;
  const out = await lab.exec(host, Deno.execPath(), ["eval", code]);
  return out.stdout.trim();
}

/** How long a TCP connect to `address` takes from here, in ms. */
async function connectMs(address: string): Promise<number> {
  const t = performance.now();
  const conn = await Deno.connect({ hostname: address, port: PORT });
  const ms = performance.now() - t;
  conn.close();
  return ms;
}

async function fetchFails(url: string, ms: number): Promise<boolean> {
  try {
    await (await fetch(url, { signal: AbortSignal.timeout(ms) })).text();
    return false;
  } catch {
    return true;
  }
}

Deno.test({
  name:
    "the fleet lab: hosts reach each other and nothing else, cables and wires work, close leaves nothing",
  ignore: skipLab,
  fn: async () => {
    requireLab();
    const routedBefore = await guardRouted();
    const lab = await Lab.open();
    try {
      assert.ok(await guardRouted(), "no unreachable route while the lab exists");
      const a = await lab.addHost("a", 1);
      const b = await lab.addHost("b", 2);
      const w = await lab.addHost("w", 3);
      await Promise.all([serve(lab, b), serve(lab, w)]);

      // Host to host, and the test process to a host, over the switch.
      assert.equal(await fetchFrom(lab, a, `http://${b.address}:${PORT}/`), "b");
      assert.equal(await fetchFrom(lab, a, `http://${w.address}:${PORT}/`), "w");
      assert.equal(await (await fetch(`http://${b.address}:${PORT}/`)).text(), "b");

      // Nothing outside: a host has no route but the lab's; the root namespace's guard answers
      // for the rest of 198.18/15. Both fail at once, before a packet could leave.
      const routes = (await run(ip, ["-n", a.ns, "route", "show"])).trim();
      assert.equal(routes.split("\n").length, 1, routes);
      assert.match(routes, /^198\.18\.0\.0\/24 dev eth0/);
      const outside = await fetchFrom(lab, a, "http://192.0.2.1/");
      assert.match(outside, /^error after \d+ ms: .*unreachable/i, outside);
      assert.ok(Number(outside.match(/after (\d+)/)![1]) < 1_000, outside);
      const t = performance.now();
      await assert.rejects(
        Deno.connect({ hostname: "198.18.1.1", port: PORT }),
        /unreachable|no route/i,
      );
      assert.ok(performance.now() - t < 1_000);

      // A pulled cable: the host is cut off, and back once plugged in.
      await lab.linkDown(b);
      assert.ok(
        await fetchFails(`http://${b.address}:${PORT}/`, 1_000),
        "b answered with its cable pulled",
      );
      await lab.linkUp(b);
      assert.equal(await (await fetch(`http://${b.address}:${PORT}/`)).text(), "b");

      // Impaired: 50 ms on every frame w sends (its SYN-ACK included), then all of them lost;
      // cleared, its frames take the kernel's path again.
      const before = Math.min(await connectMs(w.address), await connectMs(w.address));
      await lab.impair(w, { delayMs: 50, loss: 0 });
      const delayed = [
        await connectMs(w.address),
        await connectMs(w.address),
        await connectMs(w.address),
      ];
      console.error(
        `lab wire: connect ${before.toFixed(1)} ms clear, ${
          delayed.map((d) => d.toFixed(1))
        } ms at 50 ms`,
      );
      assert.ok(before < 50, `connect took ${before} ms with no delay`);
      for (const ms of delayed) assert.ok(ms >= 50, `connect took ${ms} ms through a 50 ms delay`);
      await lab.impair(w, { delayMs: 0, loss: 1 });
      assert.ok(
        await fetchFails(`http://${w.address}:${PORT}/`, 1_000),
        "w answered through 100 % loss",
      );
      await lab.impair(w, { delayMs: 0, loss: 0 });
      assert.equal(await (await fetch(`http://${w.address}:${PORT}/`)).text(), "w");
      const after = Math.min(await connectMs(w.address), await connectMs(w.address));
      assert.ok(after < 50, `connect took ${after} ms once cleared`);
    } finally {
      await lab.close();
    }
    assert.deepEqual(await labNames(), []);
    assert.equal(await guardRouted(), routedBefore, "the route was not restored to how it was");
  },
});

Deno.test({
  name: "the fleet lab removes what a crashed lab left: its processes, namespaces, links and route",
  ignore: skipLab,
  fn: async () => {
    requireLab();
    const routedBefore = await guardRouted();
    // A crashed lab: a namespace with a process in it, a root link, and a lock whose holder is
    // gone (a pid that just exited) that had added the route.
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    await run(ip, ["netns", "add", "sl-crashed"]);
    const orphan = new Deno.Command(ip, {
      args: ["netns", "exec", "sl-crashed", "sleep", "600"],
      stdin: "null",
    }).spawn();
    try {
      await run(ip, ["link", "add", "sl-crashed0", "type", "veth", "peer", "name", "sl-crashed1"]);
      if (!routedBefore) await run(ip, ["route", "add", "unreachable", GUARD_ROUTE]);
      await Deno.writeTextFile(
        LAB_LOCK_FILE,
        JSON.stringify({ pid: gone.pid, started: "1", route_added: !routedBefore }),
        { createNew: true }, // another run's live lab keeps its lock
      );
      const lab = await Lab.open();
      try {
        assert.equal((await orphan.status).signal, "SIGKILL");
        const left = (await labNames()).filter((n) => n.includes("crashed"));
        assert.deepEqual(left, []);
      } finally {
        await lab.close();
      }
      assert.deepEqual(await labNames(), []);
      assert.equal(await guardRouted(), routedBefore);
    } finally {
      try {
        orphan.kill("SIGKILL");
      } catch { /* the lab killed it */ }
      await orphan.status;
      await tryRun(ip, ["netns", "del", "sl-crashed"]);
      await tryRun(ip, ["link", "del", "sl-crashed0"]);
    }
  },
});
