/**
 * Pool escrows (lock, close, refund): every check that runs before the proof is verified, and the refund path.
 *
 * Every proof is real; no mock verifier and no storage writes are used anywhere:
 * - Paid sessions and spent nullifiers come from real `pay` proofs (`Driver.preparePayment` + `submitPayment`).
 * - Every open escrow comes from a real `lock` proof (`Driver.prepareLock` + `submitLock`). The storage layout
 *   documented in Pool.sol and IPool.Escrow is checked read-only: raw slots of a locked escrow against the `escrow`
 *   view.
 * - Missing or stale circuit artifacts make the tests that need a proof fail (the prover's StaleArtifactsError
 *   propagates); nothing is skipped.
 * - No test closes successfully: that needs a close proof (test/e2e/escrow.test.ts). Every close test here stops at
 *   a specific error, and a close whose every pre-proof check passes must reach Pool__InvalidProof.
 *
 * Proofs are made once per fixture (`networkHelpers.loadFixture`): the base network, a paid session, an open escrow.
 * Tests that share a fixture are kept together, since loading another fixture drops the later snapshots.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, ZeroAddress, keccak256, type Signer } from "ethers";
import { shutdownProver } from "../../prover/index.ts";
import { Driver, submitLock } from "../../sdk/actors/driver.ts";
import { EscrowStatus, readEscrow } from "../../sdk/actors/escrow.ts";
import { extDataHash as sdkExtDataHash, noteCommitment } from "../../sdk/core/hash.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import { Operator } from "../../sdk/actors/operator.ts";
import { DAY, HOUR, chargeSession, demoTariff, freshNonces, setUpNetwork } from "../fixtures/chain.ts";
import { sessionId as makeSessionId } from "../../sdk/core/hash.ts";
import type { SessionNonces } from "../../sdk/proofs/lockInput.ts";
import type { LockedEscrow } from "../../sdk/actors/chain.ts";
import { MAX_VALUE, R, ZERO_PROOF, extData, type ExtDataValue } from "./helpers.ts";
import type { IPool } from "../../types/ethers-contracts/index.js";

const { ethers, networkHelpers } = await network.create();
const { chainId } = await ethers.provider.getNetwork();
const { time } = networkHelpers;

const MIN_SETTLE_WINDOW = 15n * 60n;
const MIN_CLAIM_WINDOW = DAY;
const MAX_TIME = (1n << 40n) - 1n;
/** Storage slot of `Pool._escrows` (see the layout comment in contracts/Pool.sol). */
const ESCROWS_SLOT = 285n;
/** Storage slot of `Pool.sessionEscrow` (cpoId => sessionId => escrowId). */
const SESSION_ESCROW_SLOT = 286n;
/** Gas limit for transactions sent without estimation (so they are mined at a set timestamp). */
const NO_ESTIMATE = { gasLimit: 3_000_000n };

type LockPublicValue = { [K in keyof IPool.LockPublicStruct]: bigint };
type ClosePublicValue = { [K in keyof IPool.ClosePublicStruct]: bigint };

async function latest(): Promise<bigint> {
  return BigInt(await time.latest());
}

