/** One /v1 API call as the simulator saw it. `status` is 0 while unanswered, 499 if the client hung up. */
export interface CallRecord {
  at_ms: number;
  method: string;
  path: string;
  status: number;
}

/** The last `capacity` API calls, oldest first, for "did anything arrive during Retry-After" checks. */
export interface CallLog {
  add(record: CallRecord): void;
  since(sinceMs: number): CallRecord[];
  clear(): void;
}

export function createCallLog(capacity = 100_000): CallLog {
  let ring: CallRecord[] = [];
  let next = 0; // index the next record overwrites once the ring is full
  return {
    add(record) {
      if (ring.length < capacity) ring.push(record);
      else {
        ring[next] = record;
        next = (next + 1) % capacity;
      }
    },
    since(sinceMs) {
      const ordered = ring.length < capacity ? ring : [...ring.slice(next), ...ring.slice(0, next)];
      return ordered.filter((r) => r.at_ms >= sinceMs).map((r) => ({ ...r }));
    },
    clear() {
      ring = [];
      next = 0;
    },
  };
}
