import { isJobReference } from "@acebatch/contracts";
import type { JobStore } from "@acebatch/queue";
import type { ObjectStorage, UrlSigner } from "@acebatch/storage";
import { JobFailure } from "./job-failure.ts";

/**
 * The provider fetches `input.audio` itself, so a reference to one of our jobs becomes a signed,
 * expiring URL of that job's audio under our public base URL.
 */
export function createSourceResolver(deps: {
  store: JobStore;
  storage: Pick<ObjectStorage, "presignedGetUrl">;
  signer: UrlSigner;
  publicBaseUrl: string;
  ttlSeconds: number;
}) {
  return async function resolveProviderInput(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const audio = input.audio;
    if (typeof audio !== "string" || !isJobReference(audio)) return input;
    const source = await deps.store.get(audio);
    if (!source?.output) {
      throw new JobFailure("source_audio_unavailable", `source job ${audio} has no stored audio (status ${source?.status ?? "missing"})`);
    }
    // Object storage that can sign its own links (S3) serves the provider directly; otherwise our API does.
    const url = deps.storage.presignedGetUrl
      ? await deps.storage.presignedGetUrl(source.output.storage_key, deps.ttlSeconds)
      : deps.signer.sign(deps.publicBaseUrl, `/v1/jobs/${audio}/audio`, deps.ttlSeconds);
    return { ...input, audio: url };
  };
}
