/** The PATH ffmpeg and ffprobe are looked up on (there is deliberately no setting for their location). */
export function executableSearchPath(): string {
  return process.env.PATH ?? "";
}
