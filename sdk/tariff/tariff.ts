/**
 * Tariffs and the session bill, with exactly the circuit's integer rule (docs/protocol.md, "Session bill and
 * rounding rule"): a bill the SDK accepts is a bill the circuit proves, and vice versa.
 */
import { BILL_DIVISOR, BITS, N_BANDS, N_POINTS, SECONDS_PER_DAY } from "../core/constants.ts";
import { InvalidInputError, InvalidReadingsError, InvalidTariffError } from "../core/errors.ts";
import { isFieldElement } from "../core/field.ts";
import type { DurationLimit } from "../core/hash.ts";
import { formatAmount } from "../core/money.ts";

export type { DurationLimit } from "../core/hash.ts";

const DAY = BigInt(SECONDS_PER_DAY);

/** Four bigints, one per time-of-day band. */
export type BandTuple = readonly [bigint, bigint, bigint, bigint];

/** One step size per billed dimension: `[ENERGY in Wh, TIME in s, PARKING_TIME in s]` (OCPI step_size). */
export type StepSizes = readonly [bigint, bigint, bigint];

/** Step sizes that bill every Wh and every second exactly (OCPI step_size 1, or 0 which reads the same). */
export const EXACT_STEPS: StepSizes = [1n, 1n, 1n];

/** `value` in each of the four bands (a price that does not depend on the time of day). */
export function everyBand(value: bigint): BandTuple {
  return [value, value, value, value];
}

/** A published tariff (all integers, see docs/protocol.md "Tariff"). */
export interface Tariff {
  /** Charge point operator id in the registry (a field element). */
  cpoId: bigint;
  /** Flat session fee, token base units (< 2^40). */
  flatFee: bigint;
  /** Energy price per kWh of each band, base units (< 2^32). */
  energyPrice: BandTuple;
  /** Band starts in seconds after local midnight: `0 = bandStart[0] < [1] < [2] < [3] < 86400`. */
  bandStart: BandTuple;
  /**
   * Price per hour of charging time in each band, base units (< 2^32): OCPI TIME ("time charging") with time-of-day
   * restrictions. Billed on every interval that adds energy (`de > 0`).
   */
  timePricePerHour: BandTuple;
  /**
   * Price per hour of parking time in each band, base units (< 2^32): OCPI PARKING_TIME ("time not charging").
   * Billed instead of the time price on every interval that adds no energy (`de = 0`); 0 = parking is free.
   */
  parkingPricePerHour: BandTuple;
  /** Floor on the session amount, base units (< 2^40; 0 = none; at most `maxPrice` when a cap is set): OCPI min_price. */
  minPrice: bigint;
  /** Cap on the session amount, base units (< 2^40; 0 = no cap): OCPI max_price. */
  maxPrice: bigint;
  /** Seconds added to UTC for local time, `0 <= tzOffset < 86400` (negative zones modulo one day). */
  tzOffset: bigint;
  /** First unix second a session may start under this tariff (< 2^40). */
  validFrom: bigint;
  /** Last unix second a session may start under this tariff (< 2^40, >= validFrom). */
  validTo: bigint;
  /**
   * OCPI step_size of ENERGY (Wh), TIME and PARKING_TIME (s), each `1 <= step <= 2^32` ({@link EXACT_STEPS}: none):
   * the session's energy, charging time and parking time are each rounded up once to a multiple of their step,
   * and the round-up is billed at the price of that dimension's last interval.
   */
  stepSize: StepSizes;
  /**
   * OCPI `min_duration` / `max_duration`: from `seconds` after the session's first chain point on, the dimensions the
   * limit sets are billed at its prices (a blocking fee, a free first hour). Absent: no limit. The meter takes a
   * chain point at the limit, as at a band boundary.
   */
  durationLimit?: DurationLimit;
}

/** A chain point: unix seconds and cumulative energy in Wh. */
export interface Point {
  /** Unix time, seconds. */
  t: bigint;
  /** Cumulative energy register, Wh. */
  e: bigint;
}

