import { readFile } from "node:fs/promises";
import type { Redis } from "ioredis";

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** CPU time a process has used so far (user + system), milliseconds, from `/proc/<pid>/stat`. */
export async function processCpuMs(pid: number): Promise<number> {
  return statCpuMs(`/proc/${pid}/stat`);
}

/** CPU time this process's main thread has used so far (not its worker threads), milliseconds. */
export async function mainThreadCpuMs(): Promise<number> {
  return statCpuMs(`/proc/self/task/${process.pid}/stat`);
}

async function statCpuMs(path: string): Promise<number> {
  const stat = await readFile(path, "utf8");
  // Fields after the parenthesised command name (which may hold spaces): utime is the 14th field, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}

/**
 * CPU time the whole machine has spent working so far (all cores: user, nice, system, irq and
 * softirq; not idle, iowait or steal), milliseconds, from the first line of `/proc/stat`.
 */
export async function machineBusyMs(): Promise<number> {
  const stat = await readFile("/proc/stat", "utf8");
  const ticks = stat.slice(0, stat.indexOf("\n")).trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq] = ticks;
  return ((user! + nice! + system! + irq! + softirq!) * 1000) / USER_HZ;
}

/** CPU time the Redis server has used so far (user + system), milliseconds, from INFO cpu. */
export async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? NaN);
  return (seconds("used_cpu_user") + seconds("used_cpu_sys")) * 1000;
}
