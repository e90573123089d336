import { z } from "zod";
import { ConfigError, envFields, loadStorageConfig, parseEnv, publicBaseUrlOf, sharedEnvShape, storageEnvShape, type StorageSettings } from "@acebatch/config";
import { loadPrices, parsePriceOverrides, PriceConfigError, type PriceTable } from "@acebatch/pricing";
import { loadWebhookSettings, webhookEnvShape, type WebhookSettings } from "@acebatch/webhooks";

export interface WorkerConfig {
  redis: { url: string; prefix: string };
  dataDir: string;
  storage: StorageSettings;
  provider: {
    baseUrl: string;
    token: string | undefined;
    requestTimeoutMs: number;
    resubmitAmbiguous: boolean;
    maxRps: number;
    maxConcurrent: number;
    maxRetryAfterMs: number;
    backoffBaseMs: number;
    windowMarginMs: number;
    callRetries: number;
    authProbeIntervalMs: number;
  };
  polling: { minMs: number; maxMs: number; expectedSpeed: number };
  download: { maxBytes: number; idleTimeoutMs: number };
  sourceUrls: { publicBaseUrl: string; ttlSeconds: number; secret: string | undefined };
  jobs: { maxAttempts: number; concurrency: number; lockDurationMs: number };
  /** Audio finishing runs (ffmpeg, CPU-bound) one worker process holds at once. */
  finish: { concurrency: number };
  money: { prices: PriceTable; budgetRecheckMs: number; sourceAllowPrivateHosts: string[] };
  /** Webhook deliveries and the event dispatcher (WEBHOOK_* variables). */
  webhooks: WebhookSettings;
  shutdownDeadlineMs: number;
  logLevel: string;
}

export const DEFAULT_PROVIDER_BASE = "https://model-api.runcomfy.net/v1";

