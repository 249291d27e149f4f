/**
 * Gas of every zkcharge operation on an in-process Hardhat chain, with real Groth16 proofs.
 *
 * Four parts:
 *
 * 1. **Young pool, SDK flow.** `setUpNetwork` (test/fixtures/chain.ts) deploys everything; a driver deposits,
 *    pays three sessions (fee 0 as the CPO's first credit, with a relayer fee, fee 0 again), deposits again,
 *    merges and withdraws through a relayer; the CPO withdraws. A second CPO measures the registry operations.
 *    These run at note-tree sizes 0..8, so each insert hashes 0-2 times and many storage writes are fresh
 *    (zero -> non-zero, 22.1k instead of 5k): the first 256 roots of a pool, not its steady state.
 *
 * 2. **Per-hash cost (method).** A LeanIMT insert at leaf index i does one PoseidonT3 per 1-bit of i (NoteTree.sol).
 *    On a second chain (its own `setUpNetwork`), the pool's stored tree is moved to size
 *    i = 2^20 + (bits 1..p-1 set) for p = 1..20 (so every i is even, has popcount p and the same depth 21) with
 *    every tree slot pre-filled non-zero (side nodes and the 256-slot root ring): each deposit (of a fresh note,
 *    same value, same calldata size) then writes the same slots from one non-zero value to another, and differs
 *    from the next only by one more 1-bit. The least-squares slope of deposit gas against popcount is the gas per
 *    1-bit (one PoseidonT3 library DELEGATECALL plus the loop's branch); the largest residual shows how exactly
 *    linear it is (tens of gas: calldata zero bytes of the random precommitment and ciphertext).
 *
 * 3. **Mature pool, measured and projected pay.** On that second chain's pool, real pays (fee 0) at leaf indices
 *    0b1010...10 of 10, 20 and 24 bits (popcount d/2: the average of a uniformly random d-bit index, i.e. a pool
 *    of ~2^d notes) with all tree slots non-zero and the CPO's balance already non-zero. The note spent is a real
 *    deposit made just before (its path is the stored side nodes, which stand for complete subtrees whose leaves
 *    are never needed). Projection: pay(d) = pay measured at d = 10 + perHash * (d/2 - 5); the measured rows at
 *    2^20 and 2^24 check it.
 *
 * 4. **Escrowed sessions.** On the young chain, continuing the SDK flow (a fresh 60 EUR deposit funds it): locks
 *    (fee 0 by the CPO, with a relayer fee by the relayer), a close by the session-end record (mode 0: bill below
 *    the cap, so the refund note is inserted; and bill above the cap, submitted by another account, so nothing is
 *    inserted), then, after `networkHelpers.time.increaseTo` past the settle deadline, the CPO's close by the last
 *    live tail (mode 1), and past the claim deadline a refund by any account. The CPO withdraws last, so every
 *    close credits a non-zero CPO balance. On the mature chain (after part 3, same storage technique): a lock,
 *    a mode-0 close and a refund at a 2^20-leaf pool, each inserting at a leaf index of popcount 10.
 *    Every lock writes three fresh escrow slots (a new id) and a fresh nullifier, every close a fresh
 *    sessionPaid flag: those zero -> non-zero writes are inherent, not an artefact of a young pool.
 *
 * Verifier cost: `estimateGas` of `verifyProof(a, b, c, signals)` with the real proof, minus the transaction's
 * intrinsic gas for the same calldata (21000 + 16 per non-zero byte + 4 per zero byte, EIP-2028). The chain runs
 * Prague, where EIP-7623 floors a call's gas at 21000 + 40 per non-zero byte; a plain call to a code-less
 * address with the same calldata is therefore priced at the floor and would understate the verifier, while the
 * verifier call itself is far above the floor, so its intrinsic part is the EIP-2028 one. The gasUsed of the
 * same call sent as a transaction is reported next to it.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import {
  AbiCoder,
  ZeroAddress,
  getBytes,
  keccak256,
  toBeHex,
  type ContractTransactionReceipt,
  type Signer,
} from "ethers";
import { generateProof } from "../prover/index.ts";
import { buildLockWitness, type SessionNonces } from "../sdk/proofs/lockInput.ts";
import { buildPayWitness } from "../sdk/proofs/payInput.ts";
import { closeSignalArray, lockSignalArray, paySignalArray, transactSignalArray } from "../sdk/proofs/publicSignals.ts";
import { toTariffStruct } from "../sdk/actors/chain.ts";
import { NOTE_TREE_DEPTH } from "../sdk/core/constants.ts";
import { Driver, submitLock, submitTransaction, type Locking } from "../sdk/actors/driver.ts";
import { encryptNote } from "../sdk/core/encryption.ts";
import { EscrowStatus, prepareClose, readEscrow, submitClose, type Closing } from "../sdk/actors/escrow.ts";
import { randomFieldElement } from "../sdk/core/field.ts";
import { extDataHash, sessionId as makeSessionId } from "../sdk/core/hash.ts";
import { DriverIdentity } from "../sdk/core/identity.ts";
import { Meter } from "../sdk/meter/meter.ts";
import { type LiveTail, type SignedSession } from "../sdk/meter/record.ts";
import { Note } from "../sdk/core/note.ts";
import { Operator } from "../sdk/actors/operator.ts";
import { computeBill } from "../sdk/tariff/tariff.ts";
import { rootFromPath, type MerklePath } from "../sdk/core/tree.ts";
import type { Pool } from "../types/ethers-contracts/index.js";
import {
  DAY,
  HOUR,
  chargeSession,
  demoTariff,
  freshNonces,
  nextLocalTime,
  setUpNetwork,
  type Network,
} from "../test/fixtures/chain.ts";
import { linearFit, popcount, type LinearFit } from "./stats.ts";
import { simulateCharging } from "../sdk/meter/simulator.ts";

/** One measured operation. */
export interface GasRow {
  op: string;
  gas: number;
  /** Note-tree size before the transaction (pool operations). */
  treeSize?: number;
  /** Leaf indices the transaction inserted. */
  leaves?: number[];
  /** Free-form context (meter tree size, storage regime). */
  note?: string;
}

