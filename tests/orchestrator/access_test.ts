/**
 * Who may use the orchestrator's HTTP server (orchestrator/api_access.ts), in-process: the app
 * of a harness served as http://127.0.0.1:8000, requests sent with `app.request()` and the
 * headers a browser or a script would send.
 */
import assert from "node:assert/strict";
import { TOKEN_COOKIE } from "../../orchestrator/api_access.ts";
import { servedHosts } from "../../orchestrator/served_hosts.ts";
import { AUTH, TEST_API_TOKEN } from "../support/api_json.ts";
import { AVALANCHE, call, createHarness, type Harness } from "./harness.ts";

const BASE = "http://127.0.0.1:8000";

/** A harness whose app answers for 127.0.0.1:8000 (and localhost:8000, [::1]:8000). */
async function served(): Promise<Harness & { shutdowns: () => number }> {
  let shutdowns = 0;
  const h = await createHarness({
    app: {
      access: { token: TEST_API_TOKEN, servesHost: servedHosts("127.0.0.1", () => 8000) },
      shutdown: () => void shutdowns++,
    },
  });
  return { ...h, shutdowns: () => shutdowns };
}

/** A request to the app at {@link BASE} (or a full URL), answered in-process. */
async function send(h: Harness, method: string, path: string, headers: HeadersInit = {}) {
  const url = path.startsWith("http") ? path : `${BASE}${path}`;
  const res = await h.app.request(url, { method, headers, redirect: "manual" });
  const text = await res.text();
  const json = res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : undefined;
  return { status: res.status, headers: res.headers, text, json };
}

/** Every route that changes something, and every read that shows a test's config. */
const GUARDED: [string, string][] = [
  ["POST", "/api/tests"],
  ["DELETE", "/api/tests/t1"],
  ["POST", "/api/tests/t1/trigger"],
  ["POST", "/api/tests/t1/stop"],
  ["POST", "/api/end"],
  ["POST", "/api/shutdown"],
  ["GET", "/api/tests"],
  ["GET", "/api/tests/t1"],
  ["GET", "/api/tests/t1/timeseries"],
  ["GET", "/api/tests/t1/report?format=json"],
  ["GET", "/api/tests/t1/report?format=csv"],
  ["GET", "/api/drivers"],
  ["GET", "/dashboard/snapshot"],
  ["GET", "/dashboard/events"],
];

Deno.test("every command and every read of test configs answers 401 without the right token", async () => {
  const h = await served();
  try {
    await h.heartbeat("one");
    assert.equal((await call(h.app, "POST", `${BASE}/api/tests`, AVALANCHE)).status, 201);
    const before = h.bus.log.length;
    const cases: [string, HeadersInit, string][] = [
      ["no token", {}, 'Bearer realm="surge"'],
      ["a wrong bearer token", { authorization: "Bearer wrong-token-0123456789" }, "invalid"],
      ["another scheme", { authorization: `Basic ${btoa(`u:${TEST_API_TOKEN}`)}` }, "invalid"],
      ["a wrong login cookie", { cookie: `${TOKEN_COOKIE}=wrong-token-0123456789` }, "invalid"],
    ];
    for (const [method, path] of GUARDED) {
      for (const [what, headers, challenge] of cases) {
        const res = await send(h, method, path, { "content-type": "application/json", ...headers });
        const at = `${method} ${path} with ${what}`;
        assert.equal(res.status, 401, at);
        assert.match(res.json.error, what === "no token" ? /API token required/ : /token/i, at);
        assert.deepEqual(Object.keys(res.json), ["error"], `${at}: the one error shape`);
        assert.ok(!res.text.includes(AVALANCHE.target_url), `${at}: no config leaks`);
        const header = res.headers.get("www-authenticate") ?? "";
        assert.equal(
          header,
          challenge === "invalid" ? 'Bearer realm="surge", error="invalid_token"' : challenge,
          at,
        );
      }
    }
    // Nothing happened: no message published, no test created or deleted, no shutdown.
    assert.equal(h.bus.log.length, before);
    assert.deepEqual(h.controller.listTests().map((t) => [t.test_id, t.state]), [[
      "t1",
      "created",
    ]]);
    assert.equal(h.shutdowns(), 0);
  } finally {
    await h.close();
  }
});

