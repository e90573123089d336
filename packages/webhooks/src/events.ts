import { createHash } from "node:crypto";
import { z } from "zod";
import { crockfordChars } from "@acebatch/contracts";

/** Every event a webhook endpoint can subscribe to. */
export const EVENT_TYPES = [
  "job.completed",
  "job.failed",
  "job.cancelled",
  "batch.completed",
  "budget.threshold",
  "provider.auth_failed",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const eventTypeSchema = z.enum(EVENT_TYPES);

/** The JSON body of every delivery. `created_at` is when the thing happened (ISO-8601). */
export interface WebhookEvent {
  type: EventType;
  id: string;
  created_at: string;
  data: Record<string, unknown>;
}

/** 26 lower-case Crockford base32 characters of a SHA-256 (130 bits): ids that look like our others. */
function digest26(text: string): string {
  return crockfordChars(createHash("sha256").update(text).digest(), 26);
}

/**
 * The id of an event, derived from what it is about (`job_…:job.completed`), so every dispatcher
 * that sees the same happening names it the same.
 */
export function eventId(eventKey: string): string {
  return `evt_${digest26(eventKey)}`;
}

/**
 * The id of one event's delivery to one destination. It is the `webhook-id` header (the same on
 * every retry and replay) and the BullMQ job id, so N dispatchers enqueue it once. Never has `:`.
 */
export function deliveryId(evtId: string, destinationKey: string): string {
  return `msg_${digest26(`${evtId}|${destinationKey}`)}`;
}

/** A stable key for a destination that is a bare URL (a job's, batch's or schedule's `webhook_url`). */
export function urlDestinationKey(url: string): string {
  return `url-${digest26(url)}`;
}
