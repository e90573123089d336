import type { IncomingMessage } from "node:http";
import { guardedGet, type RequestContext } from "./guarded-request.ts";
import { SourceLengthError } from "./source-length-error.ts";

/** Random reads of a remote file through Range requests, within a byte budget. */
export interface RemoteFile {
  /** Size of the whole file in bytes, when the server said. */
  readonly total: number | null;
  /** Whether the server honours Range (otherwise only a prefix of the file can be read). */
  readonly rangeable: boolean;
  /** Up to `length` bytes at `position`; fewer only at the end of the file (or of a non-range body). */
  read(position: number, length: number): Promise<Uint8Array>;
  close(): void;
}

/** Bytes fetched per range request beyond what a read asked for (parsers read in small steps). */
const CHUNK = 64 * 1024;

type Chunks = AsyncIterator<Buffer>;

function contentRange(response: IncomingMessage): { start: number; end: number; total: number | null } | null {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers["content-range"] ?? "");
  if (!match) return null;
  return { start: Number(match[1]), end: Number(match[2]), total: match[3] === "*" ? null : Number(match[3]) };
}

function checkEncoding(response: IncomingMessage): void {
  const encoding = response.headers["content-encoding"];
  if (encoding && encoding.toLowerCase() !== "identity") {
    response.destroy();
    throw new SourceLengthError("fetch_failed", `source URL sent a compressed body (Content-Encoding: ${encoding}) although identity was asked for`);
  }
}

/** Open `rawUrl` with a first Range request of `firstBytes`; later reads go to the final (post-redirect) URL. */
export async function openRemoteFile(
  rawUrl: string,
  { ctx, maxBytes, firstBytes }: { ctx: RequestContext; maxBytes: number; firstBytes: number },
): Promise<RemoteFile> {
  let start: URL;
  try {
    start = new URL(rawUrl);
  } catch {
    throw new SourceLengthError("bad_url", `source URL is not a valid URL: ${rawUrl.slice(0, 200)}`);
  }
  let received = 0;
  const tooLarge = () => new SourceLengthError("too_large", `measuring the source needs more than ${maxBytes} bytes of it; refused`);
  const spend = (bytes: number) => {
    received += bytes;
    if (received > maxBytes) throw tooLarge();
  };

  const first = await guardedGet(start, { range: `bytes=0-${Math.min(firstBytes, maxBytes) - 1}` }, ctx);
  const url = first.url;
  const response = first.response;
  const status = response.statusCode ?? 0;
  if (status === 416) {
    response.destroy();
    throw new SourceLengthError("not_audio", "source URL answered HTTP 416 for its first bytes: the file is empty");
  }
  if (status !== 200 && status !== 206) {
    response.destroy();
    throw new SourceLengthError("http_status", `source URL answered HTTP ${status}`, { httpStatus: status });
  }
  checkEncoding(response);

  let head: Buffer = Buffer.alloc(0);
  let total: number | null;
  let stream: Chunks | null = null; // the open body of a server that ignored Range
  let ended = false;
  const rangeable = status === 206;
  if (rangeable) {
    const range = contentRange(response);
    if (!range || range.start !== 0) {
      response.destroy();
      throw new SourceLengthError("fetch_failed", `source URL sent an unusable Content-Range: ${response.headers["content-range"] ?? "(none)"}`);
    }
    total = range.total;
    head = await drain(response, range.end + 1, spend);
  } else {
    const length = response.headers["content-length"];
    total = length !== undefined && /^\d+$/.test(length) ? Number(length) : null;
    stream = response[Symbol.asyncIterator]();
    await extend(Math.min(firstBytes, maxBytes));
  }

  /** Read on from a body that ignored Range until the head holds `until` bytes (or the body ends). */
  async function extend(until: number): Promise<void> {
    if ((total === null ? until : Math.min(until, total)) > maxBytes) throw tooLarge();
    while (stream !== null && !ended && head.length < until) {
      const next = await stream.next();
      if (next.done) {
        ended = true;
        break;
      }
      const chunk: Buffer = next.value;
      const take = chunk.subarray(0, Math.max(0, maxBytes - received));
      spend(take.length === 0 ? chunk.length : take.length); // nothing fits: throws too_large
      head = Buffer.concat([head, take]);
    }
  }

  let window: { at: number; bytes: Buffer } | null = null;

  /** Fetch `need` bytes at `position`, plus read-ahead up to `want` while the byte budget allows. */
  async function fetchRange(position: number, need: number, want: number): Promise<Buffer> {
    const clip = (n: number) => (total === null ? n : Math.min(n, total - position));
    if (clip(need) > maxBytes - received) throw tooLarge();
    const length = clip(Math.min(Math.max(need, want), maxBytes - received));
    const last = position + length - 1;
    if (last < position) return Buffer.alloc(0);
    const { response: res } = await guardedGet(url, { range: `bytes=${position}-${last}` }, ctx);
    const range = res.statusCode === 206 ? contentRange(res) : null;
    if (res.statusCode === 416) {
      res.destroy();
      return Buffer.alloc(0);
    }
    if (!range || range.start !== position) {
      res.destroy();
      throw new SourceLengthError("fetch_failed", `source URL stopped honouring Range requests (HTTP ${res.statusCode})`);
    }
    checkEncoding(res);
    return drain(res, Math.min(range.end, last) - position + 1, spend);
  }

  return {
    total,
    rangeable,
    async read(position, length) {
      const end = position + length;
      if (end <= head.length) return head.subarray(position, end);
      if (window && position >= window.at && end <= window.at + window.bytes.length) {
        return window.bytes.subarray(position - window.at, end - window.at);
      }
      if (!rangeable) {
        await extend(end);
        return head.subarray(Math.min(position, head.length), Math.min(end, head.length));
      }
      if (total !== null && position >= total) return Buffer.alloc(0);
      if (position <= head.length) {
        // Sequential: grow the prefix.
        const more = await fetchRange(head.length, end - head.length, CHUNK);
        head = Buffer.concat([head, more]);
        return head.subarray(position, Math.min(end, head.length));
      }
      const bytes = await fetchRange(position, length, CHUNK);
      window = { at: position, bytes };
      return bytes.subarray(0, length);
    },
    close() {
      response.destroy();
    },
  };
}

/** Read a whole (ranged) body, but never more than `limit` bytes of it. */
async function drain(response: IncomingMessage, limit: number, spend: (bytes: number) => void): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    const take = chunk.subarray(0, limit - have);
    spend(take.length);
    chunks.push(take);
    have += take.length;
    if (have >= limit) break; // a server sending more than the range asked for
  }
  response.destroy();
  return Buffer.concat(chunks);
}
