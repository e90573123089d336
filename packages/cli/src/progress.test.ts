import { describe, expect, it } from "vitest";
import { Output } from "./output.ts";
import { batchProgressLine, createProgress, EtaEstimator } from "./progress.ts";

function capture(isTTY: boolean, json = false) {
  let stderr = "";
  const out = new Output({
    stdout: { write: () => {} },
    stderr: { write: (s: string) => (stderr += s), columns: 40 },
    json,
    isTTY,
    verbose: false,
    secrets: [],
  });
  return { out, text: () => stderr };
}

describe("progress display", () => {
  it("redraws one line in place on a terminal, truncated to its width", () => {
    const c = capture(true);
    const p = createProgress(c.out);
    p.update("queued", "a");
    p.update("in_progress with a very long description that does not fit in forty columns", "b");
    p.finish();
    expect(c.text()).toBe(`\r\x1b[2Kqueued\r\x1b[2Kin_progress with a very long descripti…\n`);
  });

  it("prints one line per state change elsewhere", () => {
    const c = capture(false);
    const p = createProgress(c.out);
    for (const [line, key] of [["queued 0s", "q"], ["queued 1s", "q"], ["running 2s", "r"], ["done 3s", "d"]] as const) p.update(line, key);
    p.finish();
    expect(c.text()).toBe("queued 0s\nrunning 2s\ndone 3s\n");
  });

  it("is silent under --json", () => {
    const c = capture(true, true);
    const p = createProgress(c.out);
    p.update("queued", "q");
    p.finish();
    expect(c.text()).toBe("");
  });

  it("shows a batch's bar, done/total, failures, spend and ETA", () => {
    const { line } = batchProgressLine(
      { id: "bat_1", status: "running", accepted: 10, counts: { completed: 4, failed: 1, in_progress: 2, queued: 3 }, spent_usd: 0.004, estimated_cost_usd: 0.01 },
      65,
    );
    expect(line).toBe("bat_1  running  [##########..........] 5/10 50%  1 failed  $0.0040 of ~$0.0100  ETA 1m05s");
  });

  it("estimates the time left from the observed rate", () => {
    const eta = new EtaEstimator();
    expect(eta.observe(0, 10, 0)).toBeUndefined();
    expect(eta.observe(2, 10, 4_000)).toBe(16);
  });
});