/** An in-process chain: its ethers and the time helper (escrow deadlines). */
export interface BenchChain {
  ethers: HardhatEthers;
  networkHelpers: { time: { increaseTo(timestamp: bigint): Promise<void> } };
}

type Circuit = "pay" | "transact" | "lock" | "close";

/** The verifier's own cost. */
export interface VerifierGas {
  circuit: Circuit;
  publicInputs: number;
  calldataBytes: number;
  intrinsic: number;
  estimateGas: number;
  /** estimateGas - intrinsic: what the pool pays for `verifyProof` (plus its own ~2.6k call overhead). */
  execution: number;
  /** gasUsed of the same call sent as a transaction, minus intrinsic. */
  executionUsed: number;
}

export interface PayProjection {
  depth: number;
  leafIndex: number;
  popcount: number;
  projected: number;
  measured: number;
}

export interface GasResults {
  young: GasRow[];
  /** Escrowed sessions on the young chain (after the SDK flow of `young`, before its CPO withdrawal). */
  escrow: GasRow[];
  /** Escrowed sessions on the mature chain (2^20-leaf pool). */
  matureEscrow: GasRow[];
  registry: GasRow[];
  verifiers: VerifierGas[];
  perHash: LinearFit & { points: { leafIndex: number; popcount: number; gas: number }[] };
  mature: GasRow[];
  projection: PayProjection[];
  /** Proof timings seen along the way (ms), for the record. */
  proveMs: number[];
}

async function gasOf(tx: Promise<{ wait(): Promise<ContractTransactionReceipt | null> }>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("transaction dropped");
  return Number(receipt.gasUsed);
}

function hex(bytes: Uint8Array): string {
  return "0x" + Buffer.from(bytes).toString("hex");
}

async function latestTime(ethers: HardhatEthers): Promise<bigint> {
  return BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
}

/** Records one pool operation with the note-tree size before it and the leaves it inserted. */
function recorder(pool: Pool, rows: GasRow[]) {
  return async (op: string, inserts: number, run: () => Promise<number>, note?: string) => {
    const treeSize = Number(await pool.noteTreeSize());
    const gas = await run();
    const after = Number(await pool.noteTreeSize());
    if (after !== treeSize + inserts)
      throw new Error(`bench: ${op} inserted ${after - treeSize} leaves, expected ${inserts}`);
    rows.push({
      op,
      gas,
      treeSize,
      leaves: inserts > 0 ? Array.from({ length: inserts }, (_, k) => treeSize + k) : undefined,
      note,
    });
  };
}

/** EIP-2028 intrinsic gas of a call with `data`. */
function intrinsicGas(data: string): number {
  return getBytes(data).reduce((g, b) => g + (b === 0 ? 4 : 16), 21_000);
}

