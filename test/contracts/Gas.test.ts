/**
 * Gas of the contract entry points (printed as a table). The pool runs with a MockVerifier, so the pay/transact
 * figures exclude the Groth16 verification (~ 200k + 7k per public input with the snarkjs verifier: add it).
 * Large trees are simulated by moving the stored tree size (the side nodes and the root-history ring are
 * pre-filled so that every tree write is a non-zero -> non-zero SSTORE, as in a pool past its first 256 leaves;
 * the first run, from size 1, shows a young pool).
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import { meterLeaf } from "../../sdk/hash.ts";
import { ZERO_PROOF, deployMock, extData, makeTariff, newTree, sdkHashOfTariff, type PayPublicValue } from "./helpers.ts";
import { extDataHash } from "../../sdk/hash.ts";

const { ethers, networkHelpers } = await network.create();
const { chainId } = await ethers.provider.getNetwork();

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  return receipt!.gasUsed;
}

describe("Gas", function () {
  const rows: [string, bigint][] = [];
  after(function () {
    console.log("\n      gas used (tx total, incl. 21k base + calldata):");
    for (const [name, gas] of rows) console.log(`        ${name.padEnd(75)} ${gas.toString().padStart(9)}`);
  });

  async function fixture() {
    const d = await deployMock(ethers);
    const [admin, , driver, relayer] = await ethers.getSigners();
    await d.testToken!.mint(driver!.address, 10n ** 15n);
    await d.testToken!.connect(driver!).approve(d.addresses.pool, 10n ** 15n);
    return { ...d, admin: admin!, driver: driver!, relayer: relayer! };
  }

  it("registry", async function () {
    const { registry, admin } = await networkHelpers.loadFixture(fixture);
    rows.push(["registerCpo (first)", await gasOf(registry.registerCpo(admin.address))]);
    rows.push(["registerCpo (second)", await gasOf(registry.registerCpo(admin.address))]);
    rows.push(["setPayout", await gasOf(registry.setPayout(1n, admin.address))]);
    const tree = newTree();
    const gas: bigint[] = [];
    for (let i = 0n; i < 16n; i++) {
      gas.push(await gasOf(registry.addMeter(1n, 100n + i, 200n, 22_000n)));
      tree.insert(meterLeaf(100n + i, 200n, 1n, 22_000n));
    }
    rows.push(["addMeter (1st meter)", gas[0]!]);
    rows.push(["addMeter (2nd meter)", gas[1]!]);
    rows.push(["addMeter (16th meter)", gas[15]!]);
    const { siblings } = tree.generateProof(5);
    rows.push([`revokeMeter (16 meters, ${siblings.length} siblings)`, await gasOf(registry.revokeMeter(1n, meterLeaf(105n, 200n, 1n, 22_000n), siblings))]);
    const validFrom = BigInt(await networkHelpers.time.latest()) + 100n;
    rows.push(["publishTariff", await gasOf(registry.publishTariff(makeTariff(1n, validFrom)))]);
  });

  async function poolAtSize(size: bigint) {
    const f = await networkHelpers.loadFixture(fixture);
    await f.pool.connect(f.driver).deposit(1n, 10n, "0x"); // size 1, makes the size slot non-zero
    let slot = -1;
    for (let i = 0; i < 64 && slot < 0; i++) {
      if (BigInt(await ethers.provider.getStorage(f.addresses.pool, i)) === 1n) slot = i;
    }
    expect(slot).to.be.greaterThan(-1);
    // sideNodes (25 slots) and the root-history ring (256 slots) follow the size slot.
    for (let l = 1; l <= 25 + 256; l++) await networkHelpers.setStorageAt(f.addresses.pool, slot + l, 12345n + BigInt(l));
    await networkHelpers.setStorageAt(f.addresses.pool, slot, size);
    return f;
  }

  /** "index i (popcount p)" of the next insert: an insert costs one Poseidon hash per 1-bit of its index. */
  async function at(f: { pool: { noteTreeSize(): Promise<bigint> } }): Promise<string> {
    const i = await f.pool.noteTreeSize();
    const p = i.toString(2).split("").filter((b) => b === "1").length;
    return `index ${i} (popcount ${p})`;
  }

  // Tree size before the deposit; the deposit, the two pays and the transact's two outputs follow.
  for (const size of [1n, (1n << 20n) - 2n, (1n << 20n) + (1n << 11n) - 2n, (1n << 24n) - 6n]) {
    it(`deposit, pay and transact from tree size ${size}`, async function () {
      const f = await poolAtSize(size);
      rows.push([`deposit @ ${await at(f)}`, await gasOf(f.pool.connect(f.driver).deposit(2n, 5_000_000n, "0x"))]);
      // A registered CPO with one meter and one tariff.
      await f.registry.registerCpo(f.admin.address);
      await f.registry.addMeter(1n, 1n, 2n, 22_000n);
      const validFrom = BigInt(await networkHelpers.time.latest()) + 100n;
      const t = makeTariff(1n, validFrom);
      await f.registry.publishTariff(t);
      const ext = extData({ relayer: f.relayer.address, encryptedOutput1: "0x" + "ab".repeat(72) });
      const pub: PayPublicValue = {
        noteRoot: await f.pool.noteRoot(),
        noteTreeSize: await f.pool.noteTreeSize(),
        nullifier: 11n,
        changeCommitment: 12n,
        meterRoot: meterLeaf(1n, 2n, 1n, 22_000n),
        cpoId: 1n,
        tariffHash: sdkHashOfTariff(t),
        sessionId: 13n,
        amount: 2_000_000n,
        fee: 10_000n,
        extDataHash: extDataHash({ chainId, pool: f.addresses.pool, ...ext }),
      };
      rows.push([`pay, no verifier, CPO's first credit @ ${await at(f)}`, await gasOf(f.pool.connect(f.relayer).pay(ZERO_PROOF, pub, ext))]);
      // A second pay of the CPO (its balance slot is now warm-from-nonzero).
      const pub2 = { ...pub, noteRoot: await f.pool.noteRoot(), noteTreeSize: await f.pool.noteTreeSize(), nullifier: 21n, changeCommitment: 22n, sessionId: 23n };
      rows.push([`pay, no verifier @ ${await at(f)}`, await gasOf(f.pool.connect(f.relayer).pay(ZERO_PROOF, pub2, ext))]);
      const text = extData({ relayer: f.relayer.address, recipient: f.driver.address, extAmount: -1_000_000n, encryptedOutput1: "0x" + "ab".repeat(72), encryptedOutput2: "0x" + "cd".repeat(72) });
      const tpub = {
        noteRoot: await f.pool.noteRoot(),
        noteTreeSize: await f.pool.noteTreeSize(),
        inputNullifiers: [31n, 32n] as [bigint, bigint],
        outputCommitments: [33n, 34n] as [bigint, bigint],
        publicAmount: 21888242871839275222246405745257275088548364400416034343698204186575808495617n - 1_010_000n,
        extDataHash: extDataHash({ chainId, pool: f.addresses.pool, ...text }),
      };
      rows.push([`transact withdraw + fee, no verifier @ ${await at(f)} + next`, await gasOf(f.pool.connect(f.relayer).transact(ZERO_PROOF, tpub, text, 10_000n))]);
    });
  }
});
