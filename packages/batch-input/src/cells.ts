import type { CellKind } from "./fields.ts";
import { excerpt } from "./errors.ts";

export type CellResult = { ok: true; value: string | number } | { ok: false; message: string };

const INTEGER_LIKE = /^[+-]?\d+(?:\.0*)?$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
const DECIMAL_COMMA = /^[+-]?(?:\d+(?:,\d*)?|,\d+)$/;

/**
 * Turn one CSV cell into a value for `kind`. Spreadsheet exports write whole numbers as `60.0`
 * (and, in semicolon locales, decimals as `12,5`): those are accepted; `60.5` for an integer field
 * is passed on as 60.5 so the schema reports "must be a whole number". `decimalComma` is only
 * true for semicolon/tab files, where a comma cannot be a field separator.
 */
export function convertCell(column: string, raw: string, kind: CellKind, decimalComma: boolean): CellResult {
  if (kind === "text") return { ok: true, value: raw.replace(/\r\n?/g, "\n") };
  const text = raw.trim();
  if (INTEGER_LIKE.test(text)) return { ok: true, value: Number.parseInt(text, 10) };
  let normalized = text;
  if (decimalComma && DECIMAL_COMMA.test(text)) normalized = text.replace(",", ".");
  if (DECIMAL.test(normalized)) return { ok: true, value: Number(normalized) };
  const what = kind === "number" ? "a number of seconds" : column === "seed" ? "a whole number (-1 for random)" : "a whole number";
  return { ok: false, message: `${column} must be ${what}, got ${excerpt(raw)}` };
}