// ------------------------------------------------------------------ part 1: young pool, SDK flow

async function youngPool(ethers: HardhatEthers, net: Network, proveMs: number[]) {
  const { pool } = net.deployment;
  const { payer, relayer, cpo } = net.signers;
  const relayerAddress = await relayer.getAddress();
  // Steady-state token holders: the relayer and the CPO's payout already hold tokens, so a fee or a CPO
  // withdrawal writes a non-zero balance (the withdrawal recipient below is a fresh address on purpose).
  await (await net.deployment.testToken!.mint(relayerAddress, 1n)).wait();
  await (await net.deployment.testToken!.mint(await cpo.getAddress(), 1n)).wait();

  const rows: GasRow[] = [];
  const record = recorder(pool, rows);
  const driver = new Driver(DriverIdentity.random(), pool.connect(ethers.provider));
  const pay = async (fee: bigint) => {
    const receipt = await net.operator.receipt(chargeSession(net.meter, net.tariff, net.now));
    const p = await driver.preparePayment(fee > 0n ? { ...receipt, fee, relayer: relayerAddress } : receipt);
    proveMs.push(p.proveMs);
    await net.operator.checkPayment(p, receipt.session);
    return p;
  };

  await record(
    "deposit (pool's first)",
    1,
    async () => Number((await driver.deposit(50_000_000n, payer)).receipt.gasUsed),
    "SDK deposit (exact approve)",
  );
  let p = await pay(0n);
  await record(
    "pay, fee 0 (CPO's first credit)",
    1,
    async () => Number((await net.operator.submitPayment(p)).gasUsed),
    "CPO submits",
  );
  p = await pay(10_000n);
  await record(
    "pay + relayer fee",
    1,
    () => gasOf(pool.connect(relayer).pay(p.proof, p.pub, p.ext)),
    "relayer submits",
  );
  const lastPay = await pay(0n);
  await record("pay, fee 0", 1, async () => Number((await net.operator.submitPayment(lastPay)).gasUsed), "CPO submits");
  await record(
    "deposit",
    1,
    async () => Number((await driver.deposit(3_000_000n, payer)).receipt.gasUsed),
    "SDK deposit (exact approve)",
  );
  const merge = await driver.prepareMerge();
  proveMs.push(merge.proveMs);
  await record(
    "transact merge (2 notes -> 1, fee 0)",
    2,
    async () => Number((await submitTransaction(pool, merge, relayer)).gasUsed),
    "relayer submits",
  );
  const fresh = ethers.Wallet.createRandom().address;
  const withdrawal = await driver.prepareWithdraw({ to: fresh, relayer: relayerAddress, fee: 20_000n });
  proveMs.push(withdrawal.proveMs);
  await record(
    "transact withdraw + relayer fee",
    2,
    async () => Number((await submitTransaction(pool, withdrawal, relayer)).gasUsed),
    "to a fresh address",
  );
  return { rows, lastPay, withdrawal, driver };
}

// ------------------------------------------------------------------ part 4: escrowed sessions, young pool

/**
 * Escrow times as in test/e2e/escrow.test.ts: plug-in at the next 16:30 local at least an hour after `now` (the
 * session crosses the 17:00 band boundary), settle within 3 h of plug-in, claim for 2 more days.
 */
function escrowTimes(net: Network, now: bigint) {
  const plugIn = nextLocalTime(now + HOUR, 16n * HOUR + 30n * 60n, net.tariff.tzOffset);
  const settleDeadline = plugIn + 3n * HOUR;
  return { plugIn, settleDeadline, claimDeadline: settleDeadline + 2n * DAY };
}

/** A fresh session: its 128-bit nonces (the driver locks with them) and the session id they make. */
type BenchSession = SessionNonces & { sessionId: bigint };
function freshSession(): BenchSession {
  const nonces = freshNonces();
  return { ...nonces, sessionId: makeSessionId(nonces.stationNonce, nonces.driverNonce) };
}

/** The session `sessionId`, finished: 70 min at 11 kW from plug-in (bill about 6.1 EUR), meter-signed. */
function finishedSession(net: Network, sessionId: bigint, plugIn: bigint): SignedSession {
  const live = net.meter.startSession({ sessionId, tariff: net.tariff, t: plugIn, e: 5_000_000n });
  const last = simulateCharging(live, { to: plugIn + 70n * 60n, powerW: 11_000n, stepSeconds: 300n }).at(-1)!;
  return live.end(last.t, last.e);
}

