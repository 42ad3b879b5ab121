import { parse, stringify } from "yaml";
import { jwtClaims } from "../api/jwt.ts";

/**
 * Renewing the target token before it expires: when (a fraction of its lifetime, from its own `iat` and `exp`), and
 * the kubeconfig with the new token in place of the old. Pure; the link controller does the requests.
 */

/** Renew once this fraction of the token's lifetime has passed (default 80%, as the kubelet does). */
export const DEFAULT_RENEW_AFTER = 0.8;

export interface TokenLifetime {
  /** ms since the epoch */
  issuedAt: number;
  expiresAt: number;
}

/** The lifetime a JWT states (`iat`, `exp`), or undefined for a token that is not a JWT or states none. */
export function tokenLifetime(token: string | undefined): TokenLifetime | undefined {
  const claims = token ? jwtClaims(token) : undefined;
  const iat = claims?.iat;
  const exp = claims?.exp;
  if (typeof iat !== "number" || typeof exp !== "number" || !(exp > iat)) return undefined;
  return { issuedAt: iat * 1000, expiresAt: exp * 1000 };
}

/** When to renew: `fraction` of the lifetime after issue. */
export function renewalDue(lifetime: TokenLifetime, fraction: number): number {
  return lifetime.issuedAt + Math.round((lifetime.expiresAt - lifetime.issuedAt) * fraction);
}

/** The kubeconfig with the current context's user token replaced; everything else kept as it was. */
export function withToken(kubeconfigText: string, token: string): string {
  const doc = parse(kubeconfigText) as {
    "current-context"?: string;
    contexts?: Array<{ name?: string; context?: { user?: string } }>;
    users?: Array<{ name?: string; user?: Record<string, unknown> }>;
  };
  const userName = doc.contexts?.find((c) => c.name === doc["current-context"])?.context?.user;
  const user = doc.users?.find((u) => u.name === userName);
  if (!user?.user) throw new Error("the kubeconfig's current context has no user to renew the token of");
  user.user.token = token;
  return stringify(doc);
}