Deno.test("the token opens every route, as a bearer header from any origin", async () => {
  const h = await served();
  try {
    await h.heartbeat("one");
    // A script elsewhere (a CI job, another site's server) with the token is fine.
    const anywhere = { ...AUTH, origin: "https://ci.example", "sec-fetch-site": "cross-site" };
    const created = await h.app.request(`${BASE}/api/tests`, {
      method: "POST",
      headers: { ...anywhere, "content-type": "application/json" },
      body: JSON.stringify(AVALANCHE),
    });
    assert.equal(created.status, 201);
    // (The event stream is left out: it does not end by itself.)
    for (const [method, path] of GUARDED.filter(([m, p]) => m === "GET" && !p.includes("events"))) {
      assert.equal((await send(h, method, path, anywhere)).status, 200, `${method} ${path}`);
    }
  } finally {
    await h.close();
  }
});

Deno.test("the health check, docs, static files and the login page need no token", async () => {
  const h = await served();
  try {
    for (const path of ["/healthz", "/api/openapi.json", "/api/docs", "/login", "/favicon.ico"]) {
      const res = await send(h, "GET", path);
      assert.ok(res.status === 200 || res.status === 204, `${path}: ${res.status}`);
    }
    for (const file of ["style.css", "dashboard.js", "uPlot.iife.min.js"]) {
      assert.equal((await send(h, "GET", `/dashboard/${file}`)).status, 200, file);
    }
    // Only the files by name: anything else under /dashboard/ is closed.
    assert.equal((await send(h, "GET", "/dashboard/nope.js")).status, 401);
    const spec = (await send(h, "GET", "/api/openapi.json")).json;
    assert.deepEqual(spec.security, [{ bearer: [] }]);
    assert.deepEqual(spec.components.securitySchemes.bearer, {
      type: "http",
      scheme: "bearer",
      description: "The orchestrator's API token (SURGE_API_TOKEN, or api_token in its data dir)",
    });
    assert.deepEqual(spec.paths["/healthz"].get.security, []);
    assert.ok(spec.paths["/api/end"].post.responses["401"]);
  } finally {
    await h.close();
  }
});

Deno.test("a Host the server does not serve answers 421, even with the token (DNS rebinding)", async () => {
  const h = await served();
  try {
    for (const host of ["evil.example", "evil.example:8000", "127.0.0.1:8080", "127.0.0.1", "x"]) {
      for (const path of ["/healthz", "/api/tests", "/", "/login"]) {
        const res = await send(h, "GET", `http://${host}${path}`, AUTH);
        assert.equal(res.status, 421, `Host ${host} ${path}`);
        assert.equal(
          res.json.error,
          `This server does not answer for host "${host}": use the address it listens on, or ` +
            "start it with --public-host for the name clients use",
        );
      }
    }
    // The Host header decides, not the URL (a proxy may forward to 127.0.0.1).
    const header = await send(h, "GET", "/api/tests", { ...AUTH, host: "evil.example" });
    assert.equal(header.status, 421);
    for (const host of ["127.0.0.1:8000", "localhost:8000", "LOCALHOST:8000", "[::1]:8000"]) {
      assert.equal((await send(h, "GET", `http://${host}/api/tests`, AUTH)).status, 200, host);
    }
  } finally {
    await h.close();
  }
});

/** Logs in through the form as a browser on {@link BASE} does; returns the Cookie header. */
async function logIn(h: Harness): Promise<string> {
  const res = await h.app.request(`${BASE}/login`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: BASE,
      "sec-fetch-site": "same-origin",
    },
    body: new URLSearchParams({ token: TEST_API_TOKEN, next: "/?test=t1" }),
    redirect: "manual",
  });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/?test=t1");
  const cookie = res.headers.get("set-cookie") ?? "";
  assert.match(cookie, new RegExp(`^${TOKEN_COOKIE}=${TEST_API_TOKEN};`));
  for (const attribute of ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=2592000"]) {
    assert.ok(cookie.includes(attribute), `${attribute} in ${cookie}`);
  }
  assert.ok(!cookie.includes("Secure"), "no Secure over plain http: the browser would drop it");
  return cookie.split(";")[0]!;
}

