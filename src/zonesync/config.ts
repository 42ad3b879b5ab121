/**
 * Parses the zone-sync keys of the NGINX ConfigMap into a typed ZoneSyncConfig.
 *
 * Unlike the NGINX Ingress Controller, which stops at the first bad key, every key is checked and every problem
 * is returned, each as the text of one `InvalidValue` Event; `config` always holds a complete configuration in
 * which bad keys fall back to their defaults. What the caller does with a configuration that has errors is
 * stated by describeOutcome: it keeps the last good one.
 *
 * Rules beyond single values:
 * - every key except `zone-sync` needs `zone-sync: "true"`; the TLS keys also need `zone-sync-tls: "true"`.
 *   A key set while its switch is false or absent is an error. When the switch itself is invalid, the
 *   dependent keys are still checked on their own, so one typo does not hide the other problems.
 * - `zone-sync-tls: "true"` needs `zone-sync-tls-secret`; without a usable Secret, TLS stays off in `config`.
 * - `zone-sync-tls-verify: "true"` needs a CA (`zone-sync-tls-trusted-ca`), as nginx does for
 *   `zone_sync_ssl_verify`; `zone-sync-tls-verify-depth` only makes sense with verification on.
 * - unknown keys that look like zone-sync keys (see isZoneSyncKey) are errors with a "did you mean" hint;
 *   all other ConfigMap keys are ignored.
 * - values are trimmed of surrounding whitespace before they are checked.
 */
import { z } from "zod";
import {
  DEFAULT_CLUSTER_DOMAIN,
  DEFAULT_PORT,
  DEFAULT_RESOLVER_ADDRESS,
  DEFAULT_RESOLVER_VALID,
  KEY_CLUSTER_DOMAIN,
  KEY_CONNECT_TIMEOUT,
  KEY_INTERVAL,
  KEY_PORT,
  KEY_RESOLVER_ADDRESSES,
  KEY_RESOLVER_IPV6,
  KEY_RESOLVER_VALID,
  KEY_TIMEOUT,
  KEY_TLS,
  KEY_TLS_SECRET,
  KEY_TLS_SERVER_NAME,
  KEY_TLS_TRUSTED_CA,
  KEY_TLS_VERIFY,
  KEY_TLS_VERIFY_DEPTH,
  KEY_ZONE_SYNC,
  ZONE_SYNC_KEYS,
  isZoneSyncKey,
  normalizeKey,
} from "./keys.ts";
import { RESOLVER_ADDRESSES_ALLOWED, resolverAddressesValue, type ResolverAddress } from "./resolver.ts";
import { suggest } from "./suggest.ts";
import {
  BOOL_ALLOWED,
  CLUSTER_DOMAIN_ALLOWED,
  PORT_ALLOWED,
  SECONDS_TIME_ALLOWED,
  SECRET_REF_ALLOWED,
  TIME_ALLOWED,
  TRUSTED_CA_ALLOWED,
  boolValue,
  clusterDomainValue,
  intValue,
  portValue,
  secretRefValue,
  timeValue,
  trustedCaValue,
  type SecretRef,
  type ValueSchema,
} from "./values.ts";

export interface ZoneSyncTlsConfig {
  /** The kubernetes.io/tls Secret with tls.crt and tls.key; no namespace means the ConfigMap's namespace. */
  secret: SecretRef;
  /** The key of that Secret holding the CA that peers are verified against, or undefined for none. */
  trustedCaKey: string | undefined;
  /** Verify peer certificates, in both directions (zone_sync_ssl_verify, ssl_verify_client). */
  verify: boolean;
  /** Maximum certificate chain depth when verifying; undefined keeps nginx's default (1). */
  verifyDepth: number | undefined;
  /** Send SNI when connecting to peers (zone_sync_ssl_server_name); undefined keeps nginx's default (off). */
  serverName: boolean | undefined;
}

export interface ZoneSyncConfig {
  enabled: boolean;
  port: number;
  resolverAddresses: ResolverAddress[];
  /** nginx time in whole seconds, as written (e.g. "5s"). */
  resolverValid: string;
  /** false renders `ipv6=off` on the resolver and drops the `[::]` listeners. */
  resolverIPv6: boolean;
  clusterDomain: string;
  /** nginx times, rendered only when set. */
  interval: string | undefined;
  timeout: string | undefined;
  connectTimeout: string | undefined;
  /** undefined when TLS is off. */
  tls: ZoneSyncTlsConfig | undefined;
}

export interface ZoneSyncKeyError {
  key: string;
  /** The value as found in the ConfigMap, or undefined when the problem is that the key is missing. */
  value: string | undefined;
  /** One sentence naming the key, the value and what is allowed: the text of an InvalidValue Event. */
  message: string;
  allowed: string;
}

