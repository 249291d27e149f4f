/**
 * Following a live session as the driver's wallet (issue 17; the CLI wallet and the web app both run it): every reading the station streams is decoded and
 * checked by a {@link LiveSessionVerifier} built from the offer's terms (meter key, rating, the tariff fixed at
 * plug-in, CPO, session). The first reading that breaks a rule stops the session at once: the wallet asks the
 * station to stop, names the rule, and never counts that reading (the verifier refuses it without changing
 * anything, so the bill stays the one of the readings that held). A limit (energy, time) or the user stops it too.
 *
 * The loop runs on any stream of {@link LiveMessage}s: the station's WebSocket, or a recorded one in tests.
 */
import { InvalidInputError, InvalidReadingsError } from "../core/errors.ts";
import { decodeSignedMeterValue, type LiveSessionVerifier } from "../meter/liveRecord.ts";
import type { LiveMessage, StationReading } from "./stationApi.ts";
import { StationError, type StationClient } from "./stationClient.ts";

/** Why the wallet asked the station to stop. */
export type StopCause = "user" | "limit" | "violation";

/** What the loop is told to do. */
export interface FollowOptions {
  verifier: LiveSessionVerifier;
  stream: AsyncIterable<LiveMessage>;
  /** The last seqNo already verified (readings up to it are skipped; -1 for none). */
  lastSeqNo: number;
  /** Stop once this much energy was delivered (Wh), or this long after the start point (s). */
  stopAfterWh?: bigint;
  stopAfterSeconds?: bigint;
  /** A reading passed: keep it (called before the next message is read). */
  onAccepted(reading: StationReading, stationBill: bigint): Promise<void> | void;
  /** The first reading that broke a rule. */
  onViolation?(seqNo: number, rule: string): Promise<void> | void;
  /** Asks the station to stop (called once; failures are the caller's to report). */
  requestStop(cause: StopCause, reason: string): Promise<void>;
  /** The station reported a state change. */
  onState?(state: string, reason: string | undefined): void;
  /** Resolves when the user asks to stop (Ctrl-C, Enter). */
  userStop?: Promise<void>;
}

/** How the loop ended. */
export interface FollowOutcome {
  /** The session end arrived and held: close with `verifier.session()`. */
  ended: boolean;
  /** The station closed the escrow itself (from a tail, or a repeated close). */
  closed?: { txHash: string; amount: bigint; refund: bigint };
  /** The station or charger refused the start. */
  rejected?: string;
  /** The first reading that broke a rule (never counted). */
  violation?: { seqNo: number; rule: string };
  stop?: { cause: StopCause; reason: string };
  /** The last verified seqNo. */
  lastSeqNo: number;
}

/** What a refused reading says: the rule, or why it could not even be decoded. */
function ruleOf(error: unknown): string | undefined {
  if (error instanceof InvalidReadingsError) return error.message;
  if (error instanceof InvalidInputError) return `malformed signed meter value: ${error.message}`;
  return undefined;
}

/**
 * Reads `o.stream` until the session end is verified, the station closes the escrow or the stream ends; stops the
 * session on a broken rule, a limit or the user's request. Returns how it ended; the caller settles.
 */
export async function followSession(o: FollowOptions): Promise<FollowOutcome> {
  const out: FollowOutcome = { ended: false, lastSeqNo: o.lastSeqNo };
  let stopping = false;
  const stop = async (cause: StopCause, reason: string) => {
    if (stopping) return;
    stopping = true;
    out.stop = { cause, reason };
    await o.requestStop(cause, reason);
  };
  let userStopped = false;
  void o.userStop?.then(() => {
    userStopped = true;
    return stop("user", "stopped by the driver").catch(() => {});
  });
  const start = o.verifier.points[0];
  for await (const message of o.stream) {
    if (message.type === "state") {
      o.onState?.(message.state, message.reason);
      if (message.state === "rejected") {
        out.rejected = message.reason ?? "the charger refused to start";
        return out;
      }
      continue;
    }
    if (message.type === "closed") {
      out.closed = { txHash: message.txHash, amount: message.amount, refund: message.refund };
      return out;
    }
    const reading = message.reading;
    if (reading.seqNo <= out.lastSeqNo) continue; // already verified (a resumed stream starts before it)
    try {
      const { record, publicKey } = decodeSignedMeterValue(reading.signedMeterValue);
      o.verifier.accept(record, publicKey);
    } catch (error) {
      const rule = ruleOf(error);
      if (rule === undefined) throw error;
      if (out.violation === undefined) {
        out.violation = { seqNo: reading.seqNo, rule };
        await o.onViolation?.(reading.seqNo, rule);
        await stop("violation", `reading ${reading.seqNo} broke a rule: ${rule}`);
      }
      continue;
    }
    out.lastSeqNo = reading.seqNo;
    await o.onAccepted(reading, message.bill);
    if (o.verifier.ended) {
      out.ended = true;
      return out;
    }
    const first = start ?? o.verifier.points[0]!;
    const last = o.verifier.lastReading!;
    if (!stopping && !userStopped) {
      if (o.stopAfterWh !== undefined && last.e - first.e >= o.stopAfterWh)
        await stop("limit", `${last.e - first.e} Wh delivered (--stop-after-wh ${o.stopAfterWh})`);
      else if (o.stopAfterSeconds !== undefined && last.t - first.t >= o.stopAfterSeconds)
        await stop("limit", `${last.t - first.t} s charged (--stop-after-seconds ${o.stopAfterSeconds})`);
    }
  }
  return out;
}

