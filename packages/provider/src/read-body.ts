/** Provider JSON answers are small; anything bigger is not an answer we want to hold in memory. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export class ResponseTooLargeError extends Error {
  constructor(limit: number) {
    super(`response body larger than ${limit} bytes`);
    this.name = "ResponseTooLargeError";
  }
}

/** Read a response body as UTF-8 text, refusing to buffer more than `limit` bytes. */
export async function readBodyText(response: Response, limit: number = MAX_RESPONSE_BYTES): Promise<string> {
  if (!response.body) return "";
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body.cancel().catch(() => {});
    throw new ResponseTooLargeError(limit);
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new ResponseTooLargeError(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Parse JSON text; undefined when it is not JSON (the caller decides whether that matters). */
export function parseJsonOrUndefined(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
