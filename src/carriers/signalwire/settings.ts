/** What the service keeps of the SIGNALWIRE_* variables (index.ts makes it; client.ts uses it). */
export interface SignalWireSettings {
  project: string;
  token: string;
  space: string;
  from: string;
  signingKey: string;
  apiBaseUrl?: string;
}
