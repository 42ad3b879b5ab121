import { X509Certificate } from "node:crypto";
import { isKubeError } from "../../kube/errors.ts";
import { DEFAULT_NAMESPACE, targetServiceAccountName } from "../../api/names.ts";
import { ANNOTATION_TARGET_SERVICE_ACCOUNT, ANNOTATION_TOKEN_EXPIRES } from "../../api/names.ts";
import { TARGET_ACCESS_RULES } from "../../link/access.ts";
import type { ClusterContext, LinkRef } from "../context.ts";
import { jwtClaims, jwtExpiry } from "../../api/jwt.ts";
import type { KubeconfigEntry } from "../../kube/kubeconfig.ts";
import { resolveHost, serverAddress, tcpConnect, tlsHandshake } from "../network.ts";
import { fail, ok, subjectCheck, type CheckDefinition } from "../types.ts";
import { humanDuration, kubectl, listSome } from "./common.ts";
import { relinkCommand } from "./links.ts";

const WARN_BEFORE_EXPIRY_MS = 7 * 24 * 3600 * 1000;

const links = (ctx: ClusterContext) => ctx.links();
const key = (link: LinkRef) => link.key;

async function entryOf(ctx: ClusterContext, link: LinkRef) {
  const creds = await ctx.credentials(link);
  if (!creds.entry) throw new Error(creds.problem ?? "no usable credentials");
  return creds.entry;
}

function addressHint(ctx: ClusterContext, link: LinkRef): string {
  return `make the target's API server reachable from this cluster, or point the link at an address that is: ${kubectl(ctx, link.namespace)} patch zonesynclink ${link.name} --type merge -p '{"spec":{"apiServerAddress":"https://<host>:<port>"}}'`;
}

const SA_PREFIX = targetServiceAccountName("");

/** The target ServiceAccount the credentials act as: from the Secret's annotation, else the token's subject. */
async function targetIdentity(ctx: ClusterContext, link: LinkRef) {
  const creds = await ctx.credentials(link);
  let ref = creds.secret?.metadata.annotations?.[ANNOTATION_TARGET_SERVICE_ACCOUNT];
  const sub = creds.entry?.token ? jwtClaims(creds.entry.token)?.sub : undefined;
  if (!ref && typeof sub === "string" && sub.startsWith("system:serviceaccount:"))
    ref = sub.split(":").slice(2).join("/");
  const [namespace, name] = ref?.split("/") ?? [];
  if (!namespace || !name?.startsWith(SA_PREFIX)) return undefined;
  return { namespace, name, source: name.slice(SA_PREFIX.length) };
}

/**
 * What a network step depends on: the address and the TLS material. Links that share it (several links to one API
 * server) share the step's result within a run; the access reviews stay per link (they depend on the token).
 */
function tlsIdentity(entry: KubeconfigEntry): string {
  return JSON.stringify([entry.server, entry.caPem ?? "", entry.clientCertPem ?? "", entry.insecureSkipTlsVerify]);
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message;
}