/** One billed interval between chain points `index` and `index + 1` (0-based). */
export interface IntervalCharge {
  /** 0-based index of the interval's first point. */
  index: number;
  /** Interval start and end, unix seconds. */
  tStart: bigint;
  tEnd: bigint;
  /** Duration in seconds and energy in Wh. */
  dt: bigint;
  de: bigint;
  /** Time-of-day band (0..3) the interval is billed in. */
  band: number;
  /** True when the interval adds no energy (`de = 0`): its time is billed at the band's parking price. */
  parked: boolean;
  /** True when the interval starts at or after the tariff's duration limit (its prices replace the band's). */
  afterLimit: boolean;
  /** This interval's contribution to the numerator: `de * energyPrice[band] * 3600`. */
  energyNumerator: bigint;
  /** This interval's contribution to the numerator: `dt * (parked ? parkingPricePerHour : timePricePerHour)[band] * 1000`. */
  timeNumerator: bigint;
}

/** Result of {@link computeBill}. */
export interface Bill {
  /** What is paid: `bill` raised to `minPrice`, then capped at `maxPrice` when `maxPrice > 0`. */
  amount: bigint;
  /** `floor(numerator / D)` before the floor and the cap. */
  bill: bigint;
  /** `flatFee * D + sum(energy + time numerators) + stepNumerator`. */
  numerator: bigint;
  /** What the step sizes added to the session's energy (Wh), charging time and parking time (s). */
  stepExtra: StepSizes;
  /**
   * The round-ups' share of the numerator: `energyExtra * energyPrice * 3600 + (timeExtra * timePrice +
   * parkingExtra * parkingPrice) * 1000`, each at the price of the dimension's last interval (the last one with
   * energy; the last charging one; the last parked one with time).
   */
  stepNumerator: bigint;
  /** `numerator mod D` (the circuit range-checks it `< D`). */
  remainder: bigint;
  /** True when the floor (`minPrice`) applied. */
  raised: boolean;
  /** True when the cap applied. */
  capped: boolean;
  /** Per-interval breakdown (`n - 1` entries). */
  perInterval: IntervalCharge[];
}

function checkBits(field: string, x: bigint, bits: number): void {
  if (typeof x !== "bigint") throw new InvalidTariffError(field, `must be a bigint, got ${typeof x}`);
  if (x < 0n) throw new InvalidTariffError(field, `${x} is negative`);
  if (x >> BigInt(bits) !== 0n)
    throw new InvalidTariffError(field, `${x} does not fit in ${bits} bits (max 2^${bits}-1)`);
}

/** Seconds after now a newly published tariff starts at the earliest (the registry takes no past start). */
export const TARIFF_START_MARGIN = 60n;

/**
 * The validity window of a tariff published at `now` (unix seconds: the later of the chain's time and the clock)
 * for `validDays`: from {@link TARIFF_START_MARGIN} after now (or `notBefore`, if later) for `validDays` (ending at
 * `notAfter` if sooner), e.g. an OCPI tariff's own start and end.
 * @throws InvalidInputError when the window is empty
 */
export function tariffWindow(
  now: bigint,
  validDays: bigint,
  bounds: { notBefore?: bigint; notAfter?: bigint } = {},
): { validFrom: bigint; validTo: bigint } {
  let validFrom = now + TARIFF_START_MARGIN;
  if (bounds.notBefore !== undefined && bounds.notBefore > validFrom) validFrom = bounds.notBefore;
  let validTo = validFrom + validDays * BigInt(SECONDS_PER_DAY);
  if (bounds.notAfter !== undefined && bounds.notAfter < validTo) validTo = bounds.notAfter;
  if (validTo < validFrom)
    throw new InvalidInputError(
      `the tariff's validity ends at unix ${validTo}, before it could start (unix ${validFrom})`,
    );
  return { validFrom, validTo };
}

/**
 * Checks every tariff rule of docs/protocol.md.
 * @throws InvalidTariffError naming the first field that breaks a rule
 */
