import fc from "fast-check";
import { gzipSync } from "node:zlib";

/**
 * Generators of hostile request parts: strings, JSON, forms, multipart bodies,
 * content types and encodings. Each body carries a label naming its input class,
 * so a run can report what it covered.
 */

/** The key hostile bodies try to plant on Object.prototype; the test checks it never appears. */
export const POLLUTION_MARK = "polluted_by_fuzz";

// prettier-ignore
const NASTY: string[] = [
  "", " ", "\t", "\n", "\u0000", "\u0000abc", "null", "undefined", "true", "0", "-0", "00", "+", "++", "-1", "1e309", "NaN",
  "Infinity", "[]", "{}", "\ud800", "\udfff", "a\ud83d", "💥", "👨‍👩‍👧", "\u202e1234", "\u200b", "\ufeff", "١٢٣٤٥٦", "１２３４５６",
  "१२३४५६", "<script>alert(1)</script>", "' or 1=1 --", "%00", "%", "%zz", "../../etc/passwd", "\r\nX-Injected: 1",
  "__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "x".repeat(300), "9".repeat(40),
  "${7*7}", "{{7*7}}", "\\", "\"", "'",
];

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
);

/** A header value node:http will send: tab, visible ASCII and latin1 bytes. */
export const latin1 = (maxLength: number) =>
  fc.string({
    unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(9)).map((c) => String.fromCharCode(c)),
    maxLength,
  });

/** JSON as written, so duplicate keys, prototype keys and out-of-range numbers survive serialisation. */
export type J = null | boolean | number | string | J[] | { entries: Array<[string, J]> } | { raw: string };

export function ser(j: J): string {
  if (j === null || typeof j !== "object") return JSON.stringify(j) ?? "null";
  if (Array.isArray(j)) return `[${j.map(ser).join(",")}]`;
  if ("raw" in j) return j.raw;
  return `{${j.entries.map(([k, v]) => `${JSON.stringify(k)}:${ser(v)}`).join(",")}}`;
}

const RAW_NUMBERS = ["1e999", "-1e999", "123456789012345678901234567890", "-0", "0.0000000000000000000001", "1E+2", "9007199254740993", "4.9e-324"];
const PROTO_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "__defineGetter__", "valueOf"];
const FIELD_KEYS = ["number", "id", "auth_code", "language", "client_ip", "CallSid", "CallStatus", "Digits", "AnsweredBy"];

const jsonKey = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS) },
  { weight: 2, arbitrary: fc.constantFrom(...FIELD_KEYS) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 8 }) },
);

const jsonLeaf: fc.Arbitrary<J> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(...RAW_NUMBERS).map((raw): J => ({ raw })),
  nastyString,
);

/** Arbitrary JSON values: nested arrays and objects with field names, prototype keys and odd leaves. */
export const anyJson: fc.Arbitrary<J> = fc.letrec<{ value: J }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    jsonLeaf,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.array(fc.tuple(jsonKey, tie("value")), { maxLength: 4 }).map((entries): J => ({ entries })),
  ),
})).value;

/** Bodies that try to set a key on Object.prototype through every parser. */
export const pollutionJson: fc.Arbitrary<J> = fc.constantFrom<J>(
  { entries: [["__proto__", { entries: [[POLLUTION_MARK, 1]] }]] },
  { entries: [["constructor", { entries: [["prototype", { entries: [[POLLUTION_MARK, 1]] }]] }]] },
  { entries: [["number", "+12125550100"], ["__proto__", { entries: [[POLLUTION_MARK, true], ["number", "+1"]] }]] },
  { entries: [["__proto__", [POLLUTION_MARK]], ["auth_code", "123456"]] },
);

export const pollutionForm = fc.constantFrom(
  `__proto__[${POLLUTION_MARK}]=1&number=%2B12125550100`,
  `constructor[prototype][${POLLUTION_MARK}]=1`,
  `__proto__.${POLLUTION_MARK}=1&__proto__=x`,
  `${POLLUTION_MARK}=1&__proto__=%7B%7D`,
);

