import { setTimeout as sleep } from "node:timers/promises";
import { createWavStream, wavByteLength, type WavStreamOptions } from "@acebatch/audio";
import type { FastifyInstance } from "fastify";
import { z } from "zod";

import { createOutputCache } from "../output-cache.ts";
import { ERROR_CODES, ProviderError } from "../provider-error.ts";
import type { SimulatorState } from "../simulator-state.ts";

const fileParams = z.object({ file: z.string() });
const FILE_NAME = /^([0-9a-f-]{36})\.wav$/;

/**
 * `GET /files/{request_id}.wav`: the provider's CDN. No auth (downloads never carry the token);
 * the WAV is synthesized while it streams, so any length costs no memory (or, with
 * `output_cache_bytes`, synthesized once to a temp file and streamed from there).
 */
export async function fileRoutes(app: FastifyInstance, options: { state: SimulatorState }): Promise<void> {
  const { state } = options;
  const cache = createOutputCache(() => state.config().output_cache_bytes);
  app.addHook("onClose", () => cache.close());

  const lookup = (params: unknown): WavStreamOptions => {
    const { file } = fileParams.parse(params);
    const id = FILE_NAME.exec(file)?.[1];
    const found = id === undefined ? undefined : state.store.get(id);
    if (found === undefined || found.expired || found.request.status !== "completed") {
      throw new ProviderError(404, ERROR_CODES.unknownRequest, `file ${file} not found`);
    }
    const { request: done } = found;
    return { durationSeconds: done.outputSeconds!, sampleRate: done.sampleRate, channels: 2, seed: done.seed, tags: done.tags };
  };
  const headers = (options: WavStreamOptions): Record<string, string> => ({
    "content-type": "audio/wav",
    "content-length": String(wavByteLength(options)),
    "cache-control": "public, max-age=86400, immutable",
  });

  app.get("/files/:file", { exposeHeadRoute: false }, async (request, reply) => {
    const options = lookup(request.params);
    const { download_delay_ms } = state.config();
    if (download_delay_ms > 0) await sleep(download_delay_ms);
    state.calls.counters.downloads++;
    if (state.config().corrupt_downloads) {
      return reply.header("content-type", "text/html").send("<!doctype html><html><body>502 Bad Gateway</body></html>");
    }
    const body = (await cache.open(options)) ?? createWavStream(options);
    return reply.headers(headers(options)).send(body);
  });

  // HEAD answers the size without rendering anything or counting a download.
  app.head("/files/:file", async (request, reply) => {
    reply.headers(headers(lookup(request.params))).send();
  });
}