export function validateTariff(tariff: Tariff): void {
  if (typeof tariff.cpoId !== "bigint" || !isFieldElement(tariff.cpoId)) {
    throw new InvalidTariffError("cpoId", `${tariff.cpoId} is not a field element`);
  }
  checkBits("flatFee", tariff.flatFee, BITS.flatFee);
  if (tariff.energyPrice?.length !== N_BANDS)
    throw new InvalidTariffError("energyPrice", `must have ${N_BANDS} entries`);
  tariff.energyPrice.forEach((p, k) => checkBits(`energyPrice[${k}]`, p, BITS.energyPrice));
  if (tariff.bandStart?.length !== N_BANDS) throw new InvalidTariffError("bandStart", `must have ${N_BANDS} entries`);
  tariff.bandStart.forEach((b, k) => checkBits(`bandStart[${k}]`, b, BITS.timeOfDay));
  if (tariff.bandStart[0] !== 0n) throw new InvalidTariffError("bandStart[0]", `must be 0, got ${tariff.bandStart[0]}`);
  for (let k = 1; k < N_BANDS; k++) {
    if (tariff.bandStart[k]! <= tariff.bandStart[k - 1]!) {
      throw new InvalidTariffError(
        `bandStart[${k}]`,
        `${clock(tariff.bandStart[k]!)} must be after bandStart[${k - 1}] ${clock(tariff.bandStart[k - 1]!)}`,
      );
    }
  }
  if (tariff.bandStart[N_BANDS - 1]! >= DAY) {
    throw new InvalidTariffError(
      `bandStart[${N_BANDS - 1}]`,
      `${tariff.bandStart[N_BANDS - 1]} must be below 86400 (before midnight)`,
    );
  }
  if (tariff.timePricePerHour?.length !== N_BANDS)
    throw new InvalidTariffError("timePricePerHour", `must have ${N_BANDS} entries`);
  tariff.timePricePerHour.forEach((p, k) => checkBits(`timePricePerHour[${k}]`, p, BITS.timePrice));
  if (tariff.parkingPricePerHour?.length !== N_BANDS)
    throw new InvalidTariffError("parkingPricePerHour", `must have ${N_BANDS} entries`);
  tariff.parkingPricePerHour.forEach((p, k) => checkBits(`parkingPricePerHour[${k}]`, p, BITS.timePrice));
  checkBits("minPrice", tariff.minPrice, BITS.maxPrice);
  checkBits("maxPrice", tariff.maxPrice, BITS.maxPrice);
  if (tariff.maxPrice > 0n && tariff.minPrice > tariff.maxPrice) {
    throw new InvalidTariffError("minPrice", `${tariff.minPrice} is above maxPrice ${tariff.maxPrice}`);
  }
  checkBits("tzOffset", tariff.tzOffset, BITS.timeOfDay);
  if (tariff.tzOffset >= DAY) {
    throw new InvalidTariffError(
      "tzOffset",
      `${tariff.tzOffset} must be below 86400 (write a negative zone modulo one day)`,
    );
  }
  checkBits("validFrom", tariff.validFrom, BITS.time);
  checkBits("validTo", tariff.validTo, BITS.time);
  if (tariff.validFrom > tariff.validTo) {
    throw new InvalidTariffError("validTo", `${tariff.validTo} is before validFrom ${tariff.validFrom}`);
  }
  if (tariff.stepSize?.length !== 3)
    throw new InvalidTariffError("stepSize", "must have 3 entries (ENERGY Wh, TIME s, PARKING_TIME s)");
  tariff.stepSize.forEach((step, k) => {
    if (typeof step !== "bigint")
      throw new InvalidTariffError(`stepSize[${k}]`, `must be a bigint, got ${typeof step}`);
    if (step < 1n || step > 1n << BigInt(BITS.stepSize))
      throw new InvalidTariffError(`stepSize[${k}]`, `${step} must be between 1 and 2^${BITS.stepSize}`);
  });
  const limit = tariff.durationLimit;
  if (limit !== undefined) {
    checkBits("durationLimit.seconds", limit.seconds, BITS.durationLimit);
    if (limit.seconds === 0n)
      throw new InvalidTariffError("durationLimit.seconds", "must be at least 1 (omit the limit for none)");
    const prices = [limit.energyPrice, limit.timePricePerHour, limit.parkingPricePerHour];
    if (prices.every((p) => p === undefined))
      throw new InvalidTariffError(
        "durationLimit",
        "sets no price (give energyPrice, timePricePerHour or parkingPricePerHour)",
      );
    (["energyPrice", "timePricePerHour", "parkingPricePerHour"] as const).forEach((key) => {
      const p = limit[key];
      if (p !== undefined) checkBits(`durationLimit.${key}`, p, BITS.durationLimit);
    });
  }
}

