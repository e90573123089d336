/** Audio container formats we recognise by their first bytes. */
export type AudioFormat = "wav" | "mp3" | "flac" | "ogg";

export const AUDIO_CONTENT_TYPES: Readonly<Record<AudioFormat, string>> = {
  wav: "audio/wav",
  mp3: "audio/mpeg",
  flac: "audio/flac",
  ogg: "audio/ogg",
};

/** How many leading bytes `detectAudioFormat` needs to decide. */
export const AUDIO_MAGIC_BYTES = 12;

function ascii(head: Uint8Array, offset: number, text: string): boolean {
  if (head.length < offset + text.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (head[offset + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * An MPEG audio frame header: 11 sync bits, then a version other than "reserved" (01) and a layer
 * other than "reserved" (00). The layer check keeps AAC ADTS (0xFFF1/0xFFF9, layer 00) out.
 */
function isMpegFrameSync(head: Uint8Array): boolean {
  if (head.length < 2 || head[0] !== 0xff) return false;
  const b1 = head[1]!;
  if ((b1 & 0xe0) !== 0xe0) return false;
  const version = (b1 >> 3) & 0b11;
  const layer = (b1 >> 1) & 0b11;
  return version !== 0b01 && layer !== 0b00;
}

/**
 * Identify an audio file from its first bytes (at least `AUDIO_MAGIC_BYTES` for WAV): RIFF/WAVE,
 * an ID3 tag or MPEG frame sync, fLaC, OggS. Returns null for anything else.
 */
export function detectAudioFormat(head: Uint8Array): { format: AudioFormat; contentType: string } | null {
  let format: AudioFormat | null = null;
  if (ascii(head, 0, "RIFF") && ascii(head, 8, "WAVE")) format = "wav";
  else if (ascii(head, 0, "fLaC")) format = "flac";
  else if (ascii(head, 0, "OggS")) format = "ogg";
  else if (ascii(head, 0, "ID3") || isMpegFrameSync(head)) format = "mp3";
  return format === null ? null : { format, contentType: AUDIO_CONTENT_TYPES[format] };
}
