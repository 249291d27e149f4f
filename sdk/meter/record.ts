/**
 * The meter's signed records and their checks: a session's hash chain over chain points, the session-end record
 * and live tails, as docs/protocol.md lays them out. Anyone holding a record can check it with these functions;
 * nothing here holds a key.
 */
import { N_POINTS } from "../core/constants.ts";
import { chainFinal, chainStart, chainStep, liveTail, meterLeaf, tariffHash } from "../core/hash.ts";
import type { Point, Tariff } from "../tariff/tariff.ts";
import { verifySignature } from "./eddsa.ts";

/** An EdDSA-Poseidon signature on Baby Jubjub. */
export interface MeterSignature {
  /** The point `R8`. */
  R8: [bigint, bigint];
  /** The scalar `S` (< l). */
  S: bigint;
}

/** A reading that became a chain point (session start, a tariff boundary or a change between charging and parked). */
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
  /** The digest of the OCMF records the chain was signed from (`ocmfDigest` in core/hash), 0 for none. */
  ocmfDigest: bigint;
  /** `H_4(TAG_FINAL, H_n, n, ocmfDigest)`, the signed message. */
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

/**
 * `[H_0, H_1, ..., H_n]` of a session: `H_0 = chainStart(...)`, `H_i = chainStep(H_{i-1}, t_i, e_i)`.
 */
export function computeChain(
  sessionId: bigint,
  cpoId: bigint,
  leaf: bigint,
  tariffHashValue: bigint,
  points: readonly Point[],
): bigint[] {
  const heads = [chainStart(sessionId, cpoId, leaf, tariffHashValue)];
  for (const p of points) heads.push(chainStep(heads[heads.length - 1]!, p.t, p.e));
  return heads;
}

/** Checks what both signed records share (leaf, tariff hash, point count) and returns `H_n`, or null. */
function chainHead(s: SignedChain): bigint | null {
  const [Ax, Ay] = s.meterPublicKey;
  if (meterLeaf(Ax, Ay, s.cpoId, s.ratedPowerW) !== s.meterLeaf) return null;
  if (tariffHash(s.tariff) !== s.tariffHash || s.tariff.cpoId !== s.cpoId) return null;
  if (s.n !== s.points.length || s.n < 1 || s.n > N_POINTS) return null;
  return computeChain(s.sessionId, s.cpoId, s.meterLeaf, s.tariffHash, s.points)[s.n]!;
}

/**
 * The last step of checking a signed record, given its chain head `H_n`: the message a live tail (`tail` given) or
 * a session end (`ocmfDigest` given) signs, and the meter's signature of it. Plain data, so a worker can run it
 * (sdk/meter/offThread.ts).
 */
export interface SignedMessageCheck {
  /** `H_n` and `n`: a tail hangs off at most N_POINTS - 1 points (it is billed as one more interval). */
  head: bigint;
  n: number;
  tail?: Point;
  ocmfDigest?: bigint;
  message: bigint;
  signature: MeterSignature;
  meterPublicKey: [bigint, bigint];
}

/** True if the check's message is the one its chain head gives and the meter signed it. */
export function signedMessageHolds(c: SignedMessageCheck): boolean {
  try {
    if (c.n < 1 || c.n > (c.tail ? N_POINTS - 1 : N_POINTS)) return false;
    const message = c.tail ? liveTail(c.head, c.tail.t, c.tail.e) : chainFinal(c.head, BigInt(c.n), c.ocmfDigest ?? 0n);
    return message === c.message && verifySignature(message, c.signature, c.meterPublicKey);
  } catch {
    return false;
  }
}

/**
 * Checks a {@link SignedSession}: leaf, tariff hash, chain, final record and signature all agree.
 * Returns false on any mismatch (it does not check that the bill is provable: use `computeBill`).
 */
export function verifySignedSession(s: SignedSession): boolean {
  try {
    const head = chainHead(s);
    if (head === null) return false;
    const { n, ocmfDigest, final: message, signature, meterPublicKey } = s;
    return signedMessageHolds({ head, n, ocmfDigest, message, signature, meterPublicKey });
  } catch {
    return false;
  }
}

/** Checks a {@link LiveEvidence}: leaf, tariff hash, chain, tail message and signature all agree. */
export function verifyLiveEvidence(s: LiveEvidence): boolean {
  try {
    const head = chainHead(s);
    if (head === null) return false;
    const { n, tail, message, signature, meterPublicKey } = s;
    return signedMessageHolds({ head, n, tail, message, signature, meterPublicKey });
  } catch {
    return false;
  }
}
