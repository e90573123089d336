import { clearProviderAuthFailure, publishEvent, readProviderAuthFailure, recordProviderAuthFailure } from "@acebatch/queue";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

export interface AuthGuardOptions {
  redis: Redis;
  prefix: string;
  /** The queue to pause while the provider refuses our token (pausing is global, for every worker). */
  queue: Pick<Queue, "pause" | "resume">;
  /** One cheap authenticated provider call: true when the token is accepted again. */
  probe: () => Promise<boolean>;
  probeIntervalMs: number;
  logger: Logger;
}

/**
 * 401/403 from the provider fail no job: the queue pauses, readiness reports the refused token, a
 * probe retries periodically, and work resumes by itself once the token is accepted (or a worker
 * restarts with a new one and its first probe succeeds).
 */
export function createAuthGuard(options: AuthGuardOptions) {
  const { redis, prefix, queue, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let probing = false;

  async function probeOnce(): Promise<void> {
    if (probing) return;
    probing = true;
    try {
      const failure = await readProviderAuthFailure(redis, prefix);
      if (!failure) return;
      if (!(await options.probe())) {
        logger.warn({ since: failure.since }, "provider still refuses the token (RUNCOMFY_TOKEN); the queue stays paused");
        return;
      }
      if (await clearProviderAuthFailure(redis, prefix)) {
        await queue.resume();
        logger.info({ since: failure.since }, "provider accepts the token again; queue resumed");
      }
    } catch (err) {
      logger.warn({ err }, "provider auth probe failed");
    } finally {
      probing = false;
    }
  }

  return {
    /** Record a refused token and pause the queue (once, however many jobs saw it). */
    async refused(message: string): Promise<void> {
      const since = new Date().toISOString();
      const first = await recordProviderAuthFailure(redis, prefix, { since, message });
      if (first) {
        await queue.pause();
        // Account-level webhook endpoints subscribed to provider.auth_failed hear about it once per episode.
        await publishEvent(redis, prefix, { type: "provider.auth_failed", since, message }).catch(() => undefined);
        logger.error({ reason: message }, "provider refuses the token (RUNCOMFY_TOKEN): queue paused; no job fails; probing until it is accepted");
      }
    },
    start(): void {
      void probeOnce();
      timer = setInterval(() => void probeOnce(), options.probeIntervalMs);
      timer.unref();
    },
    stop(): void {
      clearInterval(timer);
    },
    probeOnce,
  };
}

export type AuthGuard = ReturnType<typeof createAuthGuard>;
