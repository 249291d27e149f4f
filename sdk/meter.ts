/**
 * A virtual meter: an EdDSA-Poseidon key registered as a meter leaf, which records a session's hash chain over
 * chain points (start, every tariff boundary, end), signs live tails between them and signs the session end.
 */
import { createRequire } from "node:module";
import type * as EddsaPoseidon from "@zk-kit/eddsa-poseidon";
import { BITS, N_POINTS } from "./constants.ts";
import { InvalidInputError, InvalidReadingsError, MeterError } from "./errors.ts";
import { assertBits, assertFieldElement } from "./field.ts";
import { chainFinal, chainStart, chainStep, liveTail, meterLeaf, tariffHash } from "./hash.ts";
import { clock, computeBill, nextBoundaryAfter, timeOfDay, validateTariff, type Point, type Tariff } from "./tariff.ts";

// @zk-kit/eddsa-poseidon's ESM build does `import { blake2bFinal } from "blakejs"`, a CommonJS module whose
// exports Node's native ESM loader cannot detect (it fails under `hardhat test mocha`, which loads tests with
// require(esm)). Its CommonJS build requires blakejs normally, so load that one.
const { derivePublicKey, signMessage, verifySignature } =
  createRequire(import.meta.url)("@zk-kit/eddsa-poseidon") as typeof EddsaPoseidon;

/** An EdDSA-Poseidon signature on Baby Jubjub. */
export interface MeterSignature {
  /** The point `R8`. */
  R8: [bigint, bigint];
  /** The scalar `S` (< l). */
  S: bigint;
}

/** A reading that became a chain point (session start or a tariff boundary). */
export interface ChainPointReading {
  kind: "point";
  /** Unix seconds and cumulative Wh. */
  t: bigint;
  e: bigint;
  /** 1-based position `i` of the point in the chain. */
  index: number;
  /** Chain head `H_i` after this point. */
  head: bigint;
}

/** A reading between chain points, signed as a live tail over `liveTail(H_k, t, e)`. */
export interface LiveTail {
  kind: "live";
  /** Unix seconds and cumulative Wh. */
  t: bigint;
  e: bigint;
  /** Number of chain points `k` the tail hangs off (`H_k`). */
  k: number;
  /** The signed message `H_4(TAG_LIVE, H_k, t, e)`. */
  tail: bigint;
  /** Meter signature over `tail`. */
  signature: MeterSignature;
}

/** What {@link MeterSession.addReading} returns. */
export type Reading = ChainPointReading | LiveTail;

/** What the meter signs about a session, whether it ended or not: its chain and the meter's signature. */
export interface SignedChain {
  sessionId: bigint;
  cpoId: bigint;
  /** The meter's leaf `H_5(TAG_METER, Ax, Ay, cpoId, ratedPowerW)`. */
  meterLeaf: bigint;
  /** The meter's rating, part of its leaf. */
  ratedPowerW: bigint;
  /** The tariff fixed at plug-in, and its hash (signed into `H_0`). */
  tariff: Tariff;
  tariffHash: bigint;
  /** Chain points `(t_i, e_i)`, i = 1..n. */
  points: Point[];
  /** Number of chain points. */
  n: number;
  /** Meter signature over the signed message (the session-end record or a live tail). */
  signature: MeterSignature;
  /** Meter public key `(Ax, Ay)`. */
  meterPublicKey: [bigint, bigint];
}

/** A finished session as the meter signed it: everything the pay / close circuits need from the meter. */
export interface SignedSession extends SignedChain {
  /** `H_3(TAG_FINAL, H_n, n)`, the signed message. */
  final: bigint;
}

/**
 * What the meter signed for a session that never ended (the driver disappeared): the chain points so far and a
 * live tail after them. The CPO closes an escrow with it once the settle deadline has passed.
 */
export interface LiveEvidence extends SignedChain {
  /** The tail reading (billed as one more interval after point n). */
  tail: Point;
  /** `H_4(TAG_LIVE, H_n, t, e)`, the signed message. */
  message: bigint;
}

