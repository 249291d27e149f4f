/**
 * Pool: every check before the proof with dummy proofs against the real verifiers, and every effect after the
 * proof with real Groth16 proofs built by the SDK (Driver, Operator, prover) on this Hardhat chain.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, hexlify, randomBytes } from "ethers";
import type { ZkchargeDeployment } from "../../dev/deploy.ts";
import { Driver } from "../../sdk/actors/driver.ts";
import { extDataHash as sdkExtDataHash, meterLeaf, noteCommitment } from "../../sdk/core/hash.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import { Meter } from "../../sdk/meter/meter.ts";
import { type SignedSession } from "../../sdk/meter/record.ts";
import { Note } from "../../sdk/core/note.ts";
import { Operator } from "../../sdk/actors/operator.ts";
import type { Tariff } from "../../sdk/tariff/tariff.ts";
import { shutdownProver } from "../../prover/index.ts";
import { paySignalArray, transactSignalArray } from "../../sdk/proofs/publicSignals.ts";
import { HOUR, chargeSession, demoTariff, nextLocalTime, setUpNetwork } from "../fixtures/chain.ts";
import {
  MAX_VALUE,
  R,
  ZERO_PROOF,
  deployReal,
  extData,
  makeTariff,
  newTree,
  publicAmount,
  sdkHashOfTariff,
  type ExtDataValue,
  type PayPublicValue,
  type TransactPublicValue,
} from "./helpers.ts";
import { simulateCharging } from "../../sdk/meter/simulator.ts";

const { ethers, networkHelpers } = await network.create();
const { chainId } = await ethers.provider.getNetwork();

const MINT = 10n ** 15n;

/** Registers CPO 1 (admin = signer 0) and CPO 2 (admin = signer 1), each with one meter and one tariff. */
async function setupCpos(d: ZkchargeDeployment) {
  const [admin, other, payout, payout2] = await ethers.getSigners();
  await d.registry.connect(admin).registerCpo(payout.address);
  await d.registry.connect(other).registerCpo(payout2.address);
  await d.registry.connect(admin).addMeter(1n, 11n, 12n, 22_000n);
  await d.registry.connect(other).addMeter(2n, 21n, 22n, 11_000n);
  const meterRoot1 = meterLeaf(11n, 12n, 1n, 22_000n); // a one-leaf LeanIMT's root is its leaf
  const meterRoot2 = meterLeaf(21n, 22n, 2n, 11_000n);
  const validFrom = BigInt(await networkHelpers.time.latest()) + 100n;
  const t1 = makeTariff(1n, validFrom);
  const t2 = makeTariff(2n, validFrom);
  await d.registry.connect(admin).publishTariff(t1);
  await d.registry.connect(other).publishTariff(t2);
  return { meterRoot1, meterRoot2, tariff1: sdkHashOfTariff(t1), tariff2: sdkHashOfTariff(t2) };
}

/** Deposits `values` from `signer` (approving the pool) and returns the commitments. */
async function depositAll(d: ZkchargeDeployment, values: bigint[], signerIndex = 2) {
  const signer = (await ethers.getSigners())[signerIndex]!;
  const pool = await d.pool.getAddress();
  await d.testToken!.mint(signer.address, MINT);
  await d.testToken!.connect(signer).approve(pool, MINT);
  const commitments: bigint[] = [];
  for (const [i, v] of values.entries()) {
    const P = 1_000_000n + BigInt(i);
    await d.pool.connect(signer).deposit(P, v, "0x");
    commitments.push(noteCommitment(P, v));
  }
  return commitments;
}

function hashExt(pool: string, ext: ExtDataValue): bigint {
  return sdkExtDataHash({ chainId, pool, ...ext });
}

