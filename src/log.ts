import winston from "winston";

export type LogFormat = "json" | "text";
export type Logger = winston.Logger;

const SECRET_KEYS = /token|password|secret|kubeconfig|client-key|authorization/i;

/** Drops values of secret-looking fields so that no credential ever reaches a log line. */
const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SECRET_KEYS.test(key) && typeof info[key] === "string") info[key] = "[redacted]";
  }
  return info;
});

function defaultFormat(): LogFormat {
  const configured = process.env.ZONESYNC_LOG_FORMAT;
  if (configured === "json" || configured === "text") return configured;
  return process.stderr.isTTY ? "text" : "json";
}

/** JSON in a cluster (or whenever stderr is not a terminal), readable lines in a terminal. Logs go to stderr. */
export function createLogger(options: { level?: string; format?: LogFormat; component?: string } = {}): Logger {
  const format = options.format ?? defaultFormat();
  const rendered =
    format === "json"
      ? winston.format.json()
      : winston.format.printf(({ level, message, timestamp, component, ...rest }) => {
          const fields = Object.entries(rest)
            .filter(([k]) => typeof k === "string")
            .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
            .join(" ");
          const where = component ? ` [${String(component)}]` : "";
          return `${String(timestamp)} ${level}${where} ${String(message)}${fields ? " " + fields : ""}`;
        });
  return winston.createLogger({
    level: options.level ?? process.env.ZONESYNC_LOG_LEVEL ?? "info",
    defaultMeta: options.component ? { component: options.component } : undefined,
    format: winston.format.combine(
      redact(),
      winston.format.timestamp(),
      winston.format.errors({ stack: false }),
      rendered,
    ),
    transports: [
      new winston.transports.Console({ stderrLevels: ["error", "warn", "info", "http", "verbose", "debug", "silly"] }),
    ],
  });
}

/** A logger that writes nothing, for tests and for libraries used without a logger. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
