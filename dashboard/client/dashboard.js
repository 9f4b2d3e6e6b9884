// surge dashboard: live state over server-sent events (/dashboard/events: a whole snapshot, then
// deltas), commands through the REST API (/api/tests ...). A classic browser script; render.js
// provides `Surge`, delta.js `SurgeDelta`.
"use strict";
(() => {
  const S = globalThis.Surge;
  const $ = (id) => document.getElementById(id);
  let focus = new URLSearchParams(location.search).get("test");
  let shownTest = null;
  let charts = null;
  let source = null;
  let lastSnapshot = null;
  let staleTimer = 0;

  const form = $("test-form");
  const typeHint = $("type-hint");
  const HINTS = {
    AVALANCHE: "Each connection sends its next request as soon as the previous answer arrives " +
      "(or at the rate you set, measured from the schedule).",
    TSUNAMI: "One request every delay ms on each driver, on a fixed timetable: a slow answer " +
      "does not delay the next request.",
  };
  const syncType = () => {
    const type = form.elements.test_type.value;
    form.dataset.type = type;
    typeHint.textContent = HINTS[type];
  };
  form.addEventListener("change", syncType);
  syncType();

  function showError(text) {
    const el = $("form-error");
    el.hidden = !text;
    el.textContent = text || "";
  }

  // The login cookie is gone or no longer matches the token: log in again, then come back here.
  function toLogin() {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  }

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status === 401) toLogin();
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || `${method} ${path}: HTTP ${res.status}`);
    return data;
  }

  function bodyFromForm() {
    const f = form.elements;
    const num = (name) => f[name].value.trim() === "" ? null : Number(f[name].value);
    const type = f.test_type.value;
    const body = {
      test_type: type,
      target_url: f.target_url.value.trim(),
      test_message_delay: type === "TSUNAMI" ? num("test_message_delay") ?? 0 : 0,
      message_count_per_driver: num("message_count_per_driver") ?? 0,
      connections: num("connections") ?? 10,
      timeout_ms: num("timeout_ms") ?? 10000,
    };
    const duration = num("duration_s");
    if (duration) body.duration_s = duration;
    const rate = num("target_throughput");
    if (type === "AVALANCHE" && rate) body.target_throughput = rate;
    const drivers = globalThis.SurgeDriverPlan.namesIn(f.drivers.value);
    if (drivers.length > 0) body.drivers = drivers;
    return body;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    $("start").disabled = true;
    try {
      const created = await api("POST", "/api/tests", bodyFromForm());
      try {
        await api("POST", `/api/tests/${encodeURIComponent(created.test_id)}/trigger`);
      } catch (err) {
        await api("POST", `/api/tests/${encodeURIComponent(created.test_id)}/stop`).catch(() => {});
        throw err;
      }
      select(created.test_id);
    } catch (err) {
      showError(err.message);
    } finally {
      $("start").disabled = false;
    }
  });

  $("stop").addEventListener("click", async () => {
    if (!shownTest) return;
    $("stop").disabled = true;
    try {
      await api("POST", `/api/tests/${encodeURIComponent(shownTest)}/stop`);
    } catch (err) {
      showError(err.message);
    }
  });

  // Beside Start: how many drivers (and which) the test would run on, from the newest snapshot
  // and the Drivers field; drivers join and leave between tests.
  function renderPlan() {
    const el = $("start-drivers");
    if (!lastSnapshot) return;
    const plan = globalThis.SurgeDriverPlan.plan(lastSnapshot.drivers, form.elements.drivers.value);
    el.textContent = plan.ok ? `Runs ${plan.text}` : `Cannot start: ${plan.text}`;
    el.className = plan.ok ? "hint" : "hint error";
    el.dataset.count = String(plan.count);
  }
  form.elements.drivers.addEventListener("input", renderPlan);

  function renderDrivers(drivers) {
    if (drivers.length === 0) {
      $("drivers").innerHTML = '<p class="muted">No driver yet. Start one: ' +
        "<code>deno task driver one</code></p>";
      return;
    }
    $("drivers").innerHTML = `<table class="drivers"><thead><tr><th>driver</th><th>status</th>` +
      `<th>heartbeat</th><th>test</th></tr></thead><tbody>${
        drivers.map((d) =>
          `<tr data-node="${S.esc(d.node_id)}"><th>${S.esc(d.node_id)}` +
          `<div class="muted small">${S.esc(d.node_ip || "ip unknown")}</div></th>` +
          `<td class="nowrap"><span class="dot ${S.esc(d.status)}"></span>${S.esc(d.status)}</td>` +
          `<td class="num">${(d.heartbeat_age_ms / 1000).toFixed(1)} s ago</td>` +
          // A test id is long; the row only needs to say busy or idle (the id is in the title).
          `<td class="small">${
            d.test_id
              ? `<span class="badge running" title="${S.esc(d.test_id)}">busy</span>`
              : '<span class="muted">idle</span>'
          }</td></tr>`
        ).join("")
      }</tbody></table>`;
  }

  function reportLinks(id) {
    const e = encodeURIComponent(id);
    return `<a href="/reports/${e}.html" download="surge-${S.esc(id)}.html">HTML</a> · ` +
      `<a href="/api/tests/${e}/report?format=json" download="surge-${
        S.esc(id)
      }.json">JSON</a> · ` +
      `<a href="/api/tests/${e}/report?format=csv">CSV</a>`;
  }

  function renderCurrent(current) {
    if (!current) {
      $("current-body").innerHTML = '<p class="muted">No test yet: start one with the form.</p>';
      $("driver-table").innerHTML = "";
      $("stop").disabled = true;
      return;
    }
    const t = current.test;
    const { done, total } = S.progressOf(t);
    const pct = total ? Math.min(100, (done / total) * 100) : null;
    const active = t.state === "running" || t.state === "created";
    $("stop").disabled = !active;
    const reason = t.reason ? ` <span class="muted">(${S.esc(t.reason)})</span>` : "";
    $("current-body").innerHTML = `<div class="test-head"><code>${S.esc(t.test_id)}</code>` +
      `<span class="badge state ${t.state}" id="state">${t.state}</span>` +
      `<span class="type">${t.config.test_type.toLowerCase()}</span>${reason}` +
      `<span class="links">${t.settled ? reportLinks(t.test_id) : ""}</span></div>` +
      `<p class="config">${S.esc(S.describeConfig(t.config))}</p>` +
      `<div class="progress"><div class="bar" style="width:${pct ?? 100}%"></div>` +
      `<span>${S.count(done)}${total ? ` of ${S.count(total)}` : ""} requests done · ` +
      `${t.overall.elapsed_s.toFixed(1)} s</span></div>` +
      S.overallTiles(t);
    $("driver-table").innerHTML = S.statsTable(t);
    if (!charts || charts.testId !== t.test_id) {
      charts?.destroy();
      charts = S.mountCharts($("charts"), current.timeseries);
      charts.testId = t.test_id;
    } else {
      charts.update(current.timeseries);
    }
  }

  /** Today's tests by time of day, older ones with their date. */
  function when(iso) {
    const d = new Date(iso);
    const time = d.toLocaleTimeString([], { hour12: false });
    return d.toDateString() === new Date().toDateString()
      ? time
      : `${d.toISOString().slice(0, 10)} ${time}`;
  }

  function renderHistory(tests) {
    if (tests.length === 0) {
      $("history-body").innerHTML = '<p class="muted">No tests yet.</p>';
      return;
    }
    $("history-body").innerHTML = `<table class="history"><thead><tr><th>test</th>` +
      `<th>state</th><th>type</th><th>target</th><th>created</th><th>requests</th>` +
      `<th>errors</th><th>p50</th><th>p99</th><th>rps</th><th>report</th></tr></thead><tbody>${
        tests.map((t) => {
          const o = t.overall;
          const has = o.responses > 0;
          return `<tr data-test="${S.esc(t.test_id)}"` +
            `${t.test_id === shownTest ? ' class="selected"' : ""}>` +
            `<th><a href="?test=${encodeURIComponent(t.test_id)}" class="pick">` +
            `${S.esc(t.test_id)}</a></th>` +
            `<td><span class="badge state ${t.state}">${t.state}</span></td>` +
            `<td>${t.config.test_type.toLowerCase()}</td>` +
            `<td class="small target">${S.esc(t.config.target_url)}</td>` +
            `<td class="small" title="${S.esc(t.created_at)}">${when(t.created_at)}</td>` +
            `<td class="num">${S.count(o.requests)}</td><td class="num">${S.count(o.errors)}</td>` +
            `<td class="num">${has ? S.duration(o.latency_ms.median) : "–"}</td>` +
            `<td class="num">${has ? S.duration(o.latency_ms.p99) : "–"}</td>` +
            `<td class="num">${S.rate(o.rps.mean)}</td>` +
            `<td class="small links">${t.settled ? reportLinks(t.test_id) : ""}</td></tr>`;
        }).join("")
      }</tbody></table>`;
  }

  $("history-body").addEventListener("click", (event) => {
    const link = event.target.closest("a.pick");
    if (!link) return;
    event.preventDefault();
    select(link.closest("tr").dataset.test);
  });

  function apply(snapshot) {
    lastSnapshot = snapshot;
    shownTest = snapshot.current ? snapshot.current.test.test_id : null;
    renderDrivers(snapshot.drivers);
    renderPlan();
    renderCurrent(snapshot.current);
    renderHistory(snapshot.tests);
    document.body.dataset.updated = String(snapshot.time);
  }

  function connect() {
    source?.close();
    const query = focus ? `?test=${encodeURIComponent(focus)}` : "";
    source = new EventSource(`/dashboard/events${query}`);
    const live = () => {
      clearTimeout(staleTimer);
      $("conn").textContent = "live";
      $("conn").className = "conn on";
    };
    source.addEventListener("snapshot", (event) => {
      live();
      apply(JSON.parse(event.data));
    });
    // Every stream starts with a whole snapshot, so a delta always has one to apply to.
    source.addEventListener("delta", (event) => {
      live();
      apply(globalThis.SurgeDelta.applyDelta(lastSnapshot, JSON.parse(event.data)));
    });
    source.addEventListener("error", () => {
      // The server ends each stream after a few seconds and EventSource reconnects by itself;
      // only a gap that lasts says something is wrong.
      clearTimeout(staleTimer);
      staleTimer = setTimeout(() => {
        $("conn").textContent = "reconnecting…";
        $("conn").className = "conn off";
        // EventSource does not say why it failed: ask once whether the login is the reason.
        fetch("/dashboard/snapshot", { method: "HEAD" }).then((res) => {
          if (res.status === 401) toLogin();
        }, () => {});
      }, 2500);
    });
  }

  function select(testId) {
    focus = testId;
    const url = new URL(location.href);
    url.searchParams.set("test", testId);
    history.replaceState(null, "", url);
    connect();
  }

  globalThis.surgeDashboard = { select, snapshot: () => lastSnapshot };
  connect();
})();
