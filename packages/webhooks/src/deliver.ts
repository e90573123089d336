import type { AddressPolicy, ResolveHost } from "@acebatch/pricing";
import type { DeliveryStore } from "./delivery-store.ts";
import type { EndpointStore } from "./endpoint-store.ts";
import { postWebhook } from "./http-post.ts";
import { signedHeaders } from "./signing.ts";

export interface DeliverDeps {
  deliveries: DeliveryStore;
  endpoints: EndpointStore;
  /** The `whsec_` secret of deliveries to a job's / batch's / schedule's own `webhook_url`. */
  secret: string;
  policy: AddressPolicy;
  /** Delays before each retry (ms); its length is the number of retries. */
  retryScheduleMs: readonly number[];
  /** Deadline of one POST (ms). */
  timeoutMs: number;
  resolveHost?: ResolveHost;
  now?: () => Date;
}

export type AttemptResult =
  | { outcome: "delivered"; statusCode: number }
  | { outcome: "retry"; statusCode: number | null; error: string; retryInMs: number }
  | { outcome: "dead"; statusCode: number | null; error: string }
  /** Nothing to do: the record is gone or no longer pending (a duplicate BullMQ job). */
  | { outcome: "skipped" };

/**
 * One attempt of a delivery: sign (a fresh `webhook-timestamp` each time, the same `webhook-id`),
 * POST, and record the outcome. `attempt` counts from 1 within the current series (a replay
 * starts a new series); after the last scheduled retry, or on a URL that can never work, the
 * delivery is dead.
 */
export async function attemptDelivery(deps: DeliverDeps, deliveryId: string, attempt: number): Promise<AttemptResult> {
  const now = deps.now ?? (() => new Date());
  const rec = await deps.deliveries.get(deliveryId);
  if (!rec || rec.status !== "pending") return { outcome: "skipped" };

  let secret = deps.secret;
  if (rec.endpoint_id) {
    const endpoint = await deps.endpoints.get(rec.endpoint_id);
    if (!endpoint) {
      const error = `endpoint ${rec.endpoint_id} was deleted`;
      await deps.deliveries.recordAttempt(rec.id, { outcome: "dead", statusCode: null, error, at: now() });
      return { outcome: "dead", statusCode: null, error };
    }
    secret = endpoint.secret;
  }

  const post = await postWebhook(rec.url, rec.body, signedHeaders(secret, rec.id, rec.body, now()), {
    policy: deps.policy,
    timeoutMs: deps.timeoutMs,
    resolveHost: deps.resolveHost,
  });
  const at = now();
  if (post.ok) {
    await deps.deliveries.recordAttempt(rec.id, { outcome: "delivered", statusCode: post.statusCode, error: null, at });
    return { outcome: "delivered", statusCode: post.statusCode ?? 200 };
  }
  const error = post.error ?? "failed";
  if (post.permanent || attempt > deps.retryScheduleMs.length) {
    await deps.deliveries.recordAttempt(rec.id, { outcome: "dead", statusCode: post.statusCode, error, at });
    return { outcome: "dead", statusCode: post.statusCode, error };
  }
  const retryInMs = deps.retryScheduleMs[attempt - 1]!;
  await deps.deliveries.recordAttempt(rec.id, { outcome: "retry", statusCode: post.statusCode, error, at, nextAttemptAt: new Date(at.getTime() + retryInMs) });
  return { outcome: "retry", statusCode: post.statusCode, error, retryInMs };
}
