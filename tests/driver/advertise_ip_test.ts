import assert from "node:assert/strict";
import {
  brokerEndpoint,
  chooseNodeIp,
  type InterfaceAddress,
  MAX_ROUTE_PROBES,
  type NodeIpChoice,
} from "../../driver/advertise_ip.ts";

Deno.test("brokerEndpoint() splits host:port and [v6]:port, and refuses the rest", () => {
  const table: [string, ReturnType<typeof brokerEndpoint>][] = [
    ["127.0.0.1:9092", { hostname: "127.0.0.1", port: 9092 }],
    ["kafka-1.example:9093", { hostname: "kafka-1.example", port: 9093 }],
    ["[::1]:9092", { hostname: "::1", port: 9092 }],
    [" [fd00::5]:19092 ", { hostname: "fd00::5", port: 19092 }],
    ["::1:9092", undefined], // bare IPv6 is ambiguous: brackets are required
    ["kafka:0", undefined],
    ["kafka:65536", undefined],
    ["kafka", undefined],
  ];
  for (const [text, want] of table) assert.deepEqual(brokerEndpoint(text), want, text);
});

const ETH0: InterfaceAddress[] = [
  { family: "IPv4", address: "127.0.0.1" },
  { family: "IPv6", address: "::1" },
  { family: "IPv4", address: "10.0.0.7" },
];

/** A connector that answers each broker from `routes` (an Error: that broker cannot be reached). */
function connector(routes: Record<string, string | Error>) {
  const asked: string[] = [];
  const localAddressTowards = (hostname: string, port: number) => {
    asked.push(`${hostname}:${port}`);
    const answer = routes[`${hostname}:${port}`] ?? new Error("connection refused");
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  };
  return { asked, localAddressTowards };
}

Deno.test("chooseNodeIp(): advertised, else the route to the first broker that answers, else an interface", async () => {
  const refused = new Error("Connection refused (os error 111)");
  const table: [
    string,
    { advertised?: string; brokers: string[]; routes: Record<string, string | Error> },
    InterfaceAddress[] | Error,
    Omit<NodeIpChoice, "warning">,
    string[],
  ][] = [
    [
      "--advertise-ip wins; no broker is dialled",
      { advertised: "198.18.0.77", brokers: ["127.0.0.1:9092"], routes: {} },
      ETH0,
      { ip: "198.18.0.77", source: "advertised" },
      [],
    ],
    [
      "a loopback broker: the loopback address",
      { brokers: ["127.0.0.1:9092"], routes: { "127.0.0.1:9092": "127.0.0.1" } },
      ETH0,
      { ip: "127.0.0.1", source: "route" },
      ["127.0.0.1:9092"],
    ],
    [
      "a remote broker: the address of the interface routing to it, not the first one listed",
      { brokers: ["10.9.0.1:9092"], routes: { "10.9.0.1:9092": "10.9.0.42" } },
      ETH0,
      { ip: "10.9.0.42", source: "route" },
      ["10.9.0.1:9092"],
    ],
    [
      "the first broker is down: the next one's route",
      {
        brokers: ["10.9.0.1:9092", "[fd00::1]:9092"],
        routes: { "10.9.0.1:9092": refused, "fd00::1:9092": "fd00:0::0042" },
      },
      ETH0,
      { ip: "fd00::42", source: "route" },
      ["10.9.0.1:9092", "fd00::1:9092"],
    ],
    [
      "no broker answers: the first non-loopback IPv4, with a warning",
      { brokers: ["10.9.0.1:9092"], routes: { "10.9.0.1:9092": refused } },
      ETH0,
      { ip: "10.0.0.7", source: "interface" },
      ["10.9.0.1:9092"],
    ],
    [
      "an unusable local address (unspecified) is not taken",
      { brokers: ["10.9.0.1:9092"], routes: { "10.9.0.1:9092": "0.0.0.0" } },
      ETH0,
      { ip: "10.0.0.7", source: "interface" },
      ["10.9.0.1:9092"],
    ],
    [
      "nothing answers and no interface may be listed: loopback, with a warning",
      { brokers: ["10.9.0.1:9092"], routes: {} },
      new Error('Requires sys access to "networkInterfaces"'),
      { ip: "127.0.0.1", source: "loopback" },
      ["10.9.0.1:9092"],
    ],
    [
      `at most ${MAX_ROUTE_PROBES} brokers are tried`,
      { brokers: ["a:1", "b:1", "c:1", "d:1"], routes: {} },
      [],
      { ip: "127.0.0.1", source: "loopback" },
      ["a:1", "b:1", "c:1"],
    ],
  ];
  for (const [what, given, interfaces, want, dialled] of table) {
    const { asked, localAddressTowards } = connector(given.routes);
    const choice = await chooseNodeIp({
      advertised: given.advertised,
      brokers: given.brokers,
      localAddressTowards,
      interfaces: () => {
        if (interfaces instanceof Error) throw interfaces;
        return interfaces;
      },
    });
    const { warning, ...rest } = choice;
    assert.deepEqual(rest, want, what);
    assert.deepEqual(asked, dialled, what);
    // A fallback always says why and how to choose; a found address needs no word.
    if (want.source === "route" || want.source === "advertised") assert.equal(warning, undefined);
    else assert.match(warning ?? "", /no route to the brokers found .*set --advertise-ip/, what);
  }
});

Deno.test("chooseNodeIp() names each broker's failure in its warning", async () => {
  const { localAddressTowards } = connector({
    "10.9.0.1:9092": new Error("Connection refused (os error 111)"),
  });
  const choice = await chooseNodeIp({
    brokers: ["10.9.0.1:9092", "bad-entry"],
    localAddressTowards,
    interfaces: () => ETH0,
  });
  assert.equal(
    choice.warning,
    "no route to the brokers found (10.9.0.1:9092: Connection refused (os error 111); " +
      "bad-entry: not host:port): registering 10.0.0.7, the first non-loopback IPv4 address; " +
      "set --advertise-ip (SURGE_ADVERTISE_IP) to choose",
  );
});
