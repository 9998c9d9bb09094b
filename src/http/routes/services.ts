import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { DEFAULT_SERVICE_ID } from "../../db/schema.js";
import { describeSettings, serviceSettings, SettingError, type ServiceSettings } from "../../services/settings.js";
import {
  createService,
  deleteService,
  findService,
  ID_PREFIX,
  listServices,
  NameTakenError,
  updateService,
  type StoredService,
} from "../../services/store.js";
import type { AppDeps, AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import {
  createServiceRoute,
  defaultReadOnly,
  deleteServiceRoute,
  getServiceRoute,
  listServicesRoute,
  NOT_FOUND,
  updateServiceRoute,
  type ServiceBody,
} from "./services.openapi.js";

/**
 * The admin API: services and their settings, with an admin key (app.ts guards the
 * paths). It changes the database through services/store.ts, as the CLI does; the
 * store notifies every instance, and this one forgets its cached entry at once.
 */

/** A setting's path in the body: the field a client shows the message next to. */
const fieldOf = (err: SettingError) => (err.field === "name" ? "name" : `settings.${err.field}`);

/** The store's refusals in the error catalogue. */
function refused(err: unknown): never {
  if (err instanceof SettingError) {
    const field = fieldOf(err);
    throw new AppError("invalid_request", `${field}${err.message.slice(err.field.length)}`, { field });
  }
  if (err instanceof NameTakenError) throw new AppError("name_taken", err.message);
  throw err;
}

/**
 * The admin API takes JSON only. zod-openapi checks an optional body only when its
 * Content-Type says JSON (and answers 415 for another type): a request that names no
 * type would reach the handler as an empty body, unchecked.
 */
export function requireJson(c: Context): void {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (!/^application\/([\w.-]+\+)?json$/.test(type)) throw new AppError("unsupported_media_type", "send the body as application/json");
}

export function serviceRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  const base = deps.services.default;
  const carrier = deps.config.carrier.name;
  /** Refuses settings that do not hold together (a voice that does not speak the language). */
  const check = (s: StoredService) => void serviceSettings(base, s, carrier);

  function effective(s: StoredService): ServiceSettings {
    try {
      return serviceSettings(base, s, carrier);
    } catch (err) {
      // Saved valid, refused since (the environment changed): its calls use the default's, as the directory does.
      if (err instanceof SettingError) return { ...base, id: s.id, name: s.name };
      throw err;
    }
  }

  const view = (s: StoredService): ServiceBody => ({
    id: s.id,
    name: s.name,
    settings: describeSettings(effective(s)),
    own_settings: s.settings,
    editable: true,
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
  });
  const defaultView = (): ServiceBody => ({
    id: DEFAULT_SERVICE_ID,
    name: DEFAULT_SERVICE_ID,
    settings: describeSettings(base),
    own_settings: {},
    editable: false,
    created_at: null,
    updated_at: null,
  });

  /** The id of a stored service, or a 404: ids only, never names (names cannot look like ids, see store.ts). */
  function storedId(id: string, verb: "changed" | "deleted"): string {
    if (id === DEFAULT_SERVICE_ID) throw new AppError("invalid_request", defaultReadOnly(verb));
    if (!id.startsWith(ID_PREFIX) || !/^[\w-]{1,64}$/.test(id)) throw new AppError("not_found", NOT_FOUND);
    return id;
  }

  function changed(s: StoredService | undefined): StoredService {
    if (!s) throw new AppError("not_found", NOT_FOUND);
    deps.services.forget(s.id);
    return s;
  }

  app.openapi(listServicesRoute, async (c) => {
    const stored = await listServices(deps.database);
    return c.json({ services: [defaultView(), ...stored.map(view)] }, 200);
  });

  app.openapi(createServiceRoute, async (c) => {
    requireJson(c);
    const body = c.req.valid("json");
    const created = await createService(deps.database, { name: body.name, settings: body.settings ?? {} }, deps.clock.now(), check).catch(refused);
    c.get("log").info({ service: created.id }, "service created");
    return c.json(view(changed(created)), 201);
  });

  app.openapi(getServiceRoute, async (c) => {
    const { id } = c.req.valid("param");
    if (id === DEFAULT_SERVICE_ID) return c.json(defaultView(), 200);
    const found = id.startsWith(ID_PREFIX) ? await findService(deps.database, id) : undefined;
    if (!found || found.id !== id) throw new AppError("not_found", NOT_FOUND);
    return c.json(view(found), 200);
  });

  app.openapi(updateServiceRoute, async (c) => {
    const id = storedId(c.req.valid("param").id, "changed");
    requireJson(c);
    const body = c.req.valid("json");
    const updated = await updateService(deps.database, id, body, deps.clock.now(), check).catch(refused);
    c.get("log").info({ service: id }, "service changed");
    return c.json(view(changed(updated)), 200);
  });

  app.openapi(deleteServiceRoute, async (c) => {
    const id = storedId(c.req.valid("param").id, "deleted");
    const deleted = changed(await deleteService(deps.database, id, deps.clock.now()));
    c.get("log").info({ service: id }, "service deleted and its keys revoked");
    return c.json(view(deleted), 200);
  });

  return app;
}
