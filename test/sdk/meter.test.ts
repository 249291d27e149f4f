import { expect } from "chai";
import fc from "fast-check";
import { N_POINTS } from "../../sdk/core/constants.ts";
import { InvalidReadingsError, MeterError } from "../../sdk/core/errors.ts";
import { chainFinal, liveTail, meterLeaf, tariffHash } from "../../sdk/core/hash.ts";
import { Meter } from "../../sdk/meter/meter.ts";
import { computeChain, verifySignedSession, type Reading } from "../../sdk/meter/record.ts";
import { computeBill, nextBoundaryAfter, type Tariff } from "../../sdk/tariff/tariff.ts";
import { DAY0, HOUR, eddsa, sampleTariff } from "./helpers.ts";
import { simulateCharging } from "../../sdk/meter/simulator.ts";
import { slowPropertyRuns } from "../fixtures/property.ts";

const { derivePublicKey, verifySignature } = eddsa;

const RATED = 22_000n;
const key = new Uint8Array(32).fill(7);

/** Every boundary in (from, to]. */
function boundariesBetween(from: bigint, to: bigint, tariff: Tariff): bigint[] {
  const out: bigint[] = [];
  for (let b = nextBoundaryAfter(from, tariff); b <= to; b = nextBoundaryAfter(b, tariff)) out.push(b);
  return out;
}

