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

type Level = "debug" | "info" | "warn" | "error";

/** What a request logs through: a few levels, and children carrying more fields. */
export type RequestLog = Pick<Logger, Level> & { child(bindings: pino.Bindings): RequestLog };

/**
 * A child of `parent` made only when a line is written at a level that is on. Every
 * request has one (with its id), and request-auth another (with the challenge); at
 * warn most requests write nothing, and making pino children they never used was a
 * twentieth of the memory a call allocated.
 */
export function lazyChild(parent: Logger | (() => Logger), bindings: pino.Bindings, root: Logger = resolve(parent)): RequestLog {
  let child: Logger | undefined;
  const made = () => (child ??= resolve(parent).child(bindings));
  const at =
    (level: Level): pino.LogFn =>
    (...args: Parameters<pino.LogFn>) => {
      if (root.isLevelEnabled(level)) (made()[level] as (...a: unknown[]) => void)(...args);
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: (more) => lazyChild(made, more, root) };
}

const resolve = (logger: Logger | (() => Logger)) => (typeof logger === "function" ? logger() : logger);