/** Parse the worker's environment once at start-up; throws ConfigError naming each bad variable. */
export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  const e = parseEnv(
    {
      ...sharedEnvShape,
      ...storageEnvShape,
      ...webhookEnvShape,
      RUNCOMFY_TOKEN: z.string().optional(),
      RUNCOMFY_MODEL_API_BASE: envFields.url(DEFAULT_PROVIDER_BASE),
      PROVIDER_REQUEST_TIMEOUT_MS: envFields.positiveInt(30_000, 600_000),
      PROVIDER_RESUBMIT_AMBIGUOUS: envFields.boolean(true),
      PROVIDER_RPS: z.coerce.number({ error: "must be a number of calls per second (0 = no limit)" }).min(0, "must be 0 (no limit) or more").default(10),
      PROVIDER_MAX_CONCURRENT: envFields.positiveInt(100, 100_000),
      PROVIDER_MAX_RETRY_AFTER_SECONDS: envFields.positiveInt(900, 86_400),
      PROVIDER_BACKOFF_BASE_MS: envFields.positiveInt(1_000, 600_000),
      PROVIDER_RATE_WINDOW_MARGIN_MS: z.coerce.number({ error: "must be a number of ms" }).int().min(0).max(5_000).default(100),
      PROVIDER_CALL_RETRIES: z.coerce.number({ error: "must be a whole number" }).int().min(0).max(50).default(5),
      PROVIDER_AUTH_PROBE_SECONDS: envFields.positiveNumber(30),
      PROVIDER_POLL_MIN_MS: envFields.positiveInt(250, 600_000),
      PROVIDER_POLL_MAX_MS: envFields.positiveInt(15_000, 600_000),
      PROVIDER_EXPECTED_SPEED: envFields.positiveNumber(20),
      // An inpaint returns its whole source (up to 60 min: ~690 MB as 48 kHz stereo 16-bit WAV); the
      // copy streams to disk, so the cap guards the disk, not memory.
      DOWNLOAD_MAX_BYTES: envFields.positiveInt(1024 * 1024 * 1024, 4 * 1024 * 1024 * 1024),
      DOWNLOAD_IDLE_TIMEOUT_MS: envFields.positiveInt(30_000, 600_000),
      SOURCE_URL_TTL_SECONDS: envFields.positiveInt(6 * 3_600, 7 * 24 * 3_600),
      WORKER_CONCURRENCY: envFields.positiveInt(50, 1_000),
      FINISH_CONCURRENCY: envFields.positiveInt(2, 64),
      WORKER_SHUTDOWN_DEADLINE_MS: envFields.positiveInt(20_000, 600_000),
      WORKER_LOCK_DURATION_MS: envFields.positiveInt(30_000, 600_000),
      BUDGET_RECHECK_SECONDS: envFields.positiveNumber(10),
      SOURCE_ALLOW_PRIVATE_HOSTS: z.string().optional(),
    },
    env,
  );
  let prices: PriceTable;
  try {
    prices = loadPrices(parsePriceOverrides(e.PRICES_MICRO_USD_PER_SECOND));
  } catch (err) {
    if (err instanceof PriceConfigError) throw new ConfigError([{ variable: "PRICES_MICRO_USD_PER_SECOND", message: err.message }]);
    throw err;
  }
  const publicBaseUrl = publicBaseUrlOf(e);
  return {
    redis: { url: e.REDIS_URL, prefix: e.ACEBATCH_PREFIX },
    dataDir: e.DATA_DIR,
    storage: loadStorageConfig(e, e.DATA_DIR),
    provider: {
      baseUrl: e.RUNCOMFY_MODEL_API_BASE.replace(/\/$/, ""),
      token: e.RUNCOMFY_TOKEN,
      requestTimeoutMs: e.PROVIDER_REQUEST_TIMEOUT_MS,
      resubmitAmbiguous: e.PROVIDER_RESUBMIT_AMBIGUOUS,
      maxRps: e.PROVIDER_RPS,
      maxConcurrent: e.PROVIDER_MAX_CONCURRENT,
      maxRetryAfterMs: e.PROVIDER_MAX_RETRY_AFTER_SECONDS * 1_000,
      backoffBaseMs: e.PROVIDER_BACKOFF_BASE_MS,
      windowMarginMs: e.PROVIDER_RATE_WINDOW_MARGIN_MS,
      callRetries: e.PROVIDER_CALL_RETRIES,
      authProbeIntervalMs: Math.round(e.PROVIDER_AUTH_PROBE_SECONDS * 1_000),
    },
    polling: { minMs: e.PROVIDER_POLL_MIN_MS, maxMs: e.PROVIDER_POLL_MAX_MS, expectedSpeed: e.PROVIDER_EXPECTED_SPEED },
    download: { maxBytes: e.DOWNLOAD_MAX_BYTES, idleTimeoutMs: e.DOWNLOAD_IDLE_TIMEOUT_MS },
    money: {
      prices,
      budgetRecheckMs: Math.round(e.BUDGET_RECHECK_SECONDS * 1_000),
      // Our own API serves job-referenced sources, so its host may be private; others are opt-in.
      sourceAllowPrivateHosts: [new URL(publicBaseUrl).hostname, ...(e.SOURCE_ALLOW_PRIVATE_HOSTS ?? "").split(",").map((h) => h.trim()).filter(Boolean)],
    },
    sourceUrls: {
      publicBaseUrl,
      ttlSeconds: e.SOURCE_URL_TTL_SECONDS,
      secret: e.URL_SIGNING_SECRET,
    },
    jobs: { maxAttempts: e.JOB_MAX_ATTEMPTS, concurrency: e.WORKER_CONCURRENCY, lockDurationMs: e.WORKER_LOCK_DURATION_MS },
    finish: { concurrency: e.FINISH_CONCURRENCY },
    webhooks: loadWebhookSettings(e),
    shutdownDeadlineMs: e.WORKER_SHUTDOWN_DEADLINE_MS,
    logLevel: e.LOG_LEVEL,
  };
}
