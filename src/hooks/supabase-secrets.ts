import type { z } from "zod";

/**
 * The secrets of a Supabase Send SMS hook, as Supabase shows and takes them: `v1,whsec_`
 * and the base64 of the key. Supabase signs each request with every secret it holds, and
 * holds several during a rotation, written one after another with `|` between them
 * (`GOTRUE_HOOK_SEND_SMS_SECRETS`); the same list is accepted here. No message repeats a
 * secret: they end up in start-up errors and logs.
 */

const VERSION = "v1,";
const PREFIX = "whsec_";
// Strict standard base64 with its padding: Node's decoder skips what it does not know, so
// a typo would quietly make another key and every signature would fail without a word why.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// Supabase generates 32 random bytes; a short, hand-written secret could be guessed from one signed request.
const MIN_BYTES = 16;
const MAX_BYTES = 64;
const MAX_SECRETS = 8;

export const HOOK_SECRET_FORMAT = `v1,whsec_ followed by the base64 of ${MIN_BYTES} to ${MAX_BYTES} bytes, as Supabase shows it (Authentication > Hooks); several separated by |`;

/** The key bytes of each secret in the list; throws an Error naming the fault (never the secret). */
export function hookSecretKeys(list: string): Buffer[] {
  const parts = list.split("|").map((s) => s.trim());
  if (parts.length > MAX_SECRETS) throw new Error(`at most ${MAX_SECRETS} secrets, separated by |`);
  return parts.map((part, i) => {
    const which = parts.length > 1 ? `secret ${i + 1}` : "the secret";
    const bare = part.startsWith(VERSION) ? part.slice(VERSION.length) : part;
    if (!bare.startsWith(PREFIX)) throw new Error(`${which} does not start with v1,whsec_: use ${HOOK_SECRET_FORMAT}`);
    const encoded = bare.slice(PREFIX.length);
    if (!BASE64.test(encoded)) throw new Error(`${which} is not valid base64 after whsec_: use ${HOOK_SECRET_FORMAT}`);
    const key = Buffer.from(encoded, "base64");
    if (key.length < MIN_BYTES || key.length > MAX_BYTES) throw new Error(`${which} is ${key.length} bytes long: use ${HOOK_SECRET_FORMAT}`);
    return key;
  });
}

/** For a zod schema (SUPABASE_HOOK_SECRET, the admin API's body): the list's fault as an issue. */
export function checkHookSecrets(value: string, ctx: z.RefinementCtx): void {
  try {
    hookSecretKeys(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
}
