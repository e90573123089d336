import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { createKeys } from "@acebatch/queue";
import { ApiError } from "./errors.ts";

const TTL_SECONDS = 24 * 3_600;

/** A stable hash of a JSON value (object keys sorted), so key order does not change identity. */
export function fingerprint(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === "object"
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
        : v;
  return createHash("sha256").update(JSON.stringify(canonical(value))).digest("hex");
}

/**
 * The namespace of a caller's Idempotency-Keys: the stored API key's id, or `admin` for the admin
 * key. Two clients that happen to pick the same key value never meet each other's requests.
 */
export const idempotencyCaller = (keyId: string | null): string => keyId ?? "admin";

/**
 * Claim an `Idempotency-Key` of `caller` (see idempotencyCaller) for a resource id. The first
 * request's id wins (SET NX); a repeat with the same body gets that id back, a repeat with a
 * different body is a 409. Keys live 24 h.
 */
export async function claimIdempotencyKey(
  redis: Redis,
  prefix: string,
  scope: string,
  caller: string,
  idempotencyKey: string,
  bodyFingerprint: string,
  candidateId: string,
): Promise<{ id: string; replay: boolean }> {
  const key = createKeys(prefix).idempotency(`${scope}:${caller}`, createHash("sha256").update(idempotencyKey).digest("hex"));
  const claim = JSON.stringify({ id: candidateId, fingerprint: bodyFingerprint });
  const set = await redis.set(key, claim, "EX", TTL_SECONDS, "NX");
  if (set === "OK") return { id: candidateId, replay: false };
  const existing = JSON.parse((await redis.get(key)) ?? "null") as { id: string; fingerprint: string } | null;
  if (!existing) return claimIdempotencyKey(redis, prefix, scope, caller, idempotencyKey, bodyFingerprint, candidateId);
  if (existing.fingerprint !== bodyFingerprint) {
    throw new ApiError(
      409,
      "idempotency_conflict",
      `Idempotency-Key was already used for a different request (${existing.id}); use a new key for a new request`,
    );
  }
  return { id: existing.id, replay: true };
}
