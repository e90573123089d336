/** Money is integer micro-dollars inside the system; dollars appear only at the API edge. */
export const MICRO_USD_PER_USD = 1_000_000;

/** Convert micro-dollars to dollars for JSON responses. */
export function microUsdToUsd(micro: number): number {
  return micro / MICRO_USD_PER_USD;
}

/** Convert dollars (possibly fractional, from user input or the provider) to whole micro-dollars, rounding up so estimates never undercount. */
export function usdToMicroUsd(usd: number): number {
  return Math.ceil(Math.round(usd * MICRO_USD_PER_USD * 1000) / 1000);
}
