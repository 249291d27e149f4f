/**
 * A meter: an EdDSA-Poseidon key registered as a meter leaf, which records a session's hash chain over chain
 * points (start, every tariff boundary, every change between charging and parked, end), signs live tails between
 * them and signs the session end. A session can be restored from what a station persisted (its chain points and
 * last reading) after a restart.
 */
import { BITS, N_POINTS } from "../core/constants.ts";
import { InvalidInputError, InvalidReadingsError, MeterError } from "../core/errors.ts";
import { assertBits, assertFieldElement } from "../core/field.ts";
import { chainFinal, chainStart, chainStep, liveTail, meterLeaf, tariffHash } from "../core/hash.ts";
import {
  clock,
  computeBill,
  nextBoundaryAfter,
  timeOfDay,
  validateTariff,
  type Point,
  type Tariff,
} from "../tariff/tariff.ts";
import { eddsaSigner, type EddsaSigner } from "./eddsa.ts";
import type {
  ChainPointReading,
  LiveEvidence,
  LiveTail,
  MeterSignature,
  Reading,
  SignedChain,
  SignedSession,
} from "./record.ts";

/** Options of {@link Meter}. */
export interface MeterOptions {
  /** CPO the meter is registered under. */
  cpoId: bigint;
  /** Rated power in W (1..2^24-1); the circuit rejects readings implying more. */
  ratedPowerW: bigint;
  /** EdDSA-Poseidon private key (any bytes; 32 random bytes if omitted). */
  privateKey?: Uint8Array;
}

/** A charging meter registered by a CPO. */
export class Meter {
  readonly cpoId: bigint;
  readonly ratedPowerW: bigint;
  /** EdDSA public key `(Ax, Ay)`. */
  readonly publicKey: [bigint, bigint];
  /** Meter leaf `H_5(TAG_METER, Ax, Ay, cpoId, ratedPowerW)` the CPO inserts in its meter tree. */
  readonly leaf: bigint;
  readonly #signer: EddsaSigner;

  /** @throws InvalidInputError if cpoId is not a field element or ratedPowerW is not in 1..2^24-1 */
  constructor(options: MeterOptions) {
    assertFieldElement(options.cpoId, "cpoId");
    assertBits(options.ratedPowerW, BITS.ratedPower, "ratedPowerW");
    if (options.ratedPowerW === 0n) throw new InvalidInputError("ratedPowerW must be positive");
    this.#signer = eddsaSigner(options.privateKey ?? crypto.getRandomValues(new Uint8Array(32)));
    this.cpoId = options.cpoId;
    this.ratedPowerW = options.ratedPowerW;
    const [x, y] = this.#signer.publicKey;
    this.publicKey = [x, y];
    this.leaf = meterLeaf(x, y, this.cpoId, this.ratedPowerW);
  }

  /** Signs a field element with the meter key. */
  #sign(message: bigint): MeterSignature {
    return this.#signer.sign(message);
  }

  /**
   * Starts a session at plug-in: fixes the tariff (its hash goes into `H_0`) and records the first chain point.
   * `charging` is whether energy flows from plug-in on (default true; false when the car is parked or suspended).
   * @throws InvalidTariffError / MeterError if the tariff is invalid, of another CPO, or not valid at `t`
   */
  startSession(args: { sessionId: bigint; tariff: Tariff; t: bigint; e: bigint; charging?: boolean }): MeterSession {
    assertFieldElement(args.sessionId, "sessionId");
    validateTariff(args.tariff);
    if (args.tariff.cpoId !== this.cpoId) {
      throw new MeterError(`tariff belongs to CPO ${args.tariff.cpoId}, the meter to CPO ${this.cpoId}`);
    }
    if (args.t < args.tariff.validFrom || args.t > args.tariff.validTo) {
      throw new MeterError(
        `session start ${args.t} is outside the tariff's validity window [${args.tariff.validFrom}, ${args.tariff.validTo}]`,
      );
    }
    const charging = args.charging ?? true;
    return new MeterSession(this, (m) => this.#sign(m), args.sessionId, args.tariff, args.t, args.e, charging);
  }

  /**
   * Restores a session in progress from what was persisted about it (after a restart): its chain points and its
   * last reading. Every point is checked again as when it was recorded, so a corrupted record is refused; a point
   * off the tariff boundaries is taken as a change between charging and parked. The charging state after the
   * restore is inferred from the points (whether the interval after each point adds energy, flipped at every
   * state change); the caller's next `charging` corrects it.
   * @throws InvalidReadingsError / MeterError if the points are not a chain this meter could have recorded
   */
  restoreSession(args: { sessionId: bigint; tariff: Tariff; points: readonly Point[]; last?: Point }): MeterSession {
    const [first, ...rest] = args.points;
    if (first === undefined) throw new MeterError("a restored session needs at least its start point");
    const charging = rest[0] === undefined ? true : rest[0].e > first.e;
    const session = this.startSession({
      sessionId: args.sessionId,
      tariff: args.tariff,
      t: first.t,
      e: first.e,
      charging,
    });
    rest.forEach((p, i) => {
      const next = rest[i + 1];
      const atBoundary = p.t === session.nextBoundary;
      // At a boundary the state follows the next interval; off a boundary the point is a state change.
      const state = atBoundary ? (next === undefined ? session.charging : next.e > p.e) : !session.charging;
      session.addReading(p.t, p.e, { charging: state });
    });
    const last = args.last;
    const lastPoint = args.points[args.points.length - 1]!;
    if (last !== undefined && (last.t !== lastPoint.t || last.e !== lastPoint.e)) session.addReading(last.t, last.e);
    return session;
  }
}

