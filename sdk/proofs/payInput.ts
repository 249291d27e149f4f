/**
 * Builds the pay circuit's witness input from domain objects, after checking every rule the
 * circuit enforces so that a bad request fails here, with its cause named, and never as a bare
 * witness failure.
 */
import { BITS, FIELD_MODULUS } from "../core/constants.ts";
import { InsufficientBalanceError, InvalidInputError } from "../core/errors.ts";
import { verifySignedSession, type SignedSession } from "../meter/record.ts";
import { formatAmount } from "../core/money.ts";
import { Note } from "../core/note.ts";
import { computeBill, type Bill } from "../tariff/tariff.ts";
import type { MerklePath } from "../core/tree.ts";
import type { PayPublicSignals } from "./publicSignals.ts";
import { sessionBillInputs } from "./sessionInput.ts";
import { noteSpendInputs } from "./spendInput.ts";

/** Everything a driver needs to prove one payment. */
export interface PayRequest {
  /** The driver's Semaphore identity secret scalar (< l). */
  secretScalar: bigint;
  /** The note spent and its path in the note tree at the root proven against. */
  note: Note;
  notePath: MerklePath;
  /** The meter-signed session and the meter's path in its CPO's meter tree. */
  session: SignedSession;
  meterPath: MerklePath;
  /** Relayer fee, paid out of the note (0 when the CPO submits for free). */
  fee: bigint;
  /** Blinding of the change note (fresh random). */
  changeBlinding: bigint;
  /** Hash of the ext data the transaction will carry (sdk/core/hash.ts extDataHash). */
  extDataHash: bigint;
  /**
   * The session's bill, if the caller already computed it with `computeBill` (a wallet does, to pick the note);
   * computed here otherwise. A wrong bill cannot pass: the circuit recomputes it.
   */
  bill?: Bill;
}

/** A checked pay witness input with what it will prove. */
export interface PayWitness {
  input: Record<string, bigint | bigint[]>;
  publicSignals: PayPublicSignals;
  bill: Bill;
  /** The change note the proof creates (value = note value - amount - fee). */
  change: Note;
}

/**
 * Checks a pay request against every rule of the pay circuit and returns its witness input.
 * @throws InvalidReadingsError / InvalidTariffError (from the bill), InsufficientBalanceError,
 *   InvalidInputError naming the mismatch
 */
export function buildPayWitness(req: PayRequest): PayWitness {
  const { session, note, notePath, meterPath } = req;
  if (!verifySignedSession(session)) {
    throw new InvalidInputError(
      `session ${session.sessionId} does not carry a valid meter signature over its chain points`,
    );
  }
  if (req.fee < 0n || req.fee >> BigInt(BITS.value) !== 0n) {
    throw new InvalidInputError(`fee ${req.fee} must be in 0..2^64-1`);
  }
  if (req.extDataHash < 0n || req.extDataHash >= FIELD_MODULUS) {
    throw new InvalidInputError("extDataHash must be a field element");
  }

  const bill = req.bill ?? computeBill(session.points, session.tariff, session.ratedPowerW);
  const due = bill.amount + req.fee;
  if (note.value < due) {
    const what =
      req.fee > 0n
        ? `the session total ${formatAmount(bill.amount)} plus the relayer fee ${formatAmount(req.fee)}`
        : `the session total ${formatAmount(bill.amount)}`;
    throw new InsufficientBalanceError(`balance ${formatAmount(note.value)} is less than ${what}`);
  }
  const change = new Note(note.value - due, req.changeBlinding, note.idc);

  const spend = noteSpendInputs(req.secretScalar, note, notePath);
  const meter = sessionBillInputs(session, meterPath);
  const publicSignals: PayPublicSignals = {
    noteRoot: spend.noteRoot,
    noteTreeSize: spend.noteTreeSize,
    nullifier: spend.nullifier,
    changeCommitment: change.commitment,
    meterRoot: meter.meterRoot,
    cpoId: session.cpoId,
    tariffHash: session.tariffHash,
    sessionId: session.sessionId,
    amount: bill.amount,
    fee: req.fee,
    extDataHash: req.extDataHash,
  };
  const input: Record<string, bigint | bigint[]> = {
    ...publicSignals,
    ...spend.inputs,
    changeBlinding: req.changeBlinding,
    ...meter.inputs,
  };
  return { input, publicSignals, bill, change };
}
