// surge: rendering shared by the live dashboard and the self-contained HTML report.
// A classic browser script (no build step): it defines `globalThis.Surge` and needs uPlot loaded
// first. Everything it draws comes from the REST API's shapes: the test resource
// (GET /api/tests/{id}) and its time series (GET /api/tests/{id}/timeseries).
"use strict";
(() => {
  const PALETTE = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d"];
  const DRIVER_DASHES = [[8, 8], [2, 4], [12, 4, 2, 4], [4, 12]];
  const OVERALL_COLOR = "#111827";

  /** Escapes text for HTML: every string from the API goes through here. */
  const esc = (value) =>
    String(value).replace(
      /[&<>"']/g,
      (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
    );

  const count = (n) => Math.round(n).toLocaleString("en-US");
  const ms = (v) =>
    v == null ? "–" : v >= 1000 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  const duration = (v) =>
    v == null
      ? "–"
      : v < 1
      ? `${Math.round(v * 1000)} µs`
      : v < 1000
      ? `${ms(v)} ms`
      : `${(v / 1000).toFixed(2)} s`;
  const rate = (v) => v >= 100 ? count(v) : v.toFixed(1);
  const counts = (map) => {
    const entries = Object.entries(map || {}).filter(([, n]) => n > 0).sort();
    return entries.length === 0
      ? '<span class="muted">–</span>'
      : entries.map(([k, n]) => `<span class="chip">${esc(k)}: ${count(n)}</span>`).join(" ");
  };

  /** A one-line description of a test's configuration. */
  function describeConfig(c) {
    const pace = c.test_type === "TSUNAMI"
      ? `one request every ${c.test_message_delay} ms per driver`
      : c.target_throughput
      ? `${count(c.target_throughput)} requests/s per driver`
      : "as fast as possible";
    const amount = c.message_count_per_driver > 0
      ? `${count(c.message_count_per_driver)} requests per driver`
      : "no count limit";
    const limit = c.duration_s ? `, at most ${c.duration_s} s` : "";
    return `${c.method} ${c.target_url} — ${pace}, ${amount}${limit}, ` +
      `${c.connections} connections per driver`;
  }

  /** Requests done (answered or failed) and the planned total (null without a count). */
  function progressOf(test) {
    const done = test.overall.responses + test.overall.errors;
    const chosen = Object.values(test.drivers).filter((d) => d.status !== "unchosen").length;
    const per = test.config.message_count_per_driver;
    return { done, total: per > 0 && chosen > 0 ? per * chosen : null };
  }

  /** The headline numbers of a test as tiles. */
  function overallTiles(test) {
    const o = test.overall;
    const l = o.latency_ms;
    const has = o.responses + o.errors > 0;
    const tiles = [
      ["requests", count(o.requests)],
      ["responses", count(o.responses)],
      ["errors", count(o.errors), o.errors > 0 ? "bad" : ""],
      ["dropped", count(o.dropped), o.dropped > 0 ? "bad" : ""],
      ["throughput", `${count(test.state === "running" ? o.rps.last : o.rps.mean)}/s`],
      ["p50", has ? duration(l.median) : "–"],
      ["p99", has ? duration(l.p99) : "–"],
      ["max", has ? duration(l.max) : "–"],
      ["p99 ok", o.latency_ok_ms.max > 0 ? duration(o.latency_ok_ms.p99) : "–"],
    ];
    const notes = [
      ...Object.entries(test.drivers).filter(([, d]) => d.error).map(([id, d]) =>
        `driver ${id}: ${d.error}`
      ),
      ...o.warnings,
    ];
    return `<div class="tiles">${
      tiles.map(([k, v, cls]) =>
        `<div class="tile ${cls || ""}" data-tile="${k}"><div class="tile-v">${esc(v)}</div>` +
        `<div class="tile-k">${k}</div></div>`
      ).join("")
    }</div>${notes.map((n) => `<p class="warning" data-warning>⚠ ${esc(n)}</p>`).join("")}`;
  }

  /** The latency and count table, overall first, then one row per driver. */
  function statsTable(test) {
    const rows = [["overall", test.overall, ""]];
    for (const [id, d] of Object.entries(test.drivers)) rows.push([id, d, d.status]);
    const body = rows.map(([name, s, status]) => {
      const l = s.latency_ms;
      const has = s.responses + s.errors > 0;
      const lat = [l.min, l.max, l.mean, l.median, l.mode, l.p90, l.p99, l.p999]
        .map((v) => `<td class="num">${has ? ms(v) : "–"}</td>`).join("");
      const badge = status ? `<span class="badge ${esc(status)}">${esc(status)}</span>` : "";
      return `<tr data-driver="${esc(name)}" class="${name === "overall" ? "overall" : ""}">` +
        `<th>${esc(name)}</th><td>${badge}</td>${lat}` +
        `<td class="num">${count(s.offered)}</td>` +
        `<td class="num">${count(s.requests)}</td><td class="num">${count(s.responses)}</td>` +
        `<td class="num">${count(s.errors)}</td><td class="num">${count(s.dropped)}</td>` +
        `<td class="num">${count(s.late)}</td><td class="num">${rate(s.rps.mean)}</td>` +
        `<td>${counts(s.status_codes)}</td><td>${counts(s.error_kinds)}</td></tr>`;
    }).join("");
    return `<table class="stats"><thead><tr><th>driver</th><th>status</th>` +
      `<th>min</th><th>max</th><th>mean</th><th>median</th><th>mode</th><th>p90</th>` +
      `<th>p99</th><th>p99.9</th><th>offered</th><th>sent</th><th>received</th>` +
      `<th>errors</th><th>dropped</th><th>late</th><th>rps</th>` +
      `<th>status codes</th><th>errors by kind</th></tr>` +
      `<tr class="units"><th></th><th></th><th colspan="8">latency, ms</th><th colspan="9"></th>` +
      `</tr></thead><tbody>${body}</tbody></table>`;
  }

  /** Aligns every series on the overall seconds: uPlot wants one x array. */
  function columns(series) {
    const xs = series.overall.map((p) => p.t);
    const ids = Object.keys(series.drivers).sort();
    const pick = (points, key) => {
      const byT = new Map(points.map((p) => [p.t, p[key]]));
      return xs.map((t) => byT.has(t) ? byT.get(t) : null);
    };
    return {
      ids,
      throughput: [
        xs,
        pick(series.overall, "throughput"),
        ...ids.map((id) => pick(series.drivers[id], "throughput")),
      ],
      latency: [
        xs,
        pick(series.overall, "p50"),
        pick(series.overall, "p90"),
        pick(series.overall, "p99"),
      ],
    };
  }

  function chartOptions(title, width, series, yLabel) {
    return {
      title,
      width,
      height: 220,
      // Both charts start at zero: a line near the floor must not look like a collapse.
      scales: {
        x: { time: false },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      // Values in the legend only while hovering; otherwise it would show "--" everywhere.
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      axes: [
        {
          label: "seconds into the test",
          size: 40,
          incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600],
        },
        { label: yLabel, size: 60 },
      ],
      series: [{ label: "second" }, ...series],
    };
  }

  /**
   * Mounts the two charts (throughput overall and per driver; p50/p90/p99 latency) into `el`.
   * Returns `update(series)`, which redraws in place and rebuilds only when the drivers change.
   */
  function mountCharts(el, initial) {
    let key = "";
    let charts = [];
    const build = (data) => {
      for (const c of charts) c.destroy();
      el.innerHTML = '<div class="chart" data-chart="throughput"></div>' +
        '<div class="chart" data-chart="latency"></div>';
      const width = Math.max(320, el.clientWidth || 800);
      const tput = new uPlot(
        chartOptions("Throughput (responses/s)", width, [
          { label: "overall", stroke: OVERALL_COLOR, width: 2 },
          ...data.ids.map((id, i) => ({
            label: id,
            stroke: PALETTE[i % PALETTE.length],
            width: 1.5,
            // Drivers at the same rate draw the same line: different dashes keep each visible.
            dash: DRIVER_DASHES[i % DRIVER_DASHES.length],
          })),
        ], "responses/s"),
        data.throughput,
        el.children[0],
      );
      const lat = new uPlot(
        chartOptions("Latency percentiles (ms)", width, [
          { label: "p50", stroke: "#059669", width: 2 },
          { label: "p90", stroke: "#d97706", width: 2 },
          { label: "p99", stroke: "#dc2626", width: 2 },
        ], "ms"),
        data.latency,
        el.children[1],
      );
      charts = [tput, lat];
    };
    const update = (series) => {
      const data = columns(series);
      const next = data.ids.join(",");
      if (next !== key || charts.length === 0) {
        key = next;
        build(data);
      } else {
        charts[0].setData(data.throughput);
        charts[1].setData(data.latency);
      }
    };
    const resize = () => {
      const width = Math.max(320, el.clientWidth || 800);
      for (const c of charts) c.setSize({ width, height: 220 });
    };
    globalThis.addEventListener("resize", resize);
    update(initial);
    return {
      update,
      destroy() {
        globalThis.removeEventListener("resize", resize);
        for (const c of charts) c.destroy();
        charts = [];
      },
    };
  }

  globalThis.Surge = {
    esc,
    count,
    rate,
    ms,
    duration,
    counts,
    describeConfig,
    progressOf,
    overallTiles,
    statsTable,
    mountCharts,
  };
})();
