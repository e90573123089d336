import { JOB_STATUSES } from "@acebatch/contracts";
import { bool, choice, num, str, type CommandSpec } from "../command.ts";
import { CliError, EXIT } from "../exit-codes.ts";
import { jobDetails, jobTable, type JobView } from "../views.ts";
import { waitForJob } from "../wait.ts";
import { finishWaitedJob, saveAudio } from "./submit.ts";

interface JobPage {
  data: JobView[];
  next_cursor: string | null;
}

const jobPath = (id: string) => `/v1/jobs/${encodeURIComponent(id)}`;
/** Page size for `--all` when `--limit` is not given. */
const ALL_PAGE_SIZE = 200;

const getJob: CommandSpec = {
  path: ["jobs", "get"],
  summary: "show one job",
  positionals: ["id"],
  options: {},
  async run(ctx, { args }) {
    const { data } = await ctx.api.json<JobView>("GET", jobPath(args[0]!));
    ctx.out.result(data, () => jobDetails(data));
    return EXIT.ok;
  },
};

const waitJob: CommandSpec = {
  path: ["jobs", "wait"],
  summary: "wait for a job to end (exit 1 if it failed or was cancelled)",
  positionals: ["id"],
  options: { "output-dir": { type: "string", value: "DIR", description: "save the audio as DIR/<job_id>.<ext>" } },
  async run(ctx, { values, args }) {
    const { data } = await ctx.api.json<JobView>("GET", jobPath(args[0]!));
    return finishWaitedJob(ctx, await waitForJob(ctx, data), str(values, "output-dir"));
  },
};

const listJobs: CommandSpec = {
  path: ["jobs", "list"],
  summary: "list jobs, newest first",
  positionals: [],
  options: {
    status: { type: "string", value: "S", description: `only jobs in this status (${JOB_STATUSES.join(", ")})` },
    batch: { type: "string", value: "B", description: "only jobs of this batch" },
    schedule: { type: "string", value: "S", description: "only jobs fired by this schedule" },
    limit: { type: "string", value: "N", description: "jobs per page, 1–500 (API default 50)" },
    all: { type: "boolean", description: "follow next_cursor through every page" },
  },
  notes: ["Under --json, --all prints one {\"data\": [...], \"next_cursor\": null} with every job."],
  async run(ctx, { values }) {
    const all = bool(values, "all");
    const limit = num(values, "limit", { min: 1, max: 500, integer: true }) ?? (all ? ALL_PAGE_SIZE : undefined);
    const query = {
      status: choice(values, "status", JOB_STATUSES),
      batch_id: str(values, "batch"),
      schedule_id: str(values, "schedule"),
      limit,
    };
    const jobs: JobView[] = [];
    let cursor: string | null = null;
    const seen = new Set<string>();
    do {
      const page: JobPage = (await ctx.api.json<JobPage>("GET", "/v1/jobs", { query: { ...query, cursor } })).data;
      jobs.push(...page.data);
      cursor = all ? page.next_cursor : null;
      if (!all) {
        ctx.out.result(page, () => [...jobTable(page.data), ...(page.next_cursor ? [`more: --all, or the API's cursor ${page.next_cursor}`] : [])]);
        return EXIT.ok;
      }
      // A cursor that repeats would loop forever; the API must move forward.
      if (cursor !== null && seen.has(cursor)) {
        throw new CliError(EXIT.failure, `the API returned the same next_cursor twice (${cursor}); stopping`, { code: "cursor_loop" });
      }
      if (cursor !== null) seen.add(cursor);
    } while (cursor !== null);
    ctx.out.result({ data: jobs, next_cursor: null }, () => jobTable(jobs));
    return EXIT.ok;
  },
};

const cancelJob: CommandSpec = {
  path: ["jobs", "cancel"],
  summary: "cancel a job (at once when queued; at the provider when it allows it)",
  positionals: ["id"],
  options: {},
  async run(ctx, { args }) {
    const { data } = await ctx.api.json<JobView>("POST", `${jobPath(args[0]!)}/cancel`);
    ctx.out.result(data, () =>
      data.status === "cancelled" ? `${data.id} cancelled` : `${data.id} ${data.status}: cancel requested${data.cancel_requested ? "" : " (too late: it already ended)"}`,
    );
    return EXIT.ok;
  },
};

const jobAudio: CommandSpec = {
  path: ["jobs", "audio"],
  summary: "download a completed job's audio",
  positionals: ["id"],
  options: { "output-dir": { type: "string", value: "DIR", description: "directory to save into (default: the current one)" } },
  notes: ["Saved as DIR/<job_id>.<ext>; an existing different file is kept and the new one gets a -1, -2, … suffix."],
  async run(ctx, { values, args }) {
    const { data } = await ctx.api.json<JobView>("GET", jobPath(args[0]!));
    if (data.status !== "completed" || !data.output) {
      throw new CliError(EXIT.failure, `job ${data.id} has no audio yet (status ${data.status})`, { code: "audio_not_ready" });
    }
    await saveAudio(ctx, data, str(values, "output-dir") ?? ".");
    // Under --json, stdout still carries the API's JSON (the job); the path goes to stderr.
    ctx.out.result(data, () => []);
    return EXIT.ok;
  },
};

export const jobCommands: CommandSpec[] = [getJob, listJobs, cancelJob, jobAudio, waitJob];
