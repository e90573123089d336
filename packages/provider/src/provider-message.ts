const MAX_MESSAGE_CHARS = 500;

function asText(value: unknown): string | null {
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  if (Array.isArray(value) && value.length > 0) {
    // FastAPI-style `detail: [{msg, loc}]`.
    const parts = value.map((item) => asText(item) ?? asText((item as { msg?: unknown } | null)?.msg)).filter((p) => p !== null);
    return parts.length > 0 ? parts.join("; ") : null;
  }
  return null;
}

/** The provider's own error text from a body: `error_message`, `message`, `detail` or a string `error`. */
export function providerErrorMessage(body: unknown): string | null {
  if (body === null || typeof body !== "object") return null;
  const record = body as Record<string, unknown>;
  const error = record.error;
  const nested = error !== null && typeof error === "object" ? (error as Record<string, unknown>) : null;
  return (
    asText(record.error_message) ??
    asText(record.message) ??
    asText(record.detail) ??
    asText(error) ??
    asText(nested?.error_message) ??
    asText(nested?.message) ??
    null
  );
}

/** The body's top-level `error_code` as a number, or null (also when it is absent or null). */
export function providerErrorCode(body: unknown): number | null {
  if (body === null || typeof body !== "object") return null;
  const code = (body as Record<string, unknown>).error_code;
  if (typeof code === "number" && Number.isFinite(code)) return code;
  if (typeof code === "string" && /^\s*\d{1,12}\s*$/.test(code)) return Number(code);
  return null;
}

/** Whether the body has a top-level `error_code` that is not null: a 2xx carrying one is a failure. */
export function hasErrorCode(body: unknown): boolean {
  if (body === null || typeof body !== "object") return false;
  const code = (body as Record<string, unknown>).error_code;
  return code !== undefined && code !== null;
}

/** Shorten provider text and scrub the token, should a provider ever echo it back. */
export function sanitizeMessage(text: string, token: string): string {
  let clean = token.length >= 4 ? text.split(token).join("[redacted]") : text;
  clean = clean.replace(/[\r\n\t]+/g, " ");
  return clean.length > MAX_MESSAGE_CHARS ? `${clean.slice(0, MAX_MESSAGE_CHARS)}…` : clean;
}
