import { lookup as dnsLookup } from "node:dns/promises";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { normalizeHostname, type AddressPolicy } from "./address-policy.ts";
import { SourceLengthError } from "./source-length-error.ts";

/** Resolves a hostname to all its addresses (the shape of `dns.promises.lookup(host, { all: true })`). */
export type ResolveHost = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const defaultResolveHost: ResolveHost = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export interface RequestContext {
  policy: AddressPolicy;
  resolveHost: ResolveHost;
  signal: AbortSignal;
}

export const MAX_REDIRECTS = 3;

/** Resolve and check the URL's host; returns the one address the connection must use. */
async function pinAddress(url: URL, ctx: RequestContext): Promise<{ address: string; family: 4 | 6 }> {
  const host = normalizeHostname(url.hostname);
  const check = (address: string) => {
    if (!ctx.policy.addressAllowed(address, host)) {
      throw new SourceLengthError(
        "refused_host",
        `source host ${host} resolves to ${address}, a loopback/private/link-local/unique-local/multicast or otherwise non-public address: refused`,
      );
    }
  };
  if (ipaddr.isValid(host)) {
    check(host);
    return { address: host, family: host.includes(":") ? 6 : 4 };
  }
  let addresses: { address: string; family: number }[];
  try {
    addresses = await abortable(ctx.resolveHost(host), ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw new SourceLengthError("fetch_failed", `could not resolve source host ${host}: ${(err as Error).message}`, { cause: err });
  }
  if (addresses.length === 0) throw new SourceLengthError("fetch_failed", `source host ${host} has no addresses`);
  // Every address must pass: a name that mixes public and private answers is not trusted.
  for (const { address } of addresses) check(address);
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** A `lookup` for the socket that can only answer the address already checked (no second DNS answer to rebind to). */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** One GET, no redirects followed, to a checked and pinned address. */
async function getOnce(url: URL, headers: Record<string, string>, ctx: RequestContext): Promise<IncomingMessage> {
  const host = normalizeHostname(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && ctx.policy.hostAllowlisted(host))) {
    throw new SourceLengthError("bad_url", `source URL must use https (plain http only for allowlisted hosts): ${url.protocol}//${url.host}`);
  }
  if (url.username || url.password) throw new SourceLengthError("bad_url", "source URL must not carry credentials");
  const pinned = await pinAddress(url, ctx);
  const client = url.protocol === "https:" ? https : http;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const request = client.request(
      {
        protocol: url.protocol,
        hostname: host,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: "GET",
        headers: { "user-agent": "acebatch-source-probe", accept: "audio/*, */*;q=0.1", "accept-encoding": "identity", ...headers },
        lookup: pinnedLookup(pinned.address, pinned.family),
        agent: false,
        signal: ctx.signal,
        ...(url.protocol === "https:" && !ipaddr.isValid(host) ? { servername: host } : {}),
      },
      resolve,
    );
    request.on("error", (err) => {
      if (ctx.signal.aborted) reject(ctx.signal.reason);
      else reject(new SourceLengthError("fetch_failed", `could not fetch source audio from ${url.host}: ${err.message}`, { cause: err }));
    });
    request.end();
  });
}

/** GET with redirects followed by hand (at most MAX_REDIRECTS), each hop checked again. */
export async function guardedGet(
  start: URL,
  headers: Record<string, string>,
  ctx: RequestContext,
): Promise<{ response: IncomingMessage; url: URL }> {
  let url = start;
  for (let hop = 0; ; hop++) {
    const response = await getOnce(url, headers, ctx);
    const status = response.statusCode ?? 0;
    if (![301, 302, 303, 307, 308].includes(status)) return { response, url };
    response.destroy();
    const location = response.headers.location;
    if (!location) throw new SourceLengthError("http_status", `source URL answered HTTP ${status} without a Location`, { httpStatus: status });
    if (hop >= MAX_REDIRECTS) throw new SourceLengthError("too_many_redirects", `source URL redirected more than ${MAX_REDIRECTS} times`);
    try {
      url = new URL(location, url);
    } catch {
      throw new SourceLengthError("bad_url", `source URL redirected to an invalid location: ${location.slice(0, 200)}`);
    }
  }
}
