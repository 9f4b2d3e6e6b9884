/**
 * The one client of the orchestrator's REST API, shared by `deno task loadtest`,
 * `deno task up --demo` and `deno task end`; its answers are typed by the contract in
 * shared/api.ts. An error answer is thrown as an {@link ApiError} with its status. `fetch` is
 * injected, so tests can answer from an in-process Hono app and callers can add a timeout. Every
 * request carries the API token, when there is one, as `Authorization: Bearer`.
 */
import type {
  Driver,
  DriverList,
  EndBody,
  EndRequest,
  Health,
  Report,
  ShutdownBody,
  TestList,
  TestParamsInput,
  TestSummary,
  TestView,
} from "../shared/api.ts";
import { ApiError } from "../shared/api_error.ts";

/** The orchestrator could not be reached at all. */
export class UnreachableError extends Error {
  override name = "UnreachableError";
}

/** What surge's commands do with the API. */
export interface ApiClient {
  readonly baseUrl: string;
  drivers(): Promise<Driver[]>;
  createTest(params: TestParamsInput): Promise<TestView>;
  trigger(testId: string): Promise<TestView>;
  stop(testId: string): Promise<TestView>;
  getTest(testId: string): Promise<TestView>;
  /** Deletes a settled test with its results (409 while it can still change). */
  deleteTest(testId: string): Promise<void>;
  listTests(): Promise<TestSummary[]>;
  report(testId: string): Promise<Report>;
  reportCsv(testId: string): Promise<string>;
  /**
   * Tells every driver, or the `drivers` named, to finish and exit; resolves to who was told
   * (every alive driver, or the named ones).
   */
  end(drivers?: readonly string[]): Promise<string[]>;
  /** Asks the orchestrator to stop; it answers before it does. */
  shutdown(): Promise<ShutdownBody>;
  health(): Promise<Health>;
}

/** How the client talks to the orchestrator. */
export interface ApiClientOptions {
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** The API token (see shared/api_token.ts `findClientToken`); without one the API answers 401. */
  token?: string;
}

/** A client of the orchestrator at `baseUrl` (no trailing slash needed). */
export function createApiClient(baseUrl: string, options: ApiClientOptions = {}): ApiClient {
  const base = baseUrl.replace(/\/+$/, "");
  const fetchFn = options.fetch ?? fetch;
  const auth: Record<string, string> = options.token === undefined
    ? {}
    : { authorization: `Bearer ${options.token}` };
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    let res: Response;
    try {
      res = await fetchFn(`${base}${path}`, {
        method,
        headers: body === undefined ? auth : { ...auth, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new UnreachableError(
        `Cannot reach the orchestrator at ${base} (${(err as Error).message}). ` +
          "Is it running? Start a whole local cluster with `deno task up`.",
        { cause: err },
      );
    }
    if (!res.ok) {
      const text = await res.text();
      let message = text.slice(0, 500);
      try {
        const parsed = JSON.parse(text);
        if (typeof parsed?.error === "string") message = parsed.error;
      } catch {
        // not JSON: keep the text
      }
      if (res.status === 401 && options.token === undefined) {
        message += ". No API token was found here: set SURGE_API_TOKEN, or SURGE_DATA_DIR to " +
          "the orchestrator's data dir (default .data/orchestrator)";
      }
      throw new ApiError(res.status, `${method} ${path} failed (${res.status}): ${message}`);
    }
    return res;
  };
  const json = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
    await (await call(method, path, body)).json() as T;
  const id = (testId: string) => encodeURIComponent(testId);
  return {
    baseUrl: base,
    drivers: async () => (await json<DriverList>("GET", "/api/drivers")).drivers,
    createTest: (params) => json("POST", "/api/tests", params),
    trigger: (testId) => json("POST", `/api/tests/${id(testId)}/trigger`),
    stop: (testId) => json("POST", `/api/tests/${id(testId)}/stop`),
    getTest: (testId) => json("GET", `/api/tests/${id(testId)}`),
    deleteTest: async (testId) => {
      await call("DELETE", `/api/tests/${id(testId)}`);
    },
    listTests: async () => (await json<TestList>("GET", "/api/tests")).tests,
    report: (testId) => json("GET", `/api/tests/${id(testId)}/report?format=json`),
    reportCsv: async (testId) =>
      await (await call("GET", `/api/tests/${id(testId)}/report?format=csv`)).text(),
    end: async (drivers) => {
      const body: EndRequest | undefined = drivers === undefined
        ? undefined
        : { drivers: [...drivers] };
      return (await json<EndBody>("POST", "/api/end", body)).drivers;
    },
    shutdown: () => json("POST", "/api/shutdown"),
    health: () => json("GET", "/healthz"),
  };
}
