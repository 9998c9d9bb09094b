import fc from "fast-check";
import { CALL_STATUSES } from "../../../src/otp/call-events.js";
import { latin1, nastyString } from "./arbitraries.js";
import { asParsed, chunked, chunking, common, enc, hostHeader, oddQuery, pick, ROUTE_PATHS, target, type Probe, type World } from "./probes.js";

/** /call-2fa and /call-status as the carrier calls them, and as it never would. */

const PROTO_KEYS = new Set(["__proto__", "constructor", "prototype"]);

function webhookParams(w: World): fc.Arbitrary<Array<[string, string]>> {
  const sid = fc.oneof(
    fc.constantFrom(...w.seeds.map((s) => s.callSid)),
    fc.nat().map((i) => pick(w.liveSids, i, "CA0")),
    nastyString,
  );
  const carrierLike = fc
    .record(
      {
        CallSid: sid,
        AccountSid: fc.oneof(fc.constant(w.accountSid), nastyString),
        CallStatus: fc.oneof(fc.constantFrom(...CALL_STATUSES), nastyString),
        Digits: fc.oneof(fc.constantFrom("1", "5", "9", "#", "*", "12", ""), nastyString),
        AnsweredBy: fc.oneof(fc.constantFrom("human", "machine_start", "machine_end_beep", "fax", "unknown", "machine"), nastyString),
        From: fc.constantFrom("+15005550006", "", "anonymous"),
        To: fc.oneof(fc.constantFrom(...w.pool), nastyString),
        Direction: fc.constantFrom("outbound-api", "inbound", ""),
      },
      { requiredKeys: [] },
    )
    .map((r) => Object.entries(r).filter((e): e is [string, string] => typeof e[1] === "string"));
  const anyParams = fc.array(fc.tuple(fc.oneof(fc.constantFrom("CallSid", "CallStatus", "Digits", "AnsweredBy", "__proto__", "constructor", ""), fc.string({ maxLength: 12 })), nastyString), { maxLength: 6 });
  return fc.oneof({ weight: 3, arbitrary: carrierLike }, { weight: 2, arbitrary: anyParams });
}

const webhookId = (w: World) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...w.seeds.map((s) => s.id)) },
    { weight: 4, arbitrary: fc.nat().map((i) => pick(w.liveIds, i, "ch_none")) },
    { weight: 2, arbitrary: fc.constantFrom("", "x", "a".repeat(64), "a".repeat(65), "ch_%00", "..%2F..", "%E0%A4%A", "ch_\u00e9") },
    { weight: 1, arbitrary: nastyString },
  );

