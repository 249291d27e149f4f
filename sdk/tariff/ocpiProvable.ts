/**
 * Whether zkcharge can prove an OCPI price today: the tariff imports ({@link importOcpiTariff}), the session fits
 * the circuit as the meter records it (chain points at every tariff boundary, at most N_POINTS) and the circuit's
 * bill ({@link computeBill}) equals the OCPI reference price ({@link priceOcpiSession}) of those chain points.
 */
import { N_POINTS } from "../core/constants.ts";
import { InvalidReadingsError } from "../core/errors.ts";
import { importOcpiTariff, UnsupportedTariffError, type ImportedOcpiTariff } from "./ocpi.ts";
import { priceOcpiSession, type MeterReading, type OcpiPrice } from "./ocpiPrice.ts";
import { computeBill, nextBoundaryAfter, type Bill, type Point, type Tariff } from "./tariff.ts";

/** Options of {@link checkOcpiProvable}. */
export interface OcpiProvableOptions {
  /** Seconds added to UTC for local time, `0 <= tzOffset < 86400` (zkcharge's tariff rule). */
  tzOffset: bigint;
  /** The meter's rated power, W (the circuit refuses readings above it). */
  ratedPowerW: bigint;
  /** CPO id for the imported tariff (it does not change a price; default 1). */
  cpoId?: bigint;
}

/** Result of {@link checkOcpiProvable}. */
export interface OcpiProvability {
  /** True when the circuit proves exactly the reference price of `chainPoints`. */
  provable: boolean;
  /** Why not (the OCPI feature refused, or the session's fault), or a one-line confirmation. */
  reason: string;
  /** The reference price of the readings as given. */
  reference: OcpiPrice;
  /** When the tariff imports: the zkcharge tariff, the session's chain points, their bill and reference price. */
  imported?: ImportedOcpiTariff;
  chainPoints?: Point[];
  bill?: Bill;
  chainReference?: OcpiPrice;
}

/**
 * The readings as the meter's chain points: a point at every tariff boundary inside an interval (band starts,
 * midnights, the duration limit counted from the first reading), its register interpolated at constant power and
 * floored to a Wh (the meter's register is in whole Wh).
 */
export function boundaryChainPoints(readings: readonly MeterReading[], tariff: Tariff): Point[] {
  const start = readings[0]!.t;
  const points: Point[] = [{ t: start, e: readings[0]!.wh }];
  for (let i = 0; i + 1 < readings.length; i++) {
    const a = readings[i]!;
    const b = readings[i + 1]!;
    for (let t = nextBoundaryAfter(a.t, tariff, start); t < b.t; t = nextBoundaryAfter(t, tariff, start))
      points.push({ t, e: a.wh + ((b.wh - a.wh) * (t - a.t)) / (b.t - a.t) });
    if (b.t > a.t || b.wh !== a.wh) points.push({ t: b.t, e: b.wh });
  }
  return points;
}

/**
 * Prices the session with the reference and says whether zkcharge proves that price today.
 * @throws what {@link priceOcpiSession} throws (bad tariff JSON, bad readings)
 */
export function checkOcpiProvable(
  json: unknown,
  readings: readonly MeterReading[],
  opts: OcpiProvableOptions,
): OcpiProvability {
  const reference = priceOcpiSession(json, readings, { tzOffset: opts.tzOffset });
  let imported: ImportedOcpiTariff;
  try {
    imported = importOcpiTariff(json, { cpoId: opts.cpoId ?? 1n, tzOffset: opts.tzOffset });
  } catch (err) {
    if (err instanceof UnsupportedTariffError) return { provable: false, reason: err.message, reference };
    throw err;
  }
  const chainPoints = boundaryChainPoints(readings, imported.tariff);
  const base = { reference, imported, chainPoints };
  if (chainPoints.length > N_POINTS) {
    return {
      ...base,
      provable: false,
      reason: `the session needs ${chainPoints.length} chain points (readings and tariff boundaries); the circuit takes ${N_POINTS}`,
    };
  }
  let bill: Bill;
  try {
    bill = computeBill(chainPoints, imported.tariff, opts.ratedPowerW);
  } catch (err) {
    if (err instanceof InvalidReadingsError) return { ...base, provable: false, reason: err.message };
    throw err;
  }
  const chainReference = priceOcpiSession(
    json,
    chainPoints.map((p) => ({ t: p.t, wh: p.e })),
    { tzOffset: opts.tzOffset },
  );
  const full = { ...base, bill, chainReference };
  if (bill.amount !== chainReference.totalExclVat) {
    return {
      ...full,
      provable: false,
      reason: `zkcharge's bill ${bill.amount} base units differs from the OCPI reference ${chainReference.totalExclVat} (a bug: please report it)`,
    };
  }
  return { ...full, provable: true, reason: `the circuit's bill equals the OCPI reference price excl. VAT` };
}
