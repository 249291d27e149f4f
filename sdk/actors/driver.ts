/**
 * The driver's wallet: a Semaphore identity, its notes in the pool (found by decrypting the
 * pool's events, nothing else), deposits, payments proved for a CPO or relayer to submit, and
 * merges / withdrawals through the transact circuit. The driver's own address never submits a
 * payment or a withdrawal: a CPO or relayer account does, or a relayer service by URL ({@link RelayerClient}).
 */
import { hexToBytes } from "@noble/hashes/utils.js";
import { Contract, ZeroAddress, getBytes, hexlify, type ContractTransactionReceipt, type Signer } from "ethers";
import type { Groth16Proof, ProverOptions, SolidityCalldata } from "../../prover/index.ts";
import { proveLock } from "../proofs/lock.ts";
import { provePay } from "../proofs/pay.ts";
import { proveTransact } from "../proofs/transact.ts";
import type { ProofTimings } from "../proofs/prove.ts";
import type { LockPublicSignals, PayPublicSignals, TransactPublicSignals } from "../proofs/publicSignals.ts";
import { dummyInput, type TransactOutput } from "../proofs/transactInput.ts";
import type { SessionNonces } from "../proofs/lockInput.ts";
import type { Pool } from "../../types/ethers-contracts/index.js";
import type { LockedEscrow, PoolState } from "./chain.ts";
import { decryptNotes, encryptNote } from "../core/encryption.ts";
import { decryptNotesOffThread } from "../core/offThread.ts";
import { leavesDigest, NOTE_SCAN_FORMAT, parseNoteScan, type NoteScanStore } from "./noteScan.ts";
import { PoolSync, type PoolSyncOptions } from "./sync.ts";
import { EscrowStatus } from "./escrow.ts";
import { InsufficientBalanceError, InvalidInputError } from "../core/errors.ts";
import { randomFieldElement } from "../core/field.ts";
import { extDataHash, type PoolExtData } from "../core/hash.ts";
import type { DriverIdentity } from "../core/identity.ts";
import type { SignedSession } from "../meter/record.ts";
import { formatAmount } from "../core/money.ts";
import { Note } from "../core/note.ts";
import { computeBill, type Bill } from "../tariff/tariff.ts";
import { readNoteProvenance } from "./chain.ts";
import { assessEscrowTerms, assessSpend, privacyReport, type PrivacyReport } from "./privacy.ts";
import { sendAndWait } from "./revert.ts";
import type { MerklePath } from "../core/tree.ts";
import { RelayerClient, type WaitOptions } from "./relayerClient.ts";
import type { RelayJob, RelayOperation, SignedQuote } from "./relayerApi.ts";

/** A note the driver owns, with where it sits in the tree. */
export interface OwnedNote {
  note: Note;
  leafIndex: number;
  nullifier: bigint;
}

/** An escrow this driver locked, found by decrypting its refund opening. */
export interface OwnedEscrow extends LockedEscrow {
  status: EscrowStatus;
  /** What the close charged (closed escrows only). */
  charged?: bigint;
}

/** A proved lock, for a relayer or the CPO to submit (see {@link submitLock}). */
export interface Locking {
  proof: SolidityCalldata;
  groth16: Groth16Proof;
  pub: LockPublicSignals;
  ext: PoolExtData;
  /** The escrow id (the lock's nullifier). */
  escrowId: bigint;
  /** What this lock would reveal through timing or its terms (see sdk/actors/privacy.ts). */
  privacy: PrivacyReport;
  witnessMs: number;
  proveMs: number;
}

/** A proved payment, ready for the CPO backend or a relayer to check and submit. */
export interface Payment {
  proof: SolidityCalldata;
  /** The same proof as snarkjs returns it (for local verification). */
  groth16: Groth16Proof;
  pub: PayPublicSignals;
  ext: PoolExtData;
  bill: Bill;
  /** What this payment would reveal through timing (see sdk/actors/privacy.ts); stays on the device. */
  privacy: PrivacyReport;
  witnessMs: number;
  proveMs: number;
}

/**
 * What the driver hands the CPO (or a relayer) for a payment: the proof, its public signals and the ext data,
 * nothing else (no bill breakdown, prover timings or privacy report: nothing that fingerprints the device).
 */
