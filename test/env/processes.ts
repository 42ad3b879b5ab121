import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, closeSync } from "node:fs";
import { join } from "node:path";
import { cacheRoot } from "./binaries.ts";

/**
 * Every process the test environment starts is tracked here, so teardown can stop all of them, and a run that was
 * killed outright (no chance to tear down) has its processes reaped by the next run: each run records its PIDs in
 * a file named after the owning process, and a file whose owner is dead is a leftover.
 */
const registryDir = join(cacheRoot(), "run");
const children = new Set<ChildProcess>();
let hooksInstalled = false;

function registryFile(): string {
  return join(registryDir, `${process.pid}.pids`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function writeRegistry(): void {
  mkdirSync(registryDir, { recursive: true });
  const pids = [...children].map((c) => c.pid).filter((p): p is number => typeof p === "number");
  writeFileSync(registryFile(), pids.join("\n"));
}

/** Kills processes left by earlier runs whose owner died without tearing down. */
export function reapLeftovers(): number {
  let reaped = 0;
  let files: string[];
  try {
    files = readdirSync(registryDir);
  } catch {
    return 0;
  }
  for (const file of files) {
    const owner = Number(file.replace(/\.pids$/, ""));
    if (!Number.isInteger(owner) || owner === process.pid || alive(owner)) continue;
    const pids = readFileSync(join(registryDir, file), "utf8").split("\n").map(Number).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(-pid, "SIGKILL");
        reaped++;
      } catch {
        try {
          process.kill(pid, "SIGKILL");
          reaped++;
        } catch {
          // already gone
        }
      }
    }
    rmSync(join(registryDir, file), { force: true });
  }
  return reaped;
}

function killAllSync(): void {
  for (const child of children) {
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }
  }
  rmSync(registryFile(), { force: true });
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killAllSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killAllSync();
      process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
    });
  }
}

export interface ManagedProcess {
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/** Starts a process in its own process group with output appended to `logFile`. */
export function startProcess(
  command: string,
  args: string[],
  options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
): ManagedProcess {
  installHooks();
  const fd = openSync(options.logFile, "a");
  const child = spawn(command, args, {
    stdio: ["ignore", fd, fd],
    env: options.env ?? process.env,
    cwd: options.cwd,
    detached: true,
  });
  closeSync(fd);
  children.add(child);
  writeRegistry();
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      children.delete(child);
      writeRegistry();
      resolve(code);
    });
    child.once("error", () => resolve(null));
  });
  const stop = async (graceMs = 5000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const signal = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        child.kill(sig);
      }
    };
    signal("SIGTERM");
    const timer = setTimeout(() => signal("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { child, stop, exited };
}

export function trackedPids(): number[] {
  return [...children].map((c) => c.pid).filter((p): p is number => typeof p === "number");
}
