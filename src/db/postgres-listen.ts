import type postgres from "postgres";
import type { HostPools } from "./writable-host.js";

/**
 * LISTEN on a connection of its own to the writable server, kept up through outages and
 * failovers: when it drops, or another server becomes the writable one, it listens
 * again there, trying every second until it can. (postgres.js's own listen() tries once
 * after a drop; if the server is still down then, the listener is gone for good.)
 */

interface Subscriber {
  onNotify(payload: string): void;
  onListen(): void;
  onLost?(): void;
}

const RETRY_MS = 1000;

/**
 * postgres.js hands each notification a connection receives to its `onnotify` option; its
 * own listen() is built on it, and its types leave it out.
 */
const onNotify = (fn: (channel: string, payload: string) => void) => ({ onnotify: fn }) as postgres.Options<{}>;

export function notifications(hosts: HostPools) {
  const channels = new Map<string, Subscriber[]>();
  let current: { sql: postgres.Sql; index: number; channels: Set<string> } | null = null;
  let connecting: Promise<void> | null = null;
  let retry: NodeJS.Timeout | undefined;
  let ended = false;

  // Read through a function: TypeScript would keep a check made before an await.
  const listening = () => current;
  const quote = (channel: string) => `"${channel.replace(/"/g, '""')}"`;

  async function connect(): Promise<void> {
    const { index } = await hosts.writable();
    const sql: postgres.Sql = hosts.connect(index, {
      max: 1,
      idle_timeout: 0,
      max_lifetime: 0,
      fetch_types: false,
      onclose: () => {
        if (current?.sql === sql) lost();
      },
      ...onNotify((channel, payload) => channels.get(channel)?.forEach((s) => s.onNotify(payload))),
    });
    const joined = new Set<string>();
    try {
      for (const channel of [...channels.keys()]) {
        await sql.unsafe(`listen ${quote(channel)}`);
        joined.add(channel);
      }
    } catch (err) {
      // The server the pools took for writable would not take this either: let the next request look again.
      hosts.forget(index);
      void sql.end({ timeout: 0 });
      throw err;
    }
    if (ended) return void sql.end({ timeout: 0 });
    current = { sql, index, channels: joined };
    for (const channel of joined) channels.get(channel)!.forEach((s) => s.onListen());
  }

  function lost() {
    const was = current;
    current = null;
    if (was) {
      // Its server may have gone: an instance with no requests in flight learns of a failover here first.
      hosts.forget(was.index);
      // Not from inside postgres.js's own close handling, which may be what called us.
      setImmediate(() => void was.sql.end({ timeout: 0 }));
      for (const subs of channels.values()) subs.forEach((s) => s.onLost?.());
    }
    schedule(0);
  }

  /** Connects, and on failure tries again after RETRY_MS; one attempt at a time. */
  function attempt(): Promise<void> {
    connecting ??= connect()
      .catch((err: unknown) => {
        schedule(RETRY_MS);
        throw err;
      })
      .finally(() => (connecting = null));
    return connecting;
  }

  function schedule(ms: number) {
    if (ended || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      if (!current) attempt().catch(() => {});
    }, ms);
  }

  // The listener moves with the writable server: a server that was demoted and kept running would never send another notification.
  hosts.onChange((index) => {
    if (current && current.index !== index) lost();
  });

  return {
    async listen(channel: string, subscriber: Subscriber): Promise<void> {
      channels.set(channel, [...(channels.get(channel) ?? []), subscriber]);
      if (!current) {
        // connect() listens on every channel it knows of and tells their subscribers.
        await attempt();
        const on = listening();
        if (!on || on.channels.has(channel)) return;
      }
      const on = listening()!;
      if (on.channels.has(channel)) return subscriber.onListen();
      await on.sql.unsafe(`listen ${quote(channel)}`);
      on.channels.add(channel);
      channels.get(channel)!.forEach((s) => s.onListen());
    },
    async end(): Promise<void> {
      ended = true;
      clearTimeout(retry);
      const was = current;
      current = null;
      await was?.sql.end({ timeout: 1 });
    },
  };
}
