/**
 * OCPI 2.2.1 tariffs in and CDRs out (docs/ocpi.md): {@link importOcpiTariff} turns an OCPI `Tariff` into a
 * zkcharge {@link Tariff} exactly when it means the same prices under zkcharge's session-bill rule, and refuses it
 * otherwise naming the OCPI feature ({@link UnsupportedTariffError}); {@link exportOcpiCdr} writes a bill from
 * {@link computeBill} as OCPI CDR charging periods and totals. The circuit is not changed here.
 */
import { z } from "zod";
import { BITS, N_BANDS, SECONDS_PER_DAY, TOKEN_DECIMALS } from "../core/constants.ts";
import { InvalidInputError, ZkchargeError } from "../core/errors.ts";
import { CURRENCY } from "../core/money.ts";
import { decimal, mul, ratio } from "../core/rational.ts";
import { validateTariff, type BandTuple, type Bill, type DurationLimit, type Point, type Tariff } from "./tariff.ts";

/** The OCPI tariff uses a feature the session-bill circuit cannot price today; `feature` names it. */
export class UnsupportedTariffError extends ZkchargeError {
  /** The OCPI path and feature, e.g. `"elements[2].price_components[0].type PARKING_TIME"`. */
  readonly feature: string;

  /**
   * @param feature the OCPI path and feature
   * @param why why zkcharge cannot price it
   */
  constructor(feature: string, why: string) {
    super("UNSUPPORTED_TARIFF", `OCPI ${feature}: ${why}`);
    this.feature = feature;
  }
}

const timeOfDayRe = /^([0-1][0-9]|2[0-3]):[0-5][0-9]$/; // the spec's regex for start_time / end_time
const dateRe = /^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/;
const nonNeg = z.number().finite().nonnegative();

/** OCPI `Price` class. */
const priceSchema = z.object({ excl_vat: nonNeg, incl_vat: nonNeg.optional() });
/** OCPI `DisplayText` class. */
const displayTextSchema = z.object({ language: z.string().length(2), text: z.string().max(512) });
const dayOfWeek = z.enum(["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]);

/** OCPI `PriceComponent` class. */
const priceComponentSchema = z.object({
  type: z.enum(["ENERGY", "FLAT", "PARKING_TIME", "TIME"]),
  price: nonNeg,
  vat: nonNeg.optional(),
  step_size: z.number().int().nonnegative(),
});

/** OCPI `TariffRestrictions` class. */
const restrictionsSchema = z.object({
  start_time: z.string().regex(timeOfDayRe, "must be HH:MM (24h, leading zeros)").optional(),
  end_time: z.string().regex(timeOfDayRe, "must be HH:MM (24h, leading zeros)").optional(),
  start_date: z.string().regex(dateRe, "must be YYYY-MM-DD").optional(),
  end_date: z.string().regex(dateRe, "must be YYYY-MM-DD").optional(),
  min_kwh: nonNeg.optional(),
  max_kwh: nonNeg.optional(),
  min_current: nonNeg.optional(),
  max_current: nonNeg.optional(),
  min_power: nonNeg.optional(),
  max_power: nonNeg.optional(),
  min_duration: z.number().int().nonnegative().optional(),
  max_duration: z.number().int().nonnegative().optional(),
  day_of_week: z.array(dayOfWeek).optional(),
  reservation: z.enum(["RESERVATION", "RESERVATION_EXPIRES"]).optional(),
});

/** OCPI `TariffElement` class. */
const tariffElementSchema = z.object({
  price_components: z.array(priceComponentSchema).min(1),
  restrictions: restrictionsSchema.optional(),
});

/** OCPI 2.2.1 `Tariff` object (mod_tariffs), checked with zod. */
export const ocpiTariffSchema = z.object({
  country_code: z.string().length(2).optional(),
  party_id: z.string().length(3).optional(),
  id: z.string().min(1).max(36),
  currency: z.string().length(3),
  type: z.enum(["AD_HOC_PAYMENT", "PROFILE_CHEAP", "PROFILE_FAST", "PROFILE_GREEN", "REGULAR"]).optional(),
  tariff_alt_text: z.array(displayTextSchema).optional(),
  tariff_alt_url: z.string().url().optional(),
  min_price: priceSchema.optional(),
  max_price: priceSchema.optional(),
  elements: z.array(tariffElementSchema).min(1),
  start_date_time: z.string().datetime({ offset: true }).optional(),
  end_date_time: z.string().datetime({ offset: true }).optional(),
  energy_mix: z.record(z.unknown()).optional(),
  last_updated: z.string().datetime({ offset: true }),
});

/** An OCPI 2.2.1 `Tariff` object. */
export type OcpiTariff = z.infer<typeof ocpiTariffSchema>;
/** An OCPI `PriceComponent`. */
export type OcpiPriceComponent = z.infer<typeof priceComponentSchema>;
/** An OCPI `TariffRestrictions`. */
export type OcpiTariffRestrictions = z.infer<typeof restrictionsSchema>;

/** `elements[0].price_components[1].price` from a zod issue path. */
function jsonPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("") || "(root)";
}

/**
 * Parses and validates an OCPI 2.2.1 Tariff (JSON text or an already parsed value).
 * @throws InvalidInputError naming the JSON path of the first bad field
 */
export function parseOcpiTariff(json: unknown): OcpiTariff {
  let value = json;
  if (typeof json === "string") {
    try {
      value = JSON.parse(json);
    } catch (err) {
      throw new InvalidInputError(`OCPI tariff is not JSON: ${(err as Error).message}`);
    }
  }
  const r = ocpiTariffSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new InvalidInputError(`OCPI tariff ${jsonPath(i.path)}: ${i.message}`);
  }
  return r.data;
}

