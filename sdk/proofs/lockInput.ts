/**
 * Builds the lock circuit's witness input: spend one note into an escrow with a public cap for one
 * (cpoId, sessionId), with the change and the refund going back to the same identity. The session id is
 * derived from the session's two nonces, which the proof takes privately: the pool keeps one escrow per
 * session, and only who knows the nonces (the driver, and the station) can lock it.
 */
import { BITS, FIELD_MODULUS } from "../core/constants.ts";
import { InsufficientBalanceError, InvalidInputError } from "../core/errors.ts";
import { precommitment, sessionId as makeSessionId } from "../core/hash.ts";
import { formatAmount } from "../core/money.ts";
import { Note } from "../core/note.ts";
import type { MerklePath } from "../core/tree.ts";
import type { LockPublicSignals } from "./publicSignals.ts";
import { noteSpendInputs } from "./spendInput.ts";

/** The two nonces a session id is made of: `sessionId = H_3(TAG_SESSION, stationNonce, driverNonce)`. */
export interface SessionNonces {
  /** The station's fresh 128-bit random nonce for this session. */
  stationNonce: bigint;
  /** The driver's fresh 128-bit random nonce for this session. */
  driverNonce: bigint;
}

/** Everything needed to prove one lock. The session id is derived from the nonces. */
export interface LockRequest extends SessionNonces {
  secretScalar: bigint;
  note: Note;
  notePath: MerklePath;
  cap: bigint;
  fee: bigint;
  cpoId: bigint;
  /**
   * The session id the caller expects (e.g. the one the meter signs into its chain start); refused unless the
   * nonces hash to it. Optional: the id is always derived from the nonces.
   */
  sessionId?: bigint;
  settleDeadline: bigint;
  claimDeadline: bigint;
  changeBlinding: bigint;
  refundBlinding: bigint;
  extDataHash: bigint;
}

/** A checked lock witness input with what it proves. */
export interface LockWitness {
  input: Record<string, bigint | bigint[]>;
  publicSignals: LockPublicSignals;
  change: Note;
  /** The refund note's opening at full cap (its value shrinks to cap - amount if the escrow closes). */
  refund: Note;
}

/**
 * Checks a lock request and returns its witness input.
 * @throws InsufficientBalanceError when the note does not cover cap + fee; InvalidInputError naming the bad value
 */
export function buildLockWitness(req: LockRequest): LockWitness {
  const limit = 1n << BigInt(BITS.value);
  if (req.cap <= 0n || req.cap >= limit) throw new InvalidInputError(`cap ${req.cap} must be in 1..2^64-1`);
  if (req.fee < 0n || req.fee >= limit) throw new InvalidInputError(`fee ${req.fee} must be in 0..2^64-1`);
  for (const [name, v] of [
    ["cpoId", req.cpoId],
    ["extDataHash", req.extDataHash],
  ] as const) {
    if (v < 0n || v >= FIELD_MODULUS) throw new InvalidInputError(`${name} must be a field element`);
  }
  const sessionId = makeSessionId(req.stationNonce, req.driverNonce); // checks both are 128-bit
  if (req.sessionId !== undefined && req.sessionId !== sessionId) {
    throw new InvalidInputError(
      `the nonces do not make session ${req.sessionId} (they hash to ${sessionId}): ` +
        "only the session's own nonces can lock it",
    );
  }
  if (req.settleDeadline >= req.claimDeadline) {
    throw new InvalidInputError(
      `settle deadline ${req.settleDeadline} must come before the claim deadline ${req.claimDeadline}`,
    );
  }
  if (req.note.value < req.cap + req.fee) {
    throw new InsufficientBalanceError(
      `balance ${formatAmount(req.note.value)} is less than the cap ${formatAmount(req.cap)} plus fee ${formatAmount(req.fee)}`,
    );
  }
  const spend = noteSpendInputs(req.secretScalar, req.note, req.notePath);
  const change = new Note(req.note.value - req.cap - req.fee, req.changeBlinding, req.note.idc);
  const refund = new Note(req.cap, req.refundBlinding, req.note.idc);
  const publicSignals: LockPublicSignals = {
    noteRoot: spend.noteRoot,
    noteTreeSize: spend.noteTreeSize,
    nullifier: spend.nullifier,
    changeCommitment: change.commitment,
    refundPrecommitment: precommitment(req.note.idc, req.refundBlinding),
    cap: req.cap,
    fee: req.fee,
    cpoId: req.cpoId,
    sessionId,
    settleDeadline: req.settleDeadline,
    claimDeadline: req.claimDeadline,
    extDataHash: req.extDataHash,
  };
  return {
    input: {
      ...publicSignals,
      ...spend.inputs,
      changeBlinding: req.changeBlinding,
      refundBlinding: req.refundBlinding,
      stationNonce: req.stationNonce,
      driverNonce: req.driverNonce,
    },
    publicSignals,
    change,
    refund,
  };
}
