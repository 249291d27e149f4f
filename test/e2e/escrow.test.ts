/**
 * Escrowed sessions end to end on a real Hardhat chain with real proofs and time travel: the
 * settle path (close by the session-end record), the dispute path (the driver disappears, the CPO
 * closes from the last live tail after the settle deadline, the driver later spends its refund),
 * the refund path (nobody closes; the full cap returns after the claim deadline), and the outside
 * review's attack: a second, tiny-cap escrow for a session the CPO switched on for (one escrow per
 * session, ever, so it is refused and the accepted escrow settles the whole bill).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { shutdownProver } from "../../prover/index.ts";
import { Driver, submitLock, submitTransaction } from "../../sdk/actors/driver.ts";
import { EscrowStatus, prepareClose, readEscrow, submitClose } from "../../sdk/actors/escrow.ts";
import { sessionId as makeSessionId } from "../../sdk/core/hash.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import type { LiveTail } from "../../sdk/meter/record.ts";
import { EscrowRejectedError } from "../../sdk/actors/operator.ts";
import { computeBill } from "../../sdk/tariff/tariff.ts";
import { HOUR, freshNonces, nextLocalTime, setUpNetwork, type Network } from "../fixtures/chain.ts";
import { expectFailure } from "../fixtures/expect.ts";
import { simulateCharging } from "../../sdk/meter/simulator.ts";

const { ethers, networkHelpers } = await network.create();
const MINUTE = 60n;
const DAY = 86_400n;

async function chainNow(): Promise<bigint> {
  return BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
}

/** Token balance of the pool == unspent notes + open escrows + CPO balances. */
async function expectInvariant(net: Network, drivers: Driver[]): Promise<void> {
  const { pool, token } = net.deployment;
  let held = await pool.cpoBalance(net.operator.cpoId);
  for (const d of drivers) {
    await d.sync();
    held += d.balance + d.escrows.filter((e) => e.status === EscrowStatus.Open).reduce((s, e) => s + e.cap, 0n);
  }
  expect(await token.balanceOf(await pool.getAddress())).to.equal(held);
}

