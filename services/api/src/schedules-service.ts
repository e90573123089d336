import { issuesToDetails, isJobReference, type ErrorDetail } from "@acebatch/contracts";
import type { PriceTable } from "@acebatch/pricing";
import type { JobStore, Queues } from "@acebatch/queue";
import {
  applyPatch,
  createScheduleQueue,
  createScheduleStore,
  fireOccurrence,
  scheduleDefinitionSchema,
  syncScheduler,
  toAuditRowView,
  toScheduleView,
  type ScheduleRecord,
  type SchedulePatch,
  type ScheduleSpec,
} from "@acebatch/schedules";
import { newId } from "@acebatch/contracts";
import type { ConnectionOptions } from "bullmq";
import type { Redis } from "ioredis";
import { invalidInput, notFound } from "./errors.ts";

export interface SchedulesServiceDeps {
  /** A producer-role connection (fails fast while Redis is down). */
  redis: Redis;
  prefix: string;
  jobs: JobStore;
  queues: Queues;
  prices: PriceTable;
  now?: () => Date;
}

/** Audit rows shown per schedule in listings (the full history is on GET /v1/schedules/{id}). */
const LIST_HISTORY_ROWS = 5;
const MAX_WRITE_RETRIES = 10;

function timingChanged(a: ScheduleSpec, b: ScheduleSpec): boolean {
  return a.cron !== b.cron || a.every_seconds !== b.every_seconds || a.timezone !== b.timezone || a.enabled !== b.enabled;
}

/**
 * Schedules: the domain behind /v1/schedules. A schedule is a record (definition + counters +
 * history) and a BullMQ job scheduler on the `schedules` queue that fires its occurrences; this
 * service writes the record first and then brings the scheduler in step (the workers' reconciler
 * repairs it if this process dies in between).
 */
