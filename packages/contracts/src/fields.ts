import { z } from "zod";
import { isId } from "./ids.ts";

/**
 * One definition of each provider field, with its bounds and default, as RunComfy defines it for
 * ACE Step. Every schema that carries one of these fields reuses the definition from here.
 */

export const MAX_TAGS_LENGTH = 2_000;
export const MAX_LYRICS_LENGTH = 10_000;
export const MAX_SEED = 2_147_483_647;

export const tagsField = z
  .string({ error: "tags is required: comma-separated genre / mood / instrument tags" })
  .trim()
  .min(1, "tags must not be empty")
  .max(MAX_TAGS_LENGTH, `tags must be at most ${MAX_TAGS_LENGTH} characters`);

export const lyricsField = z
  .string({ error: "lyrics must be a string (use [inst] for no vocals)" })
  .max(MAX_LYRICS_LENGTH, `lyrics must be at most ${MAX_LYRICS_LENGTH} characters`);

/** Audio length in seconds, 5–240, default 60. */
export const durationField = z
  .int({ error: "duration must be a whole number of seconds" })
  .min(5, "duration must be at least 5 seconds")
  .max(240, "duration must be at most 240 seconds (4 minutes per call)")
  .default(60);

/** -1 randomizes; otherwise 0…2147483647. */
export const seedField = z
  .int({ error: "seed must be a whole number (-1 for random)" })
  .min(-1, "seed must be -1 (random) or between 0 and 2147483647")
  .max(MAX_SEED, "seed must be at most 2147483647")
  .default(-1);

/** A point in a track in seconds, 0–240. */
export const segmentTimeField = z
  .number({ error: "must be a number of seconds" })
  .min(0, "must be at least 0 seconds")
  .max(240, "must be at most 240 seconds");

export const anchorField = z.enum(["start", "end"], { error: 'must be "start" or "end"' }).default("start");

/** Seconds of new audio to add on one side, 0–240. */
export const extensionField = z
  .number({ error: "must be a number of seconds" })
  .min(0, "must be at least 0 seconds")
  .max(240, "must be at most 240 seconds");

const HTTPS_URL = /^https:\/\/[^\s/?#]+[^\s]*$/i;

/**
 * The source track of an inpaint/outpaint job as a user submits it: a public https URL of an
 * MP3/WAV/FLAC, or the id of one of our own completed jobs (the worker hands the provider a signed
 * URL of that job's audio).
 */
export const sourceAudioField = z
  .string({ error: "audio is required: an https URL of an MP3/WAV/FLAC, or the id of a completed job" })
  .trim()
  .max(4_096, "audio must be at most 4096 characters")
  .refine((value) => isId("job", value) || (HTTPS_URL.test(value) && URL.canParse(value)), {
    message: "audio must be an https:// URL of an MP3/WAV/FLAC, or the id of a completed job (job_...)",
  });

/** Whether a validated `audio` field names one of our jobs rather than a URL. */
export function isJobReference(audio: string): boolean {
  return isId("job", audio);
}
