import type { ErrorDetail } from "@acebatch/contracts";

/** A domain error with an HTTP status and a stable machine-readable code. */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: string;
  /** The bad fields, for a 400; empty for errors no field is to blame for. */
  readonly details: ErrorDetail[];
  constructor(statusCode: number, code: string, message: string, details: ErrorDetail[] = []) {
    super(message);
    this.name = "ApiError";
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string, id: string) => new ApiError(404, "not_found", `${what} ${id} does not exist`);

export const invalidInput = (details: ErrorDetail[]) =>
  new ApiError(400, "invalid_input", `invalid input: ${details.map((d) => `${d.path}: ${d.message}`).join("; ")}`, details);
