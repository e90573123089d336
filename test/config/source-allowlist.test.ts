import { loadApiConfig } from "@acebatch/api";
import { ConfigError } from "@acebatch/config";
import { loadWorkerConfig } from "@acebatch/worker";
import { describe, expect, it } from "vitest";

describe("SOURCE_ALLOW_PRIVATE_HOSTS", () => {
  it("is read by the API as by the worker, so a batch quote and the worker refuse the same sources", () => {
    const env = { SOURCE_ALLOW_PRIVATE_HOSTS: "media.internal, 10.20.0.0/16" };
    expect(loadApiConfig(env).sources.allowPrivateHosts).toEqual(["media.internal", "10.20.0.0/16"]);
    expect(loadWorkerConfig(env).money.sourceAllowPrivateHosts).toEqual(expect.arrayContaining(["media.internal", "10.20.0.0/16"]));
  });

  it("stops the API with a ConfigError naming it when an entry is not a host, an IP or a CIDR", () => {
    let err: unknown;
    try {
      loadApiConfig({ SOURCE_ALLOW_PRIVATE_HOSTS: "10.0.0.0/99" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain("SOURCE_ALLOW_PRIVATE_HOSTS");
  });
});
