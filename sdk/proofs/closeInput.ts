/**
 * Builds the close circuit's witness input: settle an escrow from the meter's session-end record
 * (mode 0) or from a live tail (mode 1), charging min(bill, cap) and refunding the rest.
 */
import { FIELD_MODULUS } from "../core/constants.ts";
import { InvalidInputError } from "../core/errors.ts";
import { noteCommitment } from "../core/hash.ts";
import { verifyLiveEvidence, verifySignedSession } from "../meter/record.ts";
import { computeBill, type Bill } from "../tariff/tariff.ts";
import type { MerklePath } from "../core/tree.ts";
import type { ClosePublicSignals } from "./publicSignals.ts";
import { sessionBillInputs, type SessionRecord } from "./sessionInput.ts";

/** The escrow's public terms (from the pool's storage or its EscrowLocked event). */
export interface EscrowTerms {
  refundPrecommitment: bigint;
  cap: bigint;
  cpoId: bigint;
  sessionId: bigint;
}

/** Everything needed to prove one close. */
export interface CloseRequest {
  escrow: EscrowTerms;
  /** A finished session (mode 0) or live evidence (mode 1). */
  record: SessionRecord;
  meterPath: MerklePath;
  extDataHash: bigint;
}

/** A checked close witness input with what it proves. */
export interface CloseWitness {
  input: Record<string, bigint | bigint[]>;
  publicSignals: ClosePublicSignals;
  bill: Bill;
}

/**
 * Checks a close request and returns its witness input.
 * @throws InvalidInputError naming the mismatch (another session or CPO, a bad signature);
 *   InvalidReadingsError from the bill
 */
export function buildCloseWitness(req: CloseRequest): CloseWitness {
  const { escrow, record } = req;
  const live = "tail" in record;
  if (!(live ? verifyLiveEvidence(record) : verifySignedSession(record))) {
    throw new InvalidInputError(`the meter's signature over session ${record.sessionId} does not verify`);
  }
  if (record.sessionId !== escrow.sessionId || record.cpoId !== escrow.cpoId) {
    throw new InvalidInputError(
      `the readings are for CPO ${record.cpoId} session ${record.sessionId}, ` +
        `the escrow for CPO ${escrow.cpoId} session ${escrow.sessionId}`,
    );
  }
  if (req.extDataHash < 0n || req.extDataHash >= FIELD_MODULUS)
    throw new InvalidInputError("extDataHash must be a field element");
  const bill = computeBill(live ? [...record.points, record.tail] : record.points, record.tariff, record.ratedPowerW);
  const amount = bill.amount < escrow.cap ? bill.amount : escrow.cap;
  const meter = sessionBillInputs(record, req.meterPath);
  const publicSignals: ClosePublicSignals = {
    refundPrecommitment: escrow.refundPrecommitment,
    cap: escrow.cap,
    cpoId: escrow.cpoId,
    sessionId: escrow.sessionId,
    meterRoot: meter.meterRoot,
    tariffHash: record.tariffHash,
    mode: live ? 1n : 0n,
    amount,
    refundCommitment: noteCommitment(escrow.refundPrecommitment, escrow.cap - amount),
    extDataHash: req.extDataHash,
  };
  return {
    input: {
      ...publicSignals,
      ...meter.inputs,
      tTail: live ? record.tail.t : 0n,
      eTail: live ? record.tail.e : 0n,
    },
    publicSignals,
    bill,
  };
}
