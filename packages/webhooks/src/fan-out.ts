import type { DeliveryStore } from "./delivery-store.ts";
import { enqueueDelivery, type WebhookQueue } from "./delivery-queue.ts";
import type { EndpointStore } from "./endpoint-store.ts";
import { deliveryId, urlDestinationKey, type EventType, type WebhookEvent } from "./events.ts";

/** Where one event goes: an account-level endpoint, or a job's / batch's / schedule's own URL. */
export interface Destination {
  /** Stable per destination: the endpoint id, or `url-<hash>` for a bare URL. */
  key: string;
  url: string;
  endpointId: string | null;
}

/** The destinations of an event: the subject's own URL (if any) and every endpoint subscribed to its type. */
export async function destinationsFor(endpoints: EndpointStore, type: EventType, ownUrl: string | null | undefined): Promise<Destination[]> {
  const out: Destination[] = [];
  if (ownUrl) out.push({ key: urlDestinationKey(ownUrl), url: ownUrl, endpointId: null });
  for (const endpoint of await endpoints.subscribedTo(type)) out.push({ key: endpoint.id, url: endpoint.url, endpointId: endpoint.id });
  return out;
}

/**
 * Turn one event into one delivery per destination. Idempotent: the delivery id is derived from
 * the event and the destination, its record is created only if absent, and the BullMQ job id is the
 * delivery id, so any number of dispatchers (or a reconciliation pass) may fan the same event out.
 * Returns how many deliveries this call created.
 */
export async function fanOut(
  deps: { deliveries: DeliveryStore; queue: WebhookQueue },
  event: WebhookEvent,
  subjectId: string | null,
  destinations: readonly Destination[],
  now: Date = new Date(),
): Promise<number> {
  if (destinations.length === 0) return 0;
  const body = JSON.stringify(event);
  let created = 0;
  for (const dest of destinations) {
    const id = deliveryId(event.id, dest.key);
    const outcome = await deps.deliveries.createIfAbsent({
      id,
      event_id: event.id,
      event_type: event.type,
      subject_id: subjectId,
      endpoint_id: dest.endpointId,
      url: dest.url,
      body,
      created_at: now.toISOString(),
    });
    // A pending record whose first enqueue was lost (a crash in between) is enqueued again; the
    // same BullMQ id makes that a no-op when the job is there. Replays enqueue themselves.
    if (outcome.created || (outcome.record.status === "pending" && outcome.record.replays === 0)) {
      await enqueueDelivery(deps.queue, id);
    }
    if (outcome.created) created += 1;
  }
  return created;
}
