import { readFile } from "node:fs/promises";

/** A process's memory as the kernel counts it (bytes): resident, peak resident (VmHWM), anonymous and file-backed. */
export interface ProcessMemory {
  rss: number;
  peak: number;
  anon: number;
  file: number;
}

/** Read `/proc/<pid>/status`: what a benchmark reports as a service process's memory. */
export async function processMemory(pid: number): Promise<ProcessMemory> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM"), anon: kb("RssAnon"), file: kb("RssFile") };
}
