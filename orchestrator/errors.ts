/**
 * The errors the controller throws for the REST API to answer. Each is an {@link ApiError} with
 * its HTTP status fixed, so the app's one `onError` answers it without knowing the class.
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

/** A dependency (Kafka) failed while carrying out the request: 503. */
export class UnavailableError extends ApiError {
  override name = "UnavailableError";
  constructor(message: string, options?: ErrorOptions) {
    super(503, message, options);
  }
}
