import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { spawnService, type SpawnedService } from "./spawn-service.ts";

const FAKE = fileURLToPath(new URL("./fixtures/fake-service/main.ts", import.meta.url));

describe("spawnService", () => {
  const started: SpawnedService[] = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(started.splice(0).map((s) => s.stop("SIGKILL")));
  });

  it("resolves on the ready line of a .ts script and passes the given env", async () => {
    const service = await spawnService(FAKE, { FAKE_DELAY_MS: "200", FAKE_GREETING: "hello" });
    started.push(service);
    expect(service.pid).toBeGreaterThan(0);
    expect(service.output()).toContain("greeting=hello");
    expect(service.output()).toContain("Server listening");
  });

  it("does not leak the parent's secrets into the child", async () => {
    vi.stubEnv("RUNCOMFY_TOKEN", "secret-from-the-developer-shell");
    const service = await spawnService(FAKE, {});
    started.push(service);
    expect(service.output()).toContain("token=(unset)");
    expect(service.output()).not.toContain("secret-from-the-developer-shell");
  });

  it("stop() sends SIGTERM and reports a clean exit", async () => {
    const service = await spawnService(FAKE, {});
    const exit = await service.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(service.output()).toContain("shutting down");
  });

  it("kill9() crashes the process", async () => {
    const service = await spawnService(FAKE, {});
    service.kill9();
    expect(await service.exited).toEqual({ code: null, signal: "SIGKILL" });
  });

  it("rejects with the output when the process exits before it is ready", async () => {
    await expect(spawnService(FAKE, { FAKE_MODE: "crash" })).rejects.toThrow(
      /exited before it was ready \(code 3[\s\S]*fatal: cannot start \(on purpose\)/,
    );
  });

  it("rejects and kills the process when no ready line comes in time", async () => {
    await expect(spawnService(FAKE, { FAKE_MODE: "silent" }, { timeoutMs: 500 })).rejects.toThrow(
      /printed no line matching \/listening\|ready\/i within 500 ms[\s\S]*starting;/,
    );
  });

  it("honours a custom ready pattern, even one with the g flag", async () => {
    const service = await spawnService(FAKE, { FAKE_GREETING: "ok" }, { readyPattern: /greeting=ok/g });
    started.push(service);
    expect(service.output()).not.toContain("Server listening");
  });
});
