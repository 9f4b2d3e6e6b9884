/**
 * Apache Kafka's jars for the local broker: Maven resolves them from Maven Central (kafka/pom.xml)
 * into a git-ignored cache on the first run; later runs reuse the cache.
 */

/** The Kafka release surge runs; README explains why this one. */
export const KAFKA_VERSION = "4.4.0";

/** This folder (with a trailing slash): the pom and log4j2 config live here. */
export const KAFKA_DIR = new URL(".", import.meta.url).pathname;

/** Where things live for one broker. */
export interface BrokerPaths {
  /** The pom that names Kafka's jars. */
  pom: string;
  /** Cached jars: `<cacheDir>/<version>/libs`. */
  cacheDir: string;
  /** KRaft metadata and log segments. */
  dataDir: string;
}

/** Default paths inside the repository (the cache and data folders are git-ignored). */
export function defaultPaths(port: number): BrokerPaths {
  const repo = new URL("..", import.meta.url).pathname;
  return {
    pom: `${KAFKA_DIR}pom.xml`,
    cacheDir: `${KAFKA_DIR}.cache`,
    dataDir: `${repo}.data/kafka-${port}`,
  };
}

/**
 * Default paths of the node on `port` of a cluster of `nodes` on this machine. A lone node keeps
 * {@link defaultPaths}; a cluster's nodes get folders of their own, since a storage formatted
 * for one cluster cannot join another.
 */
export function nodePaths(port: number, nodes: number): BrokerPaths {
  const paths = defaultPaths(port);
  return nodes === 1 ? paths : { ...paths, dataDir: `${paths.dataDir}-of-${nodes}` };
}

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Throws an Error with one clear line when `tool` (java, mvn) cannot be run. */
export async function requireTool(tool: "java" | "mvn"): Promise<void> {
  const what = tool === "java" ? "Java 17+" : "Apache Maven";
  try {
    const out = await new Deno.Command(tool, { args: ["-version"], stdout: "null", stderr: "null" })
      .output();
    if (out.success) return;
  } catch {
    // fall through to the one clear line
  }
  throw new Error(
    `${what} is required to run the local Kafka broker, but \`${tool}\` was not found on PATH.`,
  );
}

/**
 * Makes sure Kafka's runtime jars are in the cache and returns their folder. The first run asks
 * Maven to resolve them (a minute or so); later runs reuse the cache.
 */
export async function ensureKafkaJars(
  paths: BrokerPaths,
  version = KAFKA_VERSION,
  log: (line: string) => void = () => {},
): Promise<string> {
  const libs = `${paths.cacheDir}/${version}/libs`;
  const marker = `${paths.cacheDir}/${version}/complete`;
  if (await exists(marker)) return libs;
  await requireTool("mvn");
  log(`Resolving Apache Kafka ${version} jars with Maven (first run only)...`);
  const staging = `${paths.cacheDir}/${version}/staging-${crypto.randomUUID()}`;
  const out = await new Deno.Command("mvn", {
    args: [
      "-q",
      "-B",
      "-f",
      paths.pom,
      `-Dkafka.version=${version}`,
      "dependency:copy-dependencies",
      "-DincludeScope=runtime",
      `-DoutputDirectory=${staging}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const tail = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw new Error(
      `Maven could not resolve Kafka ${version}:\n${tail.split("\n").slice(-20).join("\n")}`,
    );
  }
  await Deno.remove(libs, { recursive: true }).catch(() => {});
  await Deno.rename(staging, libs);
  await Deno.writeTextFile(marker, new Date().toISOString() + "\n");
  return libs;
}
