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

/** Every boundary in (from, to] of a session that starts at `from`. */
function boundariesBetween(from: bigint, to: bigint, tariff: Tariff): bigint[] {
  const out: bigint[] = [];
  for (let b = nextBoundaryAfter(from, tariff, from); b <= to; b = nextBoundaryAfter(b, tariff, from)) out.push(b);
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

  describe("a chain point where the charging state changes (charging <-> parked)", () => {
    const start = DAY0 + 7n * HOUR; // 08:00 local, no boundary before 12:00

    it("takes a point at a change, none while the state holds, none when the change is at the last point", () => {
      const m = new Meter({ cpoId: 7n, ratedPowerW: RATED, privateKey: key });
      const s = m.startSession({ sessionId: 11n, tariff, t: start, e: 0n });
      expect(s.charging).to.equal(true);
      expect(s.addReading(start + 600n, 1_000n, { charging: true }).kind).to.equal("live");
      const stop = s.addReading(start + 900n, 1_500n, { charging: false }); // SuspendedEV at 08:15
      expect([stop.kind, s.charging, s.points.length]).to.deep.equal(["point", false, 2]);
      expect(s.addReading(start + 1200n, 1_500n, { charging: false }).kind).to.equal("live");
      expect(s.addReading(start + 1500n, 1_500n).kind).to.equal("live"); // no state given: unchanged
      const resume = s.addReading(start + 1800n, 1_500n, { charging: true });
      expect([resume.kind, s.charging]).to.deep.equal(["point", true]);
      // The state flips back at the point just taken: no second point at the same reading.
      expect(s.addReading(start + 1800n, 1_500n, { charging: false }).kind).to.equal("live");
      expect(s.points.map((p) => p.t)).to.deep.equal([start, start + 900n, start + 1800n]);
    });

    it("parked from plug-in: startSession charging false, a point when energy starts", () => {
      const m = new Meter({ cpoId: 7n, ratedPowerW: RATED, privateKey: key });
      const s = m.startSession({ sessionId: 12n, tariff, t: start, e: 0n, charging: false });
      const readings = simulateCharging(s, {
        to: start + 1200n,
        powerW: (t) => (t < start + 600n ? 0n : 11_000n),
        stepSeconds: 300n,
      });
      expect(readings.filter((r) => r.kind === "point").map((r) => r.t)).to.deep.equal([start + 600n]);
      const bill = computeBill(s.end(start + 1200n, readings.at(-1)!.e).points, tariff, RATED);
      expect(bill.perInterval.map((iv) => [iv.dt, iv.parked])).to.deep.equal([
        [600n, true],
        [600n, false],
      ]);
    });

    it("refuses a state-change point that would leave no slot for the end point", () => {
      const m = new Meter({ cpoId: 7n, ratedPowerW: RATED, privateKey: key });
      const s = m.startSession({ sessionId: 13n, tariff, t: start, e: 0n });
      for (let i = 1; i < N_POINTS - 1; i++)
        s.addReading(start + BigInt(i) * 60n, 10n * BigInt(i), { charging: i % 2 === 0 });
      expect(s.pointsLeft).to.equal(1);
      expect(() => s.addReading(start + 3600n, 150n, { charging: !s.charging })).to.throw(
        MeterError,
        /call end\(\) at this change between charging and parked/,
      );
      expect(() =>
        simulateCharging(s, { to: start + 7200n, powerW: s.charging ? 0n : 1_000n, stepSeconds: 600n }),
      ).to.throw(MeterError, /changes between charging and parked/);
      expect(s.end(start + 3600n, 150n).n).to.equal(N_POINTS);
    });

    it("restores a chain with state-change points to the same head and state", () => {
      const m = new Meter({ cpoId: 7n, ratedPowerW: RATED, privateKey: key });
      const s = m.startSession({ sessionId: 14n, tariff, t: start, e: 0n });
      simulateCharging(s, { to: start + 900n, powerW: 11_000n, stepSeconds: 300n });
      simulateCharging(s, { to: start + 1800n, powerW: 0n, stepSeconds: 300n });
      simulateCharging(s, { to: start + 6n * HOUR, powerW: 7_000n, stepSeconds: 1800n }); // crosses 12:00
      expect(s.points.map((p) => p.t)).to.deep.equal([start, start + 900n, start + 1800n, DAY0 + 11n * HOUR]);
      const back = m.restoreSession({ sessionId: 14n, tariff, points: s.points, last: s.lastReading });
      expect([back.head, back.charging, back.lastReading]).to.deep.equal([s.head, s.charging, s.lastReading]);
    });
  });

  it("ending on the last chain point does not duplicate it", () => {
    const m = new Meter({ cpoId: 7n, ratedPowerW: RATED, privateKey: key });
    const s = m.startSession({ sessionId: 3n, tariff, t: DAY0, e: 10n });
    expect(s.end(DAY0, 10n).n).to.equal(1);
  });

  // Each run signs a live tail per reading (up to 144 of them), hence the fixed seed and count (ZKCHARGE_PROPERTY_*).
  it("property: simulated sessions never exceed the rating and put a point on every boundary and the duration limit", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 86_399n }),
        fc.bigInt({ min: 60n, max: 40n * HOUR }),
        // 0 W throughout (parked from plug-in: no state change), or a power whose half is never 0 W.
        fc.oneof(fc.constant(0n), fc.bigInt({ min: 2n, max: 60_000n })),
        fc.bigInt({ min: 1000n, max: 4n * HOUR }),
        fc.bigInt({ min: 1_000n, max: 50_000n }),
        fc.bigInt({ min: 0n, max: 86_399n }),
        // No duration limit, or a blocking fee from 1 s to 40 h after plug-in: one more boundary.
        fc.option(fc.bigInt({ min: 1n, max: 40n * HOUR }), { nil: undefined }),
        (offset, duration, power, step, rated, tz, limit) => {
          const durationLimit = limit === undefined ? undefined : { seconds: limit, parkingPricePerHour: 6_000_000n };
          const tr = sampleTariff({ tzOffset: tz, ...(durationLimit ? { durationLimit } : {}) });
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
          if (limit !== undefined && limit <= duration) expect(chainTimes).to.include(start + limit);
          expect(signed.n).to.equal(1 + boundaryTimes.length + (boundaryTimes.includes(start + duration) ? 0 : 1));
          computeBill(signed.points, tr, rated); // the circuit's rule accepts it
          expect(verifySignature(signed.final, signed.signature, signed.meterPublicKey)).to.equal(true);
        },
      ),
      slowPropertyRuns(12),
    );
  });
});
