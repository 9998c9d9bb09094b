import pino, { type Logger } from "pino";

/** JSON lines in production and tests; readable, coloured lines in a developer's terminal. */
export function createLogger(opts: { level: string; pretty: boolean; destination?: pino.DestinationStream }): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level,
    base: undefined,
    // Belt and braces: these fields must never reach a log even if a caller passes them.
    redact: { paths: ["code", "auth_code", "*.code", "*.auth_code", "req.headers.authorization"], censor: "[redacted]" },
    transport: opts.pretty
      ? { target: "pino-pretty", options: { colorize: true, translateTime: "HH:MM:ss", ignore: "pid,hostname" } }
      : undefined,
  };
  if (opts.destination) return pino(options, opts.destination);
  if (opts.pretty) return pino(options);
  // Asynchronous writes: a log line never blocks a request on stdout. Exits flush first (server.ts).
  return pino(options, pino.destination({ dest: 1, sync: false }));
}

export type { Logger };
