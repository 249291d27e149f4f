/**
 * The whole story through the SDK on a real Hardhat chain with real proofs: a CPO registers a
 * meter and a tariff, a driver deposits, charges across a band boundary, proves; the CPO checks,
 * submits and withdraws; the driver's wallet is rebuilt from events alone and withdraws its change
 * through a relayer. Then the cheats that only the chain can stop.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { Driver, submitTransaction, type Payment } from "../../sdk/actors/driver.ts";
import { FIELD_MODULUS } from "../../sdk/core/constants.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import { Meter } from "../../sdk/meter/meter.ts";
import { PaymentRejectedError } from "../../sdk/actors/operator.ts";
import { shutdownProver } from "../../prover/index.ts";
import { chargeSession, setUpNetwork, type Network } from "../fixtures/chain.ts";
import { expectFailure } from "../fixtures/expect.ts";

const { ethers, networkHelpers } = await network.create();

async function poolInvariant(net: Network, drivers: Driver[]): Promise<void> {
  const { token, pool } = net.deployment;
  let notes = 0n;
  for (const d of drivers) notes += (await d.sync()).reduce((s, o) => s + o.note.value, 0n);
  const cpo = await pool.cpoBalance(net.operator.cpoId);
  expect(await token.balanceOf(await pool.getAddress())).to.equal(notes + cpo);
}

describe("end to end: pay for a charging session", function () {
  this.timeout(600_000);
  after(shutdownProver);

  let net: Network;
  let driver: Driver;
  let payment: Payment;

  before(async () => {
    net = await setUpNetwork(ethers);
    driver = new Driver(DriverIdentity.random(), net.deployment.pool.connect(ethers.provider));
  });

  it("deposits, pays a session across a band boundary, and lets the CPO withdraw", async () => {
    const { pool, token } = net.deployment;
    await driver.deposit(50_000_000n, net.signers.payer);
    await driver.sync();
    expect(driver.balance).to.equal(50_000_000n);

    const session = chargeSession(net.meter, net.tariff, net.now);
    const receipt = await net.operator.receipt(session);
    payment = await driver.preparePayment(receipt);
    expect(payment.bill.perInterval.map((i) => i.band)).to.deep.equal([1, 2]);
    await net.operator.checkPayment(payment, session);

    const tx = await net.operator.submitPayment(payment);
    expect(tx.gasUsed).to.be.lessThan(600_000n);
    await expect(tx)
      .to.emit(pool, "SessionPaid")
      .withArgs(net.operator.cpoId, session.sessionId, net.tariffHash, payment.pub.amount, 0n);
    expect(await pool.cpoBalance(net.operator.cpoId)).to.equal(payment.pub.amount);

    await driver.sync();
    expect(driver.balance).to.equal(50_000_000n - payment.pub.amount);
    await poolInvariant(net, [driver]);

    const payout = await net.signers.cpo.getAddress();
    const before = await token.balanceOf(payout);
    await expect(net.operator.withdraw()).to.emit(pool, "CpoWithdrawal");
    expect(await token.balanceOf(payout)).to.equal(before + payment.pub.amount);
  });

  it("refuses the same payment twice (reused nullifier) and the same session from another note", async () => {
    const { pool } = net.deployment;
    await expectFailure(net.operator.checkPayment(payment), PaymentRejectedError, /already spent/);
    await expect(
      pool.connect(net.signers.cpo).pay(payment.proof, payment.pub, payment.ext),
    ).to.be.revertedWithCustomError(pool, "Pool__NullifierSpent");

    // A second driver proves the very same signed session from its own note: paid once, whoever pays.
    const other = new Driver(DriverIdentity.random(), pool.connect(ethers.provider));
    await other.deposit(10_000_000n, net.signers.other);
    const session = chargeSession(net.meter, net.tariff, net.now);
    const first = await driver.preparePayment(await net.operator.receipt(session));
    await net.operator.submitPayment(first);
    const replay = await other.preparePayment(await net.operator.receipt(session));
    await expectFailure(net.operator.checkPayment(replay), PaymentRejectedError, /already paid/);
    await expect(pool.connect(net.signers.cpo).pay(replay.proof, replay.pub, replay.ext)).to.be.revertedWithCustomError(
      pool,
      "Pool__SessionAlreadyPaid",
    );
    await poolInvariant(net, [driver, other]);
  });

  it("refuses ext data changed after proving, and a public input at or above the field modulus", async () => {
    const { pool } = net.deployment;
    const session = chargeSession(net.meter, net.tariff, net.now);
    const p = await driver.preparePayment({
      ...(await net.operator.receipt(session)),
      fee: 10_000n,
      relayer: await net.signers.relayer.getAddress(),
    });
    const cpoPool = pool.connect(net.signers.cpo);
    const thief = await net.signers.other.getAddress();
    await expect(cpoPool.pay(p.proof, p.pub, { ...p.ext, relayer: thief })).to.be.revertedWithCustomError(
      pool,
      "Pool__ExtDataHashMismatch",
    );
    const forgedExt = { ...p.ext, relayer: thief };
    const { extDataHash } = await import("../../sdk/core/hash.ts");
    const { chainId } = await ethers.provider.getNetwork();
    const forgedHash = extDataHash({ chainId, pool: await pool.getAddress(), ...forgedExt });
    await expect(cpoPool.pay(p.proof, { ...p.pub, extDataHash: forgedHash }, forgedExt)).to.be.revertedWithCustomError(
      pool,
      "Pool__InvalidProof",
    );
    // amount + r is the same field element: the pool must refuse it, not reduce it.
    await expect(
      cpoPool.pay(p.proof, { ...p.pub, amount: p.pub.amount + FIELD_MODULUS }, p.ext),
    ).to.be.revertedWithCustomError(pool, "Pool__AmountOutOfRange");
    await expect(
      cpoPool.pay(p.proof, { ...p.pub, sessionId: p.pub.sessionId + FIELD_MODULUS }, p.ext),
    ).to.be.revertedWithCustomError(pool, "Pool__NotInField");
    // The honest one still settles, and the relayer gets its fee.
    const relayer = await net.signers.relayer.getAddress();
    const before = await net.deployment.token.balanceOf(relayer);
    await net.operator.submitPayment(p);
    expect(await net.deployment.token.balanceOf(relayer)).to.equal(before + 10_000n);
  });

  it("refuses a meter revoked since: payments proved against the old meter root fail", async () => {
    const { pool } = net.deployment;
    const session = chargeSession(net.meter, net.tariff, net.now);
    const stale = await driver.preparePayment(await net.operator.receipt(session));
    const spare = new Meter({ cpoId: net.operator.cpoId, ratedPowerW: 11_000n });
    await net.operator.addMeter(spare);
    await net.operator.revokeMeter(net.meter.leaf);
    await expectFailure(net.operator.checkPayment(stale), PaymentRejectedError, /meter root/);
    await expect(pool.connect(net.signers.cpo).pay(stale.proof, stale.pub, stale.ext)).to.be.revertedWithCustomError(
      pool,
      "Pool__InvalidMeterRoot",
    );
    const fresh = await net.operator.receipt(chargeSession(spare, net.tariff, net.now));
    expect(fresh.meterPath.leaf).to.equal(spare.leaf);
  });

  it("rebuilds the wallet from events alone, merges, and withdraws the change to a fresh address via a relayer", async () => {
    const { pool, token } = net.deployment;
    await driver.deposit(3_000_000n, net.signers.payer);
    const restored = new Driver(DriverIdentity.fromSecret(driver.identity.export()), pool.connect(ethers.provider));
    const notes = await restored.sync();
    expect(notes.length).to.be.greaterThan(1);
    expect(restored.balance).to.equal((await driver.sync(), driver.balance));

    const merge = await restored.prepareMerge();
    await submitTransaction(pool, merge, net.signers.relayer);
    await restored.sync();
    const balance = restored.balance;

    const fresh = ethers.Wallet.createRandom().address;
    const fee = 20_000n;
    const withdrawal = await restored.prepareWithdraw({
      to: fresh,
      relayer: await net.signers.relayer.getAddress(),
      fee,
    });
    const receipt = await submitTransaction(pool, withdrawal, net.signers.relayer);
    expect(receipt.from).to.equal(await net.signers.relayer.getAddress());
    expect(await token.balanceOf(fresh)).to.equal(balance - fee);
    await restored.sync();
    expect(restored.balance).to.equal(0n);
    await networkHelpers.mine();
  });
});