describe("sdk/meter", () => {
  const tariff = sampleTariff(); // UTC+1, boundaries at local 00/06/12/18

  it("derives its leaf from the EdDSA key, CPO and rating", () => {
    const m = new Meter({ cpoId: 7n, ratedPowerW: RATED, privateKey: key });
    const [x, y] = derivePublicKey(key);
    expect(m.publicKey).to.deep.equal([x, y]);
    expect(m.leaf).to.equal(meterLeaf(x, y, 7n, RATED));
    expect(() => new Meter({ cpoId: 7n, ratedPowerW: 0n })).to.throw(/positive/);
    expect(() => new Meter({ cpoId: 7n, ratedPowerW: 1n << 24n })).to.throw(/24 bits/);
  });

  it("simulates across boundaries: a chain point at each exact boundary, signed end verifies", () => {
    const m = new Meter({ cpoId: 7n, ratedPowerW: RATED, privateKey: key });
    const start = DAY0 + 3n * HOUR + 17n; // 04:00:17 local
    const end = start + 9n * HOUR; // 13:00:17 local: crosses 06:00 and 12:00
    const s = m.startSession({ sessionId: 42n, tariff, t: start, e: 500n });
    const readings = simulateCharging(s, { to: end, powerW: 11_000n, stepSeconds: 1800n });
    const last = readings[readings.length - 1]!;
    const signed = s.end(end, last.e);
    expect(signed.points.map((p) => p.t)).to.deep.equal([start, DAY0 + 5n * HOUR, DAY0 + 11n * HOUR, end]);
    expect(signed.n).to.equal(4);
    expect(signed.tariffHash).to.equal(tariffHash(tariff));
    const heads = computeChain(42n, 7n, m.leaf, signed.tariffHash, signed.points);
    expect(signed.ocmfDigest).to.equal(0n);
    expect(signed.final).to.equal(chainFinal(heads[4]!, 4n, 0n));
    expect(verifySignature(signed.final, signed.signature, signed.meterPublicKey)).to.equal(true);
    expect(verifySignedSession(signed)).to.equal(true);
    // 11 kW for 9 h, released in whole Wh.
    expect(last.e - 500n).to.equal(99_000n);
    expect(computeBill(signed.points, tariff, RATED).perInterval.map((i) => i.band)).to.deep.equal([0, 1, 2]);
    // Tampering with anything breaks it.
    expect(
      verifySignedSession({ ...signed, points: signed.points.map((p, i) => (i === 1 ? { ...p, e: p.e + 1n } : p)) }),
    ).to.equal(false);
    expect(verifySignedSession({ ...signed, sessionId: 43n })).to.equal(false);
    expect(verifySignedSession({ ...signed, ratedPowerW: 50_000n })).to.equal(false);
    expect(verifySignedSession({ ...signed, n: 3, points: signed.points.slice(0, 3) })).to.equal(false);
    expect(() => s.end(end, last.e)).to.throw(MeterError, /already ended/);
    expect(() => s.addReading(end + 1n, last.e)).to.throw(MeterError, /already ended/);
  });

  it("signs live tails over liveTail(H_k, t, e) between chain points", () => {
    const m = new Meter({ cpoId: 7n, ratedPowerW: RATED, privateKey: key });
    const s = m.startSession({ sessionId: 1n, tariff, t: DAY0, e: 0n });
    const r = s.addReading(DAY0 + 600n, 1000n);
    if (r.kind !== "live") throw new Error("expected a live tail");
    expect(r.k).to.equal(1);
    expect(r.tail).to.equal(liveTail(s.head, DAY0 + 600n, 1000n));
    expect(verifySignature(r.tail, r.signature, m.publicKey)).to.equal(true);
    expect(verifySignature(liveTail(s.head, DAY0 + 600n, 999n), r.signature, m.publicKey)).to.equal(false);
    expect(s.points.length).to.equal(1);
  });

  it("refuses readings the circuit could not bill", () => {
    const m = new Meter({ cpoId: 7n, ratedPowerW: RATED, privateKey: key });
    const s = m.startSession({ sessionId: 1n, tariff, t: DAY0, e: 0n });
    s.addReading(DAY0 + 900n, 5_500n); // exactly 22 kW
    expect(() => s.addReading(DAY0 + 1800n, 11_001n)).to.throw(InvalidReadingsError, /rating/);
    expect(() => s.addReading(DAY0 + 800n, 5_500n)).to.throw(InvalidReadingsError, /earlier/);
    expect(() => s.addReading(DAY0 + 1000n, 5_000n)).to.throw(InvalidReadingsError, /below/);
    expect(() => s.addReading(DAY0 + 5n * HOUR + 1n, 6_000n)).to.throw(
      InvalidReadingsError,
      /skips the tariff boundary at 06:00:00/,
    );
    expect(() => m.startSession({ sessionId: 1n, tariff: { ...tariff, cpoId: 8n }, t: DAY0, e: 0n })).to.throw(
      MeterError,
      /CPO 8/,
    );
    expect(() => m.startSession({ sessionId: 1n, tariff, t: tariff.validTo + 1n, e: 0n })).to.throw(
      MeterError,
      /validity/,
    );
  });

  it(`holds at most ${N_POINTS} chain points and keeps the last slot for the end`, () => {
    // Boundaries every 6 h: 15 slots after the start point take 14 boundaries + the end.
    const m = new Meter({ cpoId: 7n, ratedPowerW: RATED, privateKey: key });
    const s = m.startSession({ sessionId: 9n, tariff, t: DAY0, e: 0n });
    const bs = boundariesBetween(DAY0, DAY0 + 10n * 86_400n, tariff);
    let e = 0n;
    for (let i = 0; i < N_POINTS - 2; i++) {
      e += 1000n;
      const r = s.addReading(bs[i]!, e);
      expect(r.kind).to.equal("point");
      expect(s.pointsLeft).to.equal(N_POINTS - 2 - i);
    }
    expect(s.pointsLeft).to.equal(1);
    expect(() => simulateCharging(s, { to: bs[N_POINTS - 2]!, powerW: 0n, stepSeconds: 3600n })).to.throw(
      MeterError,
      /boundaries/,
    );
    expect(() => s.addReading(bs[N_POINTS - 2]!, e)).to.throw(MeterError, /call end\(\) at this boundary/);
    const signed = s.end(bs[N_POINTS - 2]!, e + 1n);
    expect(signed.n).to.equal(N_POINTS);
    expect(verifySignedSession(signed)).to.equal(true);
  });

  it("ending on the last chain point does not duplicate it", () => {
    const m = new Meter({ cpoId: 7n, ratedPowerW: RATED, privateKey: key });
    const s = m.startSession({ sessionId: 3n, tariff, t: DAY0, e: 10n });
    expect(s.end(DAY0, 10n).n).to.equal(1);
  });

  // Each run signs a live tail per reading (up to 144 of them), hence the fixed seed and count (ZKCHARGE_PROPERTY_*).
  it("property: simulated sessions never exceed the rating and put a point on every boundary", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 86_399n }),
        fc.bigInt({ min: 60n, max: 40n * HOUR }),
        fc.bigInt({ min: 0n, max: 60_000n }),
        fc.bigInt({ min: 1000n, max: 4n * HOUR }),
        fc.bigInt({ min: 1_000n, max: 50_000n }),
        fc.bigInt({ min: 0n, max: 86_399n }),
        (offset, duration, power, step, rated, tz) => {
          const tr = sampleTariff({ tzOffset: tz });
          const m = new Meter({ cpoId: 7n, ratedPowerW: rated, privateKey: key });
          const start = DAY0 + offset;
          const s = m.startSession({ sessionId: 5n, tariff: tr, t: start, e: 0n });
          const readings: Reading[] = simulateCharging(s, {
            to: start + duration,
            powerW: (t) => (t % 2n === 0n ? power : power / 2n),
            stepSeconds: step,
          });
          const signed = s.end(start + duration, readings[readings.length - 1]?.e ?? 0n);
          const all = [{ t: start, e: 0n }, ...readings];
          for (let i = 0; i < all.length; i++) {
            for (let j = i + 1; j < all.length; j++) {
              expect((all[j]!.e - all[i]!.e) * 3600n <= rated * (all[j]!.t - all[i]!.t), `readings ${i}-${j}`).to.equal(
                true,
              );
            }
          }
          const boundaryTimes = boundariesBetween(start, start + duration, tr);
          const chainTimes = signed.points.map((p) => p.t);
          for (const b of boundaryTimes) expect(chainTimes).to.include(b);
          expect(signed.n).to.equal(1 + boundaryTimes.length + (boundaryTimes.includes(start + duration) ? 0 : 1));
          computeBill(signed.points, tr, rated); // the circuit's rule accepts it
          expect(verifySignature(signed.final, signed.signature, signed.meterPublicKey)).to.equal(true);
        },
      ),
      slowPropertyRuns(12),
    );
  });
});
