import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, hexlify, randomBytes } from "ethers";
import { extDataHash as sdkExtDataHash, meterLeaf, noteCommitment } from "../../sdk/hash.ts";
import {
  MAX_VALUE,
  R,
  ZERO_PROOF,
  deployMock,
  deployReal,
  extData,
  makeTariff,
  newTree,
  paySignals,
  publicAmount,
  sdkHashOfTariff,
  transactSignals,
  type ExtDataValue,
  type PayPublicValue,
  type TransactPublicValue,
} from "./helpers.ts";
import type { ZkchargeDeployment } from "../../sdk/deploy.ts";

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
  async function baseFixture(mock: boolean) {
    const d = mock ? await deployMock(ethers) : { ...(await deployReal(ethers)), mock: undefined };
    const cpos = await setupCpos(d);
    const leaves = await depositAll(d, [5_000_000n, 7_000_000n, 9_000_000n]);
    const poolAddress = await d.pool.getAddress();
    const [, , driver, relayer, stranger, recipient] = await ethers.getSigners();
    return { ...d, ...cpos, leaves, poolAddress, driver: driver!, relayer: relayer!, stranger: stranger!, recipient: recipient! };
  }
  const realFixture = () => baseFixture(false);
  const mockFixture = () => baseFixture(true);

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
      const args = [f.addresses.token, f.addresses.registry, f.addresses.payVerifier, f.addresses.transactVerifier];
      const libraries = { PoseidonT3: f.addresses.poseidon.PoseidonT3, PoseidonT4: f.addresses.poseidon.PoseidonT4 };
      for (let i = 0; i < 4; i++) {
        const bad = [...args];
        bad[i] = ZeroAddress;
        await expect(ethers.deployContract("Pool", bad, { libraries })).to.be.revertedWithCustomError(
          f.pool,
          "Pool__ZeroAddress",
        );
      }
      expect(await f.pool.token()).to.equal(f.addresses.token);
      expect(await f.pool.registry()).to.equal(f.addresses.registry);
      expect(await f.pool.payVerifier()).to.equal(f.addresses.payVerifier);
      expect(await f.pool.transactVerifier()).to.equal(f.addresses.transactVerifier);
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
      await expect(d.pool.deposit(2n, 1n, "0x")).to.be.revertedWithCustomError(
        d.pool,
        "ReentrancyGuardReentrantCall",
      );
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
      for (const over of [{ noteRoot: 5n }, { noteTreeSize: 2n }, { noteTreeSize: 4n }, { noteRoot: 0n, noteTreeSize: 0n }]) {
        const { pub, ext } = validPay(f, over);
        await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__UnknownRoot");
      }
    });

    it("refuses a meter root that is not valid for that CPO now", async function () {
      const f = await load(realFixture);
      for (const over of [{ meterRoot: 1n }, { meterRoot: f.meterRoot2 }, { meterRoot: 0n }]) {
        const { pub, ext } = validPay(f, over);
        await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(
          f.pool,
          "Pool__InvalidMeterRoot",
        );
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
        await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(
          f.pool,
          "Pool__AmountOutOfRange",
        );
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
      await expect(f.pool.pay(ZERO_PROOF, { ...pub, extDataHash: pub.extDataHash + R }, ext)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__ExtDataHashMismatch",
      );
    });

    it("requires every public input below r", async function () {
      const f = await load(realFixture);
      for (const over of [{ nullifier: R }, { nullifier: R + 777n }, { changeCommitment: R }, { sessionId: (1n << 256n) - 1n }]) {
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
      const proof: typeof ZERO_PROOF = { a: [1n, 2n], b: [[3n, 4n], [5n, 6n]], c: [7n, 8n] };
      await expect(f.pool.pay(proof, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__InvalidProof");
    });
  });

  describe("pay: effects (mock verifier)", function () {
    it("passes the public signals in circuit order", async function () {
      const f = await load(mockFixture);
      const { pub, ext } = validPay(f);
      const wrongOrder = paySignals(pub);
      [wrongOrder[2], wrongOrder[3]] = [wrongOrder[3]!, wrongOrder[2]!];
      await f.mock!.setExpected(wrongOrder);
      await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.be.revertedWithCustomError(f.pool, "Pool__InvalidProof");
      await f.mock!.setExpected(paySignals(pub));
      await expect(f.pool.pay(ZERO_PROOF, pub, ext)).to.emit(f.pool, "SessionPaid");
    });

    it("spends the nullifier, pays the session, credits the CPO, inserts the change and pays the relayer", async function () {
      const f = await load(mockFixture);
      const { pub, ext } = validPay(f);
      const tx = f.pool.connect(f.stranger).pay(ZERO_PROOF, pub, ext);
      await expect(tx).to.emit(f.pool, "NullifierSpent").withArgs(pub.nullifier);
      await expect(tx).to.emit(f.pool, "NoteAdded").withArgs(3n, pub.changeCommitment, ext.encryptedOutput1);
      await expect(tx)
        .to.emit(f.pool, "SessionPaid")
        .withArgs(1n, pub.sessionId, pub.tariffHash, pub.amount, pub.fee);
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.pool, f.relayer], [-pub.fee, pub.fee]);
      f.tree.insert(pub.changeCommitment);
      expect(await f.pool.nullifierSpent(pub.nullifier)).to.equal(true);
      expect(await f.pool.sessionPaid(1n, pub.sessionId)).to.equal(true);
      expect(await f.pool.sessionPaid(2n, pub.sessionId)).to.equal(false);
      expect(await f.pool.cpoBalance(1n)).to.equal(pub.amount);
      expect(await f.pool.noteRoot()).to.equal(f.tree.root);
      expect(await f.pool.isKnownRoot(f.tree.root, 4n)).to.equal(true);
      // The previous root stays usable.
      expect(await f.pool.isKnownRoot(pub.noteRoot, 3n)).to.equal(true);
    });

    it("refuses a spent nullifier and a paid session", async function () {
      const f = await load(mockFixture);
      const first = validPay(f);
      await f.pool.pay(ZERO_PROOF, first.pub, first.ext);
      const sameNullifier = validPay(f, { sessionId: 1n, changeCommitment: 2n });
      await expect(f.pool.pay(ZERO_PROOF, sameNullifier.pub, sameNullifier.ext)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__NullifierSpent",
      );
      const sameSession = validPay(f, { nullifier: 1n, changeCommitment: 2n });
      await expect(f.pool.pay(ZERO_PROOF, sameSession.pub, sameSession.ext)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__SessionAlreadyPaid",
      );
      // The same session id at another CPO is another session.
      const otherCpo = validPay(f, {
        nullifier: 1n,
        changeCommitment: 2n,
        cpoId: 2n,
        meterRoot: f.meterRoot2,
        tariffHash: f.tariff2,
      });
      await expect(f.pool.pay(ZERO_PROOF, otherCpo.pub, otherCpo.ext)).to.emit(f.pool, "SessionPaid");
    });

    it("pays without a relayer when the fee is zero", async function () {
      const f = await load(mockFixture);
      const { pub, ext } = validPay(f, { fee: 0n }, { relayer: ZeroAddress });
      await expect(f.pool.connect(f.driver).pay(ZERO_PROOF, pub, ext)).to.changeTokenBalances(
        ethers,
        f.token,
        [f.pool],
        [0n],
      );
      expect(await f.pool.cpoBalance(1n)).to.equal(pub.amount);
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
      for (const [extAmount, fee] of [[MAX_VALUE, 0n], [-MAX_VALUE, MAX_VALUE]] as [bigint, bigint][]) {
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
      for (const over of [{ inputNullifiers: [R, 1n] }, { outputCommitments: [1n, R] }] as Partial<TransactPublicValue>[]) {
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

  describe("transact: effects (mock verifier)", function () {
    it("withdraws to the recipient, pays the relayer, inserts both outputs", async function () {
      const f = await load(mockFixture);
      const fee = 50_000n;
      const { pub, ext } = validTransact(f, fee);
      await f.mock!.setExpected(transactSignals(pub));
      const tx = f.pool.connect(f.relayer).transact(ZERO_PROOF, pub, ext, fee);
      await expect(tx).to.emit(f.pool, "NullifierSpent").withArgs(101n);
      await expect(tx).to.emit(f.pool, "NullifierSpent").withArgs(102n);
      await expect(tx).to.emit(f.pool, "NoteAdded").withArgs(3n, 201n, "0x01");
      await expect(tx).to.emit(f.pool, "NoteAdded").withArgs(4n, 202n, "0x0202");
      await expect(tx).to.changeTokenBalances(
        ethers,
        f.token,
        [f.pool, f.recipient, f.relayer],
        [-2_000_000n - fee, 2_000_000n, fee],
      );
      f.tree.insert(201n);
      const intermediate = f.tree.root;
      f.tree.insert(202n);
      expect(await f.pool.noteRoot()).to.equal(f.tree.root);
      expect(await f.pool.isKnownRoot(f.tree.root, 5n)).to.equal(true);
      // Only the root after the transaction is recorded.
      expect(await f.pool.isKnownRoot(intermediate, 4n)).to.equal(false);

      const again = validTransact(f, 0n, { inputNullifiers: [7n, 102n] });
      await expect(f.pool.transact(ZERO_PROOF, again.pub, again.ext, 0n)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__NullifierSpent",
      );
    });

    it("pulls a positive extAmount from the caller with a balance-delta check", async function () {
      const f = await load(mockFixture);
      const fee = 1_000n;
      const { pub, ext } = validTransact(f, fee, {}, { extAmount: 3_000_000n, recipient: ZeroAddress });
      await f.testToken!.mint(f.stranger.address, 3_000_000n);
      await f.testToken!.connect(f.stranger).approve(f.poolAddress, 3_000_000n);
      await expect(f.pool.connect(f.stranger).transact(ZERO_PROOF, pub, ext, fee)).to.changeTokenBalances(
        ethers,
        f.token,
        [f.stranger, f.pool, f.relayer],
        [-3_000_000n, 3_000_000n - fee, fee],
      );
    });

    it("rejects a fee-on-transfer token on transact deposits", async function () {
      const fot = await ethers.deployContract("FeeOnTransferToken");
      const d = await deployMock(ethers, { token: await fot.getAddress() });
      const [signer] = await ethers.getSigners();
      await fot.mint(signer!.address, 10_000_000n);
      await fot.approve(d.addresses.pool, 10_000_000n);
      await fot.setFeeOn(false);
      await d.pool.deposit(1n, 1_000_000n, "0x"); // a known root
      await fot.setFeeOn(true);
      const ext = extData({ extAmount: 1_000_000n });
      const pub: TransactPublicValue = {
        noteRoot: await d.pool.noteRoot(),
        noteTreeSize: 1n,
        inputNullifiers: [1n, 2n],
        outputCommitments: [3n, 4n],
        publicAmount: 1_000_000n,
        extDataHash: hashExt(d.addresses.pool, ext),
      };
      await expect(d.pool.transact(ZERO_PROOF, pub, ext, 0n)).to.be.revertedWithCustomError(
        d.pool,
        "Pool__TransferAmountMismatch",
      );
      await fot.setFeeOn(false);
      await expect(d.pool.transact(ZERO_PROOF, pub, ext, 0n)).to.emit(d.pool, "NoteAdded");
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

  describe("withdraw", function () {
    async function paidFixture() {
      const f0 = await mockFixture();
      const tree = newTree();
      for (const leaf of f0.leaves) tree.insert(leaf);
      const f = { ...f0, tree };
      const { pub, ext } = validPay(f);
      await f.pool.pay(ZERO_PROOF, pub, ext);
      return { ...f, amount: pub.amount, fee: pub.fee };
    }

    it("sends the whole balance to the payout address, only for the admin", async function () {
      const f = await networkHelpers.loadFixture(paidFixture);
      const [admin, other, payout] = await ethers.getSigners();
      await expect(f.pool.connect(other).withdraw(1n)).to.be.revertedWithCustomError(f.pool, "Pool__NotCpoAdmin");
      await expect(f.pool.connect(admin).withdraw(2n)).to.be.revertedWithCustomError(f.pool, "Pool__NotCpoAdmin");
      await expect(f.pool.connect(other).withdraw(2n)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__NothingToWithdraw",
      );
      const tx = f.pool.connect(admin).withdraw(1n);
      await expect(tx).to.emit(f.pool, "CpoWithdrawal").withArgs(1n, payout!.address, f.amount);
      await expect(tx).to.changeTokenBalances(ethers, f.token, [f.pool, payout!], [-f.amount, f.amount]);
      expect(await f.pool.cpoBalance(1n)).to.equal(0n);
      await expect(f.pool.connect(admin).withdraw(1n)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__NothingToWithdraw",
      );
    });

    it("follows a payout change", async function () {
      const f = await networkHelpers.loadFixture(paidFixture);
      const [admin, , , , , , newPayout] = await ethers.getSigners();
      await f.registry.connect(admin).setPayout(1n, newPayout!.address);
      await expect(f.pool.connect(admin).withdraw(1n))
        .to.emit(f.pool, "CpoWithdrawal")
        .withArgs(1n, newPayout!.address, f.amount);
    });

    it("keeps token balance == unspent notes + CPO balances", async function () {
      const f = await networkHelpers.loadFixture(paidFixture);
      // Notes: 5, 7, 9 EUR deposited; the pay spent a note (mock: say the 9 EUR one) into change 9 - amount - fee.
      const change = 9_000_000n - f.amount - f.fee;
      const notes = 5_000_000n + 7_000_000n + change;
      expect(await f.token.balanceOf(f.poolAddress)).to.equal(notes + (await f.pool.cpoBalance(1n)));
      await f.pool.withdraw(1n);
      expect(await f.token.balanceOf(f.poolAddress)).to.equal(notes);
    });

    it("is guarded against reentrancy from the token", async function () {
      const token = await ethers.deployContract("ReentrantToken");
      const d = await deployMock(ethers, { token: await token.getAddress() });
      const cpos = await setupCpos(d);
      const [admin] = await ethers.getSigners();
      await token.mint(admin!.address, 10n ** 12n);
      await token.approve(d.addresses.pool, 10n ** 12n);
      await d.pool.deposit(1n, 10_000_000n, "0x");
      const ext = extData();
      const pub: PayPublicValue = {
        noteRoot: await d.pool.noteRoot(),
        noteTreeSize: 1n,
        nullifier: 1n,
        changeCommitment: 2n,
        meterRoot: cpos.meterRoot1,
        cpoId: 1n,
        tariffHash: cpos.tariff1,
        sessionId: 3n,
        amount: 4_000_000n,
        fee: 0n,
        extDataHash: hashExt(d.addresses.pool, ext),
      };
      await d.pool.pay(ZERO_PROOF, pub, ext);
      await token.arm(d.addresses.pool, d.pool.interface.encodeFunctionData("withdraw", [1n]));
      await expect(d.pool.withdraw(1n)).to.be.revertedWithCustomError(d.pool, "ReentrancyGuardReentrantCall");
      await token.arm(ZeroAddress, "0x");
      await expect(d.pool.withdraw(1n)).to.emit(d.pool, "CpoWithdrawal").withArgs(1n, (await ethers.getSigners())[2]!.address, 4_000_000n);
    });
  });
});
