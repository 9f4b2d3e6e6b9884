import assert from "node:assert/strict";
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
import {
  CHECK_PENDING_REQUESTS_INTERVAL_MS,
  checkDelay,
  installKafkajsFixes,
} from "../../shared/kafkajs_fixes.ts";
import { pollUntil } from "../../shared/async.ts";

Deno.test("a queue check is armed only while requests wait, for as long as the throttle lasts", () => {
  const cases: [string, number, number, number | undefined][] = [
    ["nothing waits, never throttled", 0, -1, undefined],
    ["nothing waits, throttled", 0, 1_050, undefined],
    ["a request waits on a throttle", 1, 1_050, 50],
    ["a request waits, the throttle just ended", 2, 1_000, CHECK_PENDING_REQUESTS_INTERVAL_MS],
    ["a request waits on a full window", 1, -1, CHECK_PENDING_REQUESTS_INTERVAL_MS],
  ];
  for (const [name, pending, throttledUntil, want] of cases) {
    assert.deepEqual(checkDelay(pending, throttledUntil, 1_000), want, name);
  }
});

/** kafkajs's own queue, as a broker connection makes it, with nothing behind it. */
function queue(maxInFlightRequests = 10) {
  const quiet = () => {};
  return new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: "test",
    broker: "127.0.0.1:9",
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
}

/** A request whose sending is recorded; `entry` is what kafkajs resolves when it completes. */
function request(correlationId: number, sent: number[]) {
  const entry = {
    correlationId,
    apiKey: 3,
    apiName: "Metadata",
    apiVersion: 6,
    resolve: () => {},
    reject: () => {},
  };
  return { entry, expectResponse: true, sendRequest: () => sent.push(correlationId) };
}

Deno.test("after a response the request queue arms no timer (kafkajs's 1 ms loop is gone)", () => {
  installKafkajsFixes();
  const q = queue();
  const sent: number[] = [];
  q.push(request(1, sent));
  q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
  assert.deepEqual(sent, [1]);
  // Unfixed, a timer is armed here and re-arms itself every millisecond forever.
  assert.deepEqual(q.throttleCheckTimeoutId, null);
});

Deno.test("a request held by a throttle is sent once it ends, then the timer stops", async () => {
  installKafkajsFixes();
  const q = queue();
  const sent: number[] = [];
  q.maybeThrottle(30);
  const at = Date.now();
  q.push(request(1, sent));
  assert.deepEqual(sent, [], "sent during the throttle");
  assert(q.throttleCheckTimeoutId !== null, "no check armed for the end of the throttle");
  await pollUntil(() => sent.length === 1, {
    what: "the held request to be sent",
    timeoutMs: 5_000,
  });
  assert(Date.now() - at >= 29, "sent before the throttle ended");
  q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
  assert.deepEqual(q.throttleCheckTimeoutId, null);
});

Deno.test("a request waiting on a full in-flight window is sent when a response arrives", () => {
  installKafkajsFixes();
  const q = queue(1);
  const sent: number[] = [];
  q.push(request(1, sent));
  q.push(request(2, sent));
  assert.deepEqual(sent, [1]);
  q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
  assert.deepEqual(sent, [1, 2]);
  q.fulfillRequest({ correlationId: 2, payload: null, size: 0 });
  q.destroy();
  assert.deepEqual(q.throttleCheckTimeoutId, null);
});
