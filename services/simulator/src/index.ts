export { buildSimulator, type SimulatorOptions } from "./app.ts";
export { startSimulator, type RunningSimulator } from "./start.ts";
export { DEFAULT_SIM_CONFIG, simConfigSchema, SimConfigError, type SimConfig, type SimConfigPatch } from "./sim-config.ts";
export type { SimStats, SimulatorState } from "./simulator-state.ts";
export type { CallRecord } from "./call-log.ts";
export type { SimRequest, SimStatus } from "./request-store.ts";
export { ERROR_CODES } from "./provider-error.ts";
