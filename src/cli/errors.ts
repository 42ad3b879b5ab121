/** Exit codes: 0 success, 1 failure, 2 usage or configuration error. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Bad flags, a missing kubeconfig, an unknown context: the command could not even start (exit 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
