import { describe, expect, it } from "vitest";
import { waitFor } from "./wait-for.ts";

describe("waitFor", () => {
  it("returns the first value that is not undefined, null or false", async () => {
    let calls = 0;
    const value = await waitFor(async () => {
      calls += 1;
      return calls >= 3 ? { calls } : undefined;
    }, { intervalMs: 5 });
    expect(value).toEqual({ calls: 3 });
  });

  it("accepts 0 and empty strings as values", async () => {
    expect(await waitFor(() => 0)).toBe(0);
    expect(await waitFor(() => "")).toBe("");
  });

  it("keeps polling through errors", async () => {
    let calls = 0;
    const value = await waitFor(() => {
      calls += 1;
      if (calls < 3) throw new Error("not yet");
      return "done";
    }, { intervalMs: 5 });
    expect(value).toBe("done");
  });

  it("times out with the message and the last error", async () => {
    const started = Date.now();
    await expect(
      waitFor(() => {
        throw new Error("connection refused");
      }, { timeoutMs: 200, intervalMs: 20, message: "the API to answer" }),
    ).rejects.toThrow(/Timed out after 200 ms waiting for the API to answer .*connection refused/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("times out quoting the last value", async () => {
    await expect(waitFor(() => false, { timeoutMs: 100, message: "the job" })).rejects.toThrow(/waiting for the job .*returned false/);
  });
});
