import { DEFAULT_PRICES_MICRO_USD_PER_SECOND, isModelId, MODEL_IDS, type ModelId } from "@acebatch/contracts";

/** Price per model in integer micro-dollars per second of output audio. */
export type PriceTable = Readonly<Record<ModelId, number>>;

/** Above $1 per second of audio is surely a typo (the seed's prices are $0.0002–0.0003). */
export const MAX_PRICE_MICRO_USD_PER_SECOND = 1_000_000;

/** A price configuration entry was malformed; the message names the entry. */
export class PriceConfigError extends Error {
  readonly code = "invalid_price_config";
  constructor(message: string) {
    super(message);
    this.name = "PriceConfigError";
  }
}

function checkPrice(where: string, price: number): void {
  if (!Number.isSafeInteger(price) || price < 0 || price > MAX_PRICE_MICRO_USD_PER_SECOND) {
    throw new PriceConfigError(`${where}: price must be a whole number of micro-dollars per second between 0 and ${MAX_PRICE_MICRO_USD_PER_SECOND}, got ${price}`);
  }
}

/** The price table (micro-dollars per second): the seed's defaults with `overrides` applied. */
export function loadPrices(overrides: Partial<Record<ModelId, number>> = {}): PriceTable {
  const prices: Record<ModelId, number> = { ...DEFAULT_PRICES_MICRO_USD_PER_SECOND };
  for (const [model, price] of Object.entries(overrides)) {
    if (!isModelId(model)) throw new PriceConfigError(`price override for unknown model ${JSON.stringify(model)}; models: ${MODEL_IDS.join(", ")}`);
    if (price === undefined) continue;
    checkPrice(`price override for ${model}`, price);
    prices[model] = price;
  }
  return Object.freeze(prices);
}

/**
 * Parse `model=microUsdPerSecond` pairs separated by commas (e.g. the env var
 * `PRICES_MICRO_USD_PER_SECOND`). Empty or unset = no overrides. Errors name the bad entry.
 */
export function parsePriceOverrides(envValue: string | undefined, variable = "PRICES_MICRO_USD_PER_SECOND"): Partial<Record<ModelId, number>> {
  const overrides: Partial<Record<ModelId, number>> = {};
  if (envValue === undefined || envValue.trim() === "") return overrides;
  const entries = envValue.split(",").map((e) => e.trim());
  entries.forEach((entry, i) => {
    const where = `${variable} entry ${i + 1} (${JSON.stringify(entry)})`;
    if (entry === "") throw new PriceConfigError(`${where}: empty entry (stray comma?)`);
    const eq = entry.lastIndexOf("=");
    if (eq <= 0) throw new PriceConfigError(`${where}: expected <model>=<micro-dollars per second>`);
    const model = entry.slice(0, eq).trim();
    const value = entry.slice(eq + 1).trim();
    if (!isModelId(model)) throw new PriceConfigError(`${where}: unknown model ${JSON.stringify(model)}; models: ${MODEL_IDS.join(", ")}`);
    if (!/^\d+$/.test(value)) throw new PriceConfigError(`${where}: price must be a whole number of micro-dollars per second (200 = $0.0002/s), got ${JSON.stringify(value)}`);
    if (model in overrides) throw new PriceConfigError(`${where}: ${model} is priced twice`);
    const price = Number(value);
    checkPrice(where, price);
    overrides[model] = price;
  });
  return overrides;
}
