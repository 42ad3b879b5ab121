/**
 * Feeds every golden zone-sync.conf to a real nginx (`nginx -t`). Open-source nginx, such as Debian's, knows
 * stream, resolver, server, listen and ssl_* but not the NGINX Plus-only zone_sync* directives, so those
 * lines are taken out first (`zone_sync;` becomes `return "";`, because a stream server needs a handler).
 *
 * Two more adjustments, both because `nginx -t` runs outside a cluster:
 * - resolver host names become `localhost` (ports kept): nginx resolves them once at startup, and
 *   kube-dns.kube-system.svc.cluster.local only resolves inside a cluster;
 * - the TLS mount path becomes a temporary folder with a throwaway self-signed certificate (made by openssl).
 *
 * nginx is found at $NGINX_BIN, else on $PATH or in /usr/sbin (Debian: apt-get install nginx-light
 * libnginx-mod-stream, which test/env/provision.sh does). Never skipped: without it, or without its stream module,
 * the tests fail and say what to do.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { locateExecutable } from "../../test/env/executables.ts";
import { TLS_MOUNT_PATH } from "./tls.ts";
import { GOLDEN_CASES } from "./testdata/cases.ts";

interface Nginx {
  bin: string;
  /** `load_module …;` when the stream module is built as a dynamic module, else "". */
  loadStream: string;
}

function findNginx(): Nginx | string {
  const bin = locateExecutable("nginx", process.env["NGINX_BIN"], ["/usr/sbin"]);
  if (bin === undefined) {
    return process.env["NGINX_BIN"]
      ? `NGINX_BIN=${process.env["NGINX_BIN"]} is not an executable file`
      : "nginx is not on $PATH nor in /usr/sbin: run `npm test` (test/env/provision.sh installs Debian's nginx-light)";
  }
  const version = spawnSync(bin, ["-V"], { encoding: "utf8" });
  const build = `${version.stdout}${version.stderr}`;
  if (version.status !== 0) return `${bin} -V failed: ${build.trim()}`;
  if (/--with-stream(\s|$)/.test(build)) return { bin, loadStream: "" };
  if (!build.includes("--with-stream=dynamic")) return `${bin} is built without the stream module`;
  const modules = /--modules-path=(\S+)/.exec(build)?.[1] ?? "/usr/lib/nginx/modules";
  const module = join(modules, "ngx_stream_module.so");
  if (!existsSync(module)) return `${module} is missing (Debian: apt-get install libnginx-mod-stream)`;
  return { bin, loadStream: `load_module ${module};` };
}

function findOpenssl(): string | undefined {
  const result = spawnSync("openssl", ["version"], { encoding: "utf8" });
  return result.status === 0 ? "openssl" : undefined;
}

/** The golden output as open-source nginx can check it (see the top of this file). */
function adaptForOpenSourceNginx(conf: string, tlsDir: string): string {
  return conf
    .split("\n")
    .flatMap((line) => {
      if (/^\s*zone_sync;$/.test(line)) return [line.replace("zone_sync;", 'return "";')];
      if (/^\s*zone_sync_/.test(line)) return [];
      if (/^resolver /.test(line)) return [localResolverLine(line)];
      return [line];
    })
    .join("\n")
    .replaceAll(TLS_MOUNT_PATH, tlsDir);
}

function localResolverLine(line: string): string {
  const tokens = line.replace(/;$/, "").split(" ");
  const adapted = tokens.map((token, i) => {
    if (i === 0 || token.includes("=") || token.startsWith("[")) return token;
    const [host = "", port] = token.split(":");
    if (isIP(host) !== 0) return token;
    return port === undefined ? "localhost" : `localhost:${port}`;
  });
  return `${adapted.join(" ")};`;
}

const nginx = findNginx();
const openssl = findOpenssl();
describe("nginx -t on the golden files", () => {
  let root = "";
  let tlsDir = "";

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "zonesync-nginx-"));
    tlsDir = join(root, "tls");
    mkdirSync(tlsDir);
    if (typeof nginx === "string") throw new Error(nginx);
    if (openssl === undefined) throw new Error("openssl is not on $PATH (test/env/provision.sh installs it)");
    const made = spawnSync(
      openssl,
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(tlsDir, "tls.key"),
        "-out",
        join(tlsDir, "tls.crt"),
        "-days",
        "1",
        "-subj",
        "/CN=nginx-ingress-deployment-hl.nginx-ingress.svc.cluster.local",
      ],
      { encoding: "utf8" },
    );
    if (made.status !== 0) throw new Error(`openssl could not make a test certificate: ${made.stderr}`);
    copyFileSync(join(tlsDir, "tls.crt"), join(tlsDir, "ca.crt"));
  });
  afterAll(() => {
    if (root !== "") rmSync(root, { recursive: true, force: true });
  });

  /** Runs `nginx -t -q` on a stream snippet in its own prefix folder. */
  function check(name: string, snippet: string): { status: number | null; output: string } {
    if (typeof nginx === "string") throw new Error(nginx);
    const dir = join(root, "cases", name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "zone-sync.conf"), snippet);
    const main = [
      nginx.loadStream,
      `pid ${join(dir, "nginx.pid")};`,
      `error_log ${join(dir, "error.log")};`,
      "events {}",
      `stream { include ${join(dir, "zone-sync.conf")}; }`,
      "",
    ].join("\n");
    writeFileSync(join(dir, "nginx.conf"), main);
    const args = ["-t", "-q", "-p", `${dir}/`, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")];
    const result = spawnSync(nginx.bin, args, { encoding: "utf8" });
    return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
  }

  for (const c of GOLDEN_CASES.filter((g) => g.renders !== false)) {
    it(c.name, () => {
      const golden = readFileSync(new URL(`./testdata/${c.name}.conf`, import.meta.url), "utf8");
      const snippet = adaptForOpenSourceNginx(golden, tlsDir);
      expect(snippet).not.toMatch(/zone_sync/);
      const result = check(c.name, snippet);
      expect(result.output).toBe("");
      expect(result.status).toBe(0);
    });
  }

  it("notices a broken snippet (the check is real)", () => {
    const result = check("broken", "server {\n    listen 12345;\n    no_such_directive on;\n}\n");
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/unknown directive "no_such_directive"/);
  });
});
