import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/**
 * Which webhook endpoints we agree to call. A user chooses the URL, so without these
 * checks a webhook is a way to make this server POST to its own network: the loopback
 * admin port, a database, the cloud metadata service (SSRF). The URL is checked when it
 * is configured (checkTargetUrl) and the addresses its name resolves to when a delivery
 * is sent (resolveTarget), since a name can point elsewhere by then (DNS rebinding).
 */

export interface TargetPolicy {
  /** ALLOW_PRIVATE_WEBHOOKS=true: a receiver on this machine or its private network. */
  allowPrivate: boolean;
  /** Production: event payloads carry call data, which must not cross the network in clear. */
  requireHttps: boolean;
}

// The ranges refused, as data: [kind, network, prefix]. Each address family has its own
// rows; BlockList also matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against the IPv4 rows.
// The metadata rows come first so that their more precise kind is the one reported.
const REFUSED: ReadonlyArray<readonly [kind: string, network: string, prefix: number]> = [
  ["a cloud metadata address", "169.254.169.254", 32],
  ["a cloud metadata address", "fd00:ec2::254", 128],
  ["an unspecified or \"this network\" address", "0.0.0.0", 8],
  ["an unspecified or \"this network\" address", "::", 128],
  ["a loopback address", "127.0.0.0", 8],
  ["a loopback address", "::1", 128],
  ["a private address", "10.0.0.0", 8],
  ["a private address", "172.16.0.0", 12],
  ["a private address", "192.168.0.0", 16],
  ["a private address", "fc00::", 7],
  ["a shared (carrier-grade NAT) address", "100.64.0.0", 10],
  ["a link-local address", "169.254.0.0", 16],
  ["a link-local address", "fe80::", 10],
  ["an IETF protocol address", "192.0.0.0", 24],
  ["a benchmarking address", "198.18.0.0", 15],
  ["a multicast address", "224.0.0.0", 4],
  ["a multicast address", "ff00::", 8],
  ["a reserved or broadcast address", "240.0.0.0", 4],
  // The deprecated IPv4-compatible form (::a.b.c.d) routes nowhere useful.
  ["a reserved address", "::", 96],
];

const blockLists = REFUSED.map(([kind, network, prefix]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, network.includes(":") ? "ipv6" : "ipv4");
  return { kind, list };
});

// NAT64 (RFC 6052): on an IPv6-only network 64:ff9b::a.b.c.d reaches the IPv4 address
// a.b.c.d through the gateway, so it is judged as that IPv4 address.
const NAT64 = new BlockList();
NAT64.addSubnet("64:ff9b::", 96, "ipv6");

/** Why an IP address may not be called (e.g. "a loopback address"), or undefined. */
export function refusedAddressKind(address: string): string | undefined {
  // A zone (fe80::1%eth0) would make BlockList match nothing.
  const bare = address.replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 0) return "not an IP address";
  const type = family === 4 ? "ipv4" : "ipv6";
  if (type === "ipv6" && NAT64.check(bare, "ipv6")) {
    const v4 = lastIpv4(bare);
    return v4 === undefined ? undefined : refusedAddressKind(v4);
  }
  return blockLists.find(({ list }) => list.check(bare, type))?.kind;
}

/** The last 32 bits of an IPv6 address, written as IPv4. */
function lastIpv4(v6: string): string | undefined {
  // The URL parser writes IPv6 in its compressed hexadecimal form, dotted tails included.
  const groups = new URL(`http://[${v6}]/`).hostname.slice(1, -1).split(":");
  const low = parseInt(groups.at(-1) || "0", 16);
  const high = groups.length >= 2 ? parseInt(groups.at(-2) || "0", 16) : 0;
  if (Number.isNaN(low) || Number.isNaN(high)) return undefined;
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/** A URL's host without the brackets of an IPv6 literal. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

const ALLOW_HINT = "set ALLOW_PRIVATE_WEBHOOKS=true only if the receiver really is on a private network";

/**
 * Why a webhook URL is refused, or undefined when it is acceptable. For validating
 * configuration and API input: the URL alone, no DNS. The WHATWG parser has already
 * turned numeric forms such as http://2130706433/ or http://0x7f.1/ into 127.0.0.1.
 */
export function checkTargetUrl(url: string, policy: TargetPolicy): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not an absolute URL: write it as https://host/path";
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return `uses the ${parsed.protocol.slice(0, -1)} scheme: write an https:// URL`;
  if (policy.requireHttps && parsed.protocol !== "https:") return "must be https:// in production: event payloads carry call data";
  if (parsed.username || parsed.password) return "contains credentials (user:password@): remove them; the webhook signature authenticates us to the receiver";
  if (policy.allowPrivate) return undefined;
  const host = bareHost(parsed);
  if (isIP(host)) {
    const kind = refusedAddressKind(host);
    return kind && `points to ${host}, ${kind}: use a public address, or ${ALLOW_HINT}`;
  }
  // RFC 6761: these names are loopback wherever they are resolved.
  if (host === "localhost" || host.endsWith(".localhost")) return `points to ${host}, a loopback name: use a public address, or ${ALLOW_HINT}`;
  return undefined;
}

export type ResolvedTarget = { addresses: Array<{ address: string; family: number }> } | { refused: string } | { unresolved: string };

/**
 * The addresses a delivery may connect to: every address the host resolves to, each
 * one checked. One bad address refuses the whole name, since which one a connection
 * would use is not ours to choose.
 */
export async function resolveTarget(url: URL): Promise<ResolvedTarget> {
  const host = bareHost(url);
  let answers: Array<{ address: string; family: number }>;
  try {
    answers = await lookup(host, { all: true, verbatim: true });
  } catch (err) {
    return { unresolved: `could not resolve ${host} (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
  if (answers.length === 0) return { unresolved: `${host} has no address` };
  for (const { address } of answers) {
    const kind = refusedAddressKind(address);
    if (kind) return { refused: `${host} resolves to ${address}, ${kind}: use a public address, or ${ALLOW_HINT}` };
  }
  return { addresses: answers };
}
