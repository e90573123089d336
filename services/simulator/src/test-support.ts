import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";

import { buildSimulator, type SimulatorOptions } from "./app.ts";

/** Test helpers shared by the simulator's own tests (not part of the public entry). */

export const TOKEN = "sim-test-token";
export const T0 = Date.parse("2030-01-01T00:00:00Z");

/** A simulator on a fake clock: `clock.advance(ms)` moves time; nothing listens. */
export function makeSimulator(options: Omit<SimulatorOptions, "now"> = {}) {
  let t = T0;
  const { app, state } = buildSimulator({ token: TOKEN, ...options, now: () => t });
  const clock = {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
  return { app, state, clock, api: apiClient(app) };
}

export function apiClient(app: FastifyInstance, token: string | null = TOKEN) {
  const auth = token === null ? {} : { authorization: `Bearer ${token}` };
  const call = (method: "GET" | "POST" | "PUT", url: string, body?: unknown): Promise<LightMyRequestResponse> =>
    app.inject({ method, url, headers: { ...auth, ...(body === undefined ? {} : { "content-type": "application/json" }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
  return {
    call,
    submit: (model: string, input: unknown) => call("POST", `/v1/models/${model}`, input),
    status: (id: string) => call("GET", `/v1/requests/${id}/status`),
    result: (id: string, includeCost = false) => call("GET", `/v1/requests/${id}/result${includeCost ? "?include_cost=true" : ""}`),
    cancel: (id: string) => call("POST", `/v1/requests/${id}/cancel`),
    control: (method: "GET" | "POST" | "PUT", path: string, body?: unknown) => call(method, `/__sim/${path}`, body),
  };
}

/** Submit and return the request id, failing loudly if the submit was not accepted. */
export async function submitOk(api: ReturnType<typeof apiClient>, model: string, input: unknown): Promise<string> {
  const res = await api.submit(model, input);
  if (res.statusCode !== 200) throw new Error(`submit answered ${res.statusCode}: ${res.body}`);
  return (res.json() as { request_id: string }).request_id;
}

export type SourceBody = Buffer | string | (() => Readable);

/** A loopback HTTP server serving fixed bodies by path (sources for inpaint/outpaint). */
export async function startSourceServer(routes: Record<string, { body: SourceBody; status?: number; headers?: Record<string, string> }>) {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const route = routes[req.url ?? ""];
    if (route === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(route.status ?? 200, route.headers ?? {});
    if (typeof route.body === "function") route.body().on("error", () => res.destroy()).pipe(res);
    else res.end(route.body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Collect a readable stream into one buffer. */
export async function collect(stream: Readable | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}