async function youngEscrows(chain: BenchChain, net: Network, driver: Driver, proveMs: number[]) {
  const { ethers, networkHelpers } = chain;
  const { pool } = net.deployment;
  const { payer, relayer, cpo, other } = net.signers;
  const relayerAddress = await relayer.getAddress();
  const rows: GasRow[] = [];
  const record = recorder(pool, rows);
  await driver.deposit(60_000_000n, payer);

  const { plugIn, settleDeadline, claimDeadline } = escrowTimes(net, await latestTime(ethers));
  const lockFor = async (session: BenchSession, cap: bigint, fee = 0n): Promise<Locking> => {
    const lock = await driver.prepareLock({
      cpoId: net.operator.cpoId,
      ...session,
      cap,
      settleDeadline,
      claimDeadline,
      ...(fee > 0n ? { fee, relayer: relayerAddress } : {}),
    });
    proveMs.push(lock.proveMs);
    return lock;
  };
  const checked = async (lock: Locking, sessionId: bigint, cap: bigint) => {
    await net.operator.verifyEscrow(lock.escrowId, { sessionId, minCap: cap, minSecondsToSettle: HOUR });
  };
  const finished = (sessionId: bigint) => finishedSession(net, sessionId, plugIn);

  // A: settles by its session-end record; B: the driver disappears mid-session (live tail); C: nobody closes;
  // D: a session that costs more than its cap (charged the cap, nothing comes back).
  const settled = freshSession();
  const lockA = await lockFor(settled, 20_000_000n);
  await record("lock, fee 0", 1, async () => Number((await submitLock(pool, lockA, cpo)).gasUsed), "CPO submits");
  await checked(lockA, settled.sessionId, 20_000_000n);
  const disputedSession = freshSession();
  const disputed = net.meter.startSession({
    sessionId: disputedSession.sessionId,
    tariff: net.tariff,
    t: plugIn,
    e: 5_000_000n,
  });
  const lockB = await lockFor(disputedSession, 15_000_000n, 10_000n);
  await record(
    "lock + relayer fee",
    1,
    async () => Number((await submitLock(pool, lockB, relayer)).gasUsed),
    "relayer submits",
  );
  await checked(lockB, disputed.sessionId, 15_000_000n);
  const abandoned = freshSession();
  const lockC = await lockFor(abandoned, 10_000_000n);
  await submitLock(pool, lockC, relayer);
  const overCap = freshSession();
  const lockD = await lockFor(overCap, 5_000_000n);
  await submitLock(pool, lockD, relayer);

  const liveTail = simulateCharging(disputed, { to: plugIn + 40n * 60n, powerW: 11_000n, stepSeconds: 300n })
    .filter((r): r is LiveTail => r.kind === "live")
    .at(-1)!;
  await networkHelpers.time.increaseTo(plugIn + 71n * 60n);

  let closeA: Closing | undefined;
  await record(
    "close mode 0 (session-end record)",
    1,
    async () => {
      const { closing, receipt } = await net.operator.close(lockA.escrowId, finished(settled.sessionId));
      closeA = closing;
      return Number(receipt.gasUsed);
    },
    "CPO submits; bill < cap: refund note inserted",
  );
  proveMs.push(closeA!.proveMs);
  if (closeA!.pub.amount >= lockA.pub.cap) throw new Error("bench: escrow A's bill should be below its cap");

  const sessionD = finished(overCap.sessionId);
  const closeD = await prepareClose(pool, lockD.escrowId, sessionD, (await net.operator.receipt(sessionD)).meterPath);
  proveMs.push(closeD.proveMs);
  if (closeD.pub.amount !== lockD.pub.cap) throw new Error("bench: escrow D's bill should exceed its cap");
  await record(
    "close mode 0, bill >= cap",
    0,
    async () => Number((await submitClose(pool, closeD, other)).gasUsed),
    "another account submits (mode 0 checks no sender); charged the cap, no refund note",
  );

  await networkHelpers.time.increaseTo(settleDeadline + 1n);
  const evidence = disputed.evidence(liveTail);
  const closeB = await prepareClose(pool, lockB.escrowId, evidence, (await net.operator.receipt(evidence)).meterPath);
  proveMs.push(closeB.proveMs);
  await record(
    "close mode 1 (live tail)",
    1,
    async () => Number((await submitClose(pool, closeB, cpo)).gasUsed),
    "CPO submits after the settle deadline; bill < cap",
  );

  await networkHelpers.time.increaseTo(claimDeadline + 1n);
  await record(
    "refund",
    1,
    async () => Number((await driver.refund(lockC.escrowId, other)).gasUsed),
    "another account, after the claim deadline; full cap back",
  );

  for (const [lock, status] of [
    [lockA, EscrowStatus.Closed],
    [lockB, EscrowStatus.Closed],
    [lockC, EscrowStatus.Refunded],
    [lockD, EscrowStatus.Closed],
  ] as const) {
    if ((await readEscrow(pool, lock.escrowId)).status !== status)
      throw new Error("bench: escrow ended in the wrong status");
  }
  return { rows, lockA, closeA: closeA! };
}

