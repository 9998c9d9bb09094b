import type { ChallengeView } from "../client/index.js";
import { parseOptions, type OptionSpec } from "./options.js";
import { explain, remoteClient, REMOTE_HELP } from "./remote.js";
import { UsageError } from "./usage.js";

export const CHALLENGES_HELP = `usage: voice-otp challenges list [--number N] [--status S] [--since T] [--until T] [--limit N] [--cursor C] [--json]
       voice-otp challenges cancel ID [--json]
       (each also takes --url URL and --key KEY)

Through a running service's API. list shows the key's service's challenges, newest
first, one a line (id, created, number, status, the call's last status), and the
--cursor that shows the next page. Times are ISO 8601 (2026-11-22 or
2026-11-22T08:00:00Z); statuses: pending, approved, expired, superseded, failed,
too_many_attempts, canceled. cancel ends a pending challenge: its code is wiped and
a call still ringing hears no code. --json prints what the API answered.

${REMOTE_HELP}`;

const REMOTE: OptionSpec = { url: "value", key: "value", json: "flag" };
const SPECS: Record<string, OptionSpec> = {
  list: { ...REMOTE, number: "value", status: "value", since: "value", until: "value", limit: "value", cursor: "value" },
  cancel: REMOTE,
};

const line = (c: ChallengeView) => [c.id, c.createdAt, c.number, c.status, c.call.status ? `call ${c.call.status}` : "no call"].join("  ");

export async function challengesCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  const spec = action === undefined ? undefined : SPECS[action];
  if (!spec) throw new UsageError(`challenges takes list or cancel${action === undefined ? "" : `, not "${action}"`}\n\n${CHALLENGES_HELP}`);
  const { positional, options } = parseOptions(rest, spec, `challenges ${action}`);
  const one = (name: string) => options[name]?.[0];
  const client = remoteClient({ url: one("url"), key: one("key") });
  const json = options.json !== undefined;

  if (action === "cancel") {
    const [id, ...extra] = positional;
    if (!id) throw new UsageError("challenges cancel needs the challenge ID, e.g. voice-otp challenges cancel ch_w_pghrJuwBSBg7x0NbcBpA");
    if (extra.length) throw new UsageError(`unexpected argument: ${extra[0]}`);
    const view = await client.cancelChallenge(id).catch(explain);
    console.log(json ? JSON.stringify(view, null, 2) : `canceled ${view.id} (${view.number}); nothing more can be approved with its code`);
    return 0;
  }

  if (positional.length) throw new UsageError(`unexpected argument: ${positional[0]}`);
  const limit = one("limit");
  if (limit !== undefined && !/^\d+$/.test(limit)) throw new UsageError("--limit takes a number of challenges, 1-100");
  const page = await client
    .listChallenges({
      number: one("number"),
      status: one("status") as ChallengeView["status"] | undefined,
      since: one("since"),
      until: one("until"),
      limit: limit === undefined ? undefined : Number(limit),
      cursor: one("cursor"),
    })
    .catch(explain);
  if (json) {
    console.log(JSON.stringify(page, null, 2));
    return 0;
  }
  if (page.challenges.length === 0) console.log("no challenges");
  for (const c of page.challenges) console.log(line(c));
  if (page.nextCursor) console.log(`more: add --cursor ${page.nextCursor}`);
  return 0;
}
