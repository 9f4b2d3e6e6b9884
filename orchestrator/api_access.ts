/**
 * Who may use the orchestrator's HTTP server, as one middleware in front of every route plus the
 * dashboard's login. In order:
 *
 * 1. `Host` must name this server (served_hosts.ts), else 421: the DNS-rebinding defence.
 * 2. The open routes need nothing: `/healthz`, the API docs and OpenAPI document, the
 *    dashboard's static files and the login page. Every other route — every command, and every
 *    read that shows a test's config (tests, reports, time series, the dashboard's snapshot and
 *    events) — needs the token.
 * 3. `Authorization: Bearer <token>` is accepted from anywhere; a wrong one is 401.
 * 4. Else the login cookie (set by `POST /login`), but only from this server's own pages: a
 *    request whose `Origin` is another origin, or whose `Sec-Fetch-Site` is not `same-origin`
 *    or `none`, is refused with 403, so another site (or another port on this host) cannot ride
 *    on the cookie (CSRF). SameSite=Strict alone does not cover other ports of the same host.
 * 5. Else 401 with `WWW-Authenticate: Bearer`; a browser asking for a page is sent to `/login`.
 *
 * Tokens are compared in constant time: both sides are hashed to SHA-256 first, so neither
 * the content nor the length of the real token leaks through timing.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Hono, type MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { DASHBOARD_ASSETS } from "../dashboard/assets.ts";
import { loginPage } from "../dashboard/login_page.ts";
import { ForbiddenError, MisdirectedError, UnauthorizedError } from "./errors.ts";
import { isServedOrigin } from "./served_hosts.ts";

/** What the access rules need. */
export interface ApiAccess {
  /** The API token. */
  token: string;
  /** Whether a `Host` header value names this server (see `servedHosts`). */
  servesHost(host: string): boolean;
}

/** The dashboard's login cookie; it holds the token itself. */
export const TOKEN_COOKIE = "surge_token";

/** How long the browser keeps the login: 30 days, so the dashboard asks once, not per visit. */
const COOKIE_MAX_AGE_S = 30 * 24 * 3600;

/** Routes without data that everyone may read (GET and HEAD only). */
const OPEN_PATHS = new Set([
  "/healthz",
  "/login",
  "/favicon.ico",
  "/api/docs",
  "/api/openapi.json",
]);

/**
 * True for the routes that need no token: the health check, the docs, the dashboard's static
 * files (by name, so a route added under `/dashboard/` later is closed until listed) and the
 * login page. `POST /login` is open too: it checks the token it is given.
 */
export function isOpen(method: string, path: string): boolean {
  if (path === "/login") return true;
  if (method !== "GET" && method !== "HEAD") return false;
  return OPEN_PATHS.has(path) || path.startsWith("/api/docs/") ||
    (path.startsWith("/dashboard/") && DASHBOARD_ASSETS.has(path.slice("/dashboard/".length)));
}

/** Pages a person opens: without a login they go to the login form rather than get JSON. */
function isPage(method: string, path: string): boolean {
  return (method === "GET" || method === "HEAD") && (path === "/" || path.startsWith("/reports/"));
}

/** Why the request did not come from this server's own pages, or undefined when it did. */
export function crossOriginReason(
  headers: Headers,
  servesHost: (host: string) => boolean,
): string | undefined {
  const origin = headers.get("origin");
  if (origin !== null && !isServedOrigin(origin, servesHost)) return `Origin ${origin}`;
  const site = headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") return `Sec-Fetch-Site ${site}`;
  return undefined;
}

/** A constant-time check of a candidate against the token. */
function tokenCheck(token: string): (candidate: string | undefined) => boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  const want = digest(token);
  return (candidate) => candidate !== undefined && timingSafeEqual(digest(candidate), want);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined for another scheme. */
function bearerToken(header: string): string | undefined {
  const m = /^Bearer +(\S+) *$/i.exec(header);
  return m?.[1];
}

const MISSING = 'API token required: send "Authorization: Bearer <token>" (the orchestrator\'s ' +
  "SURGE_API_TOKEN, or the api_token file in its data dir), or log in to the dashboard at /login";

/** The middleware that applies the rules above; mount it before every route. */
export function requireAccess(access: ApiAccess): MiddlewareHandler {
  const matches = tokenCheck(access.token);
  return async (c, next) => {
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    if (!access.servesHost(host)) {
      return new MisdirectedError(
        `This server does not answer for host "${host}": use the address it listens on, or ` +
          "start it with --public-host for the name clients use",
      ).getResponse();
    }
    const { method, path } = c.req;
    if (isOpen(method, path)) return await next();
    const authorization = c.req.header("authorization");
    if (authorization !== undefined) {
      if (matches(bearerToken(authorization))) return await next();
      return new UnauthorizedError("Wrong API token", { invalidToken: true }).getResponse();
    }
    const cookie = getCookie(c, TOKEN_COOKIE);
    if (matches(cookie)) {
      const reason = crossOriginReason(c.req.raw.headers, access.servesHost);
      if (reason === undefined) return await next();
      return new ForbiddenError(
        `Refused a cross-origin request (${reason}) authenticated only by the dashboard's ` +
          'login cookie: send "Authorization: Bearer <token>" instead',
      ).getResponse();
    }
    if (isPage(method, path)) {
      const url = new URL(c.req.url);
      return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    if (cookie === undefined) return new UnauthorizedError(MISSING).getResponse();
    return new UnauthorizedError(
      "The dashboard's login is no longer valid (the token changed): log in again at /login",
      { invalidToken: true },
    ).getResponse();
  };
}

/** A `next` that stays on this server: a path, not `//host` (which a browser reads as a URL). */
function localPath(next: unknown): string {
  return typeof next === "string" && next.startsWith("/") && !/^\/[/\\]/.test(next) ? next : "/";
}

/**
 * `GET /login`, the form, and `POST /login`, which checks the token and answers with the login
 * cookie (HttpOnly: no script reads it; SameSite=Strict; Secure when the form was posted from an
 * https page — over plain http a Secure cookie would not be kept) and a redirect to `next`.
 */
export function loginRoutes(access: ApiAccess): Hono {
  const matches = tokenCheck(access.token);
  const app = new Hono();
  app.get("/login", (c) => c.html(loginPage(localPath(c.req.query("next")))));
  app.post("/login", async (c) => {
    // A login posted from another site would sign this browser in with the other site's token.
    const reason = crossOriginReason(c.req.raw.headers, access.servesHost);
    if (reason !== undefined) {
      return new ForbiddenError(`Refused a cross-origin login (${reason})`).getResponse();
    }
    const form = await c.req.parseBody();
    const next = localPath(form.next);
    const token = typeof form.token === "string" ? form.token.trim() : undefined;
    if (!matches(token)) {
      return c.html(loginPage(next, "Wrong API token."), 401, {
        "www-authenticate": 'Bearer realm="surge", error="invalid_token"',
      });
    }
    setCookie(c, TOKEN_COOKIE, token!, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      maxAge: COOKIE_MAX_AGE_S,
      secure: c.req.header("origin")?.startsWith("https:") ?? false,
    });
    return c.redirect(next, 303);
  });
  return app;
}
