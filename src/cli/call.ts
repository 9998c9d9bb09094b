import { createInterface } from "node:readline/promises";
import { explain, remoteClient } from "./remote.js";
import { UsageError } from "./usage.js";

export const CALL_HELP = `usage: voice-otp call NUMBER [--url URL] [--key KEY] [--language LANG]

A smoke test against a running service: requests a call to NUMBER, asks for the
code you heard, and checks it. URL defaults to $VOICE_OTP_URL or
http://localhost:3000; KEY to $VOICE_OTP_API_KEY or the first of $API_KEYS (none
is needed when the service runs open in development).`;

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (!value || value.startsWith("--")) throw new UsageError(`${name} needs a value`);
  args.splice(at, 2);
  return value;
}

export async function callCommand(argv: string[]): Promise<number> {
  const args = [...argv];
  const url = option(args, "--url");
  const key = option(args, "--key");
  const language = option(args, "--language");
  const number = args.shift();
  if (!number) throw new UsageError("call needs the NUMBER to call, e.g. voice-otp call +14155550123");
  if (args.length) throw new UsageError(`unexpected argument: ${args[0]}`);

  const client = remoteClient({ url, key });
  const challenge = await client.requestAuth(number, { language }).catch(explain);
  console.log(`calling ${challenge.number} (challenge ${challenge.id}); the code expires at ${challenge.expiresAt}`);

  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  try {
    for (;;) {
      const code = (await rl.question("code heard: ").catch(() => "")).trim();
      if (!code) {
        console.log("no code entered; giving up");
        return 1;
      }
      const result = await client.validateAuth({ id: challenge.id, code }).catch(explain);
      if (result.approved) {
        console.log("approved: the number is verified");
        return 0;
      }
      console.log(`denied: ${result.reason}${result.attemptsRemaining ? ` (${result.attemptsRemaining} attempts left)` : ""}`);
      if (result.reason !== "incorrect" || !result.attemptsRemaining) return 1;
    }
  } finally {
    rl.close();
  }
}