export function createSchedulesService(deps: SchedulesServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const schedules = createScheduleStore({ redis: deps.redis, prefix: deps.prefix });
  // The generate producer's connection retries through blips; the job scheduler calls go through it.
  const queue = createScheduleQueue(deps.queues.generate.opts.connection as ConnectionOptions, deps.prefix);
  const occurrenceDeps = { schedules, jobs: deps.jobs, queues: deps.queues, prices: deps.prices };

  async function checkSourceJob(spec: ScheduleSpec): Promise<void> {
    const audio = spec.input.audio;
    if (typeof audio !== "string" || !isJobReference(audio)) return;
    const source = await deps.jobs.get(audio);
    if (!source) throw invalidInput([{ path: "input.audio", message: `job ${audio} does not exist` }]);
    if (source.status !== "completed" || !source.output) {
      throw invalidInput([{ path: "input.audio", message: `job ${audio} has no audio yet (status ${source.status}); wait until it is completed` }]);
    }
  }

  async function view(rec: ScheduleRecord, historyRows?: number) {
    const history = await schedules.history(rec.id, historyRows);
    const nowMs = now().getTime();
    const period = toScheduleView(rec, [], nowMs).period;
    const spent = period ? await schedules.periodSpend(rec.id, period.key) : 0;
    return toScheduleView(rec, history, nowMs, spent);
  }

  async function load(id: string): Promise<ScheduleRecord> {
    const rec = await schedules.get(id);
    if (!rec) throw notFound("schedule", id);
    return rec;
  }

  /** Bring the job scheduler in step with the record, again if a PATCH elsewhere moved it meanwhile. */
  async function sync(id: string): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const rec = await schedules.get(id);
      await syncScheduler(queue, id, rec, now().getTime());
      const after = await schedules.get(id);
      if (!rec || !after || after.version === rec.version) return;
    }
  }

  async function create(spec: ScheduleSpec) {
    await checkSourceJob(spec);
    const at = now();
    const id = newId("schedule", at.getTime());
    // An interval's first run is one interval from now, not at once.
    const anchor = spec.every_seconds !== null ? at.getTime() + spec.every_seconds * 1_000 : at.getTime();
    await schedules.create({ id, spec, anchor_ms: anchor, created_at: at.toISOString() });
    await sync(id);
    return view(await load(id));
  }

  async function get(id: string) {
    return view(await load(id));
  }

  async function list(query: { limit: number; cursor?: string }) {
    const { records, nextCursor } = await schedules.list(query);
    return { data: await Promise.all(records.map((rec) => view(rec, LIST_HISTORY_ROWS))), next_cursor: nextCursor };
  }

  /** Apply a PATCH (merge, re-validate the whole definition), then re-sync the scheduler if its timing changed. */
  async function patch(id: string, change: SchedulePatch) {
    for (let attempt = 0; attempt < MAX_WRITE_RETRIES; attempt++) {
      const rec = await load(id);
      const parsed = scheduleDefinitionSchema.safeParse(applyPatch(rec.spec, change));
      if (!parsed.success) throw invalidInput(issuesToDetails(parsed.error.issues));
      const spec = parsed.data;
      if (spec.input.audio !== rec.spec.input.audio) await checkSourceJob(spec);
      const nowMs = now().getTime();
      const restartsInterval =
        spec.every_seconds !== null && (spec.every_seconds !== rec.spec.every_seconds || (spec.enabled && !rec.spec.enabled));
      const rotationChanged = JSON.stringify(spec.tags_rotation) !== JSON.stringify(rec.spec.tags_rotation);
      const outcome = await schedules.update(id, rec.version, {
        spec,
        updated_at: new Date(nowMs).toISOString(),
        // A new or resumed interval starts one interval from now; a new rotation from its first entry.
        anchor_ms: restartsInterval ? nowMs + spec.every_seconds! * 1_000 : undefined,
        rotation_index: rotationChanged ? 0 : undefined,
      });
      if (outcome === "missing") throw notFound("schedule", id);
      if (outcome === "conflict") continue;
      if (timingChanged(rec.spec, spec) || restartsInterval) await sync(id);
      return view(await load(id));
    }
    throw new Error(`schedule ${id} kept changing under this PATCH; retry it`);
  }

  /**
   * Answer a PATCH whose body failed its own schema. Applied to the stored definition, it can show
   * problems that schema cannot see (the model's own input fields, timing, seeds, caps): those are
   * added, so one 400 names every bad field. `details` are the body schema's own findings.
   */
  async function rejectPatch(id: string, body: unknown, details: readonly ErrorDetail[]): Promise<never> {
    const rec = typeof body === "object" && body !== null && !Array.isArray(body) ? await schedules.get(id) : null;
    if (!rec) throw invalidInput([...details]);
    const merged = scheduleDefinitionSchema.safeParse(applyPatch(rec.spec, body as SchedulePatch));
    // A field the body schema already named is not named again (nor anything inside it).
    const named = (path: string) => details.some((d) => path === d.path || path.startsWith(`${d.path}.`));
    const more = merged.success ? [] : issuesToDetails(merged.error.issues).filter((d) => !named(d.path));
    throw invalidInput([...details, ...more]);
  }

  async function remove(id: string) {
    if (!(await schedules.remove(id))) throw notFound("schedule", id);
    // Should this fail, the worker that takes the next occurrence removes the scheduler itself.
    await queue.removeJobScheduler(id);
    return { id, deleted: true };
  }

  /** Fire one occurrence now: same template, same rotation, same overlap and budget rules. */
  async function runNow(id: string) {
    const at = now().getTime();
    const result = await fireOccurrence(occurrenceDeps, { scheduleId: id, scheduledMs: at, trigger: "manual", nowMs: at });
    if (result.status === "missing") throw notFound("schedule", id);
    return { schedule_id: id, ...toAuditRowView(result.row) };
  }

  return {
    create,
    get,
    list,
    patch,
    rejectPatch,
    remove,
    runNow,
    async close() {
      await queue.close();
    },
  };
}

export type SchedulesService = ReturnType<typeof createSchedulesService>;
