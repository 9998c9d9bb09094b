import { UsageError } from "./usage.js";

/** How a command takes each option: `--name VALUE` once, as often as wanted, or a bare flag. */
export type OptionSpec = Record<string, "value" | "repeated" | "flag">;

export interface Parsed {
  positional: string[];
  /** Each option's values, in order; a flag given has [""]. */
  options: Record<string, string[]>;
}

/** A command's arguments: its positionals, and the options its spec names (any other is a mistake). */
export function parseOptions(args: string[], spec: OptionSpec, command: string): Parsed {
  const positional: string[] = [];
  const options: Record<string, string[]> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const name = arg.slice(2);
    const kind = spec[name];
    if (!kind) {
      const known = Object.keys(spec).map((o) => `--${o}`);
      throw new UsageError(`${command} takes no ${arg}${known.length ? `; it takes ${known.join(", ")}` : ""}`);
    }
    const seen = (options[name] ??= []);
    if (kind === "flag") {
      seen.push("");
      continue;
    }
    const value = args[++i];
    if (value === undefined || value.startsWith("--")) throw new UsageError(`${arg} needs a value`);
    if (kind === "value" && seen.length > 0) throw new UsageError(`${arg} is given twice`);
    seen.push(value);
  }
  return { positional, options };
}
