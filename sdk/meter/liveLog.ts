/**
 * A session in progress as a station (or the CLI) persists it between processes: the session id, the tariff
 * fixed at plug-in, the start point and every reading after it. {@link restoreLiveSession} rebuilds the meter
 * session from it with {@link Meter.restoreSession}, which re-checks every chain point, and re-signs only the
 * last live tail (EdDSA signatures are deterministic, so it is the tail the meter signed before). Earlier live
 * tails are counted but not re-signed or re-checked: no signed record carries them.
 */
import { MeterError } from "../core/errors.ts";
import { computeBill, nextBoundaryAfter, type Bill, type Point, type Tariff } from "../tariff/tariff.ts";
import type { Meter, MeterSession } from "./meter.ts";
import type { LiveTail } from "./record.ts";

/** What is persisted about a session in progress. */
export interface LiveSessionLog {
  sessionId: bigint;
  /** The tariff fixed at plug-in. */
  tariff: Tariff;
  /** The first chain point (plug-in). */
  start: Point;
  /** Readings after the start point, in order (chain points at tariff boundaries, live tails otherwise). */
  readings: Point[];
}

/** A session rebuilt from a {@link LiveSessionLog}. */
export interface RestoredLiveSession {
  /** The meter session, its last reading the log's last reading, ready for more readings or the end. */
  session: MeterSession;
  /** The last reading as the live tail the meter signed, unless it is a chain point (the dispute evidence). */
  lastTail: LiveTail | undefined;
  /** How many of the log's readings are live tails (the others are chain points). */
  liveTails: number;
}

/** The log of a session just started (`session.points` is its start point only, no reading after it yet). */
export function startLiveSessionLog(session: MeterSession): LiveSessionLog {
  const [start, ...rest] = session.points;
  const last = session.lastReading;
  if (rest.length > 0 || last.t !== start!.t || last.e !== start!.e) {
    throw new MeterError("a live session log starts at plug-in: this session already has readings");
  }
  return { sessionId: session.sessionId, tariff: session.tariff, start: start!, readings: [] };
}

/** The log with `readings` appended (only their time and energy are kept). */
export function appendReadings(log: LiveSessionLog, readings: readonly Point[]): LiveSessionLog {
  return { ...log, readings: [...log.readings, ...readings.map((r) => ({ t: r.t, e: r.e }))] };
}

/**
 * The log's chain points: the start and every reading exactly at the tariff boundary after the previous chain
 * point (where {@link MeterSession.addReading} makes a chain point; `restoreSession` checks each one again).
 */
export function chainPointsOf(log: LiveSessionLog): Point[] {
  return split(log).points;
}

function split(log: LiveSessionLog): { points: Point[]; lastIsPoint: boolean } {
  const points = [log.start];
  let lastIsPoint = true;
  for (const r of log.readings) {
    lastIsPoint = r.t === nextBoundaryAfter(points[points.length - 1]!.t, log.tariff, log.start.t);
    if (lastIsPoint) points.push({ t: r.t, e: r.e });
  }
  return { points, lastIsPoint };
}

/**
 * Rebuilds the meter session of `log` on `meter` (the meter that started it).
 * @throws InvalidReadingsError / MeterError if the log is not a session this meter could have recorded
 */
export function restoreLiveSession(meter: Meter, log: LiveSessionLog): RestoredLiveSession {
  const { points, lastIsPoint } = split(log);
  const session = meter.restoreSession({ sessionId: log.sessionId, tariff: log.tariff, points });
  const liveTails = log.readings.length - (points.length - 1);
  const last = log.readings[log.readings.length - 1];
  if (last === undefined || lastIsPoint) return { session, lastTail: undefined, liveTails };
  const reading = session.addReading(last.t, last.e);
  if (reading.kind !== "live") throw new MeterError(`the last reading at ${last.t} became a chain point on restore`);
  return { session, lastTail: reading, liveTails };
}

/**
 * The bill of a session closed from `tail` now (the tail billed as one more interval after the last chain
 * point, as the close circuit bills live evidence), or of its chain points alone without a tail.
 */
export function billSoFar(session: MeterSession, tail: LiveTail | undefined): Bill {
  const points = tail ? [...session.points, { t: tail.t, e: tail.e }] : session.points;
  return computeBill(points, session.tariff, session.ratedPowerW);
}
