import { createSourceLengthProbe } from "@acebatch/pricing";
import { batchJobId } from "@acebatch/queue";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { makeBatchTestApp, type BatchTestApp } from "./batch-test-support.ts";
import { startSourceServer, type SourceServer } from "./test-source-server.ts";

const INPAINT = "acestep-ai/ace-step/audio-inpaint";

let src: SourceServer;
let t: BatchTestApp;
beforeEach(async () => {
  src = await startSourceServer();
  // The real SSRF-guarded probe, with the loopback host allowed as PUBLIC_BASE_URL's host is in production.
  const probe = createSourceLengthProbe({ allowPrivateHosts: ["127.0.0.1"], timeoutMs: 5_000 });
  t = await makeBatchTestApp({ label: "batch-sources", redisUrl: inject("redisUrl"), probeSourceSeconds: src.probeOverHttp(probe) });
});
afterEach(async () => {
  await t?.close();
  await src?.close();
});

const rows = (paths: string[]) => `audio,tags,take\n${paths.map((p, i) => `${p.startsWith("https://") ? p : src.url(p)},piano,t${i + 1}`).join("\n")}\n`;

describe("remote source audio of batch rows: one policy with POST /v1/jobs", () => {
  it("accepts rows whose source this host cannot fetch now (403, 429, 503, a dropped connection) unpriced, as POST /v1/jobs does", async () => {
    const res = await t.upload(`/v1/batches?model=${INPAINT}`, rows(["/status/403", "/status/429", "/status/503", "/drop", "/wav/60"]));
    expect(res.statusCode, res.body).toBe(201);
    const batch = res.json();
    // The measured 60 s source is priced at $0.0002/s; the other four are left to the worker.
    expect(batch).toMatchObject({ accepted: 5, rejected: 0, unpriced_rows: 4, estimated_cost_usd: 0.012, errors: [] });
    expect(batch.warnings).toEqual([expect.stringMatching(/^4 rows have a remote source that was not measured \(row 1: source URL answered HTTP 403\)/)]);
    const estimates = await Promise.all([1, 2, 5].map(async (row) => (await t.get(`/v1/jobs/${batchJobId(batch.id, row)}`)).json().estimated_cost_usd));
    expect(estimates).toEqual([null, null, 0.012]);

    const single = await t.post("/v1/jobs", { model: INPAINT, input: { audio: src.url("/status/403"), tags: "piano" } });
    expect(single.statusCode).toBe(202);
    expect(single.json().estimated_cost_usd).toBeNull();
  });

  it("rejects rows whose source is unusable, naming why: a 404, not audio, over 60 minutes, a host the SSRF guard refuses", async () => {
    const upload = rows(["/status/404", "/text", "/wav/3660", "https://10.0.0.1/take.wav", "/wav/60"]);
    const quote = await t.upload(`/v1/batches?model=${INPAINT}&dry_run=true`, upload);
    expect(quote.statusCode).toBe(400);
    expect(quote.json()).toMatchObject({ error: { code: "invalid_rows" }, accepted: 1, rejected: 4 });
    expect(quote.json().errors).toEqual([
      { row: 1, column: "audio", message: "cannot use this source audio: source URL answered HTTP 404" },
      { row: 2, column: "audio", message: expect.stringMatching(/^cannot use this source audio: source is not audio/) },
      { row: 3, column: "audio", message: "cannot use this source audio: the source audio is 61.0 minutes long; the provider takes at most 60 minutes" },
      { row: 4, column: "audio", message: expect.stringMatching(/^cannot use this source audio: .*10\.0\.0\.1.*refused/) },
    ]);

    // Skipped, they are still lines of the results, saying why.
    const created = await t.upload(`/v1/batches?model=${INPAINT}&on_invalid=skip`, upload);
    expect(created.statusCode).toBe(201);
    const results = (await t.get(`/v1/batches/${created.json().id}/results?format=jsonl`)).body.trim().split("\n").map((l) => JSON.parse(l));
    expect(results.map((r) => [r.row, r.status, r.metadata.take])).toEqual([
      [1, "rejected", "t1"],
      [2, "rejected", "t2"],
      [3, "rejected", "t3"],
      [4, "rejected", "t4"],
      [5, "queued", "t5"],
    ]);
    expect(results[0]).toMatchObject({ job_id: null, input: { audio: src.url("/status/404") }, error_code: "invalid_row", error_message: "audio: cannot use this source audio: source URL answered HTTP 404" });
  });
});

describe("SOURCE_ALLOW_PRIVATE_HOSTS", () => {
  it("lets the API measure sources on the private hosts the worker may read, and still refuses others", async () => {
    await t.close();
    // No probe override: the app's own probe, with PUBLIC_BASE_URL on another host than the sources.
    t = await makeBatchTestApp({ label: "batch-sources-allow", redisUrl: inject("redisUrl"), config: { publicBaseUrl: "http://api.example:8080", sourceAllowPrivateHosts: ["127.0.0.1"] } });
    // This server speaks plain http, so the https handshake fails: a transient failure, not a refusal.
    const allowed = await t.upload(`/v1/batches?model=${INPAINT}&dry_run=true`, rows(["/wav/60"]));
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect(allowed.json()).toMatchObject({ accepted: 1, rejected: 0, unpriced_rows: 1 });
    expect(allowed.json().warnings[0]).toMatch(/could not fetch source audio from 127\.0\.0\.1/);

    const other = await t.upload(`/v1/batches?model=${INPAINT}&dry_run=true`, rows(["https://10.0.0.1/take.wav"]));
    expect(other.statusCode).toBe(400);
    expect(other.json().errors[0].message).toMatch(/10\.0\.0\.1.*refused/);
  });
});
