import ipaddr from "ipaddr.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Which hosts and addresses a source URL may reach. */
export interface AddressPolicy {
  /** Whether this hostname (or IP literal) is on the allowlist: private addresses and plain http are then allowed. */
  hostAllowlisted(hostname: string): boolean;
  /** Whether a resolved address may be connected to for `hostname`. */
  addressAllowed(address: string, hostname: string): boolean;
}

/** Lower-case, without IPv6 brackets or a trailing dot. */
export function normalizeHostname(hostname: string): string {
  return hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
}

/** An address as ipaddr.js sees it, IPv4-mapped IPv6 (`::ffff:10.0.0.1`) turned into plain IPv4. */
function parseAddress(address: string): Address | null {
  const bare = normalizeHostname(address);
  return ipaddr.isValid(bare) ? ipaddr.process(bare) : null;
}

/**
 * Only globally routable unicast is public. Everything else ipaddr.js names is refused: loopback,
 * private, link-local, unique-local, multicast, CGNAT, reserved, and IPv6 forms that embed an
 * IPv4 address (NAT64, 6to4, Teredo), which could point anywhere.
 */
export function isPublicAddress(address: string): boolean {
  const parsed = parseAddress(address);
  return parsed !== null && parsed.range() === "unicast";
}

/**
 * A policy from allowlist entries: hostnames (exact, case-insensitive), IP addresses, or CIDRs
 * (`10.0.0.0/8`, `fd00::/8`). Throws a TypeError naming an entry that is none of these.
 */
export function createAddressPolicy(allow: readonly string[] = []): AddressPolicy {
  const hosts = new Set<string>();
  const ranges: [Address, number][] = [];
  for (const raw of allow) {
    const entry = normalizeHostname(raw.trim());
    if (entry.includes("/")) {
      if (!ipaddr.isValidCIDR(entry)) throw new TypeError(`allowPrivateHosts: ${JSON.stringify(raw)} is not a valid CIDR`);
      const [network, bits] = ipaddr.parseCIDR(entry);
      ranges.push([network, bits]);
    } else if (ipaddr.isValid(entry)) {
      const address = ipaddr.process(entry);
      ranges.push([address, address.kind() === "ipv4" ? 32 : 128]);
    } else if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(entry)) {
      hosts.add(entry);
    } else {
      throw new TypeError(`allowPrivateHosts: ${JSON.stringify(raw)} is neither a hostname, an IP address nor a CIDR`);
    }
  }
  const inRanges = (address: string): boolean => {
    const parsed = parseAddress(address);
    return parsed !== null && ranges.some(([network, bits]) => network.kind() === parsed.kind() && parsed.match(network, bits));
  };
  return {
    hostAllowlisted: (hostname) => {
      const host = normalizeHostname(hostname);
      return hosts.has(host) || (ipaddr.isValid(host) && inRanges(host));
    },
    addressAllowed: (address, hostname) => hosts.has(normalizeHostname(hostname)) || inRanges(address) || isPublicAddress(address),
  };
}