/**
 * A tariff's duration limit in words, `from 4 h after plug-in: 6.00 EUR/h parked`, or `undefined` without one. One
 * wording for every face that shows a tariff.
 */
export function durationLimitText(limit: DurationLimit | undefined): string | undefined {
  if (!limit) return undefined;
  const s = limit.seconds;
  const h = s / 3600n;
  const min = (s % 3600n) / 60n;
  const after =
    s % 60n !== 0n ? `${s} s` : [h > 0n ? `${h} h` : "", min > 0n ? `${min} min` : ""].filter(Boolean).join(" ");
  const parts = [
    limit.energyPrice !== undefined ? `${formatAmount(limit.energyPrice)}/kWh` : undefined,
    limit.timePricePerHour !== undefined ? `${formatAmount(limit.timePricePerHour)}/h charging` : undefined,
    limit.parkingPricePerHour !== undefined ? `${formatAmount(limit.parkingPricePerHour)}/h parked` : undefined,
  ].filter((x) => x !== undefined);
  return `from ${after} after plug-in: ${parts.join(", ")}`;
}

/** What rounding `volume` up to a multiple of `step` adds (OCPI step_size): `ceil(volume / step) * step - volume`. */
export function stepRoundUp(volume: bigint, step: bigint): bigint {
  return ((volume + step - 1n) / step) * step - volume;
}

/**
 * A tariff's step sizes in words, `steps of 25 Wh, 300 s charging, 1 s parked`, or `undefined` when every step is 1
 * (exact billing, nothing to say). One wording for every face that shows a tariff.
 */
export function stepSizesText(stepSize: StepSizes): string | undefined {
  const [energy, time, parking] = stepSize;
  if (energy === 1n && time === 1n && parking === 1n) return undefined;
  return `steps of ${energy} Wh, ${time} s charging, ${parking} s parked`;
}

/** Local time of day (seconds after local midnight) of unix time `t`. */
export function timeOfDay(t: bigint, tariff: Tariff): bigint {
  return (((t + tariff.tzOffset) % DAY) + DAY) % DAY;
}

/** Formats seconds-after-midnight (or any unix time, reduced mod one day) as `HH:MM:SS`. */
export function clock(secondsOfDay: bigint): string {
  const s = ((secondsOfDay % DAY) + DAY) % DAY;
  const pad = (x: bigint) => x.toString().padStart(2, "0");
  return `${pad(s / 3600n)}:${pad((s / 60n) % 60n)}:${pad(s % 60n)}`;
}

function bandAt(tod: bigint, tariff: Tariff): number {
  let k = 0;
  for (let j = 1; j < N_BANDS; j++) if (tariff.bandStart[j]! <= tod) k = j;
  return k;
}

/** Time-of-day band (0..3) of unix time `t`: the last `k` with `bandStart[k] <= tod(t)`. */
export function bandOf(t: bigint, tariff: Tariff): number {
  return bandAt(timeOfDay(t, tariff), tariff);
}

/** End of the band containing local time of day `tod`: the next band start, or 86400 (midnight). */
function bandEnd(tod: bigint, tariff: Tariff): bigint {
  const k = bandAt(tod, tariff);
  return k + 1 < N_BANDS ? tariff.bandStart[k + 1]! : DAY;
}

/**
 * The first tariff boundary strictly after unix time `t` in a session that started (first chain point) at
 * `sessionStart`: the next band start, the next local midnight, or the duration limit (`sessionStart +
 * durationLimit.seconds`), whichever comes first. A meter takes a chain point exactly there (a reading on a boundary
 * starts the next band, or the limit's prices).
 */
