import { envFields, parseEnv } from "@acebatch/config";
import { z } from "zod";

/** The standalone simulator's settings, from the environment. */
export function loadSimulatorConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env) {
  const raw = parseEnv(
    {
      SIMULATOR_PORT: envFields.port(8090),
      HOST: z.string().default("127.0.0.1"),
      SIMULATOR_TOKEN: z.string().optional(),
      LOG_LEVEL: envFields.logLevel(),
    },
    env,
  );
  return {
    port: raw.SIMULATOR_PORT,
    host: raw.HOST,
    token: raw.SIMULATOR_TOKEN,
    logLevel: raw.LOG_LEVEL,
  };
}

export type SimulatorConfig = ReturnType<typeof loadSimulatorConfig>;
