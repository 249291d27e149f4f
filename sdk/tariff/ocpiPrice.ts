/**
 * The OCPI 2.2.1 reference pricer (docs/ocpi.md, "Reference pricer"): prices a metered session under any OCPI
 * Tariff exactly as mod_tariffs defines it, over the whole model (every dimension, every restriction, step_size,
 * min_price / max_price, VAT per component), independent of what the session-bill circuit proves. Exact rational
 * arithmetic throughout; the only rounding is the last step, each total floored to an integer base unit.
 */
import { z } from "zod";
import { SECONDS_PER_DAY, TOKEN_DECIMALS } from "../core/constants.ts";
import { InvalidInputError, InvalidReadingsError } from "../core/errors.ts";
import * as Q from "../core/rational.ts";
import type { Rational } from "../core/rational.ts";
import { parseOcpiTariff, timeMatches, type OcpiChargingPeriod, type OcpiTariff } from "./ocpi.ts";

const DAY = BigInt(SECONDS_PER_DAY);
const UNITS_PER_CURRENCY_UNIT = Q.ratio(10n ** BigInt(TOKEN_DECIMALS));
const WEEKDAYS = ["SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"] as const;

/** A meter reading: unix seconds, the cumulative energy register in Wh, optionally the charging current. */
export interface MeterReading {
  /** Unix time, seconds. */
  t: bigint;
  /** Cumulative energy register, Wh. */
  wh: bigint;
  /**
   * Sum of the current over all phases in A, averaged over the interval that ends at this reading; needed only
   * when an element the session reaches has `min_current` / `max_current` (0 is assumed where no energy flows).
   */
  currentA?: number;
}

/** Options of {@link priceOcpiSession}. */
export interface OcpiPriceOptions {
  /** Seconds added to UTC for the Location's local time (restrictions are local); any integer, taken mod one day. */
  tzOffset: bigint;
}

/** An OCPI dimension with a volume: ENERGY in Wh, TIME (charging) and PARKING_TIME (not charging) in seconds. */
export type OcpiVolumeDimension = "ENERGY" | "TIME" | "PARKING_TIME";

/** The price component a period's dimension is billed under, and what it costs there. */
export interface PricedDimension {
  type: OcpiVolumeDimension;
  /** Index of the tariff element in `elements` and of the component in its `price_components`. */
  element: number;
  component: number;
  /** Base units per kWh (ENERGY) or per hour (TIME, PARKING_TIME), excl. VAT, exact. */
  price: Rational;
  /** VAT percentage, or null when the component gives none ("no VAT is applicable"). */
  vat: Rational | null;
  stepSize: number;
  /** Measured volume in this period: Wh (ENERGY) or seconds. */
  volume: Rational;
  /** Volume billed: `volume` plus the step_size round-up when this is the last period of its dimension's run. */
  billed: Rational;
  /** Exact costs of `billed`, base units. */
  costExclVat: Rational;
  costInclVat: Rational;
}

/** The FLAT fee of a session (charged once). */
export interface PricedFlat {
  element: number;
  component: number;
  vat: Rational | null;
  costExclVat: Rational;
  costInclVat: Rational;
}

/** One charging period: a stretch of the session in which every dimension's tariff element stays the same. */
export interface PricedPeriod {
  /** Start and end, unix seconds (exact: a `min_kwh` / `max_kwh` threshold can fall between two seconds). */
  start: Rational;
  end: Rational;
  /** Whether energy flows (power > 0): its time is TIME, else PARKING_TIME. */
  charging: boolean;
  energyWh: Rational;
  durationS: Rational;
  /** The priced dimensions of this period (a dimension no element matches costs nothing and is left out). */
  dimensions: PricedDimension[];
  /** The FLAT fee, in the period it was charged in. */
  flat?: PricedFlat;
}

