import { ConfigError, createLogger } from "@acebatch/config";
import { loadApiConfig, startApi } from "@acebatch/api";
import { startSimulator } from "@acebatch/simulator";
import { loadWorkerConfig, startWorker } from "@acebatch/worker";
import { resolveAdminKey } from "./admin-key.ts";
import { processEnvironment } from "./config.ts";
import { probeRedis, startLocalRedis } from "./local-redis.ts";

/**
 * `pnpm start`: the whole service in one process with embedded defaults — API, one worker, a Redis
 * of its own when none answers, and the RunComfy simulator as the provider when no token is set.
 */
async function main() {
  const env = processEnvironment();
  const apiConfig = loadApiConfig(env);
  const logger = createLogger({ name: "acebatch", level: apiConfig.logLevel });
  const closers: (() => Promise<void>)[] = [];

  if (!(await probeRedis(apiConfig.redis.url))) {
    const redis = await startLocalRedis(apiConfig.redis.url, apiConfig.dataDir, logger);
    closers.unshift(redis.stop);
  }

  if (!env.RUNCOMFY_TOKEN) {
    const simulator = await startSimulator({ port: 0, host: "127.0.0.1", logger: logger.child({ service: "simulator" }) });
    closers.unshift(simulator.close);
    env.RUNCOMFY_MODEL_API_BASE = simulator.url;
    logger.warn({ simulator: simulator.url }, "RUNCOMFY_TOKEN is not set: using the built-in RunComfy SIMULATOR (synthetic audio, nothing is billed)");
    process.stderr.write(
      `\n*** RUNCOMFY_TOKEN is not set: jobs go to the built-in RunComfy SIMULATOR at ${simulator.url}\n` +
        `*** (synthetic test tones, not ACE Step music; nothing is billed).\n` +
        `*** Set RUNCOMFY_TOKEN to generate real music with ACE Step on RunComfy.\n\n`,
    );
  }
  env.PUBLIC_BASE_URL ??= apiConfig.http.publicBaseUrl;
  const workerConfig = loadWorkerConfig(env);

  const admin = await resolveAdminKey(apiConfig.auth.adminKey, apiConfig.dataDir);
  const api = await startApi(apiConfig, { adminKey: admin.key, logger: logger.child({ service: "api" }) });
  closers.unshift(api.close);
  const worker = await startWorker(workerConfig, { logger: logger.child({ service: "worker" }) });
  closers.unshift(worker.close);

  process.stderr.write(
    `\nacebatch is up: ${apiConfig.http.publicBaseUrl}\n` +
      (admin.generated ? `Admin API key (kept in ${apiConfig.dataDir}/admin-key):\n\n  ${admin.key}\n\n` : "") +
      (workerConfig.webhooks.secret ? "" : `Webhook signing secret for webhook_url deliveries (WEBHOOK_SECRET unset; kept in Redis):\n\n  ${worker.webhookSecret}\n\n`) +
      `Try:\n  curl -s -X POST ${apiConfig.http.publicBaseUrl}/v1/jobs -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \\\n` +
      `    -d '{"model":"acestep-ai/ace-step/text-to-audio","input":{"tags":"lo-fi, mellow, 80 BPM","duration":30}}'\n\n`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    for (const close of closers) {
      await close().catch((err: unknown) => logger.error({ err }, "error during shutdown"));
    }
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

try {
  await main();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(64);
  }
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
