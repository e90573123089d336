import { issuesToDetails, parseModelInput } from "@acebatch/contracts";
import { bool, choice, num, requireStr, str, type CommandSpec } from "../command.ts";
import { CliError, EXIT, usageError } from "../exit-codes.ts";
import { readJsonObjectArg } from "../json-arg.ts";
import { requireModel } from "../models.ts";
import { scheduleDetails, scheduleTable, type ScheduleView } from "../views.ts";

const schedulePath = (id: string) => `/v1/schedules/${encodeURIComponent(id)}`;

/** `"a|b|c"` → `["a", "b", "c"]` (blank entries dropped). */
export function parseRotation(raw: string): string[] {
  return raw
    .split("|")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

const createSchedule: CommandSpec = {
  path: ["schedule", "create"],
  summary: "create a recurring generation (cron or fixed interval)",
  positionals: [],
  options: {
    name: { type: "string", value: "N", description: "schedule name (required)" },
    cron: { type: "string", value: "EXPR", description: 'cron expression, e.g. "0 9 * * 1-5"' },
    every: { type: "string", value: "SECONDS", description: "fire every SECONDS instead of a cron" },
    timezone: { type: "string", value: "TZ", description: "IANA time zone for the cron (e.g. Europe/Paris)" },
    model: { type: "string", value: "M", description: "model id or alias (required)" },
    input: { type: "string", value: "JSON|@file.json", description: "the model input of every run (required)" },
    "seed-strategy": { type: "string", value: "random|fixed|increment", description: "seed of each run" },
    "tags-rotation": { type: "string", value: '"a|b|c"', description: "tags for successive runs, in turn" },
    overlap: { type: "string", value: "skip|allow", description: "fire while the previous run is unfinished?" },
    disabled: { type: "boolean", description: "create it paused (enabled: false)" },
    "webhook-url": { type: "string", value: "URL", description: "URL notified as runs end" },
  },
  notes: [`Example: acebatch schedule create --name jingle --every 3600 --model t2a --input '{"tags": "jingle", "duration": 10}'`],
  async run(ctx, { values }) {
    const name = requireStr(values, "name");
    const cron = str(values, "cron");
    const every = num(values, "every", { min: 1, integer: true });
    if ((cron === undefined) === (every === undefined)) throw usageError("give exactly one of --cron EXPR or --every SECONDS");
    const model = requireModel(requireStr(values, "model"));
    const input = await readJsonObjectArg(requireStr(values, "input"), "--input", ctx.stdin);
    const rotationRaw = str(values, "tags-rotation");
    const rotation = rotationRaw === undefined ? undefined : parseRotation(rotationRaw);
    if (rotation !== undefined && rotation.length === 0) throw usageError('--tags-rotation needs at least one entry, e.g. "lo-fi|jazz|ambient"');
    // With a rotation each run takes its tags from it, so `input.tags` may be left out.
    const checked = parseModelInput(model, rotation && input.tags === undefined ? { ...input, tags: rotation[0] } : input);
    if (!checked.success) {
      throw new CliError(EXIT.dataErr, `invalid input for ${model}`, { code: "invalid_input", details: issuesToDetails(checked.error.issues, "input") });
    }
    const body: Record<string, unknown> = {
      name,
      ...(cron !== undefined ? { cron } : { every_seconds: every }),
      timezone: str(values, "timezone"),
      model,
      input,
      seed_strategy: choice(values, "seed-strategy", ["random", "fixed", "increment"] as const),
      tags_rotation: rotation,
      overlap: choice(values, "overlap", ["skip", "allow"] as const),
      enabled: !bool(values, "disabled"),
      webhook_url: str(values, "webhook-url"),
    };
    for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
    const { data } = await ctx.api.json<ScheduleView>("POST", "/v1/schedules", { json: body });
    ctx.out.result(data, () => scheduleDetails(data));
    return EXIT.ok;
  },
};

const listSchedules: CommandSpec = {
  path: ["schedule", "list"],
  summary: "list schedules with their next run",
  positionals: [],
  options: {},
  async run(ctx) {
    const { data } = await ctx.api.json<{ data: ScheduleView[] } | ScheduleView[]>("GET", "/v1/schedules");
    const schedules = Array.isArray(data) ? data : (data?.data ?? []);
    ctx.out.result(data, () => scheduleTable(schedules));
    return EXIT.ok;
  },
};

const getSchedule: CommandSpec = {
  path: ["schedule", "get"],
  summary: "show a schedule with its next 5 and last runs",
  positionals: ["id"],
  options: {},
  async run(ctx, { args }) {
    const { data } = await ctx.api.json<ScheduleView>("GET", schedulePath(args[0]!));
    ctx.out.result(data, () => scheduleDetails(data));
    return EXIT.ok;
  },
};

const deleteSchedule: CommandSpec = {
  path: ["schedule", "delete"],
  summary: "delete a schedule (jobs it already fired are kept)",
  positionals: ["id"],
  options: {},
  async run(ctx, { args }) {
    const { data } = await ctx.api.json("DELETE", schedulePath(args[0]!));
    ctx.out.result(data, () => `deleted ${args[0]}`);
    return EXIT.ok;
  },
};

const runSchedule: CommandSpec = {
  path: ["schedule", "run"],
  summary: "fire a schedule now",
  positionals: ["id"],
  options: {},
  async run(ctx, { args }) {
    const { data } = await ctx.api.json<{ id?: string; job_id?: string; status?: string }>("POST", `${schedulePath(args[0]!)}/run`);
    ctx.out.result(data, () => `fired ${args[0]}${data?.id ?? data?.job_id ? `: ${data?.id ?? data?.job_id}` : ""}`);
    return EXIT.ok;
  },
};

export const scheduleCommands: CommandSpec[] = [createSchedule, listSchedules, getSchedule, deleteSchedule, runSchedule];
