/**
 * The station's policies over its sessions' escrows (docs/live.md), and every close it submits:
 *
 * - cap: after each stored reading, the charger is stopped (RequestStopTransaction) when one more reading interval
 *   at the rated power and the dearest prices could take the bill above the escrow's cap;
 * - the driver's close (mode 0): checked locally against the station's own record of the session (its end, the
 *   tariff, a valid meter root, the ext data, the proof) before it is submitted;
 * - a session that ended without the driver's close within the grace time: the station proves it itself (mode 0);
 * - a session with no end once the settle deadline passed (chain time): closed from the last live tail (mode 1).
 *
 * A close is stored as `submitting` before its transaction is sent and `confirmed` once mined; before any
 * (re)submission the escrow's on-chain status is read, and nothing is sent while the CPO account has a transaction
 * pending, so nothing is submitted twice. Sessions with an unconfirmed close are resumed from the store.
 */
import { EventEmitter } from "node:events";
import {
  BILL_DIVISOR,
  ContractRevertError,
  EscrowStatus,
  computeBill,
  extDataHash,
  formatCalldata,
  readEscrow,
  submitClose,
  tariffHash,
  verifyClose,
  type Closing,
  type LiveSessionVerifier,
  type ProverOptions,
  type StationCloseAnswer,
  type StationCloseRequest,
  type Tariff,
} from "../sdk/index.ts";
import { withRetry, type StationChain } from "./chain.ts";
import type { ChargerEntry, Csms } from "./csms.ts";
import type { StationStore, StoredClose, StoredReading, StoredSession } from "./store.ts";

/** A request the settlement refuses: `code` names the cause, `status` is the HTTP status to answer. */
export class SettlementRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = "SettlementRefusal";
  }
}

/** What the settlement tells its listeners once a close is mined. */
export interface SettlementEvents {
  closed: [sessionId: string, close: StoredClose];
}

/** Options of {@link Settlement}. */
export interface SettlementOptions {
  store: StationStore;
  csms: Csms;
  chain: StationChain;
  chargers: ReadonlyMap<string, ChargerEntry>;
  /** Seconds after a session end the driver has to hand its close before the station proves it itself. */
  closeGraceSeconds: number;
  /** The charger's reading interval the cap policy assumes at least, seconds. */
  readingIntervalSeconds: bigint;
  /** How often the deadlines and pending closes are looked at, ms (default 1000). */
  pollMs?: number;
  prover?: ProverOptions;
  log?: (message: string) => void;
}

/**
 * The most one more reading `dt` seconds later can add to a bill: `dt` at the rated power, charged at the dearest
 * energy and time prices of the tariff (charging or parking, the duration limit's included, in base units, rounded
 * up), plus a whole step of each dimension at those prices (the step_size round-up can move to the new interval and
 * to a dearer price).
 */
export function worstIncrement(tariff: Tariff, ratedPowerW: bigint, dt: bigint): bigint {
  const max = (xs: readonly (bigint | undefined)[]) =>
    xs.reduce<bigint>((a, b) => (b !== undefined && b > a ? b : a), 0n);
  const wh = (ratedPowerW * dt + 3599n) / 3600n;
  const [energyStep, timeStep, parkingStep] = tariff.stepSize;
  const limit = tariff.durationLimit;
  const numerator =
    (wh + energyStep) * max([...tariff.energyPrice, limit?.energyPrice]) * 3600n +
    (dt + timeStep + parkingStep) *
      max([
        ...tariff.timePricePerHour,
        ...tariff.parkingPricePerHour,
        limit?.timePricePerHour,
        limit?.parkingPricePerHour,
      ]) *
      1000n;
  return (numerator + BILL_DIVISOR - 1n) / BILL_DIVISOR + 1n;
}

const ZERO = "0x0000000000000000000000000000000000000000";

/** The station's escrow policies and closes. */
export class Settlement {
  readonly events = new EventEmitter<SettlementEvents>();
  readonly #o: SettlementOptions;
  readonly #log: (message: string) => void;
  /** Sessions with a close being checked, proved or submitted right now. */
  readonly #busy = new Set<string>();
  /** Unix ms before which a session's failed close is not tried again (backoff). */
  readonly #retryAt = new Map<string, { at: number; delay: number }>();
  /** The time of each session's previous reading, for the interval the cap policy assumes. */
  readonly #lastT = new Map<string, bigint>();
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;