/** `x` currency units to token base units, exactly, or a refusal naming `path`. */
function toUnits(x: number, path: string, bits: number): bigint {
  // JSON numbers are decimals as written: String(x) is the shortest decimal that reads back as x.
  const exact = mul(decimal(String(x)), ratio(10n ** BigInt(TOKEN_DECIMALS)));
  const units = exact.n;
  if (exact.d !== 1n) {
    throw new UnsupportedTariffError(
      `${path} ${x}`,
      `has more than ${TOKEN_DECIMALS} decimals; the token's base unit is 10^-${TOKEN_DECIMALS} ${CURRENCY} (no silent rounding)`,
    );
  }
  if (units >> BigInt(bits) !== 0n) {
    throw new UnsupportedTariffError(
      `${path} ${x}`,
      `is ${units} base units, more than the circuit's ${bits}-bit range`,
    );
  }
  return units;
}

/** VAT percentage as an exact fraction `num/den`. */
function vatFraction(vat: string): { num: bigint; den: bigint } {
  const { n, d } = decimal(vat);
  return { num: n, den: d };
}

/**
 * `units * (1 + vat/100)`, rounded half up to a base unit: the one VAT rounding of the CDR export (VAT applied
 * once, on the session total, never per component or period).
 */
export function applyVat(units: bigint, vat: string | null): bigint {
  if (vat === null) return units;
  const { num, den } = vatFraction(vat);
  const x = units * (100n * den + num);
  const d = 100n * den;
  return (2n * x + d) / (2n * d);
}

/** Options of {@link importOcpiTariff}. */
export interface ImportOcpiOptions {
  /** Registry id of the CPO publishing the tariff. */
  cpoId: bigint;
  /** Seconds added to UTC for the Location's local time (`0 <= tzOffset < 86400`): restrictions are local. */
  tzOffset: bigint;
  /** First unix second a session may start (default: `start_date_time`, else 0). */
  validFrom?: bigint;
  /** Last unix second a session may start (default: `end_date_time`, else 2^40-1). */
  validTo?: bigint;
}

/** Result of {@link importOcpiTariff}. */
export interface ImportedOcpiTariff {
  /** The zkcharge tariff pricing every session exactly as the OCPI tariff does (excl. VAT). */
  tariff: Tariff;
  /** The OCPI tariff id (the CDR's `tariff_id`). */
  ocpiId: string;
  /** The one VAT percentage of every priced component (decimal text), or null when none is given. */
  vat: string | null;
  /** The parsed OCPI tariff. */
  ocpi: OcpiTariff;
}

/**
 * What `day_of_week` for some days would cost: a second set of the 12 band prices for the days in a 7-bit mask,
 * selected per interval by its weekday (prototype, 2026-12-02; docs/decisions.md): pay +1,510, close +1,567.
 */
