import { VoiceOtpClient, VoiceOtpError } from "../client/index.js";

/**
 * What the commands that talk to a running service over HTTP share (call,
 * challenges, stats): where it is and which key to use, like the typed client a
 * backend would use, and errors worded as the service words them.
 */

export const REMOTE_HELP = `URL defaults to $VOICE_OTP_URL or http://localhost:3000; KEY to
$VOICE_OTP_API_KEY or the first of $API_KEYS (none is needed when the service runs
open in development). The key's service is the one whose challenges are shown.`;

export function remoteClient(opts: { url?: string; key?: string }): VoiceOtpClient {
  const url = opts.url ?? process.env.VOICE_OTP_URL ?? "http://localhost:3000";
  const key = opts.key ?? process.env.VOICE_OTP_API_KEY ?? process.env.API_KEYS?.split(",")[0]?.trim() ?? "";
  return new VoiceOtpClient({ baseUrl: url, apiKey: key || undefined });
}

/** The service's own error code and message, which say what to do next. */
export function explain(err: unknown): never {
  if (err instanceof VoiceOtpError) throw new Error(`${err.code}: ${err.message}`);
  throw err;
}
