import { ConfigError, createLogger } from "@acebatch/config";

import { loadSimulatorConfig } from "./config.ts";
import { startSimulator } from "./start.ts";

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadSimulatorConfig();
  const logger = createLogger({ name: "simulator", level: config.logLevel });
  const simulator = await startSimulator({ port: config.port, host: config.host, token: config.token, logger });
  logger.info(
    { url: simulator.url, tokenRequired: config.token === undefined ? "any non-empty bearer token" : "SIMULATOR_TOKEN" },
    "RunComfy simulator listening",
  );

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      logger.error("shutdown deadline passed, exiting");
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    simulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "error while closing");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(64);
  }
  console.error(err);
  process.exit(1);
});