export type PaymentHandover = Pick<Payment, "proof" | "groth16" | "pub" | "ext">;

/** Strips a prepared payment down to what the CPO needs (see {@link PaymentHandover}). */
export function handover(payment: Payment): PaymentHandover {
  return { proof: payment.proof, groth16: payment.groth16, pub: payment.pub, ext: payment.ext };
}

/** A proved transact (merge, split, withdraw, transfer), for any account to submit. */
export interface Transaction {
  proof: SolidityCalldata;
  /** The same proof as snarkjs returns it (for local verification). */
  groth16: Groth16Proof;
  pub: TransactPublicSignals;
  ext: PoolExtData;
  fee: bigint;
  /** What this transact would reveal through timing (see sdk/actors/privacy.ts). */
  privacy: PrivacyReport;
  witnessMs: number;
  proveMs: number;
}

function timings(t: ProofTimings): { witnessMs: number; proveMs: number } {
  return { witnessMs: t.witnessMs, proveMs: t.proveMs };
}

/** A driver's wallet on one pool. */
export class Driver {
  readonly identity: DriverIdentity;
  readonly pool: Pool;
  readonly #prover: ProverOptions;
  /** The pool's events as this wallet last read them (cursor, leaf cache, reorg handling: sdk/actors/sync.ts). */
  readonly poolSync: PoolSync;
  #state: PoolState | undefined;
  #owned: OwnedNote[] = [];
  #escrows: OwnedEscrow[] = [];
  /** Leaves [0, #scanned) were trial-decrypted; #found holds those that are this driver's. */
  #scanned = 0;
  #revision = 0;
  #found: { note: Note; leafIndex: number }[] = [];
  /** Decrypted refund openings by escrow id and ciphertext (null: not this driver's). */
  readonly #refunds = new Map<string, Note | null>();
  readonly #scanStore: NoteScanStore | undefined;
  /** Whether the stored scan was looked at yet (once, at the first sync). */
  #scanLoaded = false;
  /** The last sync started: the next one runs after it (see {@link sync}). */
  #syncQueue: Promise<unknown> = Promise.resolve();
  /** Leaves trial-decrypted by this object so far (tests and the bench read it). */
  trialDecrypted = 0;

  /**
   * @param identity the driver's Semaphore identity (keep its export secret: it is the wallet)
   * @param pool the pool contract, connected to any provider (the driver never sends from it)
   * @param prover prover options (artifact source or root, pinned manifest, worker backend)
   * @param sync how the wallet reads the pool: a {@link PoolSync} of its own, or options for one (start block,
   *   block range, store...). Default: from block 0, in memory, resyncing from scratch after a reorganisation
   *   deeper than it keeps hashes for.
   * @param scanStore where the wallet keeps what its trial decryption found (an encrypted store: it holds note
   *   openings), so that a restart decrypts only leaves it has not seen (sdk/actors/noteScan.ts). Default: none,
   *   every new `Driver` decrypts every leaf once.
   */
  constructor(
    identity: DriverIdentity,
    pool: Pool,
    prover: ProverOptions = {},
    sync: PoolSync | PoolSyncOptions = {},
    scanStore?: NoteScanStore,
  ) {
    this.identity = identity;
    this.pool = pool;
    this.#prover = prover;
    this.poolSync = sync instanceof PoolSync ? sync : new PoolSync(pool, { onDeepReorg: "resync", ...sync });
    this.#scanStore = scanStore;
  }

