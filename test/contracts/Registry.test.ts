import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, ZeroAddress, keccak256 } from "ethers";
import { durationLimitWords, meterLeaf, tariffHash, type DurationLimit } from "../../sdk/core/hash.ts";
import { fromTariffStruct } from "../../sdk/actors/chain.ts";
import type { Tariff } from "../../sdk/tariff/tariff.ts";
import type { IRegistry } from "../../types/ethers-contracts/index.js";
import { R, makeTariff, newTree, sdkHashOfTariff } from "./helpers.ts";
import { deployZkcharge } from "../../dev/deploy.ts";

const { ethers, networkHelpers } = await network.create();

describe("Registry", function () {
  async function fixture() {
    const [admin, other, payout, payout2] = await ethers.getSigners();
    const d = await deployZkcharge(ethers);
    const registry = d.registry;
    await registry.connect(admin).registerCpo(payout.address); // cpo 1
    await registry.connect(other).registerCpo(payout2.address); // cpo 2
    return { ...d, registry, admin, other, payout, payout2 };
  }

  async function meterFixture() {
    const f = await fixture();
    const tree = newTree();
    const meters: { ax: bigint; ay: bigint; power: bigint; leaf: bigint }[] = [];
    const roots: bigint[] = [];
    for (let i = 0n; i < 5n; i++) {
      const m = { ax: 1000n + i, ay: 2000n + i, power: 22_000n + i };
      await f.registry.addMeter(1n, m.ax, m.ay, m.power);
      const leaf = meterLeaf(m.ax, m.ay, 1n, m.power);
      tree.insert(leaf);
      roots.push(tree.root);
      meters.push({ ...m, leaf });
    }
    return { ...f, tree, meters, roots };
  }

  describe("CPOs", function () {
    it("registers CPOs with ids from 1 and emits CpoRegistered", async function () {
      const { registry, admin, other, payout } = await networkHelpers.loadFixture(fixture);
      expect(await registry.cpoCount()).to.equal(2n);
      expect(await registry.cpo(1n)).to.deep.equal([admin.address, payout.address]);
      await expect(registry.connect(other).registerCpo(payout.address))
        .to.emit(registry, "CpoRegistered")
        .withArgs(3n, other.address, payout.address);
      expect(await registry.cpoCount()).to.equal(3n);
      expect(await registry.cpo(4n)).to.deep.equal([ZeroAddress, ZeroAddress]);
    });

    it("rejects a zero payout", async function () {
      const { registry } = await networkHelpers.loadFixture(fixture);
      await expect(registry.registerCpo(ZeroAddress)).to.be.revertedWithCustomError(registry, "Registry__ZeroAddress");
      await expect(registry.setPayout(1n, ZeroAddress)).to.be.revertedWithCustomError(
        registry,
        "Registry__ZeroAddress",
      );
    });

    it("lets only the admin change the payout", async function () {
      const { registry, admin, other, payout2 } = await networkHelpers.loadFixture(fixture);
      await expect(registry.connect(other).setPayout(1n, payout2.address)).to.be.revertedWithCustomError(
        registry,
        "Registry__NotCpoAdmin",
      );
      await expect(registry.connect(admin).setPayout(1n, payout2.address))
        .to.emit(registry, "PayoutChanged")
        .withArgs(1n, payout2.address);
      expect(await registry.cpo(1n)).to.deep.equal([admin.address, payout2.address]);
      await expect(registry.setPayout(99n, payout2.address)).to.be.revertedWithCustomError(
        registry,
        "Registry__NotCpoAdmin",
      );
    });
  });

  describe("meters", function () {
    it("inserts the SDK meter leaf and emits MeterAdded with the LeanIMT root", async function () {
      const { registry } = await networkHelpers.loadFixture(fixture);
      const tree = newTree();
      for (let i = 0n; i < 3n; i++) {
        const leaf = meterLeaf(7n + i, 8n, 1n, 11_000n);
        tree.insert(leaf);
        await expect(registry.addMeter(1n, 7n + i, 8n, 11_000n))
          .to.emit(registry, "MeterAdded")
          .withArgs(1n, i, leaf, 7n + i, 8n, 11_000n, tree.root);
      }
      expect(await registry.meterRoot(1n)).to.equal(tree.root);
      expect(await registry.meterCount(1n)).to.equal(3n);
      expect(await registry.meterCount(2n)).to.equal(0n);
      expect(await registry.meterRoot(2n)).to.equal(0n);
    });

    it("keeps every root of the current generation valid, per CPO", async function () {
      const { registry, roots } = await networkHelpers.loadFixture(meterFixture);
      for (const root of roots) expect(await registry.isValidMeterRoot(1n, root)).to.equal(true);
      expect(await registry.isValidMeterRoot(2n, roots[4]!)).to.equal(false);
      expect(await registry.isValidMeterRoot(1n, 12345n)).to.equal(false);
      expect(await registry.isValidMeterRoot(1n, 0n)).to.equal(false);
      expect(await registry.meterGeneration(1n)).to.equal(0n);
    });

    it("lets only the CPO admin add meters", async function () {
      const { registry, other } = await networkHelpers.loadFixture(fixture);
      await expect(registry.connect(other).addMeter(1n, 1n, 2n, 3n)).to.be.revertedWithCustomError(
        registry,
        "Registry__NotCpoAdmin",
      );
      await expect(registry.addMeter(3n, 1n, 2n, 3n)).to.be.revertedWithCustomError(registry, "Registry__NotCpoAdmin");
    });

    it("bounds the rated power to 1..2^24-1", async function () {
      const { registry } = await networkHelpers.loadFixture(fixture);
      await expect(registry.addMeter(1n, 1n, 2n, 0n)).to.be.revertedWithCustomError(
        registry,
        "Registry__InvalidRatedPower",
      );
      await expect(registry.addMeter(1n, 1n, 2n, 1n << 24n)).to.be.revertedWithCustomError(
        registry,
        "Registry__InvalidRatedPower",
      );
      await expect(registry.addMeter(1n, 1n, 2n, (1n << 24n) - 1n)).to.emit(registry, "MeterAdded");
      await expect(registry.addMeter(1n, 1n, 3n, 1n)).to.emit(registry, "MeterAdded");
    });

    it("requires key coordinates below r", async function () {
      const { registry } = await networkHelpers.loadFixture(fixture);
      await expect(registry.addMeter(1n, R, 2n, 1n)).to.be.revertedWithCustomError(
        registry,
        "Registry__InvalidMeterKey",
      );
      await expect(registry.addMeter(1n, 2n, R, 1n)).to.be.revertedWithCustomError(
        registry,
        "Registry__InvalidMeterKey",
      );
      await expect(registry.addMeter(1n, R - 1n, R - 1n, 1n)).to.emit(registry, "MeterAdded");
    });

    it("rejects a meter that is already in the tree", async function () {
      const { registry, meters } = await networkHelpers.loadFixture(meterFixture);
      const m = meters[2]!;
      await expect(registry.addMeter(1n, m.ax, m.ay, m.power)).to.be.revertedWithCustomError(
        registry,
        "Registry__MeterExists",
      );
      // The same key under another CPO is another leaf.
      await expect(registry.addMeter(2n, m.ax, m.ay, m.power)).to.be.revertedWithCustomError(
        registry,
        "Registry__NotCpoAdmin",
      );
    });

    it("revokes a meter: new generation, only the new root is valid", async function () {
      const { registry, tree, meters, roots } = await networkHelpers.loadFixture(meterFixture);
      const victim = meters[1]!;
      const { siblings } = tree.generateProof(1);
      tree.update(1, 0n);
      await expect(registry.revokeMeter(1n, victim.leaf, siblings))
        .to.emit(registry, "MeterRevoked")
        .withArgs(1n, victim.leaf, tree.root, 1n);
      expect(await registry.meterRoot(1n)).to.equal(tree.root);
      expect(await registry.meterGeneration(1n)).to.equal(1n);
      expect(await registry.isValidMeterRoot(1n, tree.root)).to.equal(true);
      for (const root of roots) expect(await registry.isValidMeterRoot(1n, root)).to.equal(false);

      // A meter added after the revocation: both roots of generation 1 are valid, older ones stay refused.
      const leaf = meterLeaf(5n, 6n, 1n, 7n);
      const revokedRoot = tree.root;
      tree.insert(leaf);
      await expect(registry.addMeter(1n, 5n, 6n, 7n))
        .to.emit(registry, "MeterAdded")
        .withArgs(1n, 5n, leaf, 5n, 6n, 7n, tree.root);
      expect(await registry.isValidMeterRoot(1n, tree.root)).to.equal(true);
      expect(await registry.isValidMeterRoot(1n, revokedRoot)).to.equal(true);
      for (const root of roots) expect(await registry.isValidMeterRoot(1n, root)).to.equal(false);
      expect(await registry.meterCount(1n)).to.equal(6n);

      // The revoked meter cannot be revoked twice.
      await expect(registry.revokeMeter(1n, victim.leaf, [])).to.be.revertedWithCustomError(
        registry,
        "Registry__UnknownMeter",
      );
    });

    it("never treats root 0 as valid after revoking the only meter", async function () {
      const { registry } = await networkHelpers.loadFixture(fixture);
      await registry.addMeter(1n, 1n, 2n, 3n);
      const leaf = meterLeaf(1n, 2n, 1n, 3n);
      await expect(registry.revokeMeter(1n, leaf, []))
        .to.emit(registry, "MeterRevoked")
        .withArgs(1n, leaf, 0n, 1n);
      expect(await registry.isValidMeterRoot(1n, 0n)).to.equal(false);
      expect(await registry.isValidMeterRoot(1n, leaf)).to.equal(false);
    });

    it("holds at most 2^16 meters per CPO", async function () {
      const { registry } = await networkHelpers.loadFixture(meterFixture);
      const address = await registry.getAddress();
      // Find the storage slot of CPO 1's meter tree size (5 meters) and move it to the capacity edge.
      let sizeSlot: string | undefined;
      for (let i = 0; i < 16 && sizeSlot === undefined; i++) {
        const slot = keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [1n, i]));
        if (BigInt(await ethers.provider.getStorage(address, slot)) === 5n) sizeSlot = slot;
      }
      expect(sizeSlot).to.not.equal(undefined);
      await networkHelpers.setStorageAt(address, sizeSlot!, (1n << 16n) - 1n);
      expect(await registry.meterCount(1n)).to.equal((1n << 16n) - 1n);
      await expect(registry.addMeter(1n, 1n, 1n, 1n)).to.emit(registry, "MeterAdded");
      await expect(registry.addMeter(1n, 1n, 2n, 1n)).to.be.revertedWithCustomError(
        registry,
        "Registry__MeterTreeFull",
      );
    });

    it("checks revocation inputs and rights", async function () {
      const { registry, other, meters, tree } = await networkHelpers.loadFixture(meterFixture);
      const { siblings } = tree.generateProof(3);
      await expect(registry.connect(other).revokeMeter(1n, meters[3]!.leaf, siblings)).to.be.revertedWithCustomError(
        registry,
        "Registry__NotCpoAdmin",
      );
      await expect(registry.revokeMeter(1n, 0n, siblings)).to.be.revertedWithCustomError(
        registry,
        "Registry__UnknownMeter",
      );
      await expect(registry.revokeMeter(1n, 42n, siblings)).to.be.revertedWithCustomError(
        registry,
        "Registry__UnknownMeter",
      );
      const wrong = [...siblings];
      wrong[0] = wrong[0]! + 1n;
      await expect(registry.revokeMeter(1n, meters[3]!.leaf, wrong)).to.be.revertedWithCustomError(
        registry,
        "WrongSiblingNodes",
      );
    });
  });

  describe("tariffs", function () {
    async function tariffFixture() {
      const f = await fixture();
      const now = BigInt(await networkHelpers.time.latest());
      return { ...f, validFrom: now + 1000n };
    }

    it("recomputes the SDK tariff hash, stores the CPO and emits TariffPublished", async function () {
      const { registry, validFrom } = await networkHelpers.loadFixture(tariffFixture);
      const t = makeTariff(1n, validFrom);
      const expected = sdkHashOfTariff(t);
      expect(await registry.hashTariff(t)).to.equal(expected);
      const tx = await registry.publishTariff(t);
      await expect(tx).to.emit(registry, "TariffPublished");
      const receipt = await tx.wait();
      const log = registry.interface.parseLog(receipt!.logs[0]!)!;
      expect(log.args.cpoId).to.equal(1n);
      expect(log.args.tariffHash).to.equal(expected);
      const emitted = log.args.tariff.toObject(true);
      expect(emitted).to.deep.equal(t);
      expect(await registry.tariffCpo(expected)).to.equal(1n);
      expect(await registry.tariffCpo(expected + 1n)).to.equal(0n);
    });

    it("is immutable: republishing the same tariff reverts", async function () {
      const { registry, validFrom } = await networkHelpers.loadFixture(tariffFixture);
      const t = makeTariff(1n, validFrom);
      await registry.publishTariff(t);
      await expect(registry.publishTariff(t)).to.be.revertedWithCustomError(registry, "Registry__TariffExists");
      // Any changed field is another version.
      await expect(registry.publishTariff({ ...t, validTo: t.validTo + 1n })).to.emit(registry, "TariffPublished");
    });

    it("lets only the admin of t.cpoId publish", async function () {
      const { registry, other, validFrom } = await networkHelpers.loadFixture(tariffFixture);
      await expect(registry.connect(other).publishTariff(makeTariff(1n, validFrom))).to.be.revertedWithCustomError(
        registry,
        "Registry__NotCpoAdmin",
      );
      await expect(registry.publishTariff(makeTariff(0n, validFrom))).to.be.revertedWithCustomError(
        registry,
        "Registry__NotCpoAdmin",
      );
      await expect(registry.connect(other).publishTariff(makeTariff(2n, validFrom))).to.emit(
        registry,
        "TariffPublished",
      );
    });

    it("bounds prices, fee and cap", async function () {
      const { registry, validFrom } = await networkHelpers.loadFixture(tariffFixture);
      const e = (i: number, v: bigint): [bigint, bigint, bigint, bigint] => {
        const p: [bigint, bigint, bigint, bigint] = [1n, 2n, 3n, 4n];
        p[i] = v;
        return p;
      };
      const bad = [
        { flatFee: 1n << 40n },
        { maxPrice: 1n << 40n },
        { minPrice: 1n << 40n, maxPrice: 0n },
        ...[0, 1, 2, 3].map((i) => ({ timePricePerHour: e(i, 1n << 32n) })),
        ...[0, 1, 2, 3].map((i) => ({ parkingPricePerHour: e(i, 1n << 32n) })),
        ...[0, 1, 2, 3].map((i) => ({ energyPrice: e(i, 1n << 32n) })),
      ];
      for (const over of bad) {
        await expect(registry.publishTariff(makeTariff(1n, validFrom, over))).to.be.revertedWithCustomError(
          registry,
          "Registry__TariffPriceOutOfRange",
        );
      }
      const max = makeTariff(1n, validFrom, {
        flatFee: (1n << 40n) - 1n,
        minPrice: (1n << 40n) - 1n,
        maxPrice: (1n << 40n) - 1n,
        timePricePerHour: [(1n << 32n) - 1n, (1n << 32n) - 1n, (1n << 32n) - 1n, (1n << 32n) - 1n],
        parkingPricePerHour: [(1n << 32n) - 1n, (1n << 32n) - 1n, (1n << 32n) - 1n, (1n << 32n) - 1n],
        energyPrice: [(1n << 32n) - 1n, (1n << 32n) - 1n, (1n << 32n) - 1n, (1n << 32n) - 1n],
      });
      await expect(registry.publishTariff(max)).to.emit(registry, "TariffPublished");
      const zero = makeTariff(1n, validFrom, {
        flatFee: 0n,
        minPrice: 0n,
        maxPrice: 0n,
        timePricePerHour: [0n, 0n, 0n, 0n],
        parkingPricePerHour: [0n, 0n, 0n, 0n],
        energyPrice: [0n, 0n, 0n, 0n],
      });
      await expect(registry.publishTariff(zero)).to.emit(registry, "TariffPublished");
    });

    it("refuses a minPrice above a set maxPrice; accepts equal, and any minPrice without a cap", async function () {
      const { registry, validFrom } = await networkHelpers.loadFixture(tariffFixture);
      await expect(
        registry.publishTariff(makeTariff(1n, validFrom, { minPrice: 10n, maxPrice: 9n })),
      ).to.be.revertedWithCustomError(registry, "Registry__MinPriceAboveMaxPrice");
      await expect(registry.publishTariff(makeTariff(1n, validFrom, { minPrice: 10n, maxPrice: 10n }))).to.emit(
        registry,
        "TariffPublished",
      );
      await expect(
        registry.publishTariff(makeTariff(1n, validFrom, { minPrice: (1n << 40n) - 1n, maxPrice: 0n })),
      ).to.emit(registry, "TariffPublished");
    });

    it("requires 0 < b1 < b2 < b3 < 86400", async function () {
      const { registry, validFrom } = await networkHelpers.loadFixture(tariffFixture);
      const bad: [bigint, bigint, bigint][] = [
        [0n, 2n, 3n],
        [2n, 2n, 3n],
        [3n, 2n, 4n],
        [1n, 3n, 3n],
        [1n, 2n, 86_400n],
      ];
      for (const bandStart of bad) {
        await expect(registry.publishTariff(makeTariff(1n, validFrom, { bandStart }))).to.be.revertedWithCustomError(
          registry,
          "Registry__InvalidBands",
        );
      }
      await expect(registry.publishTariff(makeTariff(1n, validFrom, { bandStart: [1n, 2n, 86_399n] }))).to.emit(
        registry,
        "TariffPublished",
      );
    });

    it("requires tzOffset < 86400", async function () {
      const { registry, validFrom } = await networkHelpers.loadFixture(tariffFixture);
      await expect(
        registry.publishTariff(makeTariff(1n, validFrom, { tzOffset: 86_400n })),
      ).to.be.revertedWithCustomError(registry, "Registry__InvalidTzOffset");
      await expect(registry.publishTariff(makeTariff(1n, validFrom, { tzOffset: 86_399n }))).to.emit(
        registry,
        "TariffPublished",
      );
    });

    it("requires 1 <= stepSize <= 2^32 in each dimension and hashes the step sizes as the SDK does", async function () {
      const { registry, validFrom } = await networkHelpers.loadFixture(tariffFixture);
      const top = 1n << 32n;
      for (const k of [0, 1, 2]) {
        for (const bad of [0n, top + 1n]) {
          const stepSize: [bigint, bigint, bigint] = [1n, 1n, 1n];
          stepSize[k] = bad;
          await expect(registry.publishTariff(makeTariff(1n, validFrom, { stepSize }))).to.be.revertedWithCustomError(
            registry,
            "Registry__InvalidStepSize",
          );
        }
      }
      for (const stepSize of [
        [top, top, top],
        [top - 1n, 900n, 300n],
      ] as [bigint, bigint, bigint][]) {
        const t = makeTariff(1n, validFrom, { stepSize });
        expect(await registry.hashTariff(t)).to.equal(sdkHashOfTariff(t));
        await expect(registry.publishTariff(t)).to.emit(registry, "TariffPublished");
      }
      // Each step is its own 33 bits of the packed word: moving a step to the next dimension is another tariff.
      const a = makeTariff(1n, validFrom, { stepSize: [top, 1n, 1n] });
      const b = makeTariff(1n, validFrom, { stepSize: [1n, 2n, 1n] });
      expect(await registry.hashTariff(a)).to.not.equal(await registry.hashTariff(b));
    });

    describe("duration limit [seconds, energyPrice, timePricePerHour, parkingPricePerHour, sets]", function () {
      const top = (1n << 32n) - 1n;
      type Words = [bigint, bigint, bigint, bigint, bigint];

      /** The SDK tariff of a contract-shaped one, with `limit` as its duration limit (no key when undefined). */
      function sdkTariff(t: ReturnType<typeof makeTariff>, limit: DurationLimit | undefined): Tariff {
        const { durationLimit: _words, ...rest } = t;
        return { ...rest, bandStart: [0n, ...t.bandStart], ...(limit !== undefined ? { durationLimit: limit } : {}) };
      }

      /** A limit at `seconds` setting the prices of `sets` (bit 0 energy, bit 1 time, bit 2 parking) to `price`. */
      function limitOf(seconds: bigint, sets: number, price: bigint): DurationLimit {
        return {
          seconds,
          ...(sets & 1 ? { energyPrice: price } : {}),
          ...(sets & 2 ? { timePricePerHour: price } : {}),
          ...(sets & 4 ? { parkingPricePerHour: price } : {}),
        };
      }

      it("rejects values of 2^32, sets >= 8 and every non-canonical limit", async function () {
        const { registry, validFrom } = await networkHelpers.loadFixture(tariffFixture);
        const bad: Words[] = [
          // seconds and each price at 2^32
          [top + 1n, 1n, 0n, 0n, 1n],
          [60n, top + 1n, 0n, 0n, 1n],
          [60n, 0n, top + 1n, 0n, 2n],
          [60n, 0n, 0n, top + 1n, 4n],
          [60n, top + 1n, top + 1n, top + 1n, 7n],
          // a mask of more than 3 bits
          [60n, 0n, 0n, 0n, 8n],
          [60n, 1n, 1n, 1n, 15n],
          // seconds 0 (no limit) must be all zeros: no mask, no price
          [0n, 0n, 0n, 0n, 1n],
          [0n, 5n, 0n, 0n, 1n],
          [0n, 1n, 0n, 0n, 0n],
          [0n, 0n, 1n, 0n, 0n],
          [0n, 0n, 0n, 1n, 0n],
          // a limit sets at least one price
          [60n, 0n, 0n, 0n, 0n],
          [top, 0n, 0n, 0n, 0n],
          // a price whose bit is 0 is 0
          [60n, 1n, 0n, 0n, 2n],
          [60n, 0n, 1n, 0n, 4n],
          [60n, 0n, 0n, 1n, 1n],
          [60n, 5n, 5n, 0n, 1n],
          [60n, 0n, 5n, 5n, 2n],
        ];
        for (const durationLimit of bad) {
          await expect(
            registry.publishTariff(makeTariff(1n, validFrom, { durationLimit })),
            durationLimit.join(", "),
          ).to.be.revertedWithCustomError(registry, "Registry__InvalidDurationLimit");
        }
      });

      it("accepts seconds 1 and 2^32 - 1, prices 0 and 2^32 - 1 and every sets 1..7, hashed as the SDK does", async function () {
        const { registry, validFrom } = await networkHelpers.loadFixture(tariffFixture);
        for (const seconds of [1n, top]) {
          for (let sets = 1; sets <= 7; sets++) {
            for (const price of [0n, top]) {
              const limit = limitOf(seconds, sets, price);
              const words = durationLimitWords(limit);
              expect(words[4]).to.equal(BigInt(sets));
              const t = makeTariff(1n, validFrom, { durationLimit: [...words] });
              const expected = tariffHash(sdkTariff(t, limit));
              expect(await registry.hashTariff(t)).to.equal(expected);
              expect(sdkHashOfTariff(t)).to.equal(expected);
              const receipt = await (await registry.publishTariff(t)).wait();
              const log = registry.interface.parseLog(receipt!.logs[0]!)!;
              expect(log.args.tariffHash).to.equal(expected);
              // The event reads back as the SDK tariff, limit included.
              expect(fromTariffStruct(log.args.tariff as IRegistry.TariffStructOutput)).to.deep.equal(
                sdkTariff(t, limit),
              );
            }
          }
        }
        // No limit reads back without a durationLimit key.
        const t = makeTariff(1n, validFrom);
        const receipt = await (await registry.publishTariff(t)).wait();
        const back = fromTariffStruct(registry.interface.parseLog(receipt!.logs[0]!)!.args.tariff);
        expect(back).to.not.have.property("durationLimit");
        expect(back).to.deep.equal(sdkTariff(t, undefined));
        expect(tariffHash(back)).to.equal(await registry.hashTariff(t));
      });

      it("hashes the limit: tariffs that differ only in it are distinct versions", async function () {
        const { registry, validFrom } = await networkHelpers.loadFixture(tariffFixture);
        const limits: (DurationLimit | undefined)[] = [
          undefined,
          { seconds: 60n, parkingPricePerHour: 0n },
          { seconds: 60n, timePricePerHour: 0n },
          { seconds: 61n, parkingPricePerHour: 0n },
          { seconds: 60n, parkingPricePerHour: 600_000n },
          { seconds: 60n, timePricePerHour: 600_000n },
          { seconds: 60n, energyPrice: 600_000n },
          { seconds: 60n, energyPrice: 600_000n, timePricePerHour: 600_000n, parkingPricePerHour: 600_000n },
          { seconds: 14_400n, parkingPricePerHour: 600_000n },
        ];
        const hashes = new Set<bigint>();
        for (const limit of limits) {
          const t = makeTariff(1n, validFrom, { durationLimit: [...durationLimitWords(limit)] });
          const h = await registry.hashTariff(t);
          expect(h).to.equal(tariffHash(sdkTariff(t, limit)));
          hashes.add(h);
          await expect(registry.publishTariff(t)).to.emit(registry, "TariffPublished");
          expect(await registry.tariffCpo(h)).to.equal(1n);
        }
        expect(hashes.size).to.equal(limits.length);
      });
    });

    it("never backdates and requires validFrom <= validTo < 2^40", async function () {
      const { registry, validFrom } = await networkHelpers.loadFixture(tariffFixture);
      const now = BigInt(await networkHelpers.time.latest());
      const cases = [
        { validFrom: now - 1n, validTo: now + 100n },
        { validFrom: now, validTo: now + 100n }, // the next block is later than `now`
        { validFrom: validFrom, validTo: validFrom - 1n },
        { validFrom: validFrom, validTo: 1n << 40n },
      ];
      for (const over of cases) {
        await expect(registry.publishTariff(makeTariff(1n, validFrom, over))).to.be.revertedWithCustomError(
          registry,
          "Registry__InvalidValidity",
        );
      }
      await expect(registry.publishTariff(makeTariff(1n, validFrom, { validFrom, validTo: validFrom }))).to.emit(
        registry,
        "TariffPublished",
      );
      await expect(registry.publishTariff(makeTariff(1n, validFrom, { validTo: (1n << 40n) - 1n }))).to.emit(
        registry,
        "TariffPublished",
      );
      // validFrom == block.timestamp is allowed.
      await networkHelpers.time.setNextBlockTimestamp(validFrom + 10n);
      await expect(registry.publishTariff(makeTariff(1n, validFrom + 10n, { tzOffset: 0n }))).to.emit(
        registry,
        "TariffPublished",
      );
    });
  });
});