/**
 * A session in progress on a {@link Meter}. It holds at most N_POINTS = 16 chain points, the end point included:
 * a boundary or state-change reading is refused when only one slot is left (`pointsLeft === 1`), so the caller
 * must call {@link MeterSession.end} at or before it; a real meter ends the session before capacity runs out.
 */
export class MeterSession {
  readonly sessionId: bigint;
  readonly tariff: Tariff;
  readonly tariffHash: bigint;
  readonly #meter: Meter;
  readonly #sign: (m: bigint) => MeterSignature;
  readonly #points: Point[] = [];
  readonly #heads: bigint[];
  #last: Point;
  #ended = false;
  #charging: boolean;

  /** @internal use {@link Meter.startSession} */
  constructor(
    meter: Meter,
    sign: (m: bigint) => MeterSignature,
    sessionId: bigint,
    tariff: Tariff,
    t: bigint,
    e: bigint,
    charging: boolean,
  ) {
    this.#meter = meter;
    this.#charging = charging;
    this.#sign = sign;
    this.sessionId = sessionId;
    this.tariff = tariff;
    this.tariffHash = tariffHash(tariff);
    this.#heads = [chainStart(sessionId, meter.cpoId, meter.leaf, this.tariffHash)];
    this.#checkRange(t, e);
    this.#last = { t, e };
    this.#append(t, e);
  }

