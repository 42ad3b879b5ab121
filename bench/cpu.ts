import { readFileSync } from "node:fs";

/** USER_HZ: the unit of /proc/<pid>/stat's times, 100 on every Linux architecture we run on. */
const TICKS_PER_SECOND = 100;

/** User plus system CPU seconds a process has used so far; 0 once it is gone. */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields from the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds of groups of processes, between now and `stop()`: where a burst's CPU went. */
export function cpuMeter<G extends string>(groups: Record<G, number[]>): { stop(): Record<G, number> } {
  const read = () =>
    Object.fromEntries(
      Object.entries<number[]>(groups).map(([group, pids]) => [
        group,
        pids.reduce((s, p) => s + processCpuSeconds(p), 0),
      ]),
    ) as Record<G, number>;
  const before = read();
  return {
    stop: () => {
      const after = read();
      return Object.fromEntries(Object.keys(groups).map((g) => [g, after[g as G] - before[g as G]])) as Record<
        G,
        number
      >;
    },
  };
}
