import { lookup as dnsLookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import type { AddressPolicy, ResolveHost } from "@acebatch/pricing";

/** The outcome of one POST: `ok` for 2xx; `permanent` when trying again cannot help (bad or refused URL). */
export interface PostOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  permanent: boolean;
}

export interface PostOptions {
  policy: AddressPolicy;
  timeoutMs: number;
  signal?: AbortSignal;
  resolveHost?: ResolveHost;
}

const defaultResolveHost: ResolveHost = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** How much of a failing response's body is kept for the delivery's `last_error`. */
const ERROR_SNIPPET_BYTES = 512;

const permanent = (error: string): PostOutcome => ({ ok: false, statusCode: null, error, permanent: true });
const transient = (error: string, statusCode: number | null = null): PostOutcome => ({ ok: false, statusCode, error, permanent: false });

/** A socket `lookup` that can only answer the address already checked (no second DNS answer to rebind to). */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/**
 * POST a webhook body once: http(s) only, no credentials in the URL, every resolved address must be
 * public unicast unless the host is allowlisted, the connection is pinned to the checked address,
 * redirects are not followed (a 3xx is a failed attempt), and the whole exchange has a deadline.
 */
export async function postWebhook(target: string, body: string, headers: Record<string, string>, options: PostOptions): Promise<PostOutcome> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return permanent("not a valid URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return permanent(`only http(s) URLs receive webhooks, not ${url.protocol}`);
  if (url.username || url.password) return permanent("webhook URLs must not carry credentials");
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]);

  let addresses: { address: string; family: number }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await (options.resolveHost ?? defaultResolveHost)(host);
    } catch (err) {
      return transient(`could not resolve ${host}: ${(err as Error).message}`);
    }
    if (addresses.length === 0) return transient(`${host} has no addresses`);
  }
  // Every answer must pass: a name that mixes public and private answers is not trusted.
  for (const { address } of addresses) {
    if (!options.policy.addressAllowed(address, host)) {
      return permanent(`${host} resolves to ${address}, a private, loopback or otherwise non-public address: refused (allowlist it with WEBHOOK_ALLOW_PRIVATE_HOSTS)`);
    }
  }
  const pinned = addresses[0]!;
  const payload = Buffer.from(body);
  const client = url.protocol === "https:" ? https : http;

  return new Promise<PostOutcome>((resolve) => {
    let settled = false;
    const done = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const request = client.request(
      {
        protocol: url.protocol,
        hostname: host,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": String(payload.length),
          "user-agent": "acebatch-webhooks/1",
          ...headers,
        },
        lookup: pinnedLookup(pinned.address, pinned.family === 6 ? 6 : 4),
        agent: false,
        signal,
        ...(url.protocol === "https:" && !isIP(host) ? { servername: host } : {}),
      },
      (response) => {
        const status = response.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let kept = 0;
        response.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          kept += chunk.length;
          // Only a snippet is kept; a receiver streaming a large answer must not hold the worker.
          if (kept >= ERROR_SNIPPET_BYTES) response.destroy();
        });
        const finish = () => {
          if (status >= 200 && status < 300) return done({ ok: true, statusCode: status, error: null, permanent: false });
          const snippet = Buffer.concat(chunks).subarray(0, ERROR_SNIPPET_BYTES).toString("utf8").replace(/\s+/g, " ").trim();
          const redirect = status >= 300 && status < 400 ? ` (redirects are not followed; Location: ${response.headers.location ?? "none"})` : "";
          done(transient(`HTTP ${status}${redirect}${snippet ? `: ${snippet}` : ""}`, status));
        };
        response.on("end", finish);
        response.on("error", () => finish());
        response.on("close", finish);
      },
    );
    request.on("error", (err) => {
      if (signal.aborted) {
        const timedOut = options.signal?.aborted !== true;
        return done(transient(timedOut ? `no answer within ${options.timeoutMs / 1_000} s` : "aborted (worker shutting down)"));
      }
      done(transient(`could not POST to ${url.host}: ${err.message}`));
    });
    request.end(payload);
  });
}