/** /call-2fa and /call-status: signed and unsigned, garbage parameters, odd queries and targets. */
export function webhookProbe(w: World): fc.Arbitrary<Probe> {
  return fc
    .record({
      aim: fc.constantFrom<"call-2fa" | "call-status">("call-2fa", "call-status"),
      method: fc.oneof({ weight: 8, arbitrary: fc.constant("POST") }, { weight: 3, arbitrary: fc.constant("GET") }, { weight: 1, arbitrary: fc.constantFrom("PUT", "DELETE", "HEAD", "OPTIONS") }),
      id: webhookId(w),
      idMissing: fc.boolean(),
      step: fc.option(fc.oneof(fc.constantFrom("gate", "code", "GATE", ""), nastyString), { nil: undefined }),
      n: fc.option(fc.oneof(fc.constantFrom("0", "1", "2", "9", "-5", "1e309", "NaN", "0x10", "99999999999999999999"), nastyString), { nil: undefined }),
      duplicateC: fc.option(fc.string({ maxLength: 8 }), { nil: undefined, freq: 6 }),
      extraQuery: oddQuery,
      params: webhookParams(w),
      encoding: fc.constantFrom("urlencoded", "urlencoded", "urlencoded", "multipart", "json", "none", "odd-type"),
      signing: fc.constantFrom("valid", "valid", "valid", "valid", "none", "garbage", "other-url", "tampered", "empty", "both"),
      garbage: latin1(40),
      common,
      host: hostHeader(w),
      chunks: chunking,
    })
    .chain((r) => target(ROUTE_PATHS[r.aim], fc.constant(""), w).map((t) => ({ ...r, t })))
    .map((r) => {
      let query = r.idMissing ? "" : `c=${enc(r.id)}`;
      if (r.duplicateC !== undefined) query += `&c=${enc(r.duplicateC)}`;
      if (r.step !== undefined) query += `&step=${enc(r.step)}`;
      if (r.n !== undefined) query += `&n=${enc(r.n)}`;
      const extra = r.extraQuery.replace(/^\?/, "");
      if (extra) query += `&${extra}`;
      const suffix = query ? `?${query.replace(/^&/, "")}` : "";
      const hash = r.t.target.indexOf("#");
      const targetText = hash >= 0 ? r.t.target.slice(0, hash) + suffix + r.t.target.slice(hash) : r.t.target + suffix;
      const signedAs = targetText.startsWith("http://") ? targetText.replace(/^http:\/\/[^/]*/, "") : targetText;

      const withBody = r.method !== "GET" && r.method !== "HEAD";
      let body: Buffer | undefined;
      let contentType: string | undefined;
      let parsed: Record<string, string | string[]> = {};
      let formParsable = false;
      if (withBody && r.encoding === "urlencoded") {
        const text = new URLSearchParams(r.params).toString();
        body = Buffer.from(text);
        contentType = "application/x-www-form-urlencoded";
        parsed = asParsed(text);
        formParsable = true;
      } else if (withBody && r.encoding === "multipart") {
        const b = `b${r.params.length}x`;
        body = Buffer.concat([
          ...r.params.map(([k, v]) => Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k.replace(/["\r\n]/g, "_")}"\r\n\r\n${v}\r\n`)),
          Buffer.from(`--${b}--\r\n`),
        ]);
        contentType = `multipart/form-data; boundary=${b}`;
      } else if (withBody && r.encoding === "json") {
        body = Buffer.from(JSON.stringify(Object.fromEntries(r.params)));
        contentType = "application/json";
      } else if (withBody && r.encoding === "odd-type") {
        body = Buffer.from(new URLSearchParams(r.params).toString());
        contentType = r.garbage;
      }

      const url = `${w.publicBase}${signedAs}`;
      const signatureHeaders = (u: string, p: Record<string, string | string[]>) => Object.entries(w.sign(u, p));
      const headers: Array<[string, string]> = [["Host", r.host.host]];
      if (r.signing === "valid") headers.push(...signatureHeaders(url, parsed));
      else if (r.signing === "garbage") headers.push(["X-Twilio-Signature", r.garbage], ["X-SignalWire-Signature", r.garbage]);
      else if (r.signing === "other-url") headers.push(...signatureHeaders(`${w.publicBase}/call-2fa?c=other`, parsed));
      else if (r.signing === "tampered") headers.push(...signatureHeaders(url, { ...parsed, CallStatus: "tampered" }));
      else if (r.signing === "empty") headers.push(["X-Twilio-Signature", ""], ["X-SignalWire-Signature", ""]);
      else if (r.signing === "both") headers.push(...signatureHeaders(url, parsed), ["X-Twilio-Signature", "AAAA"], ["X-SignalWire-Signature", "AAAA"]);
      if (contentType !== undefined) headers.push(["Content-Type", contentType]);
      headers.push(...r.common.headers);

      const cleanRoute = r.t.exact && !r.host.odd && !(w.trustProxy && r.common.forwarded);
      const signedForThis = r.signing === "valid" && withBody && formParsable;
      const protoKey = r.params.some(([k]) => PROTO_KEYS.has(k));
      // Repeated keys are signed differently by the SDKs (twilio dedupes values, SignalWire's copy does not).
      const repeated = new Set(r.params.map(([k]) => k)).size !== r.params.length;
      const methodAllowed = r.method === "POST";
      return {
        aim: r.aim,
        exactPath: r.t.exact,
        method: r.method,
        target: targetText,
        headers,
        ...(withBody && body ? (r.chunks ? { chunks: chunked(body, r.chunks) } : { body }) : {}),
        signature: r.signing === "valid" || r.signing === "both" ? "valid" : "invalid",
        mustAcceptSignature: cleanRoute && signedForThis && !protoKey && !repeated && methodAllowed,
        httpLayerMayRefuse: r.t.mayRefuse || r.host.odd,
        requestId: r.common.requestId,
        label: `${r.aim} ${r.signing === "valid" ? "signed" : `unsigned (${r.signing})`} ${withBody ? r.encoding : "no body"}; path ${r.t.variant}`,
      } satisfies Probe;
    });
}