// ------------------------------------------------------------------ registry operations

async function registryOps(net: Network): Promise<GasRow[]> {
  const { registry, pool } = net.deployment;
  const admin: Signer = net.signers.deployer;
  const rows: GasRow[] = [];
  const reg = (await (await registry.connect(admin).registerCpo(await admin.getAddress())).wait())!;
  rows.push({ op: "registerCpo", gas: Number(reg.gasUsed), note: "2nd CPO of the registry" });
  const event = reg.logs.map((l) => registry.interface.parseLog(l)).find((e) => e?.name === "CpoRegistered");
  const cpoId = event!.args.getValue("cpoId") as bigint;
  const op = new Operator({ cpoId, registry, pool, signer: admin });
  const meters = [0, 1, 2].map(() => new Meter({ cpoId, ratedPowerW: 22_000n }));
  for (const [i, meter] of meters.entries()) {
    const r = await op.addMeter(meter);
    if (i < 2) rows.push({ op: "addMeter", gas: Number(r.gasUsed), note: `meter tree ${i} -> ${i + 1}` });
  }
  const now = BigInt((await registry.runner!.provider!.getBlock("latest"))!.timestamp);
  const tariff = { ...demoTariff(now + 60n), cpoId };
  rows.push({
    op: "publishTariff",
    gas: await gasOf(registry.connect(admin).publishTariff(toTariffStruct(tariff))),
    note: "hash recomputed on-chain",
  });
  rows.push({
    op: "revokeMeter",
    gas: Number((await op.revokeMeter(meters[1]!.leaf)).gasUsed),
    note: "meter 1 of 3 (2 siblings)",
  });
  return rows;
}

// ------------------------------------------------------------------ verifier cost

async function verifierGas(
  ethers: HardhatEthers,
  net: Network,
  circuit: Circuit,
  proof: { a: [bigint, bigint]; b: [[bigint, bigint], [bigint, bigint]]; c: [bigint, bigint] },
  signals: bigint[],
): Promise<VerifierGas> {
  const verifier = {
    pay: net.deployment.payVerifier,
    transact: net.deployment.transactVerifier,
    lock: net.deployment.lockVerifier,
    close: net.deployment.closeVerifier,
  }[circuit];
  const args = [proof.a, proof.b, proof.c, signals] as const;
  if (!(await verifier.getFunction("verifyProof").staticCall(...args)))
    throw new Error(`${circuit}Verifier rejects the proof`);
  const to = await verifier.getAddress();
  const data = verifier.interface.encodeFunctionData("verifyProof", [...args]);
  const from = net.signers.deployer;
  const estimate = Number(await ethers.provider.estimateGas({ from: await from.getAddress(), to, data }));
  const used = Number((await (await from.sendTransaction({ to, data })).wait())!.gasUsed);
  const intrinsic = intrinsicGas(data);
  return {
    circuit,
    publicInputs: signals.length,
    calldataBytes: getBytes(data).length,
    intrinsic,
    estimateGas: estimate,
    execution: estimate - intrinsic,
    executionUsed: used - intrinsic,
  };
}

// ------------------------------------------------------------------ mature pool

/** The Pool of a second chain's deployment, whose tree storage we move with hardhat_setStorageAt. */
class MaturePool {
  readonly pool: Pool;
  readonly #ethers: HardhatEthers;
  readonly #address: string;
  #sizeSlot = -1;

  constructor(ethers: HardhatEthers, pool: Pool, address: string) {
    this.#ethers = ethers;
    this.pool = pool;
    this.#address = address;
  }

  async #get(slot: bigint | number): Promise<bigint> {
    return BigInt(await this.#ethers.provider.getStorage(this.#address, slot));
  }

