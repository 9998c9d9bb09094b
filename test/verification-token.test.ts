import { createPrivateKey, randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { sql } from "drizzle-orm";
import { calculateJwkThumbprint, createRemoteJWKSet, decodeProtectedHeader, importJWK, jwtVerify, SignJWT, type JWTVerifyOptions } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweep } from "../src/housekeeping.js";
import { createKey } from "../src/keys/api-keys.js";
import { deriveKeySealKey, sealPrivateKey, unsealPrivateKey } from "../src/tokens/key-seal.js";
import { thumbprint } from "../src/tokens/keys.js";
import { signJwt } from "../src/tokens/sign.js";
import { manualClock } from "./helpers/clock.js";
import { createPostgresDatabase, postgresAvailable } from "./helpers/databases.js";
import { runScript } from "./helpers/process.js";
import { codeHeard, SECRET_KEY, startCarrier, startTestService, type ApiResponse, type TestService } from "./helpers/service.js";

/**
 * Issue 22, point 5: an approved code comes with a verification token, a JWT another
 * service trusts without calling back. jose, which shares no code with the signer, is the
 * judge: it fetches the served JWKS and checks the signature, issuer, audience and expiry.
 */

const ADMIN_KEY = "admin-key-0123456789abcdef";
const FIVE_MINUTES = 300;

/** RFC 8037 appendix A.1's Ed25519 key, whose thumbprint A.3 gives. */
const RFC8037 = { kty: "OKP", crv: "Ed25519", d: "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" } as const;
const RFC8037_KID = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
const CLAIMS = { iss: "https://otp.example.com", sub: "+14155550123", aud: "default", iat: 1795339800, exp: 1795340100, jti: "ch_w_pghrJuwBSBg7x0NbcBpA", amr: ["phone-call"] };
/** What jose's SignJWT makes of CLAIMS with that key and the header {alg: EdDSA, typ: JWT, kid}: Ed25519 is deterministic. */
const KNOWN_TOKEN =
  "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6ImtQcktfcW14VldhWVZBOXd3QkY2SXVvM3ZWeno3VHhIQ1R3WEJ5Z3JTNGsifQ.eyJpc3MiOiJodHRwczovL290cC5leGFtcGxlLmNvbSIsInN1YiI6IisxNDE1NTU1MDEyMyIsImF1ZCI6ImRlZmF1bHQiLCJpYXQiOjE3OTUzMzk4MDAsImV4cCI6MTc5NTM0MDEwMCwianRpIjoiY2hfd19wZ2hySnV3QlNCZzd4ME5iY0JwQSIsImFtciI6WyJwaG9uZS1jYWxsIl19.Ndl5a3z6orVLjjcf3qmdPfzmQzx8YZkQgajAHiCL-rdtpMjr5Wy7Y3YGgy-PDXGXUUtFc3561XnbIQ_kZ-2iAw";

describe("signing (src/tokens)", () => {
  it("signs exactly what jose signs with RFC 8037's key (a known answer), and jose verifies it", async () => {
    const privateKey = createPrivateKey({ key: { ...RFC8037 }, format: "jwk" });
    const token = signJwt(CLAIMS, { kid: RFC8037_KID, privateKey });
    expect(token).toBe(KNOWN_TOKEN);
    const joseKey = await importJWK({ ...RFC8037 }, "EdDSA");
    expect(await new SignJWT(CLAIMS).setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: RFC8037_KID }).sign(joseKey)).toBe(KNOWN_TOKEN);

    const publicKey = await importJWK({ kty: "OKP", crv: "Ed25519", x: RFC8037.x }, "EdDSA");
    const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
      issuer: CLAIMS.iss,
      audience: "default",
      currentDate: new Date((CLAIMS.iat + 10) * 1000),
    });
    expect(protectedHeader).toEqual({ alg: "EdDSA", typ: "JWT", kid: RFC8037_KID });
    expect(payload).toEqual(CLAIMS);
  });

  it("names a key by its JWK thumbprint, as RFC 8037 and jose compute it", async () => {
    const jwk = { kty: "OKP", crv: "Ed25519", x: RFC8037.x } as const;
    expect(thumbprint(jwk)).toBe(RFC8037_KID);
    expect(thumbprint(jwk)).toBe(await calculateJwkThumbprint(jwk));
  });

  it("opens a sealed private key only for its own kid and under its own SECRET_KEY", () => {
    const privateKey = createPrivateKey({ key: { ...RFC8037 }, format: "jwk" });
    const sealKey = deriveKeySealKey(SECRET_KEY);
    const sealed = sealPrivateKey(sealKey, RFC8037_KID, privateKey);
    expect(sealed).not.toContain(RFC8037.d);
    const opened = unsealPrivateKey(sealKey, RFC8037_KID, sealed);
    expect(signJwt(CLAIMS, { kid: RFC8037_KID, privateKey: opened! })).toBe(KNOWN_TOKEN);
    expect(unsealPrivateKey(sealKey, "another-kid", sealed)).toBeNull();
    expect(unsealPrivateKey(deriveKeySealKey(randomBytes(32).toString("hex")), RFC8037_KID, sealed)).toBeNull();
  });
});