  /**
   * Takes the stored scan as this wallet's own once it is checked against the leaves as synced now: its leaves'
   * digest must match (else the tree changed under it, e.g. a reorganisation between runs) and each note must be
   * the commitment at its leaf; otherwise every leaf is decrypted again, as without a scan.
   * @throws SyncError `STORE_CORRUPT` if the stored scan is not one
   */
  async #resumeScan(state: PoolState): Promise<void> {
    this.#scanLoaded = true;
    const raw = await this.#scanStore!.load();
    if (raw === undefined || raw === null) return;
    const scan = parseNoteScan(raw);
    if (scan.scanned > state.leaves.length || leavesDigest(state.leaves, scan.scanned) !== scan.leavesDigest) return;
    const idc = this.identity.commitment;
    const found = scan.found.map(([leafIndex, value, blinding]) => ({
      note: new Note(BigInt(value), BigInt(blinding), idc),
      leafIndex,
    }));
    // A note that is not its leaf means the scan is not this wallet's record: trust none of it, lose nothing.
    if (found.some((f) => state.leaves[f.leafIndex]!.commitment !== f.note.commitment)) return;
    this.#found = found;
    this.#scanned = scan.scanned;
    this.#revision = this.poolSync.revision;
  }

  /**
   * Brings the wallet up to date from the pool's events alone: every note it can decrypt that is not spent,
   * its escrows (from their encrypted refund openings) and the refund notes they turned into. Only blocks after
   * the last sync are read and only new leaves are trial-decrypted. Calls are serialised: one made while another
   * runs (a screen refreshing while a proof syncs) waits for it, so no leaf is scanned twice.
   */
  sync(): Promise<OwnedNote[]> {
    const run = this.#syncQueue.then(() => this.#syncOnce());
    this.#syncQueue = run.catch(() => undefined);
    return run;
  }

  async #syncOnce(): Promise<OwnedNote[]> {
    await this.poolSync.sync();
    const state = this.poolSync.state;
    if (this.#scanStore && !this.#scanLoaded) await this.#resumeScan(state);
    const escrowEvents = this.poolSync.escrows;
    const secret = this.identity.encryptionKeyPair.secretKey;
    const idc = this.identity.commitment;
    // Leaves past those unchanged since the last scan are new or replaced by a reorganisation.
    this.#scanned = Math.min(this.#scanned, this.poolSync.unchangedLeaves(this.#revision), state.leaves.length);
    this.#revision = this.poolSync.revision;
    this.#found = this.#found.filter(
      (f) => f.leafIndex < this.#scanned && state.leaves[f.leafIndex]!.commitment === f.note.commitment,
    );
    const fresh = state.leaves.slice(this.#scanned).filter((l) => l.encryptedOpening !== "0x");
    const notes = await decryptNotesOffThread(
      // noble's hex decoder: ethers' getBytes costs about 80 µs a ciphertext, 8 s of a 100,000-leaf cold sync.
      fresh.map((l) => hexToBytes(l.encryptedOpening.slice(2))),
      secret,
      idc,
    );
    fresh.forEach((leaf, i) => {
      const note = notes[i];
      if (note && note.commitment === leaf.commitment) this.#found.push({ note, leafIndex: leaf.index });
    });
    this.trialDecrypted += fresh.length;
    const scannedBefore = this.#scanned;
    this.#scanned = state.leaves.length;
    if (this.#scanStore && this.#scanned !== scannedBefore) {
      await this.#scanStore.save({
        format: NOTE_SCAN_FORMAT,
        scanned: this.#scanned,
        leavesDigest: leavesDigest(state.leaves, this.#scanned),
        found: this.#found.map((f) => [f.leafIndex, f.note.value.toString(), f.note.blinding.toString()]),
      });
    }
    const candidates = [...this.#found];
    const unknown = escrowEvents.locked.filter((l) => !this.#refunds.has(`${l.escrowId}:${l.encryptedRefund}`));
    const opened = await decryptNotes(
      unknown.map((l) => getBytes(l.encryptedRefund)),
      secret,
      idc,
    );
    unknown.forEach((l, i) => this.#refunds.set(`${l.escrowId}:${l.encryptedRefund}`, opened[i] ?? null));
    const escrows: OwnedEscrow[] = [];
    for (const locked of escrowEvents.locked) {
      const refund = this.#refunds.get(`${locked.escrowId}:${locked.encryptedRefund}`);
      if (!refund || refund.precommitment !== locked.refundPrecommitment || refund.value !== locked.cap) continue;
      const closed = escrowEvents.closed.get(locked.escrowId);
      const refunded = escrowEvents.refunded.has(locked.escrowId);
      const status = closed ? EscrowStatus.Closed : refunded ? EscrowStatus.Refunded : EscrowStatus.Open;
      escrows.push({ ...locked, status, charged: closed?.amount });
      // A closed or refunded escrow returns its rest as a note with an empty opening: the owner knows it.
      const back = closed ? locked.cap - closed.amount : refunded ? locked.cap : 0n;
      if (back > 0n) {
        const note = new Note(back, refund.blinding, idc);
        const leafIndex = state.leaves.findIndex((l) => l.commitment === note.commitment);
        if (leafIndex >= 0) candidates.push({ note, leafIndex });
      }
    }
    const owned: OwnedNote[] = [];
    for (const { note, leafIndex } of candidates) {
      const nullifier = note.nullifier(leafIndex, this.identity.secretScalar);
      if (!state.spent.has(nullifier)) owned.push({ note, leafIndex, nullifier });
    }
    this.#state = state;
    this.#owned = owned;
    this.#escrows = escrows;
    return owned;
  }

  /** The driver's escrows as of the last {@link sync}. */
  get escrows(): OwnedEscrow[] {
    return [...this.#escrows];
  }

  /**
   * Escrows of this driver that are still open after their claim deadline: the CPO never closed
   * them, so anyone may refund them in full (see {@link refund}).
   */
  async refundable(): Promise<OwnedEscrow[]> {
    await this.sync();
    const now = BigInt((await this.pool.runner!.provider!.getBlock("latest"))!.timestamp);
    return this.#escrows.filter((e) => e.status === EscrowStatus.Open && now > e.claimDeadline);
  }

  /** Refunds an open escrow after its claim deadline (any account may submit; the cap returns as a note). */
  async refund(escrowId: bigint, submitter: Signer): Promise<ContractTransactionReceipt> {
    return this.#saw(await sendAndWait("refund", () => this.pool.connect(submitter).refund(escrowId)));
  }

  /** Unspent notes as of the last {@link sync}. */
  get notes(): OwnedNote[] {
    return [...this.#owned];
  }

  /** Sum of the unspent notes as of the last {@link sync}. */
  get balance(): bigint {
    return this.#owned.reduce((sum, n) => sum + n.note.value, 0n);
  }

  async #chainId(): Promise<bigint> {
    const network = await this.pool.runner!.provider!.getNetwork();
    return network.chainId;
  }

  /** Timing privacy of spending `spent` now (latest block time), as {@link assessSpend} reports it. */
  async #assess(
    kind: Parameters<typeof assessSpend>[0]["kind"],
    spent: readonly OwnedNote[],
    emptiesWallet = false,
  ): Promise<PrivacyReport> {
    const state = this.#state ?? (await this.#fresh());
    const provenance = await readNoteProvenance(
      this.pool,
      spent.map((o) => state.leaves[o.leafIndex]!),
    );
    const now = BigInt((await this.pool.runner!.provider!.getBlock("latest"))!.timestamp);
    return assessSpend({ kind, spent: provenance, now, emptiesWallet });
  }

  async #fresh(): Promise<PoolState> {
    await this.sync();
    return this.#state!;
  }

  /**
   * Deposits `value` base units into a new note. `payer` is any funded account: deposits are public
   * (the amount and the payer are visible), what they fund later is not.
   */
  async deposit(value: bigint, payer: Signer): Promise<{ note: Note; receipt: ContractTransactionReceipt }> {
    const note = Note.random(this.identity.commitment, value);
    const ciphertext = encryptNote(note, this.identity.encryptionPublicKey);
    const token = await this.pool.token();
    const erc20 = new Contract(token, ["function approve(address,uint256) returns (bool)"], payer);
    await sendAndWait("approve", async () => erc20.getFunction("approve")(await this.pool.getAddress(), value));
    const receipt = await sendAndWait("deposit", () =>
      this.pool.connect(payer).deposit(note.precommitment, value, hexlify(ciphertext)),
    );
    return { note, receipt: this.#saw(receipt) };
  }

  /**
   * Proves payment of a finished session from one note. The CPO backend (or a relayer, for `fee`)
   * submits it; the change goes back into a new note only this driver can open.
   * @param args.session the meter-signed session, as the station handed it over
   * @param args.meterPath the meter's path in the CPO's meter tree (from the station or the chain)
   * @param args.relayer address that receives `fee` (the submitter); zero address when fee is 0
   * @throws InsufficientBalanceError naming the balance and the total when no single note covers it
   */
  async preparePayment(args: {
    session: SignedSession;
    meterPath: MerklePath;
    fee?: bigint;
    relayer?: string;
  }): Promise<Payment> {
    const fee = args.fee ?? 0n;
    const relayer = args.relayer ?? ZeroAddress;
    if (fee > 0n && relayer === ZeroAddress) throw new InvalidInputError("a relayer fee needs a relayer address");
    const state = await this.#fresh();
    const bill = computeBill(args.session.points, args.session.tariff, args.session.ratedPowerW);
    const due = bill.amount + fee;
    const candidates = this.#owned
      .filter((o) => o.note.value >= due)
      .sort((x, y) => (x.note.value < y.note.value ? -1 : 1));
    const chosen = candidates[0];
    if (!chosen) {
      const hint = this.balance >= due ? " in one note: merge notes first" : "";
      throw new InsufficientBalanceError(
        `balance ${formatAmount(this.balance)} is less than the session total ${formatAmount(due)}${hint}`,
      );
    }
    const changeBlinding = randomFieldElement();
    const change = new Note(chosen.note.value - due, changeBlinding, this.identity.commitment);
    const ext: PoolExtData = {
      recipient: ZeroAddress,
      relayer,
      extAmount: 0n,
      encryptedOutput1: hexlify(encryptNote(change, this.identity.encryptionPublicKey)),
      encryptedOutput2: "0x",
    };
    const proved = await provePay(
      {
        secretScalar: this.identity.secretScalar,
        note: chosen.note,
        notePath: state.tree.path(chosen.leafIndex),
        session: args.session,
        meterPath: args.meterPath,
        fee,
        changeBlinding,
        extDataHash: extDataHash({ chainId: await this.#chainId(), pool: await this.pool.getAddress(), ...ext }),
        bill,
      },
      this.#prover,
    );
    const privacy = await this.#assess("pay", [chosen]);
    return {
      proof: proved.calldata,
      groth16: proved.proof,
      pub: proved.publicSignals,
      ext,
      bill: proved.bill,
      privacy,
      ...timings(proved.timings),
    };
  }

  /**
   * Proves a lock: one note pays `cap` (+ `fee`) into an escrow for (cpoId, sessionId); the change and
   * whatever the escrow gives back return to this identity, which nobody learns. The session id is
   * `sessionId(stationNonce, driverNonce)`: the proof shows the nonces, so nobody else can lock the session
   * first (the pool takes one escrow per session). `sessionId`, if given, must be what the nonces make.
   * @throws InsufficientBalanceError when no single note covers cap + fee
   * @throws InvalidInputError when a nonce is not 128-bit or the nonces do not make `sessionId`
   */
  async prepareLock(
    args: SessionNonces & {
      cpoId: bigint;
      sessionId?: bigint;
      cap: bigint;
      settleDeadline: bigint;
      claimDeadline: bigint;
      fee?: bigint;
      relayer?: string;
    },
  ): Promise<Locking> {
    const fee = args.fee ?? 0n;
    const state = await this.#fresh();
    const due = args.cap + fee;
    const chosen = this.#owned
      .filter((o) => o.note.value >= due)
      .sort((x, y) => (x.note.value < y.note.value ? -1 : 1))[0];
    if (!chosen) {
      throw new InsufficientBalanceError(
        `balance ${formatAmount(this.balance)} has no note covering the cap ${formatAmount(args.cap)}` +
          (fee > 0n ? ` plus fee ${formatAmount(fee)}` : ""),
      );
    }
    const changeBlinding = randomFieldElement();
    const refundBlinding = randomFieldElement();
    const change = new Note(chosen.note.value - due, changeBlinding, this.identity.commitment);
    const refund = new Note(args.cap, refundBlinding, this.identity.commitment);
    const ext: PoolExtData = {
      recipient: ZeroAddress,
      relayer: args.relayer ?? ZeroAddress,
      extAmount: 0n,
      encryptedOutput1: hexlify(encryptNote(change, this.identity.encryptionPublicKey)),
      encryptedOutput2: hexlify(encryptNote(refund, this.identity.encryptionPublicKey)),
    };
    const proved = await proveLock(
      {
        secretScalar: this.identity.secretScalar,
        note: chosen.note,
        notePath: state.tree.path(chosen.leafIndex),
        cap: args.cap,
        fee,
        cpoId: args.cpoId,
        stationNonce: args.stationNonce,
        driverNonce: args.driverNonce,
        sessionId: args.sessionId,
        settleDeadline: args.settleDeadline,
        claimDeadline: args.claimDeadline,
        changeBlinding,
        refundBlinding,
        extDataHash: extDataHash({ chainId: await this.#chainId(), pool: await this.pool.getAddress(), ...ext }),
      },
      this.#prover,
    );
    const spendPrivacy = await this.#assess("lock", [chosen]);
    const warnings = [...spendPrivacy.warnings, ...assessEscrowTerms(args)];
    const privacy = privacyReport(warnings);
    return {
      proof: proved.calldata,
      groth16: proved.proof,
      pub: proved.publicSignals,
      ext,
      escrowId: proved.escrowId,
      privacy,
      ...timings(proved.timings),
    };
  }

  /**
   * Locks an escrow (see {@link prepareLock}) and has `submitter` send it: a relayer account (for `fee`), the
   * CPO's backend, or a relayer service ({@link RelayerClient}: its quote sets `fee` and `relayer`, and the call
   * returns once the relayer's transaction is mined), never the driver's own address. Returns the escrow id the CPO
   * checks before switching on.
   */
  async lock(
    args: Parameters<Driver["prepareLock"]>[0],
    submitter: Signer,
  ): Promise<{ escrowId: bigint; locking: Locking; receipt: ContractTransactionReceipt }>;
  async lock(
    args: Parameters<Driver["prepareLock"]>[0],
    submitter: RelayerClient,
    wait?: WaitOptions,
  ): Promise<{ escrowId: bigint; locking: Locking; job: RelayJob }>;
  async lock(
    args: Parameters<Driver["prepareLock"]>[0],
    submitter: Signer | RelayerClient,
    wait?: WaitOptions,
  ): Promise<{ escrowId: bigint; locking: Locking; receipt?: ContractTransactionReceipt; job?: RelayJob }> {
    if (submitter instanceof RelayerClient) {
      const { relayer, quote } = await this.#relayTerms(submitter, "lock");
      const locking = await this.prepareLock({ ...args, fee: quote.fee, relayer });
      const job = await this.#relay(submitter, wait, {
        operation: "lock",
        proof: locking.groth16,
        publicSignals: locking.pub,
        extData: locking.ext,
        quote,
      });
      return { escrowId: locking.escrowId, locking, job };
    }
    const locking = await this.prepareLock(args);
    const receipt = this.#saw(await submitLock(this.pool, locking, submitter));
    return { escrowId: locking.escrowId, locking, receipt };
  }

  /**
   * Pays a finished session through a relayer service: proves the payment with the relayer's quoted fee (see
   * {@link preparePayment}) and returns once the relayer's transaction is mined. For when the CPO is not the
   * submitter; the fee comes out of the paying note, on top of the bill.
   */
  async pay(
    args: { session: SignedSession; meterPath: MerklePath },
    relayer: RelayerClient,
    wait?: WaitOptions,
  ): Promise<{ payment: Payment; job: RelayJob }> {
    const terms = await this.#relayTerms(relayer, "pay");
    const payment = await this.preparePayment({ ...args, fee: terms.quote.fee, relayer: terms.relayer });
    const job = await this.#relay(relayer, wait, {
      operation: "pay",
      proof: payment.groth16,
      publicSignals: payment.pub,
      extData: payment.ext,
      quote: terms.quote,
    });
    return { payment, job };
  }

  /**
   * Withdraws `amount` (default: everything the two largest notes hold, less the fee) to `to` through a relayer
   * service: proves the withdrawal with the relayer's quoted fee (see {@link prepareWithdraw}) and returns once the
   * relayer's transaction is mined. The driver holds no ETH and sends nothing.
   */
  async withdraw(
    args: { to: string; amount?: bigint },
    relayer: RelayerClient,
    wait?: WaitOptions,
  ): Promise<{ transaction: Transaction; job: RelayJob }> {
    const terms = await this.#relayTerms(relayer, "transact");
    const transaction = await this.prepareWithdraw({ ...args, relayer: terms.relayer, fee: terms.quote.fee });
    const job = await this.#relay(relayer, wait, transactRelayRequest(transaction, terms.quote));
    return { transaction, job };
  }

  /** Hands `request` to the relayer and waits for its job; the next sync reads at least to the job's block. */
  async #relay(
    client: RelayerClient,
    wait: WaitOptions | undefined,
    request: Parameters<RelayerClient["relay"]>[0],
  ): Promise<RelayJob> {
    const { id } = await client.relay(request);
    const job = await client.waitForJob(id, wait);
    if (job.blockNumber !== undefined) this.poolSync.sawBlock(job.blockNumber);
    return job;
  }

  /** A receipt of this wallet's own transaction: the next sync reads at least to its block. */
  #saw<R extends { blockNumber: number }>(receipt: R): R {
    this.poolSync.sawBlock(receipt.blockNumber);
    return receipt;
  }

  /** The relayer's account and a quote for `operation`, after checking the relayer serves this driver's pool. */
  async #relayTerms(
    client: RelayerClient,
    operation: RelayOperation,
  ): Promise<{ relayer: string; quote: SignedQuote }> {
    const details = await client.serving(await this.#chainId(), await this.pool.getAddress());
    return { relayer: details.relayer, quote: await client.quote(operation) };
  }

  /**
   * Proves a transact: spends up to two notes, creates two outputs, moves `extAmount` in or out.
   * `recipient` receives a withdrawal; `relayer` receives `fee` and is expected to submit.
   */
  async prepareTransact(args: {
    spend: OwnedNote[];
    outputs: [TransactOutput, TransactOutput];
    outputNotes: [Note | null, Note | null];
    extAmount: bigint;
    fee: bigint;
    recipient: string;
    relayer: string;
    recipientKeys?: [Uint8Array, Uint8Array];
  }): Promise<Transaction> {
    if (args.spend.length > 2) throw new InvalidInputError("a transact spends at most two notes: merge first");
    const state = this.#state ?? (await this.#fresh());
    const reference = state.tree.path(args.spend[0]?.leafIndex ?? 0);
    const inputs = args.spend.map((o) => ({ note: o.note, path: state.tree.path(o.leafIndex) }));
    while (inputs.length < 2) inputs.push(dummyInput(this.identity.commitment, reference));
    const keys = args.recipientKeys ?? [this.identity.encryptionPublicKey, this.identity.encryptionPublicKey];
    const encrypt = (note: Note | null, key: Uint8Array) => (note ? hexlify(encryptNote(note, key)) : "0x");
    const ext: PoolExtData = {
      recipient: args.recipient,
      relayer: args.relayer,
      extAmount: args.extAmount,
      encryptedOutput1: encrypt(args.outputNotes[0], keys[0]),
      encryptedOutput2: encrypt(args.outputNotes[1], keys[1]),
    };
    const proved = await proveTransact(
      {
        secretScalar: this.identity.secretScalar,
        inputs: [inputs[0]!, inputs[1]!],
        outputs: args.outputs,
        extAmount: args.extAmount,
        fee: args.fee,
        extDataHash: extDataHash({ chainId: await this.#chainId(), pool: await this.pool.getAddress(), ...ext }),
      },
      this.#prover,
    );
    const kind = args.extAmount < 0n ? "withdraw" : args.recipientKeys ? "transfer" : "merge";
    const keptValue = args.outputs.reduce((sum, o) => sum + o.value, 0n);
    const emptiesWallet = kind === "withdraw" && keptValue === 0n && args.spend.length === this.#owned.length;
    const privacy = await this.#assess(kind, args.spend, emptiesWallet);
    return {
      proof: proved.calldata,
      groth16: proved.proof,
      pub: proved.publicSignals,
      ext,
      fee: args.fee,
      privacy,
      ...timings(proved.timings),
    };
  }

  /** Proves a merge of the two largest notes into one (no tokens move; a relayer may take `fee`). */
  async prepareMerge(opts: { relayer?: string; fee?: bigint } = {}): Promise<Transaction> {
    await this.#fresh();
    const spend = [...this.#owned].sort((x, y) => (x.note.value > y.note.value ? -1 : 1)).slice(0, 2);
    if (spend.length < 2) throw new InvalidInputError("nothing to merge: the wallet holds fewer than two notes");
    const fee = opts.fee ?? 0n;
    const total = spend[0]!.note.value + spend[1]!.note.value - fee;
    const merged = Note.random(this.identity.commitment, total);
    const pad = Note.random(this.identity.commitment, 0n);
    return this.prepareTransact({
      spend,
      fee,
      extAmount: 0n,
      recipient: ZeroAddress,
      relayer: opts.relayer ?? ZeroAddress,
      outputs: [
        { precommitment: merged.precommitment, value: total },
        { precommitment: pad.precommitment, value: 0n },
      ],
      outputNotes: [merged, pad],
    });
  }

  /**
   * Proves a withdrawal of `amount` (default: everything) to `to`, through `relayer` who takes `fee`.
   * The change stays in a new note.
   * @throws InvalidInputError when the amount is not positive, the fee is negative, or the fee leaves nothing to withdraw
   * @throws InsufficientBalanceError when the two largest notes do not cover amount + fee
   */
  async prepareWithdraw(args: { to: string; amount?: bigint; relayer: string; fee?: bigint }): Promise<Transaction> {
    const fee = args.fee ?? 0n;
    if (args.amount !== undefined && args.amount <= 0n) {
      throw new InvalidInputError(`withdrawal amount must be positive, got ${formatAmount(args.amount)}`);
    }
    if (fee < 0n) throw new InvalidInputError(`relayer fee must not be negative, got ${formatAmount(fee)}`);
    await this.#fresh();
    const spend = [...this.#owned].sort((x, y) => (x.note.value > y.note.value ? -1 : 1)).slice(0, 2);
    const available = spend.reduce((s, o) => s + o.note.value, 0n);
    if (args.amount === undefined && fee >= available) {
      throw new InvalidInputError(
        `relayer fee ${formatAmount(fee)} is not below the withdrawable balance ${formatAmount(available)}: nothing would be withdrawn`,
      );
    }
    const amount = args.amount ?? available - fee;
    if (available < amount + fee) {
      throw new InsufficientBalanceError(
        `balance ${formatAmount(available)} is less than the withdrawal ${formatAmount(amount)} plus fee ${formatAmount(fee)}`,
      );
    }
    const change = Note.random(this.identity.commitment, available - amount - fee);
    const pad = Note.random(this.identity.commitment, 0n);
    return this.prepareTransact({
      spend,
      fee,
      extAmount: -amount,
      recipient: args.to,
      relayer: args.relayer,
      outputs: [
        { precommitment: change.precommitment, value: change.value },
        { precommitment: pad.precommitment, value: 0n },
      ],
      outputNotes: [change, pad],
    });
  }
}

/** Submits a proved transact from any account (a relayer); returns the receipt. */
export async function submitTransaction(
  pool: Pool,
  tx: Transaction,
  submitter: Signer,
): Promise<ContractTransactionReceipt> {
  return sendAndWait("transact", () => pool.connect(submitter).transact(tx.proof, tx.pub, tx.ext, tx.fee));
}

/** Submits a proved lock from any account (a relayer or the CPO); returns the receipt. */
export async function submitLock(pool: Pool, lock: Locking, submitter: Signer): Promise<ContractTransactionReceipt> {
  return sendAndWait("lock", () => pool.connect(submitter).lock(lock.proof, lock.pub, lock.ext));
}

/** The relay request of a proved transact, with the relayer's quote (see {@link RelayerClient.relay}). */
export function transactRelayRequest(tx: Transaction, quote: SignedQuote): Parameters<RelayerClient["relay"]>[0] {
  return {
    operation: "transact",
    proof: tx.groth16,
    publicSignals: tx.pub,
    extData: tx.ext,
    fee: tx.fee,
    quote,
  };
}
