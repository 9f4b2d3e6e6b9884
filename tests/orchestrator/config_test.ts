import assert from "node:assert/strict";
import { parseEndConfig, parseOrchestratorConfig } from "../../orchestrator/config.ts";

Deno.test("orchestrator config: defaults", () => {
  assert.deepEqual(parseOrchestratorConfig({}, []), {
    mode: "serve",
    port: 8000,
    brokers: ["127.0.0.1:9092"],
    topicPrefix: "",
    dataDir: ".data/orchestrator",
    heartbeatMs: 1000,
    lostAfter: 3,
    logLevel: "info",
    logJson: false,
  });
});

Deno.test("orchestrator config: flags win over the environment", () => {
  const config = parseOrchestratorConfig(
    { PORT: "9000", SURGE_DATA_DIR: "/env", KAFKA_BROKERS: "a:1,b:2", SURGE_TOPIC_PREFIX: "x." },
    ["--port", "0", "--data-dir", "/flag", "--heartbeat-ms", "500", "--lost-after", "5"],
  );
  assert.equal(config.mode, "serve");
  if (config.mode !== "serve") return;
  assert.equal(config.port, 0);
  assert.equal(config.dataDir, "/flag");
  assert.deepEqual(config.brokers, ["a:1", "b:2"]);
  assert.equal(config.topicPrefix, "x.");
  assert.equal(config.heartbeatMs, 500);
  assert.equal(config.lostAfter, 5);
  assert.equal(parseOrchestratorConfig({ PORT: "9000" }, []).mode === "serve" && 9000, 9000);
});

Deno.test("orchestrator config: every problem is reported at once", () => {
  assert.throws(
    () =>
      parseOrchestratorConfig(
        { KAFKA_BROKERS: "nope", SURGE_TOPIC_PREFIX: "bad/prefix", LOG_LEVEL: "loud" },
        ["--port", "70000", "--lost-after", "0", "--heartbeat-ms", "x"],
      ),
    (err: Error) => {
      assert.ok(err instanceof RangeError);
      for (
        const part of [
          "--port",
          "--lost-after",
          "--heartbeat-ms",
          "nope",
          "SURGE_TOPIC_PREFIX",
          "LOG_LEVEL",
        ]
      ) {
        assert.ok(err.message.includes(part), `${part} in ${err.message}`);
      }
      return true;
    },
  );
  assert.throws(() => parseOrchestratorConfig({}, ["--bogus"]), RangeError);
  assert.throws(() => parseOrchestratorConfig({ PORT: "http" }, []), /PORT must be/);
  assert.deepEqual(parseOrchestratorConfig({}, ["--help"]), { mode: "help" });
});

Deno.test("end config: defaults follow PORT; bad values are clear errors", () => {
  assert.deepEqual(parseEndConfig({ PORT: "8100" }, []), {
    mode: "end",
    orchestratorUrl: "http://127.0.0.1:8100",
    brokers: ["127.0.0.1:9092"],
    topicPrefix: "",
    timeoutMs: 15000,
  });
  const custom = parseEndConfig({}, [
    "--orchestrator",
    "http://127.0.0.1:9/",
    "--timeout-ms",
    "500",
  ]);
  assert.equal(custom.mode === "end" && custom.orchestratorUrl, "http://127.0.0.1:9");
  assert.throws(
    () => parseEndConfig({}, ["--orchestrator", "ftp://x", "--timeout-ms", "1"]),
    /--orchestrator "ftp:\/\/x"[\s\S]*--timeout-ms/,
  );
});
