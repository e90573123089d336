const MAX_DEPTH = 6;
const MAX_NODES = 2_000;

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== "string" || !/^https?:\/\//i.test(value.trim())) return false;
  return URL.canParse(value.trim());
}

/** The first http(s) URL string in `value`, depth-first in key order, bounded in depth and size. */
function walkForUrl(value: unknown): string | null {
  let visited = 0;
  const visit = (node: unknown, depth: number): string | null => {
    if (++visited > MAX_NODES) return null;
    if (isHttpUrl(node)) return node.trim();
    if (depth >= MAX_DEPTH || node === null || typeof node !== "object") return null;
    const children = Array.isArray(node) ? node : Object.values(node as Record<string, unknown>);
    for (const child of children) {
      const found = visit(child, depth + 1);
      if (found) return found;
    }
    return null;
  };
  return visit(value, 0);
}

/**
 * Where the generated audio is in a result's `output`, tolerantly: `output.audio` (a URL string),
 * then `output.audios[0]`, then anything under `audio` / `audios` (e.g. `{url}` objects), then the
 * first http(s) URL anywhere in `output`. Null when there is none.
 */
export function findAudioUrl(output: unknown): string | null {
  if (output === null || typeof output !== "object") return isHttpUrl(output) ? output.trim() : null;
  const record = output as Record<string, unknown>;
  if (isHttpUrl(record.audio)) return record.audio.trim();
  if (Array.isArray(record.audios) && isHttpUrl(record.audios[0])) return record.audios[0].trim();
  return walkForUrl(record.audio) ?? walkForUrl(record.audios) ?? walkForUrl(output);
}