export const DAY_OF_WEEK_CONSTRAINTS = { pay: 1_510, close: 1_567 } as const;

/**
 * What one limit of each restriction costs in pay (docs/ocpi.md; docs/decisions.md): the session-duration limit
 * (`min/max_duration`) the circuit has, on a chain point the meter takes there, with its own energy, time and parking
 * prices after it (measured on the built circuit, 2026-12-04); an energy limit (`min/max_kwh`, measured on a
 * prototype, 2026-12-03), the same construction on the cumulative energy; a power limit (`min/max_power`,
 * prototype) classes every interval by `de * 3600 >= P * dt` (a 57-bit range check an interval).
 */
export const RESTRICTION_CONSTRAINTS = { duration: 314, energy: 266, power: 1_089 } as const;
type RestrictionLimit = keyof typeof RESTRICTION_CONSTRAINTS;

/**
 * Rows left in pay's 2^15 proving domain with step sizes and the duration limit proved (31,941 constraints + 11
 * public inputs + 1, `npm run inspect:circuits`, 2026-12-04): day_of_week and a power limit do not fit beside them.
 */
const PAY_DOMAIN_ROWS_FREE = 32_768 - 31_953;

const MIN = 60;
const MINUTES_PER_DAY = SECONDS_PER_DAY / MIN;

function minutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** Minute `m` of the day as `HH:MM`. */
function hhmm(m: number): string {
  return `${String((m / 60) | 0).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

/**
 * Does a time-of-day restriction (start inclusive, end exclusive, may wrap past midnight) hold at minute `m` of
 * the local day? No restriction holds everywhere; `start_time = end_time` holds nowhere.
 */
export function timeMatches(r: OcpiTariffRestrictions | undefined, m: number): boolean {
  if (!r || (r.start_time === undefined && r.end_time === undefined)) return true;
  const s = r.start_time === undefined ? 0 : minutes(r.start_time);
  const e = r.end_time === undefined ? MINUTES_PER_DAY : minutes(r.end_time);
  if (s === e) return false; // an empty window ("valid from 13:00 until 13:00")
  return s < e ? m >= s && m < e : m >= s || m < e;
}

function unixSeconds(iso: string): bigint {
  return BigInt(Math.floor(Date.parse(iso) / 1000));
}

type OcpiVolumeType = "ENERGY" | "TIME" | "PARKING_TIME";

/**
 * Minute `k` of the walked day(s) in words: `HH:MM`, and from the second day on (the phase after the duration limit,
 * see {@link importOcpiTariff}) `HH:MM after the duration limit`.
 */
function minuteText(k: number): string {
  return k < MINUTES_PER_DAY ? hhmm(k) : `${hhmm(k - MINUTES_PER_DAY)} after the duration limit`;
}

/**
 * The one step size of a dimension, from the component that prices it at each minute of the day (0 reads as 1,
 * exactly the meter's resolution), before the duration limit and, when the tariff has one, after it (a second day
 * of minutes). OCPI rounds a dimension's volume up once per run of consecutive periods priced by some element with
 * that dimension, to the step of the run's last period; the circuit rounds the session's volume once with one
 * step. The two agree when the dimension is priced at every time of day in both phases (one run: the session) with
 * the same step, so a step above 1 is refused otherwise.
 * @throws UnsupportedTariffError naming the component when the step differs by time of day or phase, the dimension
 *   is unpriced at some time of day or phase, or the step is above 2^32
 */
function stepSizeOf(
  type: OcpiVolumeType,
  steps: readonly { path: string | undefined; stepSize: number | undefined }[],
): bigint {
  const stepped = steps.findIndex((s) => s.stepSize !== undefined && s.stepSize > 1);
  if (stepped < 0) return 1n;
  const { path, stepSize } = steps[stepped]!;
  const what = `${path}.step_size ${stepSize} on ${type}`;
  const gap = steps.findIndex((s) => s.path === undefined);
  if (gap >= 0) {
    const where =
      steps.length > MINUTES_PER_DAY
        ? "at every time of day before and after the duration limit"
        : "at every time of day";
    throw new UnsupportedTariffError(
      what,
      `not provable: ${type} is unpriced from ${minuteText(gap)}, so OCPI rounds each run of priced periods on its own; the circuit rounds the session's ${type} once (price ${type} ${where}, 0 where free)`,
    );
  }
  const other = steps.findIndex((s) => Math.max(s.stepSize ?? 1, 1) !== stepSize);
  if (other >= 0) {
    throw new UnsupportedTariffError(
      what,
      `not provable: ${steps[other]!.path}.step_size is ${steps[other]!.stepSize} at ${minuteText(other)}; the circuit has one step size per dimension`,
    );
  }
  if (BigInt(stepSize!) > 1n << BigInt(BITS.stepSize)) {
    throw new UnsupportedTariffError(what, `a step size is at most 2^${BITS.stepSize}`);
  }
  return BigInt(stepSize!);
}

