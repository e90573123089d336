import { extname } from "node:path";
import { bool, choice, num, str, type CommandContext, type CommandSpec } from "../command.ts";
import { CliError, EXIT } from "../exit-codes.ts";
import { readArgFile, writeFileAtomic } from "../files.ts";
import { requireModel } from "../models.ts";
import { formatUsd } from "../output.ts";
import { batchDetails, batchProgress, type BatchView } from "../views.ts";
import { waitForBatch } from "../wait.ts";

const batchPath = (id: string) => `/v1/batches/${encodeURIComponent(id)}`;

/** Upload content type from the file name, else from the first character (`{` is NDJSON). */
export function batchContentType(file: string, content: string): string {
  const ext = extname(file).toLowerCase();
  if (ext === ".csv") return "text/csv";
  if (ext === ".ndjson" || ext === ".jsonl") return "application/x-ndjson";
  return content.trimStart().startsWith("{") ? "application/x-ndjson" : "text/csv";
}

/** After a batch ends: print it; exit 0 when every row completed, 1 when some failed or were cancelled. */
async function finishWaitedBatch(ctx: CommandContext, batch: BatchView): Promise<number> {
  ctx.out.result(batch, () => batchDetails(batch));
  const p = batchProgress(batch);
  if (p.failed > 0 || p.cancelled > 0 || batch.status === "failed" || batch.status === "cancelled") {
    throw new CliError(EXIT.failure, `batch ${batch.id} ended ${batch.status}: ${p.completed} completed, ${p.failed} failed, ${p.cancelled} cancelled`, {
      code: `batch_${batch.status}`,
      hints: [`see which rows and why: acebatch batch results ${batch.id}`, `run the failed and cancelled rows again: acebatch batch retry ${batch.id}`],
    });
  }
  return EXIT.ok;
}

const waitOption = { wait: { type: "boolean", description: "wait until the batch ends, with a progress bar; exit 1 if any row failed" } } as const;

const createBatch: CommandSpec = {
  path: ["batch", "create"],
  summary: "upload a CSV (or NDJSON) of rows as a batch of jobs",
  positionals: ["file"],
  options: {
    model: { type: "string", value: "M", description: "model for rows without a model column (id or alias)" },
    "dry-run": { type: "boolean", description: "validate and price the rows; enqueue nothing" },
    "on-invalid": { type: "string", value: "reject|skip", description: "reject the whole file (default) or skip invalid rows" },
    name: { type: "string", value: "N", description: "a name for the batch" },
    "max-cost-usd": { type: "string", value: "X", description: "refuse the batch if its estimated cost is above X dollars" },
    "webhook-url": { type: "string", value: "URL", description: "URL notified (batch.completed) when every row has finished" },
    ...waitOption,
  },
  notes: [
    "CSV columns: tags (required), lyrics, duration, seed, model, inpaint/outpaint fields; other columns are kept as row metadata.",
    "NDJSON (.ndjson/.jsonl): one {\"model\", \"input\"} object per line.",
  ],
  async run(ctx, { values, args }) {
    const file = args[0]!;
    const modelFlag = str(values, "model");
    const query = {
      model: modelFlag === undefined ? undefined : requireModel(modelFlag),
      dry_run: bool(values, "dry-run") ? "true" : undefined,
      on_invalid: choice(values, "on-invalid", ["reject", "skip"] as const),
      name: str(values, "name"),
      max_cost_usd: num(values, "max-cost-usd", { above: 0 }),
      webhook_url: str(values, "webhook-url"),
    };
    const content = (await readArgFile(file, "batch")).toString("utf8");
    const upload = (q: Record<string, string | number | undefined>) =>
      ctx.api.json<BatchView>("POST", "/v1/batches", { query: q, body: content, contentType: batchContentType(file, content) });
    if (query.max_cost_usd !== undefined && !query.dry_run) {
      // Price it first (a dry run enqueues nothing), so the cap holds whatever the server supports.
      const quote = (await upload({ ...query, dry_run: "true" })).data;
      if ((quote.estimated_cost_usd ?? 0) > query.max_cost_usd) {
        throw new CliError(EXIT.dataErr, `the batch is estimated at ${formatUsd(quote.estimated_cost_usd)}, above --max-cost-usd ${formatUsd(query.max_cost_usd)}; nothing was queued`, {
          code: "over_max_cost",
        });
      }
    }
    const { data } = await upload(query);
    if (bool(values, "dry-run")) {
      ctx.out.result(data, () => [
        `dry run: ${data.total ?? "?"} rows, ${data.accepted ?? "?"} accepted, ${data.rejected ?? 0} rejected; estimated ${formatUsd(data.estimated_cost_usd)}; nothing was queued`,
        ...(data.errors ?? []).map((e) => `  row ${e.row ?? "?"}${e.column ? ` / ${e.column}` : ""}: ${e.message ?? "invalid"}`),
      ]);
      return EXIT.ok;
    }
    if (!bool(values, "wait")) {
      ctx.out.result(data, () => batchDetails(data));
      return EXIT.ok;
    }
    ctx.out.info(`created ${data.id}: ${data.accepted ?? data.total ?? "?"} rows queued, estimated ${formatUsd(data.estimated_cost_usd)}`);
    for (const e of data.errors ?? []) ctx.out.info(`  skipped row ${e.row ?? "?"}${e.column ? ` / ${e.column}` : ""}: ${e.message ?? "invalid"}`);
    return finishWaitedBatch(ctx, await waitForBatch(ctx, data));
  },
};

