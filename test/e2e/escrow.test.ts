/**
 * Escrowed sessions end to end on a real Hardhat chain with real proofs and time travel: the
 * settle path (close by the session-end record), the dispute path (the driver disappears, the CPO
 * closes from the last live tail after the settle deadline, the driver later spends its refund),
 * and the refund path (nobody closes; the full cap returns after the claim deadline).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { shutdownProver } from "../../prover/index.ts";
import { Driver, submitLock, submitTransaction } from "../../sdk/actors/driver.ts";
import { EscrowStatus, prepareClose, readEscrow, submitClose } from "../../sdk/actors/escrow.ts";
import { sessionId as makeSessionId } from "../../sdk/core/hash.ts";
import { randomBits } from "../../sdk/core/field.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import type { LiveTail } from "../../sdk/meter/record.ts";
import { EscrowRejectedError } from "../../sdk/actors/operator.ts";
import { computeBill } from "../../sdk/tariff/tariff.ts";
import { HOUR, nextLocalTime, setUpNetwork, type Network } from "../fixtures/chain.ts";
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

  /** Plug-in: a fresh session id, an escrow locked through the relayer, checked by the CPO. */
  async function plugIn(cap: bigint) {
    const now = await chainNow();
    const start = nextLocalTime(now + HOUR, 16n * HOUR + 30n * MINUTE, net.tariff.tzOffset);
    const sessionId = makeSessionId(randomBits(128), randomBits(128));
    const { locking: lock, receipt } = await driver.lock({
      cpoId: net.operator.cpoId, sessionId, cap,
      settleDeadline: start + 3n * HOUR, claimDeadline: start + 3n * HOUR + 2n * DAY,
    }, net.signers.relayer);
    expect(receipt.from).to.equal(await net.signers.relayer.getAddress());
    const escrow = await net.operator.verifyEscrow(lock.escrowId, { sessionId, minCap: cap, minSecondsToSettle: HOUR });
    await networkHelpers.time.increaseTo(start);
    const live = net.meter.startSession({ sessionId, tariff: net.tariff, t: start, e: 1_000_000n });
    return { lock, escrow, live, start, sessionId };
  }

  it("settles: the CPO checks the escrow, charges, and closes with the session-end record", async () => {
    const { pool } = net.deployment;
    const { lock, live, start } = await plugIn(30_000_000n);
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

    // The session is paid: no new escrow can squat it.
    const now = await chainNow();
    const squat = await driver.prepareLock({ cpoId: net.operator.cpoId, sessionId: session.sessionId, cap: 1n,
      settleDeadline: now + HOUR, claimDeadline: now + HOUR + DAY + 60n });
    await expect(submitLock(pool, squat, net.signers.relayer)).to.be.revertedWithCustomError(pool, "Pool__SessionAlreadyPaid");

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
    await expect(submitClose(pool, closing, net.signers.cpo)).to.be.revertedWithCustomError(pool, "Pool__BeforeSettleDeadline");
    await networkHelpers.time.increaseTo(lock.pub.settleDeadline + 1n);
    // The driver (or anyone but the CPO) closing with a cheap early tail is refused.
    await expect(submitClose(pool, closing, net.signers.other)).to.be.revertedWithCustomError(pool, "Pool__NotCpoAdmin");
    const receipt = await submitClose(pool, closing, net.signers.cpo);
    const bill = computeBill([...evidence.points, evidence.tail], evidence.tariff, evidence.ratedPowerW).amount;
    expect(closing.pub.amount).to.equal(bill);
    expect(receipt.status).to.equal(1);

    // The driver comes back later, finds its refund note from events, and spends it (withdraws).
    await driver.sync();
    expect(driver.balance).to.equal(balanceBefore - bill);
    const fresh = ethers.Wallet.createRandom().address;
    const withdrawal = await driver.prepareWithdraw({ to: fresh, relayer: await net.signers.relayer.getAddress(), fee: 0n, amount: 5_000_000n });
    await submitTransaction(pool, withdrawal, net.signers.relayer);
    expect(await net.deployment.token.balanceOf(fresh)).to.equal(5_000_000n);
    await expectInvariant(net, [driver]);
  });

  it("refunds in full after the claim deadline when nobody closes, never before, and pays a session once", async () => {
    const { pool } = net.deployment;
    const { lock, sessionId } = await plugIn(10_000_000n);
    await expect(pool.refund(lock.escrowId)).to.be.revertedWithCustomError(pool, "Pool__BeforeClaimDeadline");
    expect(await driver.refundable()).to.deep.equal([]);

    // A second escrow for the same session is allowed (nobody can squat it) ...
    const second = await driver.prepareLock({
      cpoId: net.operator.cpoId, sessionId, cap: 5_000_000n,
      settleDeadline: (await chainNow()) + HOUR, claimDeadline: (await chainNow()) + HOUR + DAY + 60n,
    });
    await submitLock(pool, second, net.signers.relayer);
    await expectFailure(net.operator.verifyEscrow(second.escrowId, { sessionId, minCap: 10_000_000n, minSecondsToSettle: 0n }),
      EscrowRejectedError, /below the required/);

    await networkHelpers.time.increaseTo(lock.pub.claimDeadline + 1n);
    const refundable = (await driver.refundable()).map((e) => e.escrowId);
    expect(refundable).to.include(lock.escrowId);
    const before = (await driver.sync(), driver.balance);
    await driver.refund(lock.escrowId, net.signers.other);
    await driver.sync();
    expect(driver.balance).to.equal(before + 10_000_000n);
    await expectInvariant(net, [driver]);
  });
});
