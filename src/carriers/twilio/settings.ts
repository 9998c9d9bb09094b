/** What the service keeps of the TWILIO_* variables (index.ts makes it; client.ts uses it). */
export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  from: string;
  apiBaseUrl?: string;
  /** HTTP_PROXY or TWILIO_CA_BUNDLE is set: requests go through the SDK's own HTTP client, which applies them. */
  sdkHttpClient?: boolean;
}