const getBatch: CommandSpec = {
  path: ["batch", "get"],
  summary: "show a batch: counts per status, spend, estimate",
  positionals: ["id"],
  options: { ...waitOption },
  async run(ctx, { values, args }) {
    const { data } = await ctx.api.json<BatchView>("GET", batchPath(args[0]!));
    if (bool(values, "wait")) return finishWaitedBatch(ctx, await waitForBatch(ctx, data));
    ctx.out.result(data, () => batchDetails(data));
    return EXIT.ok;
  },
};

const batchResults: CommandSpec = {
  path: ["batch", "results"],
  summary: "one line per row: job, status, inputs, metadata, cost, audio URL, error",
  positionals: ["id"],
  options: {
    format: { type: "string", value: "csv|jsonl", description: "output format (default csv)" },
    output: { type: "string", value: "FILE", description: "write to FILE (atomically) instead of stdout" },
  },
  async run(ctx, { values, args }) {
    const format = choice(values, "format", ["csv", "jsonl"] as const) ?? "csv";
    const { data } = await ctx.api.text("GET", `${batchPath(args[0]!)}/results`, { query: { format } });
    const output = str(values, "output");
    if (output === undefined) {
      ctx.out.raw(data.endsWith("\n") || data === "" ? data : `${data}\n`);
      return EXIT.ok;
    }
    await writeFileAtomic(output, data);
    ctx.out.info(`wrote ${output}`);
    return EXIT.ok;
  },
};

const cancelBatch: CommandSpec = {
  path: ["batch", "cancel"],
  summary: "cancel every unfinished job of a batch",
  positionals: ["id"],
  options: {},
  async run(ctx, { args }) {
    const { data } = await ctx.api.json<BatchView>("POST", `${batchPath(args[0]!)}/cancel`);
    ctx.out.result(data, () => batchDetails(data));
    return EXIT.ok;
  },
};

const retryBatch: CommandSpec = {
  path: ["batch", "retry"],
  summary: "start a new batch with the failed and cancelled rows",
  positionals: ["id"],
  options: { ...waitOption },
  async run(ctx, { values, args }) {
    const { data } = await ctx.api.json<BatchView>("POST", `${batchPath(args[0]!)}/retry`);
    if (bool(values, "wait")) {
      ctx.out.info(`retrying as ${data.id}`);
      return finishWaitedBatch(ctx, await waitForBatch(ctx, data));
    }
    ctx.out.result(data, () => batchDetails(data));
    return EXIT.ok;
  },
};

export const batchCommands: CommandSpec[] = [createBatch, getBatch, batchResults, cancelBatch, retryBatch];
