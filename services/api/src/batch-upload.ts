import type { Readable } from "node:stream";
import { Busboy } from "@fastify/busboy";
import type { IncomingHttpHeaders } from "node:http";
import { ApiError } from "./errors.ts";

export type UploadKind = "csv" | "ndjson";

/** Media types a CSV arrives as (browsers label .csv files application/vnd.ms-excel). */
export const CSV_MEDIA_TYPES = ["text/csv", "application/csv", "text/comma-separated-values", "application/vnd.ms-excel", "text/tab-separated-values"];
export const NDJSON_MEDIA_TYPES = ["application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines"];
export const MULTIPART = "multipart/form-data";

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

export function kindOfMediaType(type: string): UploadKind | null {
  if (CSV_MEDIA_TYPES.includes(type)) return "csv";
  if (NDJSON_MEDIA_TYPES.includes(type)) return "ndjson";
  return null;
}

/** A multipart part is NDJSON when its name or type says so; anything else is read as CSV. */
function kindOfFile(filename: string, mimeType: string): UploadKind {
  if (/\.(ndjson|jsonl)$/i.test(filename) || NDJSON_MEDIA_TYPES.includes(mimeType.toLowerCase())) return "ndjson";
  return "csv";
}

/**
 * The `file` part of a multipart upload as a stream, without buffering it: resolves as soon as
 * the part's headers are read; the rest of the body keeps flowing through busboy as it is consumed.
 */
export function multipartFile(headers: IncomingHttpHeaders, payload: Readable): Promise<{ kind: UploadKind; source: Readable }> {
  return new Promise((resolve, reject) => {
    let file: Readable | null = null;
    let bb;
    try {
      bb = Busboy({ headers: headers as IncomingHttpHeaders & { "content-type": string }, limits: { files: 1, fields: 20, parts: 40, fieldSize: 10_000 } });
    } catch (err) {
      reject(new ApiError(400, "invalid_multipart", `the multipart body cannot be read: ${(err as Error).message}`));
      return;
    }
    bb.on("file", (field, stream, filename, _encoding, mimeType) => {
      if (field !== "file" || file) {
        stream.resume();
        return;
      }
      file = stream;
      resolve({ kind: kindOfFile(filename ?? "", mimeType ?? ""), source: stream });
    });
    bb.on("finish", () => {
      if (!file) reject(new ApiError(400, "missing_file", 'the multipart upload has no "file" part: send the CSV (or NDJSON) as a form field named file'));
    });
    bb.on("error", (err: unknown) => {
      const failure = new ApiError(400, "invalid_multipart", `the multipart body cannot be read: ${(err as Error).message ?? String(err)}`);
      if (file) file.destroy(failure);
      else reject(failure);
    });
    payload.on("error", (err) => bb.destroy(err));
    payload.pipe(bb);
  });
}
