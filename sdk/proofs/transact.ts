/**
 * Transact in one call: {@link proveTransact} spends up to two notes into two outputs, moving a public amount in
 * or out (merge, split, withdraw, transfer); {@link verifyTransact} checks a transact proof.
 */
import type { ProverOptions } from "../../prover/index.ts";
import { buildTransactWitness, type TransactRequest } from "./transactInput.ts";
import { proveCircuit, verifyCircuit, type ProofWithSignals, type ProvedCircuit } from "./prove.ts";
import { TRANSACT_PUBLIC_SIGNALS, transactSignalArray, type TransactPublicSignals } from "./publicSignals.ts";

/** A transact proof with what it proves. */
export type TransactProof = ProvedCircuit<TransactPublicSignals>;

/**
 * Proves a transact.
 * @throws InvalidInputError / InsufficientBalanceError naming the problem before any proving
 */
export async function proveTransact(request: TransactRequest, options: ProverOptions = {}): Promise<TransactProof> {
  const w = buildTransactWitness(request);
  const signals = transactSignalArray(w.publicSignals);
  return proveCircuit("transact", w.input, w.publicSignals, signals, TRANSACT_PUBLIC_SIGNALS, options);
}

/** Verifies a transact proof against the transact verification key. */
export function verifyTransact(
  proof: ProofWithSignals<TransactPublicSignals>,
  options: ProverOptions = {},
): Promise<boolean> {
  return verifyCircuit("transact", proof.proof, transactSignalArray(proof.publicSignals), options);
}

export type { TransactRequest };
