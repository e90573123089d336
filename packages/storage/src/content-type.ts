const BY_EXTENSION: Readonly<Record<string, string>> = {
  wav: "audio/wav",
  mp3: "audio/mpeg",
  flac: "audio/flac",
  ogg: "audio/ogg",
  json: "application/json",
};

/** The content type implied by a key's extension; used when an object has no recorded type. */
export function contentTypeForKey(key: string): string {
  const dot = key.lastIndexOf(".");
  const ext = dot > key.lastIndexOf("/") ? key.slice(dot + 1).toLowerCase() : "";
  return BY_EXTENSION[ext] ?? "application/octet-stream";
}

/**
 * A content type ends up in an HTTP response header when the object is served, so reject anything
 * that could split or bloat a header.
 */
export function assertValidContentType(contentType: unknown): asserts contentType is string {
  if (typeof contentType !== "string" || !/^[\x21-\x7e][\x20-\x7e]{0,254}$/.test(contentType) || !contentType.includes("/")) {
    throw new TypeError(`invalid content type ${JSON.stringify(String(contentType).slice(0, 100))}: expected something like "audio/wav"`);
  }
}
