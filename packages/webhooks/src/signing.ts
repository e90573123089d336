import { createHmac, randomBytes } from "node:crypto";

/** The prefix of a Standard Webhooks signing secret: `whsec_<base64 key>`. */
export const SECRET_PREFIX = "whsec_";
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

/** Why a secret is not a usable Standard Webhooks secret, or null when it is. */
export function secretProblem(secret: string): string | null {
  if (!secret.startsWith(SECRET_PREFIX)) return `must start with "${SECRET_PREFIX}" (a Standard Webhooks secret)`;
  const body = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return `must be "${SECRET_PREFIX}" followed by base64`;
  const bytes = Buffer.from(body, "base64").length;
  if (bytes < MIN_KEY_BYTES || bytes > MAX_KEY_BYTES) return `must encode ${MIN_KEY_BYTES}–${MAX_KEY_BYTES} bytes of key (got ${bytes})`;
  return null;
}

/** The HMAC key of a `whsec_` secret (the base64-decoded part after the prefix). Throws on a malformed secret. */
export function secretKey(secret: string): Buffer {
  const problem = secretProblem(secret);
  if (problem) throw new TypeError(`webhook secret ${problem}`);
  return Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");
}

/** A fresh `whsec_` secret with a 32-byte key. */
export function generateSecret(): string {
  return secretFromKey(randomBytes(32));
}

/** The `whsec_` form of raw key bytes. */
export function secretFromKey(key: Uint8Array): string {
  return `${SECRET_PREFIX}${Buffer.from(key).toString("base64")}`;
}

/**
 * `v1,<base64 HMAC-SHA256>` of `{id}.{timestamp}.{body}`, the Standard Webhooks signature.
 * `timestampSeconds` is Unix seconds.
 */
export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", secretKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
  return `v1,${mac}`;
}

/** The three Standard Webhooks headers of one delivery attempt (the timestamp is the attempt's, in seconds). */
export function signedHeaders(secret: string, id: string, body: string, now: Date = new Date()): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1_000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": sign(secret, id, timestamp, body),
  };
}
