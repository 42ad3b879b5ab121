import { DEFAULT_NAMESPACE, DEFAULT_RELEASE } from "../../api/names.ts";
import { describeError, isKubeError } from "../../kube/errors.ts";
import type { ClusterContext } from "../context.ts";
import { fail, type Outcome } from "../types.ts";

/** ` --context <ctx> -n <ns>` as the commands in hints need them (defaults left out). */
export function flags(ctx: ClusterContext, options: { release?: boolean } = {}): string {
  let out = ` --context ${ctx.context}`;
  if (ctx.namespace !== DEFAULT_NAMESPACE) out += ` -n ${ctx.namespace}`;
  if (options.release && ctx.options.release !== DEFAULT_RELEASE) out += ` --release ${ctx.options.release}`;
  return out;
}

/** `kubectl --context <ctx> -n <ns>` */
export function kubectl(ctx: ClusterContext, namespace = ctx.namespace): string {
  return `kubectl --context ${ctx.context} -n ${namespace}`;
}

/** A failed API call as an outcome, with a hint for the usual causes. */
export function apiFailure(err: unknown, ctx: ClusterContext, what: string): Outcome {
  const message = `${what}: ${describeError(err)}`;
  if (!isKubeError(err)) return fail(message);
  if (err.status === 0)
    return fail(
      message,
      `check that the API server ${ctx.client.server} is up: kubectl --context ${ctx.context} cluster-info`,
    );
  if (err.status === 401) return fail(message, `the credentials of context ${ctx.context} were rejected; log in again`);
  if (err.status === 403)
    return fail(message, `grant the identity of context ${ctx.context} read access (get, list) to what is named above`);
  return fail(message);
}

/** "a, b, c and 4 more" */
export function listSome(items: readonly string[], max = 10): string {
  if (items.length <= max) return items.join(", ");
  return `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** "3m20s" from milliseconds, for ages and remaining times. */
export function humanDuration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ""}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ""}`;
  return `${Math.floor(h / 24)}d`;
}
