import fc from "fast-check";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { isSecret, newMessageId, newSecret, secretBytes, signatureHeaders } from "../src/events/signature.js";

/**
 * Event webhooks are signed as Standard Webhooks specifies. The judge is the
 * specification's own JavaScript library: what it accepts, any receiver's library does.
 */
describe("event webhook signatures", () => {
  const body = JSON.stringify({ type: "challenge.verified", timestamp: new Date().toISOString(), data: { id: "ch_1", note: "é ✓ 😀" } });

  it("verify with the standardwebhooks library, whatever the body and the secret", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.uint8Array({ minLength: 24, maxLength: 64 }), (value, key) => {
        const secret = "whsec_" + Buffer.from(key).toString("base64");
        const payload = JSON.stringify(value) ?? "null";
        const headers = signatureHeaders(newMessageId(), new Date(), payload, [secret]);
        expect(new Webhook(secret).verify(payload, headers)).toEqual(JSON.parse(payload));
      }),
      { numRuns: 200 },
    );
  });

  it("sends the id, the timestamp in whole seconds, and v1 signatures", () => {
    const at = new Date("2026-03-01T12:00:00.999Z");
    const headers = signatureHeaders("msg_abc", at, body, [newSecret()]);
    expect(headers["webhook-id"]).toBe("msg_abc");
    expect(headers["webhook-timestamp"]).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it("signs with the new and the old secret during a rotation, and either one verifies", () => {
    const [fresh, old] = [newSecret(), newSecret()];
    const headers = signatureHeaders(newMessageId(), new Date(), body, [fresh, old]);
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(new Webhook(fresh).verify(body, headers)).toBeTruthy();
    expect(new Webhook(old).verify(body, headers)).toBeTruthy();
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
  });

  it("is rejected by the library when the body, the id or the timestamp was changed, or the secret is another", () => {
    const secret = newSecret();
    const headers = signatureHeaders(newMessageId(), new Date(), body, [secret]);
    const judge = new Webhook(secret);
    expect(() => judge.verify(body.replace("ch_1", "ch_2"), headers)).toThrow(WebhookVerificationError);
    expect(() => judge.verify(body, { ...headers, "webhook-id": newMessageId() })).toThrow(WebhookVerificationError);
    const later = String(Number(headers["webhook-timestamp"]) + 1);
    expect(() => judge.verify(body, { ...headers, "webhook-timestamp": later })).toThrow(WebhookVerificationError);
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
  });

  it("makes secrets of 32 random bytes and message ids that never repeat", () => {
    const secret = newSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretBytes(secret)).toHaveLength(32);
    expect(isSecret(secret)).toBe(true);
    const ids = new Set(Array.from({ length: 1000 }, newMessageId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^msg_[A-Za-z0-9_-]{24}$/);
  });

  it("refuses secrets that are not whsec_ and the base64 of 24 to 64 bytes", () => {
    const b64 = (n: number) => Buffer.alloc(n, 7).toString("base64");
    const cases: Array<[string, RegExp]> = [
      [b64(32), /does not start with "whsec_"/],
      ["v1,whsec_" + b64(32), /does not start with "whsec_"/],
      ["whsec_", /too short \(0 bytes\)/],
      ["whsec_" + b64(23), /too short \(23 bytes\)/],
      ["whsec_" + b64(65), /too long \(65 bytes\)/],
      ["whsec_" + b64(32).replace("=", ""), /not valid base64/],
      ["whsec_" + b64(32).slice(0, 10) + "!" + b64(32).slice(11), /not valid base64/],
      ["whsec_" + Buffer.alloc(32, 0xfb).toString("base64url"), /not valid base64/],
      ["whsec_ " + b64(32), /not valid base64/],
    ];
    for (const [secret, message] of cases) {
      expect(() => secretBytes(secret)).toThrow(message);
      expect(isSecret(secret)).toBe(false);
    }
    expect(secretBytes("whsec_" + b64(24))).toHaveLength(24);
    expect(secretBytes("whsec_" + b64(64))).toHaveLength(64);
  });

  it("never repeats a refused secret in its error", () => {
    const secret = "whsec_" + Buffer.alloc(10, 1).toString("base64");
    expect(() => secretBytes(secret)).toThrow(/generate a new one/);
    try {
      secretBytes(secret);
    } catch (err) {
      expect((err as Error).message).not.toContain(secret.slice(6));
    }
  });

  it("refuses to sign a message id that could be confused with another signed text", () => {
    for (const id of ["", "msg.1", "msg 1", "msg\n1"]) expect(() => signatureHeaders(id, new Date(), body, [newSecret()])).toThrow(/message id/);
    expect(() => signatureHeaders(newMessageId(), new Date(), body, [])).toThrow(/No webhook secret/);
    expect(() => signatureHeaders(newMessageId(), new Date(Number.NaN), body, [newSecret()])).toThrow(/invalid Date/);
  });
});
