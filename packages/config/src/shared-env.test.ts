import { describe, expect, it } from "vitest";
import { parseEnv } from "./env.ts";
import { publicBaseUrlOf, sharedEnvShape } from "./shared-env.ts";

describe("PUBLIC_BASE_URL's default", () => {
  it("is http://HOST:PORT, with loopback for a wildcard listen address and brackets for IPv6", () => {
    expect(publicBaseUrlOf({ HOST: "10.1.2.3", PORT: 9000 })).toBe("http://10.1.2.3:9000");
    expect(publicBaseUrlOf({ HOST: "api.internal", PORT: 8080 })).toBe("http://api.internal:8080");
    expect(publicBaseUrlOf({ HOST: "0.0.0.0", PORT: 8080 })).toBe("http://127.0.0.1:8080");
    expect(publicBaseUrlOf({ HOST: "::", PORT: 8080 })).toBe("http://127.0.0.1:8080");
    expect(publicBaseUrlOf({ HOST: "fd00::5", PORT: 8080 })).toBe("http://[fd00::5]:8080");
  });

  it("gives way to PUBLIC_BASE_URL, without its trailing slash", () => {
    expect(publicBaseUrlOf({ PUBLIC_BASE_URL: "https://music.example.com/", HOST: "0.0.0.0", PORT: 8080 })).toBe("https://music.example.com");
  });
});

describe("HOST", () => {
  it("takes host names and IPv4/IPv6 addresses and refuses anything a URL cannot hold, naming the variable", () => {
    for (const host of ["0.0.0.0", "::", "fd00::5", "api.internal", "localhost"]) expect(parseEnv(sharedEnvShape, { HOST: host }).HOST).toBe(host);
    for (const host of ["<", "a b", "http://x", "x/y", "a:b:c:::z"]) expect(() => parseEnv(sharedEnvShape, { HOST: host })).toThrow(/HOST/);
  });
});
