// surge dashboard: which drivers a test started from the form would run on, shown beside the
// Start button. Drivers join and leave between tests, so the count is said before each start:
// every alive driver, or the ones the form's Drivers field names (the orchestrator's rule at the
// trigger). A classic browser script with no dependencies; it defines `globalThis.SurgeDriverPlan`.
"use strict";
(() => {
  /** The names in the Drivers field ("a, b"), without blanks and repeats. */
  const namesIn = (text) =>
    [...new Set(String(text).split(",").map((s) => s.trim()))].filter(Boolean);

  const noun = (n) => n === 1 ? "driver" : "drivers";

  /** Up to five names, then how many more. */
  const list = (names) =>
    names.length <= 5 ? names.join(", ") : `${names.slice(0, 5).join(", ")} +${names.length - 5}`;

  /**
   * `{ ok, count, text }` for the drivers of a snapshot and the Drivers field's text: `ok` is
   * false when the test could not start (no driver alive, or a named one not alive).
   */
  function plan(drivers, namedText) {
    const alive = drivers.filter((d) => d.status === "alive").map((d) => d.node_id);
    const named = namesIn(namedText);
    if (named.length === 0) {
      if (alive.length === 0) return { ok: false, count: 0, text: "no driver is alive" };
      return {
        ok: true,
        count: alive.length,
        text: `on ${alive.length} alive ${noun(alive.length)}: ${list(alive)}`,
      };
    }
    const missing = named.filter((id) => !alive.includes(id)).map((id) =>
      `${id} ${drivers.find((d) => d.node_id === id)?.status ?? "never seen"}`
    );
    if (missing.length > 0) {
      return {
        ok: false,
        count: named.length - missing.length,
        text: `not alive: ${list(missing)}`,
      };
    }
    return {
      ok: true,
      count: named.length,
      text: `on ${named.length} ${noun(named.length)}: ${list(named)}`,
    };
  }

  globalThis.SurgeDriverPlan = { plan, namesIn };
})();
