import { newId } from "@acebatch/contracts";
import type { Redis } from "ioredis";
import type { EventType } from "./events.ts";
import { webhookKeys } from "./keys.ts";
import { generateSecret } from "./signing.ts";

/** An account-level webhook endpoint: every event of the listed types goes to `url`. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  events: EventType[];
  description: string | null;
  /** The endpoint's own `whsec_` signing secret (shown once, when it is created). */
  secret: string;
  created_at: string;
}

/** How many account-level endpoints one deployment may have (each event is read against all of them). */
export const MAX_ENDPOINTS = 100;

/** Account-level endpoints, kept in one Redis hash (there are few, and every event reads them all). */
export function createEndpointStore({ redis, prefix, now = () => new Date() }: { redis: Redis; prefix: string; now?: () => Date }) {
  const keys = webhookKeys(prefix);

  async function list(): Promise<WebhookEndpoint[]> {
    const raw = await redis.hvals(keys.endpoints());
    return raw.map((v) => JSON.parse(v) as WebhookEndpoint).sort((a, b) => a.id.localeCompare(b.id));
  }

  async function get(id: string): Promise<WebhookEndpoint | null> {
    const raw = await redis.hget(keys.endpoints(), id);
    return raw ? (JSON.parse(raw) as WebhookEndpoint) : null;
  }

  /** Add an endpoint; null when the deployment already has MAX_ENDPOINTS. */
  async function create(input: { url: string; events: readonly EventType[]; description?: string | null; secret?: string }): Promise<WebhookEndpoint | null> {
    if ((await redis.hlen(keys.endpoints())) >= MAX_ENDPOINTS) return null;
    const endpoint: WebhookEndpoint = {
      id: newId("webhook", now().getTime()),
      url: input.url,
      events: [...new Set(input.events)],
      description: input.description ?? null,
      secret: input.secret ?? generateSecret(),
      created_at: now().toISOString(),
    };
    await redis.hset(keys.endpoints(), endpoint.id, JSON.stringify(endpoint));
    return endpoint;
  }

  /** Remove an endpoint; returns it, or null when it did not exist. Its pending deliveries go dead when tried. */
  async function remove(id: string): Promise<WebhookEndpoint | null> {
    const existing = await get(id);
    if (!existing) return null;
    await redis.hdel(keys.endpoints(), id);
    return existing;
  }

  /** The endpoints subscribed to `type`. */
  async function subscribedTo(type: EventType): Promise<WebhookEndpoint[]> {
    return (await list()).filter((e) => e.events.includes(type));
  }

  return { list, get, create, remove, subscribedTo };
}

export type EndpointStore = ReturnType<typeof createEndpointStore>;
