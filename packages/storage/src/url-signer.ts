import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Signed, expiring URLs for our own HTTP paths (a job's audio), so the provider can fetch a source
 * track without an API key. The signature covers the path and the expiry time.
 */
export function createUrlSigner(secret: string) {
  const mac = (path: string, expires: number) =>
    createHmac("sha256", secret).update(`${path}\n${expires}`).digest("base64url");

  return {
    /** `baseUrl + path?expires=…&signature=…`, valid for `ttlSeconds`. */
    sign(baseUrl: string, path: string, ttlSeconds: number, nowMs = Date.now()): string {
      const expires = Math.floor(nowMs / 1000) + ttlSeconds;
      const url = new URL(path, baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
      url.pathname = new URL(baseUrl).pathname.replace(/\/$/, "") + path;
      url.searchParams.set("expires", String(expires));
      url.searchParams.set("signature", mac(path, expires));
      return url.toString();
    },
    /** Whether `signature` is valid for `path` and `expires` has not passed. */
    verify(path: string, expires: string | undefined, signature: string | undefined, nowMs = Date.now()): boolean {
      if (!expires || !signature || !/^\d{1,12}$/.test(expires)) return false;
      const exp = Number(expires);
      if (exp * 1000 < nowMs) return false;
      const expected = Buffer.from(mac(path, exp));
      const given = Buffer.from(signature);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}

export type UrlSigner = ReturnType<typeof createUrlSigner>;
