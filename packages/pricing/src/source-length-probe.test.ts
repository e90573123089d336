import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { ResolveHost } from "./guarded-request.ts";
import { createSourceLengthProbe, type SourceLengthProbeOptions } from "./source-length-probe.ts";
import { SourceLengthError } from "./source-length-error.ts";
import { makeCbrMp3, makeFlac, makeOggOpus, makeWav, startFileServer, type FileServerOptions, type TestServer } from "./test-support.ts";

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(options: FileServerOptions): Promise<TestServer> {
  const server = await startFileServer(options);
  servers.push(server);
  return server;
}

/** A resolver that answers from a table and never touches real DNS. */
function fakeDns(table: Record<string, string[]>): ResolveHost & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw new Error(`getaddrinfo ENOTFOUND ${hostname}`);
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

const local = (options: SourceLengthProbeOptions = {}) =>
  createSourceLengthProbe({ allowPrivateHosts: ["127.0.0.1"], resolveHost: fakeDns({}), ...options });

async function failure(promise: Promise<unknown>): Promise<SourceLengthError> {
  const err = await promise.then(
    () => {
      throw new Error("expected the probe to fail");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceLengthError);
  return err as SourceLengthError;
}

describe("source length probe: formats", () => {
  it("reads a WAV's length from its header with one range request", async () => {
    const server = await serve({ body: makeWav({ frames: 48_000 * 60 + 12 }) }); // 60.00025 s, 11.5 MB
    expect(await local()(`${server.url}/file`)).toBeCloseTo(60.00025, 9);
    expect(server.requests).toEqual([{ url: "/file", range: "bytes=0-65535" }]);
    expect(server.bytesSent()).toBe(65_536);
  });

  it("measures an open-ended WAV from the size in Content-Range", async () => {
    const server = await serve({ body: makeWav({ frames: 44_100 * 3, sampleRate: 44_100, openEnded: true }) });
    expect(await local()(`${server.url}/file`)).toBe(3);
  });

  it("reads on with another range when a WAV header is long", async () => {
    const server = await serve({ body: makeWav({ frames: 48_000 * 5, listBytes: 100_000 }) });
    expect(await local()(`${server.url}/file`)).toBe(5);
    expect(server.requests.map((r) => r.range)).toEqual(["bytes=0-65535", "bytes=65536-131071"]);
  });

  it("copes with a server that ignores Range, reading only what it needs", async () => {
    const body = makeWav({ frames: 48_000 * 120, openEnded: true }); // 23 MB, sent as a 200
    const server = await serve({ body, ranges: false });
    expect(await local({ maxBytes: 256 * 1024 })(`${server.url}/file`)).toBe(120);
    // The body was abandoned long before its end (what was written sits in socket buffers).
    await new Promise((r) => setTimeout(r, 50));
    expect(server.bytesSent()).toBeLessThan(body.length / 2);
  });

  it("estimates a CBR MP3 from its frames and the file size, skipping a large ID3 tag", async () => {
    const server = await serve({ body: makeCbrMp3({ frames: 2_000, id3Bytes: 1_000_000 }) });
    const seconds = await local({ maxBytes: 256 * 1024 })(`${server.url}/file`);
    expect(seconds).toBeCloseTo((2_000 * 1152) / 44_100, 6);
    expect(server.bytesSent()).toBeLessThan(256 * 1024);
  });

  it("reads FLAC from STREAMINFO", async () => {
    const server = await serve({ body: makeFlac(44_100, 44_100 * 95) });
    expect(await local()(`${server.url}/file`)).toBe(95);
  });

  it("reads Ogg Opus from the granule of its last page", async () => {
    const server = await serve({ body: makeOggOpus(30.5) });
    expect(await local()(`${server.url}/file`)).toBeCloseTo(30.5, 6);
  });

  it("fails clearly for a file that is not audio", async () => {
    const server = await serve({ body: Buffer.from("<!doctype html><html><body>Not found</body></html>") });
    const err = await failure(local()(`${server.url}/file`));
    expect(err.reason).toBe("not_audio");
    expect(err.message).toMatch(/not audio/);
  });

  it("fails clearly for a WAV without frames", async () => {
    const server = await serve({ body: makeWav({ frames: 0 }) });
    expect((await failure(local()(`${server.url}/file`))).message).toMatch(/no audio frames/);
  });
});

describe("source length probe: HTTP", () => {
  it("names the HTTP status", async () => {
    const server = await serve({ body: Buffer.alloc(0) });
    const err = await failure(local()(`${server.url}/missing`));
    expect(err).toMatchObject({ reason: "http_status", message: "source URL answered HTTP 404" });
  });

  it("follows up to three redirects, checking each hop", async () => {
    const server = await serve({ body: makeWav({ frames: 48_000 }) });
    const redirect = (to: string) => (_req: unknown, res: ServerResponse) => void res.writeHead(302, { location: to }).end();
    server.setRoute("/a", redirect("/b"));
    server.setRoute("/b", redirect(`${server.url}/c`));
    server.setRoute("/c", redirect("/file"));
    server.setRoute("/d", redirect("/a"));
    server.setRoute("/evil", redirect("https://internal.example/metadata"));
    const dns = fakeDns({ "internal.example": ["169.254.169.254"] });
    expect(await local({ resolveHost: dns })(`${server.url}/a`)).toBe(1);
    expect((await failure(local()(`${server.url}/d`))).reason).toBe("too_many_redirects");
    const refused = await failure(local({ resolveHost: dns })(`${server.url}/evil`));
    expect(refused.reason).toBe("refused_host");
    expect(refused.message).toMatch(/internal\.example resolves to 169\.254\.169\.254/);
  });

  it("times out a server that is too slow", async () => {
    const server = await serve({ body: makeWav({ frames: 48_000 }), delayMs: 2_000 });
    const started = Date.now();
    const err = await failure(local({ timeoutMs: 200 })(`${server.url}/file`));
    expect(err).toMatchObject({ reason: "timeout", message: "measuring the source audio timed out after 200 ms" });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it("refuses to read more than maxBytes", async () => {
    const server = await serve({ body: makeWav({ frames: 48_000, listBytes: 600_000 }) });
    const err = await failure(local({ maxBytes: 256 * 1024 })(`${server.url}/file`));
    expect(err.reason).toBe("too_large");
    expect(server.requests).toHaveLength(1); // it knew from the header that the rest would not fit
    expect(server.bytesSent()).toBe(65_536);
  });
});

describe("source length probe: which failures are transient", () => {
  it("calls a refusal of this host, a rate limit, a server error, a cut connection or a timeout transient", async () => {
    const server = await serve({ body: makeWav({ frames: 48_000 }), delayMs: 1_000 });
    for (const status of [401, 403, 429, 500, 503]) server.setRoute(`/s${status}`, (_req, res) => void res.writeHead(status).end());
    server.setRoute("/cut", (req) => void req.socket.destroy());
    for (const status of [401, 403, 429, 500, 503]) {
      const err = await failure(local()(`${server.url}/s${status}`));
      expect([err.httpStatus, err.transient], `HTTP ${status}`).toEqual([status, true]);
    }
    expect((await failure(local()(`${server.url}/cut`))).transient).toBe(true);
    expect((await failure(local({ timeoutMs: 100 })(`${server.url}/file`))).transient).toBe(true);
  });

  it("calls a missing file, a non-audio file, a redirect loop and a refused host final", async () => {
    const server = await serve({ body: Buffer.from("just some text, not audio") });
    server.setRoute("/gone", (_req, res) => void res.writeHead(410).end());
    server.setRoute("/loop", (_req, res) => void res.writeHead(302, { location: "/loop" }).end());
    const finals = [
      await failure(local()(`${server.url}/missing`)),
      await failure(local()(`${server.url}/gone`)),
      await failure(local()(`${server.url}/file`)),
      await failure(local()(`${server.url}/loop`)),
      await failure(createSourceLengthProbe({ resolveHost: fakeDns({}) })("https://10.0.0.1/a.wav")),
    ];
    expect(finals.map((e) => [e.reason, e.transient])).toEqual([
      ["http_status", false],
      ["http_status", false],
      ["not_audio", false],
      ["too_many_redirects", false],
      ["refused_host", false],
    ]);
  });
});

describe("source length probe: SSRF protection", () => {
  const targets: [string, string][] = [
    ["loopback", "127.0.0.1"],
    ["private 10/8", "10.1.2.3"],
    ["private 192.168/16", "192.168.0.10"],
    ["link-local (cloud metadata)", "169.254.169.254"],
    ["carrier-grade NAT", "100.64.0.1"],
    ["IPv6 loopback", "::1"],
    ["IPv6 unique-local", "fd00::1"],
    ["IPv6 link-local", "fe80::1"],
    ["IPv4-mapped IPv6 loopback", "::ffff:127.0.0.1"],
    ["unspecified", "0.0.0.0"],
    ["multicast", "224.0.0.1"],
  ];
  for (const [name, address] of targets) {
    it(`refuses a host resolving to ${name} (${address}) unless allowlisted`, async () => {
      const dns = fakeDns({ "media.example": [address] });
      const err = await failure(createSourceLengthProbe({ resolveHost: dns })("https://media.example/track.wav"));
      expect(err.reason).toBe("refused_host");
      expect(err.message).toContain(`resolves to ${address}`);
      expect(dns.calls).toEqual(["media.example"]);
    });
  }

  it("refuses private IP literals without asking DNS", async () => {
    const dns = fakeDns({});
    const probe = createSourceLengthProbe({ resolveHost: dns });
    for (const url of ["https://127.0.0.1/a.wav", "https://[::1]/a.wav", "https://[fd00::5]/a.wav", "https://10.0.0.1/a.wav", "https://[::ffff:10.0.0.1]/a.wav"]) {
      expect((await failure(probe(url))).reason).toBe("refused_host");
    }
    expect(dns.calls).toEqual([]);
  });

  it("refuses a name that mixes public and private answers", async () => {
    const dns = fakeDns({ "mixed.example": ["93.184.215.14", "10.0.0.7"] });
    const err = await failure(createSourceLengthProbe({ resolveHost: dns })("https://mixed.example/a.wav"));
    expect(err.message).toContain("10.0.0.7");
  });

  it("allows plain http only to allowlisted hosts", async () => {
    const server = await serve({ body: makeWav({ frames: 48_000 * 2 }) });
    const dns = fakeDns({ "media.internal": ["127.0.0.1"], "other.internal": ["127.0.0.1"] });
    const probe = createSourceLengthProbe({ allowPrivateHosts: ["media.internal"], resolveHost: dns });
    expect(await probe(`http://media.internal:${server.port}/file`)).toBe(2);
    expect(dns.calls).toEqual(["media.internal"]); // resolved once; the socket used that answer
    expect((await failure(probe(`http://other.internal:${server.port}/file`))).reason).toBe("bad_url");
    expect((await failure(probe(`https://other.internal:${server.port}/file`))).reason).toBe("refused_host");
    expect((await failure(probe("ftp://media.internal/file"))).reason).toBe("bad_url");
    expect((await failure(probe("not a url"))).reason).toBe("bad_url");
  });

  it("allows a private range by CIDR", async () => {
    const server = await serve({ body: makeWav({ frames: 48_000 }) });
    const probe = createSourceLengthProbe({ allowPrivateHosts: ["127.0.0.0/8"], resolveHost: fakeDns({}) });
    expect(await probe(`http://127.0.0.1:${server.port}/file`)).toBe(1);
  });
});
