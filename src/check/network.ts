import { lookup } from "node:dns/promises";
import { connect as netConnect, isIP } from "node:net";
import { connect as tlsConnect, type PeerCertificate } from "node:tls";

/**
 * The three network steps to an API server, each on its own so that a failure names the step: the name does not
 * resolve (DNS), nothing listens or a firewall drops it (TCP), or the certificate is not the one the kubeconfig
 * trusts (TLS).
 */

export interface ServerAddress {
  host: string;
  port: number;
}

export function serverAddress(server: string): ServerAddress {
  const url = new URL(server);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(url.port || (url.protocol === "http:" ? 80 : 443)) };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The addresses a host name resolves to (an IP literal resolves to itself without a lookup). */
export async function resolveHost(host: string, timeoutMs: number): Promise<string[]> {
  if (isIP(host)) return [host];
  const found = await withTimeout(lookup(host, { all: true }), timeoutMs, `resolving ${host}`);
  return found.map((a) => a.address);
}

/** Opens and closes a TCP connection; resolves with the time it took in ms. */
export function tcpConnect(address: ServerAddress, timeoutMs: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: address.host, port: address.port });
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`connecting to ${address.host}:${address.port} timed out after ${timeoutMs} ms`)),
    );
    socket.once("connect", () => {
      socket.destroy();
      resolve(performance.now() - started);
    });
    socket.once("error", (err) => reject(err));
  });
}

export interface TlsOptions {
  caPem?: string;
  insecureSkipTlsVerify?: boolean;
  clientCertPem?: string;
  clientKeyPem?: string;
}

export interface TlsResult {
  subject: string;
  issuer: string;
  validTo: string;
  protocol: string;
}

/** A TLS handshake verified against the kubeconfig's CA (or the system's when it has none). */
export function tlsHandshake(address: ServerAddress, options: TlsOptions, timeoutMs: number): Promise<TlsResult> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: address.host,
      port: address.port,
      servername: isIP(address.host) ? undefined : address.host,
      ca: options.caPem,
      cert: options.clientCertPem,
      key: options.clientKeyPem,
      rejectUnauthorized: !options.insecureSkipTlsVerify,
      ALPNProtocols: ["http/1.1"],
    });
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`TLS handshake with ${address.host}:${address.port} timed out after ${timeoutMs} ms`)),
    );
    socket.once("secureConnect", () => {
      const cert: PeerCertificate = socket.getPeerCertificate();
      const result = {
        subject: [cert.subject?.CN ?? ""].flat().join(","),
        issuer: [cert.issuer?.CN ?? ""].flat().join(","),
        validTo: cert.valid_to ?? "",
        protocol: socket.getProtocol() ?? "",
      };
      socket.destroy();
      resolve(result);
    });
    socket.once("error", (err) => reject(err));
  });
}