describe("Pool", function () {
  after(shutdownProver);

  /** Two CPOs with a meter and a tariff each, and three deposits (not spendable notes: for the checks before the proof). */
  async function realFixture() {
    const d = await deployReal(ethers);
    const cpos = await setupCpos(d);
    const leaves = await depositAll(d, [5_000_000n, 7_000_000n, 9_000_000n]);
    const poolAddress = await d.pool.getAddress();
    const [, , driver, relayer, stranger, recipient] = await ethers.getSigners();
    return {
      ...d,
      ...cpos,
      leaves,
      poolAddress,
      driver: driver!,
      relayer: relayer!,
      stranger: stranger!,
      recipient: recipient!,
    };
  }
  /** loadFixture returns the same objects each time: give every test its own copy of the note tree. */
  async function load(fx: typeof realFixture) {
    const f = await networkHelpers.loadFixture(fx);
    const tree = newTree();
    for (const leaf of f.leaves) tree.insert(leaf);
    return { ...f, tree };
  }

  type Fixture = Awaited<ReturnType<typeof load>>;

  /** A pay whose every check before the proof passes. */
  function validPay(f: Fixture, over: Partial<PayPublicValue> = {}, extOver: Partial<ExtDataValue> = {}) {
    const ext = extData({ relayer: f.relayer.address, encryptedOutput1: "0xc0ffee", ...extOver });
    const pub: PayPublicValue = {
      noteRoot: f.tree.root,
      noteTreeSize: BigInt(f.tree.size),
      nullifier: 777n,
      changeCommitment: 888n,
      meterRoot: f.meterRoot1,
      cpoId: 1n,
      tariffHash: f.tariff1,
      sessionId: 999n,
      amount: 1_234_567n,
      fee: 10_000n,
      extDataHash: hashExt(f.poolAddress, ext),
      ...over,
    };
    return { pub, ext };
  }

  /** A transact whose every check before the proof passes. */
  function validTransact(
    f: Fixture,
    fee: bigint,
    over: Partial<TransactPublicValue> = {},
    extOver: Partial<ExtDataValue> = {},
  ) {
    const ext = extData({
      relayer: f.relayer.address,
      recipient: f.recipient.address,
      extAmount: -2_000_000n,
      encryptedOutput1: "0x01",
      encryptedOutput2: "0x0202",
      ...extOver,
    });
    const pub: TransactPublicValue = {
      noteRoot: f.tree.root,
      noteTreeSize: BigInt(f.tree.size),
      inputNullifiers: [101n, 102n],
      outputCommitments: [201n, 202n],
      publicAmount: publicAmount(ext.extAmount, fee),
      extDataHash: hashExt(f.poolAddress, ext),
      ...over,
    };
    return { pub, ext };
  }

  describe("deployment", function () {
    it("rejects zero addresses and exposes its wiring", async function () {
      const f = await load(realFixture);
      // The constructor arguments, read back through the getter of the same name (`token_` -> `token()`).
      const inputs = f.pool.interface.deploy.inputs;
      const args = await Promise.all(
        inputs.map(async (input) => (await f.pool.getFunction(input.name.replace(/_$/, ""))()) as string),
      );
      expect(args.slice(0, 4)).to.deep.equal([
        f.addresses.token,
        f.addresses.registry,
        f.addresses.payVerifier,
        f.addresses.transactVerifier,
      ]);
      const libraries = { PoseidonT3: f.addresses.poseidon.PoseidonT3, PoseidonT4: f.addresses.poseidon.PoseidonT4 };
      for (let i = 0; i < args.length; i++) {
        const bad = [...args];
        bad[i] = ZeroAddress;
        await expect(ethers.deployContract("Pool", bad, { libraries })).to.be.revertedWithCustomError(
          f.pool,
          "Pool__ZeroAddress",
        );
      }
      expect(await f.token.decimals()).to.equal(6n);
    });
  });

  describe("deposit", function () {
    it("computes C = H3(TAG_NOTE, P, value), emits Deposited and NoteAdded, records the root", async function () {
      const f = await load(realFixture);
      const P = 424242n;
      const value = 3_000_000n;
      const C = noteCommitment(P, value);
      const opening = hexlify(randomBytes(72));
      const tx = f.pool.connect(f.driver).deposit(P, value, opening);
      await expect(tx).to.emit(f.pool, "Deposited").withArgs(f.driver.address, P, value);
      await expect(tx).to.emit(f.pool, "NoteAdded").withArgs(3n, C, opening);
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.driver, f.pool], [-value, value]);
      f.tree.insert(C);
      expect(await f.pool.noteRoot()).to.equal(f.tree.root);
      expect(await f.pool.noteTreeSize()).to.equal(4n);
      expect(await f.pool.isKnownRoot(f.tree.root, 4n)).to.equal(true);
      expect(await f.pool.isKnownRoot(f.tree.root, 3n)).to.equal(false);
    });

    it("builds the same LeanIMT as @zk-kit/lean-imt across depth changes", async function () {
      const f = await load(realFixture);
      await f.testToken!.mint(f.driver.address, MINT);
      await f.testToken!.connect(f.driver).approve(f.poolAddress, MINT);
      for (let i = 0n; i < 70n; i++) {
        await f.pool.connect(f.driver).deposit(5n + i, 1n + i, "0x");
        f.tree.insert(noteCommitment(5n + i, 1n + i));
        expect(await f.pool.noteRoot()).to.equal(f.tree.root, `root after ${f.tree.size} leaves`);
        expect(await f.pool.isKnownRoot(f.tree.root, BigInt(f.tree.size))).to.equal(true);
      }
    });

    it("accepts the same note twice (the nullifier binds the index)", async function () {
      const f = await load(realFixture);
      const C = noteCommitment(1_000_000n, 5_000_000n); // the fixture's first deposit
      await expect(f.pool.connect(f.driver).deposit(1_000_000n, 5_000_000n, "0x"))
        .to.emit(f.pool, "NoteAdded")
        .withArgs(3n, C, "0x");
    });

    it("bounds the value to 1..2^64-1 and the precommitment below r", async function () {
      const f = await load(realFixture);
      await f.testToken!.mint(f.driver.address, MAX_VALUE);
      await f.testToken!.connect(f.driver).approve(f.poolAddress, 2n * MAX_VALUE);
      const pool = f.pool.connect(f.driver);
      await expect(pool.deposit(1n, 0n, "0x")).to.be.revertedWithCustomError(pool, "Pool__AmountOutOfRange");
      await expect(pool.deposit(1n, MAX_VALUE + 1n, "0x")).to.be.revertedWithCustomError(
        pool,
        "Pool__AmountOutOfRange",
      );
      await expect(pool.deposit(R, 1n, "0x")).to.be.revertedWithCustomError(pool, "Pool__NotInField");
      await expect(pool.deposit(R - 1n, 1n, "0x")).to.emit(pool, "Deposited");
      await expect(pool.deposit(2n, MAX_VALUE, "0x")).to.emit(pool, "Deposited");
    });

    it("fails without allowance", async function () {
      const f = await load(realFixture);
      await expect(f.pool.connect(f.stranger).deposit(1n, 1n, "0x")).to.be.revertedWithCustomError(
        f.testToken!,
        "ERC20InsufficientAllowance",
      );
    });

    it("rejects a fee-on-transfer token", async function () {
      const fot = await ethers.deployContract("FeeOnTransferToken");
      const d = await deployReal(ethers, { token: await fot.getAddress() });
      const [signer] = await ethers.getSigners();
      await fot.mint(signer!.address, 1_000_000n);
      await fot.approve(d.addresses.pool, 1_000_000n);
      await expect(d.pool.deposit(1n, 1_000_000n, "0x")).to.be.revertedWithCustomError(
        d.pool,
        "Pool__TransferAmountMismatch",
      );
      expect(d.testToken).to.equal(null);
    });

    it("is guarded against reentrancy from the token", async function () {
      const token = await ethers.deployContract("ReentrantToken");
      const d = await deployReal(ethers, { token: await token.getAddress() });
      const [signer] = await ethers.getSigners();
      await token.mint(signer!.address, 10n ** 12n);
      await token.mint(d.addresses.pool, 10n ** 6n);
      await token.approve(d.addresses.pool, 10n ** 12n);
      await token.arm(d.addresses.pool, d.pool.interface.encodeFunctionData("deposit", [1n, 1n, "0x"]));
      await expect(d.pool.deposit(2n, 1n, "0x")).to.be.revertedWithCustomError(d.pool, "ReentrancyGuardReentrantCall");
      // Disarmed, the same token works.
      await token.arm(ZeroAddress, "0x");
      await expect(d.pool.deposit(2n, 1n, "0x")).to.emit(d.pool, "Deposited");
    });
  });

  describe("root history", function () {
    it("accepts a root while fewer than 256 leaves were added after it", async function () {
      const f = await load(realFixture);
      const root = f.tree.root;
      const size = BigInt(f.tree.size);
      expect(await f.pool.isKnownRoot(0n, 0n)).to.equal(false);
      expect(await f.pool.isKnownRoot(root, 0n)).to.equal(false);
      expect(await f.pool.isKnownRoot(root, size + 1n)).to.equal(false);
      expect(await f.pool.isKnownRoot(root, (1n << 256n) - 1n)).to.equal(false);
      await f.testToken!.mint(f.driver.address, MINT);
      await f.testToken!.connect(f.driver).approve(f.poolAddress, MINT);
      for (let i = 0n; i < 255n; i++) await f.pool.connect(f.driver).deposit(10n + i, 1n, "0x");
      expect(await f.pool.isKnownRoot(root, size)).to.equal(true);
      // The ring slot of `size` now waits for size + 256: nothing else matches it.
      expect(await f.pool.isKnownRoot(await f.pool.noteRoot(), size)).to.equal(false);
      await f.pool.connect(f.driver).deposit(9n, 1n, "0x");
      expect(await f.pool.isKnownRoot(root, size)).to.equal(false);

      const { pub, ext } = validPay(f, { noteRoot: root, noteTreeSize: size });
      await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__UnknownRoot");
    });
  });

  describe("pay: checks before the proof", function () {
    it("hashes ext data like the SDK", async function () {
      const f = await load(realFixture);
      const ext = extData({
        recipient: f.recipient.address,
        relayer: f.relayer.address,
        extAmount: -5n,
        encryptedOutput1: hexlify(randomBytes(100)),
        encryptedOutput2: "0x1234",
      });
      expect(await f.pool.hashExtData(ext)).to.equal(hashExt(f.poolAddress, ext));
    });

    it("refuses an unknown root or a root with the wrong size", async function () {
      const f = await load(realFixture);
      for (const over of [
        { noteRoot: 5n },
        { noteTreeSize: 2n },
        { noteTreeSize: 4n },
        { noteRoot: 0n, noteTreeSize: 0n },
      ]) {
        const { pub, ext } = validPay(f, over);
        await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__UnknownRoot");
      }
    });

    it("refuses a meter root that is not valid for that CPO now", async function () {
      const f = await load(realFixture);
      for (const over of [{ meterRoot: 1n }, { meterRoot: f.meterRoot2 }, { meterRoot: 0n }]) {
        const { pub, ext } = validPay(f, over);
        await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__InvalidMeterRoot");
      }
      // Revocation of the CPO's (only) meter: the old root is refused.
      await f.registry.revokeMeter(1n, f.meterRoot1, []);
      const { pub, ext } = validPay(f);
      await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__InvalidMeterRoot");
      // An unknown CPO has no valid root.
      const unknown = validPay(f, { cpoId: 9n });
      await expect(f.pool.pay(ZERO_PROOF, unknown.pub, unknown.ext)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__InvalidMeterRoot",
      );
    });

    it("refuses an unknown tariff or another CPO's tariff", async function () {
      const f = await load(realFixture);
      for (const over of [{ tariffHash: 3n }, { tariffHash: f.tariff2 }, { tariffHash: 0n }]) {
        const { pub, ext } = validPay(f, over);
        await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__InvalidTariff");
      }
    });

    it("takes no external amount and no recipient", async function () {
      const f = await load(realFixture);
      for (const over of [{ extAmount: 1n }, { extAmount: -1n }, { recipient: f.recipient.address }]) {
        const { pub, ext } = validPay(f, {}, over);
        await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__InvalidExtData");
      }
    });

    it("needs a relayer for a non-zero fee", async function () {
      const f = await load(realFixture);
      const { pub, ext } = validPay(f, {}, { relayer: ZeroAddress });
      await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__RelayerRequired");
      // Fee 0 without relayer passes this check (and fails at the proof).
      const zero = validPay(f, { fee: 0n }, { relayer: ZeroAddress });
      await expect(f.pool.pay(ZERO_PROOF, zero.pub, zero.ext)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__InvalidProof",
      );
    });

    it("bounds amount and fee to 2^64-1", async function () {
      const f = await load(realFixture);
      for (const over of [{ amount: MAX_VALUE + 1n }, { fee: MAX_VALUE + 1n }, { amount: R - 1n }]) {
        const { pub, ext } = validPay(f, over);
        await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__AmountOutOfRange");
      }
    });

    it("binds the ext data through extDataHash", async function () {
      const f = await load(realFixture);
      const { pub, ext } = validPay(f);
      for (const changed of [
        { ...ext, encryptedOutput1: "0xc0fff0" },
        { ...ext, encryptedOutput2: "0x00" },
        { ...ext, relayer: f.stranger.address },
      ]) {
        await expect(f.pool.pay(ZERO_PROOF, pub, changed)).to.be.revertedWithCustomError(
          f.pool,
          "Pool__ExtDataHashMismatch",
        );
      }
      await expect(
        f.pool.pay(ZERO_PROOF, { ...pub, extDataHash: pub.extDataHash + R }, ext),
      ).to.be.revertedWithCustomError(f.pool, "Pool__ExtDataHashMismatch");
    });

    it("requires every public input below r", async function () {
      const f = await load(realFixture);
      for (const over of [
        { nullifier: R },
        { nullifier: R + 777n },
        { changeCommitment: R },
        { sessionId: (1n << 256n) - 1n },
      ]) {
        const { pub, ext } = validPay(f, over);
        await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__NotInField");
      }
      const { pub, ext } = validPay(f, { nullifier: R - 1n, changeCommitment: R - 1n, sessionId: R - 1n });
      await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__InvalidProof");
    });

    it("rejects an invalid proof with the real verifier", async function () {
      const f = await load(realFixture);
      const { pub, ext } = validPay(f);
      await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__InvalidProof");
      const proof: typeof ZERO_PROOF = {
        a: [1n, 2n],
        b: [
          [3n, 4n],
          [5n, 6n],
        ],
        c: [7n, 8n],
      };
      await expect(f.pool.pay(proof, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__InvalidProof");
    });
  });

  describe("transact: checks before the proof", function () {
    it("bounds |extAmount| and fee to 2^64-1", async function () {
      const f = await load(realFixture);
      const cases: [bigint, bigint][] = [
        [MAX_VALUE + 1n, 0n],
        [-(MAX_VALUE + 1n), 0n],
        [-(1n << 255n), 0n],
        [(1n << 255n) - 1n, 0n],
        [0n, MAX_VALUE + 1n],
      ];
      for (const [extAmount, fee] of cases) {
        const { pub, ext } = validTransact(f, 0n, { publicAmount: 0n }, { extAmount });
        await expect(f.pool.transact(ZERO_PROOF, pub, ext, fee)).to.be.revertedWithCustomError(
          f.pool,
          "Pool__AmountOutOfRange",
        );
      }
      for (const [extAmount, fee] of [
        [MAX_VALUE, 0n],
        [-MAX_VALUE, MAX_VALUE],
      ] as [bigint, bigint][]) {
        const { pub, ext } = validTransact(f, fee, {}, { extAmount });
        await expect(f.pool.transact(ZERO_PROOF, pub, ext, fee)).to.be.revertedWithCustomError(
          f.pool,
          "Pool__InvalidProof",
        );
      }
    });

    it("requires publicAmount = (extAmount - fee) mod r", async function () {
      const f = await load(realFixture);
      const fee = 5n;
      const { pub, ext } = validTransact(f, fee);
      for (const publicAmount_ of [(pub.publicAmount + 1n) % R, 0n, 2_000_005n /* the sign-flipped value */]) {
        await expect(
          f.pool.transact(ZERO_PROOF, { ...pub, publicAmount: publicAmount_ }, ext, fee),
        ).to.be.revertedWithCustomError(f.pool, "Pool__InvalidPublicAmount");
      }
      await expect(f.pool.transact(ZERO_PROOF, pub, ext, fee + 1n)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__InvalidPublicAmount",
      );
    });

    it("needs a recipient to withdraw and a relayer for a fee", async function () {
      const f = await load(realFixture);
      const a = validTransact(f, 0n, {}, { recipient: ZeroAddress });
      await expect(f.pool.transact(ZERO_PROOF, a.pub, a.ext, 0n)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__RecipientRequired",
      );
      const b = validTransact(f, 1n, {}, { relayer: ZeroAddress });
      await expect(f.pool.transact(ZERO_PROOF, b.pub, b.ext, 1n)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__RelayerRequired",
      );
    });

    it("requires distinct nullifiers and a known root", async function () {
      const f = await load(realFixture);
      const a = validTransact(f, 0n, { inputNullifiers: [5n, 5n] });
      await expect(f.pool.transact(ZERO_PROOF, a.pub, a.ext, 0n)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__DuplicateNullifier",
      );
      const b = validTransact(f, 0n, { noteTreeSize: 1n });
      await expect(f.pool.transact(ZERO_PROOF, b.pub, b.ext, 0n)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__UnknownRoot",
      );
    });

    it("binds the ext data, requires inputs below r and a valid proof", async function () {
      const f = await load(realFixture);
      const { pub, ext } = validTransact(f, 0n);
      await expect(
        f.pool.transact(ZERO_PROOF, pub, { ...ext, recipient: f.stranger.address }, 0n),
      ).to.be.revertedWithCustomError(f.pool, "Pool__ExtDataHashMismatch");
      for (const over of [
        { inputNullifiers: [R, 1n] },
        { outputCommitments: [1n, R] },
      ] as Partial<TransactPublicValue>[]) {
        await expect(f.pool.transact(ZERO_PROOF, { ...pub, ...over }, ext, 0n)).to.be.revertedWithCustomError(
          f.pool,
          "Pool__NotInField",
        );
      }
      await expect(f.pool.transact(ZERO_PROOF, pub, ext, 0n)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__InvalidProof",
      );
    });
  });

  describe("capacity", function () {
    it("holds at most 2^24 notes", async function () {
      const f = await load(realFixture);
      // Find the slot of the note tree size (3 leaves) and move it to the capacity edge.
      let slot = -1;
      for (let i = 0; i < 64 && slot < 0; i++) {
        if (BigInt(await ethers.provider.getStorage(f.poolAddress, i)) === 3n) slot = i;
      }
      expect(slot).to.be.greaterThan(-1);
      await networkHelpers.setStorageAt(f.poolAddress, slot, (1n << 24n) - 1n);
      expect(await f.pool.noteTreeSize()).to.equal((1n << 24n) - 1n);
      await expect(f.pool.connect(f.driver).deposit(1n, 1n, "0x"))
        .to.emit(f.pool, "NoteAdded")
        .withArgs((1n << 24n) - 1n, noteCommitment(1n, 1n), "0x");
      await expect(f.pool.connect(f.driver).deposit(2n, 1n, "0x")).to.be.revertedWithCustomError(
        f.pool,
        "Pool__TreeFull",
      );
    });
  });

  // ------------------------------------------------------------------ real proofs (SDK + prover)
  // Effects need real proofs; they come after every test of `realFixture` so that its snapshot never
  // invalidates theirs (each proof fixture is built once).

  /** A signed session of `id` on `meter`, from 16:30 local on the day after `after`, 70 minutes at `powerW`. */
  function sessionWithId(meter: Meter, tariff: Tariff, id: bigint, after: bigint, powerW = 7_000n): SignedSession {
    const start = nextLocalTime(after + HOUR, 16n * HOUR + 30n * 60n, tariff.tzOffset);
    const live = meter.startSession({ sessionId: id, tariff, t: start, e: 5_000_000n });
    const last = simulateCharging(live, { to: start + 70n * 60n, powerW, stepSeconds: 300n }).at(-1)!;
    return live.end(last.t, last.e);
  }

  /** A fresh driver wallet on `pool` (read-only: drivers never send). */
  function newDriver(d: ZkchargeDeployment): Driver {
    return new Driver(DriverIdentity.random(), d.pool.connect(ethers.provider));
  }

  /**
   * CPO 1 (setUpNetwork: admin = payout = signer 1) and CPO 2 (admin signer 6, payout signer 7), one note each for
   * alice (20 EUR), bob (15 EUR) and carol (10 EUR), and four pay proofs against the root of those three deposits:
   * - payA: alice pays session S at CPO 1 through a relayer (fee 0.01 EUR);
   * - payA2: alice pays another session S2 at CPO 1 from the same note (same nullifier as payA);
   * - payB: bob pays the same session S at CPO 1 from his own note;
   * - payC: carol pays a session at CPO 2 that carries S's id, without a relayer (fee 0).
   */
  async function paymentsFixture() {
    const net = await setUpNetwork(ethers);
    const d = net.deployment;
    const signers = await ethers.getSigners();
    const [admin2, payout2, stranger] = [signers[6]!, signers[7]!, signers[8]!];
    const cpo1 = net.operator;
    const cpo2 = await Operator.register({
      registry: d.registry,
      pool: d.pool,
      signer: admin2,
      payout: payout2.address,
    });
    const meter2 = new Meter({ cpoId: cpo2.cpoId, ratedPowerW: 11_000n });
    await cpo2.addMeter(meter2);
    const tariff2Fields = demoTariff(BigInt(await networkHelpers.time.latest()) + 60n);
    const tariffHash2 = await cpo2.publishTariff(tariff2Fields);
    const tariff2: Tariff = { ...tariff2Fields, cpoId: cpo2.cpoId };

    const [alice, bob, carol] = [newDriver(d), newDriver(d), newDriver(d)];
    const leaves: bigint[] = [];
    for (const [driver, value] of [
      [alice, 20_000_000n],
      [bob, 15_000_000n],
      [carol, 10_000_000n],
    ] as const) {
      leaves.push((await driver.deposit(value, net.signers.payer)).note.commitment);
    }

    const relayer = await net.signers.relayer.getAddress();
    const S = chargeSession(net.meter, net.tariff, net.now);
    const S2 = chargeSession(net.meter, net.tariff, net.now);
    const SatCpo2 = sessionWithId(meter2, tariff2, S.sessionId, net.now);
    const [payA, payA2, payB, payC] = await Promise.all([
      cpo1.receipt(S).then((r) => alice.preparePayment({ ...r, fee: 10_000n, relayer })),
      cpo1.receipt(S2).then((r) => alice.preparePayment(r)),
      cpo1.receipt(S).then((r) => bob.preparePayment(r)),
      cpo2.receipt(SatCpo2).then((r) => carol.preparePayment(r)),
    ]);
    return {
      ...d,
      net,
      cpo1,
      cpo2,
      tariffHash2,
      alice,
      bob,
      carol,
      leaves,
      payA,
      payA2,
      payB,
      payC,
      admin1: signers[1]!,
      admin2,
      payout2,
      stranger,
      relayer: signers[3]!, // setUpNetwork's cpo and relayer
    };
  }

  type Payments = Awaited<ReturnType<typeof paymentsFixture>>;

  /** Token balance of the pool == unspent notes (what the drivers' wallets find) + unwithdrawn CPO balances. */
  async function expectBalanceInvariant(f: Payments): Promise<void> {
    let notes = 0n;
    for (const driver of [f.alice, f.bob, f.carol]) {
      await driver.sync();
      notes += driver.balance;
    }
    const cpos = (await f.pool.cpoBalance(f.cpo1.cpoId)) + (await f.pool.cpoBalance(f.cpo2.cpoId));
    expect(await f.token.balanceOf(await f.pool.getAddress())).to.equal(notes + cpos);
  }

  /**
   * Dave holds two notes (5 and 7 EUR); proofs against the root of those two deposits:
   * - withdrawal: both notes -> 2 EUR to the recipient, 0.05 EUR to the relayer, the change and a 0 pad back;
   * - resplit: the 7 EUR note alone (with a dummy input) into a new 7 EUR note and a 0 pad;
   * - topUp: erin, who owns nothing, brings 3 EUR (0.001 EUR fee to the relayer) into two new notes.
   */
  async function transactsFixture() {
    const net = await setUpNetwork(ethers);
    const d = net.deployment;
    const signers = await ethers.getSigners();
    const stranger = signers[8]!;
    const [dave, erin] = [newDriver(d), newDriver(d)];
    const leaves: bigint[] = [];
    for (const value of [5_000_000n, 7_000_000n]) {
      leaves.push((await dave.deposit(value, net.signers.payer)).note.commitment);
    }
    const relayer = await net.signers.relayer.getAddress();
    const recipient = await net.signers.recipient.getAddress();
    await dave.sync();
    const seven = dave.notes.find((o) => o.note.value === 7_000_000n)!;
    const idc = dave.identity.commitment;
    const resplitNote = Note.random(idc, 7_000_000n);
    const resplitPad = Note.random(idc, 0n);
    const [topUpNote, topUpSecond] = [
      Note.random(erin.identity.commitment, 2_000_000n),
      Note.random(erin.identity.commitment, 999_000n),
    ];
    const [withdrawal, resplit, topUp] = await Promise.all([
      dave.prepareWithdraw({ to: recipient, amount: 2_000_000n, relayer, fee: 50_000n }),
      dave.prepareTransact({
        spend: [seven],
        fee: 0n,
        extAmount: 0n,
        recipient: ZeroAddress,
        relayer: ZeroAddress,
        outputs: [
          { precommitment: resplitNote.precommitment, value: resplitNote.value },
          { precommitment: resplitPad.precommitment, value: 0n },
        ],
        outputNotes: [resplitNote, resplitPad],
      }),
      erin.prepareTransact({
        spend: [],
        fee: 1_000n,
        extAmount: 3_000_000n,
        recipient: ZeroAddress,
        relayer,
        outputs: [
          { precommitment: topUpNote.precommitment, value: topUpNote.value },
          { precommitment: topUpSecond.precommitment, value: topUpSecond.value },
        ],
        outputNotes: [topUpNote, topUpSecond],
      }),
    ]);
    return {
      ...d,
      net,
      dave,
      erin,
      leaves,
      withdrawal,
      resplit,
      topUp,
      seven,
      stranger,
      relayer: signers[3]!,
      recipient: signers[4]!, // setUpNetwork's relayer and recipient
    };
  }

  describe("pay: effects (real proofs)", function () {
    it("verifies the public signals in circuit order, and only in that order", async function () {
      const f = await networkHelpers.loadFixture(paymentsFixture);
      const { proof, pub, ext } = f.payA;
      const signals = paySignalArray(pub);
      expect(await f.payVerifier.verifyProof(proof.a, proof.b, proof.c, signals)).to.equal(true);
      const wrongOrder = [...signals];
      [wrongOrder[2], wrongOrder[3]] = [wrongOrder[3]!, wrongOrder[2]!];
      expect(await f.payVerifier.verifyProof(proof.a, proof.b, proof.c, wrongOrder)).to.equal(false);
      // The pool packs them the same way: the real proof settles.
      await expect(f.pool.connect(f.stranger).pay(proof, pub, ext)).to.emit(f.pool, "SessionPaid");
    });

    it("spends the nullifier, pays the session, credits the CPO, inserts the change and pays the relayer", async function () {
      const f = await networkHelpers.loadFixture(paymentsFixture);
      const { proof, pub, ext } = f.payA;
      const tree = newTree();
      for (const leaf of f.leaves) tree.insert(leaf);
      expect([pub.noteRoot, pub.noteTreeSize]).to.deep.equal([tree.root, 3n]);
      expect(pub.fee).to.equal(10_000n);
      expect(ext.relayer).to.equal(f.relayer.address);

      const tx = f.pool.connect(f.stranger).pay(proof, pub, ext);
      await expect(tx).to.emit(f.pool, "NullifierSpent").withArgs(pub.nullifier);
      await expect(tx).to.emit(f.pool, "NoteAdded").withArgs(3n, pub.changeCommitment, ext.encryptedOutput1);
      await expect(tx)
        .to.emit(f.pool, "SessionPaid")
        .withArgs(f.cpo1.cpoId, pub.sessionId, pub.tariffHash, pub.amount, pub.fee);
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.pool, f.relayer], [-pub.fee, pub.fee]);
      tree.insert(pub.changeCommitment);
      expect(await f.pool.nullifierSpent(pub.nullifier)).to.equal(true);
      expect(await f.pool.sessionPaid(f.cpo1.cpoId, pub.sessionId)).to.equal(true);
      expect(await f.pool.sessionPaid(f.cpo2.cpoId, pub.sessionId)).to.equal(false);
      expect(await f.pool.cpoBalance(f.cpo1.cpoId)).to.equal(pub.amount);
      expect(await f.pool.noteRoot()).to.equal(tree.root);
      expect(await f.pool.isKnownRoot(tree.root, 4n)).to.equal(true);
      // The previous root stays usable.
      expect(await f.pool.isKnownRoot(pub.noteRoot, 3n)).to.equal(true);
      // The encrypted opening is the change note: alice's wallet finds it at leaf 3, worth 20 EUR - amount - fee.
      const owned = await f.alice.sync();
      expect(owned.map((o) => [o.leafIndex, o.note.commitment, o.note.value])).to.deep.equal([
        [3, pub.changeCommitment, 20_000_000n - pub.amount - pub.fee],
      ]);
    });

    it("refuses a spent nullifier and a paid session", async function () {
      const f = await networkHelpers.loadFixture(paymentsFixture);
      await f.pool.pay(f.payA.proof, f.payA.pub, f.payA.ext);
      // Alice's note again, for another session.
      expect(f.payA2.pub.nullifier).to.equal(f.payA.pub.nullifier);
      expect(f.payA2.pub.sessionId).to.not.equal(f.payA.pub.sessionId);
      await expect(f.pool.pay(f.payA2.proof, f.payA2.pub, f.payA2.ext)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__NullifierSpent",
      );
      // Bob's own note, for alice's session.
      expect(f.payB.pub.nullifier).to.not.equal(f.payA.pub.nullifier);
      expect(f.payB.pub.sessionId).to.equal(f.payA.pub.sessionId);
      await expect(f.pool.pay(f.payB.proof, f.payB.pub, f.payB.ext)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__SessionAlreadyPaid",
      );
      // The same session id at another CPO is another session.
      expect(f.payC.pub.sessionId).to.equal(f.payA.pub.sessionId);
      await expect(f.pool.pay(f.payC.proof, f.payC.pub, f.payC.ext))
        .to.emit(f.pool, "SessionPaid")
        .withArgs(f.cpo2.cpoId, f.payC.pub.sessionId, f.tariffHash2, f.payC.pub.amount, 0n);
      expect(await f.pool.sessionPaid(f.cpo2.cpoId, f.payC.pub.sessionId)).to.equal(true);
    });

    it("pays without a relayer when the fee is zero", async function () {
      const f = await networkHelpers.loadFixture(paymentsFixture);
      const { proof, pub, ext } = f.payC;
      expect([pub.fee, ext.relayer]).to.deep.equal([0n, ZeroAddress]);
      await expect(f.pool.connect(f.stranger).pay(proof, pub, ext)).to.changeTokenBalances(
        ethers,
        f.token,
        [f.pool, f.stranger],
        [0n, 0n],
      );
      expect(await f.pool.cpoBalance(f.cpo2.cpoId)).to.equal(pub.amount);
      expect(await f.pool.cpoBalance(f.cpo1.cpoId)).to.equal(0n);
    });
  });

  describe("withdraw", function () {
    it("sends the whole balance to the payout address, only for the admin", async function () {
      const f = await networkHelpers.loadFixture(paymentsFixture);
      await f.pool.pay(f.payC.proof, f.payC.pub, f.payC.ext); // CPO 2 earns, CPO 1 does not
      const amount = f.payC.pub.amount;
      await expect(f.pool.connect(f.admin1).withdraw(f.cpo2.cpoId)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__NotCpoAdmin",
      );
      await expect(f.pool.connect(f.admin2).withdraw(f.cpo1.cpoId)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__NotCpoAdmin",
      );
      await expect(f.pool.connect(f.payout2).withdraw(f.cpo2.cpoId)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__NotCpoAdmin",
      );
      await expect(f.pool.connect(f.admin1).withdraw(f.cpo1.cpoId)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__NothingToWithdraw",
      );
      const tx = f.pool.connect(f.admin2).withdraw(f.cpo2.cpoId);
      await expect(tx).to.emit(f.pool, "CpoWithdrawal").withArgs(f.cpo2.cpoId, f.payout2.address, amount);
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.pool, f.payout2, f.admin2], [-amount, amount, 0n]);
      expect(await f.pool.cpoBalance(f.cpo2.cpoId)).to.equal(0n);
      await expect(f.pool.connect(f.admin2).withdraw(f.cpo2.cpoId)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__NothingToWithdraw",
      );
    });

    it("follows a payout change", async function () {
      const f = await networkHelpers.loadFixture(paymentsFixture);
      await f.pool.pay(f.payA.proof, f.payA.pub, f.payA.ext);
      const newPayout = (await ethers.getSigners())[9]!;
      await f.registry.connect(f.admin1).setPayout(f.cpo1.cpoId, newPayout.address);
      await expect(f.pool.connect(f.admin1).withdraw(f.cpo1.cpoId))
        .to.emit(f.pool, "CpoWithdrawal")
        .withArgs(f.cpo1.cpoId, newPayout.address, f.payA.pub.amount);
    });

    it("keeps token balance == unspent notes + CPO balances", async function () {
      const f = await networkHelpers.loadFixture(paymentsFixture);
      await expectBalanceInvariant(f); // 20 + 15 + 10 EUR of notes, nothing earned
      const relayerBefore = await f.token.balanceOf(f.relayer.address);
      await f.pool.pay(f.payA.proof, f.payA.pub, f.payA.ext); // the fee leaves the pool
      await f.pool.pay(f.payC.proof, f.payC.pub, f.payC.ext);
      expect(await f.token.balanceOf(f.relayer.address)).to.equal(relayerBefore + f.payA.pub.fee);
      expect(f.alice.balance + f.bob.balance + f.carol.balance).to.equal(45_000_000n);
      await expectBalanceInvariant(f);
      expect(f.alice.balance + f.bob.balance + f.carol.balance).to.equal(
        45_000_000n - f.payA.pub.amount - f.payA.pub.fee - f.payC.pub.amount,
      );
      await f.pool.connect(f.admin1).withdraw(f.cpo1.cpoId);
      await expectBalanceInvariant(f);
      await f.pool.connect(f.admin2).withdraw(f.cpo2.cpoId);
      await expectBalanceInvariant(f);
      expect(await f.token.balanceOf(await f.pool.getAddress())).to.equal(
        f.alice.balance + f.bob.balance + f.carol.balance,
      );
    });

    it("is guarded against reentrancy from the token", async function () {
      const token = await ethers.deployContract("ReentrantToken");
      const d = await deployReal(ethers, { token: await token.getAddress() });
      const [admin, , payout] = await ethers.getSigners();
      const operator = await Operator.register({
        registry: d.registry,
        pool: d.pool,
        signer: admin!,
        payout: payout!.address,
      });
      const meter = new Meter({ cpoId: operator.cpoId, ratedPowerW: 22_000n });
      await operator.addMeter(meter);
      const now = BigInt(await networkHelpers.time.latest());
      const tariffFields = demoTariff(now + 60n);
      await operator.publishTariff(tariffFields);
      await token.mint(admin!.address, 10n ** 12n);
      const driver = newDriver(d);
      await driver.deposit(10_000_000n, admin!);
      const session = chargeSession(meter, { ...tariffFields, cpoId: operator.cpoId }, now);
      const payment = await driver.preparePayment(await operator.receipt(session));
      await operator.submitPayment(payment);
      expect(await d.pool.cpoBalance(operator.cpoId)).to.equal(payment.pub.amount);
      await token.arm(d.addresses.pool, d.pool.interface.encodeFunctionData("withdraw", [operator.cpoId]));
      await expect(d.pool.withdraw(operator.cpoId)).to.be.revertedWithCustomError(
        d.pool,
        "ReentrancyGuardReentrantCall",
      );
      await token.arm(ZeroAddress, "0x");
      await expect(d.pool.withdraw(operator.cpoId))
        .to.emit(d.pool, "CpoWithdrawal")
        .withArgs(operator.cpoId, payout!.address, payment.pub.amount);
    });
  });

  describe("transact: effects (real proofs)", function () {
    it("withdraws to the recipient, pays the relayer, inserts both outputs", async function () {
      const f = await networkHelpers.loadFixture(transactsFixture);
      const { proof, pub, ext, fee } = f.withdrawal;
      expect([ext.extAmount, fee, ext.recipient]).to.deep.equal([-2_000_000n, 50_000n, f.recipient.address]);
      expect(await f.transactVerifier.verifyProof(proof.a, proof.b, proof.c, transactSignalArray(pub))).to.equal(true);
      const tx = f.pool.connect(f.relayer).transact(proof, pub, ext, fee);
      await expect(tx).to.emit(f.pool, "NullifierSpent").withArgs(pub.inputNullifiers[0]);
      await expect(tx).to.emit(f.pool, "NullifierSpent").withArgs(pub.inputNullifiers[1]);
      await expect(tx).to.emit(f.pool, "NoteAdded").withArgs(2n, pub.outputCommitments[0], ext.encryptedOutput1);
      await expect(tx).to.emit(f.pool, "NoteAdded").withArgs(3n, pub.outputCommitments[1], ext.encryptedOutput2);
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.token,
        [f.pool, f.recipient, f.relayer],
        [-2_000_000n - fee, 2_000_000n, fee],
      );
      const tree = newTree();
      for (const leaf of f.leaves) tree.insert(leaf);
      tree.insert(pub.outputCommitments[0]);
      const intermediate = tree.root;
      tree.insert(pub.outputCommitments[1]);
      expect(await f.pool.noteRoot()).to.equal(tree.root);
      expect(await f.pool.isKnownRoot(tree.root, 4n)).to.equal(true);
      // Only the root after the transaction is recorded.
      expect(await f.pool.isKnownRoot(intermediate, 3n)).to.equal(false);
      // The change (12 EUR - 2 EUR - fee) and the 0 pad are dave's.
      await f.dave.sync();
      expect(f.dave.notes.map((o) => [o.leafIndex, o.note.value])).to.deep.equal([
        [2, 9_950_000n],
        [3, 0n],
      ]);

      // A proof spending the 7 EUR note (and a fresh dummy) again.
      const again = f.resplit;
      expect(again.pub.inputNullifiers[0]).to.equal(f.seven.nullifier);
      expect(pub.inputNullifiers).to.include(f.seven.nullifier);
      expect(await f.pool.nullifierSpent(again.pub.inputNullifiers[1])).to.equal(false);
      await expect(f.pool.transact(again.proof, again.pub, again.ext, 0n)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__NullifierSpent",
      );
    });

    it("pulls a positive extAmount from the caller with a balance-delta check", async function () {
      const f = await networkHelpers.loadFixture(transactsFixture);
      const { proof, pub, ext, fee } = f.topUp;
      expect([ext.extAmount, fee, ext.recipient]).to.deep.equal([3_000_000n, 1_000n, ZeroAddress]);
      await f.testToken!.mint(f.stranger.address, 3_000_000n);
      await f.testToken!.connect(f.stranger).approve(await f.pool.getAddress(), 3_000_000n);
      const tx = f.pool.connect(f.stranger).transact(proof, pub, ext, fee);
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.token,
        [f.stranger, f.pool, f.relayer],
        [-3_000_000n, 3_000_000n - fee, fee],
      );
      await expect(tx).to.emit(f.pool, "NoteAdded").withArgs(3n, pub.outputCommitments[1], ext.encryptedOutput2);
      await f.erin.sync();
      expect(f.erin.balance).to.equal(3_000_000n - fee);
    });

    it("rejects a fee-on-transfer token on a transact top-up", async function () {
      const fot = await ethers.deployContract("FeeOnTransferToken");
      const d = await deployReal(ethers, { token: await fot.getAddress() });
      const [signer] = await ethers.getSigners();
      await fot.mint(signer!.address, 10_000_000n);
      await fot.setFeeOn(false);
      const frank = newDriver(d);
      await frank.deposit(1_000_000n, signer!); // a known root
      await fot.setFeeOn(true);
      const idc = frank.identity.commitment;
      const [out0, out1] = [Note.random(idc, 1_000_000n), Note.random(idc, 0n)];
      const topUp = await frank.prepareTransact({
        spend: [],
        fee: 0n,
        extAmount: 1_000_000n,
        recipient: ZeroAddress,
        relayer: ZeroAddress,
        outputs: [
          { precommitment: out0.precommitment, value: out0.value },
          { precommitment: out1.precommitment, value: 0n },
        ],
        outputNotes: [out0, out1],
      });
      await fot.approve(d.addresses.pool, 1_000_000n);
      await expect(d.pool.transact(topUp.proof, topUp.pub, topUp.ext, 0n)).to.be.revertedWithCustomError(
        d.pool,
        "Pool__TransferAmountMismatch",
      );
      await fot.setFeeOn(false);
      await expect(d.pool.transact(topUp.proof, topUp.pub, topUp.ext, 0n)).to.emit(d.pool, "NoteAdded");
      expect(await fot.balanceOf(d.addresses.pool)).to.equal(2_000_000n);
    });
  });
});
