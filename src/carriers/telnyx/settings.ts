/** What the service keeps of the TELNYX_* variables (index.ts makes it; client.ts uses it). */
export interface TelnyxSettings {
  apiKey: string;
  /** The account's Ed25519 public key, base64 of its 32 bytes. */
  publicKey: string;
  /** The TeXML application the calls are placed on (its connection id). */
  applicationId: string;
  from: string;
  /** The API root the SDK calls, https://api.telnyx.com/v2 unless overridden. */
  apiBaseUrl?: string;
}
