export { EVENT_TYPES, eventTypeSchema, eventId, deliveryId, urlDestinationKey, type EventType, type WebhookEvent } from "./events.ts";
export { SECRET_PREFIX, secretProblem, secretKey, generateSecret, secretFromKey, sign, signedHeaders } from "./signing.ts";
export { resolveWebhookSecret } from "./shared-secret.ts";
export { webhookKeys, type WebhookKeys } from "./keys.ts";
export { createEndpointStore, MAX_ENDPOINTS, type EndpointStore, type WebhookEndpoint } from "./endpoint-store.ts";
export {
  createDeliveryStore,
  DELIVERY_STATUSES,
  DELIVERED_RETENTION_SECONDS,
  type AttemptOutcome,
  type DeliveryRecord,
  type DeliveryStatus,
  type DeliveryStore,
  type NewDelivery,
} from "./delivery-store.ts";
export {
  createWebhookQueue,
  DEFAULT_RETRY_SCHEDULE_MS,
  DELIVERY_BACKOFF_TYPE,
  DELIVERY_JOB_NAME,
  deliveryJobId,
  deliveryJobOptions,
  enqueueDelivery,
  parseRetrySchedule,
  retryBackoff,
  type WebhookQueue,
} from "./delivery-queue.ts";
export { postWebhook, type PostOptions, type PostOutcome } from "./http-post.ts";
export { attemptDelivery, type AttemptResult, type DeliverDeps } from "./deliver.ts";
export { jobEventData, batchEventData, batchIsFinished, fullCounts } from "./event-data.ts";
export { destinationsFor, fanOut, type Destination } from "./fan-out.ts";
export { createEventRouter, type ChannelMessage, type EventRouter, type EventRouterDeps } from "./event-router.ts";
export { createEventSubscriber, type ChannelListener, type EventSubscriber } from "./event-subscriber.ts";
export { claimJobStatus, JOB_MARK_FIELDS, markJobFanned } from "./job-marks.ts";
export { RECONCILE_LOOKBACK_MS, unfannedFinalJobs } from "./reconcile.ts";
export { webhookEnvShape, loadWebhookSettings, type WebhookEnv, type WebhookSettings } from "./webhook-env.ts";
