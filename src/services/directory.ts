import type { CarrierName } from "../config/index.js";
import type { Database } from "../db/open.js";
import { DEFAULT_SERVICE_ID } from "../db/schema.js";
import type { Logger } from "../logger.js";
import { serviceSettings, SettingError, type ServiceSettings } from "./settings.js";
import { loadService, SERVICES_CHANGED } from "./store.js";

/**
 * Each service's settings as this instance uses them, read from the database once and
 * kept until a change is notified (store.ts notifies in the transaction that makes it).
 * While the notifications are not flowing (before LISTEN is up, or after it dropped),
 * an entry is trusted for a second only, so a change takes effect everywhere within
 * about a second either way.
 */
export interface ServiceDirectory {
  readonly default: ServiceSettings;
  /** A service's settings, deleted or not; undefined for an id no service ever had. */
  find(id: string): Promise<(ServiceSettings & { deleted: boolean }) | undefined>;
  /**
   * Drops a service's entry after this instance changed it. The notification would drop it
   * too, but it comes over another connection and may arrive after this instance's next
   * request: the admin API's own change holds for the very next one.
   */
  forget(id: string): void;
}

const UNHEARD_TTL_MS = 1000;
/** Even while listening: a bound on how long a lost notification could leave an entry stale. */
const HEARD_TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

export async function openServiceDirectory(opts: {
  database: Database;
  defaults: ServiceSettings;
  carrier: CarrierName | "simulator";
  logger: Logger;
}): Promise<ServiceDirectory> {
  const { database, defaults, carrier, logger } = opts;
  const cache = new Map<string, { at: number; settings: Promise<(ServiceSettings & { deleted: boolean }) | undefined> }>();
  let listening = false;
  await database
    .listen(
      SERVICES_CHANGED,
      (id) => cache.delete(id),
      () => {
        cache.clear();
        listening = true;
      },
      // Back to the short age until listening again: a change made meanwhile is not heard.
      () => (listening = false),
    )
    .catch((err: unknown) => logger.warn({ err }, "cannot LISTEN for service changes: settings are re-read every second"));

  async function load(id: string) {
    const stored = await loadService(database, id);
    if (!stored) return undefined;
    const deleted = stored.deletedAt !== null;
    try {
      return { ...serviceSettings(defaults, stored, carrier), deleted };
    } catch (err) {
      // Saved valid, now refused: the environment changed under it (another carrier, say).
      if (!(err instanceof SettingError)) throw err;
      logger.error({ service: id, err: err.message }, "a service's settings no longer hold; it uses the default service's until they are fixed");
      return { ...defaults, id, name: stored.name, deleted };
    }
  }

  const defaultEntry = { ...defaults, deleted: false };
  return {
    default: defaults,
    async find(id) {
      if (id === DEFAULT_SERVICE_ID) return defaultEntry;
      const now = performance.now();
      const hit = cache.get(id);
      if (hit && now - hit.at < (listening ? HEARD_TTL_MS : UNHEARD_TTL_MS)) return hit.settings;
      if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
      const settings = load(id);
      cache.set(id, { at: now, settings });
      settings.catch(() => cache.delete(id));
      return settings;
    },
    forget: (id) => void cache.delete(id),
  };
}
