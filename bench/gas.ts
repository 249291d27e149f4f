/**
 * Gas of every zkcharge operation on an in-process Hardhat chain, with real Groth16 proofs.
 *
 * Three parts:
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
 * Verifier cost: `estimateGas` of `verifyProof(a, b, c, signals)` with the real proof, minus the transaction's
 * intrinsic gas for the same calldata (21000 + 16 per non-zero byte + 4 per zero byte, EIP-2028). The chain runs
 * Prague, where EIP-7623 floors a call's gas at 21000 + 40 per non-zero byte; a plain call to a code-less
 * address with the same calldata is therefore priced at the floor and would understate the verifier, while the
 * verifier call itself is far above the floor, so its intrinsic part is the EIP-2028 one. The gasUsed of the
 * same call sent as a transaction is reported next to it.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { AbiCoder, ZeroAddress, getBytes, keccak256, toBeHex, type ContractTransactionReceipt, type Signer } from "ethers";
import { generateProof } from "../prover/index.ts";
import { buildPayWitness } from "../prover/payInput.ts";
import { paySignalArray, transactSignalArray } from "../prover/publicSignals.ts";
import { toTariffStruct } from "../sdk/chain.ts";
import { NOTE_TREE_DEPTH } from "../sdk/constants.ts";
import { Driver, submitTransaction } from "../sdk/driver.ts";
import { encryptNote } from "../sdk/encryption.ts";
import { randomFieldElement } from "../sdk/field.ts";
import { extDataHash } from "../sdk/hash.ts";
import { DriverIdentity } from "../sdk/identity.ts";
import { Meter } from "../sdk/meter.ts";
import { Note } from "../sdk/note.ts";
import { Operator } from "../sdk/operator.ts";
import { computeBill } from "../sdk/tariff.ts";
import { rootFromPath, type MerklePath } from "../sdk/tree.ts";
import type { Pool } from "../types/ethers-contracts/index.js";
import { chargeSession, demoTariff, setUpNetwork, type Network } from "../test/fixtures/chain.ts";
import { linearFit, popcount, type LinearFit } from "./stats.ts";

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

/** The verifier's own cost. */
export interface VerifierGas {
  circuit: "pay" | "transact";
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
  const size = async () => Number(await pool.noteTreeSize());
  const record = async (op: string, inserts: number, run: () => Promise<number>, note?: string) => {
    const treeSize = await size();
    const gas = await run();
    rows.push({ op, gas, treeSize, leaves: Array.from({ length: inserts }, (_, k) => treeSize + k), note });
  };
  const driver = new Driver(DriverIdentity.random(), pool.connect(ethers.provider));
  const pay = async (fee: bigint) => {
    const receipt = await net.operator.receipt(chargeSession(net.meter, net.tariff, net.now));
    const p = await driver.preparePayment(fee > 0n ? { ...receipt, fee, relayer: relayerAddress } : receipt);
    proveMs.push(p.proveMs);
    await net.operator.checkPayment(p, receipt.session);
    return p;
  };

  await record("deposit (pool's first)", 1, async () => Number((await driver.deposit(50_000_000n, payer)).receipt.gasUsed),
    "SDK deposit (exact approve)");
  let p = await pay(0n);
  await record("pay, fee 0 (CPO's first credit)", 1, async () => Number((await net.operator.submitPayment(p)).gasUsed), "CPO submits");
  p = await pay(10_000n);
  await record("pay + relayer fee", 1, () => gasOf(pool.connect(relayer).pay(p.proof, p.pub, p.ext)), "relayer submits");
  const lastPay = await pay(0n);
  await record("pay, fee 0", 1, async () => Number((await net.operator.submitPayment(lastPay)).gasUsed), "CPO submits");
  await record("deposit", 1, async () => Number((await driver.deposit(3_000_000n, payer)).receipt.gasUsed), "SDK deposit (exact approve)");
  const merge = await driver.prepareMerge();
  proveMs.push(merge.proveMs);
  await record("transact merge (2 notes -> 1, fee 0)", 2, async () => Number((await submitTransaction(pool, merge, relayer)).gasUsed),
    "relayer submits");
  const fresh = ethers.Wallet.createRandom().address;
  const withdrawal = await driver.prepareWithdraw({ to: fresh, relayer: relayerAddress, fee: 20_000n });
  proveMs.push(withdrawal.proveMs);
  await record("transact withdraw + relayer fee", 2, async () => Number((await submitTransaction(pool, withdrawal, relayer)).gasUsed),
    "to a fresh address");
  rows.push({ op: "CPO withdraw", gas: Number((await net.operator.withdraw()).gasUsed), note: "to its payout" });
  return { rows, lastPay, withdrawal };
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
  rows.push({ op: "publishTariff", gas: await gasOf(registry.connect(admin).publishTariff(toTariffStruct(tariff))), note: "hash recomputed on-chain" });
  rows.push({ op: "revokeMeter", gas: Number((await op.revokeMeter(meters[1]!.leaf)).gasUsed), note: "meter 1 of 3 (2 siblings)" });
  return rows;
}