/** Result of {@link priceOcpiSession}. */
export interface OcpiPrice {
  tariffId: string;
  currency: string;
  periods: PricedPeriod[];
  flat: PricedFlat | null;
  /** Exact totals in base units before and after `min_price` / `max_price`. */
  exact: { exclVat: Rational; inclVat: Rational; limitedExclVat: Rational; limitedInclVat: Rational };
  minPriceApplied: boolean;
  maxPriceApplied: boolean;
  /** What the session costs, base units: the exact limited totals floored (the driver never pays a fraction more). */
  totalExclVat: bigint;
  /** Null when no price component of the tariff gives a VAT ("not possible to calculate total costs including VAT"). */
  totalInclVat: bigint | null;
  /** Session totals: Wh, seconds charging (TIME), seconds not charging (PARKING_TIME). */
  energyWh: Rational;
  chargingS: Rational;
  parkingS: Rational;
  /** The periods as OCPI CDR `charging_periods` (measured volumes: kWh, hours). */
  chargingPeriods: OcpiChargingPeriod[];
}

/** A stretch of the session with no restriction change inside. */
interface Segment {
  start: Rational;
  end: Rational;
  /** Energy since the session start at the segment's start, and in the segment, Wh. */
  e0: Rational;
  de: Rational;
  currentA: number | undefined;
}

type Element = OcpiTariff["elements"][number];
type Match = { element: number; component: number } | null;

const num = (x: number): Rational => Q.decimal(String(x));
const units = (x: number): Rational => Q.mul(num(x), UNITS_PER_CURRENCY_UNIT);

/** Local calendar facts of unix time `t` (the floor of it) under `tz`. */
function localOf(t: Rational, tz: bigint): { minuteOfDay: number; date: string; weekday: string } {
  const local = Q.floor(t) + tz;
  const sod = ((local % DAY) + DAY) % DAY;
  const d = new Date(Number(local - sod) * 1000);
  return { minuteOfDay: Number(sod / 60n), date: d.toISOString().slice(0, 10), weekday: WEEKDAYS[d.getUTCDay()]! };
}

/**
 * Whether element `i`'s restrictions hold for a segment starting at `seg.start`. Bounds: `min_*` inclusive, `max_*`
 * exclusive (the spec says so for durations and `end_date`; the others follow). Reservation elements never apply:
 * a zkcharge session is a charging session, never a reservation.
 */
function holds(el: Element, i: number, seg: Segment, sessionStart: Rational, tz: bigint): boolean {
  const r = el.restrictions;
  if (!r) return true;
  if (r.reservation !== undefined) return false;
  const at = localOf(seg.start, tz);
  if (!timeMatches(r, at.minuteOfDay)) return false;
  if (r.start_date !== undefined && at.date < r.start_date) return false;
  if (r.end_date !== undefined && at.date >= r.end_date) return false;
  if (r.day_of_week !== undefined && !r.day_of_week.includes(at.weekday as (typeof r.day_of_week)[number]))
    return false;
  const wh = (kwh: number) => Q.mul(num(kwh), Q.ratio(1000n));
  if (r.min_kwh !== undefined && Q.cmp(seg.e0, wh(r.min_kwh)) < 0) return false;
  if (r.max_kwh !== undefined && Q.cmp(seg.e0, wh(r.max_kwh)) >= 0) return false;
  const elapsed = Q.sub(seg.start, sessionStart);
  if (r.min_duration !== undefined && Q.cmp(elapsed, Q.ratio(BigInt(r.min_duration))) < 0) return false;
  if (r.max_duration !== undefined && Q.cmp(elapsed, Q.ratio(BigInt(r.max_duration))) >= 0) return false;
  const dt = Q.sub(seg.end, seg.start);
  const powerKw = Q.isZero(dt) ? Q.ZERO : Q.div(Q.mul(seg.de, Q.ratio(3600n)), Q.mul(dt, Q.ratio(1000n)));
  if (r.min_power !== undefined && Q.cmp(powerKw, num(r.min_power)) < 0) return false;
  if (r.max_power !== undefined && Q.cmp(powerKw, num(r.max_power)) >= 0) return false;
  if (r.min_current !== undefined || r.max_current !== undefined) {
    const current = seg.currentA ?? (Q.isZero(seg.de) ? 0 : undefined);
    if (current === undefined) {
      throw new InvalidReadingsError(
        `elements[${i}].restrictions.${r.min_current !== undefined ? "min_current" : "max_current"} needs the charging current: give currentA on the readings`,
      );
    }
    if (r.min_current !== undefined && Q.cmp(num(current), num(r.min_current)) < 0) return false;
    if (r.max_current !== undefined && Q.cmp(num(current), num(r.max_current)) >= 0) return false;
  }
  return true;
}

