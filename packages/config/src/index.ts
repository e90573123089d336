export * from "./env.ts";
export * from "./logger.ts";
export * from "./shared-env.ts";
export * from "./storage-env.ts";
