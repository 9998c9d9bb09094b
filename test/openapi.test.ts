import { readFileSync } from "node:fs";
import { CLIENT_TYPES_FILE, clientTypes } from "../scripts/client-types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createApp } from "../src/http/app.js";
import { startTestService, type TestService } from "./helpers/service.js";
import { checkExamples, declaredRoutes, jsonSchemaOf, type Doc, type RouteDef } from "./helpers/openapi.js";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const docPath = (name: string) => name.replace(/:(\w+)/g, "{$1}");

describe("the OpenAPI document and the reference page", () => {
  let t: TestService;
  let doc: Doc;
  let routes: RouteDef[];
  beforeAll(async () => {
    // No cooldown, so each example can be sent both as JSON and as a form; own codes allowed, as one example brings one.
    t = await startTestService({ db: "pglite", carrier: "twilio", env: { RESEND_COOLDOWN_SECONDS: "0", ALLOW_CUSTOM_CODE: "true" } });
    const res = await fetch(`${t.service.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    doc = (await res.json()) as Doc;
    // The zod schemas behind the document: the declarations of an app built like the running one.
    routes = declaredRoutes(createApp(t.service.deps));
  });
  afterAll(() => t?.close());

  /** The zod schema a route declares for a status, and a check that a real answer conforms to it. */
  const conforms = (method: string, path: string, status: number, body: unknown) => {
    const route = routes.find((r) => r.method === method && r.path === path)!;
    const schema = route.responses[status]?.content?.["application/json"]?.schema;
    expect(schema, `${method} ${path} declares ${status}`).toBeDefined();
    const parsed = schema!.safeParse(body);
    expect(parsed.success, `${method} ${path} ${status}: ${JSON.stringify(body)} ${parsed.error?.message}`).toBe(true);
    const viaJsonSchema = jsonSchemaOf(doc, doc.paths[path][method].responses[status].content["application/json"].schema);
    expect(viaJsonSchema.safeParse(body).success).toBe(true);
  };

  it("is generated once and served again with only `servers` filled in per request", async () => {
    const again = (await (await fetch(`${t.service.url}/openapi.json`)).json()) as Doc;
    expect(again).toEqual(doc);
  });

  it("is OpenAPI 3.1 named and versioned from package.json, served for PUBLIC_BASE_URL", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "voice-otp", version: pkg.version });
    expect(doc.servers).toEqual([{ url: t.service.deps.publicBaseUrl() }]);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["adminKey", "apiKey", "metricsToken"]);
  });

  it("declares every route the service answers, and no other", () => {
    const app = createApp(t.service.deps);
    // A declared route's validators are handlers of their own on the same method and path.
    const served = [...new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`))].sort();
    const declared = Object.entries(doc.paths as Record<string, object>)
      .flatMap(([path, item]) => Object.keys(item).filter((k) => METHODS.includes(k)).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(declared).toEqual(served);
  });

  it("gives each route its security: a key for the API, an admin key for /services and /signing-keys, the metrics token for /metrics, none elsewhere", () => {
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { security: unknown }>>)) {
      for (const [method, op] of Object.entries(item)) {
        const expected = ["/request-auth", "/validate-auth", "/challenges", "/challenges/{id}", "/challenges/{id}/cancel", "/stats"].includes(path)
          ? [{ apiKey: [] }]
          : path.startsWith("/services") || path.startsWith("/signing-keys")
            ? [{ adminKey: [] }]
            : path === "/metrics"
              ? [{ metricsToken: [] }, {}]
              : [];
        expect(op.security, `${method} ${path}`).toEqual(expected);
      }
    }
  });

  it("documents JSON and form bodies, responses, and errors in the one error shape", () => {
    for (const path of ["/request-auth", "/validate-auth"]) {
      const op = doc.paths[path].post;
      expect(Object.keys(op.requestBody.content).sort()).toEqual(["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]);
      for (const status of ["400", "401", "413", "415", "429", "503"]) expect(op.responses[status], `${path} ${status}`).toBeDefined();
    }
    expect(doc.paths["/request-auth"].post.parameters.map((p: { name: string }) => p.name)).toContain("Idempotency-Key");
    expect(doc.paths["/request-auth"].post.responses["429"].headers["Retry-After"]).toMatchObject({ required: true });
    for (const [path, method] of [["/call-2fa", "post"], ["/call-status", "post"]] as const) {
      const op = doc.paths[path][method];
      expect(Object.keys(op.requestBody.content)).toEqual(["application/x-www-form-urlencoded", "multipart/form-data"]);
      expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["X-Twilio-Signature", "X-SignalWire-Signature"]));
      expect(op.responses["403"].content["application/json"].examples.invalid_signature).toBeDefined();
    }
    expect(Object.keys(doc.paths["/call-2fa"].post.responses["200"].content)).toEqual(["text/xml"]);
    expect(doc.paths["/call-2fa"].get).toBeUndefined();
    expect(doc.paths["/call-status"].post.responses["204"].content).toBeUndefined();
    // Every error response is the catalogue's shape: { error: { code, message, ... } }.
    for (const route of routes) {
      for (const [status, response] of Object.entries(route.responses)) {
        if (Number(status) < 400 || (route.path === "/validate-auth" && status === "403")) continue;
        const example = doc.paths[route.path][route.method].responses[status].content["application/json"].examples;
        for (const { value } of Object.values(example) as Array<{ value: { error: { code: string } } }>) {
          expect(Object.keys(value)).toEqual(["error"]);
          expect(response.content!["application/json"]!.schema.safeParse(value).success).toBe(true);
        }
      }
    }
  });

  it("has examples that validate against the zod schemas they document, and against the document's own JSON schema", () => {
    const { checked, total, failures } = checkExamples(doc, routes);
    expect(failures).toEqual([]);
    // Every example in the document was found where a zod schema says what it must be.
    expect(checked).toBe(total);
    expect(total).toBeGreaterThan(40);
  });

  it("has request examples the running service accepts, as JSON and as a form", async () => {
    for (const [path, status] of [["/request-auth", 201], ["/validate-auth", 403]] as const) {
      for (const [type, form] of [["application/json", false], ["application/x-www-form-urlencoded", true]] as const) {
        const examples = doc.paths[path].post.requestBody.content[type].examples as Record<string, { value: Record<string, string> }>;
        for (const [name, { value }] of Object.entries(examples)) {
          const res = await t.api("POST", path, value, { form });
          expect(res.status, `${path} ${type} example ${name}: ${res.text}`).toBe(status);
          conforms("post", path, status, res.body);
          if (path === "/request-auth") {
            const challenge = await t.api("GET", `/challenges/${res.body.id}`);
            conforms("get", "/challenges/{id}", 200, challenge.body);
          }
        }
      }
    }
  });

  it("describes the errors the service actually answers", async () => {
    conforms("post", "/request-auth", 401, (await t.api("POST", "/request-auth", { number: "+14155550123" }, { key: null })).body);
    conforms("post", "/request-auth", 400, (await t.api("POST", "/request-auth", {})).body);
    conforms("post", "/request-auth", 400, (await t.api("POST", "/request-auth", { number: "12" })).body);
    conforms("post", "/request-auth", 415, (await t.api("POST", "/request-auth", "x", { headers: { "content-type": "text/plain" } })).body);
    conforms("post", "/validate-auth", 400, (await t.api("POST", "/validate-auth", { number: "+14155550123", auth_code: 123456 })).body);
    conforms("get", "/challenges/{id}", 404, (await t.api("GET", "/challenges/ch_nope")).body);
    conforms("get", "/healthz", 200, (await t.api("GET", "/healthz")).body);
    conforms("get", "/readyz", 200, (await t.api("GET", "/readyz")).body);
    const unsigned = await fetch(`${t.service.url}/call-status?c=ch_x`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "CallSid=CA1&CallStatus=ringing",
    });
    conforms("post", "/call-status", 403, await unsigned.json());
  });

  it("pre-fills no Idempotency-Key on the reference page, where the first Try it out would use it up for every reader", () => {
    const param = doc.paths["/request-auth"].post.parameters.find((p: { name: string }) => p.name === "Idempotency-Key");
    expect(param).toMatchObject({ in: "header", required: false });
    // What Swagger UI fills a parameter's field from: its example(s), or its schema's example(s) or default.
    for (const [where, o] of [["parameter", param], ["schema", param.schema]] as const) {
      for (const key of ["example", "examples", "default"]) expect(o, `${where} ${key}`).not.toHaveProperty(key);
    }
  });

  it("is what the client's types were generated from (npm run client:types): they cannot drift apart", async () => {
    const committed = readFileSync(CLIENT_TYPES_FILE, "utf8");
    expect(await clientTypes(doc), "src/client/openapi.ts differs from the served document: run npm run client:types").toBe(committed);
  });

  it("documents the challenge a denial names, and the service sends it", async () => {
    const denied = doc.components.schemas.CodeDenied;
    expect(denied.properties.challenge_id).toMatchObject({ type: "string" });
    expect(denied.required).not.toContain("challenge_id");
    const created = await t.api("POST", "/request-auth", { number: "+14155550160" });
    const res = await t.api("POST", "/validate-auth", { id: created.body.id, auth_code: "0" });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ reason: "incorrect", challenge_id: created.body.id });
    conforms("post", "/validate-auth", 403, res.body);
  });

  it("has parameter examples that reach their route", async () => {
    const id = doc.paths["/challenges/{id}"].get.parameters.find((p: { in: string }) => p.in === "path").example as string;
    expect((await t.api("GET", `/challenges/${id}`)).status).toBe(404);
    const file = doc.paths["/docs/{file}"].get.parameters[0].example as string;
    expect((await fetch(`${t.service.url}/docs/${file}`)).status).toBe(200);
  });

  describe("the reference page", () => {
    it("is HTML whose scripts, styles and document all come from the service itself, without a key", async () => {
      const page = await fetch(`${t.service.url}/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'; script-src 'self'; style-src 'self'/);
      const html = await page.text();
      expect(html).not.toMatch(/https?:\/\//); // no CDN: works offline
      expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/); // no inline script: works under script-src 'self'
      const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1]!, page.url).href);
      expect(refs.length).toBeGreaterThanOrEqual(4);
      const init = refs.find((r) => r.endsWith("/init.js"))!;
      const initText = await (await fetch(init)).text();
      // The script the page runs points Swagger UI at the document, relative to the page.
      const docUrl = new URL(/url: "([^"]+)"/.exec(initText)![1]!, page.url).href;
      expect(docUrl).toBe(`${t.service.url}/openapi.json`);
      const types: Array<string | null> = [];
      for (const ref of [...refs, docUrl]) {
        expect(ref.startsWith(t.service.url), ref).toBe(true);
        const res = await fetch(ref);
        expect(res.status, ref).toBe(200);
        expect((await res.arrayBuffer()).byteLength, ref).toBeGreaterThan(0);
        types.push(res.headers.get("content-type"));
      }
      expect(types).toEqual(expect.arrayContaining([expect.stringMatching(/^text\/css/), expect.stringMatching(/^text\/javascript/)]));
    });

    it("serves only the viewer's own files under /docs/, and takes only GET", async () => {
      expect((await fetch(`${t.service.url}/docs/package.json`)).status).toBe(404);
      expect((await fetch(`${t.service.url}/docs/..%2Fpackage.json`)).status).toBe(404);
      const post = await fetch(`${t.service.url}/docs`, { method: "POST" });
      expect(post.status).toBe(405);
      expect(post.headers.get("allow")).toBe("GET, HEAD");
    });
  });
});
