import { createJobRequestSchema, issuesToDetails } from "@acebatch/contracts";
import { bool, str, type CommandContext, type CommandSpec } from "../command.ts";
import { downloadJobAudio } from "../download.ts";
import { CliError, EXIT } from "../exit-codes.ts";
import { readJsonObjectArg } from "../json-arg.ts";
import { describeAliases, requireModel } from "../models.ts";
import { jobDetails, jobErrorLine, jobSummaryLine, type JobView } from "../views.ts";
import { waitForJob } from "../wait.ts";

/**
 * Check a job submission with the API's own schema before sending it, so a typo costs no request
 * and every bad field is named at once (exit 65, like the API's 400).
 */
export function validateSubmission(body: Record<string, unknown>): void {
  const parsed = createJobRequestSchema.safeParse(body);
  if (parsed.success) return;
  const details = issuesToDetails(parsed.error.issues);
  throw new CliError(EXIT.dataErr, `invalid input for ${String(body.model)}: ${details.length} problem${details.length === 1 ? "" : "s"}`, {
    code: "invalid_input",
    details,
  });
}

/** After `--wait`: print the final job, save its audio, and exit 0, or 1 when it did not complete. */
export async function finishWaitedJob(ctx: CommandContext, job: JobView, outputDir: string | undefined): Promise<number> {
  if (job.status !== "completed") {
    ctx.out.result(job, () => jobDetails(job));
    throw new CliError(EXIT.failure, jobErrorLine(job), { code: job.error?.code ?? `job_${job.status}` });
  }
  ctx.out.result(job, () => jobSummaryLine(job));
  if (outputDir !== undefined) await saveAudio(ctx, job, outputDir);
  return EXIT.ok;
}

/** Download a completed job's audio into `dir` and say where it went. */
export async function saveAudio(ctx: CommandContext, job: Pick<JobView, "id" | "output">, dir: string): Promise<void> {
  const saved = await downloadJobAudio({
    api: ctx.api,
    jobId: job.id,
    dir,
    sha256: job.output?.sha256,
    timeoutMs: ctx.config.timeoutMs,
    signal: ctx.signal,
  });
  const note = saved.reused ? " (already there, identical)" : "";
  if (ctx.out.json) ctx.out.notice(`saved ${saved.path}${note}`);
  else ctx.out.line(`saved ${saved.path}${note}`);
}

export const submitCommand: CommandSpec = {
  path: ["submit"],
  summary: "submit one generation job",
  positionals: ["model"],
  options: {
    input: { type: "string", value: "JSON|@file.json", description: "the model's input fields as a JSON object (or @file, @- for stdin)" },
    wait: { type: "boolean", description: "wait until the job ends; exit 1 if it failed or was cancelled" },
    "output-dir": { type: "string", value: "DIR", description: "save the audio as DIR/<job_id>.<ext> (implies --wait)" },
    metadata: { type: "string", value: "JSON", description: "flat metadata object kept with the job" },
    "idempotency-key": { type: "string", value: "KEY", description: "resubmitting with the same key returns the original job" },
    "webhook-url": { type: "string", value: "URL", description: "URL notified when the job ends" },
  },
  notes: [
    `MODEL is a full model id or an alias: ${describeAliases()}.`,
    `Example: acebatch submit t2a --input '{"tags": "lo-fi, mellow", "duration": 30}' --output-dir ./out`,
  ],
  async run(ctx, { values, args }) {
    const model = requireModel(args[0]!);
    const rawInput = str(values, "input");
    if (rawInput === undefined) throw new CliError(EXIT.usage, "missing --input (a JSON object with the model's fields)", { code: "usage" });
    const input = await readJsonObjectArg(rawInput, "--input", ctx.stdin);
    const rawMetadata = str(values, "metadata");
    const body: Record<string, unknown> = { model, input };
    if (rawMetadata !== undefined) body.metadata = await readJsonObjectArg(rawMetadata, "--metadata", ctx.stdin);
    const webhook = str(values, "webhook-url");
    if (webhook !== undefined) body.webhook_url = webhook;
    validateSubmission(body);

    const key = str(values, "idempotency-key");
    const res = await ctx.api.json<JobView>("POST", "/v1/jobs", { json: body, headers: key ? { "idempotency-key": key } : {} });
    const job = res.data;
    const outputDir = str(values, "output-dir");
    if (res.status === 200) ctx.out.info(`job ${job.id} already existed for this Idempotency-Key; not submitted again`);
    if (!bool(values, "wait") && outputDir === undefined) {
      ctx.out.result(job, () => jobSummaryLine(job));
      return EXIT.ok;
    }
    ctx.out.info(`submitted ${job.id} (${job.model}); waiting…`);
    return finishWaitedJob(ctx, await waitForJob(ctx, job), outputDir);
  },
};