describe("end to end: escrowed sessions", function () {
  this.timeout(600_000);
  after(shutdownProver);

  let net: Network;
  let driver: Driver;

  before(async () => {
    net = await setUpNetwork(ethers);
    driver = new Driver(DriverIdentity.random(), net.deployment.pool.connect(ethers.provider));
    await driver.deposit(60_000_000n, net.signers.payer);
  });

  /**
   * Plug-in: the station's and the driver's fresh nonces make the session id, the driver locks an escrow for it
   * through the relayer (the proof shows the nonces), the CPO checks it.
   */
  async function plugIn(cap: bigint) {
    const now = await chainNow();
    const start = nextLocalTime(now + HOUR, 16n * HOUR + 30n * MINUTE, net.tariff.tzOffset);
    const nonces = freshNonces();
    const sessionId = makeSessionId(nonces.stationNonce, nonces.driverNonce);
    const { locking: lock, receipt } = await driver.lock(
      {
        cpoId: net.operator.cpoId,
        ...nonces,
        sessionId,
        cap,
        settleDeadline: start + 3n * HOUR,
        claimDeadline: start + 3n * HOUR + 2n * DAY,
      },
      net.signers.relayer,
    );
    expect(receipt.from).to.equal(await net.signers.relayer.getAddress());
    const escrow = await net.operator.verifyEscrow(lock.escrowId, { sessionId, minCap: cap, minSecondsToSettle: HOUR });
    await networkHelpers.time.increaseTo(start);
    const live = net.meter.startSession({ sessionId, tariff: net.tariff, t: start, e: 1_000_000n });
    return { lock, escrow, live, start, sessionId, nonces };
  }

  it("settles: the CPO checks the escrow, charges, and closes with the session-end record", async () => {
    const { pool } = net.deployment;
    const { lock, live, start, nonces } = await plugIn(30_000_000n);
    const readings = simulateCharging(live, { to: start + 70n * MINUTE, powerW: 11_000n, stepSeconds: 300n });
    const last = readings.at(-1)!;
    const session = live.end(last.t, last.e);
    await networkHelpers.time.increaseTo(start + 71n * MINUTE);

    const { closing, receipt } = await net.operator.close(lock.escrowId, session);
    const bill = computeBill(session.points, session.tariff, session.ratedPowerW).amount;
    expect(closing.pub.amount).to.equal(bill);
    expect(receipt.status).to.equal(1);
    expect((await readEscrow(pool, lock.escrowId)).status).to.equal(EscrowStatus.Closed);
    expect(await pool.sessionPaid(net.operator.cpoId, session.sessionId)).to.equal(true);

    // Closed once: a second close (even a correct one) is refused; so is a refund.
    const again = await prepareClose(pool, lock.escrowId, session, (await net.operator.receipt(session)).meterPath);
    await expect(submitClose(pool, again, net.signers.cpo)).to.be.revertedWithCustomError(pool, "Pool__EscrowNotOpen");
    await expect(pool.refund(lock.escrowId)).to.be.revertedWithCustomError(pool, "Pool__EscrowNotOpen");

    // The session is paid: no new escrow can squat it (not even its own driver's, with the right nonces).
    const now = await chainNow();
    const squat = await driver.prepareLock({
      cpoId: net.operator.cpoId,
      ...nonces,
      sessionId: session.sessionId,
      cap: 1n,
      settleDeadline: now + HOUR,
      claimDeadline: now + HOUR + DAY + 60n,
    });
    await expect(submitLock(pool, squat, net.signers.relayer)).to.be.revertedWithCustomError(
      pool,
      "Pool__SessionAlreadyPaid",
    );

    // The refund of cap - bill is back in the driver's wallet, rebuilt from events alone.
    const restored = new Driver(DriverIdentity.fromSecret(driver.identity.export()), pool.connect(ethers.provider));
    await restored.sync();
    const escrow = restored.escrows.find((e) => e.escrowId === lock.escrowId)!;
    expect(escrow.status).to.equal(EscrowStatus.Closed);
    expect(escrow.charged).to.equal(bill);
    expect(restored.balance).to.equal(60_000_000n - bill);
    await expectInvariant(net, [driver]);
  });

  it("disputes: the driver disappears, the CPO closes from the last live tail after the settle deadline", async () => {
    const { pool } = net.deployment;
    const balanceBefore = (await driver.sync(), driver.balance);
    const { lock, live, start } = await plugIn(20_000_000n);
    const readings = simulateCharging(live, { to: start + 40n * MINUTE, powerW: 11_000n, stepSeconds: 300n });
    const tail = readings.filter((r): r is LiveTail => r.kind === "live").at(-1)!;
    const evidence = live.evidence(tail);

    // Too early: the tail may only close after the settle deadline, and only by the CPO.
    const { meterPath } = await net.operator.receipt(evidence);
    const closing = await prepareClose(pool, lock.escrowId, evidence, meterPath);
    await expect(submitClose(pool, closing, net.signers.cpo)).to.be.revertedWithCustomError(
      pool,
      "Pool__BeforeSettleDeadline",
    );
    await networkHelpers.time.increaseTo(lock.pub.settleDeadline + 1n);
    // The driver (or anyone but the CPO) closing with a cheap early tail is refused.
    await expect(submitClose(pool, closing, net.signers.other)).to.be.revertedWithCustomError(
      pool,
      "Pool__NotCpoAdmin",
    );
    const receipt = await submitClose(pool, closing, net.signers.cpo);
    const bill = computeBill([...evidence.points, evidence.tail], evidence.tariff, evidence.ratedPowerW).amount;
    expect(closing.pub.amount).to.equal(bill);
    expect(receipt.status).to.equal(1);

    // The driver comes back later, finds its refund note from events, and spends it (withdraws).
    await driver.sync();
    expect(driver.balance).to.equal(balanceBefore - bill);
    const fresh = ethers.Wallet.createRandom().address;
    const withdrawal = await driver.prepareWithdraw({
      to: fresh,
      relayer: await net.signers.relayer.getAddress(),
      fee: 0n,
      amount: 5_000_000n,
    });
    await submitTransaction(pool, withdrawal, net.signers.relayer);
    expect(await net.deployment.token.balanceOf(fresh)).to.equal(5_000_000n);
    await expectInvariant(net, [driver]);
  });

  it("refunds in full after the claim deadline when nobody closes, never before, and pays a session once", async () => {
    const { pool } = net.deployment;
    const { lock, sessionId, nonces } = await plugIn(10_000_000n);
    await expect(pool.refund(lock.escrowId)).to.be.revertedWithCustomError(pool, "Pool__BeforeClaimDeadline");
    expect(await driver.refundable()).to.deep.equal([]);

    // A second escrow for the same session is refused while the first is open ...
    const second = await driver.prepareLock({
      cpoId: net.operator.cpoId,
      ...nonces,
      cap: 5_000_000n,
      settleDeadline: (await chainNow()) + HOUR,
      claimDeadline: (await chainNow()) + HOUR + DAY + 60n,
    });
    await expect(submitLock(pool, second, net.signers.relayer))
      .to.be.revertedWithCustomError(pool, "Pool__SessionHasEscrow")
      .withArgs(net.operator.cpoId, sessionId, lock.escrowId);

    await networkHelpers.time.increaseTo(lock.pub.claimDeadline + 1n);
    const refundable = (await driver.refundable()).map((e) => e.escrowId);
    expect(refundable).to.include(lock.escrowId);
    const before = (await driver.sync(), driver.balance);
    await driver.refund(lock.escrowId, net.signers.other);
    await driver.sync();
    expect(driver.balance).to.equal(before + 10_000_000n);
    await expectInvariant(net, [driver]);

    // ... and after it was refunded: the session keeps its one escrow, ever (it can still be paid by `pay`).
    const now = await chainNow();
    const late = await driver.prepareLock({
      cpoId: net.operator.cpoId,
      ...nonces,
      cap: 1n,
      settleDeadline: now + HOUR,
      claimDeadline: now + HOUR + DAY,
    });
    await expect(submitLock(pool, late, net.signers.relayer))
      .to.be.revertedWithCustomError(pool, "Pool__SessionHasEscrow")
      .withArgs(net.operator.cpoId, sessionId, lock.escrowId);
    expect(await pool.sessionEscrow(net.operator.cpoId, sessionId)).to.equal(lock.escrowId);
    await expectFailure(
      net.operator.verifyEscrow(lock.escrowId, { sessionId, minCap: 1n, minSecondsToSettle: 0n }),
      EscrowRejectedError,
      /no longer open/,
    );
  });

  it("soundness checklist: two escrows for one session - the review's attack (a second cap-1 escrow) cannot settle it", async () => {
    // The outside review, step by step: the driver locks 30.00 EUR, the CPO checks it and switches on; while
    // charging, the driver locks a second escrow with cap 1 base unit for the same (cpoId, sessionId) and means
    // to close it with the session-end record (mode 0 is open to anyone), leaving the 30 EUR one to a refund.
    const { pool } = net.deployment;
    const cpoId = net.operator.cpoId;
    const { lock, live, start, sessionId, nonces } = await plugIn(30_000_000n);
    expect(await pool.sessionEscrow(cpoId, sessionId)).to.equal(lock.escrowId);
    simulateCharging(live, { to: start + 30n * MINUTE, powerW: 11_000n, stepSeconds: 300n });
    await networkHelpers.time.increaseTo(start + 30n * MINUTE);

    // While charging: a real proof of a cap-1 lock for the same session (the driver knows the nonces, so its
    // proof is valid), submitted by the relayer and by another account.
    const now = await chainNow();
    const tiny = await driver.prepareLock({
      cpoId,
      ...nonces,
      sessionId,
      cap: 1n,
      settleDeadline: now + HOUR,
      claimDeadline: now + HOUR + DAY,
    });
    for (const submitter of [net.signers.relayer, net.signers.other]) {
      await expect(submitLock(pool, tiny, submitter))
        .to.be.revertedWithCustomError(pool, "Pool__SessionHasEscrow")
        .withArgs(cpoId, sessionId, lock.escrowId);
    }
    expect(await pool.nullifierSpent(tiny.escrowId)).to.equal(false); // the driver's note is untouched
    expect((await readEscrow(pool, tiny.escrowId)).status).to.equal(EscrowStatus.None);

    // The session ends; the CPO closes the escrow it accepted with the session-end record: the whole bill.
    simulateCharging(live, { to: start + 70n * MINUTE, powerW: 11_000n, stepSeconds: 300n });
    const last = live.lastReading;
    const session = live.end(last.t, last.e);
    await networkHelpers.time.increaseTo(last.t + MINUTE);
    const bill = computeBill(session.points, session.tariff, session.ratedPowerW).amount;
    expect(bill).to.be.greaterThan(1_000_000n);
    const earnedBefore = await pool.cpoBalance(cpoId);
    const { closing } = await net.operator.close(lock.escrowId, session);
    expect(closing.pub.amount).to.equal(bill);
    expect(await pool.cpoBalance(cpoId)).to.equal(earnedBefore + bill);
    expect(await pool.sessionPaid(cpoId, sessionId)).to.equal(true);
    expect((await readEscrow(pool, lock.escrowId)).status).to.equal(EscrowStatus.Closed);
    // Nothing is left to refund: the 30 EUR escrow paid the bill and returned only cap - bill.
    await networkHelpers.time.increaseTo(lock.pub.claimDeadline + 1n);
    await expect(pool.refund(lock.escrowId)).to.be.revertedWithCustomError(pool, "Pool__EscrowNotOpen");
    await driver.sync();
    expect(driver.escrows.find((e) => e.escrowId === lock.escrowId)?.charged).to.equal(bill);
    await expectInvariant(net, [driver]);
  });
});
