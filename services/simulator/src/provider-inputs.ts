import { isIP } from "node:net";
import { z } from "zod";
import {
  AUDIO_INPAINT,
  AUDIO_OUTPAINT,
  MODEL_INPUT_SCHEMAS,
  TEXT_TO_AUDIO,
  TEXT_TO_AUDIO_15,
  type AudioInpaintInput,
  type AudioOutpaintInput,
  type ModelId,
  type TextToAudioInput,
} from "@acebatch/contracts";

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

/**
 * The provider's `audio` field: a URL it fetches server-side. Unlike our own API it knows nothing of
 * job ids. https anywhere; plain http only on loopback, where tests serve their sources.
 */
export const providerAudioUrlField = z
  .string({ error: "audio is required: an https URL of an MP3/WAV/FLAC file" })
  .trim()
  .max(4_096, "audio must be at most 4096 characters")
  .refine(
    (value) => {
      if (!URL.canParse(value)) return false;
      const url = new URL(value);
      return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname));
    },
    { message: "audio must be a public https:// URL of an MP3/WAV/FLAC file" },
  );

/** The contracts' input schemas with `audio` narrowed to what the provider accepts. */
export const PROVIDER_INPUT_SCHEMAS = {
  [TEXT_TO_AUDIO]: MODEL_INPUT_SCHEMAS[TEXT_TO_AUDIO],
  [TEXT_TO_AUDIO_15]: MODEL_INPUT_SCHEMAS[TEXT_TO_AUDIO_15],
  [AUDIO_INPAINT]: MODEL_INPUT_SCHEMAS[AUDIO_INPAINT].safeExtend({ audio: providerAudioUrlField }),
  [AUDIO_OUTPAINT]: MODEL_INPUT_SCHEMAS[AUDIO_OUTPAINT].safeExtend({ audio: providerAudioUrlField }),
} as const;

export type ProviderInput = TextToAudioInput | AudioInpaintInput | AudioOutpaintInput;

/** Validate a submit body for `model`, applying the provider's defaults. */
export function parseProviderInput(model: ModelId, body: unknown) {
  return (PROVIDER_INPUT_SCHEMAS[model] as z.ZodType<ProviderInput>).safeParse(body);
}
