import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const RATE = 8_000;

/** A 44-byte header of a mono 16-bit 8 kHz PCM WAV of `seconds`. */
function wavHeader(seconds: number): Buffer {
  const dataBytes = seconds * RATE * 2;
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "latin1");
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write("WAVEfmt ", 8, "latin1");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write("data", 36, "latin1");
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** Answer a (Range) GET for a WAV of `seconds` of silence without ever building the whole file. */
function serveWav(req: IncomingMessage, res: ServerResponse, seconds: number) {
  const header = wavHeader(seconds);
  const size = header.length + seconds * RATE * 2;
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
  const start = m ? Number(m[1]) : 0;
  const end = Math.min(m && m[2] ? Number(m[2]) : size - 1, size - 1, start + 1_048_575);
  const body = Buffer.alloc(end - start + 1);
  if (start < header.length) header.copy(body, 0, start, Math.min(header.length, end + 1));
  res.writeHead(m ? 206 : 200, {
    "content-type": "audio/wav",
    "accept-ranges": "bytes",
    "content-length": body.length,
    ...(m ? { "content-range": `bytes ${start}-${end}/${size}` } : {}),
  });
  res.end(body);
}

/**
 * Remote source tracks on 127.0.0.1 for the batch pricing tests: `/wav/<seconds>` (a WAV of that
 * length), `/status/<code>` (an error answer), `/text` (not audio), `/drop` (the connection is cut).
 * `https://127.0.0.1:<port>` URLs (the only kind the job contract takes) are read from it by
 * `probeOverHttp`, which keeps the real SSRF-guarded probe but speaks plain http to this server.
 */
export async function startSourceServer() {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = req.url ?? "";
    requests.push(url);
    const wav = /^\/wav\/(\d+)$/.exec(url);
    const status = /^\/status\/(\d{3})$/.exec(url);
    if (wav) return serveWav(req, res, Number(wav[1]));
    if (status) return void res.writeHead(Number(status[1]), { "content-type": "text/plain" }).end("no");
    if (url === "/text") return void res.writeHead(200, { "content-type": "text/plain" }).end("hello, this is not audio at all");
    if (url === "/drop") return void req.socket.destroy();
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    /** The https URL a batch row names for `path`. */
    url: (path: string) => `https://127.0.0.1:${port}${path}`,
    requests,
    /** Wrap a probe so this server's https URLs are read over plain http (the probe allows http to allowlisted hosts). */
    probeOverHttp: (probe: (url: string) => Promise<number>) => (url: string) => probe(url.replace(`https://127.0.0.1:${port}/`, `http://127.0.0.1:${port}/`)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type SourceServer = Awaited<ReturnType<typeof startSourceServer>>;
