// Test helpers: hand-built audio files and a local HTTP server with switchable Range support.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A 16-bit PCM WAV of `frames` frames; `openEnded` writes a data size of 0xFFFFFFFF; `listBytes` adds a LIST chunk first. */
export function makeWav({ frames, sampleRate = 48_000, channels = 2, openEnded = false, listBytes = 0 }: {
  frames: number;
  sampleRate?: number;
  channels?: number;
  openEnded?: boolean;
  listBytes?: number;
}): Buffer {
  const dataBytes = frames * channels * 2;
  const fmt = Buffer.alloc(24);
  fmt.write("fmt ", 0, "ascii");
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(sampleRate, 12);
  fmt.writeUInt32LE(sampleRate * channels * 2, 16);
  fmt.writeUInt16LE(channels * 2, 20);
  fmt.writeUInt16LE(16, 22);
  const list = listBytes > 0 ? Buffer.concat([chunkHeader("LIST", listBytes), Buffer.alloc(listBytes)]) : Buffer.alloc(0);
  const data = chunkHeader("data", openEnded ? 0xffff_ffff : dataBytes);
  const riff = Buffer.alloc(12);
  riff.write("RIFF", 0, "ascii");
  riff.writeUInt32LE(Math.min(0xffff_ffff, 4 + fmt.length + list.length + data.length + dataBytes), 4);
  riff.write("WAVE", 8, "ascii");
  return Buffer.concat([riff, fmt, list, data, Buffer.alloc(dataBytes, 1)]);
}

function chunkHeader(id: string, size: number): Buffer {
  const b = Buffer.alloc(8);
  b.write(id, 0, "ascii");
  b.writeUInt32LE(size, 4);
  return b;
}

/** A CBR MP3 (MPEG-1 Layer III, 128 kb/s, 44.1 kHz, no Xing header) of `frames` frames after an ID3v2 tag of `id3Bytes`. */
export function makeCbrMp3({ frames, id3Bytes = 0 }: { frames: number; id3Bytes?: number }): Buffer {
  const frame = Buffer.alloc(417); // 144 × 128000 / 44100, no padding
  frame.set([0xff, 0xfb, 0x90, 0x00]);
  const parts: Buffer[] = [];
  if (id3Bytes > 0) {
    const tag = Buffer.alloc(10 + id3Bytes);
    tag.write("ID3", 0, "latin1");
    tag[3] = 3;
    for (let i = 0; i < 4; i++) tag[6 + i] = (id3Bytes >> (7 * (3 - i))) & 0x7f; // synchsafe size
    parts.push(tag);
  }
  for (let i = 0; i < frames; i++) parts.push(frame);
  return Buffer.concat(parts);
}

/** A FLAC with only a STREAMINFO block (enough to know its length) and some filler. */
export function makeFlac(sampleRate: number, totalSamples: number): Buffer {
  const b = Buffer.alloc(42);
  b.write("fLaC", 0, "ascii");
  b[4] = 0x80; // last metadata block, STREAMINFO
  b.writeUIntBE(34, 5, 3);
  b.writeUInt16BE(4096, 8);
  b.writeUInt16BE(4096, 10);
  b.writeBigUInt64BE((BigInt(sampleRate) << 44n) | (1n << 41n) | (15n << 36n) | BigInt(totalSamples), 18);
  return Buffer.concat([b, Buffer.alloc(200_000)]);
}

function oggPage(type: number, granule: bigint, sequence: number, packet: Buffer): Buffer {
  const segments: number[] = [];
  let left = packet.length;
  while (left >= 255) {
    segments.push(255);
    left -= 255;
  }
  segments.push(left);
  const header = Buffer.alloc(27);
  header.write("OggS", 0, "ascii");
  header[5] = type;
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(0x1234, 14);
  header.writeUInt32LE(sequence, 18);
  header[26] = segments.length;
  return Buffer.concat([header, Buffer.from(segments), packet]);
}

/** An Ogg Opus file of `seconds` (48 kHz granules after a pre-skip of 312), with `pages` audio pages. */
export function makeOggOpus(seconds: number, pages = 40): Buffer {
  const head = Buffer.alloc(19);
  head.write("OpusHead", 0, "ascii");
  head[8] = 1;
  head[9] = 2;
  head.writeUInt16LE(312, 10);
  head.writeUInt32LE(48_000, 12);
  const tags = Buffer.concat([Buffer.from("OpusTags", "ascii"), Buffer.from([4, 0, 0, 0]), Buffer.from("test"), Buffer.alloc(4)]);
  const out = [oggPage(0x02, 0n, 0, head), oggPage(0, 0n, 1, tags)];
  const total = BigInt(Math.round(seconds * 48_000)) + 312n;
  for (let i = 1; i <= pages; i++) {
    const packet = Buffer.alloc(4_000);
    packet[0] = 0xfc;
    out.push(oggPage(i === pages ? 0x04 : 0, (total * BigInt(i)) / BigInt(pages), i + 1, packet));
  }
  return Buffer.concat(out);
}

export interface FileServerOptions {
  body: Buffer;
  /** Honour Range (default true); false answers 200 with the whole body. */
  ranges?: boolean;
  /** Wait this long before answering, in ms. */
  delayMs?: number;
  contentType?: string;
}

export interface TestServer {
  url: string;
  port: number;
  /** Requests seen (method, url, range header). */
  requests: { url: string; range: string | undefined }[];
  /** Body bytes written so far. */
  bytesSent(): number;
  setRoute(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  close(): Promise<void>;
}

/** Serve files on 127.0.0.1 (port chosen by the OS); `/file` serves `options.body`. */
export async function startFileServer(options: FileServerOptions): Promise<TestServer> {
  const requests: TestServer["requests"] = [];
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  let sent = 0;
  const send = (res: ServerResponse, bytes: Buffer) => {
    // Write in 16 KiB pieces so a client that stops reading early is visible in bytesSent().
    let offset = 0;
    const pump = () => {
      while (offset < bytes.length) {
        const piece = bytes.subarray(offset, offset + 16_384);
        offset += piece.length;
        sent += piece.length;
        if (!res.write(piece)) return void res.once("drain", pump);
      }
      res.end();
    };
    res.on("close", () => (offset = bytes.length));
    pump();
  };
  const server: Server = createServer((req, res) => {
    requests.push({ url: req.url ?? "", range: req.headers.range });
    const route = routes.get(req.url ?? "");
    if (route) return route(req, res);
    if (req.url !== "/file") {
      res.writeHead(404).end("not found");
      return;
    }
    setTimeout(() => {
      const { body } = options;
      const match = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
      const headers = { "content-type": options.contentType ?? "application/octet-stream", "accept-ranges": "bytes" };
      if (options.ranges === false || !match) {
        res.writeHead(200, { ...headers, "content-length": body.length });
        return send(res, body);
      }
      let start = match[1] === "" ? body.length - Number(match[2]) : Number(match[1]);
      let end = match[1] === "" || match[2] === "" ? body.length - 1 : Math.min(Number(match[2]), body.length - 1);
      start = Math.max(0, start);
      if (start >= body.length) {
        res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
        return;
      }
      end = Math.max(start, end);
      res.writeHead(206, { ...headers, "content-range": `bytes ${start}-${end}/${body.length}`, "content-length": end - start + 1 });
      send(res, body.subarray(start, end + 1));
    }, options.delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    bytesSent: () => sent,
    setRoute: (path, handler) => routes.set(path, handler),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
