/**
 * Pay in one call: {@link provePay} turns a driver's request (note, meter-signed session, fee) into a proof the pool
 * accepts, with the bill and the change note; {@link verifyPay} checks one against the pay verification key.
 */
import type { ProverOptions } from "../../prover/index.ts";
import type { Note } from "../core/note.ts";
import type { Bill } from "../tariff/tariff.ts";
import { buildPayWitness, type PayRequest } from "./payInput.ts";
import { proveCircuit, verifyCircuit, type ProofWithSignals, type ProvedCircuit } from "./prove.ts";
import { PAY_PUBLIC_SIGNALS, paySignalArray, type PayPublicSignals } from "./publicSignals.ts";

/** A pay proof with what it proves. */
export interface PayProof extends ProvedCircuit<PayPublicSignals> {
  /** The session's bill (the proven `amount` is `bill.amount`). */
  bill: Bill;
  /** The change note the payment creates (value = note value - amount - fee); only the driver can open it. */
  change: Note;
}

/**
 * Proves payment of a finished session from one note.
 * @param request - the note and its path, the meter-signed session and meter path, fee, change blinding, ext data hash
 * @param options - prover options (artifacts, worker pool)
 * @throws InvalidInputError / InvalidReadingsError / InsufficientBalanceError naming the problem before any proving
 */
export async function provePay(request: PayRequest, options: ProverOptions = {}): Promise<PayProof> {
  const w = buildPayWitness(request);
  const proved = await proveCircuit(
    "pay",
    w.input,
    w.publicSignals,
    paySignalArray(w.publicSignals),
    PAY_PUBLIC_SIGNALS,
    options,
  );
  return { ...proved, bill: w.bill, change: w.change };
}

/**
 * Verifies a pay proof against the pay verification key.
 * @returns whether the proof verifies for exactly these public signals
 */
export function verifyPay(proof: ProofWithSignals<PayPublicSignals>, options: ProverOptions = {}): Promise<boolean> {
  return verifyCircuit("pay", proof.proof, paySignalArray(proof.publicSignals), options);
}

export type { PayRequest };
