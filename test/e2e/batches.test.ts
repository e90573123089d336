import { waitFor, type SpawnedService } from "@acebatch/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, startStack, type Stack } from "../support/stack.ts";

const T2A = "acestep-ai/ace-step/text-to-audio";

/** An Excel export in a semicolon locale: BOM, CRLF, quoted multi-line lyrics, a metadata column; rows 3 and 5 are bad. */
const EXCEL_CSV =
  "\uFEFFTags; DURATION ;Lyrics;Seed;Take\r\n" +
  'lo-fi, mellow;6.0;"[verse]\r\nfirst line\r\nsecond ""quoted"" line";-1;A\r\n' +
  "synthwave, 80s;5;[inst];7;B\r\n" +
  "ambient;6.5;;;C\r\n" +
  'jazz, "smoky";7;;12;D\r\n' +
  ";5;;;E\r\n" +
  "drum and bass;8,0;;;F\r\n" +
  "\r\n";

/** A minimal RFC 4180 reader for checking results files. */
function parseCsv(input: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  const endCell = () => {
    row.push(cell);
    cell = "";
  };
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (quoted) {
      if (ch === '"' && input[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") endCell();
    else if (ch === "\n") {
      endCell();
      rows.push(row);
      row = [];
    } else if (ch !== "\r") cell += ch;
  }
  if (cell !== "" || row.length > 0) {
    endCell();
    rows.push(row);
  }
  return rows;
}

let stack: Stack;
let worker: SpawnedService | null = null;
beforeAll(async () => {
  stack = await startStack({ label: "batches", workerEnv: { PROVIDER_RPS: "0" } });
});
afterAll(async () => {
  await stack?.close();
});

async function upload(query: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.baseUrl}/v1/batches?${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "text/csv", ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function text(path: string) {
  const res = await fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  expect(res.status).toBe(200);
  return res;
}

function waitForBatch(id: string, statuses: string[], timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const { body } = await stack.api("GET", `/v1/batches/${id}`);
      return statuses.includes(body.status) ? body : undefined;
    },
    { timeoutMs, intervalMs: 100, message: `batch ${id} did not reach ${statuses.join("/")}` },
  );
}

async function ensureWorker(env: Record<string, string> = {}) {
  worker ??= await stack.startWorker(env);
}
async function stopWorker() {
  if (worker) await stack.stopWorker(worker);
  worker = null;
}

describe("a spreadsheet of drafts end to end", () => {
  it("names exactly the two bad rows in the quote, runs the rest with on_invalid=skip, and carries the metadata column into the results", async () => {
    const quote = await upload(`model=${T2A}&dry_run=true`, EXCEL_CSV);
    expect(quote.status).toBe(400);
    expect(quote.body.errors.map((e: any) => [e.row, e.column])).toEqual([
      [3, "duration"],
      [5, "tags"],
    ]);
    expect(quote.body).toMatchObject({ accepted: 4, rejected: 2, estimated_cost_usd: 0.0052 });
    expect((await stack.simStats()).submits).toBe(0);

    const created = await upload(`model=${T2A}&on_invalid=skip&name=excel`, EXCEL_CSV);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ accepted: 4, rejected: 2, status: "in_progress" });
    await ensureWorker();
    const done = await waitForBatch(created.body.id, ["completed"]);
    expect(done).toMatchObject({ counts: { completed: 4, failed: 0 }, finished_at: expect.any(String), eta_seconds: null });

    const table = parseCsv(await (await text(`/v1/batches/${done.id}/results?format=csv`)).text());
    const header = table[0]!;
    const rowsOut = table.slice(1).map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i]])));
    expect(header).toContain("Take");
    // One line per row: the two skipped rows too, saying why.
    expect(rowsOut.map((r) => [r.row, r.status, r.Take, r.error_code])).toEqual([
      ["1", "completed", "A", ""],
      ["2", "completed", "B", ""],
      ["3", "rejected", "C", "invalid_row"],
      ["4", "completed", "D", ""],
      ["5", "rejected", "E", "invalid_row"],
      ["6", "completed", "F", ""],
    ]);
    expect(rowsOut[2]!.error_message).toMatch(/^duration: /);
    const completed = rowsOut.filter((r) => r.status === "completed");
    expect(completed[0]!.lyrics).toBe('[verse]\nfirst line\nsecond "quoted" line');
    expect(completed.map((r) => r.cost_usd)).toEqual(["0.0012", "0.001", "0.0014", "0.0016"]);
    // The audio links in a results sheet work without an API key (signed, expiring).
    const audio = await fetch(completed[3]!.audio_url!);
    expect(audio.status).toBe(200);
    expect(audio.headers.get("content-type")).toBe("audio/wav");

    const zip = Buffer.from(await (await text(`/v1/batches/${done.id}/archive`)).arrayBuffer());
    expect(zip.subarray(0, 2).toString()).toBe("PK");
    for (const r of completed) expect(zip.includes(Buffer.from(`${r.row}-${r.job_id}.wav`))).toBe(true);
    expect(zip.includes(Buffer.from("results.csv"))).toBe(true);
  }, 60_000);

  it("retries exactly the failed rows as a new linked batch", async () => {
    await ensureWorker();
    await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ reject_tags_containing: "BROKEN" }) });
    const rows = ["house", "BROKEN techno", "ambient", "jazz", "BROKEN polka", "dub"];
    const created = await upload(`model=${T2A}`, `tags,duration,take\n${rows.map((tags, i) => `${tags},5,t${i + 1}`).join("\n")}\n`);
    expect(created.status).toBe(201);
    const first = await waitForBatch(created.body.id, ["completed"]);
    expect(first.counts).toMatchObject({ completed: 4, failed: 2 });

    await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ reject_tags_containing: null }) });
    const retry = await stack.api("POST", `/v1/batches/${created.body.id}/retry`);
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ retry_of: created.body.id, accepted: 2 });
    const second = await waitForBatch(retry.body.id, ["completed"]);
    expect(second.counts).toMatchObject({ completed: 2, failed: 0 });
    const results = (await (await text(`/v1/batches/${retry.body.id}/results?format=jsonl`)).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(results.map((r) => [r.row, r.input.tags, r.metadata.take, r.status])).toEqual([
      [2, "BROKEN techno", "t2", "completed"],
      [5, "BROKEN polka", "t5", "completed"],
    ]);
  }, 60_000);

  it("cancels every queued row at once", async () => {
    await stopWorker();
    const created = await upload(`model=${T2A}`, `tags,duration\n${Array.from({ length: 40 }, (_, i) => `draft ${i},5`).join("\n")}\n`);
    expect(created.status).toBe(201);
    const cancelled = await stack.api("POST", `/v1/batches/${created.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: "cancelled", counts: { cancelled: 40, queued: 0 } });
    const submitsBefore = (await stack.simStats()).submits;
    await ensureWorker();
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await stack.simStats()).submits).toBe(submitsBefore);
  }, 60_000);
});

describe("priority", () => {
  it("a single REST job submitted after a 2,000-row batch completes before most of the batch", async () => {
    await stopWorker();
    // 5 s drafts rendered at 10× speed by a worker running 4 at a time: the batch takes minutes.
    await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ speed: 10 }) });
    const batch = await upload(`model=${T2A}`, `tags,duration\n${Array.from({ length: 2_000 }, (_, i) => `bulk ${i},5`).join("\n")}\n`);
    expect(batch.status).toBe(201);
    const single = await stack.api("POST", "/v1/jobs", { model: T2A, input: { tags: "urgent jingle", duration: 5 } });
    expect(single.status).toBe(202);

    await ensureWorker({ WORKER_CONCURRENCY: "4" });
    await stack.waitForJob(single.body.id, ["completed"], 30_000);
    const progress = (await stack.api("GET", `/v1/batches/${batch.body.id}`)).body;
    expect(progress.counts.completed).toBeLessThan(100);
    expect(progress.counts.queued).toBeGreaterThan(1_800);

    const cancelled = await stack.api("POST", `/v1/batches/${batch.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    await waitForBatch(batch.body.id, ["cancelled"]);
    await stopWorker();
  }, 90_000);
});
