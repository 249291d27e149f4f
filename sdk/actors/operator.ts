/**
 * The charge point operator's side: register, manage meters and tariffs, hand a finished session
 * to the driver, check a driver's payment before submitting it, and withdraw earnings.
 */
import type { ContractTransactionReceipt, Signer } from "ethers";
import type { ProverOptions } from "../../prover/index.ts";
import { verifyPay } from "../proofs/pay.ts";
import type { Pool, Registry } from "../../types/ethers-contracts/index.js";
import { readMeterTree, toTariffStruct } from "./chain.ts";
import type { PaymentHandover } from "./driver.ts";
import { sendAndWait } from "./revert.ts";
import { InvalidInputError, ZkchargeError } from "../core/errors.ts";
import { extDataHash } from "../core/hash.ts";
import type { Meter } from "../meter/meter.ts";
import type { SignedSession } from "../meter/record.ts";
import { EscrowStatus, prepareClose, readEscrow, submitClose, type Closing, type Escrow } from "./escrow.ts";
import type { SessionRecord } from "../proofs/sessionInput.ts";
import { formatAmount } from "../core/money.ts";
import { computeBill, validateTariff, type Tariff } from "../tariff/tariff.ts";
import { compressedSiblings, type MerklePath } from "../core/tree.ts";

/** A payment the operator refuses to submit, with the reason. */
export class PaymentRejectedError extends ZkchargeError {
  /** @param message why the payment cannot settle */
  constructor(message: string) {
    super("PAYMENT_REJECTED", message);
  }
}

/** An escrow the operator will not switch a charger on for, with the reason. */
export class EscrowRejectedError extends ZkchargeError {
  /** @param message why the escrow is not good enough */
  constructor(message: string) {
    super("ESCROW_REJECTED", message);
  }
}

/** What the station hands the driver when a session ends. */
export interface SessionReceipt {
  session: SignedSession;
  meterPath: MerklePath;
}

function eventArg<T>(receipt: ContractTransactionReceipt, contract: Pool | Registry, event: string, arg: string): T {
  for (const log of receipt.logs) {
    const parsed = contract.interface.parseLog(log);
    if (parsed?.name === event) return parsed.args.getValue(arg) as T;
  }
  throw new Error(`transaction ${receipt.hash} emitted no ${event}`);
}

/** A CPO: its registry entry, meters, tariffs and pool balance. */
export class Operator {
  readonly cpoId: bigint;
  readonly registry: Registry;
  readonly pool: Pool;
  readonly signer: Signer;
  readonly #prover: ProverOptions;

  /** Wraps an already registered CPO (use {@link Operator.register} for a new one). */
  constructor(args: { cpoId: bigint; registry: Registry; pool: Pool; signer: Signer; prover?: ProverOptions }) {
    this.cpoId = args.cpoId;
    this.registry = args.registry.connect(args.signer);
    this.pool = args.pool.connect(args.signer);
    this.signer = args.signer;
    this.#prover = args.prover ?? {};
  }

  /** Registers a new CPO with `signer` as admin, paying out to `payout` (default: the admin). */
  static async register(args: {
    registry: Registry;
    pool: Pool;
    signer: Signer;
    payout?: string;
    prover?: ProverOptions;
  }): Promise<Operator> {
    const payout = args.payout ?? (await args.signer.getAddress());
    const receipt = await sendAndWait("registerCpo", () => args.registry.connect(args.signer).registerCpo(payout));
    const cpoId = eventArg<bigint>(receipt, args.registry, "CpoRegistered", "cpoId");
    return new Operator({ ...args, cpoId });
  }

  /** Registers a meter (its key and rated power) in this CPO's meter tree. */
  async addMeter(meter: Pick<Meter, "publicKey" | "ratedPowerW" | "cpoId">): Promise<ContractTransactionReceipt> {
    if (meter.cpoId !== this.cpoId)
      throw new InvalidInputError(`meter belongs to CPO ${meter.cpoId}, not ${this.cpoId}`);
    const [ax, ay] = meter.publicKey;
    return sendAndWait("addMeter", () => this.registry.addMeter(this.cpoId, ax, ay, meter.ratedPowerW));
  }

  /** Revokes a meter: every earlier meter root of this CPO stops being accepted. */
  async revokeMeter(leaf: bigint): Promise<ContractTransactionReceipt> {
    const tree = await readMeterTree(this.registry, this.cpoId);
    const index = tree.indexOf(leaf);
    if (index < 0) throw new InvalidInputError(`meter ${leaf} is not in CPO ${this.cpoId}'s tree`);
    const siblings = compressedSiblings(tree.path(index));
    return sendAndWait("revokeMeter", () => this.registry.revokeMeter(this.cpoId, leaf, siblings));
  }

  /** Publishes an immutable tariff; returns its hash (recomputed on-chain). */
  async publishTariff(tariff: Omit<Tariff, "cpoId">): Promise<bigint> {
    const full: Tariff = { ...tariff, cpoId: this.cpoId };
    validateTariff(full);
    const receipt = await sendAndWait("publishTariff", () => this.registry.publishTariff(toTariffStruct(full)));
    return eventArg<bigint>(receipt, this.registry, "TariffPublished", "tariffHash");
  }

  /** The station's hand-over at session end: the signed session and the meter's current path. */
  async receipt<R extends SessionRecord = SignedSession>(session: R): Promise<{ session: R; meterPath: MerklePath }> {
    const tree = await readMeterTree(this.registry, this.cpoId);
    const index = tree.indexOf(session.meterLeaf);
    if (index < 0)
      throw new InvalidInputError(
        `session ${session.sessionId} was signed by a meter CPO ${this.cpoId} never registered`,
      );
    return { session, meterPath: tree.path(index) };
  }

