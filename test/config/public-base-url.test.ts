import { loadApiConfig } from "@acebatch/api";
import { describe, expect, it } from "vitest";
import { loadWorkerConfig } from "@acebatch/worker";

describe("the public base URL the API and the worker derive", () => {
  it("derives the API's public URL from HOST and PORT as the API does, so the source links it signs reach the API", () => {
    const env = { HOST: "10.1.2.3", PORT: "9000" };
    const worker = loadWorkerConfig(env);
    expect(worker.sourceUrls.publicBaseUrl).toBe("http://10.1.2.3:9000");
    expect(worker.sourceUrls.publicBaseUrl).toBe(loadApiConfig(env).http.publicBaseUrl);
    // The API's own host is where job-referenced sources come from, so it may be private.
    expect(worker.money.sourceAllowPrivateHosts).toContain("10.1.2.3");
  });
});
