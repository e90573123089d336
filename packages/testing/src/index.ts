export { freePort } from "./free-port.ts";
export { spawnRedis, findRedisServer, RedisNotFoundError, type SpawnedRedis, type SpawnRedisOptions } from "./spawned-redis.ts";
export { spawnService, type SpawnedService, type SpawnServiceOptions, type ServiceExit } from "./spawn-service.ts";
export { startTestRedis, type StartTestRedisOptions, type TestRedis } from "./test-redis.ts";
export { uniquePrefix } from "./unique-prefix.ts";
export { waitFor, type WaitForOptions } from "./wait-for.ts";
export { deletePrefix } from "./delete-prefix.ts";