  /**
   * Checks a driver's payment before spending gas on it: for this CPO, for the session it served,
   * the amount it computes itself, a valid proof, known roots, unused nullifier, unpaid session.
   * @throws PaymentRejectedError naming the first problem
   */
  async checkPayment(payment: PaymentHandover, session?: SignedSession): Promise<void> {
    const { pub } = payment;
    const reject = (why: string) => {
      throw new PaymentRejectedError(why);
    };
    if (pub.cpoId !== this.cpoId) reject(`payment is for CPO ${pub.cpoId}, not ${this.cpoId}`);
    if (session) {
      if (pub.sessionId !== session.sessionId)
        reject(`payment is for session ${pub.sessionId}, not ${session.sessionId}`);
      const expected = computeBill(session.points, session.tariff, session.ratedPowerW).amount;
      if (pub.amount !== expected)
        reject(`payment of ${formatAmount(pub.amount)} differs from the session total ${formatAmount(expected)}`);
    }
    if ((await this.registry.tariffCpo(pub.tariffHash)) !== this.cpoId) reject("tariff is not one this CPO published");
    if (!(await this.registry.isValidMeterRoot(this.cpoId, pub.meterRoot)))
      reject("meter root is not current (revoked or unknown)");
    if (!(await this.pool.isKnownRoot(pub.noteRoot, pub.noteTreeSize)))
      reject("note root is unknown or too old: ask the driver to prove again");
    if (await this.pool.nullifierSpent(pub.nullifier)) reject("the note was already spent");
    if (await this.pool.sessionPaid(pub.cpoId, pub.sessionId)) reject("the session is already paid");
    const { chainId } = await this.signer.provider!.getNetwork();
    const ext = extDataHash({ chainId, pool: await this.pool.getAddress(), ...payment.ext });
    if (ext !== pub.extDataHash) reject("ext data does not match the proof");
    if (!(await verifyPay({ proof: payment.groth16, publicSignals: pub }, this.#prover)))
      reject("the proof does not verify");
  }

  /** Submits a checked payment (this CPO's backend pays the gas); returns the receipt. */
  async submitPayment(payment: PaymentHandover): Promise<ContractTransactionReceipt> {
    return sendAndWait("pay", () => this.pool.pay(payment.proof, payment.pub, payment.ext));
  }

  /**
   * Checks, before switching the charger on, that escrow `escrowId` is open, for this CPO and this
   * session, is the session's escrow (the pool's `sessionEscrow`: the only one that can ever settle it),
   * with at least `minCap` locked and at least `minSecondsToSettle` before its settle deadline.
   * @throws EscrowRejectedError naming the first shortfall
   */
  async verifyEscrow(
    escrowId: bigint,
    expect: { sessionId: bigint; minCap: bigint; minSecondsToSettle: bigint },
  ): Promise<Escrow> {
    const escrow = await readEscrow(this.pool, escrowId);
    const reject = (why: string): never => {
      throw new EscrowRejectedError(`escrow ${escrowId}: ${why}`);
    };
    if (escrow.status !== EscrowStatus.Open)
      reject(escrow.status === EscrowStatus.None ? "does not exist" : "is no longer open");
    if (escrow.cpoId !== this.cpoId) reject(`is for CPO ${escrow.cpoId}, not ${this.cpoId}`);
    if (escrow.sessionId !== expect.sessionId) reject(`is for session ${escrow.sessionId}, not ${expect.sessionId}`);
    // The pool keeps one escrow per session; checking it here too means no other escrow can settle the session.
    const theEscrow = await this.pool.sessionEscrow(this.cpoId, escrow.sessionId);
    if (theEscrow !== escrowId)
      reject(`is not the escrow of session ${escrow.sessionId} (that is escrow ${theEscrow})`);
    if (escrow.cap < expect.minCap)
      reject(`caps at ${formatAmount(escrow.cap)}, below the required ${formatAmount(expect.minCap)}`);
    if (await this.pool.sessionPaid(this.cpoId, escrow.sessionId)) reject("its session is already paid");
    const now = BigInt((await this.signer.provider!.getBlock("latest"))!.timestamp);
    if (escrow.settleDeadline - now < expect.minSecondsToSettle) {
      reject(
        `leaves ${escrow.settleDeadline - now} s before its settle deadline, ${expect.minSecondsToSettle} s required`,
      );
    }
    return escrow;
  }

  /**
   * Closes an escrow of this CPO: with the session-end record (any time before the claim deadline), or
   * with the last live tail once the settle deadline has passed (the driver disappeared mid-session).
   */
  async close(
    escrowId: bigint,
    record: SessionRecord,
  ): Promise<{ closing: Closing; receipt: ContractTransactionReceipt }> {
    const { meterPath } = await this.receipt(record);
    const closing = await prepareClose(this.pool, escrowId, record, meterPath, this.#prover);
    return { closing, receipt: await submitClose(this.pool, closing, this.signer) };
  }

  /** This CPO's unwithdrawn earnings in the pool. */
  async earnings(): Promise<bigint> {
    return this.pool.cpoBalance(this.cpoId);
  }

  /** Withdraws all earnings to the payout address. */
  async withdraw(): Promise<ContractTransactionReceipt> {
    return sendAndWait("withdraw", () => this.pool.withdraw(this.cpoId));
  }
}
