import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { finished } from "node:stream/promises";
import type { BatchRecord } from "@acebatch/queue";
import type { ObjectStorage } from "@acebatch/storage";
import type { Logger } from "pino";
import ZipStream from "zip-stream";
import { batchLines, resultsCsvFormat, rowWithoutJobResult, toResultRow, type ResultDeps } from "./batch-results.ts";

/** Entry names in the archive: `<row>-<job id>.<ext>` (the job id carries the variation). */
export function audioEntryName(row: number, jobId: string, format: string): string {
  return `${row}-${jobId}.${format}`;
}

/** Add one entry; rejects if the client goes away meanwhile (zip-stream would otherwise wait forever). */
function addEntry(zip: ZipStream, source: Readable, data: { name: string; store?: boolean }, gone: Promise<never>): Promise<void> {
  const added = new Promise<void>((resolve, reject) => {
    zip.entry(source, data, (err) => (err ? reject(err) : resolve()));
  });
  return Promise.race([added, gone]).catch((err: unknown) => {
    source.destroy();
    throw err;
  });
}

async function* headerThen(header: string, rest: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer | string> {
  yield header;
  yield* rest;
}

/**
 * A ZIP of a batch, produced while it is sent: every completed row's audio as
 * `<row>-<job id>.<ext>` (stored: audio does not compress), then `results.csv` for the same
 * snapshot of the rows, with a line for each row that got no job too (spooled to a temp file
 * during the pass). Entries are added one at a time
 * and each waits until the client has taken its bytes, so memory stays flat; zip-stream switches
 * to Zip64 by itself past 65,535 entries or 4 GB.
 */
export function batchArchive(deps: ResultDeps & { storage: ObjectStorage; logger: Logger }, batch: BatchRecord): Readable {
  const zip = new ZipStream({ zlib: { level: 6 } });
  const out = new PassThrough();
  zip.on("error", (err: Error) => out.destroy(err));
  zip.pipe(out);
  const format = resultsCsvFormat(batch);
  const gone = new Promise<never>((_, reject) => out.once("close", () => reject(new Error("the client closed the archive download"))));
  gone.catch(() => undefined);

  void (async () => {
    const dir = await mkdtemp(join(tmpdir(), "acebatch-archive-"));
    const resultsPath = join(dir, "results.csv");
    const results = createWriteStream(resultsPath);
    const writeLine = async (text: string) => {
      if (!results.write(text)) await new Promise<void>((resolve) => results.once("drain", () => resolve()));
    };
    try {
      let ordinal = 0;
      for await (const line of batchLines(deps, batch.id)) {
        if (out.destroyed) return;
        if (line.kind === "no-job") {
          await writeLine(format.line(rowWithoutJobResult(line.row)));
          continue;
        }
        const rec = line.record;
        const row = toResultRow(rec, deps, ++ordinal);
        if (rec.status === "completed" && rec.output && (await deps.storage.exists(rec.output.storage_key))) {
          const name = audioEntryName(row.row, rec.id, rec.output.format);
          await addEntry(zip, deps.storage.createReadStream(rec.output.storage_key), { name, store: true }, gone);
        } else if (rec.status === "completed") {
          row.audio_url = null;
        }
        await writeLine(format.line(row));
      }
      results.end();
      await finished(results);
      await addEntry(zip, Readable.from(headerThen(format.header, createReadStream(resultsPath))), { name: "results.csv" }, gone);
      zip.finalize();
    } catch (err) {
      if (!out.destroyed) deps.logger.warn({ err, batchId: batch.id }, "batch archive failed");
      zip.destroy();
      out.destroy(err as Error);
    } finally {
      results.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return out;
}
