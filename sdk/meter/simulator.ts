/**
 * A charging simulator for tests, demos and the virtual charger: readings along a power curve that never exceeds
 * the meter's rating, with a reading at the exact time of every tariff boundary crossed and a chain point wherever
 * the power changes between zero and not zero.
 */
import { InvalidInputError, MeterError } from "../core/errors.ts";
import { nextBoundaryAfter } from "../tariff/tariff.ts";
import type { MeterSession } from "./meter.ts";
import type { Reading } from "./record.ts";

/** Options of {@link simulateCharging}. */
export interface SimulateOptions {
  /** Unix time of the last simulated reading. */
  to: bigint;
  /** Charging power in W, constant or a function of time; clamped to `[0, ratedPowerW]`. */
  powerW: bigint | ((t: bigint) => bigint);
  /** Seconds between regular readings (boundary readings are inserted in between). */
  stepSeconds: bigint;
}

/**
 * Simulates charging on `session` from its last reading to `to`: a reading every `stepSeconds` plus one at the
 * exact time of every boundary crossed, energy integrated from `powerW` (clamped to the rating) and released in
 * whole Wh without ever exceeding the rating between any two readings. The power is constant between two readings
 * (its value at the earlier one), so the charging state (power > 0) changes at a reading: each reading passes it to
 * the meter, which takes a chain point there when it changes (at the last reading already taken when the state
 * at `from` differs from the session's). A parked interval releases no energy.
 * @throws MeterError if the boundaries and state changes would not leave room for the end point (nothing is
 *   recorded)
 */
export function simulateCharging(session: MeterSession, options: SimulateOptions): Reading[] {
  const { to, stepSeconds } = options;
  if (session.ended) throw new MeterError("session already ended");
  if (stepSeconds <= 0n) throw new InvalidInputError("stepSeconds must be positive");
  const from = session.lastReading.t;
  if (to < from) throw new InvalidInputError(`simulate: 'to' ${to} is before the last reading ${from}`);
  const boundaries: bigint[] = [];
  const start = session.points[0]!.t;
  for (let b = session.nextBoundary; b <= to; b = nextBoundaryAfter(b, session.tariff, start)) boundaries.push(b);
  const times = new Set<bigint>(boundaries);
  for (let t = from + stepSeconds; t <= to; t += stepSeconds) times.add(t);
  if (to > from) times.add(to);
  const sorted = [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rated = session.ratedPowerW;
  const power = (t: bigint): bigint => {
    const p = typeof options.powerW === "function" ? options.powerW(t) : options.powerW;
    return p < 0n ? 0n : p > rated ? rated : p;
  };
  // Chain points needed: every boundary, and every state change off a boundary.
  const onBoundary = new Set(boundaries);
  let changes = 0;
  let state = session.charging;
  for (const t of [from, ...sorted]) {
    const next = power(t) > 0n;
    if (next !== state && !onBoundary.has(t)) changes++;
    state = next;
  }
  if (boundaries.length + changes > session.pointsLeft - 1) {
    throw new MeterError(
      `simulating to ${to} crosses ${boundaries.length} tariff boundaries and ${changes} changes between charging and parked but only ${session.pointsLeft - 1} chain points are left besides the end point`,
    );
  }
  const out: Reading[] = [];
  let prev = session.lastReading;
  if (power(from) > 0n !== session.charging)
    out.push(session.addReading(prev.t, prev.e, { charging: power(from) > 0n }));
  let carry = 0n; // energy not yet released, in W*s
  for (const t of sorted) {
    const dt = t - prev.t;
    const p = power(prev.t);
    carry += p * dt;
    let de = p > 0n ? carry / 3600n : 0n;
    const cap = (rated * dt) / 3600n;
    if (de > cap) de = cap;
    carry -= de * 3600n;
    const reading = session.addReading(t, prev.e + de, { charging: power(t) > 0n });
    prev = { t, e: reading.e };
    out.push(reading);
  }
  return out;
}
