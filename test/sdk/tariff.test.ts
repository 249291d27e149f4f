import { expect } from "chai";
import fc from "fast-check";
import { BILL_DIVISOR, N_POINTS } from "../../sdk/core/constants.ts";
import { InvalidReadingsError, InvalidTariffError } from "../../sdk/core/errors.ts";
import {
  bandOf,
  computeBill,
  everyBand,
  nextBoundaryAfter,
  stepSizesText,
  validateTariff,
  type Point,
  type Tariff,
} from "../../sdk/tariff/tariff.ts";
import { DAY0, HOUR, sampleTariff } from "./helpers.ts";

const D = BILL_DIVISOR;
const P = (t: bigint, e: bigint): Point => ({ t, e });
const RATED = 22_000n;

/** A random valid tariff. */
const tariffArb: fc.Arbitrary<Tariff> = fc
  .record({
    flatFee: fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
    energyPrice: fc.tuple(...[0, 1, 2, 3].map(() => fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }))),
    starts: fc.uniqueArray(fc.integer({ min: 1, max: 86_399 }), { minLength: 3, maxLength: 3 }),
    timePricePerHour: fc.tuple(...[0, 1, 2, 3].map(() => fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }))),
    parkingPricePerHour: fc.tuple(...[0, 1, 2, 3].map(() => fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }))),
    bounds: fc.tuple(fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 40n) - 1n })),
    tzOffset: fc.bigInt({ min: 0n, max: 86_399n }),
  })
  .map(({ starts, energyPrice, timePricePerHour: time, parkingPricePerHour: park, bounds: [a, b], ...r }) => {
    const s = [...starts].sort((x, y) => x - y).map(BigInt);
    // maxPrice 0 (no cap) half the time; otherwise minPrice <= maxPrice, as the registry requires.
    const [minPrice, maxPrice] = b % 2n === 0n ? [a, 0n] : a <= b ? [a, b] : [b, a];
    return sampleTariff({
      ...r,
      minPrice,
      maxPrice,
      energyPrice: [energyPrice[0]!, energyPrice[1]!, energyPrice[2]!, energyPrice[3]!],
      timePricePerHour: [time[0]!, time[1]!, time[2]!, time[3]!],
      parkingPricePerHour: [park[0]!, park[1]!, park[2]!, park[3]!],
      bandStart: [0n, s[0]!, s[1]!, s[2]!],
    });
  });