/** Options of {@link Meter}. */
export interface MeterOptions {
  /** CPO the meter is registered under. */
  cpoId: bigint;
  /** Rated power in W (1..2^24-1); the circuit rejects readings implying more. */
  ratedPowerW: bigint;
  /** EdDSA-Poseidon private key (any bytes; 32 random bytes if omitted). */
  privateKey?: Uint8Array;
}

/** Options of {@link MeterSession.simulate}. */
export interface SimulateOptions {
  /** Unix time of the last simulated reading. */
  to: bigint;
  /** Charging power in W, constant or a function of time; clamped to `[0, ratedPowerW]`. */
  powerW: bigint | ((t: bigint) => bigint);
  /** Seconds between regular readings (boundary readings are inserted in between). */
  stepSeconds: bigint;
}

/**
 * `[H_0, H_1, ..., H_n]` of a session: `H_0 = chainStart(...)`, `H_i = chainStep(H_{i-1}, t_i, e_i)`.
 */
export function computeChain(sessionId: bigint, cpoId: bigint, leaf: bigint, tariffHashValue: bigint, points: readonly Point[]): bigint[] {
  const heads = [chainStart(sessionId, cpoId, leaf, tariffHashValue)];
  for (const p of points) heads.push(chainStep(heads[heads.length - 1]!, p.t, p.e));
  return heads;
}

/** Checks what both signed records share (leaf, tariff hash, point count) and returns `H_n`, or null. */
function chainHead(s: SignedChain, maxPoints: number): bigint | null {
  const [Ax, Ay] = s.meterPublicKey;
  if (meterLeaf(Ax, Ay, s.cpoId, s.ratedPowerW) !== s.meterLeaf) return null;
  if (tariffHash(s.tariff) !== s.tariffHash || s.tariff.cpoId !== s.cpoId) return null;
  if (s.n !== s.points.length || s.n < 1 || s.n > maxPoints) return null;
  return computeChain(s.sessionId, s.cpoId, s.meterLeaf, s.tariffHash, s.points)[s.n]!;
}

/**
 * Checks a {@link SignedSession}: leaf, tariff hash, chain, final record and signature all agree.
 * Returns false on any mismatch (it does not check that the bill is provable: use `computeBill`).
 */
export function verifySignedSession(s: SignedSession): boolean {
  try {
    const head = chainHead(s, N_POINTS);
    if (head === null) return false;
    const final = chainFinal(head, BigInt(s.n));
    return final === s.final && verifySignature(final, s.signature, s.meterPublicKey);
  } catch {
    return false;
  }
}

/** Checks a {@link LiveEvidence}: leaf, tariff hash, chain, tail message and signature all agree. */
export function verifyLiveEvidence(s: LiveEvidence): boolean {
  try {
    // The tail is billed as one more interval, so the chain holds at most N_POINTS - 1 points.
    const head = chainHead(s, N_POINTS - 1);
    if (head === null) return false;
    const message = liveTail(head, s.tail.t, s.tail.e);
    return message === s.message && verifySignature(message, s.signature, s.meterPublicKey);
  } catch {
    return false;
  }
}

/** A charging meter registered by a CPO. */
export class Meter {
  readonly cpoId: bigint;
  readonly ratedPowerW: bigint;
  /** EdDSA public key `(Ax, Ay)`. */
  readonly publicKey: [bigint, bigint];
  /** Meter leaf `H_5(TAG_METER, Ax, Ay, cpoId, ratedPowerW)` the CPO inserts in its meter tree. */
  readonly leaf: bigint;
  readonly #privateKey: Uint8Array;