export function nextBoundaryAfter(t: bigint, tariff: Tariff, sessionStart: bigint): bigint {
  const tod = timeOfDay(t, tariff);
  const band = t - tod + bandEnd(tod, tariff);
  const limit = tariff.durationLimit && sessionStart + tariff.durationLimit.seconds;
  return limit !== undefined && limit > t && limit < band ? limit : band;
}

function boundaryName(end: bigint): string {
  if (end === DAY) return "local midnight";
  return `${end % 60n === 0n ? clock(end).slice(0, 5) : clock(end)} band`;
}

/** Formats watts as kW with 1..3 decimals ("22.0", "7.36"). */
function kw(watts: bigint): string {
  const frac = (watts % 1000n).toString().padStart(3, "0").replace(/0+$/, "").padEnd(1, "0");
  return `${watts / 1000n}.${frac} kW`;
}

/**
 * The session bill from chain points `(t_i, e_i)`, i = 1..n, under `tariff` for a meter rated `ratedPowerW`,
 * with the circuit's rule: `num = flatFee*D + sum(de*energyPrice[band]*3600 + dt*timePrice*1000)`, where
 * `timePrice` is `parkingPricePerHour[band]` when the interval adds no energy (`de = 0`, OCPI PARKING_TIME) and
 * `timePricePerHour[band]` otherwise (OCPI TIME),
 * each price the tariff's duration limit sets replacing the band's on the intervals from the limit on,
 * plus the step_size round-ups ({@link Bill.stepNumerator}),
 * `bill = floor(num / D)` (D = 3 600 000), `amount = max(bill, minPrice)`, then at most `maxPrice` when
 * `maxPrice > 0`.
 * @throws InvalidTariffError if the tariff is invalid
 * @throws InvalidReadingsError if the circuit would reject the points (n outside 1..16, a value out of range,
 *   start outside the validity window, time or energy decreasing, interval >= 2^32, power above rating,
 *   an interval straddling a band boundary, midnight or the duration limit, a bill of 2^64 or more)
 */
