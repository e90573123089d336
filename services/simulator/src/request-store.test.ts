import { describe, expect, it } from "vitest";

import { createRequestStore } from "./request-store.ts";
import { DEFAULT_SIM_CONFIG } from "./sim-config.ts";
import { makeSimulator } from "./test-support.ts";

describe("request store at scale", () => {
  it("runs 20 000 requests through 100 slots with exact timing and no timer per request", async () => {
    const { state, clock } = makeSimulator({ config: { max_concurrent: 100, speed: 10 } });
    const ids: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      ids.push(state.submit({ model: "acestep-ai/ace-step/text-to-audio", input: { tags: "x", duration: 10, seed: i }, ownerKey: null }).id);
      if (i === 150) expect(state.store.queuePosition(state.store.get(ids[i]!)!.request)).toBe(50);
    }
    expect(state.stats().requests_by_status).toMatchObject({ in_progress: 100, in_queue: 19_900 });
    // 200 waves of 1 s each.
    clock.advance(199_999);
    expect(state.stats().requests_by_status).toMatchObject({ completed: 19_900, in_progress: 100 });
    clock.advance(1);
    const stats = state.stats();
    expect(stats).toMatchObject({ peak_concurrent: 100, billed_seconds: 200_000, requests_by_status: { completed: 20_000 } });
    const last = state.store.get(ids.at(-1)!)!.request;
    expect(last.finishedAt! - last.createdAt).toBe(200_000);
  });
});

describe("retention", () => {
  const setup = (patch: Partial<typeof DEFAULT_SIM_CONFIG>) => {
    const config = { ...DEFAULT_SIM_CONFIG, ...patch };
    const store = createRequestStore({ now: () => 0, config: () => config, maxRetained: 100 });
    const submit = () => store.submit({ model: "acestep-ai/ace-step/text-to-audio", input: { tags: "x", duration: 5, seed: 1 }, ownerKey: null, willFail: false });
    return { store, submit };
  };

  it("forgets the oldest finished requests beyond maxRetained", () => {
    const { store, submit } = setup({ speed: 0 });
    const first = submit();
    const rest = Array.from({ length: 149 }, submit);
    expect(store.get(first.id)).toBeUndefined();
    expect(store.get(rest.at(-1)!.id)?.request.status).toBe("completed");
    expect([...store.all()].length).toBeLessThanOrEqual(100);
    expect(store.counts().completed).toBe(150);
  });

  it("never forgets unfinished requests", () => {
    const { store, submit } = setup({ speed: 1, max_concurrent: 1 });
    const all = Array.from({ length: 150 }, submit);
    expect(all.every((r) => store.get(r.id) !== undefined)).toBe(true);
  });
});
