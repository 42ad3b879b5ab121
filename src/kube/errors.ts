/** An error answered by the Kubernetes API server (or the transport before it), classified for retry decisions. */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  readonly status: number;
  readonly reason: string;
  readonly method: string;
  readonly path: string;
  /** The API server's own message (from its Status answer), without the request line in front; "" when none. */
  readonly serverMessage: string;
  constructor(
    message: string,
    status: number,
    reason: string,
    method: string,
    path: string,
    options?: { cause?: unknown; serverMessage?: string },
  ) {
    super(message, options);
    this.status = status;
    this.reason = reason;
    this.method = method;
    this.path = path;
    this.serverMessage = options?.serverMessage ?? "";
  }
}

export function isKubeError(err: unknown): err is KubeApiError {
  return err instanceof KubeApiError;
}
export const isNotFound = (err: unknown): boolean => isKubeError(err) && err.status === 404;
export const isConflict = (err: unknown): boolean => isKubeError(err) && err.status === 409;
export const isAlreadyExists = (err: unknown): boolean =>
  isKubeError(err) && err.status === 409 && err.reason === "AlreadyExists";
export const isForbidden = (err: unknown): boolean => isKubeError(err) && err.status === 403;
export const isUnauthorized = (err: unknown): boolean => isKubeError(err) && err.status === 401;
export const isGone = (err: unknown): boolean => isKubeError(err) && err.status === 410;
export const isInvalid = (err: unknown): boolean => isKubeError(err) && err.status === 422;

/** Transport failures (status 0), throttling and server-side trouble are worth retrying; client errors are not. */
export function isRetryable(err: unknown): boolean {
  if (!isKubeError(err)) return true;
  return err.status === 0 || err.status === 429 || err.status >= 500 || err.status === 409;
}

/** A short label for metrics and conditions: "NotFound", "Forbidden", "Unreachable", ... */
export function errorKind(err: unknown): string {
  if (!isKubeError(err)) return "Internal";
  if (err.status === 0) return "Unreachable";
  return err.reason || `HTTP${err.status}`;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return `${err.message}${cause && !err.message.includes(cause.slice(2)) ? cause : ""}`;
  }
  return String(err);
}
