/**
 * The errors the controller and the access rules throw for the REST API to answer. Each is an
 * {@link ApiError} with its HTTP status fixed, so the app's one `onError` answers it without
 * knowing the class.
 */
import { ApiError } from "../shared/api_error.ts";

/** The named test (or other resource) does not exist: 404. */
export class NotFoundError extends ApiError {
  override name = "NotFoundError";
  constructor(message: string, options?: ErrorOptions) {
    super(404, message, options);
  }
}

/** The request is valid but not allowed in the current state: 409. */
export class ConflictError extends ApiError {
  override name = "ConflictError";
  constructor(message: string, options?: ErrorOptions) {
    super(409, message, options);
  }
}

/**
 * A test's stored data cannot be read (a row edited or damaged outside surge, or refused by the
 * rules of a later surge): 500, naming what cannot be read. The test is shown as `corrupt`.
 */
export class CorruptDataError extends ApiError {
  override name = "CorruptDataError";
  constructor(message: string, options?: ErrorOptions) {
    super(500, message, options);
  }
}

/** A dependency (Kafka) failed while carrying out the request: 503. */
export class UnavailableError extends ApiError {
  override name = "UnavailableError";
  constructor(message: string, options?: ErrorOptions) {
    super(503, message, options);
  }
}

/**
 * The request carries no API token, or a wrong one: 401 with the `WWW-Authenticate: Bearer`
 * challenge (RFC 6750), whose `error="invalid_token"` says a token was sent but is not the one.
 */
export class UnauthorizedError extends ApiError {
  override name = "UnauthorizedError";
  readonly invalidToken: boolean;
  constructor(message: string, options?: ErrorOptions & { invalidToken?: boolean }) {
    super(401, message, options);
    this.invalidToken = options?.invalidToken ?? false;
  }

  override getResponse(): Response {
    const res = super.getResponse();
    const challenge = `Bearer realm="surge"${this.invalidToken ? ', error="invalid_token"' : ""}`;
    res.headers.set("www-authenticate", challenge);
    return res;
  }
}

/** Authenticated, but from somewhere not allowed to use that authentication (a CSRF): 403. */
export class ForbiddenError extends ApiError {
  override name = "ForbiddenError";
  constructor(message: string, options?: ErrorOptions) {
    super(403, message, options);
  }
}

/** The request's `Host` is not a name this server answers for (DNS rebinding): 421. */
export class MisdirectedError extends ApiError {
  override name = "MisdirectedError";
  constructor(message: string, options?: ErrorOptions) {
    super(421, message, options);
  }
}
