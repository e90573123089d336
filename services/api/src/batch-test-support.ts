import { inflateRawSync } from "node:zlib";
import { batchJobId, createBatchStore, createJobStore } from "@acebatch/queue";
import { makeTestApp, TEST_ADMIN_KEY, type TestAppOptions } from "./test-app.ts";

export const T2A = "acestep-ai/ace-step/text-to-audio";

/** A test app with shortcuts for the batch routes (admin key) and the stores behind them. */
export async function makeBatchTestApp(options: Omit<TestAppOptions, "label"> & { label?: string }) {
  const base = await makeTestApp({ label: "batches-api", ...options });
  const { app, redis, prefix } = base;
  const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
  const store = createJobStore({ redis, prefix });
  return {
    ...base,
    store,
    batches: createBatchStore({ redis, prefix }),
    upload: (url: string, payload: string | Buffer, contentType = "text/csv", headers: Record<string, string> = {}) =>
      app.inject({ method: "POST", url, payload, headers: { ...auth, "content-type": contentType, ...headers } }),
    post: (url: string, payload?: unknown, headers: Record<string, string> = {}) =>
      app.inject({ method: "POST", url, ...(payload === undefined ? {} : { payload: payload as object }), headers: { ...auth, ...headers } }),
    get: (url: string) => app.inject({ method: "GET", url, headers: auth }),
    /** Move a batch row's job to a final status, as a worker would. */
    async finishRow(batchId: string, row: number, to: "completed" | "failed" | "cancelled") {
      const jobId = batchJobId(batchId, row);
      await store.transition(jobId, { from: "*", to: "in_progress" });
      const error = to === "failed" ? { code: "provider_rejected_input", exit_class: 65 as const, retryable: false, message: "rejected" } : undefined;
      await store.transition(jobId, { from: "*", to, set: { finished_at: new Date().toISOString(), ...(error ? { error } : {}) } });
      return jobId;
    },
  };
}

export type BatchTestApp = Awaited<ReturnType<typeof makeBatchTestApp>>;

/** Entries of a ZIP held in memory (central directory, Zip64 aware), for tests. */
export function readZip(buf: Buffer): Map<string, Buffer> {
  let eocd = -1;
  for (let i = buf.length - 22; i >= 0; i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip: no end of central directory");
  let count = buf.readUInt16LE(eocd + 10);
  let offset = buf.readUInt32LE(eocd + 16);
  if (offset === 0xffffffff || count === 0xffff) {
    const locator = eocd - 20;
    const zip64 = Number(buf.readBigUInt64LE(locator + 8));
    count = Number(buf.readBigUInt64LE(zip64 + 32));
    offset = Number(buf.readBigUInt64LE(zip64 + 48));
  }
  const entries = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(offset) !== 0x02014b50) throw new Error("bad central directory entry");
    const method = buf.readUInt16LE(offset + 10);
    let size = buf.readUInt32LE(offset + 20);
    const nameLen = buf.readUInt16LE(offset + 28);
    const extraLen = buf.readUInt16LE(offset + 30);
    const commentLen = buf.readUInt16LE(offset + 32);
    let local = buf.readUInt32LE(offset + 42);
    const name = buf.subarray(offset + 46, offset + 46 + nameLen).toString("utf8");
    // Zip64 extra field: sizes and offset that did not fit.
    const extra = buf.subarray(offset + 46 + nameLen, offset + 46 + nameLen + extraLen);
    for (let e = 0; e + 4 <= extra.length; ) {
      const id = extra.readUInt16LE(e);
      const len = extra.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let p = e + 4;
        if (buf.readUInt32LE(offset + 24) === 0xffffffff) p += 8;
        if (size === 0xffffffff) {
          size = Number(extra.readBigUInt64LE(p));
          p += 8;
        }
        if (local === 0xffffffff) local = Number(extra.readBigUInt64LE(p));
      }
      e += 4 + len;
    }
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(dataStart, dataStart + size);
    entries.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    offset += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** An Excel export in a semicolon locale: BOM, CRLF, quoted multi-line lyrics, a metadata column; rows 3 and 5 are bad. */
export const EXCEL_CSV =
  "\uFEFFTags; DURATION ;Lyrics;Seed;Take\r\n" +
  'lo-fi, mellow;60.0;"[verse]\r\nfirst line\r\nsecond ""quoted"" line";-1;A\r\n' +
  "synthwave, 80s;30;[inst];7;B\r\n" +
  "ambient;60.5;;;C\r\n" +
  'jazz, "smoky";45;;12;D\r\n' +
  ";30;;;E\r\n" +
  "drum and bass;12,0;;;F\r\n" +
  "\r\n\r\n";

/** A multipart/form-data body with one file part. */
export function multipartBody(field: string, filename: string, content: string, type = "text/csv") {
  const boundary = "----acebatch-test-boundary";
  const body = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n${content}\r\n--${boundary}--\r\n`,
  );
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
