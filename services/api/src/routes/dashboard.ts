import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/** Where the dashboard's plain HTML, ES modules and CSS live (no build step). */
export const DASHBOARD_ROOT = fileURLToPath(new URL("../../public/", import.meta.url));

/**
 * The page may only talk to this origin, run its own scripts and play audio from Blob URLs;
 * API data is never turned into markup, and this makes an injected `<script>` inert anyway.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * GET / and the dashboard's assets, without auth: the page itself asks for an API key and sends it
 * as a bearer header to /v1. Only files present at start-up are routed (no wildcard), so unknown
 * paths still reach the app's `route_not_found` handler.
 */
export async function dashboardRoutes(app: FastifyInstance, { root = DASHBOARD_ROOT }: { root?: string } = {}) {
  await app.register(fastifyStatic, {
    root,
    prefix: "/",
    wildcard: false,
    index: ["index.html"],
    // No hashed file names without a bundler: let browsers revalidate (ETag) so a deploy shows at once.
    cacheControl: false,
    setHeaders(reply) {
      reply.header("cache-control", "no-cache");
      reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
      reply.header("x-content-type-options", "nosniff");
      reply.header("referrer-policy", "no-referrer");
    },
  });
}
