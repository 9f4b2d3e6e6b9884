/**
 * The dashboard in real Chromium (Debian's /usr/bin/chromium, driven by playwright-core): open
 * it on a real cluster, log in with the API token, see how many drivers a test would run on,
 * start a test from the form, watch the charts and the per-driver table update while it runs,
 * and see the final result; then open its HTML report. Screenshots stay in the test's temp dir (printed), for a person to look at.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { startCluster } from "../up/cluster.ts";

/** The functions passed to page.waitForFunction run in the page, where `document` exists. */
// deno-lint-ignore no-explicit-any
declare const document: any;

const CHROMIUM = "/usr/bin/chromium";
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--headless",
];

// Without Chromium the test is skipped on a developer's machine, but CI must have it.
const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
const skip = !hasChromium && Deno.env.get("CI") !== "true";

Deno.test({
  name: "the dashboard starts a test from its form and shows live charts, drivers and the result",
  ignore: skip,
  // Playwright's pipes and the cluster's subprocesses outlive single ops; both are closed in
  // the finally.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const shots = await Deno.makeTempDir({ prefix: "surge-browser-" });
    let passed = false;
    const cluster = await startCluster(2);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
    });
    try {
      // One context for both pages: the report's page shares the dashboard's login cookie.
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.setViewportSize({ width: 1400, height: 1000 });
      const pageErrors: string[] = [];
      page.on("pageerror", (err) => pageErrors.push(err.message));
      // The first visit asks for the token; a wrong one is refused, the right one is kept in an
      // HttpOnly cookie, and the dashboard's fetch and EventSource calls then work with it.
      await page.goto(`${cluster.base}/`);
      assert.equal(page.url(), `${cluster.base}/login?next=%2F`);
      await page.fill('input[name="token"]', "wrong-token-0123456789");
      await page.click("#login");
      assert.match((await page.textContent("#login-error")) ?? "", /Wrong API token/);
      await page.screenshot({ path: `${shots}/login.png` });
      await page.fill('input[name="token"]', cluster.token);
      await page.click("#login");
      await page.waitForURL(`${cluster.base}/`);
      const [cookie, ...others] = await context.cookies();
      assert.equal(others.length, 0);
      assert.deepEqual(
        [cookie?.name, cookie?.httpOnly, cookie?.sameSite, cookie?.path],
        ["surge_token", true, "Strict", "/"],
      );
      await page.waitForSelector("#conn.on", { timeout: 10_000 });
      await page.waitForSelector('#drivers tr[data-node="two"] .dot.alive', { timeout: 10_000 });
      await page.waitForSelector('#drivers tr[data-node="one"] .dot.alive');
      // Beside Start: how many drivers a test would run on, following the Drivers field.
      await page.waitForFunction(
        () => document.querySelector("#start-drivers")?.textContent?.startsWith("Runs on 2"),
        null,
        { timeout: 10_000 },
      );
      assert.equal(await page.textContent("#start-drivers"), "Runs on 2 alive drivers: one, two");
      await page.fill('input[name="drivers"]', "two, nine");
      assert.equal(
        await page.textContent("#start-drivers"),
        "Cannot start: not alive: nine never seen",
      );
      await page.fill('input[name="drivers"]', "two");
      assert.equal(await page.textContent("#start-drivers"), "Runs on 1 driver: two");
      await page.fill('input[name="drivers"]', "");

      // A Tsunami of 600 requests per driver, one every 5 ms: about 3 s of live updates.
      await page.check('input[name="test_type"][value="TSUNAMI"]');
      assert.ok(await page.isVisible('input[name="test_message_delay"]'));
      assert.equal(await page.isVisible('input[name="target_throughput"]'), false);
      await page.fill('input[name="target_url"]', cluster.target);
      await page.fill('input[name="message_count_per_driver"]', "600");
      await page.fill('input[name="test_message_delay"]', "5");
      await page.fill('input[name="connections"]', "4");
      await page.click("#start");

      await page.waitForFunction(
        () => document.querySelector("#state")?.textContent === "running",
        null,
        { timeout: 10_000 },
      );
      assert.equal(await page.isEnabled("#stop"), true, "Stop is enabled while the test runs");
      const sentOf = async (driver: string) => {
        const text = await page.textContent(
          `#driver-table tr[data-driver="${driver}"] td:nth-child(11)`,
        );
        return Number((text ?? "").replaceAll(",", ""));
      };
      // The per-driver table and the charts move while the test runs.
      await page.waitForFunction(
        () => {
          const cell = document.querySelector(
            '#driver-table tr[data-driver="one"] td:nth-child(11)',
          );
          return document.querySelector("#state")?.textContent === "running" &&
            Number(cell?.textContent?.replaceAll(",", "") ?? 0) > 0;
        },
        null,
        { timeout: 10_000 },
      );
      const early = await sentOf("one");
      await page.waitForFunction(
        (n) => {
          const cell = document.querySelector(
            '#driver-table tr[data-driver="one"] td:nth-child(11)',
          );
          return Number(cell?.textContent?.replaceAll(",", "") ?? 0) > n;
        },
        early,
        { timeout: 10_000 },
      );
      assert.equal(await page.locator("#charts canvas").count(), 2, "two uPlot charts");
      const legend = await page.textContent("#charts");
      for (const label of ["overall", "one", "two", "p50", "p90", "p99"]) {
        assert.ok(legend?.includes(label), `chart legend has ${label}`);
      }
      const points = await page.evaluate(() =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).surgeDashboard.snapshot().current.timeseries.overall.length
      );
      assert.ok(points >= 1, "the charts have data points");
      await page.screenshot({ path: `${shots}/dashboard-running.png`, fullPage: true });

      await page.waitForFunction(
        () => document.querySelector("#state")?.textContent === "finished",
        null,
        { timeout: 30_000 },
      );
      // Snapshots come every second; the settled numbers are in the first one after "finished".
      await page.waitForFunction(
        () =>
          document.querySelector('#driver-table tr[data-driver="overall"] td:nth-child(11)')
            ?.textContent === "1,200",
        null,
        { timeout: 5_000 },
      );
      assert.equal(await sentOf("one"), 600);
      assert.equal(await sentOf("two"), 600);
      const received = await page.textContent(
        '#driver-table tr[data-driver="two"] td:nth-child(12)',
      );
      assert.equal(received, "600");
      assert.match((await page.textContent('[data-tile="responses"]')) ?? "", /1,200/);
      assert.equal(await page.isEnabled("#stop"), false, "Stop is disabled once finished");
      const testId = await page.textContent(".test-head code");
      assert.ok(testId);
      assert.ok(
        await page.locator(`#history tr[data-test="${testId}"] .badge.finished`).count() === 1,
        "the test is in the history as finished",
      );
      await page.screenshot({ path: `${shots}/dashboard-finished.png`, fullPage: true });

      // The HTML report of the same test: same tables and charts, all inline.
      const report = await context.newPage();
      await report.setViewportSize({ width: 1300, height: 1000 });
      report.on("pageerror", (err) => pageErrors.push(`report: ${err.message}`));
      const requests: string[] = [];
      report.on("request", (r) => requests.push(r.url()));
      await report.goto(`${cluster.base}/reports/${testId}.html`);
      await report.waitForSelector("#charts canvas");
      assert.equal(await report.locator("#charts canvas").count(), 2);
      assert.equal(
        await report.textContent('#stats tr[data-driver="one"] td:nth-child(11)'),
        "600",
      );
      assert.deepEqual(requests, [`${cluster.base}/reports/${testId}.html`], "self-contained");
      await report.screenshot({ path: `${shots}/report.png`, fullPage: true });

      // The Stop button stops a running test.
      await page.fill('input[name="message_count_per_driver"]', "100000");
      await page.fill('input[name="test_message_delay"]', "10");
      await page.click("#start");
      await page.waitForFunction(
        (previous) => {
          const head = document.querySelector(".test-head code")?.textContent;
          return head !== previous && document.querySelector("#state")?.textContent === "running";
        },
        testId,
        { timeout: 10_000 },
      );
      await page.click("#stop");
      await page.waitForFunction(
        () => document.querySelector("#state")?.textContent === "stopped",
        null,
        { timeout: 15_000 },
      );
      await page.screenshot({ path: `${shots}/dashboard-stopped.png`, fullPage: true });
      assert.deepEqual(pageErrors, []);
      passed = true;
    } finally {
      await browser.close();
      await cluster.stop();
      // The screenshots are kept to look at when the test failed, or when asked for.
      if (passed && Deno.env.get("SURGE_KEEP_SCREENSHOTS") !== "1") {
        await Deno.remove(shots, { recursive: true }).catch(() => {});
      } else {
        console.log(
          `screenshots: ${shots}/ (login, dashboard-running, -finished, -stopped, report)`,
        );
      }
    }
  },
});