/** A port free now, so that PUBLIC_BASE_URL can name it before the service listens. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The parts of a token, each decoded, and a way to put them back together. */
function parts(token: string) {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  return { header, payload: JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>, signature };
}
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A verifier of our own, as another service would set one up: a fresh JWKS fetch, the issuer and its audience. */
function verify(t: TestService, token: string, options: JWTVerifyOptions & { issuer: string }) {
  return jwtVerify(token, createRemoteJWKSet(new URL(`${t.service.url}/.well-known/jwks.json`)), { currentDate: t.clock.now(), ...options });
}

async function kidsPublished(t: TestService): Promise<string[]> {
  const res = await fetch(`${t.service.url}/.well-known/jwks.json`);
  return ((await res.json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
}

/** Asks for a call, hears its code, and validates it: the approved (or refused) answer. */
async function approve(t: TestService, number: string, opts: { key?: string; via?: TestService; wrong?: boolean } = {}): Promise<ApiResponse> {
  const asked = await t.api("POST", "/request-auth", { number }, { key: opts.key });
  expect(asked.status, asked.text).toBe(201);
  const code = codeHeard((await t.simulator.waitForCall((c) => c.url.includes(asked.body.id))).heard);
  const guess = opts.wrong ? String((Number(code[0]) + 1) % 10) + code.slice(1) : code;
  return (opts.via ?? t).api("POST", "/validate-auth", { id: asked.body.id, auth_code: guess }, { key: opts.key });
}

describe("verification tokens, through the service on PGlite", () => {
  let t: TestService;
  let issuer: string;
  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    t = await startTestService({
      db: "pglite",
      carrier: "twilio",
      env: { PORT: String(port), PUBLIC_BASE_URL: issuer, ADMIN_API_KEYS: ADMIN_KEY, RESEND_COOLDOWN_SECONDS: "0" },
    });
  });
  afterAll(() => t?.close());

  it("approves a code with a token jose verifies against the served JWKS: the issuer, the number, the service, the challenge, a phone call, five minutes", async () => {
    const number = "+14155550131";
    const ok = await approve(t, number);
    expect(ok.status, ok.text).toBe(200);
    const token = ok.body.verification_token as string;
    const { payload, protectedHeader } = await verify(t, token, { issuer, audience: "default" });
    expect(protectedHeader).toEqual({ alg: "EdDSA", typ: "JWT", kid: expect.any(String) });
    expect(payload).toEqual({ iss: issuer, sub: number, aud: "default", iat: expect.any(Number), exp: expect.any(Number), jti: ok.body.id, amr: ["phone-call"] });
    expect(payload.iat).toBe(Math.floor(t.clock.now().getTime() / 1000));
    expect(payload.exp! - payload.iat!).toBe(FIVE_MINUTES);
    expect(ok.body.verification_token_expires_at).toBe(new Date(payload.exp! * 1000).toISOString());

    // The JWKS is public, cacheable for a minute, and holds the public key alone.
    const jwks = await fetch(`${t.service.url}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get("cache-control")).toBe("public, max-age=60");
    expect(jwks.headers.get("content-type")).toMatch(/^application\/json/);
    const { keys } = (await jwks.json()) as { keys: Array<Record<string, string>> };
    expect(keys).toEqual([{ kty: "OKP", crv: "Ed25519", x: expect.any(String), kid: protectedHeader.kid, alg: "EdDSA", use: "sig" }]);
    // A bearer credential: the log never holds it.
    expect(t.logLines.join("")).not.toContain(parts(token).signature);
  });

  it("gives a token for the key's own service only: another service's audience refuses it", async () => {
    const created = await t.api("POST", "/services", { name: "shop" }, { key: ADMIN_KEY });
    expect(created.status, created.text).toBe(201);
    const shop = created.body.id as string;
    const { key } = await createKey(t.service.deps.database, "shop-key", { serviceId: shop, now: t.clock.now() });
    const ok = await approve(t, "+14155550132", { key });
    expect(ok.status, ok.text).toBe(200);
    const token = ok.body.verification_token as string;
    expect((await verify(t, token, { issuer, audience: shop })).payload.aud).toBe(shop);
    await expect(verify(t, token, { issuer, audience: "default" })).rejects.toMatchObject({ code: "ERR_JWT_CLAIM_VALIDATION_FAILED", claim: "aud" });
    await expect(verify(t, token, { issuer: "https://elsewhere.example.com", audience: shop })).rejects.toMatchObject({ claim: "iss" });
  });

  it("refuses a token whose claims or signature were changed", async () => {
    const ok = await approve(t, "+14155550133");
    const token = ok.body.verification_token as string;
    const { header, payload, signature } = parts(token);
    const otherNumber = `${header}.${encode({ ...payload, sub: "+14155550199" })}.${signature}`;
    const longer = `${header}.${encode({ ...payload, exp: (payload.exp as number) + 3600 })}.${signature}`;
    const flipped = `${header}.${token.split(".")[1]}.${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`;
    for (const forged of [otherNumber, longer, flipped]) {
      await expect(verify(t, forged, { issuer, audience: "default" })).rejects.toMatchObject({ code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" });
    }
    // The genuine one still passes, and an expired one does not.
    await verify(t, token, { issuer, audience: "default" });
    await expect(verify(t, token, { issuer, audience: "default", currentDate: new Date(t.clock.now().getTime() + (FIVE_MINUTES + 1) * 1000) })).rejects.toMatchObject({
      code: "ERR_JWT_EXPIRED",
    });
  });

  it("gives no token for a wrong code", async () => {
    const denied = await approve(t, "+14155550134", { wrong: true });
    expect(denied.status).toBe(403);
    expect(denied.body.reason).toBe("incorrect");
    expect(JSON.stringify(denied.body)).not.toContain("verification_token");
    expect(denied.text).not.toMatch(/eyJ/);
  });

  it("keeps a key rotated out published until its tokens have expired, then drops it; the sweep deletes it a day later", async () => {
    const before = await approve(t, "+14155550135");
    const oldKid = decodeProtectedHeader(before.body.verification_token).kid!;

    // The admin API only.
    expect((await t.api("POST", "/signing-keys/rotate", undefined, { key: null })).status).toBe(401);
    expect((await t.api("POST", "/signing-keys/rotate")).body.error.code).toBe("forbidden");
    expect((await t.api("GET", "/signing-keys")).status).toBe(403);

    const rotated = await t.api("POST", "/signing-keys/rotate", undefined, { key: ADMIN_KEY });
    expect(rotated.status, rotated.text).toBe(200);
    const now = t.clock.now();
    const [fresh, old] = rotated.body.keys as Array<Record<string, unknown>>;
    expect(fresh).toEqual({ kid: expect.any(String), active: true, published: true, created_at: now.toISOString(), retired_at: null, published_until: null });
    expect(old).toEqual({
      kid: oldKid,
      active: false,
      published: true,
      created_at: expect.any(String),
      retired_at: now.toISOString(),
      published_until: new Date(now.getTime() + 360_000).toISOString(),
    });
    expect((await t.api("GET", "/signing-keys", undefined, { key: ADMIN_KEY })).body).toEqual(rotated.body);
    const newKid = fresh!.kid as string;
    expect(newKid).not.toBe(oldKid);

    // The token signed before still verifies; the new key signs from the next approval on.
    expect(await kidsPublished(t)).toEqual([newKid, oldKid]);
    await verify(t, before.body.verification_token, { issuer, audience: "default" });
    const after = await approve(t, "+14155550136");
    expect(decodeProtectedHeader(after.body.verification_token).kid).toBe(newKid);
    await verify(t, after.body.verification_token, { issuer, audience: "default" });

    // Past the old key's last token's five minutes, a minute's leeway for slow clocks; then it is gone.
    t.clock.advance((FIVE_MINUTES + 30) * 1000);
    expect(await kidsPublished(t)).toEqual([newKid, oldKid]);
    t.clock.advance(31_000);
    expect(await kidsPublished(t)).toEqual([newKid]);
    await expect(verify(t, before.body.verification_token, { issuer, audience: "default", currentDate: now })).rejects.toMatchObject({
      code: "ERR_JWKS_NO_MATCHING_KEY",
    });
    const listed = (await t.api("GET", "/signing-keys", undefined, { key: ADMIN_KEY })).body.keys;
    expect(listed.map((k: { kid: string; published: boolean }) => [k.kid, k.published])).toEqual([[newKid, true], [oldKid, false]]);

    await sweep(t.service.deps.database, new Date(t.clock.now().getTime() + 24 * 3600_000), 24);
    const kept = (await t.api("GET", "/signing-keys", undefined, { key: ADMIN_KEY })).body.keys;
    expect(kept.map((k: { kid: string }) => k.kid)).toEqual([newKid]);
  });
});

describe.skipIf(!(await postgresAvailable()))("verification tokens, across instances on PostgreSQL", () => {
  const env = { ADMIN_API_KEYS: ADMIN_KEY, RESEND_COOLDOWN_SECONDS: "0" };
  let instances: TestService[] = [];
  let base: TestService;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    // Two instances started at once on a database no instance has used: shareWith, for
    // both, an empty database and a simulator made here.
    const { simulator, carrierEnv } = await startCarrier("twilio");
    const created = await createPostgresDatabase();
    drop = created.drop;
    base = { simulator, carrierEnv, databaseUrl: created.url, clock: manualClock() } as unknown as TestService;
    instances = await Promise.all([0, 1].map(() => startTestService({ db: "postgres", carrier: "twilio", env, shareWith: base })));
  });
  afterAll(async () => {
    for (const i of instances) await i.close();
    await base?.simulator.close();
    await drop?.();
  });

  it("makes one key when two instances start at once, and a rotation on one signs on the other within seconds", async () => {
    const [a, b] = instances as [TestService, TestService];
    const rows = await a.service.deps.database.rows<{ kid: string }>(sql`select kid from signing_keys`);
    expect(rows).toHaveLength(1);
    const first = rows[0]!.kid;
    expect(await kidsPublished(a)).toEqual([first]);
    expect(await kidsPublished(b)).toEqual([first]);

    // Without PUBLIC_BASE_URL, the issuer is the URL the service gives carriers.
    const issuer = b.service.deps.publicBaseUrl();
    expect(issuer).toBe(`http://localhost:${b.service.port}`);
    const fromB = await approve(a, "+14155550141", { via: b });
    expect(fromB.status, fromB.text).toBe(200);
    expect((await verify(a, fromB.body.verification_token, { issuer, audience: "default" })).protectedHeader.kid).toBe(first);

    const rotated = await a.api("POST", "/signing-keys/rotate", undefined, { key: ADMIN_KEY });
    const second = rotated.body.keys[0].kid as string;
    const started = performance.now();
    while (!(await kidsPublished(b)).includes(second)) {
      expect(performance.now() - started, "b has not taken up a's rotation").toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 100));
    }
    const afterRotation = await approve(a, "+14155550142", { via: b });
    expect(decodeProtectedHeader(afterRotation.body.verification_token).kid).toBe(second);
    await verify(b, afterRotation.body.verification_token, { issuer, audience: "default" });
    // The token b signed before the rotation still verifies against either instance's JWKS.
    for (const t of [a, b]) await verify(t, fromB.body.verification_token, { issuer, audience: "default" });
    expect(await kidsPublished(a)).toEqual([second, first]);

    // The command line rotates beside the running instances, as the admin API does.
    const cli = runScript("src/cli/main.ts", { DATABASE_URL: base.databaseUrl!, SECRET_KEY }, ["tokens", "rotate"]);
    const third = /^new signing key (\S+): it signs/.exec(await cli.waitFor(/^new signing key /))![1]!;
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toContain(`retired ${second}: published until `);
    const rotatedByCli = performance.now();
    while (!(await kidsPublished(a)).includes(third)) {
      expect(performance.now() - rotatedByCli, "a has not taken up the command line's rotation").toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 100));
    }
    const afterCli = await approve(a, "+14155550143");
    expect(decodeProtectedHeader(afterCli.body.verification_token).kid).toBe(third);
    await verify(a, afterCli.body.verification_token, { issuer: a.service.deps.publicBaseUrl(), audience: "default" });
    expect(await a.service.deps.database.rows(sql`select kid from signing_keys where retired_at is null`)).toEqual([{ kid: third }]);
  });

  it("refuses to start an instance whose SECRET_KEY cannot open the active key", async () => {
    const other = startTestService({ db: "postgres", carrier: "twilio", env: { ...env, SECRET_KEY: randomBytes(32).toString("hex") }, shareWith: base });
    await expect(other).rejects.toThrow(/sealed with another SECRET_KEY: give every instance the same SECRET_KEY, or, .* run `voice-otp tokens rotate`/);
  });
});
