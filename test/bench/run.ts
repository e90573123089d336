// `pnpm bench`: runs every test/bench/*.bench.ts as its own process (so one cannot skew another's
// memory or event loop), collects the `BENCH_RESULT {json}` lines each prints, shows a table and
// writes test-artifacts/bench.json. Pass names to run a subset: `pnpm bench ingest utilisation`.
import { spawn } from "node:child_process";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { BenchResult } from "./bench-result.ts";

const here = import.meta.dirname;
const filters = process.argv.slice(2);
const files = (await readdir(here)).filter((f) => f.endsWith(".bench.ts") && (filters.length === 0 || filters.some((x) => f.includes(x)))).sort();

function runOne(file: string): Promise<{ results: BenchResult[]; code: number | null }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [join(here, file)], { stdio: ["ignore", "pipe", "inherit"] });
    const results: BenchResult[] = [];
    let buffer = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith("BENCH_RESULT ")) results.push(JSON.parse(line.slice("BENCH_RESULT ".length)) as BenchResult);
        else process.stdout.write(`  ${line}\n`);
      }
    });
    child.on("exit", (code) => resolvePromise({ results, code }));
  });
}

const all: (BenchResult & { file: string })[] = [];
let failed = 0;
for (const file of files) {
  console.log(`\n== ${file}`);
  const { results, code } = await runOne(file);
  if (code !== 0) {
    failed++;
    console.log(`  !! ${file} exited with code ${code}`);
  }
  all.push(...results.map((r) => ({ ...r, file })));
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? "—" : Number.isInteger(v) ? String(v) : v.toPrecision(4));
console.log("\n| benchmark | value | baseline | ratio | goal | met |\n|---|---|---|---|---|---|");
for (const r of all) {
  console.log(`| ${r.name} | ${fmt(r.value)} ${r.unit} | ${r.baseline === null ? "—" : `${fmt(r.baseline)} ${r.unit}`} | ${fmt(r.ratio)} | ${r.goal} | ${r.met === null ? "—" : r.met ? "yes" : "NO"} |`);
}
const out = resolve(here, "../../test-artifacts/bench.json");
await mkdir(resolve(here, "../../test-artifacts"), { recursive: true });
await writeFile(out, JSON.stringify({ at: new Date().toISOString(), results: all }, null, 2));
console.log(`\nwritten: ${out}`);
process.exit(failed === 0 ? 0 : 1);
