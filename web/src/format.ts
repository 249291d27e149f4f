/** Display helpers: times, ids, tariffs and errors in plain words (amounts: the SDK's formatAmount). */
import {
  ContractRevertError,
  InsufficientBalanceError,
  InvalidInputError,
  KeyFileFormatError,
  KeyFileIntegrityError,
  MeterNotInTreeError,
  OfferRefusedError,
  RelayerError,
  StationError,
  WrongPassphraseError,
  clock,
  computeBill,
  formatAmount,
  stepSizesText,
  durationLimitText,
  nextBoundaryAfter,
  type Bill,
  type Point,
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

/**
 * A tariff's bands in plain words, e.g. `00:00–07:00: 0.25 EUR/kWh, 0.12 EUR/h charging, 0.06 EUR/h parked`, and a
 * last line for its step sizes when any is above 1 (`Billed in steps of 25 Wh, 300 s charging, 1 s parked`).
 */
export function tariffBands(t: Tariff): string[] {
  const bands = t.bandStart.map((start, k) => {
    const end = k + 1 < t.bandStart.length ? t.bandStart[k + 1]! : 86_400n;
    return (
      `${clock(start).slice(0, 5)}–${clock(end).slice(0, 5)}: ${formatAmount(t.energyPrice[k]!)}/kWh` +
      `, ${formatAmount(t.timePricePerHour[k]!)}/h charging, ${formatAmount(t.parkingPricePerHour[k]!)}/h parked`
    );
  });
  const steps = stepSizesText(t.stepSize);
  const limit = durationLimitText(t.durationLimit);
  return [
    ...bands,
    ...(steps ? [`Billed in ${steps}`] : []),
    ...(limit ? [limit[0]!.toUpperCase() + limit.slice(1)] : []),
  ];
}

/** The tariff's time zone as `UTC+01:00`. */
export function tariffZone(t: Tariff): string {
  const m = Number(t.tzOffset / 60n);
  const a = Math.abs(m);
  return `UTC${m >= 0 ? "+" : "-"}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
}

/** Watt-hours as kWh with two decimals, e.g. `1.25 kWh`. */
export function kwh(wh: bigint): string {
  return `${wh / 1000n}.${((wh % 1000n) / 10n).toString().padStart(2, "0")} kWh`;
}

/** Watts as kW with two decimals, e.g. `11.00 kW`. */
export function kw(w: bigint): string {
  return `${w / 1000n}.${((w % 1000n) / 10n).toString().padStart(2, "0")} kW`;
}

/** A price example for a tariff: what charging `hours` at `powerW` from `start` would cost, with the SDK's bill. */
export interface PriceExample {
  powerW: bigint;
  hours: bigint;
  start: bigint;
  wh: bigint;
  bill: Bill;
}

/**
 * What an hour at 11 kW (half the rating on a meter below 22 kW) from `start` (or the tariff's start, if later)
 * costs under `tariff`: chain points at every band boundary crossed, billed by {@link computeBill}, the circuit's
 * rule. Undefined if the tariff cannot bill such a session (e.g. it ends within the hour).
 */
export function priceExample(tariff: Tariff, ratedPowerW: bigint, start: bigint): PriceExample | undefined {
  const powerW = ratedPowerW >= 22_000n ? 11_000n : ratedPowerW / 2n;
  const t0 = start > tariff.validFrom ? start : tariff.validFrom;
  const end = t0 + 3600n;
  const at = (t: bigint): Point => ({ t, e: (powerW * (t - t0)) / 3600n });
  const points: Point[] = [at(t0)];
  for (let b = nextBoundaryAfter(t0, tariff, t0); b < end; b = nextBoundaryAfter(b, tariff, t0)) points.push(at(b));
  points.push(at(end));
  try {
    return { powerW, hours: 1n, start: t0, wh: points.at(-1)!.e, bill: computeBill(points, tariff, ratedPowerW) };
  } catch {
    return undefined;
  }
}

/** Why a URL's `GET /station` failed, in plain words (any answer that is not the station API's: not a station). */
export function stationProblem(url: string, err: unknown): Error {
  if (!(err instanceof StationError)) return err instanceof Error ? err : new Error(String(err));
  if (err.code === "STATION_UNREACHABLE")
    return new Error(
      `The station at ${url} does not answer: it is offline, or the address is wrong. Nothing was locked.`,
    );
  return new Error(
    `${url} is not a zkcharge station: it does not answer the station API (${err.message}). Nothing was locked.`,
  );
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
  if (err instanceof OfferRefusedError) return `The station's offer was refused: ${err.message}. Nothing was locked.`;
  if (err instanceof MeterNotInTreeError) return `The meter was revoked: ${err.message}.`;
  if (err instanceof StationError) return `The station answered: ${err.message}`;
  if (err instanceof RelayerError) return `The relayer answered: ${err.message}`;
  if (err instanceof ContractRevertError) return `The chain refused the transaction: ${err.message}`;
  if (err instanceof Error) {
    if (/Failed to fetch|NetworkError|ECONNREFUSED/.test(err.message)) {
      return `The network did not answer (${err.message}): is the chain's node reachable?`;
    }
    return err.message;
  }
  return String(err);
}