  constructor(options: SettlementOptions) {
    this.#o = options;
    this.#log = options.log ?? (() => {});
  }

  /** Starts watching: the cap policy on every stored reading, the deadlines every `pollMs`. */
  start(): void {
    this.#o.csms.events.on("reading", (s, r, v) => void this.#capPolicy(s, r, v));
    this.#timer = setInterval(() => void this.tick(), this.#o.pollMs ?? 1000);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #capPolicy(s: StoredSession, reading: StoredReading, verifier: LiveSessionVerifier): Promise<void> {
    const t = BigInt(reading.t);
    const previous = this.#lastT.get(s.sessionId);
    this.#lastT.set(s.sessionId, t);
    if (reading.kind === "end") this.#lastT.delete(s.sessionId);
    if (!s.escrow || reading.kind === "end") return;
    const stored = await this.#o.store.session(s.sessionId);
    if (!stored || stored.stoppedBy !== undefined) return;
    const bill = verifier.runningBill();
    if (!bill) return;
    const seen = previous !== undefined && t > previous ? t - previous : 0n;
    const dt = seen > this.#o.readingIntervalSeconds ? seen : this.#o.readingIntervalSeconds;
    const entry = this.#o.chargers.get(s.chargerId)!;
    const cap = BigInt(s.escrow.cap);
    const worst = bill.amount + worstIncrement(verifier.terms.tariff, entry.ratedPowerW, dt);
    if (worst <= cap) return;
    await this.#o.store.setStoppedBy(s.sessionId, "cap");
    this.#log(`session ${s.sessionId}: bill ${bill.amount} could pass the cap ${cap} by the next reading: stopping`);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.#o.csms.requestStop(s.sessionId);
        return;
      } catch (error) {
        this.#log(`session ${s.sessionId}: stop for the cap failed (${(error as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      }
    }
  }

  /** Reads escrow `escrowId` from the chain (retried). */
  async #escrow(escrowId: string) {
    return withRetry("read escrow", () => readEscrow(this.#o.chain.operator.pool, BigInt(escrowId)), {
      log: this.#log,
    });
  }

  /** The mined close of an escrow closed on-chain: its transaction, amount and refund from the pool's event. */
  async #minedClose(s: StoredSession, by: StoredClose["by"], mode: 0 | 1): Promise<StoredClose> {
    const pool = this.#o.chain.operator.pool;
    const logs = await withRetry("read EscrowClosed", () =>
      pool.queryFilter(pool.filters.EscrowClosed(BigInt(s.escrow!.escrowId))),
    );
    const last = logs[logs.length - 1];
    const amount = last ? (last.args.amount as bigint) : 0n;
    return {
      sessionId: s.sessionId,
      escrowId: s.escrow!.escrowId,
      by,
      mode: last ? (Number(last.args.mode) as 0 | 1) : mode,
      state: "confirmed",
      ...(last ? { txHash: last.transactionHash } : {}),
      amount: amount.toString(),
      refund: (BigInt(s.escrow!.cap) - amount).toString(),
      at: Date.now(),
    };
  }

  async #confirmed(close: StoredClose): Promise<void> {
    await this.#o.store.putClose(close);
    this.#retryAt.delete(close.sessionId);
    this.#log(`session ${close.sessionId}: escrow ${close.escrowId} closed by the ${close.by} (tx ${close.txHash})`);
    this.events.emit("closed", close.sessionId, close);
  }

  /** Whether the CPO account has a transaction sent but not mined (then nothing more is sent this round). */
  async #pending(): Promise<boolean> {
    const { operator, provider } = this.#o.chain;
    const address = await operator.signer.getAddress();
    const [pending, latest] = await withRetry("read nonce", () =>
      Promise.all([provider.getTransactionCount(address, "pending"), provider.getTransactionCount(address, "latest")]),
    );
    return pending > latest;
  }

  /**
   * Checks the driver's close proof against the station's own record of `s` and submits it.
   * @throws SettlementRefusal naming the cause (NOT_ENDED, BAD_PROOF, ESCROW_REFUNDED, IN_PROGRESS, CLOSE_FAILED)
   */
  async driverClose(s: StoredSession, request: StationCloseRequest): Promise<StationCloseAnswer> {
    const escrowTerms = s.escrow;
    if (!escrowTerms) throw new SettlementRefusal("NO_ESCROW", `session ${s.sessionId} has no escrow`, 409);
    const answer = (c: StoredClose): StationCloseAnswer => ({
      txHash: c.txHash ?? "",
      amount: BigInt(c.amount ?? "0"),
      refund: BigInt(c.refund ?? "0"),
      existing: true,
    });
    const known = await this.#o.store.closeOf(s.sessionId);
    if (known?.state === "confirmed") return answer(known);
    if (this.#busy.has(s.sessionId))
      throw new SettlementRefusal("IN_PROGRESS", `a close of session ${s.sessionId} is being submitted`, 409);
    this.#busy.add(s.sessionId);
    try {
      const signed = (await this.#o.csms.verifier(s.sessionId))?.session();
      if (!signed) throw new SettlementRefusal("NOT_ENDED", `session ${s.sessionId} has not ended yet`, 409);
      const escrow = await this.#escrow(escrowTerms.escrowId);
      if (escrow.status === EscrowStatus.Closed) {
        const close = await this.#minedClose(s, known?.by ?? "driver", 0);
        await this.#confirmed(close);
        return answer(close);
      }
      if (escrow.status !== EscrowStatus.Open)
        throw new SettlementRefusal("ESCROW_REFUNDED", `escrow ${escrowTerms.escrowId} was refunded`, 409);
      const pub = request.publicSignals;
      const bad = (why: string): never => {
        throw new SettlementRefusal("BAD_PROOF", why);
      };
      if (pub.mode !== 0n) bad("a driver's close is of mode 0 (from the session end)");
      if (pub.sessionId !== escrow.sessionId) bad(`the proof is for session ${pub.sessionId}, not ${escrow.sessionId}`);
      if (pub.cpoId !== escrow.cpoId) bad(`the proof is for CPO ${pub.cpoId}, not ${escrow.cpoId}`);
      if (pub.cap !== escrow.cap || pub.refundPrecommitment !== escrow.refundPrecommitment)
        bad(`the proof is not over escrow ${escrow.escrowId}'s terms`);
      if (pub.tariffHash !== tariffHash(signed.tariff)) bad("the proof's tariff is not the session's");
      const bill = computeBill(signed.points, signed.tariff, signed.ratedPowerW);
      const due = bill.amount < escrow.cap ? bill.amount : escrow.cap;
      if (pub.amount !== due) bad(`the proof charges ${pub.amount}, the session end the station stored charges ${due}`);
      const { operator, chainId, pool } = this.#o.chain;
      if (!(await withRetry("meter root", () => operator.registry.isValidMeterRoot(escrow.cpoId, pub.meterRoot))))
        bad("the proof's meter root is not a valid meter root of this CPO");
      const ext = request.extData;
      if (ext.extAmount !== 0n || ext.recipient.toLowerCase() !== ZERO)
        bad("a close moves no tokens out: extAmount 0, recipient the zero address");
      if (pub.extDataHash !== extDataHash({ chainId, pool, ...ext })) bad("extDataHash does not match the ext data");
      if (!(await verifyClose({ proof: request.proof, publicSignals: pub }, this.#o.prover)))
        bad("the proof does not verify");
      const closing: Closing = {
        escrowId: escrow.escrowId,
        proof: formatCalldata(request.proof),
        groth16: request.proof,
        pub,
        ext,
        bill,
        proveMs: 0,
      };
      return await this.#submit(s, "driver", 0, async () =>
        submitClose(operator.pool, closing, operator.signer).then((r) => ({ txHash: r.hash, amount: pub.amount })),
      ).then((c) => ({ ...answer(c), existing: false }));
    } finally {
      this.#busy.delete(s.sessionId);
    }
  }

  /** Stores the close as submitting, sends it, stores the outcome. */
  async #submit(
    s: StoredSession,
    by: StoredClose["by"],
    mode: 0 | 1,
    send: () => Promise<{ txHash: string; amount: bigint }>,
  ): Promise<StoredClose> {
    const base = { sessionId: s.sessionId, escrowId: s.escrow!.escrowId, by, mode, at: Date.now() };
    if (await this.#pending())
      throw new SettlementRefusal("IN_PROGRESS", "the station has a transaction pending: retry shortly", 503);
    await this.#o.store.putClose({ ...base, state: "submitting" });
    try {
      const { txHash, amount } = await send();
      const close: StoredClose = {
        ...base,
        state: "confirmed",
        txHash,
        amount: amount.toString(),
        refund: (BigInt(s.escrow!.cap) - amount).toString(),
      };
      await this.#confirmed(close);
      return close;
    } catch (error) {
      const message = (error as Error).message;
      // A revert is final for this attempt; a transport failure leaves `submitting` for the next round to look up.
      if (error instanceof ContractRevertError || !(error instanceof Error) || !/network|ECONN|timeout/i.test(message))
        await this.#o.store.putClose({ ...base, state: "failed", error: message });
      throw new SettlementRefusal("CLOSE_FAILED", `the close was not mined: ${message}`, 502);
    }
  }

  /** The station proves and submits the close of `s` itself (mode 0 from its end, 1 from its last tail). */
  async #stationClose(s: StoredSession, mode: 0 | 1): Promise<void> {
    const id = s.sessionId;
    if (this.#busy.has(id)) return;
    const backoff = this.#retryAt.get(id);
    if (backoff && backoff.at > Date.now()) return;
    this.#busy.add(id);
    try {
      const escrow = await this.#escrow(s.escrow!.escrowId);
      if (escrow.status === EscrowStatus.Closed) {
        await this.#confirmed(await this.#minedClose(s, "station", mode));
        return;
      }
      if (escrow.status !== EscrowStatus.Open) {
        await this.#o.store.putClose({
          sessionId: id,
          escrowId: s.escrow!.escrowId,
          by: "station",
          mode,
          state: "confirmed",
          error: "the escrow was refunded to the driver",
          amount: "0",
          refund: s.escrow!.cap,
          at: Date.now(),
        });
        return;
      }
      const verifier = await this.#o.csms.verifier(id);
      const record = mode === 0 ? verifier?.session() : verifier?.evidence();
      if (!record) return;
      this.#log(`session ${id}: the station closes escrow ${escrow.escrowId} itself (mode ${mode})`);
      await this.#submit(s, "station", mode, async () => {
        const { closing, receipt } = await this.#o.chain.operator.close(escrow.escrowId, record);
        return { txHash: receipt.hash, amount: closing.pub.amount };
      });
    } catch (error) {
      const delay = Math.min((backoff?.delay ?? 1000) * 2, 60_000);
      this.#retryAt.set(id, { at: Date.now() + delay, delay });
      this.#log(`session ${id}: close failed (${(error as Error).message}); next try in ${delay} ms`);
    } finally {
      this.#busy.delete(id);
    }
  }

  /** One round over the unsettled sessions: pending closes looked up, grace and settle deadlines applied. */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      let chainTime: bigint | undefined;
      for (const s of await this.#o.store.unsettledSessions()) {
        if (this.#busy.has(s.sessionId)) continue;
        const close = await this.#o.store.closeOf(s.sessionId);
        if (close?.state === "submitting") {
          // Sent before a crash or a lost answer: mined, or the next round submits again.
          if (await this.#pending()) continue;
          const escrow = await this.#escrow(s.escrow!.escrowId);
          if (escrow.status === EscrowStatus.Closed)
            await this.#confirmed(await this.#minedClose(s, close.by, close.mode));
          else await this.#o.store.putClose({ ...close, state: "failed", error: "not mined", at: Date.now() });
          continue;
        }
        if (s.state === "ended") {
          const endedAt = await this.#endedAt(s);
          if (close !== undefined || Date.now() >= endedAt + this.#o.closeGraceSeconds * 1000)
            await this.#stationClose(s, 0);
        } else if (s.state === "open") {
          chainTime ??= await withRetry("chain time", () => this.#o.chain.chainTime());
          if (chainTime > BigInt(s.escrow!.settleDeadline)) await this.#stationClose(s, 1);
        }
      }
    } catch (error) {
      this.#log(`settlement round failed: ${(error as Error).message}`);
    } finally {
      this.#ticking = false;
    }
  }

  async #endedAt(s: StoredSession): Promise<number> {
    const readings = s.transactionId ? await this.#o.store.readings(s.transactionId) : [];
    return readings[readings.length - 1]?.receivedAt ?? s.requestedAt;
  }
}