  /** The last reading taken (a chain point or a live tail). */
  get lastReading(): Point {
    return { ...this.#last };
  }

  /** The meter's rated power in W. */
  get ratedPowerW(): bigint {
    return this.#meter.ratedPowerW;
  }

  /** Chain points recorded so far. */
  get points(): Point[] {
    return this.#points.map((p) => ({ ...p }));
  }

  /** Current chain head `H_k` (k = number of chain points). */
  get head(): bigint {
    return this.#heads[this.#heads.length - 1]!;
  }

  /** Chain slots left, the end point's slot included (a boundary point needs `pointsLeft >= 2`). */
  get pointsLeft(): number {
    return N_POINTS - this.#points.length;
  }

  /** Whether energy flows since the last reading (the state the last `charging` option set). */
  get charging(): boolean {
    return this.#charging;
  }

  /** True once {@link MeterSession.end} was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The next tariff boundary (band start, local midnight or the duration limit) after the last chain point. */
  get nextBoundary(): bigint {
    return nextBoundaryAfter(this.#points[this.#points.length - 1]!.t, this.tariff, this.#points[0]!.t);
  }

  #checkRange(t: bigint, e: bigint): void {
    assertBits(t, BITS.time, "reading time");
    assertBits(e, BITS.energy, "reading energy");
  }

  #append(t: bigint, e: bigint): ChainPointReading {
    this.#points.push({ t, e });
    const head = chainStep(this.head, t, e);
    this.#heads.push(head);
    return { kind: "point", t, e, index: this.#points.length, head };
  }

  /** Checks a new reading against the last one and the last chain point; returns the boundary it may reach. */
  #checkReading(t: bigint, e: bigint): bigint {
    if (this.#ended) throw new MeterError("session already ended");
    this.#checkRange(t, e);
    const last = this.#last;
    const at = (x: bigint) => clock(timeOfDay(x, this.tariff));
    if (t < last.t)
      throw new InvalidReadingsError(`reading at ${at(t)} is earlier than the previous reading at ${at(last.t)}`);
    if (e < last.e)
      throw new InvalidReadingsError(`reading at ${at(t)}: energy ${e} Wh is below the previous ${last.e} Wh`);
    const rated = this.#meter.ratedPowerW;
    if ((e - last.e) * 3600n > rated * (t - last.t)) {
      throw new InvalidReadingsError(
        `readings ${at(last.t)}-${at(t)} add ${e - last.e} Wh, more than the meter's rating ${rated} W allows in ${t - last.t} s`,
      );
    }
    const anchor = this.#points[this.#points.length - 1]!;
    const limit = (1n << BigInt(BITS.interval)) - 1n;
    if (t - anchor.t > limit || e - anchor.e > limit) {
      throw new MeterError("chain interval exceeds 2^32-1 s or Wh: end the session");
    }
    const boundary = nextBoundaryAfter(anchor.t, this.tariff, this.#points[0]!.t);
    if (t > boundary) {
      throw new InvalidReadingsError(
        `reading at ${at(t)} skips the tariff boundary at ${at(boundary)}: take a reading exactly at the boundary first`,
      );
    }
    return boundary;
  }

  /**
   * Records a reading. At a tariff boundary (exact boundary time) it becomes a chain point; so it does when
   * `options.charging` (whether energy flows from `t` on: false when the power drops to zero, e.g. OCPP
   * `SuspendedEV`) differs from the session's state, so that the time after the change is its own interval and is
   * billed from that moment as parking (or charging) time. Anywhere else it is signed as a live tail over the
   * current head. A state change at the last chain point itself adds no point.
   * @throws InvalidReadingsError if time or energy decrease, the power exceeds the rating or a boundary was skipped
   * @throws MeterError if the session ended or a boundary or state-change point would leave no slot for the end
   */
  addReading(t: bigint, e: bigint, options: { charging?: boolean } = {}): Reading {
    const boundary = this.#checkReading(t, e);
    const changed = options.charging !== undefined && options.charging !== this.#charging;
    const lastPoint = this.#points[this.#points.length - 1]!;
    const isLastPoint = t === lastPoint.t && e === lastPoint.e;
    if (t === boundary || (changed && !isLastPoint)) {
      if (this.pointsLeft < 2) {
        const why = t === boundary ? "at this boundary" : "at this change between charging and parked";
        throw new MeterError(
          `session holds ${this.#points.length} of ${N_POINTS} chain points: only the end point fits, call end() ${why}`,
        );
      }
      this.#last = { t, e };
      if (options.charging !== undefined) this.#charging = options.charging;
      return this.#append(t, e);
    }
    this.#last = { t, e };
    if (options.charging !== undefined) this.#charging = options.charging;
    const k = this.#points.length;
    const tail = liveTail(this.head, t, e);
    return { kind: "live", t, e, k, tail, signature: this.#sign(tail) };
  }

  /**
   * Packages a live tail this session signed as evidence for closing an escrow without a session end.
   * @throws MeterError if the tail does not hang off the current chain (a chain point was added since)
   */
  evidence(tail: LiveTail): LiveEvidence {
    if (tail.k !== this.#points.length || tail.tail !== liveTail(this.head, tail.t, tail.e)) {
      throw new MeterError(
        `live tail at point ${tail.k} no longer extends this session (now ${this.#points.length} points)`,
      );
    }
    return { ...this.#chain(), tail: { t: tail.t, e: tail.e }, message: tail.tail, signature: tail.signature };
  }

  /** The chain fields every signed record of this session carries. */
  #chain(): Omit<SignedChain, "signature"> {
    const meter = this.#meter;
    return {
      sessionId: this.sessionId,
      cpoId: meter.cpoId,
      meterLeaf: meter.leaf,
      ratedPowerW: meter.ratedPowerW,
      tariff: this.tariff,
      tariffHash: this.tariffHash,
      points: this.points,
      n: this.#points.length,
      meterPublicKey: [meter.publicKey[0], meter.publicKey[1]],
    };
  }

  /**
   * Ends the session at `(t, e)` (appended as the last chain point unless it equals the last one) and signs
   * `chainFinal(H_n, n, ocmfDigest)`.
   * @param ocmfDigest - digest of the OCMF records the readings came from (a gateway's), 0 (default) for none
   * @throws InvalidReadingsError / MeterError as {@link MeterSession.addReading}, or if the bill would not verify
   */
  end(t: bigint, e: bigint, ocmfDigest = 0n): SignedSession {
    assertFieldElement(ocmfDigest, "ocmfDigest");
    const lastPoint = this.#points[this.#points.length - 1]!;
    if (!(t === lastPoint.t && e === lastPoint.e && t === this.#last.t && e === this.#last.e)) {
      this.#checkReading(t, e);
      if (this.pointsLeft < 1) throw new MeterError(`session already holds ${N_POINTS} chain points`);
      this.#last = { t, e };
      this.#append(t, e);
    } else if (this.#ended) {
      throw new MeterError("session already ended");
    }
    this.#ended = true;
    computeBill(this.#points, this.tariff, this.#meter.ratedPowerW); // self-check: the circuit must accept these points
    const final = chainFinal(this.head, BigInt(this.#points.length), ocmfDigest);
    return { ...this.#chain(), ocmfDigest, final, signature: this.#sign(final) };
  }
}