/**
 * The first element with a `type` component whose restrictions hold (spec: "the first Tariff Element with that
 * Dimension in the list with matching Tariff Restrictions will be used"), or null: "no costs for that Tariff
 * Dimension".
 */
function firstMatch(
  tariff: OcpiTariff,
  type: OcpiVolumeDimension | "FLAT",
  seg: Segment,
  sessionStart: Rational,
  tz: bigint,
): Match {
  for (let i = 0; i < tariff.elements.length; i++) {
    const el = tariff.elements[i]!;
    const j = el.price_components.findIndex((pc) => pc.type === type);
    if (j >= 0 && holds(el, i, seg, sessionStart, tz)) return { element: i, component: j };
  }
  return null;
}

/** The session's readings cut at every instant a restriction can change (midnights, times of day, durations, kWh). */
function segmentsOf(readings: readonly MeterReading[], tariff: OcpiTariff, tz: bigint): Segment[] {
  const minutes = new Set<number>([0]);
  const durations = new Set<bigint>();
  const thresholdsWh: Rational[] = [];
  for (const el of tariff.elements) {
    const r = el.restrictions;
    if (!r) continue;
    for (const hhmm of [r.start_time, r.end_time])
      if (hhmm !== undefined) minutes.add(Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5)));
    for (const d of [r.min_duration, r.max_duration]) if (d !== undefined) durations.add(BigInt(d));
    for (const k of [r.min_kwh, r.max_kwh]) if (k !== undefined) thresholdsWh.push(Q.mul(num(k), Q.ratio(1000n)));
  }
  const t0 = readings[0]!.t;
  const e0 = readings[0]!.wh;
  const segments: Segment[] = [];
  for (let i = 0; i + 1 < readings.length; i++) {
    const a = readings[i]!;
    const b = readings[i + 1]!;
    if (b.t === a.t) continue; // no time, no energy (checked by the caller)
    const cuts: Rational[] = [];
    const inside = (t: bigint) => t > a.t && t < b.t;
    const firstDay = (a.t + tz) / DAY - 1n;
    const lastDay = (b.t + tz) / DAY + 1n;
    for (let day = firstDay; day <= lastDay; day++)
      for (const m of minutes) {
        const t = day * DAY + BigInt(m) * 60n - tz;
        if (inside(t)) cuts.push(Q.ratio(t));
      }
    for (const d of durations) if (inside(t0 + d)) cuts.push(Q.ratio(t0 + d));
    const ea = Q.ratio(a.wh - e0);
    const de = Q.ratio(b.wh - a.wh);
    const dt = Q.ratio(b.t - a.t);
    for (const w of thresholdsWh) {
      if (Q.cmp(w, ea) > 0 && Q.cmp(w, Q.add(ea, de)) < 0)
        cuts.push(Q.add(Q.ratio(a.t), Q.div(Q.mul(Q.sub(w, ea), dt), de)));
    }
    cuts.sort(Q.cmp);
    const points = [Q.ratio(a.t), ...cuts.filter((c, k) => k === 0 || Q.cmp(c, cuts[k - 1]!) !== 0), Q.ratio(b.t)];
    for (let k = 0; k + 1 < points.length; k++) {
      const s = points[k]!;
      const e = points[k + 1]!;
      // Constant power within a reading interval: energy splits in proportion to time.
      const share = (x: Rational) => Q.add(ea, Q.div(Q.mul(de, Q.sub(x, Q.ratio(a.t))), dt));
      segments.push({ start: s, end: e, e0: share(s), de: Q.sub(share(e), share(s)), currentA: b.currentA });
    }
  }
  return segments;
}

