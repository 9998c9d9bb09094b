import type { Stats, StatsCounts } from "../client/index.js";
import { parseOptions } from "./options.js";
import { explain, remoteClient, REMOTE_HELP } from "./remote.js";
import { UsageError } from "./usage.js";

export const STATS_HELP = `usage: voice-otp stats [--since T] [--until T] [--group-by day|country] [--json] [--url URL] [--key KEY]

The key's service's statistics through a running service's API, by UTC day (the
default) or by country, then the range's totals: requests (challenges created),
calls placed, answered, approved, conversion, the median seconds to approval, and
the requests each limit refused. Default range: the last 7 UTC days, today included;
at most 366 days. Times are ISO 8601 (2026-11-22 or 2026-11-22T08:00:00Z).
--json prints what the API answered.

${REMOTE_HELP}`;

const COLUMNS = ["requests", "placed", "answered", "approved", "conversion", "median s"] as const;

function row(label: string, c: StatsCounts, width: number): string {
  const cells = [c.requests, c.callsPlaced, c.answered, c.approved, `${(c.conversionRate * 100).toFixed(1)}%`, c.medianSecondsToApproval?.toFixed(1) ?? "-"];
  const refusals = Object.entries(c.refusals).map(([limit, n]) => `${limit}=${n}`).join(" ");
  return [label.padEnd(width), ...cells.map((v, i) => String(v).padStart(COLUMNS[i]!.length)), refusals || "-"].join("  ");
}

export function formatStats(stats: Stats): string {
  const labels = stats.groups.map((g) => g.key || "(unknown)");
  const width = Math.max(10, ...labels.map((l) => l.length));
  return [
    `${stats.since} to ${stats.until}, by ${stats.groupBy}`,
    [stats.groupBy.padEnd(width), ...COLUMNS, "refused"].join("  "),
    ...stats.groups.map((g, i) => row(labels[i]!, g, width)),
    row("total", stats.totals, width),
  ].join("\n");
}

export async function statsCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseOptions(
    argv,
    { url: "value", key: "value", json: "flag", since: "value", until: "value", "group-by": "value" },
    "stats",
  );
  if (positional.length) throw new UsageError(`unexpected argument: ${positional[0]}`);
  const one = (name: string) => options[name]?.[0];
  const groupBy = one("group-by");
  if (groupBy !== undefined && groupBy !== "day" && groupBy !== "country") throw new UsageError("--group-by takes day or country");
  const stats = await remoteClient({ url: one("url"), key: one("key") })
    .getStats({ since: one("since"), until: one("until"), groupBy })
    .catch(explain);
  console.log(options.json !== undefined ? JSON.stringify(stats, null, 2) : formatStats(stats));
  return 0;
}
