/**
 * Lock in one call: {@link proveLock} spends one note into an escrow for a (cpoId, sessionId) up to a public cap;
 * {@link verifyLock} checks a lock proof against the lock verification key.
 */
import type { ProverOptions } from "../../prover/index.ts";
import type { Note } from "../core/note.ts";
import { buildLockWitness, type LockRequest } from "./lockInput.ts";
import { proveCircuit, verifyCircuit, type ProofWithSignals, type ProvedCircuit } from "./prove.ts";
import { LOCK_PUBLIC_SIGNALS, lockSignalArray, type LockPublicSignals } from "./publicSignals.ts";

/** A lock proof with what it proves. */
export interface LockProof extends ProvedCircuit<LockPublicSignals> {
  /** The escrow id: the lock's nullifier. */
  escrowId: bigint;
  /** The change note (note value - cap - fee), back to the driver. */
  change: Note;
  /** The refund note's opening at the full cap (it shrinks to cap - amount when the escrow closes). */
  refund: Note;
}

/**
 * Proves a lock.
 * @throws InvalidInputError / InsufficientBalanceError naming the problem before any proving
 */
export async function proveLock(request: LockRequest, options: ProverOptions = {}): Promise<LockProof> {
  const w = buildLockWitness(request);
  const proved = await proveCircuit(
    "lock",
    w.input,
    w.publicSignals,
    lockSignalArray(w.publicSignals),
    LOCK_PUBLIC_SIGNALS,
    options,
  );
  return { ...proved, escrowId: w.publicSignals.nullifier, change: w.change, refund: w.refund };
}

/** Verifies a lock proof against the lock verification key. */
export function verifyLock(proof: ProofWithSignals<LockPublicSignals>, options: ProverOptions = {}): Promise<boolean> {
  return verifyCircuit("lock", proof.proof, lockSignalArray(proof.publicSignals), options);
}

export type { LockRequest };