function checkReadings(readings: readonly MeterReading[]): void {
  if (readings.length < 1) throw new InvalidReadingsError("a session needs at least one reading (its start)");
  readings.forEach((r, i) => {
    if (typeof r.t !== "bigint" || typeof r.wh !== "bigint")
      throw new InvalidReadingsError(`reading ${i + 1}: t and wh must be bigints`);
    if (r.wh < 0n) throw new InvalidReadingsError(`reading ${i + 1}: energy ${r.wh} Wh is negative`);
    if (r.currentA !== undefined && !(Number.isFinite(r.currentA) && r.currentA >= 0))
      throw new InvalidReadingsError(`reading ${i + 1}: currentA ${r.currentA} is not a non-negative number`);
    if (i === 0) return;
    const p = readings[i - 1]!;
    if (r.t < p.t) throw new InvalidReadingsError(`reading ${i + 1}: time ${r.t} is before reading ${i}'s ${p.t}`);
    if (r.wh < p.wh)
      throw new InvalidReadingsError(`reading ${i + 1}: energy ${r.wh} Wh is below reading ${i}'s ${p.wh} Wh`);
    if (r.t === p.t && r.wh !== p.wh)
      throw new InvalidReadingsError(`reading ${i + 1}: ${r.wh - p.wh} Wh in 0 s (infinite power)`);
  });
}

function iso(t: Rational): string {
  return new Date(Number(Q.floor(t)) * 1000).toISOString().replace(".000Z", "Z");
}

const VOLUME_DIMENSIONS: readonly OcpiVolumeDimension[] = ["ENERGY", "TIME", "PARKING_TIME"];

/**
 * Prices a session under an OCPI 2.2.1 Tariff as the spec defines it (docs/ocpi.md, "Reference pricer"):
 * - the session runs from the first reading to the last; power between two readings is constant, so a period's
 *   time is TIME when energy flows and PARKING_TIME when it does not;
 * - it is cut into periods wherever a restriction can change, and each dimension of a period is billed by the first
 *   element with that dimension whose restrictions hold at the period's start (none: free);
 * - `step_size`: the volume of a dimension's run (consecutive periods with an element for it) is rounded up to a
 *   multiple of the step_size of the last period that has volume, and the round-up is billed in that period at its
 *   price ("only taken into account for the last TariffElement and when switching to another TariffElement for the
 *   PriceComponents that is not in the new TariffElement");
 * - FLAT is charged once, by the first element with FLAT matching in the first period where one matches;
 * - VAT per component; `min_price` / `max_price` bound the exact excl.-VAT and incl.-VAT totals each (a bound
 *   without `incl_vat` scales the incl.-VAT total by the same factor as the excl.-VAT one);
 * - rounding happens once, at the end: each total floored to an integer base unit (10^-6 of the currency).
 * @param json the OCPI Tariff (JSON text or parsed)
 * @param readings the metered profile, first reading = session start, last = session end
 * @throws InvalidInputError when the JSON is not an OCPI Tariff, or the session starts outside its validity
 * @throws InvalidReadingsError when the readings are not a session (time or energy decreasing, energy in 0 s,
 *   a current restriction reached without `currentA`)
 */
