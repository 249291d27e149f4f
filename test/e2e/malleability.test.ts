/**
 * Groth16 proofs are malleable: anyone holding a proof (A, B, C) can make other valid proofs of the same
 * statement without any secret, e.g. (-A, -B, C) or (r·A, r⁻¹·B, C) for any scalar r, since
 * e(r·A, r⁻¹·B) = e(A, B). A third party watching the mempool can therefore re-randomise a pending proof
 * and submit its copy first. The pool must not care: nothing keys on proof bytes (spends are keyed by the
 * nullifier, sessions by (cpoId, sessionId), escrows by the lock's nullifier), and everything a copy could
 * redirect (relayer, recipient, encrypted outputs) is bound by extDataHash. So the copy pays exactly what
 * the original would (same CPO, amount, relayer fee and change note), and the original then reverts as spent.
 * On a real Hardhat chain with real proofs; the copies are made with @noble/curves' BN254 arithmetic.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { bn254 } from "@noble/curves/bn254.js";
import { shutdownProver, type SolidityCalldata } from "../../prover/index.ts";
import { Driver, submitLock } from "../../sdk/actors/driver.ts";
import { EscrowStatus, readEscrow } from "../../sdk/actors/escrow.ts";
import { randomFieldElement } from "../../sdk/core/field.ts";
import { sessionId as makeSessionId } from "../../sdk/core/hash.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import { lockSignalArray, paySignalArray } from "../../sdk/proofs/publicSignals.ts";
import { DAY, HOUR, chargeSession, freshNonces, setUpNetwork, type Network } from "../fixtures/chain.ts";

const { ethers } = await network.create();
const G1 = bn254.G1.Point;
const G2 = bn254.G2.Point;
const ORDER = G1.Fn.ORDER;

/** The calldata's G1 / G2 points (b's coordinates are [c1, c0] pairs, as the EVM precompile takes them). */
function points(p: SolidityCalldata) {
  const A = G1.fromAffine({ x: p.a[0], y: p.a[1] });
  const B = G2.fromAffine({ x: { c0: p.b[0][1], c1: p.b[0][0] }, y: { c0: p.b[1][1], c1: p.b[1][0] } });
  const C = G1.fromAffine({ x: p.c[0], y: p.c[1] });
  return { A, B, C };
}

function calldata(A: typeof G1.BASE, B: typeof G2.BASE, C: typeof G1.BASE): SolidityCalldata {
  const a = A.toAffine();
  const b = B.toAffine();
  const c = C.toAffine();
  return {
    a: [a.x, a.y],
    b: [
      [b.x.c1, b.x.c0],
      [b.y.c1, b.y.c0],
    ],
    c: [c.x, c.y],
  };
}

/** (r·A, r⁻¹·B, C): the same statement, different bytes, no secret needed. */
function rescaled(p: SolidityCalldata, r: bigint): SolidityCalldata {
  const { A, B, C } = points(p);
  return calldata(A.multiply(r), B.multiply(G1.Fn.inv(r)), C);
}

/** (-A, -B, C). */
function negated(p: SolidityCalldata): SolidityCalldata {
  const { A, B, C } = points(p);
  return calldata(A.negate(), B.negate(), C);
}