/** A phase of the session: elapsed seconds since its start in `[from, to)` (`to` Infinity: no end). */
interface Phase {
  from: number;
  to: number;
}

/**
 * Whether an element's `min_duration` / `max_duration` hold at every elapsed time of `phase` (the reference's rule:
 * min inclusive, max exclusive; absent: no restriction). With every duration in {0, L} and the phases `[0, L)` and
 * `[L, Infinity)` this is exact: such a restriction holds at all of a phase or at none of it.
 */
function durationHolds(r: OcpiTariffRestrictions | undefined, phase: Phase): boolean {
  if (r?.min_duration !== undefined && r.min_duration > phase.from) return false;
  if (r?.max_duration !== undefined && !(r.max_duration >= phase.to)) return false;
  return true;
}

/**
 * Imports an OCPI 2.2.1 Tariff as a zkcharge tariff when it prices every session exactly as zkcharge's rule
 * does: one FLAT fee; ENERGY, TIME and PARKING_TIME prices by time of day (start_time/end_time) that together make
 * at most 4 bands over the day (TIME bills the intervals that add energy, PARKING_TIME those that add none; either
 * absent = 0); any step_size on ENERGY, TIME and PARKING_TIME that is the same at every time of day where a step
 * above 1 is used (and that dimension priced all day, before and after a duration limit); one VAT rate; `min_price`
 * and `max_price` (excl. VAT, incl. VAT only as excl. plus that VAT); one duration limit: `min_duration` /
 * `max_duration` with one value L > 0 over all elements (0 as the reference reads it: `min_duration` 0 is no
 * restriction, `max_duration` 0 never holds), where after L each dimension either keeps its time-of-day prices or
 * has one price at every time of day ({@link Tariff.durationLimit}; no FLAT in a duration-restricted element);
 * currency EUR; every price an exact number of base units. Anything else is refused by name (docs/ocpi.md).
 * The bands are the prices before L (elapsed time `[0, L)`), the limit's prices those after it (`[L, ...)`), each
 * dimension at each minute of the day priced by the first element with it whose restrictions hold there.
 * @param json the Tariff object as JSON text or parsed value
 * @throws InvalidInputError when the JSON is not a valid OCPI Tariff (naming the path)
 * @throws UnsupportedTariffError naming the OCPI feature zkcharge cannot price today
 */
