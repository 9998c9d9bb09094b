import { loadConfig } from "../config/index.js";
import { DEFAULT_SERVICE_ID } from "../db/schema.js";
import { deleteHook, describeHook, setHookSecrets } from "../hooks/supabase-hook-store.js";
import { HOOK_SECRET_FORMAT, hookSecretKeys } from "../hooks/supabase-secrets.js";
import { deriveCodeKeys } from "../otp/codes.js";
import { loadOrCreateSecretKey } from "../secret-key.js";
import { openServiceDatabase } from "./database.js";
import { serviceOf } from "./keys.js";
import { parseOptions } from "./options.js";
import { UsageError } from "./usage.js";

export const SERVICE_SUPABASE_HOOK_HELP = `usage: voice-otp services supabase-hook ID|NAME --secret SECRET
       voice-otp services supabase-hook ID|NAME --remove
       voice-otp services supabase-hook ID|NAME

A service's Supabase Send SMS hook. --secret stores the secret Supabase shows for the
hook (Authentication > Hooks), ${HOOK_SECRET_FORMAT}, sealed with SECRET_KEY; then
PUBLIC_BASE_URL/hooks/supabase/send-sms/ID places calls for the service. --remove
stops it. Alone, it shows the URL to give Supabase. The default service's secret is
SUPABASE_HOOK_SECRET when that is set.`;

export async function serviceSupabaseHookCommand(args: string[]): Promise<void> {
  const { positional, options } = parseOptions(args, { secret: "value", remove: "flag" }, "services supabase-hook");
  if (positional.length === 0) throw new UsageError(`services supabase-hook needs the ID or NAME of a service\n\n${SERVICE_SUPABASE_HOOK_HELP}`);
  if (positional.length > 1) throw new UsageError(`services supabase-hook takes no ${positional[1]}`);
  if (options.secret && options.remove) throw new UsageError("give one of --secret and --remove, not both");
  const secret = options.secret?.[0]?.split("|").map((s) => s.trim()).join("|");
  if (secret !== undefined) {
    try {
      hookSecretKeys(secret);
    } catch (err) {
      throw new UsageError(`--secret: ${(err as Error).message}`);
    }
  }

  const config = loadConfig(process.env);
  const target = positional[0]!;
  if (target === DEFAULT_SERVICE_ID && config.supabaseHookSecret && (secret !== undefined || options.remove)) {
    throw new Error("the default service's Supabase hook secret is SUPABASE_HOOK_SECRET: change it and restart the service");
  }
  const database = await openServiceDatabase(config, { mustExist: true });
  try {
    const service = await serviceOf(database, target);
    const named = `service "${service.name}"${service.id === service.name ? "" : ` (${service.id})`}`;
    const keys = deriveCodeKeys(config.secretKey ?? (await loadOrCreateSecretKey(config.dataDir)).key);
    const url = `${config.publicBaseUrl ?? `http://localhost:${config.port}`}/hooks/supabase/send-sms${service.id === DEFAULT_SERVICE_ID ? "" : `/${service.id}`}`;
    if (secret !== undefined) {
      const set = await setHookSecrets(database, keys, service.id, secret, new Date());
      console.log(`Supabase hook of ${named}: ${set.secrets} secret(s) set; give Supabase this URL: ${url}`);
    } else if (options.remove) {
      if (!(await deleteHook(database, keys, service.id))) throw new Error(`${named} has no Supabase hook secret`);
      console.log(`removed the Supabase hook secret of ${named}: ${url} now places no call`);
    } else {
      const found = service.id === DEFAULT_SERVICE_ID && config.supabaseHookSecret ? { secrets: hookSecretKeys(config.supabaseHookSecret).length } : await describeHook(database, keys, service.id);
      console.log(found ? `Supabase hook of ${named}: ${url} (${found.secrets} secret(s))` : `${named} has no Supabase hook secret: --secret SECRET sets one`);
    }
  } finally {
    await database.close();
  }
}
