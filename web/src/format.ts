/** Display helpers: times, ids, tariffs and errors in plain words (amounts: the SDK's formatAmount). */
import {
  ContractRevertError,
  InsufficientBalanceError,
  InvalidInputError,
  KeyFileFormatError,
  KeyFileIntegrityError,
  WrongPassphraseError,
  clock,
  formatAmount,
  type Tariff,
} from "../../sdk/index.ts";

/** Unix seconds as local date and time (the viewer's time zone), e.g. `2026-12-02 14:05`. */
export function dateTime(t: bigint): string {
  const d = new Date(Number(t) * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A long id shortened for a table cell (the full value in the title). */
export function short(x: bigint | string): string {
  const s = typeof x === "bigint" ? x.toString() : x;
  return s.length > 14 ? `${s.slice(0, 8)}…${s.slice(-4)}` : s;
}

/** A tariff's bands in plain words, e.g. `00:00–07:00: 0.25 EUR/kWh, 0.12 EUR/h charging, 0.06 EUR/h parked`. */
export function tariffBands(t: Tariff): string[] {
  return t.bandStart.map((start, k) => {
    const end = k + 1 < t.bandStart.length ? t.bandStart[k + 1]! : 86_400n;
    return (
      `${clock(start).slice(0, 5)}–${clock(end).slice(0, 5)}: ${formatAmount(t.energyPrice[k]!)}/kWh` +
      `, ${formatAmount(t.timePricePerHour[k]!)}/h charging, ${formatAmount(t.parkingPricePerHour[k]!)}/h parked`
    );
  });
}

/** The tariff's time zone as `UTC+01:00`. */
export function tariffZone(t: Tariff): string {
  const m = Number(t.tzOffset / 60n);
  const a = Math.abs(m);
  return `UTC${m >= 0 ? "+" : "-"}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
}

/** Any error as one sentence a driver can act on. */
export function plainError(err: unknown): string {
  if (err instanceof WrongPassphraseError) {
    return "Wrong passphrase. The wallet stays locked and nothing was changed.";
  }
  if (err instanceof KeyFileIntegrityError) {
    return "This wallet file was damaged or altered: it cannot be opened. Nothing was changed.";
  }
  if (err instanceof KeyFileFormatError) return `This is not a zkcharge wallet file: ${err.message}`;
  if (err instanceof InsufficientBalanceError) return `Not enough private balance: ${err.message}.`;
  if (err instanceof InvalidInputError) return err.message;
  if (err instanceof ContractRevertError) return `The chain refused the transaction: ${err.message}`;
  if (err instanceof Error) {
    if (/Failed to fetch|NetworkError|ECONNREFUSED/.test(err.message)) {
      return `The network did not answer (${err.message}): is the chain's node reachable?`;
    }
    return err.message;
  }
  return String(err);
}
