import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { pipeline, type Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";

/** Provider JSON answers are small; anything bigger is not an answer we want to hold in memory. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export class ResponseTooLargeError extends Error {
  constructor(limit: number) {
    super(`response body larger than ${limit} bytes`);
    this.name = "ResponseTooLargeError";
  }
}

/** The body arrived in a `Content-Encoding` that cannot be decoded. */
export class UnsupportedEncodingError extends Error {
  constructor(encoding: string) {
    super(`response body in an unsupported Content-Encoding ${JSON.stringify(encoding.slice(0, 40))}`);
    this.name = "UnsupportedEncodingError";
  }
}

/**
 * The request failed before its connection was up, so none of it can have reached the server.
 * `code` is the cause's (ECONNREFUSED...), when it had one.
 */
export class RequestNotSentError extends Error {
  readonly code: string | undefined;
  constructor(cause: Error) {
    super(cause.message, { cause });
    this.name = "RequestNotSentError";
    this.code = (cause as { code?: string }).code;
  }
}

export interface JsonRequest {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  /** Serialised JSON. */
  body?: string;
  /** Aborting it ends the exchange wherever it is (connecting, sending, reading the body). */
  signal: AbortSignal;
}

/** A response head; its body is read with `readBodyText`. */
export interface JsonResponse {
  status: number;
  statusText: string;
  header(name: string): string | null;
  readonly message: IncomingMessage;
}

/**
 * Send one request and resolve with the response head. Redirects are never followed (the
 * caller's bearer token must not follow one to another host); a 3xx is returned as it is. A
 * failure before the connection is up (refused, DNS, TLS handshake, aborted while connecting)
 * rejects with `RequestNotSentError`.
 *
 * Plain `node:http(s)` rather than `fetch`, as downloads already are: every `fetch` call builds
 * web-stream readers, AbortSignal listeners and a copy of each chunk, a large share of a busy
 * worker's CPU and garbage for answers of a few hundred bytes. Connections are kept alive by
 * Node's global agents.
 */
export function sendJsonRequest({ url, method, headers, body, signal }: JsonRequest): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith("https:") ? httpsRequest : httpRequest;
    const outgoing: Record<string, string | number> = { ...headers, "accept-encoding": "identity" };
    if (body !== undefined) outgoing["content-length"] = Buffer.byteLength(body);
    let req: ReturnType<typeof send>;
    try {
      req = send(url, { method, headers: outgoing, signal }, (message) => {
        resolve({
          status: message.statusCode ?? 0,
          statusText: message.statusMessage ?? "",
          header: (name) => headerValue(message, name),
          message,
        });
      });
    } catch (error) {
      // Refused before anything went out (a header value Node will not send, a malformed URL).
      return reject(new RequestNotSentError(error as Error));
    }
    let connected = false;
    req.once("socket", (socket) => {
      // A kept-alive socket is connected already; a new one is ready once its TLS handshake (https) or TCP connect is done.
      if (!socket.connecting) connected = true;
      else socket.once(send === httpsRequest ? "secureConnect" : "connect", () => (connected = true));
    });
    req.on("error", (error) => reject(connected ? error : new RequestNotSentError(error)));
    req.end(body);
  });
}

function headerValue(message: IncomingMessage, name: string): string | null {
  const value = message.headers[name.toLowerCase()];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(", ") : value;
}

/** A response's Content-Encoding, lower-cased; `identity` when it names none. */
function contentEncoding(response: JsonResponse): string {
  return (response.header("content-encoding") ?? "").trim().toLowerCase() || "identity";
}

/** The body decoded from `encoding` (identity is asked for, but a server may compress anyway). */
function decodedBody(message: IncomingMessage, encoding: string): Readable {
  const decoder =
    encoding === "identity"
      ? null
      : encoding === "gzip" || encoding === "x-gzip"
        ? createGunzip()
        : encoding === "deflate"
          ? createInflate()
          : encoding === "br"
            ? createBrotliDecompress()
            : undefined;
  if (decoder === undefined) throw new UnsupportedEncodingError(encoding);
  if (decoder === null) return message;
  // The decoder ends in an error when the message does (a broken connection included).
  return pipeline(message, decoder, () => {});
}

/**
 * Read a response body as UTF-8 text, refusing to buffer more than `limit` decoded bytes. Rejects
 * when the signal aborts, the connection breaks before the body ends, or the body cannot be decoded.
 */
export function readBodyText(response: JsonResponse, signal: AbortSignal, limit: number = MAX_RESPONSE_BYTES): Promise<string> {
  const { message } = response;
  const encoding = contentEncoding(response);
  // A declared length counts encoded bytes; the limit is on decoded ones, checked as they arrive.
  const declared = Number(response.header("content-length"));
  if (encoding === "identity" && Number.isFinite(declared) && declared > limit) {
    message.destroy();
    return Promise.reject(new ResponseTooLargeError(limit));
  }
  let body: Readable;
  try {
    body = decodedBody(message, encoding);
  } catch (error) {
    message.destroy();
    return Promise.reject(error as Error);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const settle = (error: Error | null) => {
      signal.removeEventListener("abort", onAbort);
      body.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
      if (error === null) return resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks, total).toString("utf8"));
      if (body !== message) body.destroy();
      message.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) settle(new ResponseTooLargeError(limit));
      else chunks.push(chunk);
    };
    const onEnd = () => settle(null);
    const onError = (error: Error) => settle(error);
    const onClose = () => settle(Object.assign(new Error("the connection closed before the response body ended"), { code: "ECONNRESET" }));
    const onAbort = () => settle(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    body.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });
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
