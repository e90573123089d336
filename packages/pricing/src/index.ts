export { loadPrices, parsePriceOverrides, PriceConfigError, MAX_PRICE_MICRO_USD_PER_SECOND, type PriceTable } from "./prices.ts";
export { estimateOutputSeconds, estimateCostMicroUsd, EstimateError, OutputTooLongError } from "./estimate.ts";
export {
  createSourceLengthProbe,
  DEFAULT_PROBE_MAX_BYTES,
  DEFAULT_PROBE_TIMEOUT_MS,
  type SourceLengthProbeOptions,
} from "./source-length-probe.ts";
export { isTransientSourceFailure, MAX_SOURCE_SECONDS, SourceLengthError, sourceLengthProblem, type SourceLengthFailure } from "./source-length-error.ts";
export { createAddressPolicy, isPublicAddress, type AddressPolicy } from "./address-policy.ts";
export type { ResolveHost } from "./guarded-request.ts";
export { createJobEstimator, type JobEstimate, type JobEstimator, type JobEstimatorDeps } from "./job-estimator.ts";
