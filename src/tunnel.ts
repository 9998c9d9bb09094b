/**
 * An ngrok tunnel for trying the service against a real phone from a laptop: the
 * carrier must reach the webhooks at a public https URL, and the signatures are
 * computed over exactly that URL, so the tunnel's URL becomes PUBLIC_BASE_URL.
 */

export interface Tunnel {
  url: string;
  close(): Promise<void>;
}

export interface TunnelRequest {
  /** Local port the tunnel forwards to. */
  port: number;
  authtoken: string;
  /** A reserved ngrok domain, for a URL that survives restarts. */
  domain?: string;
}

/** The boundary to the tunnel library; tests stand in a local forwarder here. */
export type TunnelOpener = (req: TunnelRequest) => Promise<Tunnel>;

export const openNgrokTunnel: TunnelOpener = async ({ port, authtoken, domain }) => {
  const ngrok = await import("@ngrok/ngrok");
  const listener = await ngrok.forward({ addr: port, authtoken, ...(domain ? { domain } : {}) });
  const url = listener.url();
  if (!url) {
    await listener.close();
    throw new Error("ngrok opened a tunnel without a URL");
  }
  return { url: url.replace(/\/+$/, ""), close: () => listener.close() };
};
