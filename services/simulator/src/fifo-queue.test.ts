import { describe, expect, it } from "vitest";

import { createFifoQueue } from "./fifo-queue.ts";

describe("createFifoQueue", () => {
  it("hands items out in order and reports how many are ahead", () => {
    const queue = createFifoQueue<string>();
    const tickets = ["a", "b", "c", "d"].map((item) => queue.push(item));
    expect(tickets.map((t) => queue.position(t))).toEqual([0, 1, 2, 3]);
    expect(queue.shift()).toBe("a");
    expect(queue.position(tickets[3]!)).toBe(2);
    expect(queue.size).toBe(3);
  });

  it("skips removed items and does not count them as ahead", () => {
    const queue = createFifoQueue<string>();
    const [a, b, c, d] = ["a", "b", "c", "d"].map((item) => queue.push(item));
    queue.remove(b!);
    queue.remove(b!); // twice is harmless
    expect(queue.size).toBe(3);
    expect(queue.position(d!)).toBe(2);
    queue.remove(a!);
    expect(queue.position(c!)).toBe(0);
    expect(queue.shift()).toBe("c");
    expect(queue.shift()).toBe("d");
    expect(queue.shift()).toBeUndefined();
    expect(queue.size).toBe(0);
  });

  it("stays consistent across compaction with many items", () => {
    const queue = createFifoQueue<number>();
    const tickets: number[] = [];
    for (let i = 0; i < 10_000; i++) tickets.push(queue.push(i));
    for (let i = 0; i < 10_000; i += 3) queue.remove(tickets[i]!);
    const out: number[] = [];
    for (let i = 0; i < 5_000; i++) out.push(queue.shift()!);
    expect(out.every((n) => n % 3 !== 0)).toBe(true);
    const last = tickets[9_998]!; // 9998 % 3 = 2: still queued
    expect(queue.position(last)).toBe(queue.size - 1);
  });
});
