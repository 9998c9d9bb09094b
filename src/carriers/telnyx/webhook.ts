/**
 * Reading TeXML webhooks: form posts with TwiML's field names and words (CallSid,
 * CallStatus, AnsweredBy, Digits), per Telnyx's TeXML calls API description, so
 * Twilio's reader serves. Its status words map to ours as Twilio's do (`dtmf`, a key
 * pressed mid-call, is no progress); its AnsweredBy words are Twilio's, plus a plain
 * `machine` from the synchronous-mode guide, which Twilio's reader counts as a machine.
 */
export { answeringVerdict, callStatusOf, parseTwimlWebhook as parseTexmlWebhook } from "../twilio/webhook.js";
