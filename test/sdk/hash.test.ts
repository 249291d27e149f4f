import { expect } from "chai";
import fc from "fast-check";
import { poseidon2, poseidon3, poseidon4, poseidon5 } from "poseidon-lite";
import { FIELD_MODULUS, TAGS } from "../../sdk/core/constants.ts";
import { InvalidInputError } from "../../sdk/core/errors.ts";
import {
  chainFinal,
  chainStart,
  chainStep,
  extDataHash,
  liveTail,
  merkleNode,
  meterLeaf,
  noteCommitment,
  nullifier,
  poseidon,
  precommitment,
  sessionId,
  tariffHash,
} from "../../sdk/core/hash.ts";
import { sampleTariff } from "./helpers.ts";

const field = fc.bigInt({ min: 0n, max: FIELD_MODULUS - 1n });
const tag = (name: string) => BigInt("0x" + Buffer.from(name, "utf8").toString("hex"));

describe("sdk/hash", () => {
  it("matches circomlib's Poseidon test vectors", () => {
    expect(poseidon([1n, 2n])).to.equal(7853200120776062878684798364095072458815029376092732009249414926327459813530n);
    expect(poseidon([3n, 4n])).to.equal(14763215145315200506921711489642608356394854266165572616578112107564877678998n);
    expect(poseidon([1n, 2n, 0n, 0n, 0n])).to.equal(
      1018317224307729531995786483840663576608797660851238720571059489595066344487n,
    );
    expect(poseidon([3n, 4n, 5n, 10n, 23n])).to.equal(
      13034429309846638789535561449942021891039729847501137143363028890275222221409n,
    );
  });

  it("dispatches on width 1..16 and refuses other widths and non-field inputs", () => {
    for (let k = 1; k <= 16; k++) expect(poseidon(Array(k).fill(1n))).to.be.a("bigint");
    expect(poseidon([1n, 0n])).to.not.equal(poseidon([1n, 0n, 0n]));
    expect(() => poseidon([])).to.throw(InvalidInputError, /1..16/);
    expect(() => poseidon(Array(17).fill(1n))).to.throw(InvalidInputError, /1..16/);
    expect(() => poseidon([FIELD_MODULUS])).to.throw(InvalidInputError, /not a field element/);
    expect(() => poseidon([-1n])).to.throw(InvalidInputError, /not a field element/);
  });

  it("tags are the UTF-8 names of docs/protocol.md", () => {
    expect(TAGS.precommitment).to.equal(tag("zkcharge.precommitment"));
    expect(TAGS.chainFinal).to.equal(tag("zkcharge.chain.final"));
    expect(TAGS.chainLive).to.equal(tag("zkcharge.chain.live"));
  });

  it("every protocol hash has the documented layout", () => {
    fc.assert(
      fc.property(field, field, field, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (a, b, c, v) => {
        expect(merkleNode(a, b)).to.equal(poseidon2([a, b]));
        expect(precommitment(a, b)).to.equal(poseidon3([tag("zkcharge.precommitment"), a, b]));
        expect(noteCommitment(a, v)).to.equal(poseidon3([tag("zkcharge.note"), a, v]));
        expect(nullifier(a, 5n, 9n)).to.equal(poseidon4([tag("zkcharge.nullifier"), a, 5n, 9n]));
        expect(meterLeaf(a, b, c, 22_000n)).to.equal(poseidon5([tag("zkcharge.meter"), a, b, c, 22_000n]));
        expect(chainStart(a, b, c, v)).to.equal(poseidon5([tag("zkcharge.chain.start"), a, b, c, v]));
        expect(chainStep(a, b, c)).to.equal(poseidon4([tag("zkcharge.chain.step"), a, b, c]));
        expect(chainFinal(a, 3n, c)).to.equal(poseidon4([tag("zkcharge.chain.final"), a, 3n, c]));
        expect(liveTail(a, b, c)).to.equal(poseidon4([tag("zkcharge.chain.live"), a, b, c]));
      }),
      { numRuns: 20 },
    );
    expect(sessionId(1n, 2n)).to.equal(poseidon3([tag("zkcharge.session"), 1n, 2n]));
  });

  it("range-checks note value, nonces, rating and the secret scalar", () => {
    expect(() => noteCommitment(1n, 1n << 64n)).to.throw(InvalidInputError, /64 bits/);
    expect(() => sessionId(1n << 128n, 1n)).to.throw(InvalidInputError, /station nonce/);
    expect(() => meterLeaf(1n, 2n, 3n, 1n << 24n)).to.throw(InvalidInputError, /ratedPowerW/);
    expect(() =>
      nullifier(1n, 0n, 2736030358979909402780800718157159386076813972158567259200215660948447373041n),
    ).to.throw(InvalidInputError, /subgroup order/);
  });

  it("tariffHash follows the four-block layout (step sizes packed into the first, the duration limit beside the parking prices) and depends on every hashed field", () => {
    const t = sampleTariff();
    const expected = poseidon5([
      tag("zkcharge.tariff"),
      poseidon5([
        t.cpoId,
        t.flatFee,
        t.minPrice,
        t.maxPrice,
        t.stepSize[0] + (t.stepSize[1] << 33n) + (t.stepSize[2] << 66n),
      ]),
      poseidon5([...t.energyPrice, t.tzOffset]),
      poseidon5([...t.timePricePerHour, poseidon5([...t.parkingPricePerHour, 0n])]), // no duration limit: 0
      poseidon5([t.bandStart[1], t.bandStart[2], t.bandStart[3], t.validFrom, t.validTo]),
    ]);
    expect(tariffHash(t)).to.equal(expected);
    const base = tariffHash(t);
    const variants = [
      { cpoId: 8n },
      { flatFee: 1n },
      { timePricePerHour: [0n, 0n, 1n, 0n] as const },
      { parkingPricePerHour: [0n, 0n, 0n, 1n] as const },
      { minPrice: 1n },
      { maxPrice: 1n },
      { tzOffset: 0n },
      { validFrom: t.validFrom + 1n },
      { validTo: t.validTo + 1n },
      { energyPrice: [t.energyPrice[0], t.energyPrice[1], t.energyPrice[2], 1n] as const },
      { bandStart: [0n, t.bandStart[1], t.bandStart[2] + 1n, t.bandStart[3]] as const },
      { stepSize: [2n, 1n, 1n] as const },
      { stepSize: [1n, 2n, 1n] as const },
      { stepSize: [1n, 1n, 2n] as const },
      // The packing keeps each step in its own 33 bits: 2^32 in one place is not 1 in the next.
      { stepSize: [1n << 32n, 1n, 1n] as const },
      { durationLimit: { seconds: 1n, energyPrice: 0n } },
      { durationLimit: { seconds: 1n, timePricePerHour: 0n } },
      { durationLimit: { seconds: 1n, parkingPricePerHour: 0n } },
      { durationLimit: { seconds: 2n, parkingPricePerHour: 0n } },
      { durationLimit: { seconds: 1n, parkingPricePerHour: 1n } },
    ];
    for (const v of variants) expect(tariffHash({ ...t, ...v }), JSON.stringify(Object.keys(v))).to.not.equal(base);
  });

  it("tariffHash packs the duration limit as seconds + energy * 2^32 + time * 2^64 + parking * 2^96 + sets * 2^128", () => {
    const top = (1n << 32n) - 1n;
    const limit = { seconds: top, energyPrice: 5n, parkingPricePerHour: top };
    const t = sampleTariff({ durationLimit: limit });
    const packed = top + (5n << 32n) + (0n << 64n) + (top << 96n) + (5n << 128n);
    const none = tariffHash(sampleTariff());
    expect(tariffHash(t)).to.not.equal(none);
    const expected = poseidon5([
      tag("zkcharge.tariff"),
      poseidon5([t.cpoId, t.flatFee, t.minPrice, t.maxPrice, 1n + (1n << 33n) + (1n << 66n)]),
      poseidon5([...t.energyPrice, t.tzOffset]),
      poseidon5([...t.timePricePerHour, poseidon5([...t.parkingPricePerHour, packed])]),
      poseidon5([t.bandStart[1], t.bandStart[2], t.bandStart[3], t.validFrom, t.validTo]),
    ]);
    expect(tariffHash(t)).to.equal(expected);
    // A price of 0 that the limit sets is not a price it leaves unset.
    expect(
      tariffHash(sampleTariff({ durationLimit: { seconds: 60n, energyPrice: 0n, timePricePerHour: 0n } })),
    ).to.not.equal(tariffHash(sampleTariff({ durationLimit: { seconds: 60n, energyPrice: 0n } })));
  });

  it("extDataHash is keccak256 of the ABI encoding, reduced mod r", async () => {
    const { keccak256, getBytes } = await import("ethers");
    const word = (x: bigint) => BigInt.asUintN(256, x).toString(16).padStart(64, "0");
    const addr = (a: string) => a.slice(2).toLowerCase().padStart(64, "0");
    const dyn = (b: Uint8Array) =>
      word(BigInt(b.length)) +
      Buffer.from(b)
        .toString("hex")
        .padEnd(Math.ceil(b.length / 32) * 64, "0");
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 1n << 64n }),
        fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }),
        fc.uint8Array({ maxLength: 100 }),
        fc.uint8Array({ maxLength: 100 }),
        (chainId, extAmount, enc1, enc2) => {
          const ext = {
            chainId,
            extAmount,
            encryptedOutput1: enc1,
            encryptedOutput2: enc2,
            pool: "0x" + "11".repeat(20),
            recipient: "0x" + "22".repeat(20),
            relayer: "0x" + "00".repeat(20),
          };
          const tail1 = dyn(enc1);
          const encoded =
            "0x" +
            word(chainId) +
            addr(ext.pool) +
            addr(ext.recipient) +
            addr(ext.relayer) +
            word(extAmount) +
            word(224n) +
            word(224n + BigInt(tail1.length / 2)) +
            tail1 +
            dyn(enc2);
          const h = extDataHash(ext);
          expect(h).to.equal(BigInt(keccak256(getBytes(encoded))) % FIELD_MODULUS);
          expect(h < FIELD_MODULUS).to.equal(true);
          expect(extDataHash({ ...ext, encryptedOutput1: "0x" + Buffer.from(enc1).toString("hex") })).to.equal(h);
          expect(extDataHash({ ...ext, chainId: chainId + 1n })).to.not.equal(h);
        },
      ),
      { numRuns: 30 },
    );
    expect(() =>
      extDataHash({
        chainId: 1n,
        pool: "0x12",
        recipient: "0x" + "22".repeat(20),
        relayer: "0x" + "00".repeat(20),
        extAmount: 0n,
        encryptedOutput1: "0x",
        encryptedOutput2: "0x",
      }),
    ).to.throw(InvalidInputError, /pool/);
  });
});