export function computeBill(points: readonly Point[], tariff: Tariff, ratedPowerW: bigint): Bill {
  validateTariff(tariff);
  if (points.length < 1 || points.length > N_POINTS) {
    throw new InvalidReadingsError(`a session has 1..${N_POINTS} chain points, got ${points.length}`);
  }
  if (ratedPowerW < 0n || ratedPowerW >> BigInt(BITS.ratedPower) !== 0n) {
    throw new InvalidReadingsError(`ratedPowerW = ${ratedPowerW} does not fit in ${BITS.ratedPower} bits`);
  }
  points.forEach((p, i) => {
    if (p.t < 0n || p.t >> BigInt(BITS.time) !== 0n)
      throw new InvalidReadingsError(`point ${i + 1}: time ${p.t} does not fit in ${BITS.time} bits`);
    if (p.e < 0n || p.e >> BigInt(BITS.energy) !== 0n)
      throw new InvalidReadingsError(`point ${i + 1}: energy ${p.e} Wh does not fit in ${BITS.energy} bits`);
  });
  const t1 = points[0]!.t;
  if (t1 < tariff.validFrom || t1 > tariff.validTo) {
    throw new InvalidReadingsError(
      `session start ${t1} is outside the tariff's validity window [${tariff.validFrom}, ${tariff.validTo}]`,
    );
  }
  const maxInterval = (1n << BigInt(BITS.interval)) - 1n;
  const perInterval: IntervalCharge[] = [];
  let numerator = tariff.flatFee * BILL_DIVISOR;
  // For step_size: each dimension's volume and the price of its last interval (0 while it has none).
  let energy = 0n;
  let chargingTime = 0n;
  let parkingTime = 0n;
  let lastEnergyPrice = 0n;
  let lastTimePrice = 0n;
  let lastParkingPrice = 0n;
  const limit = tariff.durationLimit;
  const limitAt = limit && t1 + limit.seconds;
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i]!;
    const b = points[i + 1]!;
    const span = `interval ${clock(timeOfDay(a.t, tariff))}-${clock(timeOfDay(b.t, tariff))}`;
    const dt = b.t - a.t;
    const de = b.e - a.e;
    if (dt < 0n) throw new InvalidReadingsError(`${span}: time decreases from ${a.t} to ${b.t}`);
    if (de < 0n) throw new InvalidReadingsError(`${span}: energy decreases from ${a.e} Wh to ${b.e} Wh`);
    if (dt > maxInterval) throw new InvalidReadingsError(`${span} lasts ${dt} s, more than 2^32-1 s`);
    if (de > maxInterval) throw new InvalidReadingsError(`${span} adds ${de} Wh, more than 2^32-1 Wh`);
    if (de * 3600n > ratedPowerW * dt) {
      if (dt === 0n) {
        throw new InvalidReadingsError(`${span} adds ${de} Wh in 0 s, above the meter's rating ${kw(ratedPowerW)}`);
      }
      const drawn = (de * 3600n + dt - 1n) / dt; // ceil: always above the rating when the check fails
      throw new InvalidReadingsError(`${span} draws ${kw(drawn)}, above the meter's rating ${kw(ratedPowerW)}`);
    }
    const tod = timeOfDay(a.t, tariff);
    const band = bandAt(tod, tariff);
    const end = bandEnd(tod, tariff);
    if (tod + dt > end) {
      throw new InvalidReadingsError(
        `${span} straddles the ${boundaryName(end)} boundary: a chain point must be taken exactly at the boundary`,
      );
    }
    if (limitAt !== undefined && a.t < limitAt && b.t > limitAt) {
      throw new InvalidReadingsError(
        `${span} straddles the duration limit ${limit!.seconds} s after plug-in (${clock(timeOfDay(limitAt, tariff))}): a chain point must be taken exactly at the limit`,
      );
    }
    // From the duration limit on, each price the limit sets replaces the band's.
    const afterLimit = limitAt !== undefined && a.t >= limitAt;
    const pick = (bandPrice: bigint, limitPrice: bigint | undefined) =>
      afterLimit && limitPrice !== undefined ? limitPrice : bandPrice;
    const energyPrice = pick(tariff.energyPrice[band]!, limit?.energyPrice);
    const energyNumerator = de * energyPrice * 3600n;
    const parked = de === 0n;
    const timePrice = parked
      ? pick(tariff.parkingPricePerHour[band]!, limit?.parkingPricePerHour)
      : pick(tariff.timePricePerHour[band]!, limit?.timePricePerHour);
    const timeNumerator = dt * timePrice * 1000n;
    numerator += energyNumerator + timeNumerator;
    if (parked) {
      parkingTime += dt;
      if (dt > 0n) lastParkingPrice = timePrice;
    } else {
      energy += de;
      chargingTime += dt;
      lastEnergyPrice = energyPrice;
      lastTimePrice = timePrice;
    }
    perInterval.push({
      index: i,
      tStart: a.t,
      tEnd: b.t,
      dt,
      de,
      band,
      parked,
      afterLimit,
      energyNumerator,
      timeNumerator,
    });
  }
  const [energyStep, timeStep, parkingStep] = tariff.stepSize;
  const stepExtra: StepSizes = [
    stepRoundUp(energy, energyStep),
    stepRoundUp(chargingTime, timeStep),
    stepRoundUp(parkingTime, parkingStep),
  ];
  const stepNumerator =
    stepExtra[0] * lastEnergyPrice * 3600n + (stepExtra[1] * lastTimePrice + stepExtra[2] * lastParkingPrice) * 1000n;
  numerator += stepNumerator;
  const bill = numerator / BILL_DIVISOR;
  const remainder = numerator % BILL_DIVISOR;
  if (bill >> BigInt(BITS.value) !== 0n) {
    throw new InvalidReadingsError(`session bill ${bill} base units does not fit in ${BITS.value} bits`);
  }
  const raised = bill < tariff.minPrice;
  const floored = raised ? tariff.minPrice : bill;
  const capped = tariff.maxPrice > 0n && floored > tariff.maxPrice;
  const amount = capped ? tariff.maxPrice : floored;
  return { amount, bill, numerator, stepExtra, stepNumerator, remainder, raised, capped, perInterval };
}
