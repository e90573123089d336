import { z } from "zod";
import { ConfigError, envFields, loadStorageConfig, parseEnv, publicBaseUrlOf, sharedEnvShape, storageEnvShape, type StorageSettings } from "@acebatch/config";
import { createAddressPolicy } from "@acebatch/pricing";
import { loadWebhookSettings, webhookEnvShape, type WebhookSettings } from "@acebatch/webhooks";

export interface ApiConfig {
  http: { port: number; host: string; bodyLimitBytes: number; publicBaseUrl: string; rateLimitPerMinute: number };
  redis: { url: string; prefix: string };
  dataDir: string;
  storage: StorageSettings;
  auth: { adminKey: string | undefined };
  signing: { secret: string | undefined };
  jobs: { maxAttempts: number };
  /** SOURCE_ALLOW_PRIVATE_HOSTS: private hosts a batch row's remote source may be measured on (as the worker allows). */
  sources: { allowPrivateHosts: string[] };
  /** WEBHOOK_* variables, validated here too so a bad value stops `pnpm start:api` as well. */
  webhooks: WebhookSettings;
  logLevel: string;
}

/** Parse the API's environment once at start-up; throws ConfigError naming each bad variable. */
export function loadApiConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  const e = parseEnv(
    {
      ...sharedEnvShape,
      ...storageEnvShape,
      ...webhookEnvShape,
      ACEBATCH_ADMIN_KEY: z.string().min(16, "must be at least 16 characters").optional(),
      API_BODY_LIMIT_BYTES: envFields.positiveInt(1_048_576, 1_073_741_824),
      API_RATE_LIMIT_PER_MINUTE: envFields.positiveInt(600, 1_000_000),
      SOURCE_ALLOW_PRIVATE_HOSTS: z.string().optional(),
    },
    env,
  );
  const allowPrivateHosts = (e.SOURCE_ALLOW_PRIVATE_HOSTS ?? "").split(",").map((h) => h.trim()).filter(Boolean);
  try {
    createAddressPolicy(allowPrivateHosts);
  } catch (err) {
    throw new ConfigError([{ variable: "SOURCE_ALLOW_PRIVATE_HOSTS", message: (err as Error).message }]);
  }
  return {
    http: {
      port: e.PORT,
      host: e.HOST,
      bodyLimitBytes: e.API_BODY_LIMIT_BYTES,
      publicBaseUrl: publicBaseUrlOf(e),
      rateLimitPerMinute: e.API_RATE_LIMIT_PER_MINUTE,
    },
    redis: { url: e.REDIS_URL, prefix: e.ACEBATCH_PREFIX },
    dataDir: e.DATA_DIR,
    storage: loadStorageConfig(e, e.DATA_DIR),
    auth: { adminKey: e.ACEBATCH_ADMIN_KEY },
    signing: { secret: e.URL_SIGNING_SECRET },
    jobs: { maxAttempts: e.JOB_MAX_ATTEMPTS },
    sources: { allowPrivateHosts },
    webhooks: loadWebhookSettings(e),
    logLevel: e.LOG_LEVEL,
  };
}
