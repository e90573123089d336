import { randomUUID } from "node:crypto";
import { QUEUE_NAMES, QUEUE_STREAMS, scheduleOccurrenceJobOptions, type ScheduleOccurrencePayload } from "@acebatch/queue";
import { Queue, type ConnectionOptions, type RepeatOptions } from "bullmq";
import type { Redis } from "ioredis";
import { nextRunTimes, scheduleRepeatStrategy } from "./next-runs.ts";
import { timingOf } from "./occurrence.ts";
import type { ScheduleRecord, ScheduleStore } from "./schedule-store.ts";

export const SCHEDULE_JOB_NAME = "schedule-occurrence";

// BullMQ types a scheduler id as the job name type, so the name type is plain string here.
export type ScheduleQueue = Queue<ScheduleOccurrencePayload, unknown, string>;

/**
 * The producer side of the schedules queue. Every Queue and Worker of this queue must carry our
 * repeat strategy, or BullMQ would compute cron runs with its own DST rules.
 */
export function createScheduleQueue(connection: ConnectionOptions, prefix: string): ScheduleQueue {
  return new Queue<ScheduleOccurrencePayload, unknown, string>(QUEUE_NAMES.schedules, {
    connection,
    prefix,
    streams: QUEUE_STREAMS,
    settings: { repeatStrategy: scheduleRepeatStrategy },
  });
}

/** BullMQ repeat options for a schedule. An interval starts at its next grid point, never at once. */
export function repeatOptionsOf(rec: ScheduleRecord, nowMs: number): RepeatOptions {
  const { spec } = rec;
  if (spec.cron !== null) return { pattern: spec.cron, tz: spec.timezone };
  const [next] = nextRunTimes(timingOf(spec, rec.anchor_ms), nowMs, 1);
  return { every: spec.every_seconds! * 1_000, startDate: next! };
}

/**
 * Make BullMQ's job scheduler match the record: upsert it while the schedule is enabled, remove it
 * when it is disabled or gone. Upserting an unchanged scheduler keeps its next run.
 */
export async function syncScheduler(queue: ScheduleQueue, scheduleId: string, rec: ScheduleRecord | null, nowMs: number): Promise<"upserted" | "removed"> {
  if (!rec || !rec.spec.enabled) {
    await queue.removeJobScheduler(scheduleId);
    return "removed";
  }
  await queue.upsertJobScheduler(scheduleId, repeatOptionsOf(rec, nowMs), {
    name: SCHEDULE_JOB_NAME,
    data: { schedule_id: scheduleId },
    opts: scheduleOccurrenceJobOptions(),
  });
  return "upserted";
}

/** Whether BullMQ's scheduler for `rec` has drifted from it (or is broken) and needs an upsert. */
async function needsUpsert(queue: ScheduleQueue, rec: ScheduleRecord): Promise<string | null> {
  const scheduler = await queue.getJobScheduler(rec.id);
  if (!scheduler) return "no job scheduler";
  const { spec } = rec;
  if (spec.cron !== null && (scheduler.pattern !== spec.cron || (scheduler.tz ?? "UTC") !== spec.timezone)) return "cron or timezone differs";
  if (spec.every_seconds !== null && scheduler.every !== spec.every_seconds * 1_000) return "interval differs";
  if (scheduler.next == null) return "no next run";
  // The next run's job must exist (delayed, waiting or already active); otherwise the chain broke.
  const next = await queue.getJob(`repeat:${rec.id}:${scheduler.next}`);
  return next ? null : "next run's job is missing";
}

export interface ReconcileDeps {
  queue: ScheduleQueue;
  schedules: ScheduleStore;
  redis: Redis;
  now?: () => number;
  onRepair?: (scheduleId: string, reason: string) => void;
}

/**
 * Heal the two-step state (schedule record + BullMQ scheduler) after anything that could split
 * them: a process that died between the two writes, concurrent PATCHes whose upserts landed out of
 * order, a lost next-run job. One process at a time does it (a short Redis lock). Returns repairs.
 */
export async function reconcileSchedulers({ queue, schedules, redis, now = Date.now, onRepair }: ReconcileDeps): Promise<number> {
  const lock = schedules.keys.scheduleReconcileLock();
  const token = randomUUID();
  if ((await redis.set(lock, token, "PX", 20_000, "NX")) !== "OK") return 0;
  let repairs = 0;
  try {
    const known = new Set<string>();
    for await (const ids of schedules.allIds()) {
      for (const id of ids) {
        known.add(id);
        const rec = await schedules.get(id);
        if (!rec) continue;
        if (!rec.spec.enabled) {
          if (await queue.getJobScheduler(id)) {
            await syncScheduler(queue, id, rec, now());
            onRepair?.(id, "disabled schedule still had a job scheduler");
            repairs++;
          }
          continue;
        }
        const reason = await needsUpsert(queue, rec);
        if (reason) {
          await syncScheduler(queue, id, rec, now());
          onRepair?.(id, reason);
          repairs++;
        }
      }
    }
    for (const scheduler of await queue.getJobSchedulers(0, -1)) {
      if (!known.has(scheduler.key) && !(await schedules.get(scheduler.key))) {
        await queue.removeJobScheduler(scheduler.key);
        onRepair?.(scheduler.key, "job scheduler of a deleted schedule");
        repairs++;
      }
    }
  } finally {
    // Only our own lock: a slow pass may have outlived it and another process may hold it now.
    await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, lock, token);
  }
  return repairs;
}