describe("Pool escrows", function () {
  this.timeout(600_000);
  after(shutdownProver);

  /** One CPO with a meter and a tariff (setUpNetwork), a second CPO with a tariff, a driver with two notes. */
  async function fixture() {
    const net = await setUpNetwork(ethers);
    const { pool, registry, testToken } = net.deployment;
    const driver = new Driver(DriverIdentity.random(), pool.connect(ethers.provider));
    await driver.deposit(60_000_000n, net.signers.payer);
    await driver.deposit(20_000_000n, net.signers.payer);
    const other = await Operator.register({ registry, pool, signer: net.signers.other });
    const otherTariffHash = await other.publishTariff(demoTariff((await latest()) + 60n));
    const { cpo, relayer, recipient: stranger } = net.signers;
    return {
      net,
      pool,
      registry,
      testToken: testToken!,
      driver,
      other,
      otherTariffHash,
      cpo,
      relayer,
      stranger,
      relayerAddress: await relayer.getAddress(),
      strangerAddress: await stranger.getAddress(),
      poolAddress: await pool.getAddress(),
    };
  }
  type Fixture = Awaited<ReturnType<typeof fixture>>;
  const load = () => networkHelpers.loadFixture(fixture);

  /**
   * The fixture plus a session paid with a real pay proof (its session is paid, its nullifier spent). Derived
   * fixtures build on a fresh {@link fixture} call, not a nested loadFixture (which would leave a stale snapshot).
   */
  async function paidFixture() {
    const f = await fixture();
    const session = chargeSession(f.net.meter, f.net.tariff, f.net.now);
    const payment = await f.driver.preparePayment(await f.net.operator.receipt(session));
    await f.net.operator.submitPayment(payment);
    return {
      ...f,
      paid: { cpoId: f.net.operator.cpoId, sessionId: session.sessionId, nullifier: payment.pub.nullifier },
    };
  }
  const loadPaid = () => networkHelpers.loadFixture(paidFixture);

  function hashExt(f: Fixture, ext: ExtDataValue): bigint {
    return sdkExtDataHash({ chainId, pool: f.poolAddress, ...ext });
  }

  /** Token balance of the pool == unspent notes + open escrow caps + CPO balances (all held by known parties). */
  async function expectInvariant(f: Fixture) {
    await f.driver.sync();
    const open = f.driver.escrows.filter((e) => e.status === EscrowStatus.Open).reduce((s, e) => s + e.cap, 0n);
    const cpos = (await f.pool.cpoBalance(f.net.operator.cpoId)) + (await f.pool.cpoBalance(f.other.cpoId));
    const held = f.driver.balance + open + cpos;
    expect(await f.testToken.balanceOf(f.poolAddress)).to.equal(held);
  }

  // ------------------------------------------------------------------------------------------------ lock

  describe("lock: checks before the proof", function () {
    /** A lock whose every check before the proof passes (it reaches the verifier and fails there). */
    async function validLock(f: Fixture, over: Partial<LockPublicValue> = {}, extOver: Partial<ExtDataValue> = {}) {
      const ext = extData({
        relayer: f.relayerAddress,
        encryptedOutput1: "0xc0ffee",
        encryptedOutput2: "0xbeef",
        ...extOver,
      });
      const settleDeadline = (await latest()) + HOUR;
      const pub: LockPublicValue = {
        noteRoot: await f.pool.noteRoot(),
        noteTreeSize: await f.pool.noteTreeSize(),
        nullifier: 4242n,
        changeCommitment: 5n,
        refundPrecommitment: 6n,
        cap: 10_000_000n,
        fee: 1_000n,
        cpoId: f.net.operator.cpoId,
        sessionId: 77n,
        settleDeadline,
        claimDeadline: settleDeadline + DAY,
        extDataHash: hashExt(f, ext),
        ...over,
      };
      return { pub, ext };
    }
    async function lockReverts(
      f: Fixture,
      l: { pub: LockPublicValue; ext: ExtDataValue },
      error: string,
      overrides = {},
    ) {
      await expect(f.pool.connect(f.relayer).lock(ZERO_PROOF, l.pub, l.ext, overrides)).to.be.revertedWithCustomError(
        f.pool,
        error,
      );
    }

    it("reaches the verifier when every other check passes", async function () {
      const f = await load();
      await lockReverts(f, await validLock(f), "Pool__InvalidProof");
      // A zero fee needs no relayer.
      await lockReverts(f, await validLock(f, { fee: 0n }, { relayer: ZeroAddress }), "Pool__InvalidProof");
    });

    it("refuses an unknown root or a root at the wrong size", async function () {
      const f = await load();
      const l = await validLock(f);
      await lockReverts(f, { ...l, pub: { ...l.pub, noteRoot: l.pub.noteRoot + 1n } }, "Pool__UnknownRoot");
      await lockReverts(f, { ...l, pub: { ...l.pub, noteTreeSize: l.pub.noteTreeSize - 1n } }, "Pool__UnknownRoot");
      await lockReverts(f, { ...l, pub: { ...l.pub, noteTreeSize: l.pub.noteTreeSize + 1n } }, "Pool__UnknownRoot");
      await lockReverts(f, { ...l, pub: { ...l.pub, noteRoot: 0n, noteTreeSize: 0n } }, "Pool__UnknownRoot");
    });

    it("refuses a spent nullifier (spent by a real pay)", async function () {
      const f = await loadPaid();
      await lockReverts(f, await validLock(f, { nullifier: f.paid.nullifier }), "Pool__NullifierSpent");
    });

    it("refuses a session already paid (paid by a real pay)", async function () {
      const f = await loadPaid();
      await lockReverts(
        f,
        await validLock(f, { cpoId: f.paid.cpoId, sessionId: f.paid.sessionId }),
        "Pool__SessionAlreadyPaid",
      );
      // The same session id at another CPO is a different session.
      await lockReverts(
        f,
        await validLock(f, { cpoId: f.other.cpoId, sessionId: f.paid.sessionId }),
        "Pool__InvalidProof",
      );
    });

    it("refuses an unregistered CPO", async function () {
      const f = await load();
      for (const cpoId of [0n, f.other.cpoId + 1n, 1n << 64n, R - 1n, R]) {
        await lockReverts(f, await validLock(f, { cpoId }), "Pool__UnknownCpo");
      }
    });

    it("refuses a cap outside 1..2^64-1 and a fee above 2^64-1", async function () {
      const f = await load();
      for (const over of [{ cap: 0n }, { cap: MAX_VALUE + 1n }, { fee: MAX_VALUE + 1n }, { cap: R }]) {
        await lockReverts(f, await validLock(f, over), "Pool__AmountOutOfRange");
      }
      await lockReverts(f, await validLock(f, { cap: MAX_VALUE, fee: MAX_VALUE }), "Pool__InvalidProof");
    });

    it("refuses a fee without a relayer", async function () {
      const f = await load();
      await lockReverts(f, await validLock(f, {}, { relayer: ZeroAddress }), "Pool__RelayerRequired");
    });

    it("refuses a recipient or an external amount", async function () {
      const f = await load();
      await lockReverts(f, await validLock(f, {}, { recipient: f.strangerAddress }), "Pool__InvalidExtData");
      await lockReverts(f, await validLock(f, {}, { extAmount: 1n }), "Pool__InvalidExtData");
      await lockReverts(f, await validLock(f, {}, { extAmount: -1n }), "Pool__InvalidExtData");
    });

    it("refuses deadlines at or above 2^40", async function () {
      const f = await load();
      await lockReverts(f, await validLock(f, { claimDeadline: MAX_TIME + 1n }), "Pool__DeadlineOutOfRange");
      await lockReverts(
        f,
        await validLock(f, { settleDeadline: MAX_TIME + 1n, claimDeadline: MAX_TIME + 1n + DAY }),
        "Pool__DeadlineOutOfRange",
      );
      // Huge values must not overflow settleDeadline + MIN_CLAIM_WINDOW before being refused.
      await lockReverts(f, await validLock(f, { settleDeadline: (1n << 256n) - 1n }), "Pool__DeadlineOutOfRange");
      await lockReverts(
        f,
        await validLock(f, { settleDeadline: MAX_TIME - DAY, claimDeadline: MAX_TIME }),
        "Pool__InvalidProof",
      );
    });

    it("refuses a settle window shorter than 15 minutes (boundary exact)", async function () {
      const f = await load();
      // Each case is mined (reverted) at a set block time T; T grows because every case mines a block.
      for (const [settleAfterT, error] of [
        [MIN_SETTLE_WINDOW - 1n, "Pool__SettleWindowTooShort"],
        [-1n, "Pool__SettleWindowTooShort"],
        [0n, "Pool__SettleWindowTooShort"],
        [MIN_SETTLE_WINDOW, "Pool__InvalidProof"],
      ] as const) {
        const T = (await latest()) + 100n;
        const settle = T + settleAfterT;
        const l = await validLock(f, { settleDeadline: settle, claimDeadline: settle + DAY });
        await time.setNextBlockTimestamp(T);
        await lockReverts(f, l, error, NO_ESTIMATE);
      }
      await lockReverts(
        f,
        await validLock(f, { settleDeadline: 0n, claimDeadline: DAY }),
        "Pool__SettleWindowTooShort",
      );
    });

    it("refuses a claim window shorter than one day after the settle deadline (boundary exact)", async function () {
      const f = await load();
      const l = await validLock(f);
      const s = l.pub.settleDeadline;
      await lockReverts(
        f,
        { ...l, pub: { ...l.pub, claimDeadline: s + MIN_CLAIM_WINDOW - 1n } },
        "Pool__ClaimWindowTooShort",
      );
      await lockReverts(f, { ...l, pub: { ...l.pub, claimDeadline: s } }, "Pool__ClaimWindowTooShort");
      await lockReverts(f, { ...l, pub: { ...l.pub, claimDeadline: s - 1n } }, "Pool__ClaimWindowTooShort");
      await lockReverts(f, { ...l, pub: { ...l.pub, claimDeadline: s + MIN_CLAIM_WINDOW } }, "Pool__InvalidProof");
    });

    it("refuses ext data changed after proving", async function () {
      const f = await load();
      const l = await validLock(f);
      for (const ext of [
        { ...l.ext, encryptedOutput1: "0xc0ffef" },
        { ...l.ext, encryptedOutput2: "0x" },
        { ...l.ext, relayer: f.strangerAddress },
      ]) {
        await lockReverts(f, { ...l, ext }, "Pool__ExtDataHashMismatch");
      }
      await lockReverts(
        f,
        { ...l, pub: { ...l.pub, extDataHash: l.pub.extDataHash + R } },
        "Pool__ExtDataHashMismatch",
      );
    });

    it("refuses a public input at or above the field modulus", async function () {
      const f = await load();
      for (const key of ["nullifier", "changeCommitment", "refundPrecommitment", "sessionId"] as const) {
        await lockReverts(f, await validLock(f, { [key]: R }), "Pool__NotInField");
        await lockReverts(f, await validLock(f, { [key]: R - 1n }), "Pool__InvalidProof");
      }
    });
  });

  // ------------------------------------------------------------------------------------------------ escrows

  describe("lock with a real proof", function () {
    it("spends the note, stores the escrow, inserts the change note, pays the fee, emits everything", async function () {
      const f = await load();
      const now = await latest();
      const nonces = freshNonces();
      const sessionId = makeSessionId(nonces.stationNonce, nonces.driverNonce);
      const args = {
        cpoId: f.net.operator.cpoId,
        ...nonces,
        sessionId,
        cap: 25_000_000n,
        settleDeadline: now + HOUR,
        claimDeadline: now + HOUR + DAY,
        fee: 50_000n,
        relayer: f.relayerAddress,
      };
      expect(await f.pool.sessionEscrow(args.cpoId, sessionId)).to.equal(0n);
      const lock = await f.driver.prepareLock(args);
      const size = await f.pool.noteTreeSize();
      const relayerBefore = await f.testToken.balanceOf(f.relayerAddress);
      const tx = f.pool.connect(f.relayer).lock(lock.proof, lock.pub, lock.ext);
      await expect(tx).to.emit(f.pool, "NullifierSpent").withArgs(lock.escrowId);
      await expect(tx)
        .to.emit(f.pool, "NoteAdded")
        .withArgs(size, lock.pub.changeCommitment, lock.ext.encryptedOutput1);
      await expect(tx)
        .to.emit(f.pool, "EscrowLocked")
        .withArgs(
          lock.escrowId,
          args.cpoId,
          args.sessionId,
          lock.pub.refundPrecommitment,
          args.cap,
          args.settleDeadline,
          args.claimDeadline,
          lock.ext.encryptedOutput2,
        );
      const receipt = await (await tx).wait();
      console.log(`      lock gas: ${receipt!.gasUsed}`);
      expect(await f.testToken.balanceOf(f.relayerAddress)).to.equal(relayerBefore + args.fee);
      expect(await f.pool.nullifierSpent(lock.escrowId)).to.equal(true);
      expect(await f.pool.isKnownRoot(await f.pool.noteRoot(), size + 1n)).to.equal(true);
      const e = await readEscrow(f.pool, lock.escrowId);
      expect(e).to.deep.include({
        cpoId: args.cpoId,
        sessionId: args.sessionId,
        cap: args.cap,
        status: EscrowStatus.Open,
      });
      expect(await f.pool.sessionEscrow(args.cpoId, sessionId)).to.equal(lock.escrowId);
      await expectInvariant(f);
      // The escrow id is a spent nullifier: the same lock cannot be replayed.
      await expect(submitLock(f.pool, lock, f.relayer)).to.be.revertedWithCustomError(f.pool, "Pool__NullifierSpent");
    });

    it("front-running with a copy of the driver's lock only performs the driver's lock, fee to the driver's relayer", async function () {
      const f = await load();
      const now = await latest();
      const nonces = freshNonces();
      const sessionId = makeSessionId(nonces.stationNonce, nonces.driverNonce);
      const lock = await f.driver.prepareLock({
        cpoId: f.net.operator.cpoId,
        ...nonces,
        cap: 10_000_000n,
        settleDeadline: now + HOUR,
        claimDeadline: now + HOUR + DAY,
        fee: 30_000n,
        relayer: f.relayerAddress,
      });
      // A stranger who saw the pending lock cannot redirect the fee (or the change) to itself ...
      await expect(
        f.pool.connect(f.stranger).lock(lock.proof, lock.pub, { ...lock.ext, relayer: f.strangerAddress }),
      ).to.be.revertedWithCustomError(f.pool, "Pool__ExtDataHashMismatch");
      // ... and submitting the copy first performs exactly the driver's lock: its escrow, its relayer paid.
      const relayerBefore = await f.testToken.balanceOf(f.relayerAddress);
      const strangerBefore = await f.testToken.balanceOf(f.strangerAddress);
      await expect(f.pool.connect(f.stranger).lock(lock.proof, lock.pub, lock.ext)).to.emit(f.pool, "EscrowLocked");
      expect(await f.testToken.balanceOf(f.relayerAddress)).to.equal(relayerBefore + 30_000n);
      expect(await f.testToken.balanceOf(f.strangerAddress)).to.equal(strangerBefore);
      expect(await f.pool.sessionEscrow(f.net.operator.cpoId, sessionId)).to.equal(lock.escrowId);
      await f.driver.sync();
      expect(f.driver.escrows.map((e) => e.escrowId)).to.include(lock.escrowId);
      await expectInvariant(f);
      // The relayer's own submission then finds the lock done.
      await expect(submitLock(f.pool, lock, f.relayer)).to.be.revertedWithCustomError(f.pool, "Pool__NullifierSpent");
    });
  });

  type OpenEscrow = Omit<LockedEscrow, "encryptedRefund">;

  function escrowSlot(escrowId: bigint): bigint {
    return BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [escrowId, ESCROWS_SLOT])));
  }

  /** The first storage word of an escrow: cpoId | cap << 64 | settle << 128 | claim << 168 | status << 208. */
  function packedWord(e: Pick<OpenEscrow, "cpoId" | "cap" | "settleDeadline" | "claimDeadline">, status: EscrowStatus) {
    return e.cpoId | (e.cap << 64n) | (e.settleDeadline << 128n) | (e.claimDeadline << 168n) | (BigInt(status) << 208n);
  }

  /**
   * Opens an escrow for the driver at the fixture's CPO with a real lock proof (the SDK's prepareLock + submitLock),
   * for the session of `nonces` (fresh ones by default).
   */
  async function openEscrow(
    f: Fixture,
    over: Partial<{ cap: bigint; nonces: SessionNonces; settleIn: bigint; claimAfterSettle: bigint }> = {},
  ): Promise<OpenEscrow> {
    const cap = over.cap ?? 30_000_000n;
    const nonces = over.nonces ?? freshNonces();
    const sessionId = makeSessionId(nonces.stationNonce, nonces.driverNonce);
    const settleDeadline = (await latest()) + (over.settleIn ?? 3n * HOUR);
    const claimDeadline = settleDeadline + (over.claimAfterSettle ?? 2n * DAY);
    const cpoId = f.net.operator.cpoId;
    const lock = await f.driver.prepareLock({ cpoId, ...nonces, cap, settleDeadline, claimDeadline });
    await submitLock(f.pool, lock, f.relayer);
    return {
      escrowId: lock.escrowId,
      cpoId,
      sessionId,
      refundPrecommitment: lock.pub.refundPrecommitment,
      cap,
      settleDeadline,
      claimDeadline,
    };
  }

  /**
   * The fixture plus one open escrow (real lock proof) for `session`, a finished charging session at the fixture's
   * CPO that has not been paid (a real pay can pay it by another route).
   */
  async function escrowFixture() {
    const f = await fixture();
    const nonces = freshNonces();
    const session = chargeSession(f.net.meter, f.net.tariff, await latest(), { nonces });
    const e = await openEscrow(f, { nonces });
    return { ...f, e, session, nonces };
  }
  const loadEscrow = () => networkHelpers.loadFixture(escrowFixture);

  describe("one escrow per session, ever", function () {
    it("soundness checklist: two escrows for one session - a second lock is refused before its proof is checked", async function () {
      const f = await loadEscrow();
      const { e } = f;
      expect(await f.pool.sessionEscrow(e.cpoId, e.sessionId)).to.equal(e.escrowId);
      // A real proof of a second, cap-1 lock by the same driver (who knows the nonces): refused, naming the escrow.
      const now = await latest();
      const second = await f.driver.prepareLock({
        cpoId: e.cpoId,
        ...f.nonces,
        sessionId: e.sessionId,
        cap: 1n,
        settleDeadline: now + HOUR,
        claimDeadline: now + HOUR + DAY,
      });
      await expect(submitLock(f.pool, second, f.relayer))
        .to.be.revertedWithCustomError(f.pool, "Pool__SessionHasEscrow")
        .withArgs(e.cpoId, e.sessionId, e.escrowId);
      // Refused before the verifier: a garbage proof for the session gets the same error, not Pool__InvalidProof.
      await expect(f.pool.connect(f.relayer).lock(ZERO_PROOF, second.pub, second.ext))
        .to.be.revertedWithCustomError(f.pool, "Pool__SessionHasEscrow")
        .withArgs(e.cpoId, e.sessionId, e.escrowId);
      // The same session id at another CPO is another session (no escrow yet): it reaches the verifier.
      await expect(
        f.pool.connect(f.relayer).lock(ZERO_PROOF, { ...second.pub, cpoId: f.other.cpoId }, second.ext),
      ).to.be.revertedWithCustomError(f.pool, "Pool__InvalidProof");
      expect(await f.pool.sessionEscrow(f.other.cpoId, e.sessionId)).to.equal(0n);
      // Still one escrow after the first is refunded; the session stays unpaid (a pay could still pay it).
      await time.increaseTo(e.claimDeadline + 1n);
      await f.pool.connect(f.stranger).refund(e.escrowId);
      const later = await latest();
      const third = await f.driver.prepareLock({
        cpoId: e.cpoId,
        ...f.nonces,
        cap: 1n,
        settleDeadline: later + HOUR,
        claimDeadline: later + HOUR + DAY,
      });
      await expect(submitLock(f.pool, third, f.relayer))
        .to.be.revertedWithCustomError(f.pool, "Pool__SessionHasEscrow")
        .withArgs(e.cpoId, e.sessionId, e.escrowId);
      expect(await f.pool.sessionPaid(e.cpoId, e.sessionId)).to.equal(false);
      await expectInvariant(f);
    });
  });

  describe("escrow view and storage", function () {
    it("returns all zeros (status None) for an unknown escrow", async function () {
      const f = await load();
      const stored = await f.pool.escrow(123n);
      expect(stored.status).to.equal(BigInt(EscrowStatus.None));
      expect([
        stored.cpoId,
        stored.cap,
        stored.sessionId,
        stored.refundPrecommitment,
        stored.claimDeadline,
      ]).to.deep.equal([0n, 0n, 0n, 0n, 0n]);
    });

    it("exposes its wiring and windows", async function () {
      const f = await load();
      expect(await f.pool.lockVerifier()).to.equal(f.net.deployment.addresses.lockVerifier);
      expect(await f.pool.closeVerifier()).to.equal(f.net.deployment.addresses.closeVerifier);
      expect(await f.pool.MIN_SETTLE_WINDOW()).to.equal(MIN_SETTLE_WINDOW);
      expect(await f.pool.MIN_CLAIM_WINDOW()).to.equal(MIN_CLAIM_WINDOW);
    });

    it("rejects a zero lock or close verifier at deployment", async function () {
      const f = await load();
      const a = f.net.deployment.addresses;
      const args = [a.token, a.registry, a.payVerifier, a.transactVerifier, a.lockVerifier, a.closeVerifier];
      const libraries = { PoseidonT3: a.poseidon.PoseidonT3, PoseidonT4: a.poseidon.PoseidonT4 };
      for (const i of [4, 5]) {
        const bad = [...args];
        bad[i] = ZeroAddress;
        await expect(ethers.deployContract("Pool", bad, { libraries })).to.be.revertedWithCustomError(
          f.pool,
          "Pool__ZeroAddress",
        );
      }
    });

    it("returns the stored terms, status Open, in the documented layout (three slots)", async function () {
      const f = await loadEscrow();
      const { e } = f;
      const stored = await f.pool.escrow(e.escrowId);
      expect(stored.cpoId).to.equal(e.cpoId);
      expect(stored.sessionId).to.equal(e.sessionId);
      expect(stored.refundPrecommitment).to.equal(e.refundPrecommitment);
      expect(stored.cap).to.equal(e.cap);
      expect(stored.settleDeadline).to.equal(e.settleDeadline);
      expect(stored.claimDeadline).to.equal(e.claimDeadline);
      expect(stored.status).to.equal(BigInt(EscrowStatus.Open));
      expect((await readEscrow(f.pool, e.escrowId)).status).to.equal(EscrowStatus.Open);
      // Read-only check of the layout documented in Pool.sol: the raw slots the real lock wrote match the view.
      const slot = escrowSlot(e.escrowId);
      const word = async (i: bigint) => BigInt(await ethers.provider.getStorage(f.poolAddress, slot + i));
      expect(await word(0n)).to.equal(packedWord(e, EscrowStatus.Open));
      expect(await word(0n)).to.equal(packedWord(stored, Number(stored.status)));
      expect(await word(1n)).to.equal(e.sessionId);
      expect(await word(1n)).to.equal(stored.sessionId);
      expect(await word(2n)).to.equal(e.refundPrecommitment);
      expect(await word(2n)).to.equal(stored.refundPrecommitment);
      expect(await word(3n)).to.equal(0n);
      // sessionEscrow[cpoId][sessionId] at keccak256(sessionId . keccak256(cpoId . 286)).
      const inner = keccak256(
        AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [e.cpoId, SESSION_ESCROW_SLOT]),
      );
      const sessionSlot = keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "bytes32"], [e.sessionId, inner]));
      expect(BigInt(await ethers.provider.getStorage(f.poolAddress, sessionSlot))).to.equal(e.escrowId);
      await expectInvariant(f);
    });
  });

  // ------------------------------------------------------------------------------------------------ close

  describe("close: checks before the proof", function () {
    /** A close whose every check before the proof passes, with the given mode and amount. */
    async function validClose(
      f: Fixture,
      e: OpenEscrow,
      over: Partial<ClosePublicValue> = {},
      extOver: Partial<ExtDataValue> = {},
    ) {
      const ext = extData(extOver);
      const amount = over.amount ?? e.cap / 3n;
      const pub: ClosePublicValue = {
        mode: 0n,
        meterRoot: await f.registry.meterRoot(e.cpoId),
        tariffHash: f.net.tariffHash,
        amount,
        refundCommitment: amount <= e.cap ? noteCommitment(e.refundPrecommitment, e.cap - amount) : 1n,
        extDataHash: hashExt(f, ext),
        ...over,
      };
      return { pub, ext };
    }
    async function closeReverts(
      f: Fixture,
      e: OpenEscrow,
      c: { pub: ClosePublicValue; ext: ExtDataValue },
      error: string,
      from: Signer = f.stranger,
      overrides = {},
    ) {
      await expect(
        f.pool.connect(from).close(e.escrowId, ZERO_PROOF, c.pub, c.ext, overrides),
      ).to.be.revertedWithCustomError(f.pool, error);
    }

    it("refuses an unknown escrow", async function () {
      const f = await loadEscrow();
      const { e } = f;
      const c = await validClose(f, e);
      await expect(f.pool.close(e.escrowId + 1n, ZERO_PROOF, c.pub, c.ext)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__EscrowNotOpen",
      );
      await expect(f.pool.close(0n, ZERO_PROOF, c.pub, c.ext)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__EscrowNotOpen",
      );
    });

    it("mode 0 (session-end record): anyone, any time up to the claim deadline, reaches the verifier", async function () {
      const f = await loadEscrow();
      const { e } = f;
      await closeReverts(f, e, await validClose(f, e), "Pool__InvalidProof", f.stranger);
      await closeReverts(f, e, await validClose(f, e), "Pool__InvalidProof", f.cpo);
      await closeReverts(f, e, await validClose(f, e, { amount: e.cap }), "Pool__InvalidProof");
      await closeReverts(f, e, await validClose(f, e, { amount: 0n }), "Pool__InvalidProof");
      const c = await validClose(f, e);
      await time.setNextBlockTimestamp(e.claimDeadline);
      await closeReverts(f, e, c, "Pool__InvalidProof", f.stranger, NO_ESTIMATE);
    });

    it("mode 0 after the claim deadline is refused", async function () {
      const f = await loadEscrow();
      const { e } = f;
      const c = await validClose(f, e);
      await time.setNextBlockTimestamp(e.claimDeadline + 1n);
      await closeReverts(f, e, c, "Pool__ClaimDeadlinePassed", f.stranger, NO_ESTIMATE);
      await time.increaseTo(e.claimDeadline + 30n * DAY);
      await closeReverts(f, e, c, "Pool__ClaimDeadlinePassed", f.cpo);
    });

    it("refuses a mode other than 0 or 1", async function () {
      const f = await loadEscrow();
      const { e } = f;
      for (const mode of [2n, 255n, 256n, R, (1n << 256n) - 1n]) {
        await closeReverts(f, e, await validClose(f, e, { mode }), "Pool__InvalidMode", f.cpo);
      }
    });

    it("mode 1 (live tail) by anyone but the CPO admin is refused, even in the window", async function () {
      const f = await loadEscrow();
      const { e } = f;
      await time.increaseTo(e.settleDeadline + 1n);
      const c = await validClose(f, e, { mode: 1n });
      for (const who of [f.stranger, f.relayer, f.net.signers.payer, f.net.signers.other /* another CPO's admin */]) {
        await closeReverts(f, e, c, "Pool__NotCpoAdmin", who);
      }
      await closeReverts(f, e, c, "Pool__InvalidProof", f.cpo);
    });

    it("mode 1 up to and at the settle deadline is refused; just after it reaches the verifier", async function () {
      const f = await loadEscrow();
      const { e } = f;
      const c = await validClose(f, e, { mode: 1n });
      await closeReverts(f, e, c, "Pool__BeforeSettleDeadline", f.cpo);
      await time.setNextBlockTimestamp(e.settleDeadline);
      await closeReverts(f, e, c, "Pool__BeforeSettleDeadline", f.cpo, NO_ESTIMATE);
      await time.setNextBlockTimestamp(e.settleDeadline + 1n);
      await closeReverts(f, e, c, "Pool__InvalidProof", f.cpo, NO_ESTIMATE);
      await time.setNextBlockTimestamp(e.claimDeadline);
      await closeReverts(f, e, c, "Pool__InvalidProof", f.cpo, NO_ESTIMATE);
    });

    it("mode 1 after the claim deadline is refused", async function () {
      const f = await loadEscrow();
      const { e } = f;
      const c = await validClose(f, e, { mode: 1n });
      await time.setNextBlockTimestamp(e.claimDeadline + 1n);
      await closeReverts(f, e, c, "Pool__ClaimDeadlinePassed", f.cpo, NO_ESTIMATE);
    });

    it("refuses a meter root that is not the escrow CPO's", async function () {
      const f = await loadEscrow();
      const { e } = f;
      for (const meterRoot of [0n, 1n, (await f.registry.meterRoot(e.cpoId)) + 1n]) {
        await closeReverts(f, e, await validClose(f, e, { meterRoot }), "Pool__InvalidMeterRoot");
      }
    });

    it("refuses a tariff that is unknown or another CPO's", async function () {
      const f = await loadEscrow();
      const { e } = f;
      for (const tariffHash of [0n, f.net.tariffHash + 1n, f.otherTariffHash]) {
        await closeReverts(f, e, await validClose(f, e, { tariffHash }), "Pool__InvalidTariff");
      }
    });

    it("refuses an amount above the cap", async function () {
      const f = await loadEscrow();
      const { e } = f;
      for (const amount of [e.cap + 1n, MAX_VALUE + 1n, R, (1n << 256n) - 1n]) {
        await closeReverts(f, e, await validClose(f, e, { amount, refundCommitment: 1n }), "Pool__AmountAboveCap");
      }
    });

    it("refuses a recipient or an external amount, and ext data changed after proving", async function () {
      const f = await loadEscrow();
      const { e } = f;
      await closeReverts(f, e, await validClose(f, e, {}, { recipient: f.strangerAddress }), "Pool__InvalidExtData");
      await closeReverts(f, e, await validClose(f, e, {}, { extAmount: 5n }), "Pool__InvalidExtData");
      const c = await validClose(f, e, {}, { relayer: f.relayerAddress, encryptedOutput1: "0x01" });
      await closeReverts(f, e, c, "Pool__InvalidProof");
      await closeReverts(f, e, { ...c, ext: { ...c.ext, encryptedOutput1: "0x02" } }, "Pool__ExtDataHashMismatch");
      await closeReverts(f, e, { ...c, ext: { ...c.ext, relayer: ZeroAddress } }, "Pool__ExtDataHashMismatch");
    });

    it("refuses a refund commitment at or above the field modulus", async function () {
      const f = await loadEscrow();
      const { e } = f;
      await closeReverts(f, e, await validClose(f, e, { refundCommitment: R }), "Pool__NotInField");
      await closeReverts(f, e, await validClose(f, e, { refundCommitment: (1n << 256n) - 1n }), "Pool__NotInField");
      await closeReverts(f, e, await validClose(f, e, { refundCommitment: R - 1n }), "Pool__InvalidProof");
    });

    it("refuses a session paid by another route (a real pay), leaving the escrow refundable", async function () {
      const f = await loadEscrow();
      const { e, session } = f;
      await closeReverts(f, e, await validClose(f, e), "Pool__InvalidProof");
      const payment = await f.driver.preparePayment(await f.net.operator.receipt(session));
      await f.net.operator.submitPayment(payment);
      await closeReverts(f, e, await validClose(f, e), "Pool__SessionAlreadyPaid");
      await time.increaseTo(e.claimDeadline + 1n);
      await expect(f.pool.connect(f.stranger).refund(e.escrowId)).to.emit(f.pool, "EscrowRefunded");
      await expectInvariant(f);
    });
  });

  // ------------------------------------------------------------------------------------------------ refund

  describe("refund", function () {
    it("refuses before and at the claim deadline (also after the settle deadline)", async function () {
      const f = await loadEscrow();
      const { e } = f;
      await expect(f.pool.refund(e.escrowId)).to.be.revertedWithCustomError(f.pool, "Pool__BeforeClaimDeadline");
      await time.increaseTo(e.settleDeadline + 1n);
      await expect(f.pool.refund(e.escrowId)).to.be.revertedWithCustomError(f.pool, "Pool__BeforeClaimDeadline");
      await time.setNextBlockTimestamp(e.claimDeadline);
      await expect(f.pool.refund(e.escrowId, NO_ESTIMATE)).to.be.revertedWithCustomError(
        f.pool,
        "Pool__BeforeClaimDeadline",
      );
    });

    it("refuses an unknown escrow", async function () {
      const f = await load();
      await expect(f.pool.refund(0n)).to.be.revertedWithCustomError(f.pool, "Pool__EscrowNotOpen");
      await expect(f.pool.refund(R - 1n)).to.be.revertedWithCustomError(f.pool, "Pool__EscrowNotOpen");
    });

    it("after the claim deadline, anyone returns the whole cap as the owner's note, exactly once", async function () {
      const f = await load();
      const e = await openEscrow(f, { cap: 12_345_678n });
      const balance = await f.testToken.balanceOf(f.poolAddress);
      const size = await f.pool.noteTreeSize();
      const commitment = noteCommitment(e.refundPrecommitment, e.cap);
      await expectInvariant(f);

      await time.setNextBlockTimestamp(e.claimDeadline + 1n);
      const tx = f.pool.connect(f.stranger).refund(e.escrowId, NO_ESTIMATE);
      await expect(tx).to.emit(f.pool, "EscrowRefunded").withArgs(e.escrowId, commitment);
      await expect(tx).to.emit(f.pool, "NoteAdded").withArgs(size, commitment, "0x");
      const receipt = await (await tx).wait();
      console.log(`      refund gas: ${receipt!.gasUsed} (tree size ${size} -> ${size + 1n})`);

      expect((await readEscrow(f.pool, e.escrowId)).status).to.equal(EscrowStatus.Refunded);
      expect(await f.pool.noteTreeSize()).to.equal(size + 1n);
      expect(await f.pool.isKnownRoot(await f.pool.noteRoot(), size + 1n)).to.equal(true);
      expect(await f.testToken.balanceOf(f.poolAddress)).to.equal(balance);
      expect(await f.pool.sessionPaid(e.cpoId, e.sessionId)).to.equal(false);
      await expectInvariant(f);
      // The driver's wallet, rebuilt from events, holds the refund note.
      expect(f.driver.escrows.find((x) => x.escrowId === e.escrowId)?.status).to.equal(EscrowStatus.Refunded);
      // The status sits at bit 208 of the escrow's first word (read-only check of the documented layout).
      expect(BigInt(await ethers.provider.getStorage(f.poolAddress, escrowSlot(e.escrowId)))).to.equal(
        packedWord(e, EscrowStatus.Refunded),
      );

      // Exactly once: no second refund, no close afterwards.
      await expect(f.pool.refund(e.escrowId)).to.be.revertedWithCustomError(f.pool, "Pool__EscrowNotOpen");
      const c = {
        mode: 0n,
        meterRoot: await f.registry.meterRoot(e.cpoId),
        tariffHash: f.net.tariffHash,
        amount: 0n,
        refundCommitment: commitment,
        extDataHash: hashExt(f, extData()),
      };
      await expect(f.pool.connect(f.cpo).close(e.escrowId, ZERO_PROOF, c, extData())).to.be.revertedWithCustomError(
        f.pool,
        "Pool__EscrowNotOpen",
      );
    });

    it("gas of a refund at a larger tree (several escrows refunded in a row)", async function () {
      const f = await load();
      const escrows: OpenEscrow[] = [];
      for (let i = 0; i < 4; i++) escrows.push(await openEscrow(f, { cap: 1_000_000n + BigInt(i) }));
      await time.increaseTo(escrows.at(-1)!.claimDeadline + 1n);
      const gas: bigint[] = [];
      for (const e of escrows) {
        const size = await f.pool.noteTreeSize();
        const receipt = await (await f.pool.connect(f.stranger).refund(e.escrowId)).wait();
        gas.push(receipt!.gasUsed);
        expect(await f.pool.noteTreeSize()).to.equal(size + 1n);
      }
      console.log(`      refund gas at sizes ${(await f.pool.noteTreeSize()) - 4n}..: ${gas.join(", ")}`);
      await expectInvariant(f);
    });
  });
});