describe("sdk/tariff: validateTariff", () => {
  it("accepts the sample and the largest allowed values", () => {
    validateTariff(sampleTariff());
    validateTariff(
      sampleTariff({
        flatFee: (1n << 40n) - 1n,
        minPrice: (1n << 40n) - 1n,
        maxPrice: (1n << 40n) - 1n,
        timePricePerHour: [(1n << 32n) - 1n, 0n, 1n, (1n << 32n) - 1n],
        energyPrice: [(1n << 32n) - 1n, 0n, 0n, 0n],
        tzOffset: 86_399n,
        bandStart: [0n, 1n, 2n, 86_399n],
        validFrom: 0n,
        validTo: (1n << 40n) - 1n,
        stepSize: [1n << 32n, 1n << 32n, 1n << 32n],
      }),
    );
  });

  const cases: [string, Partial<Tariff>][] = [
    ["cpoId", { cpoId: -1n }],
    ["flatFee", { flatFee: 1n << 40n }],
    ["energyPrice[2]", { energyPrice: [0n, 0n, 1n << 32n, 0n] }],
    ["energyPrice[0]", { energyPrice: [-1n, 0n, 0n, 0n] }],
    ["bandStart[0]", { bandStart: [1n, 2n, 3n, 4n] }],
    ["bandStart[1]", { bandStart: [0n, 0n, 3n, 4n] }],
    ["bandStart[2]", { bandStart: [0n, 5n, 5n, 6n] }],
    ["bandStart[3]", { bandStart: [0n, 5n, 6n, 86_400n] }],
    ["timePricePerHour[3]", { timePricePerHour: [0n, 0n, 0n, 1n << 32n] }],
    ["timePricePerHour[1]", { timePricePerHour: [0n, -1n, 0n, 0n] }],
    ["parkingPricePerHour[0]", { parkingPricePerHour: [1n << 32n, 0n, 0n, 0n] }],
    ["parkingPricePerHour[2]", { parkingPricePerHour: [0n, 0n, -1n, 0n] }],
    ["parkingPricePerHour", { parkingPricePerHour: [0n, 0n, 0n] as never }],
    ["minPrice", { minPrice: 1n << 40n }],
    ["minPrice", { minPrice: 11n, maxPrice: 10n }],
    ["maxPrice", { maxPrice: 1n << 40n }],
    ["tzOffset", { tzOffset: 86_400n }],
    ["tzOffset", { tzOffset: -3600n }],
    ["validFrom", { validFrom: -1n }],
    ["validTo", { validTo: 1n << 40n }],
    ["validTo", { validFrom: 10n, validTo: 9n }],
    ["stepSize[0]", { stepSize: [0n, 1n, 1n] }],
    ["stepSize[1]", { stepSize: [1n, (1n << 32n) + 1n, 1n] }],
    ["stepSize[2]", { stepSize: [1n, 1n, -1n] }],
    ["stepSize", { stepSize: [1n, 1n] as never }],
    ["stepSize", { stepSize: undefined as never }],
  ];
  for (const [field, change] of cases) {
    it(`rejects a bad ${field} (${JSON.stringify(change, (_, v) => (typeof v === "bigint" ? v.toString() : v))})`, () => {
      let err: unknown;
      try {
        validateTariff(sampleTariff(change));
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(InvalidTariffError);
      expect((err as InvalidTariffError).field).to.equal(field);
      expect((err as Error).message).to.contain(`tariff.${field}`);
    });
  }
});

describe("sdk/tariff: stepSizesText", () => {
  it("says nothing for exact billing and names every dimension's step otherwise", () => {
    expect(stepSizesText([1n, 1n, 1n])).to.equal(undefined);
    expect(stepSizesText([1n, 1n, 60n])).to.equal("steps of 1 Wh, 1 s charging, 60 s parked");
    expect(stepSizesText([1000n, 900n, 1n << 32n])).to.equal("steps of 1000 Wh, 900 s charging, 4294967296 s parked");
  });
});

describe("sdk/tariff: bands and boundaries", () => {
  const t = sampleTariff(); // UTC+1, bands at 00/06/12/18 local
  it("bandOf uses local time of day, end-inclusive boundaries", () => {
    expect(bandOf(DAY0, t)).to.equal(0); // 01:00 local
    expect(bandOf(DAY0 + 5n * HOUR - 1n, t)).to.equal(0); // 05:59:59
    expect(bandOf(DAY0 + 5n * HOUR, t)).to.equal(1); // 06:00:00 starts band 1
    expect(bandOf(DAY0 + 17n * HOUR, t)).to.equal(3); // 18:00
    expect(bandOf(DAY0 + 23n * HOUR, t)).to.equal(0); // 00:00 next day
    expect(bandOf(DAY0 + 5n * HOUR, { ...t, tzOffset: 0n })).to.equal(0); // 05:00 in UTC
    expect(bandOf(DAY0 + 7n * HOUR, { ...t, tzOffset: 86_400n - HOUR })).to.equal(1); // UTC-1: 06:00
  });

  it("nextBoundaryAfter returns the next band start or local midnight, strictly after t", () => {
    expect(nextBoundaryAfter(DAY0, t, DAY0)).to.equal(DAY0 + 5n * HOUR);
    expect(nextBoundaryAfter(DAY0 + 5n * HOUR, t, DAY0 + 5n * HOUR)).to.equal(DAY0 + 11n * HOUR);
    expect(nextBoundaryAfter(DAY0 + 17n * HOUR, t, DAY0 + 17n * HOUR)).to.equal(DAY0 + 23n * HOUR); // midnight local
    expect(nextBoundaryAfter(DAY0 + 23n * HOUR - 1n, t, DAY0 + 23n * HOUR - 1n)).to.equal(DAY0 + 23n * HOUR);
  });

  it("a boundary is the first instant of the next band, for random tariffs", () => {
    fc.assert(
      fc.property(tariffArb, fc.bigInt({ min: DAY0, max: DAY0 + 86_400n * 3n }), (tariff, time) => {
        const b = nextBoundaryAfter(time, tariff, time);
        expect(b > time && b - time <= 86_400n).to.equal(true);
        expect(bandOf(b, tariff)).to.equal((bandOf(b - 1n, tariff) + 1) % 4);
        expect(bandOf(time, tariff)).to.equal(bandOf(b - 1n, tariff));
      }),
    );
  });
});

describe("sdk/tariff: computeBill", () => {
  const t = sampleTariff();

  it("bills a hand-computed session across a band boundary", () => {
    // 05:00 -> 06:00 -> 07:00 local at 11 kW: 11 kWh at 0.30 + 11 kWh at 0.40 + 0.50 flat + 2 h at 1.00/h.
    const points = [P(DAY0 + 4n * HOUR, 1_000n), P(DAY0 + 5n * HOUR, 12_000n), P(DAY0 + 6n * HOUR, 23_000n)];
    const bill = computeBill(points, { ...t, timePricePerHour: everyBand(1_000_000n) }, RATED);
    expect(bill.amount).to.equal(10_200_000n);
    expect(bill.remainder).to.equal(0n);
    expect(bill.perInterval.map((i) => i.band)).to.deep.equal([0, 1]);
    expect(bill.perInterval[1]!.energyNumerator).to.equal(11_000n * 400_000n * 3600n);
    expect(bill.perInterval[1]!.timeNumerator).to.equal(3600n * 1_000_000n * 1000n);
    expect(computeBill(points.slice(0, 1), t, RATED).amount).to.equal(t.flatFee);
  });

  it("an interval ending exactly at a boundary passes, one second later straddles", () => {
    computeBill([P(DAY0 + 4n * HOUR, 0n), P(DAY0 + 5n * HOUR, 100n)], t, RATED);
    expect(() => computeBill([P(DAY0 + 4n * HOUR, 0n), P(DAY0 + 5n * HOUR + 1n, 100n)], t, RATED)).to.throw(
      InvalidReadingsError,
      "interval 05:00:00-06:00:01 straddles the 06:00 band boundary",
    );
  });

  it("local midnight is a boundary: 23:00 -> 00:00 passes, 00:00:01 straddles, next day is band 0", () => {
    const at23 = DAY0 + 22n * HOUR; // 23:00 local
    const ok = computeBill([P(at23, 0n), P(at23 + HOUR, 1000n), P(at23 + 2n * HOUR, 2000n)], t, RATED);
    expect(ok.perInterval.map((i) => i.band)).to.deep.equal([3, 0]);
    expect(() => computeBill([P(at23, 0n), P(at23 + HOUR + 1n, 1000n)], t, RATED)).to.throw(
      InvalidReadingsError,
      /straddles the local midnight boundary/,
    );
  });

  it("the time-zone offset moves the bands", () => {
    const points = [P(DAY0 + 5n * HOUR, 0n), P(DAY0 + 6n * HOUR, 10_000n)]; // 06:00-07:00 at UTC+1
    expect(computeBill(points, t, RATED).amount).to.equal(500_000n + 4_000_000n);
    expect(computeBill(points, { ...t, tzOffset: 0n }, RATED).amount).to.equal(500_000n + 3_000_000n);
    // UTC-1 written modulo one day: 04:00-05:00 local, band 0.
    expect(computeBill(points, { ...t, tzOffset: 86_400n - HOUR }, RATED).perInterval[0]!.band).to.equal(0);
  });

  it("caps at maxPrice only when maxPrice > 0 and the bill exceeds it", () => {
    const points = [P(DAY0, 0n), P(DAY0 + HOUR, 10_000n)]; // 0.50 + 3.00
    const over = computeBill(points, { ...t, maxPrice: 3_000_000n }, RATED);
    expect([over.amount, over.bill, over.capped]).to.deep.equal([3_000_000n, 3_500_000n, true]);
    const equal = computeBill(points, { ...t, maxPrice: 3_500_000n }, RATED);
    expect([equal.amount, equal.capped]).to.deep.equal([3_500_000n, false]);
    expect(computeBill(points, { ...t, maxPrice: 0n }, RATED).amount).to.equal(3_500_000n);
  });

  it("raises to minPrice (OCPI min_price) only when the bill is below it, before the cap", () => {
    const points = [P(DAY0, 0n), P(DAY0 + HOUR, 10_000n)]; // 0.50 + 3.00
    const below = computeBill(points, { ...t, minPrice: 5_000_000n }, RATED);
    expect([below.amount, below.bill, below.raised, below.capped]).to.deep.equal([5_000_000n, 3_500_000n, true, false]);
    const equal = computeBill(points, { ...t, minPrice: 3_500_000n }, RATED);
    expect([equal.amount, equal.raised]).to.deep.equal([3_500_000n, false]);
    const above = computeBill(points, { ...t, minPrice: 3_499_999n }, RATED);
    expect([above.amount, above.raised]).to.deep.equal([3_500_000n, false]);
    // A floor equal to the cap fixes the price: OCPI's "at least" and "no more than" at once.
    const fixed = computeBill(points, { ...t, minPrice: 4_000_000n, maxPrice: 4_000_000n }, RATED);
    expect([fixed.amount, fixed.raised, fixed.capped]).to.deep.equal([4_000_000n, true, false]);
    // An empty session (one point) still costs the floor.
    expect(computeBill([P(DAY0, 0n)], { ...t, minPrice: 1n << 39n }, RATED).amount).to.equal(1n << 39n);
  });

  it("bills each interval's time at the time price of its band (OCPI TIME with start_time/end_time)", () => {
    const timed = {
      ...t,
      flatFee: 0n,
      energyPrice: everyBand(0n),
      timePricePerHour: [1n, 2n, 3_600_000n, 4n] as const,
    };
    // 11:00-12:00 local is band 1 (2/h), 12:00-13:00 band 2 (3.60 EUR/h): a chain point at the 12:00 boundary.
    // 1 Wh each (free energy): charging intervals, so TIME prices them.
    const points = [P(DAY0 + 10n * HOUR, 0n), P(DAY0 + 11n * HOUR, 1n), P(DAY0 + 12n * HOUR, 2n)];
    const bill = computeBill(points, timed, RATED);
    expect(bill.perInterval.map((i) => [i.band, i.timeNumerator])).to.deep.equal([
      [1, 3600n * 2n * 1000n],
      [2, 3600n * 3_600_000n * 1000n],
    ]);
    expect(bill.amount).to.equal((3600n * 2n * 1000n) / D + 3_600_000n);
  });

  it("bills a parked interval (de = 0, OCPI PARKING_TIME) at the band's parking price, edges 0 and 2^32 - 1", () => {
    const top = (1n << 32n) - 1n;
    const priced = {
      ...t,
      flatFee: 0n,
      energyPrice: everyBand(0n),
      timePricePerHour: [5n, 7n, 3_600_000n, 9n] as const,
    };
    // 11:00-12:00 local band 1, charging 1 Wh; 12:00-13:00 band 2 parked; 13:00-13:30 band 2 charging.
    const points = [
      P(DAY0 + 10n * HOUR, 0n),
      P(DAY0 + 11n * HOUR, 1n),
      P(DAY0 + 12n * HOUR, 1n),
      P(DAY0 + 12n * HOUR + 1800n, 2n),
    ];
    for (const park of [0n, 1n, 1_800_000n, top]) {
      const bill = computeBill(points, { ...priced, parkingPricePerHour: [0n, 0n, park, 0n] }, RATED);
      expect(bill.perInterval.map((i) => [i.band, i.parked, i.timeNumerator])).to.deep.equal([
        [1, false, 3600n * 7n * 1000n],
        [2, true, 3600n * park * 1000n],
        [2, false, 1800n * 3_600_000n * 1000n],
      ]);
      expect(bill.numerator).to.equal(3600n * (7n + park) * 1000n + 1800n * 3_600_000n * 1000n);
    }
    expect(() => computeBill(points, { ...priced, parkingPricePerHour: everyBand(top + 1n) }, RATED)).to.throw(
      InvalidTariffError,
      /parkingPricePerHour\[0\]/,
    );
  });

  it("step sizes: each dimension's total rounded up once, billed at the price of its last interval", () => {
    // 05:00-06:00 local charging 1,001 Wh in band 0, 06:00-06:05 parked in band 1, 06:05-06:10 charging 100 Wh.
    const priced = sampleTariff({
      timePricePerHour: [60_000n, 120_000n, 0n, 0n],
      parkingPricePerHour: [0n, 600_000n, 0n, 0n],
    });
    const at = (h: bigint, s: bigint, e: bigint) => ({ t: DAY0 + (h - 1n) * HOUR + s, e });
    const points = [at(5n, 0n, 0n), at(6n, 0n, 1_001n), at(6n, 300n, 1_001n), at(6n, 600n, 1_101n)];
    const exact = computeBill(points, priced, RATED);
    expect(exact.stepExtra).to.deep.equal([0n, 0n, 0n]);
    expect(exact.stepNumerator).to.equal(0n);
    const stepped = computeBill(points, { ...priced, stepSize: [500n, 3_600n, 600n] }, RATED);
    // 1,101 Wh -> 1,500; 65 min charging -> 120; 5 min parked -> 10: all at band 1's prices (the last intervals).
    expect(stepped.stepExtra).to.deep.equal([399n, 3_300n, 300n]);
    expect(stepped.stepNumerator).to.equal(399n * 400_000n * 3600n + (3_300n * 120_000n + 300n * 600_000n) * 1000n);
    expect(stepped.numerator).to.equal(exact.numerator + stepped.stepNumerator);
    // Volumes already on their steps add nothing; a session with no intervals adds nothing.
    expect(computeBill(points, { ...priced, stepSize: [1_101n, 3_900n, 300n] }, RATED).stepExtra).to.deep.equal([
      0n,
      0n,
      0n,
    ]);
    expect(computeBill([points[0]!], { ...priced, stepSize: [500n, 3_600n, 600n] }, RATED).stepNumerator).to.equal(0n);
  });

  describe("duration limit (OCPI min_duration / max_duration)", () => {
    // A blocking fee: parking costs 6.00/h from 4 h after plug-in (the sample's bands otherwise).
    const blocking = sampleTariff({ durationLimit: { seconds: 4n * HOUR, parkingPricePerHour: 6_000_000n } });
    const t0 = DAY0 + 6n * HOUR; // 07:00 local, band 1 (0.40/kWh) until 12:00 local = t0 + 5 h

    it("the limit is a boundary: nextBoundaryAfter returns it when it comes before the next band start", () => {
      expect(nextBoundaryAfter(t0, blocking, t0)).to.equal(t0 + 4n * HOUR);
      expect(nextBoundaryAfter(t0 + HOUR, blocking, t0)).to.equal(t0 + 4n * HOUR);
      expect(nextBoundaryAfter(t0 + 4n * HOUR, blocking, t0)).to.equal(t0 + 5n * HOUR); // after it, the bands'
      const late = sampleTariff({ durationLimit: { seconds: 6n * HOUR, energyPrice: 0n } });
      expect(nextBoundaryAfter(t0, late, t0)).to.equal(t0 + 5n * HOUR); // the band start comes first
      expect(nextBoundaryAfter(t0 + 5n * HOUR, late, t0)).to.equal(t0 + 6n * HOUR);
    });

    it("prices the intervals from the limit on at the limit's price, the others at the band's", () => {
      // 11 kWh in the first hour (4.40), parked 3 h free, then 1 h parked at 6.00 after the limit: 0.50 + 10.40.
      const points = [P(t0, 0n), P(t0 + HOUR, 11_000n), P(t0 + 4n * HOUR, 11_000n), P(t0 + 5n * HOUR, 11_000n)];
      const bill = computeBill(points, blocking, RATED);
      expect(bill.amount).to.equal(500_000n + 4_400_000n + 6_000_000n);
      expect(bill.perInterval.map((c) => c.afterLimit)).to.deep.equal([false, false, true]);
      // A session that ends by the limit never pays it, ending exactly on it included.
      expect(computeBill(points.slice(0, 3), blocking, RATED).amount).to.equal(500_000n + 4_400_000n);
    });

    it("an interval that straddles the limit is refused: the meter takes a chain point there", () => {
      const points = [P(t0, 0n), P(t0 + HOUR, 11_000n), P(t0 + 4n * HOUR + 1n, 11_000n)];
      expect(() => computeBill(points, blocking, RATED)).to.throw(
        InvalidReadingsError,
        /straddles the duration limit 14400 s/,
      );
    });

    it("a limit on the energy price leaves the time prices alone; the step round-up takes the limit's price", () => {
      const energy = sampleTariff({ durationLimit: { seconds: 1800n, energyPrice: 100_000n } });
      const bill = computeBill([P(t0, 0n), P(t0 + 1800n, 5500n), P(t0 + HOUR, 11_000n)], energy, RATED);
      expect(bill.amount).to.equal(500_000n + 2_200_000n + 550_000n);
      // Parking in 1 h steps: 3.5 h parked billed as 4 h, the extra half hour at the last (after-limit) price.
      const stepped = { ...blocking, stepSize: [1n, 1n, 3600n] as const };
      const points = [P(t0, 0n), P(t0 + HOUR, 11_000n), P(t0 + 4n * HOUR, 11_000n), P(t0 + 4n * HOUR + 1800n, 11_000n)];
      const b = computeBill(points, stepped, RATED);
      expect(b.stepExtra).to.deep.equal([0n, 0n, 1800n]);
      expect(b.amount).to.equal(500_000n + 4_400_000n + 3_000_000n + 3_000_000n);
    });

    it("validateTariff: 1 <= seconds < 2^32, prices < 2^32, at least one price set", () => {
      const top = (1n << 32n) - 1n;
      validateTariff(sampleTariff({ durationLimit: { seconds: 1n, energyPrice: 0n } }));
      validateTariff(
        sampleTariff({
          durationLimit: { seconds: top, energyPrice: top, timePricePerHour: top, parkingPricePerHour: top },
        }),
      );
      const bad = (durationLimit: Tariff["durationLimit"], field: RegExp) =>
        expect(() => validateTariff(sampleTariff({ durationLimit }))).to.throw(InvalidTariffError, field);
      bad({ seconds: 0n, energyPrice: 1n }, /durationLimit.seconds.*at least 1/);
      bad({ seconds: 1n << 32n, energyPrice: 1n }, /durationLimit.seconds.*32 bits/);
      bad({ seconds: 60n }, /durationLimit.*sets no price/);
      bad({ seconds: 60n, energyPrice: 1n << 32n }, /durationLimit.energyPrice.*32 bits/);
      bad({ seconds: 60n, timePricePerHour: 1n << 32n }, /durationLimit.timePricePerHour/);
      bad({ seconds: 60n, parkingPricePerHour: -1n }, /durationLimit.parkingPricePerHour.*negative/);
    });
  });

  it("rounds down once, at the end (remainder rule)", () => {
    const zero = { ...t, flatFee: 0n, energyPrice: [1n, 1n, 1n, 1n] as const };
    // 1 Wh at 1/kWh and 1 s at 3596/h: 3600 + 3_596_000 = 3_599_600 < D bills 0; at 3597/h it bills 1.
    const below = computeBill([P(DAY0, 0n), P(DAY0 + 1n, 1n)], { ...zero, timePricePerHour: everyBand(3596n) }, RATED);
    expect([below.bill, below.remainder, below.numerator]).to.deep.equal([0n, 3_599_600n, 3_599_600n]);
    const above = computeBill([P(DAY0, 0n), P(DAY0 + 1n, 1n)], { ...zero, timePricePerHour: everyBand(3597n) }, RATED);
    expect([above.bill, above.remainder]).to.deep.equal([1n, 600n]);
    // Two parked intervals of 0.6 base units each bill 1, not 0 + 0: one division over the sum.
    const split = computeBill(
      [P(DAY0, 0n), P(DAY0 + 1n, 0n), P(DAY0 + 2n, 0n)],
      { ...zero, parkingPricePerHour: everyBand(2160n) },
      RATED,
    );
    expect([split.bill, split.remainder]).to.deep.equal([1n, 720_000n]);
    expect(
      computeBill([P(DAY0, 0n), P(DAY0 + 1n, 0n)], { ...zero, parkingPricePerHour: everyBand(3600n) }, RATED).remainder,
    ).to.equal(0n);
  });

  it("power exactly at the rating passes, 1 Wh more fails with the drawn power", () => {
    const utc = { ...t, tzOffset: 0n };
    const at14 = DAY0 + 14n * HOUR;
    computeBill([P(at14, 0n), P(at14 + 900n, 5_500n)], utc, RATED);
    expect(() => computeBill([P(at14, 0n), P(at14 + 900n, 5_501n)], utc, RATED)).to.throw(
      InvalidReadingsError,
      /above the meter's rating 22.0 kW/,
    );
    expect(() => computeBill([P(at14, 0n), P(at14 + 900n, 15_000n)], utc, RATED)).to.throw(
      InvalidReadingsError,
      "interval 14:00:00-14:15:00 draws 60.0 kW, above the meter's rating 22.0 kW",
    );
    expect(() => computeBill([P(at14, 0n), P(at14, 1n)], utc, RATED)).to.throw(InvalidReadingsError, /in 0 s/);
    computeBill([P(at14, 0n), P(at14, 0n)], utc, RATED); // dt = 0, de = 0 is fine
  });

  it("rejects decreasing time or energy and oversized intervals or values", () => {
    expect(() => computeBill([P(DAY0 + 10n, 0n), P(DAY0 + 9n, 0n)], t, RATED)).to.throw(
      InvalidReadingsError,
      /time decreases/,
    );
    expect(() => computeBill([P(DAY0, 5n), P(DAY0 + 9n, 4n)], t, RATED)).to.throw(
      InvalidReadingsError,
      /energy decreases/,
    );
    expect(() => computeBill([P(DAY0, 0n), P(DAY0 + (1n << 32n), 0n)], t, RATED)).to.throw(
      InvalidReadingsError,
      /more than 2\^32-1 s/,
    );
    // 2^32 - 1 s passes the width check and fails on the band instead.
    expect(() => computeBill([P(DAY0, 0n), P(DAY0 + (1n << 32n) - 1n, 0n)], t, RATED)).to.throw(
      InvalidReadingsError,
      /straddles/,
    );
    expect(() => computeBill([P(DAY0, 0n), P(DAY0 + 10n, 1n << 32n)], t, RATED)).to.throw(
      InvalidReadingsError,
      /more than 2\^32-1 Wh/,
    );
    const wide = { ...t, validTo: (1n << 40n) - 1n };
    computeBill([P((1n << 40n) - 1n, (1n << 40n) - 1n)], wide, RATED);
    expect(() => computeBill([P(DAY0, 1n << 40n)], t, RATED)).to.throw(InvalidReadingsError, /40 bits/);
    expect(() => computeBill([P(DAY0, 0n)], t, 1n << 24n)).to.throw(InvalidReadingsError, /ratedPowerW/);
  });

  it("requires validFrom <= t_1 <= validTo (later points may pass validTo)", () => {
    const w = { ...t, validFrom: DAY0, validTo: DAY0 + 100n };
    computeBill([P(DAY0, 0n)], w, RATED);
    computeBill([P(DAY0 + 100n, 0n), P(DAY0 + 200n, 0n)], w, RATED);
    expect(() => computeBill([P(DAY0 - 1n, 0n)], w, RATED)).to.throw(InvalidReadingsError, /validity window/);
    expect(() => computeBill([P(DAY0 + 101n, 0n)], w, RATED)).to.throw(InvalidReadingsError, /validity window/);
  });

  it(`takes 1..${N_POINTS} points`, () => {
    const pts = (n: number) => Array.from({ length: n }, (_, i) => P(DAY0 + BigInt(i), 0n));
    computeBill(pts(N_POINTS), t, RATED);
    expect(() => computeBill(pts(0), t, RATED)).to.throw(InvalidReadingsError, /1..16 chain points, got 0/);
    expect(() => computeBill(pts(N_POINTS + 1), t, RATED)).to.throw(InvalidReadingsError, /got 17/);
  });

  it("property: one division, floor and cap rule, and splitting an interval inside a band changes nothing", () => {
    const BIG = (1n << 24n) - 1n;
    fc.assert(
      fc.property(
        tariffArb,
        fc.bigInt({ min: 0n, max: 86_400n * 2n }),
        fc.bigInt({ min: 0n, max: 1n << 30n }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (tariff, offset, e0, fDt, fDe, fSplit) => {
          const t0 = DAY0 + offset;
          const room = nextBoundaryAfter(t0, tariff, t0) - t0; // the interval may end exactly at the boundary
          const dt = BigInt(Math.floor(fDt * Number(room)));
          const de = BigInt(Math.floor(fDe * Number(dt) * 1000)); // <= 1 MW
          const k = BigInt(Math.floor(fSplit * Number(dt)));
          const whole = computeBill([P(t0, e0), P(t0 + dt, e0 + de)], tariff, BIG);
          const eMid = dt === 0n ? e0 : e0 + (de * k) / dt;
          const split = computeBill([P(t0, e0), P(t0 + k, eMid), P(t0 + dt, e0 + de)], tariff, BIG);
          // A split piece that lasts and adds no Wh of a charging interval is parked (the meter's Wh resolution).
          const parkedPiece = split.perInterval.some((iv) => iv.dt > 0n && iv.de === 0n && de > 0n);
          if (!parkedPiece) expect(split.numerator).to.equal(whole.numerator);
          const band = bandOf(t0, tariff);
          const timePrice = de === 0n ? tariff.parkingPricePerHour[band]! : tariff.timePricePerHour[band]!;
          expect(whole.numerator).to.equal(
            tariff.flatFee * D + de * tariff.energyPrice[band]! * 3600n + dt * timePrice * 1000n,
          );
          expect(whole.bill * D + whole.remainder).to.equal(whole.numerator);
          expect(whole.remainder >= 0n && whole.remainder < D).to.equal(true);
          const floored = whole.bill < tariff.minPrice ? tariff.minPrice : whole.bill;
          const capped = tariff.maxPrice > 0n && floored > tariff.maxPrice;
          expect(whole.amount).to.equal(capped ? tariff.maxPrice : floored);
          expect([whole.raised, whole.capped]).to.deep.equal([whole.bill < tariff.minPrice, capped]);
          // One second past the boundary always fails.
          expect(() => computeBill([P(t0, e0), P(t0 + room + 1n, e0)], tariff, BIG)).to.throw(
            InvalidReadingsError,
            /straddles/,
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