/** Reconnections of {@link followStation} before it gives up (default). */
export const LIVE_RECONNECTS = 5;
/** How long {@link followStation} waits for the session's start point (default, ms): the charger may never start. */
export const START_TIMEOUT_MS = 120_000;

/** What {@link followStation} is told to do: {@link FollowOptions} less the stream, plus the station to read. */
export interface StationFollowOptions extends Omit<FollowOptions, "stream"> {
  station: StationClient;
  sessionId: bigint;
  /** The session's bearer token (from the start answer). */
  token: string;
  /** The session was already asked to stop (a resumed session): no limits and no user stop apply. */
  stopped?: boolean;
  /** A violation recorded before (a resumed session), kept in the outcome. */
  violation?: { seqNo: number; rule: string };
  /** Reconnections before giving up (default {@link LIVE_RECONNECTS}). */
  reconnects?: number;
  /** Give up when no start point arrives within this long (ms, default {@link START_TIMEOUT_MS}). */
  startTimeoutMs?: number;
  /** The stream was lost and is opened again from `fromSeqNo`. */
  onReconnect?(reason: string, fromSeqNo: number): void;
  /** One stream ended (any reason), before the outcome or a reconnection. */
  onStreamEnd?(): void;
}

/** How {@link followStation} ended: a {@link FollowOutcome}, or `lost` when the stream is gone for good. */
export interface StationFollowOutcome extends FollowOutcome {
  /** Why the wallet stopped following without an end, a close or a refusal. */
  lost?: string;
}

/**
 * Follows a session on a station's live WebSocket ({@link followSession} on each stream) from the reading after
 * `lastSeqNo`, reopening the stream from the last verified reading when it drops (with a growing pause, at most
 * `reconnects` times), until the session end, a close or a refusal. A stream that closes without the end is
 * checked against the station's stored readings: if more are there, the next stream replays them through the
 * same checks. No start point within `startTimeoutMs`: the session is stopped and reported `lost`.
 */
export async function followStation(o: StationFollowOptions): Promise<StationFollowOutcome> {
  const { station, sessionId, token, verifier } = o;
  const reconnects = o.reconnects ?? LIVE_RECONNECTS;
  const startTimeoutMs = o.startTimeoutMs ?? START_TIMEOUT_MS;
  let lastSeqNo = o.lastSeqNo;
  let violation = o.violation;
  let stopped = o.stopped ?? false;
  const lost = (why: string): StationFollowOutcome => ({ ended: false, lastSeqNo, violation, lost: why });
  const pause = (failures: number) => new Promise((r) => setTimeout(r, 500 * failures));
  for (let failures = 0; ;) {
    const stream = station.live(sessionId, token, lastSeqNo + 1);
    let noStart = false;
    const startTimer =
      verifier.points.length === 0
        ? setTimeout(() => {
            noStart = true;
            stream.close();
          }, startTimeoutMs)
        : undefined;
    let outcome: FollowOutcome;
    try {
      outcome = await followSession({
        ...o,
        stream,
        lastSeqNo,
        stopAfterWh: stopped ? undefined : o.stopAfterWh,
        stopAfterSeconds: stopped ? undefined : o.stopAfterSeconds,
        userStop: stopped ? undefined : o.userStop,
        onAccepted: (reading, bill) => {
          lastSeqNo = reading.seqNo;
          return o.onAccepted(reading, bill);
        },
        onViolation: (seqNo, rule) => {
          violation = { seqNo, rule };
          return o.onViolation?.(seqNo, rule);
        },
        requestStop: (cause, reason) => {
          stopped = true;
          return o.requestStop(cause, reason);
        },
      });
    } catch (error) {
      if (!(error instanceof StationError)) throw error;
      o.onStreamEnd?.();
      if (++failures > reconnects) return lost(error.message);
      o.onReconnect?.(error.message, lastSeqNo + 1);
      await pause(failures);
      continue;
    } finally {
      clearTimeout(startTimer);
      stream.close();
    }
    o.onStreamEnd?.();
    if (noStart && verifier.points.length === 0) {
      await station.stop(sessionId, token).catch(() => undefined);
      return lost(`no start point within ${startTimeoutMs / 1000} s`);
    }
    if (outcome.ended || outcome.closed || outcome.rejected)
      return { ...outcome, violation: violation ?? outcome.violation };
    // The station closed the stream without the end: ask the stored readings (the end may be there).
    const rest = await station.readings(sessionId, token, lastSeqNo + 1).catch(() => undefined);
    // More stored readings: the next stream replays them through the same checks (after a violation they are
    // refused again, so that counts as a failure: the loop stays bounded).
    if (rest && rest.readings.length > 0 && violation === undefined) continue;
    if (rest?.state === "closed" || rest?.state === "rejected")
      return {
        ended: false,
        lastSeqNo,
        violation,
        rejected: rest.state === "rejected" ? "refused by the station" : undefined,
      };
    if (++failures > reconnects) return lost("the live stream keeps closing");
    await pause(failures);
  }
}