export function importOcpiTariff(json: unknown, opts: ImportOcpiOptions): ImportedOcpiTariff {
  const ocpi = parseOcpiTariff(json);
  if (ocpi.currency !== CURRENCY) {
    throw new UnsupportedTariffError(`currency ${ocpi.currency}`, `the pool's token is ${CURRENCY}`);
  }
  // One VAT rate for every priced component: VAT is applied once on the total (see applyVat).
  let vat: string | null | undefined;
  let vatPath = "";
  ocpi.elements.forEach((el, i) =>
    el.price_components.forEach((pc, j) => {
      const path = `elements[${i}].price_components[${j}]`;
      const v = pc.vat === undefined ? null : String(pc.vat);
      if (vat === undefined) {
        vat = v;
        vatPath = path;
      } else if (v !== vat) {
        throw new UnsupportedTariffError(
          `${path}.vat ${v ?? "(none)"}`,
          `differs from ${vatPath}.vat ${vat ?? "(none)"}: per-component VAT is not supported yet (one rate, applied once)`,
        );
      }
    }),
  );

  let flatFee: bigint | undefined;
  // The one duration limit: the first min_duration / max_duration above 0, and where it is written.
  let limit: { seconds: number; path: string } | undefined;
  ocpi.elements.forEach((el, i) => {
    const r = el.restrictions;
    const at = `elements[${i}].restrictions`;
    if (r) {
      const unsupported: [keyof OcpiTariffRestrictions, string, RestrictionLimit?][] = [
        ["day_of_week", "day-of-week prices"],
        ["start_date", "date restrictions"],
        ["end_date", "date restrictions"],
        ["min_kwh", "energy-dependent prices", "energy"],
        ["max_kwh", "energy-dependent prices", "energy"],
        ["min_current", "current-dependent prices"],
        ["max_current", "current-dependent prices"],
        ["min_power", "power-dependent prices", "power"],
        ["max_power", "power-dependent prices", "power"],
        ["reservation", "reservation prices"],
      ];
      for (const [key, what, cost] of unsupported) {
        if (r[key] === undefined) continue;
        // All seven days listed is no restriction at all.
        if (key === "day_of_week" && new Set(r.day_of_week).size === 7) continue;
        if (key === "day_of_week") {
          throw new UnsupportedTariffError(
            `${at}.${key}`,
            `not provable: day_of_week costs ${DAY_OF_WEEK_CONSTRAINTS.pay} constraints in pay (${DAY_OF_WEEK_CONSTRAINTS.close} in close), more than the ${PAY_DOMAIN_ROWS_FREE} rows left in pay's 2^15 proving domain; \`zkcharge tariff price\` prices it off-chain`,
          );
        }
        // Whether the measured cost would fit beside what pay proves today decides the wording.
        const fits = cost && RESTRICTION_CONSTRAINTS[cost] <= PAY_DOMAIN_ROWS_FREE;
        const measured = cost
          ? ` (one limit measured at ${RESTRICTION_CONSTRAINTS[cost]} constraints in pay on a prototype, ` +
            (fits
              ? `${PAY_DOMAIN_ROWS_FREE} rows free: it fits, not built yet`
              : `more than the ${PAY_DOMAIN_ROWS_FREE} rows left in pay's 2^15 proving domain`) +
            `; \`zkcharge tariff price\` prices it off-chain)`
          : "";
        throw new UnsupportedTariffError(`${at}.${key}`, `the session-bill circuit has no ${what} yet${measured}`);
      }
      for (const key of ["min_duration", "max_duration"] as const) {
        const seconds = r[key];
        if (seconds === undefined || seconds === 0) continue; // 0: no restriction (min) or never (max), no instant
        if (limit === undefined) limit = { seconds, path: `${at}.${key}` };
        else if (seconds !== limit.seconds) {
          throw new UnsupportedTariffError(
            `${at}.${key}`,
            `${seconds} s is a second duration limit besides ${limit.path} ${limit.seconds} s: the session-bill circuit has one duration limit (it costs ${RESTRICTION_CONSTRAINTS.duration} constraints in pay; a second would cost about as much again; \`zkcharge tariff price\` prices it off-chain)`,
          );
        }
      }
    }
    const timeRestricted = r?.start_time !== undefined || r?.end_time !== undefined;
    // Any duration restriction but min_duration 0 (which always holds) makes an element duration-dependent.
    const durationKey = r?.min_duration ? "min_duration" : r?.max_duration !== undefined ? "max_duration" : undefined;
    el.price_components.forEach((pc, j) => {
      const path = `elements[${i}].price_components[${j}]`;
      if (pc.type === "FLAT") {
        if (timeRestricted)
          throw new UnsupportedTariffError(
            `${at}.start_time/end_time on FLAT`,
            "a time-of-day flat fee is not supported yet",
          );
        if (durationKey)
          throw new UnsupportedTariffError(
            `${at}.${durationKey} on FLAT`,
            "a duration-dependent flat fee is not supported",
          );
        flatFee ??= toUnits(pc.price, `${path}.price`, BITS.flatFee); // only the first FLAT applies (spec)
        return;
      }
    });
  });

  // The session's phases: before the duration limit (elapsed [0, L)) and after it ([L, ...)); without a limit, one.
  const before: Phase = { from: 0, to: limit?.seconds ?? Infinity };
  const after: Phase | undefined = limit && { from: limit.seconds, to: Infinity };
  // Each dimension's price at each minute of the local day in a phase: the first element with that dimension whose
  // restrictions match (spec: "the first Tariff Element with that Dimension in the list with matching Tariff
  // Restrictions will be used"), 0 when none matches ("there will be no costs for that Tariff Dimension").
  const priceAt = (type: OcpiVolumeType, m: number, bits: number, phase: Phase) => {
    for (let i = 0; i < ocpi.elements.length; i++) {
      const el = ocpi.elements[i]!;
      const j = el.price_components.findIndex((pc) => pc.type === type);
      if (j < 0 || !timeMatches(el.restrictions, m) || !durationHolds(el.restrictions, phase)) continue;
      const path = `elements[${i}].price_components[${j}]`;
      const pc = el.price_components[j]!;
      return { units: toUnits(pc.price, `${path}.price`, bits), path, stepSize: pc.step_size };
    }
    return { units: 0n, path: undefined, stepSize: undefined };
  };
  type Component = ReturnType<typeof priceAt>;
  // Each dimension's component at every minute of the day in each phase, walked once for the steps and the bands.
  const componentsOf = (type: OcpiVolumeType, bits: number) => {
    const walk = (phase: Phase) => Array.from({ length: MINUTES_PER_DAY }, (_, m) => priceAt(type, m, bits, phase));
    return { before: walk(before), after: after && walk(after) };
  };
  const energy = componentsOf("ENERGY", BITS.energyPrice);
  // OCPI TIME is "time charging", PARKING_TIME "time not charging": the circuit bills an interval's time at the
  // parking price when it adds no energy (de = 0), as the reference decides charging (energy flows or not).
  const time = componentsOf("TIME", BITS.timePrice);
  const parking = componentsOf("PARKING_TIME", BITS.timePrice);
  const both = (c: { before: Component[]; after: Component[] | undefined }) => [...c.before, ...(c.after ?? [])];
  const stepSize = [
    stepSizeOf("ENERGY", both(energy)),
    stepSizeOf("TIME", both(time)),
    stepSizeOf("PARKING_TIME", both(parking)),
  ] as const;
  const energyAt = energy.before.map((c) => c.units);
  const timeAt = time.before.map((c) => c.units);
  const parkingAt = parking.before.map((c) => c.units);
  // A band starts wherever the energy, the time or the parking price changes.
  const starts: number[] = [0];
  for (let m = 1; m < MINUTES_PER_DAY; m++) {
    if (energyAt[m] !== energyAt[m - 1] || timeAt[m] !== timeAt[m - 1] || parkingAt[m] !== parkingAt[m - 1])
      starts.push(m);
  }
  if (starts.length > N_BANDS) {
    throw new UnsupportedTariffError(
      `elements[].restrictions.start_time/end_time (ENERGY, TIME, PARKING_TIME)`,
      `the ENERGY, TIME and PARKING_TIME prices change ${starts.length} times a day (at ${starts.map(hhmm).join(", ")}); the circuit has ${N_BANDS} bands`,
    );
  }
  const bandStart = starts.map((m) => BigInt(m * MIN));
  const energyPrice = starts.map((m) => energyAt[m]!);
  const timePricePerHour = starts.map((m) => timeAt[m]!);
  const parkingPricePerHour = starts.map((m) => parkingAt[m]!);
  // Fewer than 4 bands: split the last band at +1 s, +2 s with the same prices (the circuit needs 4 increasing
  // starts; an equal-price split changes no bill, but a session over it needs a chain point there).
  while (bandStart.length < N_BANDS) {
    bandStart.push(bandStart[bandStart.length - 1]! + 1n);
    energyPrice.push(energyPrice[energyPrice.length - 1]!);
    timePricePerHour.push(timePricePerHour[timePricePerHour.length - 1]!);
    parkingPricePerHour.push(parkingPricePerHour[parkingPricePerHour.length - 1]!);
  }

  // After the duration limit each dimension keeps its band prices (the same at every minute as before it) or has
  // one price at every minute (the limit's price for it); the limit is kept only when some dimension changes.
  const afterLimitPrice = (type: OcpiVolumeType, c: { before: Component[]; after: Component[] | undefined }) => {
    const a = c.after;
    if (!a || a.every((x, m) => x.units === c.before[m]!.units)) return undefined;
    const m = a.findIndex((x) => x.units !== a[0]!.units);
    if (m >= 0) {
      throw new UnsupportedTariffError(
        `${a[m]!.path ?? a[m - 1]!.path} ${type}`,
        `after the duration limit (${limit!.path} ${limit!.seconds} s) ${type} changes at ${hhmm(m)} (${a[m - 1]!.units} to ${a[m]!.units} base units); the circuit has one price per dimension after the limit (or the time-of-day prices of before it)`,
      );
    }
    return a[0]!.units;
  };
  const limitPrices = {
    energyPrice: afterLimitPrice("ENERGY", energy),
    timePricePerHour: afterLimitPrice("TIME", time),
    parkingPricePerHour: afterLimitPrice("PARKING_TIME", parking),
  };
  let durationLimit: DurationLimit | undefined;
  if (limit && Object.values(limitPrices).some((p) => p !== undefined)) {
    if (BigInt(limit.seconds) >> BigInt(BITS.durationLimit) !== 0n) {
      throw new UnsupportedTariffError(
        `${limit.path} ${limit.seconds}`,
        `is more than the circuit's ${BITS.durationLimit}-bit duration limit (2^${BITS.durationLimit}-1 s)`,
      );
    }
    durationLimit = { seconds: BigInt(limit.seconds) };
    for (const [key, p] of Object.entries(limitPrices) as [keyof typeof limitPrices, bigint | undefined][])
      if (p !== undefined) durationLimit[key] = p;
  }

  // min_price / max_price bound the excl.-VAT total; an incl.-VAT bound is accepted only when it is exactly the
  // excl.-VAT one plus the VAT (the circuit proves the excl.-VAT amount, VAT is applied once after).
  const bound = (key: "min_price" | "max_price"): bigint => {
    const price = ocpi[key];
    if (!price) return 0n;
    const excl = toUnits(price.excl_vat, `${key}.excl_vat`, BITS.maxPrice);
    if (price.incl_vat !== undefined) {
      const incl = toUnits(price.incl_vat, `${key}.incl_vat`, BITS.maxPrice);
      if (incl !== applyVat(excl, vat ?? null)) {
        throw new UnsupportedTariffError(
          `${key}.incl_vat ${price.incl_vat}`,
          `is not ${key}.excl_vat plus VAT ${vat ?? "(none)"}% (${applyVat(excl, vat ?? null)} base units): a separate incl.-VAT bound is not supported`,
        );
      }
    }
    return excl;
  };
  const minPrice = bound("min_price");
  const maxPrice = bound("max_price");
  if (maxPrice > 0n && minPrice > maxPrice) {
    throw new UnsupportedTariffError(
      `min_price.excl_vat ${ocpi.min_price!.excl_vat}`,
      `is above max_price.excl_vat ${ocpi.max_price!.excl_vat}`,
    );
  }
  const validFrom = opts.validFrom ?? (ocpi.start_date_time ? unixSeconds(ocpi.start_date_time) : 0n);
  const validTo =
    opts.validTo ?? (ocpi.end_date_time ? unixSeconds(ocpi.end_date_time) : (1n << BigInt(BITS.time)) - 1n);
  const tariff: Tariff = {
    cpoId: opts.cpoId,
    flatFee: flatFee ?? 0n,
    energyPrice: energyPrice as unknown as BandTuple,
    bandStart: bandStart as unknown as BandTuple,
    timePricePerHour: timePricePerHour as unknown as BandTuple,
    parkingPricePerHour: parkingPricePerHour as unknown as BandTuple,
    minPrice,
    maxPrice,
    tzOffset: opts.tzOffset,
    validFrom,
    validTo,
    stepSize,
    ...(durationLimit ? { durationLimit } : {}),
  };
  validateTariff(tariff);
  return { tariff, ocpiId: ocpi.id, vat: vat ?? null, ocpi };
}

