/**
 * The wallet's privacy hygiene and input checks on a real chain with real proofs: a spend right after the deposit
 * that funded it is flagged as linkable (and is not once time has passed), escrow terms off the standard menu are
 * flagged, the CPO receives only the proof, public signals and ext data, withdrawals with a non-positive amount or a
 * fee that leaves nothing are refused naming the input, and a revert comes back with its custom error in words.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { Driver, handover } from "../../sdk/actors/driver.ts";
import { standardCap, roundDeadline } from "../../sdk/actors/privacy.ts";
import { ContractRevertError } from "../../sdk/actors/revert.ts";
import { InvalidInputError } from "../../sdk/core/errors.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import { shutdownProver } from "../../prover/index.ts";
import { chargeSession, freshNonces, setUpNetwork, type Network } from "../fixtures/chain.ts";

const { ethers, networkHelpers } = await network.create();
const EUR = 1_000_000n;

describe("end to end: privacy hygiene and wallet input checks", function () {
  this.timeout(600_000);
  after(shutdownProver);

  let net: Network;
  let driver: Driver;

  before(async () => {
    net = await setUpNetwork(ethers);
    driver = new Driver(DriverIdentity.random(), net.deployment.pool.connect(ethers.provider));
    await driver.deposit(60n * EUR, net.signers.payer);
  });

  it("flags a payment right after its deposit as linkable, not once half an hour has passed; hands the CPO only the proof", async () => {
    const receipt = await net.operator.receipt(chargeSession(net.meter, net.tariff, net.now));
    const early = await driver.preparePayment(receipt);
    expect(early.privacy.linkable).to.equal(true);
    expect(early.privacy.warnings.map((w) => w.code)).to.deep.equal(["FRESH_DEPOSIT"]);

    await networkHelpers.time.increase(31 * 60);
    const later = await driver.preparePayment(receipt);
    expect(later.privacy).to.deep.equal({ linkable: false, warnings: [] });

    const forCpo = handover(later);
    expect(Object.keys(forCpo).sort()).to.deep.equal(["ext", "groth16", "proof", "pub"]);
    expect(JSON.stringify(forCpo, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).to.not.match(
      /Ms"|privacy|bill/,
    );
    await net.operator.checkPayment(forCpo, receipt.session);
    await net.operator.submitPayment(forCpo);

    // The same payment again: the SDK names the pool's custom error instead of "unknown custom error".
    const again = await net.operator.submitPayment(forCpo).then(
      () => expect.fail("a second submission must revert"),
      (e: unknown) => e,
    );
    expect(again).to.be.instanceOf(ContractRevertError);
    expect((again as Error).message).to.match(/^pay reverted: Pool__(NullifierSpent|SessionAlreadyPaid)\(\)$/);
  });

  it("flags escrow terms off the standard menu and the deadline grid, not standard ones", async () => {
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const base = { cpoId: net.operator.cpoId, ...freshNonces() };
    const custom = await driver.prepareLock({
      ...base,
      cap: 12_340_000n,
      settleDeadline: now + 3601n,
      claimDeadline: now + 3601n + 86_400n,
    });
    expect(custom.privacy.warnings.filter((w) => w.code === "CUSTOM_ESCROW_TERMS")).to.have.length.greaterThanOrEqual(
      2,
    );
    const settle = roundDeadline(now + 3600n);
    const standard = await driver.prepareLock({
      ...base,
      cap: standardCap(12_340_000n),
      settleDeadline: settle,
      claimDeadline: roundDeadline(settle + 86_400n),
    });
    expect(standard.privacy.warnings.filter((w) => w.code === "CUSTOM_ESCROW_TERMS")).to.deep.equal([]);
  });

  it("refuses a withdrawal of 0 or a negative amount, a negative fee, and a fee that leaves nothing, naming the input", async () => {
    const to = await net.signers.payer.getAddress();
    const relayer = await net.signers.relayer.getAddress();
    for (const amount of [0n, -5n]) {
      const err = await driver.prepareWithdraw({ to, relayer, amount }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(InvalidInputError);
      expect((err as Error).message).to.match(/withdrawal amount must be positive/);
    }
    const negative = await driver.prepareWithdraw({ to, relayer, fee: -1n }).catch((e: unknown) => e);
    expect((negative as Error).message).to.match(/relayer fee must not be negative/);
    await driver.sync();
    const tooMuch = await driver.prepareWithdraw({ to, relayer, fee: driver.balance }).catch((e: unknown) => e);
    expect(tooMuch).to.be.instanceOf(InvalidInputError);
    expect((tooMuch as Error).message).to.match(/is not below the withdrawable balance .*nothing would be withdrawn/);
  });
});
