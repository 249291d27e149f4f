/**
 * Gas of the contract entry points (printed as a table), with the real Groth16 verifiers and real proofs: the
 * pay and transact figures include the proof verification.
 * Large trees are simulated by moving the stored tree size (the side nodes and the root-history ring are
 * pre-filled so that every tree write is a non-zero -> non-zero SSTORE, as in a pool past its first 256 leaves;
 * the first run, from size 1, shows a young pool). The notes then deposited sit on top of that simulated prefix,
 * and TailTree (helpers.ts) gives their paths, so the proofs are real.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, hexlify, type ContractTransactionResponse } from "ethers";
import { Driver } from "../../sdk/actors/driver.ts";
import { encryptNote } from "../../sdk/core/encryption.ts";
import { extDataHash, meterLeaf } from "../../sdk/core/hash.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import type { SignedSession } from "../../sdk/meter/record.ts";
import { Note } from "../../sdk/core/note.ts";
import { computeBill } from "../../sdk/tariff/tariff.ts";
import { generateProof, shutdownProver } from "../../prover/index.ts";
import { buildPayWitness } from "../../sdk/proofs/payInput.ts";
import { buildTransactWitness, dummyInput } from "../../sdk/proofs/transactInput.ts";
import { chargeSession, setUpNetwork } from "../fixtures/chain.ts";
import { NOTE_TREE_DEPTH } from "../../sdk/core/constants.ts";
import { TailTree, deployReal, makeTariff, newTree } from "./helpers.ts";

const { ethers, networkHelpers } = await network.create();
const { chainId } = await ethers.provider.getNetwork();

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  return receipt!.gasUsed;
}

describe("Gas", function () {
  const rows: [string, bigint][] = [];
  after(shutdownProver);
  after(function () {
    console.log("\n      gas used (tx total, incl. 21k base + calldata):");
    for (const [name, gas] of rows) console.log(`        ${name.padEnd(75)} ${gas.toString().padStart(9)}`);
  });

  async function registryFixture() {
    const d = await deployReal(ethers);
    const [admin] = await ethers.getSigners();
    return { ...d, admin: admin! };
  }

  it("registry", async function () {
    const { registry, admin } = await networkHelpers.loadFixture(registryFixture);
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
    rows.push([
      `revokeMeter (16 meters, ${siblings.length} siblings)`,
      await gasOf(registry.revokeMeter(1n, meterLeaf(105n, 200n, 1n, 22_000n), siblings)),
    ]);
    const validFrom = BigInt(await networkHelpers.time.latest()) + 100n;
    rows.push(["publishTariff", await gasOf(registry.publishTariff(makeTariff(1n, validFrom)))]);
  });

  /** A CPO with a meter and a tariff (setUpNetwork), and one deposit so that the tree-size slot is non-zero. */
  async function poolFixture() {
    const net = await setUpNetwork(ethers);
    const d = net.deployment;
    const [, , payer, relayer, recipient] = await ethers.getSigners();
    await d.testToken!.connect(payer!).approve(d.addresses.pool, 10n);
    await d.pool.connect(payer!).deposit(1n, 10n, "0x"); // size 1
    let slot = -1;
    for (let i = 0; i < 64 && slot < 0; i++) {
      if (BigInt(await ethers.provider.getStorage(d.addresses.pool, i)) === 1n) slot = i;
    }
    expect(slot).to.be.greaterThan(-1);
    return { ...d, net, slot, payer: payer!, relayer: relayer!, recipient: recipient! };
  }

  /** The pool with its stored tree moved to `size` leaves over pre-filled side nodes and root history. */
  async function poolAtSize(size: bigint) {
    const f = await networkHelpers.loadFixture(poolFixture);
    // sideNodes (NOTE_TREE_DEPTH + 1 slots) and the root-history ring (256 slots) follow the size slot.
    const sideNodes: bigint[] = [];
    for (let l = 1; l <= NOTE_TREE_DEPTH + 1 + 256; l++) {
      const value = 12345n + BigInt(l);
      if (l <= NOTE_TREE_DEPTH + 1) sideNodes.push(value);
      await networkHelpers.setStorageAt(f.addresses.pool, f.slot + l, value);
    }
    await networkHelpers.setStorageAt(f.addresses.pool, f.slot, size);
    expect(await f.pool.noteTreeSize()).to.equal(size);
    return { ...f, tree: new TailTree(size, sideNodes) };
  }

  type SizedPool = Awaited<ReturnType<typeof poolAtSize>>;

  /**
   * The two sessions every size pays, signed once (about 0.6 s each): each test starts from poolFixture's
   * snapshot, in which neither is paid, and the sessions themselves are read-only data.
   */
  let sessions: [SignedSession, SignedSession] | undefined;
  function twoSessions(f: SizedPool): [SignedSession, SignedSession] {
    return (sessions ??= [
      chargeSession(f.net.meter, f.net.tariff, f.net.now),
      chargeSession(f.net.meter, f.net.tariff, f.net.now),
    ]);
  }

  /** "index i (popcount p)" of the next insert: an insert costs one Poseidon hash per 1-bit of its index. */
  async function at(f: { pool: { noteTreeSize(): Promise<bigint> } }): Promise<string> {
    const i = await f.pool.noteTreeSize();
    const p = i
      .toString(2)
      .split("")
      .filter((b) => b === "1").length;
    return `index ${i} (popcount ${p})`;
  }

  /** A real pay proof spending `note` (leaf `index` of the pool's tree) for `session`, the change back to the driver. */
  async function provePay(
    f: SizedPool,
    driver: Driver,
    note: Note,
    index: bigint,
    session: SignedSession,
    fee: bigint,
  ) {
    const { identity } = driver;
    const bill = computeBill(session.points, session.tariff, session.ratedPowerW).amount;
    const change = Note.random(identity.commitment, note.value - bill - fee);
    const ext = {
      recipient: ZeroAddress,
      relayer: f.relayer.address,
      extAmount: 0n,
      encryptedOutput1: hexlify(encryptNote(change, identity.encryptionPublicKey)),
      encryptedOutput2: "0x",
    };
    const witness = buildPayWitness({
      secretScalar: identity.secretScalar,
      note,
      notePath: f.tree.path(index),
      session,
      meterPath: (await f.net.operator.receipt(session)).meterPath,
      fee,
      changeBlinding: change.blinding,
      extDataHash: extDataHash({ chainId, pool: f.addresses.pool, ...ext }),
    });
    expect(witness.change.commitment).to.equal(change.commitment);
    const proof = await generateProof("pay", witness.input);
    return { proof: proof.calldata, pub: witness.publicSignals, ext, change };
  }

  // Tree size before the deposit; the deposit, the two pays and the transact's two outputs follow.
  for (const size of [1n, (1n << 20n) - 2n, (1n << 20n) + (1n << 11n) - 2n, (1n << 24n) - 6n]) {
    it(`deposit, pay and transact from tree size ${size}`, async function () {
      const f = await poolAtSize(size);
      const driver = new Driver(DriverIdentity.random(), f.pool.connect(ethers.provider));
      const { identity } = driver;

      const depositAt = await at(f);
      const { note, receipt } = await driver.deposit(20_000_000n, f.payer);
      rows.push([`deposit @ ${depositAt}`, receipt.gasUsed]);
      const noteIndex = f.tree.insert(note.commitment);
      expect(await f.pool.noteRoot()).to.equal(f.tree.root);

      const [session1, session2] = twoSessions(f);
      const pay1 = await provePay(f, driver, note, noteIndex, session1, 10_000n);
      rows.push([
        `pay, CPO's first credit @ ${await at(f)}`,
        await gasOf(f.pool.connect(f.relayer).pay(pay1.proof, pay1.pub, pay1.ext)),
      ]);
      const change1Index = f.tree.insert(pay1.change.commitment);
      // A second pay of the CPO (its balance slot is now warm-from-nonzero), from the first one's change.
      const pay2 = await provePay(f, driver, pay1.change, change1Index, session2, 10_000n);
      rows.push([`pay @ ${await at(f)}`, await gasOf(f.pool.connect(f.relayer).pay(pay2.proof, pay2.pub, pay2.ext))]);
      const change2Index = f.tree.insert(pay2.change.commitment);
      expect(await f.pool.noteRoot()).to.equal(f.tree.root);

      // Withdraw 1 EUR + a 0.01 EUR fee from the second change (and a dummy input), the rest and a pad back.
      const fee = 10_000n;
      const path = f.tree.path(change2Index);
      const rest = Note.random(identity.commitment, pay2.change.value - 1_000_000n - fee);
      const pad = Note.random(identity.commitment, 0n);
      const ext = {
        recipient: f.recipient.address,
        relayer: f.relayer.address,
        extAmount: -1_000_000n,
        encryptedOutput1: hexlify(encryptNote(rest, identity.encryptionPublicKey)),
        encryptedOutput2: hexlify(encryptNote(pad, identity.encryptionPublicKey)),
      };
      const witness = buildTransactWitness({
        secretScalar: identity.secretScalar,
        inputs: [{ note: pay2.change, path }, dummyInput(identity.commitment, path)],
        outputs: [
          { precommitment: rest.precommitment, value: rest.value },
          { precommitment: pad.precommitment, value: 0n },
        ],
        extAmount: ext.extAmount,
        fee,
        extDataHash: extDataHash({ chainId, pool: f.addresses.pool, ...ext }),
      });
      const proof = await generateProof("transact", witness.input);
      const label = `transact withdraw + fee @ ${await at(f)} + next`;
      const gas = await gasOf(f.pool.connect(f.relayer).transact(proof.calldata, witness.publicSignals, ext, fee));
      rows.push([label, gas]);
      expect(await f.token.balanceOf(f.recipient.address)).to.equal(1_000_000n);
    });
  }
});
