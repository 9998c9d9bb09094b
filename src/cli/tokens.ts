import { loadConfig } from "../config/index.js";
import { loadOrCreateSecretKey } from "../secret-key.js";
import { deriveKeySealKey } from "../tokens/key-seal.js";
import { listSigningKeys, PUBLISHED_AFTER_RETIREMENT_MS, rotateSigningKey, type SigningKey } from "../tokens/keys.js";
import { openServiceDatabase } from "./database.js";
import { parseOptions } from "./options.js";
import { UsageError } from "./usage.js";

export const TOKENS_HELP = `usage: voice-otp tokens rotate
       voice-otp tokens list

The keys verification tokens are signed with (Ed25519), which GET /.well-known/jwks.json
publishes. rotate makes a new key, which signs from then on (running instances take it
up within a few seconds), and retires the active one: it stays published ${PUBLISHED_AFTER_RETIREMENT_MS / 60_000} minutes
more, until every token it signed has expired. It needs the service's SECRET_KEY (in
development, the one the service keeps in DATA_DIR), which seals the new key. list shows
each key: its kid, whether it signs, and until when it is published. With the embedded
PGlite, stop the service first (one process per DATA_DIR); on PostgreSQL it runs beside
the service.`;

export async function tokensCommand(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  if (command !== "rotate" && command !== "list") throw new UsageError(TOKENS_HELP);
  const { positional } = parseOptions(rest, {}, `tokens ${command}`);
  if (positional.length) throw new UsageError(`tokens ${command} takes no ${positional[0]}`);

  const config = loadConfig(process.env);
  const database = await openServiceDatabase(config, { mustExist: true });
  try {
    const now = new Date();
    if (command === "rotate") {
      const sealKey = deriveKeySealKey(config.secretKey ?? (await loadOrCreateSecretKey(config.dataDir)).key);
      const rotated = await rotateSigningKey(database, sealKey, now);
      console.log(`new signing key ${rotated.kid}: it signs every token from now on`);
      if (rotated.retired) {
        const until = new Date(now.getTime() + PUBLISHED_AFTER_RETIREMENT_MS);
        console.log(`retired ${rotated.retired}: published until ${until.toISOString()}, when the last token it signed has expired`);
      }
    } else {
      const keys = await listSigningKeys(database);
      if (keys.length === 0) console.log("no signing keys yet: the service makes one when it first starts");
      for (const k of keys) console.log([k.kid, state(k, now), `created ${k.createdAt.toISOString()}`].join("\t"));
    }
  } finally {
    await database.close();
  }
}

function state(k: SigningKey, now: Date): string {
  if (!k.retiredAt || !k.publishedUntil) return "active";
  const published = k.publishedUntil > now ? "published until" : "unpublished since";
  return `retired ${k.retiredAt.toISOString()}, ${published} ${k.publishedUntil.toISOString()}`;
}
