/* eslint-disable @typescript-eslint/no-explicit-any -- the tests edit OCPI JSON freely, into invalid shapes too */
/**
 * Property: for random OCPI tariffs zkcharge can price (FLAT, ENERGY by whole-hour time-of-day windows, TIME and
 * PARKING_TIME each absent, equal or priced apart, max_price), the imported tariff's computeBill equals an OCPI reference price computed here from
 * the OCPI elements directly (first matching element per dimension, per Wh and per second), and the CDR's
 * total_cost.excl_vat equals the bill to the unit.
 */
import { expect } from "chai";
import fc from "fast-check";
import { BILL_DIVISOR } from "../../sdk/core/constants.ts";
import { exportOcpiCdr, importOcpiTariff } from "../../sdk/tariff/ocpi.ts";
import { computeBill, nextBoundaryAfter, type Point } from "../../sdk/tariff/tariff.ts";
import { DAY0 } from "./helpers.ts";

const RATED = 50_000n;
const hhmm = (h: number) => `${String(h).padStart(2, "0")}:00`;
const cents = fc.integer({ min: 0, max: 99_999 }).map((c) => c / 100); // 0.00 .. 999.99 EUR

const tariffArb = fc.record({
  flat: cents,
  time: fc.option(
    fc.integer({ min: 0, max: 1_000 }).map((c) => c / 100),
    { nil: undefined },
  ),
  // PARKING_TIME: absent, equal to TIME, or its own price.
  parking: fc.option(
    fc.oneof(
      fc.constant("same" as const),
      fc.integer({ min: 0, max: 1_000 }).map((c) => c / 100),
    ),
    { nil: undefined },
  ),
  energyDefault: fc.option(cents, { nil: undefined }),
  windows: fc.array(
    fc.record({ start: fc.integer({ min: 0, max: 23 }), len: fc.integer({ min: 1, max: 23 }), price: cents }),
    { maxLength: 2 },
  ),
  maxPrice: fc.option(
    fc.integer({ min: 1, max: 10_000 }).map((c) => c / 100),
    { nil: undefined },
  ),
  tzHours: fc.integer({ min: 0, max: 23 }),
});

/** Price (EUR, as written) of the first element with an ENERGY component matching local hour `h`, or 0. */
function referenceEnergyPrice(elements: any[], h: number): number {
  for (const el of elements) {
    const pc = el.price_components.find((p: any) => p.type === "ENERGY");
    if (!pc) continue;
    const r = el.restrictions;
    if (r) {
      const s = Number(r.start_time.slice(0, 2));
      const e = Number(r.end_time.slice(0, 2));
      if (!(s < e ? h >= s && h < e : h >= s || h < e)) continue;
    }
    return pc.price;
  }
  return 0;
}

/** EUR with <= 2 decimals to base units, independently of the SDK's converter. */
const units = (eur: number) => BigInt(Math.round(eur * 100)) * 10_000n;

describe("sdk/tariff/ocpi: imported tariffs price like the OCPI elements (property)", () => {
  it("computeBill of the import = the OCPI reference price; CDR total = bill", () => {
    let refused = 0;
    let runs = 0;
    fc.assert(
      fc.property(
        tariffArb,
        fc.integer({ min: 0, max: 86_399 }),
        // Energy per leg: 0 (parked) a quarter of the time.
        fc.array(
          fc.oneof(
            { arbitrary: fc.constant(0), weight: 1 },
            { arbitrary: fc.integer({ min: 0, max: 20_000 }), weight: 3 },
          ),
          { minLength: 1, maxLength: 15 },
        ),
        (g, startTod, energies) => {
          const elements: any[] = [{ price_components: [{ type: "FLAT", price: g.flat, vat: 19, step_size: 1 }] }];
          for (const w of g.windows) {
            elements.push({
              price_components: [{ type: "ENERGY", price: w.price, vat: 19, step_size: 1 }],
              restrictions: { start_time: hhmm(w.start), end_time: hhmm((w.start + w.len) % 24) },
            });
          }
          if (g.energyDefault !== undefined)
            elements.push({ price_components: [{ type: "ENERGY", price: g.energyDefault, vat: 19, step_size: 1 }] });
          const parking = g.parking === "same" ? g.time : g.parking;
          const timeComponents = [
            ...(g.time !== undefined ? [{ type: "TIME", price: g.time, vat: 19, step_size: 1 }] : []),
            ...(parking !== undefined ? [{ type: "PARKING_TIME", price: parking, vat: 19, step_size: 1 }] : []),
          ];
          if (timeComponents.length) elements.push({ price_components: timeComponents });
          const json = {
            id: "p",
            currency: "EUR",
            elements,
            last_updated: "2023-01-01T00:00:00Z",
            ...(g.maxPrice !== undefined ? { max_price: { excl_vat: g.maxPrice } } : {}),
          };
          runs++;
          const tz = BigInt(g.tzHours * 3600);
          let imported;
          try {
            imported = importOcpiTariff(json, { cpoId: 1n, tzOffset: tz });
          } catch (e) {
            // Only the band count may refuse these tariffs.
            expect((e as Error).message).to.contain("the circuit has 4 bands");
            refused++;
            return;
          }
          // A meter's chain: a point at every tariff boundary, else every 30 min; energy within the rating.
          const points: Point[] = [{ t: DAY0 + BigInt(startTod), e: 0n }];
          for (const de of energies) {
            const a = points[points.length - 1]!;
            const boundary = nextBoundaryAfter(a.t, imported.tariff, points[0]!.t);
            const t = a.t + 1800n < boundary ? a.t + 1800n : boundary;
            const cap = (RATED * (t - a.t)) / 3600n;
            points.push({ t, e: a.e + (BigInt(de) < cap ? BigInt(de) : cap) });
          }
          const bill = computeBill(points, imported.tariff, RATED);
          // OCPI reference: FLAT + sum(Wh * price/kWh / 1000 + s * price/h / 3600), exact, floored once.
          let num = units(g.flat) * BILL_DIVISOR;
          for (let i = 0; i + 1 < points.length; i++) {
            const a = points[i]!;
            const b = points[i + 1]!;
            const hour = Number(((((a.t + tz) % 86_400n) + 86_400n) % 86_400n) / 3600n);
            // "TIME: Time charging", "PARKING_TIME: Time not charging": an interval without energy is parking.
            const perHour = b.e === a.e ? parking : g.time;
            num +=
              (b.e - a.e) * units(referenceEnergyPrice(elements, hour)) * 3600n +
              (b.t - a.t) * units(perHour ?? 0) * 1000n;
          }
          let ref = num / BILL_DIVISOR;
          if (g.maxPrice !== undefined && ref > units(g.maxPrice)) ref = units(g.maxPrice);
          expect(bill.amount).to.equal(ref);
          const cdr = exportOcpiCdr(bill, { points, imported });
          expect(cdr.exact.exclVatUnits).to.equal(bill.amount);
          expect(cdr.charging_periods.length).to.equal(points.length - 1);
        },
      ),
      { numRuns: 300 }, // cheap (no signatures, no witness): a fresh seed each run, as test/fixtures/property.ts says
    );
    expect(refused, "most generated tariffs must import (not a vacuous property)").to.be.below(runs / 2);
  });
});
