/**
 * Exact conversion between token base units (TOKEN_DECIMALS = 6) and human-readable amounts. No floats.
 */
import { TOKEN_DECIMALS } from "./constants.ts";
import { InvalidInputError } from "./errors.ts";

const UNIT = 10n ** BigInt(TOKEN_DECIMALS);

/** Currency symbol shown by {@link formatAmount} unless another is given. */
export const CURRENCY = "EUR";

/**
 * Formats base units as a decimal amount with at least 2 and at most 6 decimals and a currency symbol,
 * e.g. `3_450_000n` -> `"3.45 EUR"`, `1_234_567n` -> `"1.234567 EUR"`, `-1_200_000n` -> `"-1.20 EUR"`.
 * @param units amount in base units
 * @param symbol currency symbol to append (empty string for none)
 */
export function formatAmount(units: bigint, symbol: string = CURRENCY): string {
  const sign = units < 0n ? "-" : "";
  const abs = units < 0n ? -units : units;
  let frac = (abs % UNIT).toString().padStart(TOKEN_DECIMALS, "0").replace(/0+$/, "");
  frac = frac.padEnd(2, "0");
  const text = `${sign}${abs / UNIT}.${frac}`;
  return symbol ? `${text} ${symbol}` : text;
}

/**
 * Parses a non-negative decimal amount (`"3.45"`, `"3"`, `"0.000001"`, optionally followed by the currency
 * symbol, e.g. `"3.45 EUR"`) into base units, exactly.
 * @throws InvalidInputError on anything else, including more than 6 decimals (no silent rounding)
 */
export function parseAmount(text: string, symbol: string = CURRENCY): bigint {
  let s = text.trim();
  if (symbol && s.endsWith(symbol)) s = s.slice(0, -symbol.length).trim();
  const m = /^(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m)
    throw new InvalidInputError(
      `"${text}" is not an amount (expected digits with an optional decimal point, e.g. "3.45")`,
    );
  const frac = m[2] ?? "";
  if (frac.length > TOKEN_DECIMALS) {
    throw new InvalidInputError(`"${text}" has ${frac.length} decimals; the token has only ${TOKEN_DECIMALS}`);
  }
  return BigInt(m[1]!) * UNIT + BigInt(frac.padEnd(TOKEN_DECIMALS, "0") || "0");
}