export function priceOcpiSession(json: unknown, readings: readonly MeterReading[], opts: OcpiPriceOptions): OcpiPrice {
  const tariff = parseOcpiTariff(json);
  checkReadings(readings);
  const tz = opts.tzOffset;
  const t0 = readings[0]!.t;
  const startIso = iso(Q.ratio(t0));
  if (tariff.start_date_time !== undefined && t0 * 1000n < BigInt(Date.parse(tariff.start_date_time)))
    throw new InvalidInputError(
      `session start ${startIso} is before the tariff's start_date_time ${tariff.start_date_time}`,
    );
  if (tariff.end_date_time !== undefined && t0 * 1000n >= BigInt(Date.parse(tariff.end_date_time)))
    throw new InvalidInputError(
      `session start ${startIso} is not before the tariff's end_date_time ${tariff.end_date_time}`,
    );
  const sessionStart = Q.ratio(t0);
  const component = (m: { element: number; component: number }) =>
    tariff.elements[m.element]!.price_components[m.component]!;
  const vatOf = (m: { element: number; component: number }) => {
    const v = component(m).vat;
    return v === undefined ? null : num(v);
  };
  const withVat = (x: Rational, vat: Rational | null) =>
    vat === null ? x : Q.mul(x, Q.add(Q.ONE, Q.div(vat, Q.ratio(100n))));

  // Periods: segments with their matches, neighbours with the same matches and charging state merged.
  interface Raw {
    seg: Segment;
    charging: boolean;
    matches: Record<OcpiVolumeDimension, Match>;
    flat: Match;
  }
  const raws: Raw[] = [];
  for (const seg of segmentsOf(readings, tariff, tz)) {
    const matches = {} as Record<OcpiVolumeDimension, Match>;
    for (const d of VOLUME_DIMENSIONS) matches[d] = firstMatch(tariff, d, seg, sessionStart, tz);
    const charging = !Q.isZero(seg.de);
    const flat = firstMatch(tariff, "FLAT", seg, sessionStart, tz);
    const prev = raws[raws.length - 1];
    const same = (a: Match, b: Match) => a?.element === b?.element && a?.component === b?.component;
    if (prev && prev.charging === charging && VOLUME_DIMENSIONS.every((d) => same(prev.matches[d], matches[d]))) {
      prev.seg = { ...prev.seg, end: seg.end, de: Q.add(prev.seg.de, seg.de) };
      prev.flat ??= flat; // a FLAT that starts to match inside a merged period (e.g. after min_duration)
    } else raws.push({ seg, charging, matches, flat });
  }

  // FLAT once; a session of no time still gets the FLAT that holds at its start.
  let flatMatch: { match: NonNullable<Match>; period: number } | null = null;
  raws.forEach((r, k) => {
    if (!flatMatch && r.flat) flatMatch = { match: r.flat, period: k };
  });
  if (raws.length === 0) {
    const instant: Segment = { start: sessionStart, end: sessionStart, e0: Q.ZERO, de: Q.ZERO, currentA: undefined };
    const m = firstMatch(tariff, "FLAT", instant, sessionStart, tz);
    if (m) flatMatch = { match: m, period: -1 };
  }

  const periods: PricedPeriod[] = raws.map((r) => {
    const dt = Q.sub(r.seg.end, r.seg.start);
    const dimensions: PricedDimension[] = [];
    for (const d of VOLUME_DIMENSIONS) {
      const m = r.matches[d];
      if (!m) continue;
      const volume = d === "ENERGY" ? r.seg.de : (d === "TIME") === r.charging ? dt : Q.ZERO;
      dimensions.push({
        type: d,
        ...m,
        price: units(component(m).price),
        vat: vatOf(m),
        stepSize: component(m).step_size,
        volume,
        billed: volume,
        costExclVat: Q.ZERO,
        costInclVat: Q.ZERO,
      });
    }
    return { start: r.seg.start, end: r.seg.end, charging: r.charging, energyWh: r.seg.de, durationS: dt, dimensions };
  });

  // step_size per run of each dimension, billed in the run's last period with volume.
  for (const d of VOLUME_DIMENSIONS) {
    let runVolume = Q.ZERO;
    let last: PricedDimension | undefined;
    const closeRun = () => {
      if (last && last.stepSize > 1) {
        const step = Q.ratio(BigInt(last.stepSize));
        const rounded = Q.mul(Q.ratio(Q.ceil(Q.div(runVolume, step))), step);
        last.billed = Q.add(last.billed, Q.sub(rounded, runVolume));
      }
      runVolume = Q.ZERO;
      last = undefined;
    };
    for (const p of periods) {
      const dim = p.dimensions.find((x) => x.type === d);
      if (!dim) {
        closeRun();
        continue;
      }
      runVolume = Q.add(runVolume, dim.volume);
      if (!Q.isZero(dim.volume)) last = dim;
    }
    closeRun();
  }

  let exclVat = Q.ZERO;
  let inclVat = Q.ZERO;
  for (const p of periods)
    for (const dim of p.dimensions) {
      const perUnit = dim.type === "ENERGY" ? Q.ratio(1000n) : Q.ratio(3600n); // price per kWh / per hour
      dim.costExclVat = Q.div(Q.mul(dim.billed, dim.price), perUnit);
      dim.costInclVat = withVat(dim.costExclVat, dim.vat);
      exclVat = Q.add(exclVat, dim.costExclVat);
      inclVat = Q.add(inclVat, dim.costInclVat);
    }
  let flat: PricedFlat | null = null;
  if (flatMatch) {
    const { match, period } = flatMatch as { match: NonNullable<Match>; period: number };
    const cost = units(component(match).price);
    flat = { ...match, vat: vatOf(match), costExclVat: cost, costInclVat: withVat(cost, vatOf(match)) };
    if (period >= 0) periods[period]!.flat = flat;
    exclVat = Q.add(exclVat, flat.costExclVat);
    inclVat = Q.add(inclVat, flat.costInclVat);
  }

  // min_price / max_price: "they both apply" to excl. and incl. VAT.
  let limitedExcl = exclVat;
  let limitedIncl = inclVat;
  /** Applies one bound; true when it changed a total. */
  const bound = (p: OcpiTariff["min_price"], isMin: boolean): boolean => {
    if (!p) return false;
    const beyond = (x: Rational, b: Rational) => (isMin ? Q.cmp(x, b) < 0 : Q.cmp(x, b) > 0);
    const [excl0, incl0] = [limitedExcl, limitedIncl];
    if (beyond(limitedExcl, units(p.excl_vat))) limitedExcl = units(p.excl_vat);
    if (p.incl_vat !== undefined) {
      if (beyond(limitedIncl, units(p.incl_vat))) limitedIncl = units(p.incl_vat);
    } else if (Q.cmp(excl0, limitedExcl) !== 0) {
      limitedIncl = Q.isZero(excl0) ? limitedExcl : Q.div(Q.mul(limitedIncl, limitedExcl), excl0);
    }
    return Q.cmp(excl0, limitedExcl) !== 0 || Q.cmp(incl0, limitedIncl) !== 0;
  };
  const minPriceApplied = bound(tariff.min_price, true);
  const maxPriceApplied = bound(tariff.max_price, false);

  const anyVat = tariff.elements.some((el) => el.price_components.some((pc) => pc.vat !== undefined));
  const sum = (f: (p: PricedPeriod) => Rational) => periods.reduce((s, p) => Q.add(s, f(p)), Q.ZERO);
  const hours = (s: Rational) => Number(s.n) / Number(s.d) / 3600;
  return {
    tariffId: tariff.id,
    currency: tariff.currency,
    periods,
    flat,
    exact: { exclVat, inclVat, limitedExclVat: limitedExcl, limitedInclVat: limitedIncl },
    minPriceApplied,
    maxPriceApplied,
    totalExclVat: Q.floor(limitedExcl),
    totalInclVat: anyVat ? Q.floor(limitedIncl) : null,
    energyWh: sum((p) => p.energyWh),
    chargingS: sum((p) => (p.charging ? p.durationS : Q.ZERO)),
    parkingS: sum((p) => (p.charging ? Q.ZERO : p.durationS)),
    chargingPeriods: periods.map((p) => ({
      start_date_time: iso(p.start),
      dimensions: [
        { type: "ENERGY" as const, volume: Number(p.energyWh.n) / Number(p.energyWh.d) / 1000 },
        { type: p.charging ? ("TIME" as const) : ("PARKING_TIME" as const), volume: hours(p.durationS) },
      ],
      tariff_id: tariff.id,
    })),
  };
}