describe("Groth16 malleability: a re-randomised copy of a pending proof pays exactly what the original would", function () {
  this.timeout(600_000);
  after(shutdownProver);

  let net: Network;
  let driver: Driver;

  before(async () => {
    net = await setUpNetwork(ethers);
    driver = new Driver(DriverIdentity.random(), net.deployment.pool.connect(ethers.provider));
    await driver.deposit(50_000_000n, net.signers.payer);
  });

  it("pay: a stranger's re-randomised copy, submitted first, pays the same CPO, amount, relayer fee and change", async () => {
    const { pool, payVerifier, token } = net.deployment;
    const relayerAddress = await net.signers.relayer.getAddress();
    const stranger = net.signers.other;
    const strangerAddress = await stranger.getAddress();
    const session = chargeSession(net.meter, net.tariff, net.now);
    const fee = 40_000n;
    const payment = await driver.preparePayment({
      ...(await net.operator.receipt(session)),
      fee,
      relayer: relayerAddress,
    });
    await net.operator.checkPayment(payment, session); // the CPO accepted it; it is pending

    // The copies are different bytes, and the on-chain verifier accepts each for the same public signals.
    const signals = paySignalArray(payment.pub);
    const copies = [
      rescaled(payment.proof, 1n + (randomFieldElement() % (ORDER - 1n))),
      rescaled(payment.proof, 7n),
      negated(payment.proof),
    ];
    for (const copy of copies) {
      expect(copy.a, "a copy differs from the original").to.not.deep.equal(payment.proof.a);
      expect(await payVerifier.verifyProof(copy.a, copy.b, copy.c, signals)).to.equal(true);
    }
    expect(await payVerifier.verifyProof(payment.proof.a, payment.proof.b, payment.proof.c, signals)).to.equal(true);

    // The copy cannot take the fee: redirecting it breaks extDataHash.
    await expect(
      pool.connect(stranger).pay(copies[0]!, payment.pub, { ...payment.ext, relayer: strangerAddress }),
    ).to.be.revertedWithCustomError(pool, "Pool__ExtDataHashMismatch");

    // Submitted first, the copy pays exactly what the original would, to the same parties.
    const cpoBefore = await pool.cpoBalance(net.operator.cpoId);
    const relayerBefore = await token.balanceOf(relayerAddress);
    const strangerBefore = await token.balanceOf(strangerAddress);
    const size = await pool.noteTreeSize();
    const tx = pool.connect(stranger).pay(copies[0]!, payment.pub, payment.ext);
    await expect(tx)
      .to.emit(pool, "SessionPaid")
      .withArgs(net.operator.cpoId, session.sessionId, net.tariffHash, payment.pub.amount, fee);
    await expect(tx)
      .to.emit(pool, "NoteAdded")
      .withArgs(size, payment.pub.changeCommitment, payment.ext.encryptedOutput1);
    expect(await pool.cpoBalance(net.operator.cpoId)).to.equal(cpoBefore + payment.bill.amount);
    expect(await token.balanceOf(relayerAddress)).to.equal(relayerBefore + fee);
    expect(await token.balanceOf(strangerAddress)).to.equal(strangerBefore); // it paid the gas, nothing more
    await driver.sync();
    expect(driver.balance).to.equal(50_000_000n - payment.bill.amount - fee); // the change note is the driver's

    // The original (and every other copy) then reverts as spent, before the session check.
    await expect(net.operator.submitPayment(payment)).to.be.revertedWithCustomError(pool, "Pool__NullifierSpent");
    for (const copy of copies.slice(1)) {
      await expect(pool.connect(stranger).pay(copy, payment.pub, payment.ext)).to.be.revertedWithCustomError(
        pool,
        "Pool__NullifierSpent",
      );
    }
    expect(await pool.sessionPaid(net.operator.cpoId, session.sessionId)).to.equal(true);
  });

  it("lock: a re-randomised copy performs the driver's lock; the escrow id is the nullifier, not the proof bytes", async () => {
    const { pool, lockVerifier } = net.deployment;
    const relayerAddress = await net.signers.relayer.getAddress();
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const nonces = freshNonces();
    const sessionId = makeSessionId(nonces.stationNonce, nonces.driverNonce);
    const lock = await driver.prepareLock({
      cpoId: net.operator.cpoId,
      ...nonces,
      cap: 10_000_000n,
      settleDeadline: now + HOUR,
      claimDeadline: now + HOUR + DAY,
      fee: 20_000n,
      relayer: relayerAddress,
    });
    const copy = rescaled(lock.proof, 12345n);
    expect(await lockVerifier.verifyProof(copy.a, copy.b, copy.c, lockSignalArray(lock.pub))).to.equal(true);
    await expect(pool.connect(net.signers.other).lock(copy, lock.pub, lock.ext)).to.emit(pool, "EscrowLocked");
    expect(await pool.sessionEscrow(net.operator.cpoId, sessionId)).to.equal(lock.escrowId);
    expect((await readEscrow(pool, lock.escrowId)).status).to.equal(EscrowStatus.Open);
    // The CPO checks the escrow id the driver names: the same, whoever submitted which bytes.
    await net.operator.verifyEscrow(lock.escrowId, { sessionId, minCap: 10_000_000n, minSecondsToSettle: 0n });
    await expect(submitLock(pool, lock, net.signers.relayer)).to.be.revertedWithCustomError(
      pool,
      "Pool__NullifierSpent",
    );
  });
});
