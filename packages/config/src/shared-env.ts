import { z } from "zod";
import { envFields } from "./env.ts";

/** Variables every acebatch process reads the same way. */
export const sharedEnvShape = {
  REDIS_URL: envFields.redisUrl("redis://127.0.0.1:6379"),
  ACEBATCH_PREFIX: envFields.keyPrefix("{acebatch}"),
  DATA_DIR: z.string().default("./data"),
  LOG_LEVEL: envFields.logLevel(),
  PUBLIC_BASE_URL: envFields.optionalUrl(),
  URL_SIGNING_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  JOB_MAX_ATTEMPTS: envFields.positiveInt(5, 100),
  /** Price overrides, `model=µ$ per second` pairs separated by commas; parsed by each service with @acebatch/pricing. */
  PRICES_MICRO_USD_PER_SECOND: z.string().optional(),
};
