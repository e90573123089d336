import { usdToMicroUsd } from "@acebatch/contracts";
import { z } from "zod";

import { findAudioUrl } from "./audio-url.ts";
import { normalizeRequestStatus, type ProviderRequestStatus } from "./request-status.ts";
import { ResponseShapeError } from "./response-shape-error.ts";
import { parseCostUsd, parseRemoteError, parseSeed, parseTimestamp } from "./result-fields.ts";

/** Printable, no whitespace: it goes into URL paths (escaped) and log lines. */
const requestIdField = z.string().regex(/^[\x21-\x7e]{1,256}$/, "request_id must be 1-256 printable characters");
const optionalUrl = z
  .string()
  .nullish()
  .transform((v) => (v && URL.canParse(v) ? v : undefined));
const statusText = z.string().min(1).max(64);

const submitSchema = z.looseObject({
  request_id: requestIdField,
  status_url: optionalUrl,
  result_url: optionalUrl,
  cancel_url: optionalUrl,
});
const statusSchema = z.looseObject({
  status: statusText,
  queue_position: z.unknown().optional(),
});
const resultSchema = z.looseObject({
  status: statusText.nullish(),
  output: z.unknown().optional(),
  cost: z.unknown().optional(),
  error: z.unknown().optional(),
  seed: z.unknown().optional(),
  created_at: z.unknown().optional(),
  finished_at: z.unknown().optional(),
});
const cancelSchema = z.looseObject({
  status: statusText.nullish(),
  outcome: statusText,
});

export interface SubmitResult {
  requestId: string;
  statusUrl?: string;
  resultUrl?: string;
  cancelUrl?: string;
}

export interface StatusResult {
  requestId: string;
  status: ProviderRequestStatus;
  /** The status exactly as the provider spelled it. */
  rawStatus: string;
  queuePosition: number | null;
}

export interface ResultResult {
  requestId: string;
  status: ProviderRequestStatus;
  audioUrl: string | null;
  /** The provider's charge, USD (null without `include_cost` or when absent). */
  costUsd: number | null;
  /** The same charge in integer micro-dollars, rounded up. */
  costMicroUsd: number | null;
  /** The remote error of a failed request. */
  error: string | null;
  seed: number | null;
  createdAt: string | null;
  finishedAt: string | null;
}

export interface CancelResult {
  outcome: "cancelled" | "not_cancellable";
  /** The request's status after the cancel, when the provider said (or `cancelled` when the outcome implies it). */
  status: ProviderRequestStatus | null;
}

function shape<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  throw new ResponseShapeError(`${where}${issue?.message ?? "invalid"}`);
}

function knownStatus(raw: string): ProviderRequestStatus {
  const status = normalizeRequestStatus(raw);
  if (status === null) throw new ResponseShapeError(`unknown request status ${JSON.stringify(raw.slice(0, 64))}`);
  return status;
}

function queuePosition(value: unknown): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

export function parseSubmitResponse(body: unknown): SubmitResult {
  const data = shape(submitSchema, body);
  const result: SubmitResult = { requestId: data.request_id };
  if (data.status_url) result.statusUrl = data.status_url;
  if (data.result_url) result.resultUrl = data.result_url;
  if (data.cancel_url) result.cancelUrl = data.cancel_url;
  return result;
}

export function parseStatusResponse(body: unknown, requestId: string): StatusResult {
  const data = shape(statusSchema, body);
  return { requestId, status: knownStatus(data.status), rawStatus: data.status, queuePosition: queuePosition(data.queue_position) };
}

export function parseResultResponse(body: unknown, requestId: string): ResultResult {
  const data = shape(resultSchema, body);
  const audioUrl = findAudioUrl(data.output);
  let status: ProviderRequestStatus;
  if (data.status) status = knownStatus(data.status);
  else if (audioUrl !== null) status = "completed"; // a finished result with output but no status field
  else throw new ResponseShapeError("status: missing, and no output to infer it from");
  const output = data.output !== null && typeof data.output === "object" ? (data.output as Record<string, unknown>) : {};
  const costUsd = parseCostUsd(data.cost);
  return {
    requestId,
    status,
    audioUrl,
    costUsd,
    costMicroUsd: costUsd === null ? null : usdToMicroUsd(costUsd),
    error: parseRemoteError(data.error),
    seed: parseSeed(output.seed) ?? parseSeed(data.seed),
    createdAt: parseTimestamp(data.created_at),
    finishedAt: parseTimestamp(data.finished_at),
  };
}

export function parseCancelResponse(body: unknown): CancelResult {
  const data = shape(cancelSchema, body);
  const outcomeKey = data.outcome.trim().toLowerCase().replace(/[\s-]+/g, "_");
  let outcome: CancelResult["outcome"];
  if (outcomeKey === "cancelled" || outcomeKey === "canceled") outcome = "cancelled";
  else if (outcomeKey === "not_cancellable" || outcomeKey === "not_cancelable") outcome = "not_cancellable";
  else throw new ResponseShapeError(`unknown cancel outcome ${JSON.stringify(data.outcome.slice(0, 64))}`);
  const status = data.status ? knownStatus(data.status) : outcome === "cancelled" ? "cancelled" : null;
  return { outcome, status };
}
