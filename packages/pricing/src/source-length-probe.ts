import { createAddressPolicy } from "./address-policy.ts";
import { measureRemoteAudio } from "./audio-length.ts";
import { defaultResolveHost, type ResolveHost } from "./guarded-request.ts";
import { openRemoteFile } from "./remote-file.ts";
import { SourceLengthError } from "./source-length-error.ts";

export interface SourceLengthProbeOptions {
  /** Hostnames, IPs or CIDRs reachable even though private (e.g. our own PUBLIC_BASE_URL host); plain http is allowed to them. */
  allowPrivateHosts?: string[];
  /** Most bytes of a source read for one measurement (default 2 MiB). */
  maxBytes?: number;
  /** Deadline for one whole measurement, redirects included, in ms (default 10 s). */
  timeoutMs?: number;
  /** DNS resolution (default `dns.promises.lookup` with `all: true`); tests pass a fake so nothing leaves the machine. */
  resolveHost?: ResolveHost;
}

export const DEFAULT_PROBE_MAX_BYTES = 2 * 1024 * 1024;
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
/** The first request asks for this much: enough for a WAV header or the first MP3 frames. */
const FIRST_BYTES = 64 * 1024;

/**
 * A function that learns a remote source track's length in seconds by reading as little of it as
 * it can (Range requests), refusing non-public addresses unless allowlisted. Every failure is a
 * SourceLengthError whose message says what was wrong; it never guesses.
 */
export function createSourceLengthProbe(options: SourceLengthProbeOptions = {}): (url: string) => Promise<number> {
  const policy = createAddressPolicy(options.allowPrivateHosts ?? []);
  const maxBytes = options.maxBytes ?? DEFAULT_PROBE_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const resolveHost = options.resolveHost ?? defaultResolveHost;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024) throw new RangeError(`maxBytes must be a whole number ≥ 1024, got ${maxBytes}`);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);

  return async function probeSourceSeconds(url: string): Promise<number> {
    const controller = new AbortController();
    const timedOut = new SourceLengthError("timeout", `measuring the source audio timed out after ${timeoutMs} ms`);
    const timer = setTimeout(() => controller.abort(timedOut), timeoutMs);
    let file;
    try {
      file = await openRemoteFile(url, { ctx: { policy, resolveHost, signal: controller.signal }, maxBytes, firstBytes: FIRST_BYTES });
      return await measureRemoteAudio(file);
    } catch (err) {
      if (controller.signal.aborted) throw timedOut;
      if (err instanceof SourceLengthError) throw err;
      throw new SourceLengthError("fetch_failed", `could not read the source audio: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
      file?.close();
      controller.abort(); // ends any request still open
    }
  };
}
