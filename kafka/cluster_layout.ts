/**
 * Where each node of a KRaft cluster listens and what it tells clients, as data: one node of a
 * cluster spread over real hosts (`--node-id`, `--listen`, `--advertise`, `--controllers`), or
 * every node of a cluster on one machine (`--nodes N`). Every node is a combined broker and
 * controller, and every listed node is a voter, so a cluster of 3 keeps working without one.
 */

/** A host and port, as given on the command line (an IPv6 host keeps its brackets). */
export interface Endpoint {
  host: string;
  port: number;
}

/** One voter of the controller quorum: its node id and controller endpoint. */
export interface Voter extends Endpoint {
  id: number;
}

/** Everything one node needs to know to join its cluster. */
export interface NodeLayout {
  nodeId: number;
  /** The client listener this node binds. */
  listen: Endpoint;
  /** The client address this node gives clients (what they connect to after bootstrapping). */
  advertise: Endpoint;
  /** The controller listener: the listen host at this node's port from the voter list. */
  controller: Endpoint;
  /** Every node of the cluster, this one included. */
  voters: readonly Voter[];
}

/** The highest node id surge accepts: a cluster is a handful of brokers, not thousands. */
export const MAX_NODE_ID = 1000;
/** At most this many nodes in one `--nodes` cluster on one machine. */
export const MAX_LOCAL_NODES = 5;

const ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Parses `host:port` ("[v6]:port" for IPv6); throws a RangeError naming the text. */
export function parseEndpoint(text: string): Endpoint {
  const match = ENDPOINT.exec(text.trim());
  const port = Number(match?.[2] ?? 0);
  if (!match || port < 1 || port > 65535) {
    throw new RangeError(`"${text}" is not host:port with a port 1-65535`);
  }
  return { host: match[1]!, port };
}

/** `host:port` of an endpoint. */
export function endpointText(e: Endpoint): string {
  return `${e.host}:${e.port}`;
}

/**
 * Parses `--controllers` (`1@h1:9093,2@h2:9093,3@h3:9093`): distinct node ids 1-1000 and
 * distinct endpoints. Throws a RangeError listing what is wrong.
 */
export function parseVoters(text: string): Voter[] {
  const entries = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (entries.length === 0) throw new RangeError("must list id@host:port[,id@host:port...]");
  const voters = entries.map((entry) => {
    const at = entry.indexOf("@");
    const id = Number(entry.slice(0, at));
    if (at < 1 || !/^\d+$/.test(entry.slice(0, at)) || id < 1 || id > MAX_NODE_ID) {
      throw new RangeError(`"${entry}" is not id@host:port with a node id 1-${MAX_NODE_ID}`);
    }
    return { id, ...parseEndpoint(entry.slice(at + 1)) };
  });
  const ids = voters.map((v) => v.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) throw new RangeError(`lists node id ${duplicate} twice`);
  const ends = voters.map(endpointText);
  const twice = ends.find((e, i) => ends.indexOf(e) !== i);
  if (twice !== undefined) throw new RangeError(`lists ${twice} twice`);
  return voters;
}

/** `controller.quorum.voters` text of a voter list. */
export function votersText(voters: readonly Voter[]): string {
  return voters.map((v) => `${v.id}@${endpointText(v)}`).join(",");
}

/** A wildcard bind address, which no client can be told to connect to. */
export function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "[::]";
}

/**
 * The layout of node `nodeId` of a cluster on several hosts. Its controller binds the host it
 * listens on, at the port the voter list gives it; `advertise` defaults to `listen` unless that
 * is a wildcard.
 */
export function hostNodeLayout(
  nodeId: number,
  listen: Endpoint,
  advertise: Endpoint | undefined,
  voters: readonly Voter[],
): NodeLayout {
  const self = voters.find((v) => v.id === nodeId);
  if (!self) {
    throw new RangeError(
      `--node-id ${nodeId} is not in --controllers (${voters.map((v) => v.id).join(", ")})`,
    );
  }
  if (!advertise && isWildcard(listen.host)) {
    throw new RangeError(`--listen ${endpointText(listen)} is a wildcard: give --advertise`);
  }
  if (self.port === listen.port && self.host === listen.host) {
    throw new RangeError(`the client and controller ports of node ${nodeId} are both ${self.port}`);
  }
  return {
    nodeId,
    listen,
    advertise: advertise ?? listen,
    controller: { host: listen.host, port: self.port },
    voters,
  };
}

/** A lone node on 127.0.0.1: clients on `port`, its controller on `controllerPort`. */
export function singleNodeLayout(port: number, controllerPort = port + 1): NodeLayout {
  const client = { host: "127.0.0.1", port };
  const controller = { host: "127.0.0.1", port: controllerPort };
  return {
    nodeId: 1,
    listen: client,
    advertise: client,
    controller,
    voters: [{ id: 1, ...controller }],
  };
}

/**
 * The layouts of an `n`-node cluster on 127.0.0.1: node i (1-based) serves clients on
 * `port + 2(i-1)` and its controller on the port after it, so `--nodes 3` on 9092 uses
 * 9092-9097 and node 1 sits where a single broker would.
 */
export function localClusterLayout(port: number, n: number): NodeLayout[] {
  if (!Number.isInteger(n) || n < 1 || n > MAX_LOCAL_NODES) {
    throw new RangeError(`a local cluster has 1-${MAX_LOCAL_NODES} nodes, not ${n}`);
  }
  if (port + 2 * n - 1 > 65535) throw new RangeError(`ports ${port}+ do not fit ${n} nodes`);
  const host = "127.0.0.1";
  const voters = Array.from({ length: n }, (_, i) => ({ id: i + 1, host, port: port + 2 * i + 1 }));
  return voters.map((v, i) => {
    const client = { host, port: port + 2 * i };
    return { nodeId: v.id, listen: client, advertise: client, controller: v, voters };
  });
}

/**
 * The KRaft cluster id every node of one cluster formats its storage with: derived from the
 * voter list, so nodes started on different hosts with the same
 * `--controllers` agree on it without passing an id around. 22 URL-safe characters, never a
 * leading "-" (the storage tool would read it as an option).
 */
export async function clusterIdFor(voters: readonly Voter[]): Promise<string> {
  const text = `surge-kraft:${votersText(voters)}`;
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  const id = btoa(String.fromCharCode(...digest.slice(0, 16))).replaceAll("+", "-")
    .replaceAll("/", "_").slice(0, 22);
  return id.startsWith("-") ? `A${id.slice(1)}` : id;
}