const readingSchema = z.object({
  time: z.union([z.string().datetime({ offset: true }), z.number().int().nonnegative()]),
  wh: z.number().int().nonnegative(),
  current_a: z.number().finite().nonnegative().optional(),
});
const sessionFileSchema = z.object({ readings: z.array(readingSchema).min(1) });

/**
 * Parses a session file (docs/ocpi.md, "Session input"): `{"readings": [{"time", "wh", "current_a"?}, ...]}`,
 * `time` an ISO 8601 date-time with offset or unix seconds, `wh` the cumulative energy register in Wh, `current_a`
 * the current (A, all phases) over the interval ending at the reading; the first reading starts the session, the
 * last ends it.
 * @throws InvalidInputError naming the JSON path of the first bad field
 */
export function parseSessionReadings(json: unknown): MeterReading[] {
  let value = json;
  if (typeof json === "string") {
    try {
      value = JSON.parse(json);
    } catch (err) {
      throw new InvalidInputError(`session file is not JSON: ${(err as Error).message}`);
    }
  }
  const r = sessionFileSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new InvalidInputError(`session file ${i.path.join(".") || "(root)"}: ${i.message}`);
  }
  return r.data.readings.map((x) => ({
    t: typeof x.time === "number" ? BigInt(x.time) : BigInt(Math.floor(Date.parse(x.time) / 1000)),
    wh: BigInt(x.wh),
    ...(x.current_a === undefined ? {} : { currentA: x.current_a }),
  }));
}