  async #set(slot: bigint | number, value: bigint): Promise<void> {
    await this.#ethers.provider.send("hardhat_setStorageAt", [this.#address, toBeHex(slot), toBeHex(value, 32)]);
  }

  /** After a first deposit (size 1): finds the size slot by writing a candidate and reading `noteTreeSize()`. */
  async locateTree(): Promise<void> {
    for (let s = 0; s < 64 && this.#sizeSlot < 0; s++) {
      if ((await this.#get(s)) !== 1n) continue;
      await this.#set(s, 12_345n);
      if ((await this.pool.noteTreeSize()) === 12_345n) this.#sizeSlot = s;
      await this.#set(s, 1n);
    }
    if (this.#sizeSlot < 0) throw new Error("bench: Pool storage layout changed, tree size slot not found");
  }

  /** sideNodes[0..NOTE_TREE_DEPTH] then the 256-slot root ring follow the size (NoteTree.Data, Pool._rootHistory). */
  sideNodeSlot(level: number): number {
    return this.#sizeSlot + 1 + level;
  }

  ringSlot(size: bigint): number {
    return this.#sizeSlot + 1 + (NOTE_TREE_DEPTH + 1) + Number(size % 256n);
  }

  /** Pre-fills every side node and ring slot with a non-zero field element; checks the side-node layout. */
  async prefill(): Promise<void> {
    for (let l = 0; l <= NOTE_TREE_DEPTH; l++) await this.#set(this.sideNodeSlot(l), randomFieldElement() | 1n);
    for (let k = 0n; k < 256n; k++) await this.#set(this.ringSlot(k), randomFieldElement() | 1n);
    await this.setSize((1n << 20n) + 5n); // depth 21: root() = sideNodes[21]
    if ((await this.pool.noteRoot()) !== (await this.sideNode(21)))
      throw new Error("bench: NoteTree side-node layout changed");
  }

  async setSize(size: bigint): Promise<void> {
    await this.#set(this.#sizeSlot, size);
  }

  async sideNode(level: number): Promise<bigint> {
    return this.#get(this.sideNodeSlot(level));
  }

  /** Checks that the last insert recorded keccak256(root, size) in the ring slot we pre-filled. */
  async checkRing(): Promise<void> {
    const size = await this.pool.noteTreeSize();
    const key = keccak256(
      AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [await this.pool.noteRoot(), size]),
    );
    if ((await this.#get(this.ringSlot(size))) !== BigInt(key)) throw new Error("bench: root-history layout changed");
  }

  /** Gives `cpoId` a non-zero balance (a CPO with unwithdrawn earnings), backed by minted tokens. */
  async creditCpo(net: Network, cpoId: bigint): Promise<void> {
    const coder = AbiCoder.defaultAbiCoder();
    for (let m = this.#sizeSlot - 1; m >= 0; m--) {
      const slot = BigInt(keccak256(coder.encode(["uint256", "uint256"], [cpoId, m])));
      await this.#set(slot, 1n);
      if ((await this.pool.cpoBalance(cpoId)) === 1n) {
        await (await net.deployment.testToken!.mint(this.#address, 1n)).wait();
        return;
      }
      await this.#set(slot, 0n);
    }
    throw new Error("bench: Pool storage layout changed, cpoBalance slot not found");
  }
}

async function maturePool(chain: BenchChain, net: Network, proveMs: number[]) {
  const { ethers } = chain;
  const pool = net.deployment.pool;
  const poolAddress = await pool.getAddress();
  const m = new MaturePool(ethers, pool, poolAddress);
  const { payer, cpo } = net.signers;
  const token = net.deployment.token.connect(payer);
  const identity = DriverIdentity.random();
  const { chainId } = await ethers.provider.getNetwork();

  /** A deposit exactly as the SDK makes it (approve the value, then deposit with a real ciphertext). */
  const deposit = async (note: Note) => {
    await (await token.approve(poolAddress, note.value)).wait();
    return gasOf(
      pool.connect(payer).deposit(note.precommitment, note.value, hex(encryptNote(note, identity.encryptionPublicKey))),
    );
  };

  await deposit(Note.random(identity.commitment, 1_000_000n));
  await m.locateTree();
  await m.prefill();
  await m.creditCpo(net, net.operator.cpoId);

  // Part 2: deposit gas against the popcount of the leaf index, everything else equal.
  // A fresh note each time: re-writing the same leaf into sideNodes[0] would be a no-op SSTORE (100 gas, not 2.9k).
  const points: { leafIndex: number; popcount: number; gas: number }[] = [];
  for (let p = 1; p <= 20; p++) {
    const index = (1n << 20n) + ((1n << BigInt(p)) - 2n); // bits 1..p-1 and bit 20
    await m.setSize(index);
    points.push({
      leafIndex: Number(index),
      popcount: popcount(index),
      gas: await deposit(Note.random(identity.commitment, 1_000_000n)),
    });
    await m.checkRing();
  }
  const fit = linearFit(
    points.map((q) => q.popcount),
    points.map((q) => q.gas),
  );

  /** 0b1010...10: popcount depth/2, top bit depth-1 (the average index of a ~2^depth-leaf pool). */
  const averageIndex = (depth: number) => {
    let index = 0n;
    for (let b = 1; b < depth; b += 2) index |= 1n << BigInt(b);
    return index;
  };
  /**
   * A fresh 50 EUR note deposited at leaf `index - 1`, so the spend inserts at `index`; its path is the stored side
   * nodes (they stand for complete subtrees whose leaves are never needed).
   */
  const noteBelow = async (index: bigint) => {
    const noteIndex = index - 1n;
    await m.setSize(noteIndex);
    const siblings: bigint[] = [];
    for (let l = 0; l < NOTE_TREE_DEPTH; l++) siblings.push((noteIndex >> BigInt(l)) & 1n ? await m.sideNode(l) : 0n);
    const note = Note.random(identity.commitment, 50_000_000n);
    const gas = await deposit(note);
    const notePath: MerklePath = { leaf: note.commitment, leafIndex: noteIndex, treeSize: index, siblings };
    if (rootFromPath(notePath) !== (await pool.noteRoot()))
      throw new Error("bench: note path does not match the mature pool's root");
    return { note, notePath, gas, noteIndex };
  };

  // Part 3: real pays at average-popcount indices of 10-, 20- and 24-bit trees.
  const rows: GasRow[] = [];
  const measured: { depth: number; leafIndex: number; gas: number }[] = [];
  for (const depth of [10, 20, 24]) {
    const index = averageIndex(depth);
    const { note, notePath, gas: depositGas, noteIndex } = await noteBelow(index);
    rows.push({
      op: `deposit @ 2^${depth}-leaf pool`,
      gas: depositGas,
      treeSize: Number(noteIndex),
      leaves: [Number(noteIndex)],
    });

    const { session, meterPath } = await net.operator.receipt(chargeSession(net.meter, net.tariff, net.now));
    const amount = computeBill(session.points, session.tariff, session.ratedPowerW).amount;
    const changeBlinding = randomFieldElement();
    const change = new Note(note.value - amount, changeBlinding, identity.commitment);
    const ext = {
      recipient: ZeroAddress,
      relayer: ZeroAddress,
      extAmount: 0n,
      encryptedOutput1: hex(encryptNote(change, identity.encryptionPublicKey)),
      encryptedOutput2: "0x",
    };
    const w = buildPayWitness({
      secretScalar: identity.secretScalar,
      note,
      notePath,
      session,
      meterPath,
      fee: 0n,
      changeBlinding,
      extDataHash: extDataHash({ chainId, pool: poolAddress, ...ext }),
    });
    const proof = await generateProof("pay", w.input);
    proveMs.push(proof.proveMs);
    const gas = await gasOf(pool.connect(cpo).pay(proof.calldata, w.publicSignals, ext));
    await m.checkRing();
    rows.push({ op: `pay, fee 0 @ 2^${depth}-leaf pool`, gas, treeSize: Number(index), leaves: [Number(index)] });
    measured.push({ depth, leafIndex: Number(index), gas });
  }
  const anchor = measured[0]!;
  const projection: PayProjection[] = measured.map((q) => ({
    depth: q.depth,
    leafIndex: q.leafIndex,
    popcount: popcount(q.leafIndex),
    projected: anchor.gas + fit.slope * (q.depth / 2 - popcount(anchor.leafIndex)),
    measured: q.gas,
  }));

  // Part 4 on the mature pool: lock, close (mode 0) and refund at the 2^20 average index, CPO balance non-zero.
  const escrowRows: GasRow[] = [];
  const escrowDepth = 20;
  const index = averageIndex(escrowDepth);
  const { plugIn, settleDeadline, claimDeadline } = escrowTimes(net, await latestTime(ethers));
  const lockAt = async (session: BenchSession, cap: bigint) => {
    const { note, notePath } = await noteBelow(index);
    const changeBlinding = randomFieldElement();
    const refundBlinding = randomFieldElement();
    const ext = {
      recipient: ZeroAddress,
      relayer: ZeroAddress,
      extAmount: 0n,
      encryptedOutput1: hex(
        encryptNote(new Note(note.value - cap, changeBlinding, identity.commitment), identity.encryptionPublicKey),
      ),
      encryptedOutput2: hex(
        encryptNote(new Note(cap, refundBlinding, identity.commitment), identity.encryptionPublicKey),
      ),
    };
    const w = buildLockWitness({
      secretScalar: identity.secretScalar,
      note,
      notePath,
      cap,
      fee: 0n,
      cpoId: net.operator.cpoId,
      ...session,
      settleDeadline,
      claimDeadline,
      changeBlinding,
      refundBlinding,
      extDataHash: extDataHash({ chainId, pool: poolAddress, ...ext }),
    });
    const proof = await generateProof("lock", w.input);
    proveMs.push(proof.proveMs);
    const gas = await gasOf(pool.connect(cpo).lock(proof.calldata, w.publicSignals, ext));
    await m.checkRing();
    return { gas, escrowId: w.publicSignals.nullifier };
  };
  const at = { treeSize: Number(index), leaves: [Number(index)] };
  const settled = freshSession();
  const lockA = await lockAt(settled, 20_000_000n);
  escrowRows.push({ op: `lock, fee 0 @ 2^${escrowDepth}-leaf pool`, gas: lockA.gas, ...at, note: "CPO submits" });
  const lockC = await lockAt(freshSession(), 10_000_000n);
  await m.setSize(index);
  const closed = await net.operator.close(lockA.escrowId, finishedSession(net, settled.sessionId, plugIn));
  proveMs.push(closed.closing.proveMs);
  if (closed.closing.pub.amount >= 20_000_000n)
    throw new Error("bench: the mature escrow's bill should be below its cap");
  await m.checkRing();
  escrowRows.push({
    op: `close mode 0 @ 2^${escrowDepth}-leaf pool`,
    gas: Number(closed.receipt.gasUsed),
    ...at,
    note: "CPO submits; refund note inserted",
  });
  await chain.networkHelpers.time.increaseTo(claimDeadline + 1n);
  await m.setSize(index);
  escrowRows.push({
    op: `refund @ 2^${escrowDepth}-leaf pool`,
    gas: await gasOf(pool.connect(net.signers.other).refund(lockC.escrowId)),
    ...at,
    note: "another account, after the claim deadline",
  });
  await m.checkRing();
  return { rows, fit: { ...fit, points }, projection, escrowRows };
}

// ------------------------------------------------------------------ all of it

/**
 * @param chain a fresh in-process chain for the SDK flow, the escrows, the registry and the verifiers
 * @param matureChain a second fresh chain whose pool's tree storage is moved (parts 2, 3 and 4)
 */
export async function measureGas(chain: BenchChain, matureChain: BenchChain): Promise<GasResults> {
  const { ethers } = chain;
  const proveMs: number[] = [];
  const net = await setUpNetwork(ethers);
  const registry = await registryOps(net);
  const young = await youngPool(ethers, net, proveMs);
  const escrow = await youngEscrows(chain, net, young.driver, proveMs);
  // After the escrows: the pool still holds the driver's notes, so the withdrawal does not empty its token balance
  // (which would add a 4.8k clearing refund, as a CPO withdrawing from an otherwise empty pool gets).
  young.rows.push({
    op: "CPO withdraw",
    gas: Number((await net.operator.withdraw()).gasUsed),
    note: "to its payout (pool not emptied)",
  });
  const verifiers = [
    await verifierGas(ethers, net, "pay", young.lastPay.proof, paySignalArray(young.lastPay.pub)),
    await verifierGas(ethers, net, "transact", young.withdrawal.proof, transactSignalArray(young.withdrawal.pub)),
    await verifierGas(ethers, net, "lock", escrow.lockA.proof, lockSignalArray(escrow.lockA.pub)),
    await verifierGas(ethers, net, "close", escrow.closeA.proof, closeSignalArray(escrow.closeA.pub)),
  ];
  const mature = await maturePool(matureChain, await setUpNetwork(matureChain.ethers), proveMs);
  return {
    young: young.rows,
    escrow: escrow.rows,
    registry,
    verifiers,
    perHash: mature.fit,
    mature: mature.rows,
    matureEscrow: mature.escrowRows,
    projection: mature.projection,
    proveMs,
  };
}