/** Nesting as deep as 16 KB allows. */
export const deepJson: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 1, max: 8000 }).map((n) => "[".repeat(n) + "]".repeat(n)),
  fc.integer({ min: 1, max: 7000 }).map((n) => `{"number":${"[".repeat(n)}"+12125550100"${"]".repeat(n)}}`),
  fc.integer({ min: 1, max: 2500 }).map((n) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`),
  fc.integer({ min: 1, max: 3000 }).map((n) => `{"auth_code":${'{"x":'.repeat(n)}null${"}".repeat(n)}}`),
);

// prettier-ignore
const MALFORMED_JSON = [
  "", " ", "{", "}", "[", "{nope", "{'number':'+12125550100'}", '{"number":"+12125550100",}', '{"number":+12125550100}',
  '{"number":"+12125550100"', '{"number":"+1212555\n0100"}', "NaN", "undefined", "{\"a\":1}{\"b\":2}", "\ufeff{}",
  '{"number":"\\x41"}', '{"number":"\\ud800"}', '{"number":"\\u12"}', "[1,2,,3]", "// comment\n{}", '{"a":01}', "nul", "tru",
  '{"number": "+12125550100" /* c */}', "\u0000", '{"__proto__":}', "0x10", ".5", "-", "1.", "[\"\t\"]",
];

export const malformedJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...MALFORMED_JSON),
  // A valid body cut short.
  fc.tuple(anyJson.map(ser), fc.nat()).map(([s, n]) => s.slice(0, s.length > 1 ? n % (s.length - 1) : 0)),
  fc.string({ maxLength: 60 }),
);

/** Strings rewritten with digits from other scripts: Arabic-Indic, fullwidth, Devanagari. */
export const otherDigits = (s: string, zero: number) => s.replace(/\d/g, (d) => String.fromCharCode(zero + Number(d)));

/** One field's value, wrong in one way: type, emptiness, whitespace, length, zeros, plus, script, null bytes. */
export function mutatedString(valid: string): fc.Arbitrary<J> {
  const bare = valid.replace(/^\+/, "");
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom<J>(
        "", " ", "\t\n", `${valid}\u0000`, `\u0000${valid}`, ` ${valid} `, `\u00a0${valid}`, valid.repeat(20), `0${valid}`, `00${bare}`,
        `+${valid}`, `+${bare}`, bare, otherDigits(valid, 0x660), otherDigits(valid, 0xff10), otherDigits(valid, 0x966),
        valid.slice(0, -1), `${valid}0`, valid.split("").join(" "), `${valid}\ud800`, `${valid}%00`, valid.toUpperCase(),
        `${valid}\r\n`, `${valid};${valid}`, "constructor", "__proto__", "toString", "hasOwnProperty-x",
      ),
    },
    { weight: 2, arbitrary: fc.constantFrom<J>(null, true, false, 0, -1, 1e308, [], { entries: [] }, [valid], { entries: [["value", valid]] }) },
    { weight: 1, arbitrary: fc.constantFrom<J>(/^\d+$/.test(valid) ? Number(valid) : 7, { raw: /^\d+$/.test(valid) ? `0${valid}` : "1e999" }) },
    { weight: 2, arbitrary: nastyString },
  );
}

/** A valid set of fields, and variants with exactly one thing wrong (or nothing). */
export function nearValid(valid: fc.Arbitrary<Array<[string, string]>>): fc.Arbitrary<{ entries: Array<[string, J]>; how: string }> {
  return valid.chain((fields) =>
    fc.oneof(
      { weight: 2, arbitrary: fc.constant({ entries: fields as Array<[string, J]>, how: "valid" }) },
      {
        weight: 5,
        arbitrary: fc
          .nat({ max: Math.max(0, fields.length - 1) })
          .chain((i) => mutatedString(fields[i]?.[1] ?? "").map((v) => ({ i, v })))
          .map(({ i, v }) => ({ entries: fields.map(([k, old], j): [string, J] => [k, j === i ? v : old]), how: "mutated" })),
      },
      {
        weight: 1,
        arbitrary: fc.nat({ max: Math.max(0, fields.length - 1) }).map((i) => ({ entries: fields.filter((_, j) => j !== i), how: "missing" })),
      },
      {
        // Names every object has: a lookup table keyed by user input must not find them.
        weight: 2,
        arbitrary: fc
          .tuple(fc.nat({ max: Math.max(0, fields.length - 1) }), fc.constantFrom(...PROTO_KEYS, "constructor-US", "isPrototypeOf", "__lookupGetter__"))
          .map(([i, v]) => ({ entries: fields.map(([k, old], j): [string, J] => [k, j === i ? v : old]), how: "prototype name" })),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(jsonKey, anyJson).map(([k, v]) => ({ entries: [...fields, [k, v]] as Array<[string, J]>, how: "extra" })),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.nat({ max: Math.max(0, fields.length - 1) }), nastyString)
          .map(([i, v]) => ({ entries: [[fields[i]?.[0] ?? "x", v], ...fields] as Array<[string, J]>, how: "duplicate" })),
      },
    ),
  );
}

export interface BodySpec {
  bytes: Buffer;
  contentType?: string;
  contentEncoding?: string;
  label: string;
}

const JSON_TYPES = [
  "application/json", "application/json", "application/json", "application/json; charset=utf-8", "APPLICATION/JSON",
  "application/json;charset=UTF-8", "application/problem+json", "application/json ; q=1", " application/json ",
];
const FORM_TYPES = [
  "application/x-www-form-urlencoded", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8",
  "Application/X-WWW-Form-Urlencoded", "application/x-www-form-urlencoded;charset=latin1",
];
// prettier-ignore
const ODD_TYPES: Array<string | undefined> = [
  undefined, "", "text/plain", "text/json", "application/xml", "application/octet-stream", "*/*", ";", "application/json, text/plain",
  "json", "multipart/mixed; boundary=x", "application/x-www-form-urlencoded, application/json", "\u00e9/\u00e9", "a".repeat(2000),
  "application/jsonx", "application/x-www-form-urlencodedx", "multipart/form-dataX", "application/json; charset=utf-16",
  "application/json; charset=", "application/json; boundary=\"", "text/xml; charset=utf-8",
];

export const jsonType = fc.constantFrom(...JSON_TYPES);
export const formType = fc.constantFrom(...FORM_TYPES);
export const oddType = fc.oneof(fc.constantFrom(...ODD_TYPES), latin1(40));

/** Form text from entries: arrays repeat the key, objects use brackets, null is a bare key. */
export function formText(entries: Array<[string, J]>, encode: "proper" | "raw" = "proper"): string {
  const enc = encode === "proper" ? encodeURIComponent : (s: string) => s;
  const safeEnc = (s: string) => {
    try {
      return enc(s);
    } catch {
      return s; // a lone surrogate cannot be percent-encoded: send it raw
    }
  };
  const out: string[] = [];
  const add = (k: string, v: J) => {
    if (v === null) out.push(safeEnc(k));
    else if (Array.isArray(v)) for (const x of v) add(k, x);
    else if (typeof v === "object" && "entries" in v) for (const [sk, sv] of v.entries) add(`${k}[${sk}]`, sv);
    else if (typeof v === "object") out.push(`${safeEnc(k)}=${v.raw}`);
    else out.push(`${safeEnc(k)}=${safeEnc(String(v))}`);
  };
  for (const [k, v] of entries) add(k, v);
  return out.join("&");
}

// prettier-ignore
const BROKEN_PERCENT = ["%", "%G1", "%E0%A4%A", "%FF", "%C0%AF", "%%", "%2", "%u0041", "%ED%A0%80"];

/** Form bodies: repeated keys, arrays, empty values, raw '+', broken percent-encoding. */
export function formBody(entries: fc.Arbitrary<Array<[string, J]>>): fc.Arbitrary<BodySpec> {
  return fc
    .tuple(entries, fc.constantFrom("proper" as const, "raw" as const), fc.option(fc.constantFrom(...BROKEN_PERCENT)), fc.nat(), formType)
    .map(([e, encode, broken, at, contentType]) => {
      let text = formText(e, encode);
      if (broken) {
        const i = text.length ? at % text.length : 0;
        text = text.slice(0, i) + broken + text.slice(i);
      }
      return { bytes: Buffer.from(text), contentType, label: broken ? "form, broken percent-encoding" : `form (${encode})` };
    });
}

export interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
  type?: string;
}

/** A multipart body, well formed or broken in one way. */
export function multipartBytes(parts: Part[], boundary: string, flaw: MultipartFlaw): { bytes: Buffer; contentType: string } {
  const nl = flaw === "lf" ? "\n" : "\r\n";
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `Content-Disposition: form-data; name="${p.name.replace(/["\r\n]/g, "_")}"${p.filename !== undefined ? `; filename="${p.filename.replace(/["\r\n]/g, "_")}"` : ""}`;
    const head = `--${boundary}${nl}${flaw === "no-disposition" ? "X-Nothing: 1" : disposition}${nl}${p.type ? `Content-Type: ${p.type}${nl}` : ""}${nl}`;
    chunks.push(Buffer.from(head, "utf8"), Buffer.from(p.value), Buffer.from(nl));
  }
  if (flaw !== "no-end") chunks.push(Buffer.from(`--${boundary}--${nl}`));
  const declared = flaw === "wrong-boundary" ? `${boundary}x` : boundary;
  const contentType =
    flaw === "no-boundary" ? "multipart/form-data" : flaw === "quoted" ? `multipart/form-data; boundary="${declared}"` : `multipart/form-data; boundary=${declared}`;
  return { bytes: Buffer.concat(chunks), contentType };
}

export type MultipartFlaw = "none" | "lf" | "no-end" | "wrong-boundary" | "no-boundary" | "quoted" | "no-disposition";
const flaws = fc.constantFrom<MultipartFlaw>("none", "none", "none", "quoted", "lf", "no-end", "wrong-boundary", "no-boundary", "no-disposition");
const boundary = fc.stringMatching(/^[A-Za-z0-9'()+_,.\-]{1,40}$/);

/** Multipart bodies from field entries, some fields sent as files, some bodies broken. */
export function multipartBody(entries: fc.Arbitrary<Array<[string, J]>>): fc.Arbitrary<BodySpec> {
  return fc
    .tuple(entries, boundary, flaws, fc.array(fc.boolean(), { maxLength: 6 }), fc.option(fc.uint8Array({ maxLength: 200 })))
    .map(([e, b, flaw, asFile, extraFile]) => {
      const parts: Part[] = e.map(([name, v], i) => ({
        name,
        value: typeof v === "string" ? v : ser(v),
        ...(asFile[i] ? { filename: `${name}.txt`, type: "text/plain" } : {}),
      }));
      if (extraFile) parts.push({ name: "upload", value: Buffer.from(extraFile), filename: "x.bin", type: "application/octet-stream" });
      const { bytes, contentType } = multipartBytes(parts, b, flaw);
      const files = asFile.some(Boolean) || extraFile ? " with files" : "";
      return { bytes, contentType, label: `multipart${files}${flaw === "none" ? "" : `, ${flaw}`}` };
    });
}

/** A text body re-encoded: UTF-16 (with or without BOM), latin1, under a matching or a mismatched charset. */
export function recoded(text: string): fc.Arbitrary<BodySpec> {
  return fc
    .tuple(
      fc.constantFrom("utf16le", "utf16le-bom", "latin1", "utf8-bom"),
      fc.constantFrom("application/json; charset=utf-16", "application/json; charset=latin1", "application/json; charset=iso-8859-1", "application/json", "application/x-www-form-urlencoded; charset=utf-16"),
    )
    .map(([enc, contentType]) => {
      const bytes =
        enc === "utf16le"
          ? Buffer.from(text, "utf16le")
          : enc === "utf16le-bom"
            ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")])
            : enc === "latin1"
              ? Buffer.from(text, "latin1")
              : Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
      return { bytes, contentType, label: `charset ${enc} as ${contentType}` };
    });
}

/** A body under a Content-Encoding the service does not decode: real gzip, gzip garbage, identity, unknown. */
export function contentEncoded(body: BodySpec): fc.Arbitrary<BodySpec> {
  return fc
    .tuple(fc.constantFrom("gzip", "gzip-garbage", "identity", "deflate", "br", "gzip, identity", "x-unknown", ""), fc.uint8Array({ maxLength: 64 }))
    .map(([enc, garbage]) => {
      if (enc === "gzip") return { ...body, bytes: gzipSync(body.bytes), contentEncoding: "gzip", label: "content-encoding gzip" };
      if (enc === "gzip-garbage") {
        return { ...body, bytes: Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from(garbage)]), contentEncoding: "gzip", label: "content-encoding gzip, garbage" };
      }
      return { ...body, contentEncoding: enc, label: `content-encoding ${enc || "(empty)"}` };
    });
}

/** Bytes that are not text: random, or valid JSON with invalid UTF-8 spliced in. */
export const binaryBody: fc.Arbitrary<BodySpec> = fc.oneof(
  fc.tuple(fc.uint8Array({ maxLength: 600 }), fc.option(jsonType, { nil: undefined })).map(([b, contentType]) => ({ bytes: Buffer.from(b), contentType, label: "random bytes" })),
  fc
    .constantFrom([0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x28, 0xa1], [0x00])
    .map((bad) => ({
      bytes: Buffer.concat([Buffer.from('{"number":"+1212555'), Buffer.from(bad), Buffer.from('0100","auth_code":"1'), Buffer.from(bad), Buffer.from('23456"}')]),
      contentType: "application/json",
      label: "JSON with invalid UTF-8",
    })),
);
