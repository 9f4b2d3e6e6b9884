/**
 * An error answer of the REST API. Like Hono's `HTTPException`, it carries its HTTP status and
 * builds its own response, so the orchestrator's one `onError` only asks whether an error is one;
 * the API client turns an error answer back into one, so a caller sees the same status.
 */
import type { ErrorBody, Problem } from "./api.ts";

/** An error with the HTTP status the API answers it with, in the one error shape (`ErrorBody`). */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  /** One entry per bad field, for a request that did not validate. */
  readonly problems: Problem[] | undefined;

  constructor(
    status: number,
    message: string,
    options?: ErrorOptions & { problems?: Problem[] },
  ) {
    super(message, options);
    this.status = status;
    this.problems = options?.problems;
  }

  /** The answer's body. */
  body(): ErrorBody {
    return this.problems
      ? { error: this.message, problems: this.problems }
      : { error: this.message };
  }

  /** The answer itself (the name Hono's `HTTPException` uses). */
  getResponse(): Response {
    return Response.json(this.body(), { status: this.status });
  }
}
