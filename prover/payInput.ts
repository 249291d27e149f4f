/**
 * Builds the pay circuit's witness input from domain objects, after checking every rule the
 * circuit enforces so that a bad request fails here, with its cause named, and never as a bare
 * witness failure.
 */
import { BITS, FIELD_MODULUS, METER_TREE_DEPTH, NOTE_TREE_DEPTH, N_POINTS } from "../sdk/constants.ts";
import { InsufficientBalanceError, InvalidInputError } from "../sdk/errors.ts";
import { nullifier as noteNullifier } from "../sdk/hash.ts";
import { verifySignedSession, type SignedSession } from "../sdk/meter.ts";
import { formatAmount } from "../sdk/money.ts";
import { Note } from "../sdk/note.ts";
import { computeBill, type Bill } from "../sdk/tariff.ts";
import { rootFromPath, type MerklePath } from "../sdk/tree.ts";
import type { PayPublicSignals } from "./publicSignals.ts";

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
  /** Hash of the ext data the transaction will carry (sdk/hash.ts extDataHash). */
  extDataHash: bigint;
}

/** A checked pay witness input with what it will prove. */
export interface PayWitness {
  input: Record<string, bigint | bigint[]>;
  publicSignals: PayPublicSignals;
  bill: Bill;
  /** The change note the proof creates (value = note value - amount - fee). */
  change: Note;
}

function padded(values: readonly bigint[], length: number): bigint[] {
  return [...values, ...new Array<bigint>(length - values.length).fill(0n)];
}

/**
 * Checks a pay request against every rule of the pay circuit and returns its witness input.
 * @throws InvalidReadingsError / InvalidTariffError (from the bill), InsufficientBalanceError,
 *   InvalidInputError naming the mismatch
 */
export function buildPayWitness(req: PayRequest): PayWitness {
  const { session, note, notePath, meterPath } = req;
  if (!verifySignedSession(session)) {
    throw new InvalidInputError(`session ${session.sessionId} does not carry a valid meter signature over its chain points`);
  }
  if (notePath.leaf !== note.commitment) {
    throw new InvalidInputError(`note path proves leaf ${notePath.leaf}, not the note's commitment ${note.commitment}`);
  }
  if (notePath.siblings.length !== NOTE_TREE_DEPTH || meterPath.siblings.length !== METER_TREE_DEPTH) {
    throw new InvalidInputError(`paths must have ${NOTE_TREE_DEPTH} (note) and ${METER_TREE_DEPTH} (meter) siblings`);
  }
  if (meterPath.leaf !== session.meterLeaf) {
    throw new InvalidInputError(`meter path proves leaf ${meterPath.leaf}, not the session's meter ${session.meterLeaf}`);
  }
  if (req.fee < 0n || req.fee >> BigInt(BITS.value) !== 0n) {
    throw new InvalidInputError(`fee ${req.fee} must be in 0..2^64-1`);
  }
  if (req.extDataHash < 0n || req.extDataHash >= FIELD_MODULUS) {
    throw new InvalidInputError("extDataHash must be a field element");
  }

  const bill = computeBill(session.points, session.tariff, session.ratedPowerW);
  const due = bill.amount + req.fee;
  if (note.value < due) {
    const what = req.fee > 0n ? `the session total ${formatAmount(bill.amount)} plus the relayer fee ${formatAmount(req.fee)}` :
      `the session total ${formatAmount(bill.amount)}`;
    throw new InsufficientBalanceError(`balance ${formatAmount(note.value)} is less than ${what}`);
  }
  const change = new Note(note.value - due, req.changeBlinding, note.idc);

  const t = session.tariff;
  const [Ax, Ay] = session.meterPublicKey;
  const publicSignals: PayPublicSignals = {
    noteRoot: rootFromPath(notePath),
    noteTreeSize: notePath.treeSize,
    nullifier: noteNullifier(note.commitment, notePath.leafIndex, req.secretScalar),
    changeCommitment: change.commitment,
    meterRoot: rootFromPath(meterPath),
    cpoId: session.cpoId,
    tariffHash: session.tariffHash,
    sessionId: session.sessionId,
    amount: bill.amount,
    fee: req.fee,
    extDataHash: req.extDataHash,
  };

  const input: Record<string, bigint | bigint[]> = {
    ...publicSignals,
    secret: req.secretScalar,
    value: note.value,
    blinding: note.blinding,
    leafIndex: notePath.leafIndex,
    noteSiblings: notePath.siblings,
    changeBlinding: req.changeBlinding,
    flatFee: t.flatFee,
    energyPrice: [...t.energyPrice],
    bandStart: t.bandStart.slice(1),
    timePricePerHour: t.timePricePerHour,
    maxPrice: t.maxPrice,
    tzOffset: t.tzOffset,
    validFrom: t.validFrom,
    validTo: t.validTo,
    meterAx: Ax,
    meterAy: Ay,
    ratedPowerW: session.ratedPowerW,
    meterIndex: meterPath.leafIndex,
    meterTreeSize: meterPath.treeSize,
    meterSiblings: meterPath.siblings,
    n: BigInt(session.n),
    t: padded(session.points.map((p) => p.t), N_POINTS),
    e: padded(session.points.map((p) => p.e), N_POINTS),
    sigR8x: session.signature.R8[0],
    sigR8y: session.signature.R8[1],
    sigS: session.signature.S,
  };
  return { input, publicSignals, bill, change };
}