  /** @throws InvalidInputError if cpoId is not a field element or ratedPowerW is not in 1..2^24-1 */
  constructor(options: MeterOptions) {
    assertFieldElement(options.cpoId, "cpoId");
    assertBits(options.ratedPowerW, BITS.ratedPower, "ratedPowerW");
    if (options.ratedPowerW === 0n) throw new InvalidInputError("ratedPowerW must be positive");
    this.#privateKey = options.privateKey ? options.privateKey.slice() : crypto.getRandomValues(new Uint8Array(32));
    this.cpoId = options.cpoId;
    this.ratedPowerW = options.ratedPowerW;
    const [x, y] = derivePublicKey(this.#privateKey);
    this.publicKey = [x, y];
    this.leaf = meterLeaf(x, y, this.cpoId, this.ratedPowerW);
  }

  /** Signs a field element with the meter key. */
  #sign(message: bigint): MeterSignature {
    const { R8, S } = signMessage(this.#privateKey, message);
    return { R8: [R8[0], R8[1]], S };
  }

  /**
   * Starts a session at plug-in: fixes the tariff (its hash goes into `H_0`) and records the first chain point.
   * @throws InvalidTariffError / MeterError if the tariff is invalid, of another CPO, or not valid at `t`
   */
  startSession(args: { sessionId: bigint; tariff: Tariff; t: bigint; e: bigint }): MeterSession {
    assertFieldElement(args.sessionId, "sessionId");
    validateTariff(args.tariff);
    if (args.tariff.cpoId !== this.cpoId) {
      throw new MeterError(`tariff belongs to CPO ${args.tariff.cpoId}, the meter to CPO ${this.cpoId}`);
    }
    if (args.t < args.tariff.validFrom || args.t > args.tariff.validTo) {
      throw new MeterError(`session start ${args.t} is outside the tariff's validity window [${args.tariff.validFrom}, ${args.tariff.validTo}]`);
    }
    return new MeterSession(this, (m) => this.#sign(m), args.sessionId, args.tariff, args.t, args.e);
  }
}

/**
 * A session in progress on a {@link Meter}. It holds at most N_POINTS = 16 chain points, the end point included:
 * a boundary reading is refused when only one slot is left (`pointsLeft === 1`), so the caller must call
 * {@link MeterSession.end} at or before that boundary; a real meter ends the session before capacity runs out.
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

  /** @internal use {@link Meter.startSession} */
  constructor(meter: Meter, sign: (m: bigint) => MeterSignature, sessionId: bigint, tariff: Tariff, t: bigint, e: bigint) {
    this.#meter = meter;
    this.#sign = sign;
    this.sessionId = sessionId;
    this.tariff = tariff;
    this.tariffHash = tariffHash(tariff);
    this.#heads = [chainStart(sessionId, meter.cpoId, meter.leaf, this.tariffHash)];
    this.#checkRange(t, e);
    this.#last = { t, e };
    this.#append(t, e);
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

  /** True once {@link MeterSession.end} was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The next tariff boundary (band start or local midnight) after the last chain point. */
  get nextBoundary(): bigint {
    return nextBoundaryAfter(this.#points[this.#points.length - 1]!.t, this.tariff);
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
    if (t < last.t) throw new InvalidReadingsError(`reading at ${at(t)} is earlier than the previous reading at ${at(last.t)}`);
    if (e < last.e) throw new InvalidReadingsError(`reading at ${at(t)}: energy ${e} Wh is below the previous ${last.e} Wh`);
    const rated = this.#meter.ratedPowerW;
    if ((e - last.e) * 3600n > rated * (t - last.t)) {
      throw new InvalidReadingsError(
        `readings ${at(last.t)}-${at(t)} add ${e - last.e} Wh, more than the meter's rating ${rated} W allows in ${t - last.t} s`);
    }
    const anchor = this.#points[this.#points.length - 1]!;
    const limit = (1n << BigInt(BITS.interval)) - 1n;
    if (t - anchor.t > limit || e - anchor.e > limit) {
      throw new MeterError("chain interval exceeds 2^32-1 s or Wh: end the session");
    }
    const boundary = nextBoundaryAfter(anchor.t, this.tariff);
    if (t > boundary) {
      throw new InvalidReadingsError(
        `reading at ${at(t)} skips the tariff boundary at ${at(boundary)}: take a reading exactly at the boundary first`);
    }
    return boundary;
  }

  /**
   * Records a reading. At a tariff boundary (exact boundary time) it becomes a chain point; anywhere else it is
   * signed as a live tail over the current head.
   * @throws InvalidReadingsError if time or energy decrease, the power exceeds the rating or a boundary was skipped
   * @throws MeterError if the session ended or a boundary point would leave no slot for the end point
   */
  addReading(t: bigint, e: bigint): Reading {
    const boundary = this.#checkReading(t, e);
    if (t === boundary) {
      if (this.pointsLeft < 2) {
        throw new MeterError(
          `session holds ${this.#points.length} of ${N_POINTS} chain points: only the end point fits, call end() at this boundary`);
      }
      this.#last = { t, e };
      return this.#append(t, e);
    }
    this.#last = { t, e };
    const k = this.#points.length;
    const tail = liveTail(this.head, t, e);
    return { kind: "live", t, e, k, tail, signature: this.#sign(tail) };
  }

  /**
   * Simulates charging from the last reading to `to`: a reading every `stepSeconds` plus one at the exact time of
   * every boundary crossed, energy integrated from `powerW` (clamped to the rating) and released in whole Wh
   * without ever exceeding the rating between any two readings.
   * @throws MeterError if the boundaries crossed would not leave room for the end point (nothing is recorded)
   */
  simulate(options: SimulateOptions): Reading[] {
    const { to, stepSeconds } = options;
    if (this.#ended) throw new MeterError("session already ended");
    if (stepSeconds <= 0n) throw new InvalidInputError("stepSeconds must be positive");
    const from = this.#last.t;
    if (to < from) throw new InvalidInputError(`simulate: 'to' ${to} is before the last reading ${from}`);
    const boundaries: bigint[] = [];
    for (let b = this.nextBoundary; b <= to; b = nextBoundaryAfter(b, this.tariff)) boundaries.push(b);
    if (boundaries.length > this.pointsLeft - 1) {
      throw new MeterError(
        `simulating to ${to} crosses ${boundaries.length} tariff boundaries but only ${this.pointsLeft - 1} chain points are left besides the end point`);
    }
    const times = new Set<bigint>(boundaries);
    for (let t = from + stepSeconds; t <= to; t += stepSeconds) times.add(t);
    if (to > from) times.add(to);
    const sorted = [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const rated = this.#meter.ratedPowerW;
    const power = (t: bigint): bigint => {
      const p = typeof options.powerW === "function" ? options.powerW(t) : options.powerW;
      return p < 0n ? 0n : p > rated ? rated : p;
    };
    const out: Reading[] = [];
    let carry = 0n; // energy not yet released, in W*s
    let prev = this.#last;
    for (const t of sorted) {
      const dt = t - prev.t;
      carry += power(prev.t) * dt;
      let de = carry / 3600n;
      const cap = (rated * dt) / 3600n;
      if (de > cap) de = cap;
      carry -= de * 3600n;
      const reading = this.addReading(t, prev.e + de);
      prev = { t, e: reading.e };
      out.push(reading);
    }
    return out;
  }

  /**
   * Packages a live tail this session signed as evidence for closing an escrow without a session end.
   * @throws MeterError if the tail does not hang off the current chain (a chain point was added since)
   */
  evidence(tail: LiveTail): LiveEvidence {
    if (tail.k !== this.#points.length || tail.tail !== liveTail(this.head, tail.t, tail.e)) {
      throw new MeterError(`live tail at point ${tail.k} no longer extends this session (now ${this.#points.length} points)`);
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
   * `chainFinal(H_n, n)`.
   * @throws InvalidReadingsError / MeterError as {@link MeterSession.addReading}, or if the bill would not verify
   */
  end(t: bigint, e: bigint): SignedSession {
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
    const final = chainFinal(this.head, BigInt(this.#points.length));
    return { ...this.#chain(), final, signature: this.#sign(final) };
  }
}
