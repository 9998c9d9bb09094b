/**
 * voice-otp as Auth0's custom phone provider: Auth0 makes the code, and voice-otp calls the
 * number and reads it. Paste this file into Branding > Phone Provider > Custom (delivery
 * method: Voice), and add two secrets:
 *   VOICE_OTP_URL      where voice-otp answers, e.g. https://otp.example.com
 *   VOICE_OTP_API_KEY  a key of a voice-otp service with allow_custom_code=true
 * No dependencies: the fetch built into the Actions runtime (Node 18 or newer).
 *
 * A refusal (a limit, a number that cannot be called) fails the Action with voice-otp's
 * code and message; a 503, which places no call, asks Auth0 to retry.
 */

const TIMEOUT_MS = 15000;

/**
 * @param {Event} event - event.notification: delivery_method, recipient, code, message_type…
 * @param {CustomPhoneProviderAPI} api - api.notification.drop(reason), api.notification.retry(reason)
 */
exports.onExecuteCustomPhoneProvider = async (event, api) => {
  const { delivery_method: method, recipient, code, message_type: type } = event.notification;
  if (method !== "voice") {
    // voice-otp places calls; a text message is another provider's work.
    api.notification.drop(`voice-otp delivers codes by phone call only: this ${method} notification was not sent (set the phone provider's delivery method to Voice)`);
    return;
  }
  if (!code) {
    api.notification.drop(`voice-otp reads verification codes only: the ${type} notification carries none and was not sent`);
    return;
  }
  const base = String(event.secrets.VOICE_OTP_URL || "").replace(/\/+$/, "");
  const key = event.secrets.VOICE_OTP_API_KEY;
  if (!/^https?:\/\//.test(base) || !key) throw new Error("voice-otp: set the Action's secrets VOICE_OTP_URL (https://…) and VOICE_OTP_API_KEY");

  let res;
  try {
    res = await fetch(`${base}/request-auth`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
      // Without `language` the call speaks the number's country's language, if the service lists it.
      body: JSON.stringify({ number: recipient, code }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    // No answer: the call may have been placed, so it is not retried (a retry could ring twice).
    throw new Error(`voice-otp did not answer at ${base}: ${err && err.message}`);
  }
  if (res.status === 201) return;

  const answer = await res.json().catch(() => ({}));
  const { code: reason = `http_${res.status}`, message = res.statusText } = answer.error || {};
  if (res.status === 503) {
    // Nothing was placed (the database, a draining instance, the carrier's throttle): safe to send again.
    api.notification.retry(`voice-otp is unavailable (${reason}): ${message}`);
    return;
  }
  throw new Error(`voice-otp refused the call (${reason}): ${message}`);
};
