// The only file of @acebatch/testing that touches process.env (a project check enforces this).

/** A Redis URL the developer or CI chose for the tests (`REDIS_URL`), or undefined to start one. */
export function redisUrlFromEnv(): string | undefined {
  return nonEmpty(process.env.REDIS_URL);
}

/** An explicit redis-server binary (`REDIS_SERVER_BIN`), for machines where it is not on PATH. */
export function redisServerBinFromEnv(): string | undefined {
  return nonEmpty(process.env.REDIS_SERVER_BIN);
}

/** The directories of `PATH`, in order. */
export function pathDirectories(): string[] {
  return (process.env.PATH ?? "").split(":").filter((dir) => dir !== "");
}

/** The URL the vitest global setup published for this run, as seen by test files and their children. */
export function testRedisUrlFromEnv(): string | undefined {
  return nonEmpty(process.env.ACEBATCH_TEST_REDIS_URL);
}

/** Publish the run's Redis URL as `ACEBATCH_TEST_REDIS_URL` (vitest forks inherit it). */
export function setTestRedisUrlEnv(url: string | undefined): void {
  if (url === undefined) delete process.env.ACEBATCH_TEST_REDIS_URL;
  else process.env.ACEBATCH_TEST_REDIS_URL = url;
}

// Only these reach processes started by spawnService: a developer's RUNCOMFY_TOKEN, REDIS_URL or
// ACEBATCH_* must never leak into a service under test (it could call the paid API or use the
// shared Redis). Tests pass everything else explicitly.
const INHERITED = ["PATH", "HOME", "TMPDIR", "TMP", "TEMP", "LANG", "LC_ALL", "TZ", "USER", "SHELL"];

/** The small, safe part of this process's environment that child processes inherit. */
export function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}
