import { describe, expect, it } from "vitest";
import { createAddressPolicy, isPublicAddress } from "./address-policy.ts";

describe("isPublicAddress", () => {
  it("accepts only globally routable unicast", () => {
    for (const ok of ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"]) expect(isPublicAddress(ok)).toBe(true);
    const refused = ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "255.255.255.255",
      "224.0.0.251", "::1", "::", "fe80::1", "fd00::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:a00:1::1", "not-an-ip"];
    for (const bad of refused) expect(isPublicAddress(bad), bad).toBe(false);
  });
});

describe("createAddressPolicy", () => {
  it("allows listed hostnames, addresses and CIDRs", () => {
    const policy = createAddressPolicy(["Media.Internal", "10.20.0.0/16", "fd00::/8", "127.0.0.1"]);
    expect(policy.hostAllowlisted("media.internal")).toBe(true);
    expect(policy.addressAllowed("10.0.0.1", "media.internal")).toBe(true);
    expect(policy.addressAllowed("10.20.3.4", "cdn.example")).toBe(true);
    expect(policy.addressAllowed("10.21.3.4", "cdn.example")).toBe(false);
    expect(policy.addressAllowed("fd12::1", "cdn.example")).toBe(true);
    expect(policy.addressAllowed("::ffff:127.0.0.1", "cdn.example")).toBe(true);
    expect(policy.hostAllowlisted("[::ffff:10.20.0.9]")).toBe(true);
    expect(policy.hostAllowlisted("cdn.example")).toBe(false);
  });

  it("names an entry that is neither", () => {
    expect(() => createAddressPolicy(["10.0.0.0/40"])).toThrow(/"10.0.0.0\/40" is not a valid CIDR/);
    expect(() => createAddressPolicy(["media host"])).toThrow(/neither a hostname/);
    expect(() => createAddressPolicy(["http://x"])).toThrow(/not a valid CIDR/);
  });
});
