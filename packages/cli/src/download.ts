import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { link, mkdir, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { CliError, EXIT } from "./exit-codes.ts";
import { mapFetchError, type ApiClient } from "./http-client.ts";

/** Audio may be minutes long; a download gets at least this long, in milliseconds. */
export const MIN_DOWNLOAD_TIMEOUT_MS = 300_000;
/** Numbered alternatives tried before giving up on a free file name. */
const MAX_SUFFIX = 999;

const EXTENSIONS: Readonly<Record<string, string>> = {
  "audio/wav": ".wav",
  "audio/wave": ".wav",
  "audio/x-wav": ".wav",
  "audio/vnd.wave": ".wav",
  "audio/mpeg": ".mp3",
  "audio/mp3": ".mp3",
  "audio/flac": ".flac",
  "audio/x-flac": ".flac",
  "audio/ogg": ".ogg",
  "application/ogg": ".ogg",
  "audio/opus": ".opus",
  "audio/mp4": ".m4a",
  "audio/aac": ".aac",
  "audio/webm": ".webm",
};

/** File extension for a Content-Type (`audio/wav; x=y` → `.wav`); `.bin` for other audio; undefined when not audio. */
export function extensionFor(contentType: string | null): string | undefined {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (EXTENSIONS[type]) return EXTENSIONS[type];
  return type.startsWith("audio/") ? ".bin" : undefined;
}

/** A single safe path component from an id: no separators, no leading dots, bounded length. */
export function safeFileStem(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "").slice(0, 200);
  return cleaned === "" ? "audio" : cleaned;
}

/** `<stem><ext>`, then `<stem>-1<ext>`, `<stem>-2<ext>`, … */
export function candidateName(stem: string, ext: string, n: number): string {
  return n === 0 ? `${stem}${ext}` : `${stem}-${n}${ext}`;
}

export interface SavedAudio {
  path: string;
  bytes: number;
  /** True when an identical file was already there (nothing new written). */
  reused: boolean;
}

export interface DownloadOptions {
  api: ApiClient;
  jobId: string;
  dir: string;
  /** Expected sha256 (hex) from the job's `output`; a mismatch fails the download. */
  sha256?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * Download a job's audio into `dir` as `<job_id>.<ext>` (extension from the Content-Type), the way
 * `runcomfy run --output-dir` users expect: the directory is created, the file is written to a
 * temporary name and then linked into place, and an existing file is never overwritten — the same
 * bytes are reused, different bytes get the next free `-N` suffix.
 */
export async function downloadJobAudio(options: DownloadOptions): Promise<SavedAudio> {
  const { api, jobId, dir } = options;
  const timeoutMs = Math.max(options.timeoutMs, MIN_DOWNLOAD_TIMEOUT_MS);
  const path = `/v1/jobs/${encodeURIComponent(jobId)}/audio`;
  const res = await api.stream(path, { timeoutMs });
  const ext = extensionFor(res.headers.get("content-type"));
  if (!ext || !res.body) {
    await res.body?.cancel();
    throw new CliError(EXIT.failure, `GET ${path} did not answer with audio (Content-Type ${res.headers.get("content-type") ?? "none"})`, {
      code: "not_audio",
    });
  }
  await mkdir(dir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(EXIT.failure, `cannot create --output-dir ${dir}: ${err.code ?? err.message}`, { code: "output_dir" });
  });

  const stem = safeFileStem(jobId);
  const temp = join(dir, `.${stem}.${randomBytes(6).toString("hex")}.part`);
  const hash = createHash("sha256");
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), tap, createWriteStream(temp, { flags: "wx", mode: 0o644 }));
  } catch (err) {
    await unlink(temp).catch(() => {});
    if ((err as NodeJS.ErrnoException).syscall) {
      throw new CliError(EXIT.failure, `cannot write ${temp}: ${(err as NodeJS.ErrnoException).code}`, { code: "write_failed" });
    }
    throw mapFetchError(err, { method: "GET", url: `${api.baseUrl}${path}`, limitMs: timeoutMs, userSignal: options.signal });
  }
  const digest = hash.digest("hex");
  if (options.sha256 && options.sha256 !== digest) {
    await unlink(temp).catch(() => {});
    throw new CliError(EXIT.failure, `the audio of ${jobId} does not match its sha256 (got ${digest}, expected ${options.sha256}); nothing was saved`, {
      code: "checksum_mismatch",
    });
  }
  try {
    return await place(temp, dir, stem, ext, digest, bytes);
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/** Give the finished temp file its final name without ever replacing an existing file. */
async function place(temp: string, dir: string, stem: string, ext: string, digest: string, bytes: number): Promise<SavedAudio> {
  for (let n = 0; n <= MAX_SUFFIX; n++) {
    const target = join(dir, candidateName(stem, ext, n));
    try {
      // link() fails with EEXIST instead of replacing: no window in which another file is clobbered.
      await link(temp, target);
      return { path: target, bytes, reused: false };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") {
        if (await sameContent(target, digest)) return { path: target, bytes, reused: true };
        continue;
      }
      if (code === "EPERM" || code === "ENOTSUP" || code === "ENOSYS" || code === "EXDEV") {
        // Filesystems without hard links: check, then rename (a narrow race, accepted there).
        if (await exists(target)) {
          if (await sameContent(target, digest)) return { path: target, bytes, reused: true };
          continue;
        }
        await rename(temp, target);
        return { path: target, bytes, reused: false };
      }
      throw new CliError(EXIT.failure, `cannot save ${target}: ${code ?? String(err)}`, { code: "write_failed" });
    }
  }
  throw new CliError(EXIT.failure, `no free file name for ${stem}${ext} in ${dir} (tried ${MAX_SUFFIX} suffixes)`, { code: "write_failed" });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function sameContent(path: string, digest: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest("hex") === digest;
  } catch {
    return false;
  }
}