Deno.test("the dashboard asks for the token once, then works with its HttpOnly cookie", async () => {
  const h = await served();
  try {
    // Without a login, the pages send the browser to the form, keeping where it was going.
    const page = await send(h, "GET", "/?test=t1");
    assert.equal(page.status, 303);
    assert.equal(page.headers.get("location"), "/login?next=%2F%3Ftest%3Dt1");
    const report = await send(h, "GET", "/reports/t1.html");
    assert.equal(report.headers.get("location"), "/login?next=%2Freports%2Ft1.html");
    const form = await send(h, "GET", "/login?next=%2F%3Ftest%3Dt1");
    assert.match(form.text, /<form method="post" action="\/login">/);
    assert.match(form.text, /name="next" value="\/\?test=t1"/);

    const wrong = await h.app.request(`${BASE}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE },
      body: new URLSearchParams({ token: "wrong-token-0123456789", next: "/" }),
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    assert.match(await wrong.text(), /Wrong API token/);

    const cookie = await logIn(h);
    // The dashboard's own calls, as Chromium sends them: same-origin fetch, EventSource, pages.
    const same = { cookie, "sec-fetch-site": "same-origin" };
    assert.equal((await send(h, "GET", "/", same)).status, 200);
    assert.equal((await send(h, "GET", "/dashboard/snapshot", same)).status, 200);
    const created = await h.app.request(`${BASE}/api/tests`, {
      method: "POST",
      headers: { ...same, origin: BASE, "content-type": "application/json" },
      body: JSON.stringify(AVALANCHE),
    });
    assert.equal(created.status, 201);
    // A typed URL or a bookmark: Sec-Fetch-Site none, no Origin.
    assert.equal((await send(h, "GET", "/", { cookie, "sec-fetch-site": "none" })).status, 200);
    // An old browser without Sec-Fetch-*: the cookie alone works for a same-origin GET.
    assert.equal((await send(h, "GET", "/api/tests", { cookie })).status, 200);
  } finally {
    await h.close();
  }
});

Deno.test("a cross-origin form POST to /api/end carrying only the login cookie is refused", async () => {
  const h = await served();
  try {
    await h.heartbeat("one");
    const cookie = await logIn(h);
    const form = { cookie, "content-type": "application/x-www-form-urlencoded" };
    const refused: [string, HeadersInit][] = [
      ["another site", { ...form, origin: "http://evil.example", "sec-fetch-site": "cross-site" }],
      ["another port of this host", {
        ...form,
        origin: "http://127.0.0.1:8080",
        "sec-fetch-site": "same-site",
      }],
      ["an opaque origin", { ...form, origin: "null" }],
      ["no Origin, cross-site", { ...form, "sec-fetch-site": "cross-site" }],
      ["no Origin, same-site", { ...form, "sec-fetch-site": "same-site" }],
    ];
    for (const [what, headers] of refused) {
      const res = await send(h, "POST", "/api/end", headers);
      assert.equal(res.status, 403, what);
      assert.match(res.json.error, /^Refused a cross-origin request \(.+\) authenticated only by/);
    }
    // The same from another origin with the bearer token is fine; nothing was ended before.
    assert.deepEqual(h.published("trigger"), []);
    const withToken = await send(h, "POST", "/api/end", {
      ...AUTH,
      origin: "http://evil.example",
      "sec-fetch-site": "cross-site",
    });
    assert.equal(withToken.status, 200);
    assert.equal(h.published("trigger").length, 1);
    // A cross-origin login is refused too: it would sign the browser in with another token.
    const login = await h.app.request(`${BASE}/login`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "http://evil.example",
      },
      body: new URLSearchParams({ token: TEST_API_TOKEN }),
    });
    assert.equal(login.status, 403);
    assert.equal(login.headers.get("set-cookie"), null);
  } finally {
    await h.close();
  }
});

Deno.test("login: `next` stays on this server; an https page gets a Secure cookie", async () => {
  const h = await createHarness({
    app: {
      access: {
        token: TEST_API_TOKEN,
        servesHost: servedHosts("127.0.0.1", () => 8000, [{ name: "surge.example.com" }]),
      },
    },
  });
  try {
    for (const [next, want] of [["//evil.example/x", "/"], ["/\\evil.example", "/"], ["x", "/"]]) {
      const res = await h.app.request("https://surge.example.com/login", {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          origin: "https://surge.example.com",
        },
        body: new URLSearchParams({ token: TEST_API_TOKEN, next: next! }),
        redirect: "manual",
      });
      assert.equal(res.status, 303, next);
      assert.equal(res.headers.get("location"), want, next);
      assert.match(res.headers.get("set-cookie") ?? "", /; Secure/);
    }
  } finally {
    await h.close();
  }
});