/** OCPI `CdrDimension`. */
export interface OcpiCdrDimension {
  type: "ENERGY" | "TIME" | "PARKING_TIME";
  /** kWh for ENERGY, hours for TIME and PARKING_TIME. */
  volume: number;
}

/** OCPI `ChargingPeriod`. */
export interface OcpiChargingPeriod {
  start_date_time: string;
  dimensions: OcpiCdrDimension[];
  tariff_id: string;
}

/** The CDR fields zkcharge fills from a bill (OCPI `CDR` subset). */
export interface OcpiCdrPart {
  start_date_time: string;
  end_date_time: string;
  currency: string;
  tariff_id: string;
  charging_periods: OcpiChargingPeriod[];
  /** OCPI `Price` of the session: what the driver pays, excl. and incl. VAT. */
  total_cost: { excl_vat: number; incl_vat?: number };
  total_fixed_cost?: { excl_vat: number; incl_vat?: number };
  /** kWh. */
  total_energy: number;
  /** Hours. */
  total_time: number;
  /** Hours with no energy drawn. */
  total_parking_time: number;
  /** The same totals in exact integers (base units, Wh, seconds): the numbers above are their decimal forms. */
  exact: { exclVatUnits: bigint; inclVatUnits: bigint; energyWh: bigint; timeS: bigint; parkingS: bigint };
}

