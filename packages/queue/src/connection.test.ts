import type { Socket } from "node:net";
import { deletePrefix, uniquePrefix } from "@acebatch/testing";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, expect, inject, it } from "vitest";
import { closeRedis, createRedis, redisReady, type RedisRole } from "./connection.ts";

const prefix = uniquePrefix("connection");
let admin: Redis;
const opened: Redis[] = [];

beforeAll(async () => {
  admin = createRedis(inject("redisUrl"), "worker");
  await redisReady(admin);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => closeRedis(r)));
});
afterAll(async () => {
  await deletePrefix(admin, prefix);
  await closeRedis(admin);
});

async function open(role: RedisRole): Promise<Redis> {
  const redis = createRedis(inject("redisUrl"), role);
  opened.push(redis);
  await redisReady(redis);
  return redis;
}

/** Counts the socket writes (`_write` and `_writev` each reach the kernel once) a connection makes. */
function countWrites(redis: Redis): { readonly writes: number } {
  const socket = redis.stream as Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  const counter = { writes: 0 };
  for (const method of ["_write", "_writev"] as const) {
    const original = socket[method].bind(socket);
    socket[method] = (...args: unknown[]) => {
      counter.writes++;
      original(...args);
    };
  }
  return counter;
}

it.each(["producer", "worker"] as const)("a %s connection sends one event-loop turn's commands in one write, replies in order", async (role) => {
  const redis = await open(role);
  const key = `${prefix}:${role}:counter`;
  const counter = countWrites(redis);

  const replies = await Promise.all(Array.from({ length: 50 }, () => redis.incr(key)));

  expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  expect(counter.writes).toBe(1);
});

it("flushes every turn: commands issued one after another each leave in their own write", async () => {
  const redis = await open("producer");
  const key = `${prefix}:sequential`;
  const counter = countWrites(redis);

  for (let i = 1; i <= 5; i++) expect(await redis.incr(key)).toBe(i);

  expect(counter.writes).toBe(5);
  expect(redis.stream.writableCorked).toBe(0);
});

it("a subscriber connection writes each command as it is issued", async () => {
  const redis = await open("subscriber");
  const counter = countWrites(redis);

  await Promise.all([redis.ping(), redis.ping(), redis.ping()]);

  expect(counter.writes).toBe(3);
});

it("keeps working after its connection is killed mid-use (the new socket is corked and flushed too)", async () => {
  const redis = await open("worker");
  const key = `${prefix}:reconnect`;
  await redis.set(key, "before");
  const id = await redis.client("ID");

  await admin.client("KILL", "ID", String(id));
  const replies = await Promise.all([redis.set(key, "after"), redis.get(key), redis.incr(`${key}:n`), redis.incr(`${key}:n`)]);

  expect(replies).toEqual(["OK", "after", 1, 2]);
  expect(await redis.client("ID")).not.toBe(id);
  expect(redis.stream.writableCorked).toBe(0);
});
