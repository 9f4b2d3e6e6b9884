/**
 * The errors the REST API maps to HTTP statuses. Each is thrown by the controller and caught by
 * the app's one `onError`, which is why they are classes rather than plain `Error`s.
 */

/** The named test (or other resource) does not exist: 404. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
}

/** The request is valid but not allowed in the current state: 409. */
export class ConflictError extends Error {
  override name = "ConflictError";
}

/** A dependency (Kafka) failed while carrying out the request: 503. */
export class UnavailableError extends Error {
  override name = "UnavailableError";
}
