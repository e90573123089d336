/**
 * An error answered in the provider's own shape, `{error_code, error_message}`, with the codes
 * RunComfy documents (400001 unknown model, 400004 bad token, 403001 not yours, 404001 unknown or
 * expired request) plus our own for cases it leaves unnamed.
 */
export class ProviderError extends Error {
  readonly statusCode: number;
  readonly errorCode: number;
  readonly details: { path: string; message: string }[] | undefined;
  readonly headers: Record<string, string>;
  constructor(statusCode: number, errorCode: number, message: string, extra?: { details?: { path: string; message: string }[]; headers?: Record<string, string> }) {
    super(message);
    this.name = "ProviderError";
    this.statusCode = statusCode;
    this.errorCode = errorCode;
    this.details = extra?.details;
    this.headers = extra?.headers ?? {};
  }

  toBody(): { error_code: number; error_message: string; details?: { path: string; message: string }[] } {
    return { error_code: this.errorCode, error_message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

export const ERROR_CODES = {
  invalidInput: 400000,
  unknownModel: 400001,
  badToken: 400004,
  notOwner: 403001,
  notFound: 404000,
  unknownRequest: 404001,
  rateLimited: 429000,
  upstream: 500000,
  timeout: 504000,
} as const;

export const tokenRejected = (): ProviderError =>
  new ProviderError(401, ERROR_CODES.badToken, "token missing, expired or revoked");

export const unknownRequest = (id: string, expired = false): ProviderError =>
  new ProviderError(404, ERROR_CODES.unknownRequest, expired ? `request ${id} has expired` : `request ${id} not found`);

export const notOwner = (id: string): ProviderError =>
  new ProviderError(403, ERROR_CODES.notOwner, `request ${id} belongs to another user`);
