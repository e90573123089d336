import { randomBytes } from "node:crypto";

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

export const ID_PREFIXES = { job: "job", batch: "bat", schedule: "sch", key: "key", webhook: "whk" } as const;
export type IdKind = keyof typeof ID_PREFIXES;

/** `length` lower-case Crockford base32 characters, one per byte of `bytes` (5 bits each). */
export function crockfordChars(bytes: Uint8Array, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += CROCKFORD[bytes[i]! % 32];
  return out;
}

/** The 10-character time part of an id created at `ms` (lexicographic order = time order). */
export function encodeIdTime(ms: number): string {
  let time = "";
  let t = ms;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time;
}

/** The smallest id of `kind` created at `ms`: a lexicographic lower bound for ids from then on. */
export function idFloorAt(kind: IdKind, ms: number): string {
  return `${ID_PREFIXES[kind]}_${encodeIdTime(ms)}`;
}

/**
 * A time-sortable id (ULID layout: 48-bit milliseconds + 80 random bits, Crockford base32, lower
 * case) behind a type prefix: `job_01jd8x...`. Never all digits and never contains `:`, so it is a
 * valid BullMQ custom job id.
 */
export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  return `${ID_PREFIXES[kind]}_${encodeIdTime(nowMs)}${crockfordChars(randomPart(), 16)}`;
}

// Random bytes for ids drawn from a pool refilled 4 KiB at a time: one CSPRNG call per 256 ids
// instead of one per id (a busy API makes thousands a second). Each id's bytes are used once.
const POOL_IDS = 256;
let pool = Buffer.alloc(0);
let poolOffset = 0;

function randomPart(): Uint8Array {
  if (poolOffset >= pool.length) {
    pool = randomBytes(16 * POOL_IDS);
    poolOffset = 0;
  }
  const part = pool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  return part;
}

const ID_PATTERNS: Record<IdKind, RegExp> = {
  // Batch rows derive their ids from the batch: `job_<26>-<row>` (and `-<variation>`).
  job: /^job_[0-9a-z]{26}(-\d{1,9}(-\d{1,4})?)?$/,
  batch: /^bat_[0-9a-z]{26}$/,
  schedule: /^sch_[0-9a-z]{26}$/,
  key: /^key_[0-9a-z]{26}$/,
  webhook: /^whk_[0-9a-z]{26}$/,
};

export function isId(kind: IdKind, value: unknown): value is string {
  return typeof value === "string" && ID_PATTERNS[kind].test(value);
}

/** The shape of every id of `kind` (derived ones included). */
export function idPattern(kind: IdKind): RegExp {
  return ID_PATTERNS[kind];
}

/**
 * A deterministic id for a derived entity (a batch row, a schedule occurrence): the same parent and
 * ordinal always give the same id, so a retried enqueue converges instead of duplicating.
 */
export function derivedId(kind: IdKind, parentId: string, ordinal: string | number): string {
  const body = parentId.slice(parentId.indexOf("_") + 1);
  return `${ID_PREFIXES[kind]}_${body}-${ordinal}`.replace(/:/g, "-");
}
