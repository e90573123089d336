export { loadWorkerConfig, type WorkerConfig } from "./config.ts";
export { startWorker } from "./main.ts";
export { createGenerateProcessor } from "./generate-processor.ts";