export interface ZoneSyncParseResult {
  config: ZoneSyncConfig;
  errors: ZoneSyncKeyError[];
}

export function defaultZoneSyncConfig(): ZoneSyncConfig {
  return {
    enabled: false,
    port: DEFAULT_PORT,
    resolverAddresses: [{ kind: "hostname", host: DEFAULT_RESOLVER_ADDRESS }],
    resolverValid: DEFAULT_RESOLVER_VALID,
    resolverIPv6: true,
    clusterDomain: DEFAULT_CLUSTER_DOMAIN,
    interval: undefined,
    timeout: undefined,
    connectTimeout: undefined,
    tls: undefined,
  };
}

const configMapData = z.record(z.string(), z.string()).nullish();

interface KeySpec<T> {
  key: string;
  schema: ValueSchema<T>;
  allowed: string;
}

const spec = <T>(key: string, schema: ValueSchema<T>, allowed: string): KeySpec<T> => ({ key, schema, allowed });

const SPECS = {
  zoneSync: spec(KEY_ZONE_SYNC, boolValue, BOOL_ALLOWED),
  port: spec(KEY_PORT, portValue, PORT_ALLOWED),
  resolverAddresses: spec(KEY_RESOLVER_ADDRESSES, resolverAddressesValue, RESOLVER_ADDRESSES_ALLOWED),
  resolverValid: spec(KEY_RESOLVER_VALID, timeValue({ allowMilliseconds: false }), SECONDS_TIME_ALLOWED),
  resolverIPv6: spec(KEY_RESOLVER_IPV6, boolValue, BOOL_ALLOWED),
  clusterDomain: spec(KEY_CLUSTER_DOMAIN, clusterDomainValue, CLUSTER_DOMAIN_ALLOWED),
  interval: spec(KEY_INTERVAL, timeValue({ allowMilliseconds: true }), TIME_ALLOWED),
  timeout: spec(KEY_TIMEOUT, timeValue({ allowMilliseconds: true }), TIME_ALLOWED),
  connectTimeout: spec(KEY_CONNECT_TIMEOUT, timeValue({ allowMilliseconds: true }), TIME_ALLOWED),
  tls: spec(KEY_TLS, boolValue, BOOL_ALLOWED),
  tlsSecret: spec(KEY_TLS_SECRET, secretRefValue, SECRET_REF_ALLOWED),
  tlsTrustedCa: spec(KEY_TLS_TRUSTED_CA, trustedCaValue, TRUSTED_CA_ALLOWED),
  tlsVerify: spec(KEY_TLS_VERIFY, boolValue, BOOL_ALLOWED),
  tlsVerifyDepth: spec(KEY_TLS_VERIFY_DEPTH, intValue(1, 100, "a verify depth"), "an integer from 1 to 100"),
  tlsServerName: spec(KEY_TLS_SERVER_NAME, boolValue, BOOL_ALLOWED),
};

/** A switch key's state: absent counts as false; "invalid" when its value could not be read. */
type Switch = { key: string; state: boolean | "invalid" };

/**
 * Reads every zone-sync key of a ConfigMap's data. Throws only when `data` is not a map of strings at all
 * (which a ConfigMap from the API never is); everything else is reported in `errors`.
 */
