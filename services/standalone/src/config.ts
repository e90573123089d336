/**
 * `pnpm start` passes one copy of the environment to every service it embeds, filling in what it
 * decided itself (the simulator's URL, PUBLIC_BASE_URL); each service validates its part.
 */
export function processEnvironment(): Record<string, string | undefined> {
  return { ...process.env };
}
