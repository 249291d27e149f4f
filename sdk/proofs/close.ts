/**
 * Close in one call: {@link proveClose} settles an escrow from the meter's session-end record (mode 0) or a live
 * tail (mode 1), charging min(bill, cap); {@link verifyClose} checks a close proof. No secret is needed.
 */
import type { ProverOptions } from "../../prover/index.ts";
import type { Bill } from "../tariff/tariff.ts";
import { buildCloseWitness, type CloseRequest } from "./closeInput.ts";
import { proveCircuit, verifyCircuit, type ProofWithSignals, type ProvedCircuit } from "./prove.ts";
import { CLOSE_PUBLIC_SIGNALS, closeSignalArray, type ClosePublicSignals } from "./publicSignals.ts";

/** A close proof with what it proves. */
export interface CloseProof extends ProvedCircuit<ClosePublicSignals> {
  /** The session's bill (the proven `amount` is `min(bill.amount, cap)`). */
  bill: Bill;
}

/**
 * Proves the close of an escrow.
 * @throws InvalidInputError / InvalidReadingsError naming the problem before any proving
 */
export async function proveClose(request: CloseRequest, options: ProverOptions = {}): Promise<CloseProof> {
  const w = buildCloseWitness(request);
  const proved = await proveCircuit(
    "close",
    w.input,
    w.publicSignals,
    closeSignalArray(w.publicSignals),
    CLOSE_PUBLIC_SIGNALS,
    options,
  );
  return { ...proved, bill: w.bill };
}

/** Verifies a close proof against the close verification key. */
export function verifyClose(
  proof: ProofWithSignals<ClosePublicSignals>,
  options: ProverOptions = {},
): Promise<boolean> {
  return verifyCircuit("close", proof.proof, closeSignalArray(proof.publicSignals), options);
}

export type { CloseRequest };
