import assert from "node:assert/strict";
import { kindOfTopic, TOPIC_KINDS, topicNames } from "../../shared/topics.ts";

Deno.test("topicNames without a prefix are the five seed topics and the election topic", () => {
  assert.deepEqual(Object.values(topicNames()), [...TOPIC_KINDS, "orchestrators"]);
});

Deno.test("topicNames applies the prefix and kindOfTopic inverts it", () => {
  const names = topicNames("team-a.");
  assert.equal(names.metrics, "team-a.metrics");
  for (const kind of TOPIC_KINDS) assert.equal(kindOfTopic(names, names[kind]), kind);
  assert.equal(kindOfTopic(names, "metrics"), undefined);
  // The election topic carries no messages: no kind, so nothing on it is ever parsed.
  assert.equal(kindOfTopic(names, names.orchestrators), undefined);
});

Deno.test("topicNames rejects a prefix Kafka cannot use", () => {
  for (const bad of ["a b", "x/y", "é", "a".repeat(101)]) {
    assert.throws(() => topicNames(bad), RangeError, bad);
  }
});