// ------------------------------------------------------------------ verifier cost

async function verifierGas(
  ethers: HardhatEthers,
  net: Network,
  circuit: "pay" | "transact",
  proof: { a: [bigint, bigint]; b: [[bigint, bigint], [bigint, bigint]]; c: [bigint, bigint] },
  signals: bigint[],
): Promise<VerifierGas> {
  const verifier = circuit === "pay" ? net.deployment.payVerifier : net.deployment.transactVerifier;
  const args = [proof.a, proof.b, proof.c, signals] as const;
  if (!(await verifier.getFunction("verifyProof").staticCall(...args))) throw new Error(`${circuit}Verifier rejects the proof`);
  const to = await verifier.getAddress();
  const data = verifier.interface.encodeFunctionData("verifyProof", [...args]);
  const from = net.signers.deployer;
  const estimate = Number(await ethers.provider.estimateGas({ from: await from.getAddress(), to, data }));
  const used = Number((await (await from.sendTransaction({ to, data })).wait())!.gasUsed);
  const intrinsic = intrinsicGas(data);
  return {
    circuit, publicInputs: signals.length, calldataBytes: getBytes(data).length, intrinsic,
    estimateGas: estimate, execution: estimate - intrinsic, executionUsed: used - intrinsic,
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
    if ((await this.pool.noteRoot()) !== (await this.sideNode(21))) throw new Error("bench: NoteTree side-node layout changed");
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
    const key = keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [await this.pool.noteRoot(), size]));
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

async function maturePool(ethers: HardhatEthers, net: Network, proveMs: number[]) {
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
    return gasOf(pool.connect(payer).deposit(note.precommitment, note.value, hex(encryptNote(note, identity.encryptionPublicKey))));
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
    points.push({ leafIndex: Number(index), popcount: popcount(index), gas: await deposit(Note.random(identity.commitment, 1_000_000n)) });
    await m.checkRing();
  }
  const fit = linearFit(points.map((q) => q.popcount), points.map((q) => q.gas));

  // Part 3: real pays at average-popcount indices of 10-, 20- and 24-bit trees.
  const rows: GasRow[] = [];
  const measured: { depth: number; leafIndex: number; gas: number }[] = [];
  for (const depth of [10, 20, 24]) {
    let index = 0n;
    for (let b = 1; b < depth; b += 2) index |= 1n << BigInt(b); // 0b1010...10: popcount depth/2, top bit depth-1
    const noteIndex = index - 1n;
    await m.setSize(noteIndex);
    const siblings: bigint[] = [];
    for (let l = 0; l < NOTE_TREE_DEPTH; l++) siblings.push((noteIndex >> BigInt(l)) & 1n ? await m.sideNode(l) : 0n);
    const note = Note.random(identity.commitment, 50_000_000n);
    rows.push({ op: `deposit @ 2^${depth}-leaf pool`, gas: await deposit(note), treeSize: Number(noteIndex), leaves: [Number(noteIndex)] });
    const notePath: MerklePath = { leaf: note.commitment, leafIndex: noteIndex, treeSize: index, siblings };
    if (rootFromPath(notePath) !== (await pool.noteRoot())) throw new Error("bench: note path does not match the mature pool's root");

    const { session, meterPath } = await net.operator.receipt(chargeSession(net.meter, net.tariff, net.now));
    const amount = computeBill(session.points, session.tariff, session.ratedPowerW).amount;
    const changeBlinding = randomFieldElement();
    const change = new Note(note.value - amount, changeBlinding, identity.commitment);
    const ext = {
      recipient: ZeroAddress, relayer: ZeroAddress, extAmount: 0n,
      encryptedOutput1: hex(encryptNote(change, identity.encryptionPublicKey)), encryptedOutput2: "0x",
    };
    const w = buildPayWitness({
      secretScalar: identity.secretScalar, note, notePath, session, meterPath, fee: 0n, changeBlinding,
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
  return { rows, fit: { ...fit, points }, projection };
}

// ------------------------------------------------------------------ all of it

/**
 * @param ethers a fresh in-process chain for the SDK flow, the registry and the verifiers
 * @param matureEthers a second fresh chain whose pool's tree storage is moved (parts 2 and 3)
 */
export async function measureGas(ethers: HardhatEthers, matureEthers: HardhatEthers): Promise<GasResults> {
  const proveMs: number[] = [];
  const net = await setUpNetwork(ethers);
  const registry = await registryOps(net);
  const young = await youngPool(ethers, net, proveMs);
  const verifiers = [
    await verifierGas(ethers, net, "pay", young.lastPay.proof, paySignalArray(young.lastPay.pub)),
    await verifierGas(ethers, net, "transact", young.withdrawal.proof, transactSignalArray(young.withdrawal.pub)),
  ];
  const mature = await maturePool(matureEthers, await setUpNetwork(matureEthers), proveMs);
  return {
    young: young.rows, registry, verifiers, perHash: mature.fit, mature: mature.rows,
    projection: mature.projection, proveMs,
  };
}
