/**
 * @module notify/webhooks/address-policy
 * Server-side request forgery: which addresses a webhook may be sent to.
 * Loopback, private, link-local, CGNAT, cloud metadata, IPv6 unique-local
 * and link-local, and IPv4-mapped forms of any of them are refused unless
 * private targets are allowed. The host is resolved here and the request
 * connects to the address that was checked, so a DNS answer that changes
 * between the check and the connection (rebinding) cannot move it.
 */

import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Ranges no webhook goes to (unless private targets are allowed). */
const REFUSED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  REFUSED.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['64:ff9b::', 96], // NAT64 can reach any IPv4 address
  ['2001:db8::', 32], // documentation
] as const) {
  REFUSED.addSubnet(network, prefix, 'ipv6');
}

/** Why an address was refused. */
export class RefusedAddressError extends Error {
  readonly code = 'LO_ERR_WEBHOOK_ADDRESS';
  /** @param message says which address and why */
  constructor(message: string) {
    super(message);
    this.name = 'RefusedAddressError';
  }
}

/**
 * Whether an IP address is one a webhook may not reach by default.
 * @param address an IPv4 or IPv6 address
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return REFUSED.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = mappedIpv4(address);
  if (mapped !== undefined) return isPrivateAddress(mapped);
  return REFUSED.check(address, 'ipv6');
}

/** The IPv4 address inside `::ffff:a.b.c.d` or `::ffff:hhhh:hhhh`, if it is one. */
function mappedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted !== null) return dotted[1];
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex === null) return undefined;
  const high = Number.parseInt(hex[1]!, 16);
  const low = Number.parseInt(hex[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** An address to connect to, checked. */
export interface CheckedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/**
 * Resolve a URL's host and check the address it connects to.
 * @param hostname the URL's hostname (brackets of an IPv6 literal are removed here)
 * @param allowPrivate whether private targets are allowed (WEBHOOK_ALLOW_PRIVATE=1)
 * @throws {RefusedAddressError} when the host does not resolve or resolves to a refused address
 */
export async function resolveTarget(hostname: string, allowPrivate: boolean): Promise<CheckedAddress> {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const literal = isIP(host);
  let found: readonly { address: string; family: number }[];
  if (literal !== 0) found = [{ address: host, family: literal }];
  else {
    try {
      found = await lookup(host, { all: true, verbatim: true });
    } catch (error) {
      throw new RefusedAddressError(`${host.slice(0, 100)} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (found.length === 0) throw new RefusedAddressError(`${host.slice(0, 100)} does not resolve`);
  // Every answer is checked: a name that resolves to one public and one private address is refused.
  if (!allowPrivate) {
    const refused = found.find((entry) => isPrivateAddress(entry.address));
    if (refused !== undefined) throw new RefusedAddressError(`${host.slice(0, 100)} resolves to ${refused.address}, a private, loopback, link-local or metadata address (WEBHOOK_ALLOW_PRIVATE=1 allows it)`);
  }
  const first = found[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
