import { randomBytes } from "node:crypto";

/**
 * A key prefix no other test uses: `{t-<label>-<random>}`. The braces make it a Redis Cluster hash
 * tag, so every key of a queue under it lands in one slot; inside them only letters, digits, `-`
 * and `_` appear (BullMQ prefixes must not contain `:`).
 */
export function uniquePrefix(label: string): string {
  const clean = label
    .replace(/[^A-Za-z0-9_-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  const random = randomBytes(6).toString("hex");
  return `{t-${clean === "" ? "x" : clean}-${random}}`;
}
