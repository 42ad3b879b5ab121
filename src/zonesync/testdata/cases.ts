/**
 * The golden cases: ConfigMap data in, zone-sync.conf out. render.golden.test.ts compares the output with
 * `<name>.conf` next to this file; nginx.test.ts feeds the same files to a real nginx.
 */
import type { RenderOptions, RenderTarget } from "../render.ts";

export interface GoldenCase {
  name: string;
  data: Record<string, string>;
  target?: RenderTarget;
  options?: RenderOptions;
  /** false when zone-sync is off and nothing is rendered (no .conf file exists). */
  renders?: boolean;
}

export const GOLDEN_TARGET: RenderTarget = { serviceName: "nginx-ingress-deployment-hl", namespace: "nginx-ingress" };

const on = { "zone-sync": "true" };
const tls = { ...on, "zone-sync-tls": "true", "zone-sync-tls-secret": "zone-sync-tls" };

export const GOLDEN_CASES: readonly GoldenCase[] = [
  { name: "disabled-absent", data: { "worker-processes": "2" }, renders: false },
  { name: "disabled-false", data: { "zone-sync": "false" }, renders: false },
  { name: "defaults", data: on },
  { name: "custom-port", data: { ...on, "zone-sync-port": "7777" } },
  {
    name: "resolvers",
    data: {
      ...on,
      "zone-sync-resolver-addresses":
        "10.96.0.10, 192.0.2.53:53 ,[FD00::A]:5353, 2001:db8::53,coredns.kube-system.svc.cluster.local:1053",
      "zone-sync-resolver-valid": "1m30s",
    },
  },
  { name: "ipv6-off", data: { ...on, "zone-sync-resolver-ipv6": "false" } },
  { name: "ipv6-disabled-by-caller", data: on, options: { disableIPv6: true } },
  {
    name: "timing",
    data: {
      ...on,
      "zone-sync-interval": "1s",
      "zone-sync-timeout": "5s",
      "zone-sync-connect-timeout": "500ms",
    },
  },
  { name: "cluster-domain", data: { ...on, "zone-sync-cluster-domain": "corp.example" } },
  { name: "tls", data: tls },
  {
    name: "tls-verify",
    data: {
      ...tls,
      "zone-sync-tls-secret": "nginx-ingress/zone-sync-tls",
      "zone-sync-tls-trusted-ca": "true",
      "zone-sync-tls-verify": "true",
      "zone-sync-tls-verify-depth": "2",
      "zone-sync-tls-server-name": "true",
    },
  },
  {
    name: "tls-ca-without-verify",
    data: {
      ...tls,
      "zone-sync-tls-trusted-ca": "ca.pem",
      "zone-sync-tls-verify": "false",
      "zone-sync-tls-server-name": "false",
    },
  },
  {
    name: "everything",
    data: {
      ...tls,
      "zone-sync-port": "23456",
      "zone-sync-resolver-addresses": "10.96.0.10:53,[fd00::10]",
      "zone-sync-resolver-valid": "30s",
      "zone-sync-resolver-ipv6": "false",
      "zone-sync-cluster-domain": "cluster.example",
      "zone-sync-interval": "2s",
      "zone-sync-timeout": "10s",
      "zone-sync-connect-timeout": "1s",
      "zone-sync-tls-trusted-ca": "TRUE",
      "zone-sync-tls-verify": "t",
      "zone-sync-tls-verify-depth": "3",
      "zone-sync-tls-server-name": "1",
      "proxy-connect-timeout": "10s",
    },
  },
];
