/** A file (or byte stream) that is not audio we can measure: unknown format, truncated, or malformed. */
export class AudioProbeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AudioProbeError";
  }
}
