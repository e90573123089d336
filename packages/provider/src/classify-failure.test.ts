import { describe, expect, it } from "vitest";

import { classifyProviderFailure, type FailureFacts } from "./classify-failure.ts";

const rows: [string, FailureFacts, ReturnType<typeof classifyProviderFailure>][] = [
  ["HTTP 401", { httpStatus: 401, providerCode: null }, { exitClass: 77, code: "provider_auth_failed", retryable: false }],
  ["HTTP 403", { httpStatus: 403, providerCode: null }, { exitClass: 77, code: "provider_auth_failed", retryable: false }],
  ["error_code 400004 on HTTP 400", { httpStatus: 400, providerCode: 400004 }, { exitClass: 77, code: "provider_auth_failed", retryable: false }],
  ["error_code 403001 on HTTP 200", { httpStatus: 200, providerCode: 403001 }, { exitClass: 77, code: "provider_request_forbidden", retryable: false }],
  ["HTTP 402", { httpStatus: 402, providerCode: null }, { exitClass: 65, code: "provider_insufficient_balance", retryable: false }],
  ["error_code 400002", { httpStatus: 400, providerCode: 400002 }, { exitClass: 65, code: "provider_insufficient_balance", retryable: false }],
  ["error_code 400002 on HTTP 200", { httpStatus: 200, providerCode: 400002 }, { exitClass: 65, code: "provider_insufficient_balance", retryable: false }],
  ["HTTP 408", { httpStatus: 408, providerCode: null }, { exitClass: 75, code: "provider_timeout", retryable: true }],
  ["HTTP 429", { httpStatus: 429, providerCode: null }, { exitClass: 75, code: "provider_rate_limited", retryable: true }],
  ["client timeout", { httpStatus: null, providerCode: null, transport: "timeout" }, { exitClass: 75, code: "provider_timeout", retryable: true }],
  ["HTTP 400", { httpStatus: 400, providerCode: null }, { exitClass: 65, code: "provider_rejected_input", retryable: false }],
  ["HTTP 422", { httpStatus: 422, providerCode: null }, { exitClass: 65, code: "provider_rejected_input", retryable: false }],
  ["error_code 400001 (unknown model)", { httpStatus: 400, providerCode: 400001 }, { exitClass: 65, code: "provider_rejected_input", retryable: false }],
  ["HTTP 404 with 404001", { httpStatus: 404, providerCode: 404001 }, { exitClass: 65, code: "provider_request_expired", retryable: false }],
  ["plain HTTP 404", { httpStatus: 404, providerCode: null }, { exitClass: 65, code: "provider_rejected_input", retryable: false }],
  ["HTTP 500", { httpStatus: 500, providerCode: null }, { exitClass: 69, code: "provider_unavailable", retryable: true }],
  ["HTTP 503", { httpStatus: 503, providerCode: null }, { exitClass: 69, code: "provider_unavailable", retryable: true }],
  ["network error", { httpStatus: null, providerCode: null, transport: "network" }, { exitClass: 69, code: "provider_unavailable", retryable: true }],
  ["HTTP 302 (redirect not followed)", { httpStatus: 302, providerCode: null }, { exitClass: 69, code: "provider_unavailable", retryable: true }],
  ["malformed answer", { httpStatus: 200, providerCode: null, transport: "invalid_response" }, { exitClass: 69, code: "provider_invalid_response", retryable: true }],
  ["unknown 4xx-looking error_code on HTTP 200", { httpStatus: 200, providerCode: 400777 }, { exitClass: 65, code: "provider_rejected_input", retryable: false }],
  ["unknown 5xx-looking error_code on HTTP 200", { httpStatus: 200, providerCode: 500123 }, { exitClass: 69, code: "provider_unavailable", retryable: true }],
  ["meaningless error_code on HTTP 200", { httpStatus: 200, providerCode: 7 }, { exitClass: 69, code: "provider_invalid_response", retryable: true }],
  ["our own abort", { httpStatus: null, providerCode: null, transport: "aborted" }, { exitClass: 75, code: "cancelled", retryable: true }],
];

describe("classifyProviderFailure", () => {
  for (const [name, facts, expected] of rows) {
    it(`classifies ${name}`, () => {
      expect(classifyProviderFailure(facts)).toEqual(expected);
    });
  }
});
