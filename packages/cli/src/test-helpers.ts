// Helpers for this package's unit tests: a tiny HTTP server on 127.0.0.1 scripted per test, and a
// way to run the CLI in-process while capturing what it prints.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { runCli, type CliIo } from "./run-cli.ts";

export interface ScriptedRequest {
  method: string;
  /** Path and query, e.g. `/v1/jobs?limit=2`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Reply =
  | { status: number; json?: unknown; body?: string | Uint8Array; headers?: Record<string, string> }
  /** Accept the request and never answer (timeouts). */
  | "hang";

export interface ScriptedServer {
  url: string;
  requests: ScriptedRequest[];
  close(): Promise<void>;
}

/** Serve every request with `handler`'s reply; records the requests it saw. */
export async function startScriptedServer(handler: (req: ScriptedRequest) => Reply | Promise<Reply>): Promise<ScriptedServer> {
  const requests: ScriptedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const seen = { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(seen);
      const reply = await handler(seen);
      if (reply === "hang") return;
      const headers: Record<string, string> = { ...reply.headers };
      let body: string | Uint8Array = reply.body ?? "";
      if (reply.json !== undefined) {
        headers["content-type"] ??= "application/json";
        body = JSON.stringify(reply.json);
      }
      res.writeHead(reply.status, headers).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export const TEST_KEY = "test-key-0123456789abcdef";

/** Run the CLI in-process against `url` with a key (unless `env` overrides it). */
export async function run(argv: string[], options: { url?: string; env?: Record<string, string | undefined>; isTTY?: boolean; columns?: number } & Partial<Pick<CliIo, "signal" | "stdin">> = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), columns: options.columns },
    env: { ACEBATCH_URL: options.url, ACEBATCH_API_KEY: TEST_KEY, ...options.env },
    isTTY: options.isTTY ?? false,
    pollMs: 5,
    signal: options.signal,
    stdin: options.stdin,
  });
  return { code, stdout, stderr };
}

/** A job as the API returns it, with overrides. */
export function makeJob(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "job_01jd8x0000000000000000000a",
    model: "acestep-ai/ace-step/text-to-audio",
    input: { tags: "lo-fi", duration: 5, seed: -1 },
    status: "queued",
    batch_id: null,
    schedule_id: null,
    attempts: 0,
    provider: { name: "runcomfy", request_id: null, status: null, queue_position: null },
    estimated_cost_usd: 0.001,
    cost_usd: null,
    output: null,
    error: null,
    metadata: {},
    webhook_url: null,
    cancel_requested: false,
    created_at: "2026-01-01T00:00:00.000Z",
    started_at: null,
    finished_at: null,
    ...overrides,
  };
}