export function parseZoneSyncConfig(data: Readonly<Record<string, string>> | null | undefined): ZoneSyncParseResult {
  const checked = configMapData.safeParse(data);
  if (!checked.success) throw new TypeError("ConfigMap data must map keys to strings", { cause: checked.error });
  const values: Readonly<Record<string, string>> = checked.data ?? {};
  const errors: ZoneSyncKeyError[] = [];
  const failed = new Set<string>();

  const fail = (key: string, value: string | undefined, problem: string, allowed: string): void => {
    const subject = value === undefined ? "" : ` ${JSON.stringify(value)}`;
    errors.push({ key, value, allowed, message: `${key}:${subject} ${problem}; allowed: ${allowed}` });
    failed.add(key);
  };
  const raw = (key: string): string | undefined => (Object.hasOwn(values, key) ? values[key] : undefined);

  /** The key's value, or undefined when it is absent or wrong (then an error is recorded). */
  const read = <T>({ key, schema, allowed }: KeySpec<T>, switches: Switch[] = []): T | undefined => {
    const value = raw(key);
    if (value === undefined) return undefined;
    for (const gate of switches) {
      if (gate.state === false) {
        fail(key, value, `is set while ${gate.key} is not "true"`, `only together with ${gate.key}: "true"`);
        return undefined;
      }
    }
    const result = schema.safeParse(value.trim());
    if (result.success) return result.data;
    fail(key, value, result.error.issues.map((issue) => issue.message).join("; "), allowed);
    return undefined;
  };
  const switchOf = (s: KeySpec<boolean>, gates: Switch[]): Switch => {
    const value = read(s, gates);
    if (value !== undefined) return { key: s.key, state: value };
    return { key: s.key, state: failed.has(s.key) ? "invalid" : false };
  };

  for (const key of Object.keys(values).sort()) {
    if (!isZoneSyncKey(key) || ZONE_SYNC_KEYS.includes(key)) continue;
    const suggestion = suggest(normalizeKey(key), ZONE_SYNC_KEYS);
    const hint = suggestion === undefined ? "unknown key" : `unknown key, did you mean ${suggestion}?`;
    const allowed = `one of ${ZONE_SYNC_KEYS.join(", ")}`;
    errors.push({ key, value: values[key], allowed, message: `${key}: ${hint}; allowed: ${allowed}` });
  }

  const zoneSync = switchOf(SPECS.zoneSync, []);
  const onZoneSync = [zoneSync];
  const config = defaultZoneSyncConfig();
  config.enabled = zoneSync.state === true;
  config.port = read(SPECS.port, onZoneSync) ?? config.port;
  config.resolverAddresses = read(SPECS.resolverAddresses, onZoneSync) ?? config.resolverAddresses;
  config.resolverValid = read(SPECS.resolverValid, onZoneSync) ?? config.resolverValid;
  config.resolverIPv6 = read(SPECS.resolverIPv6, onZoneSync) ?? config.resolverIPv6;
  config.clusterDomain = read(SPECS.clusterDomain, onZoneSync) ?? config.clusterDomain;
  config.interval = read(SPECS.interval, onZoneSync);
  config.timeout = read(SPECS.timeout, onZoneSync);
  config.connectTimeout = read(SPECS.connectTimeout, onZoneSync);

  const tls = switchOf(SPECS.tls, onZoneSync);
  const onTls = [zoneSync, tls];
  const secret = read(SPECS.tlsSecret, onTls);
  const trustedCaKey = read(SPECS.tlsTrustedCa, onTls);
  const verify = read(SPECS.tlsVerify, onTls);
  const verifyDepth = read(SPECS.tlsVerifyDepth, onTls);
  const serverName = read(SPECS.tlsServerName, onTls);

  if (tls.state === true && raw(KEY_TLS_SECRET) === undefined) {
    fail(KEY_TLS_SECRET, undefined, `is required when ${KEY_TLS} is "true"`, SPECS.tlsSecret.allowed);
  }
  const verifyUsable = verify === true && trustedCaKey !== undefined;
  if (verify === true && trustedCaKey === undefined && !failed.has(KEY_TLS_TRUSTED_CA)) {
    fail(
      KEY_TLS_VERIFY,
      raw(KEY_TLS_VERIFY),
      `needs ${KEY_TLS_TRUSTED_CA} to name the CA that peers are verified against`,
      `true together with ${KEY_TLS_TRUSTED_CA}, or false`,
    );
  }
  if (verifyDepth !== undefined && verify !== true && !failed.has(KEY_TLS_VERIFY)) {
    fail(
      KEY_TLS_VERIFY_DEPTH,
      raw(KEY_TLS_VERIFY_DEPTH),
      `has no effect unless ${KEY_TLS_VERIFY} is "true"`,
      `an integer from 1 to 100, together with ${KEY_TLS_VERIFY}: "true"`,
    );
  }

  if (tls.state === true && secret !== undefined) {
    config.tls = {
      secret,
      trustedCaKey,
      verify: verifyUsable,
      verifyDepth: verifyUsable ? verifyDepth : undefined,
      serverName,
    };
  }

  errors.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { config, errors };
}

/**
 * The text of the one summary Event for a parse: what happens to zone-sync as a whole. With errors, nothing
 * of the new configuration is applied: the last good configuration stays, or, when there is none yet
 * (`hasLastGood: false`), zone-sync stays unconfigured.
 */
export function describeOutcome(
  errors: readonly Pick<ZoneSyncKeyError, "key">[],
  options: { hasLastGood?: boolean } = {},
): string {
  if (errors.length === 0) return "all zone-sync keys are valid; applying the configuration";
  const keys = [...new Set(errors.map((e) => e.key))];
  const counted = `${keys.length} invalid zone-sync key${keys.length === 1 ? "" : "s"} (${keys.join(", ")})`;
  const action =
    options.hasLastGood === false
      ? "zone-sync stays unconfigured until they are fixed"
      : "keeping the last good configuration";
  return `${counted}; ${action}`;
}