/** Session facts the CDR needs besides the bill. */
export interface OcpiSessionInfo {
  /** The session's chain points (those {@link computeBill} billed). */
  points: readonly Point[];
  /** The imported tariff (its id, VAT and flat fee). */
  imported: ImportedOcpiTariff;
}

function iso(t: bigint): string {
  return new Date(Number(t) * 1000).toISOString().replace(".000Z", "Z");
}

/** Base units as a JSON number of currency units (the nearest double; `exact` keeps the integer). */
function money(units: bigint): number {
  return Number(units) / 10 ** TOKEN_DECIMALS;
}

/**
 * A session's bill as OCPI CDR charging periods and totals. One charging period per billed interval, dimension
 * ENERGY (kWh) and TIME (hours; PARKING_TIME when the interval drew no energy). `total_cost.excl_vat` is the
 * bill's `amount`; `incl_vat` is {@link applyVat} of it (VAT once on the total, rounded half up to a base unit).
 * Numbers are decimal forms of the exact integers in `exact` (a double carries a base-unit amount exactly below
 * 2^53 units, about 9 billion EUR).
 * @param bill the result of {@link computeBill} on `info.points` and `info.imported.tariff`
 */
export function exportOcpiCdr(bill: Bill, info: OcpiSessionInfo): OcpiCdrPart {
  const { points, imported } = info;
  if (bill.perInterval.length !== points.length - 1) {
    throw new InvalidInputError(
      `bill has ${bill.perInterval.length} intervals but the session has ${points.length} points`,
    );
  }
  const charging_periods: OcpiChargingPeriod[] = bill.perInterval.map((iv) => ({
    start_date_time: iso(iv.tStart),
    dimensions: [
      { type: "ENERGY", volume: Number(iv.de) / 1000 },
      { type: iv.parked ? "PARKING_TIME" : "TIME", volume: Number(iv.dt) / 3600 },
    ],
    tariff_id: imported.ocpiId,
  }));
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const parkingS = bill.perInterval.reduce((s, iv) => s + (iv.parked ? iv.dt : 0n), 0n);
  const timeS = last.t - first.t;
  const energyWh = last.e - first.e;
  const inclVatUnits = applyVat(bill.amount, imported.vat);
  const withVat = (units: bigint) =>
    imported.vat === null
      ? { excl_vat: money(units) }
      : { excl_vat: money(units), incl_vat: money(applyVat(units, imported.vat)) };
  return {
    start_date_time: iso(first.t),
    end_date_time: iso(last.t),
    currency: CURRENCY,
    tariff_id: imported.ocpiId,
    charging_periods,
    total_cost: withVat(bill.amount),
    ...(imported.tariff.flatFee > 0n ? { total_fixed_cost: withVat(imported.tariff.flatFee) } : {}),
    total_energy: Number(energyWh) / 1000,
    total_time: Number(timeS) / 3600,
    total_parking_time: Number(parkingS) / 3600,
    exact: { exclVatUnits: bill.amount, inclVatUnits, energyWh, timeS, parkingS },
  };
}