export const credentialChecks: CheckDefinition<ClusterContext>[] = [
  subjectCheck<ClusterContext, LinkRef>({
    id: "credentials.secret",
    category: "credentials",
    description: "every link's credentials Secret exists and holds a usable kubeconfig",
    severity: "error",
    retryable: false,
    probe: true,
    dependsOn: ["links.crd-version", "links.valid"],
    none: "no links",
    subjects: links,
    subjectName: key,
    async run(ctx, link) {
      const creds = await ctx.credentials(link);
      if (!creds.entry)
        return fail(creds.problem ?? "no usable kubeconfig", `issue new credentials: ${relinkCommand(ctx, link)}`);
      const { entry } = creds;
      if (!entry.token && !entry.clientCertPem && !entry.usesPlugin) {
        return fail(
          `the kubeconfig in Secret ${link.namespace}/${creds.secretName} has no credentials (token or client certificate)`,
          `issue new credentials: ${relinkCommand(ctx, link)}`,
        );
      }
      return ok(`Secret ${creds.secretName}, server ${entry.server}`);
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "credentials.token-expiry",
    category: "credentials",
    description: "no credentials expire within 7 days",
    severity: "warning",
    retryable: false,
    probe: true,
    dependsOn: ["credentials.secret"],
    none: "no links",
    subjects: links,
    subjectName: key,
    async run(ctx, link) {
      const creds = await ctx.credentials(link);
      const entry = creds.entry!;
      let expiry: Date | undefined;
      let what = "token";
      if (entry.token) expiry = jwtExpiry(entry.token);
      if (!expiry && entry.clientCertPem) {
        expiry = new Date(new X509Certificate(entry.clientCertPem).validTo);
        what = "client certificate";
      }
      const annotated = creds.secret?.metadata.annotations?.[ANNOTATION_TOKEN_EXPIRES];
      if (!expiry && annotated && !Number.isNaN(Date.parse(annotated))) expiry = new Date(annotated);
      if (!expiry) return ok(`${what} does not expire (no exp claim)`);
      const left = expiry.getTime() - ctx.now();
      const hint = `issue new credentials (the controller picks up the new Secret without a restart): ${relinkCommand(ctx, link)}`;
      if (left <= 0)
        return fail(`the ${what} expired ${humanDuration(-left)} ago (${expiry.toISOString()})`, hint, "error");
      if (left < WARN_BEFORE_EXPIRY_MS)
        return fail(`the ${what} expires in ${humanDuration(left)} (${expiry.toISOString()})`, hint, "warning");
      return ok(`expires in ${humanDuration(left)}`);
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "credentials.dns",
    category: "credentials",
    description: "every target API server's host name resolves",
    severity: "error",
    retryable: true,
    probe: true,
    remote: true,
    dependsOn: ["credentials.secret"],
    none: "no links",
    subjects: links,
    subjectName: key,
    async run(ctx, link) {
      const { host } = serverAddress((await entryOf(ctx, link)).server);
      try {
        const addresses = await ctx.once(`dns:${host}`, () => resolveHost(host, ctx.options.timeoutMs));
        return ok(addresses[0] === host ? `${host} (an address)` : `${host} → ${listSome(addresses, 3)}`);
      } catch (err) {
        return fail(`cannot resolve ${host}: ${errorText(err)}`, addressHint(ctx, link));
      }
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "credentials.tcp",
    category: "credentials",
    description: "every target API server accepts TCP connections",
    severity: "error",
    retryable: true,
    probe: true,
    remote: true,
    dependsOn: ["credentials.dns"],
    none: "no links",
    subjects: links,
    subjectName: key,
    async run(ctx, link) {
      const address = serverAddress((await entryOf(ctx, link)).server);
      try {
        const ms = await ctx.once(`tcp:${address.host}:${address.port}`, () =>
          tcpConnect(address, ctx.options.timeoutMs),
        );
        return ok(`${address.host}:${address.port} in ${ms.toFixed(1)} ms`);
      } catch (err) {
        return fail(`cannot connect to ${address.host}:${address.port}: ${errorText(err)}`, addressHint(ctx, link));
      }
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "credentials.tls",
    category: "credentials",
    description: "every target API server's certificate is trusted by the link's kubeconfig",
    severity: "error",
    retryable: true,
    probe: true,
    remote: true,
    dependsOn: ["credentials.tcp"],
    none: "no links",
    subjects: links,
    subjectName: key,
    async run(ctx, link) {
      const entry = await entryOf(ctx, link);
      const address = serverAddress(entry.server);
      try {
        const tls = await ctx.once(`tls:${tlsIdentity(entry)}`, () =>
          tlsHandshake(address, entry, ctx.options.timeoutMs),
        );
        const described = `${tls.protocol}, certificate ${tls.subject || "(no CN)"} by ${tls.issuer || "?"}, valid to ${tls.validTo}`;
        if (entry.insecureSkipTlsVerify) {
          return fail(
            `${described}: NOT verified (the link sets spec.insecureSkipTLSVerify)`,
            `anyone between this cluster and the target can read and change what the link controller sees; put the target's CA in the kubeconfig and unset spec.insecureSkipTLSVerify: ${relinkCommand(ctx, link)}`,
            "warning",
          );
        }
        return ok(described);
      } catch (err) {
        return fail(
          `TLS handshake with ${address.host}:${address.port} failed: ${errorText(err)}`,
          `the kubeconfig in Secret ${link.namespace}/${(await ctx.credentials(link)).secretName} must carry the CA that signed the target's serving certificate, for the address it uses; issue new credentials: ${relinkCommand(ctx, link)}`,
        );
      }
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "credentials.server-version",
    category: "credentials",
    description: "every target API server answers (server version)",
    severity: "error",
    retryable: true,
    probe: true,
    remote: true,
    dependsOn: ["credentials.tls"],
    none: "no links",
    subjects: links,
    subjectName: key,
    async run(ctx, link) {
      const [entry, client] = await Promise.all([entryOf(ctx, link), ctx.targetClient(link)]);
      try {
        const version = await ctx.once(`version:${tlsIdentity(entry)}`, () =>
          client.request<{ gitVersion?: string }>("GET", "/version", {
            timeoutMs: ctx.options.timeoutMs,
          }),
        );
        return ok(`Kubernetes ${version.gitVersion ?? "(unknown version)"}`);
      } catch (err) {
        if (isKubeError(err) && (err.status === 401 || err.status === 403))
          return ok(`answers (version hidden: ${err.status}; access is checked next)`);
        return fail(`the API server does not answer: ${errorText(err)}`, addressHint(ctx, link));
      }
    },
  }),
  subjectCheck<ClusterContext, LinkRef>({
    id: "credentials.access",
    category: "credentials",
    description: "every link's target identity may do what the link controller needs (SelfSubjectAccessReview)",
    severity: "error",
    retryable: false,
    probe: true,
    remote: true,
    dependsOn: ["credentials.server-version"],
    none: "no links",
    subjects: links,
    subjectName: key,
    async run(ctx, link) {
      const client = await ctx.targetClient(link);
      const namespaces: Array<string | undefined> = link.spec.namespaces?.length ? link.spec.namespaces : [undefined];
      const reviews = TARGET_ACCESS_RULES.flatMap((rule) =>
        rule.apiGroups.flatMap((group) =>
          rule.resources.flatMap((resource) =>
            rule.verbs.flatMap((verb) => namespaces.map((namespace) => ({ group, resource, verb, namespace }))),
          ),
        ),
      );
      const denied: string[] = [];
      try {
        await Promise.all(
          reviews.map(async (attrs) => {
            const review = await client.request<{ status?: { allowed?: boolean } }>(
              "POST",
              "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
              {
                body: {
                  apiVersion: "authorization.k8s.io/v1",
                  kind: "SelfSubjectAccessReview",
                  spec: { resourceAttributes: attrs },
                },
                timeoutMs: ctx.options.timeoutMs,
              },
            );
            if (!review.status?.allowed) {
              const what = attrs.group ? `${attrs.resource}.${attrs.group}` : attrs.resource;
              denied.push(`${attrs.verb} ${what} ${attrs.namespace ? `in ${attrs.namespace}` : "cluster-wide"}`);
            }
          }),
        );
      } catch (err) {
        if (isKubeError(err) && err.status === 401) {
          return fail(
            "the target rejected the token (401 Unauthorized): expired, revoked, or issued by another cluster",
            `issue new credentials: ${relinkCommand(ctx, link)}`,
          );
        }
        throw err;
      }
      if (denied.length === 0) return ok(`${reviews.length} permissions granted`);
      const target = ctx.kubeconfigServers.has(link.spec.targetClusterName ?? "")
        ? link.spec.targetClusterName
        : "<target-context>";
      const identity = await targetIdentity(ctx, link);
      const allow = identity
        ? `zonesync allow --context ${target} --source ${identity.source}${identity.namespace !== DEFAULT_NAMESPACE ? ` -n ${identity.namespace}` : ""} --apply`
        : `zonesync allow --context ${target} --source <source-name> --apply`;
      return fail(
        `the target denies ${identity ? `${identity.namespace}/${identity.name}` : "the link's identity"}: ${listSome(denied.sort(), 6)}`,
        `grant exactly these on the target: ${allow}`,
      );
    },
  }),
];
