/**
 * Property: for random OCPI tariffs with step sizes zkcharge proves (one step_size per dimension, every dimension
 * priced at every time of day), the circuit's rule (computeBill of the import over the meter's chain points)
 * equals the OCPI reference pricer (priceOcpiSession, which rounds per run of a dimension at the step of the run's
 * last period) to the base unit.
 */
import { expect } from "chai";
import fc from "fast-check";
import { checkOcpiProvable } from "../../sdk/tariff/ocpiProvable.ts";
import type { MeterReading } from "../../sdk/tariff/ocpiPrice.ts";
import { DAY0 } from "./helpers.ts";

const RATED = 50_000n;
/** Legs draw at most this: the chain points interpolated at boundaries floor to a Wh, which can add 3.6 kW. */
const DRAWN = 40_000n;
const hhmm = (h: number) => `${String(h).padStart(2, "0")}:00`;
const price = fc.integer({ min: 0, max: 99_999 }).map((c) => c / 100); // 0.00 .. 999.99 EUR
const step = fc.oneof(fc.constant(1), fc.constant(0), fc.integer({ min: 2, max: 3_600 }));

const tariffArb = fc.record({
  flat: price,
  steps: fc.tuple(step, step, step),
  energy: price,
  time: price,
  parking: price,
  // A time-of-day window with its own prices for all three dimensions (same steps), or none.
  window: fc.option(
    fc.record({
      start: fc.integer({ min: 0, max: 23 }),
      len: fc.integer({ min: 1, max: 23 }),
      energy: price,
      time: price,
      parking: price,
    }),
    { nil: undefined },
  ),
  tzHours: fc.integer({ min: 0, max: 23 }),
});

describe("sdk/tariff: step sizes priced by the circuit's rule = the OCPI reference (property)", () => {
  it("computeBill over the chain points equals priceOcpiSession, with the round-ups", () => {
    let proved = 0;
    let rounded = 0;
    fc.assert(
      fc.property(
        tariffArb,
        fc.integer({ min: 0, max: 86_399 }),
        // Legs of (seconds, Wh): parked (0 Wh) a quarter of the time; energy capped at the rating below.
        fc.array(
          fc.record({
            dt: fc.integer({ min: 1, max: 5_000 }),
            wh: fc.oneof(
              { arbitrary: fc.constant(0), weight: 1 },
              { arbitrary: fc.integer({ min: 1, max: 60_000 }), weight: 3 },
            ),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        (g, startTod, legs) => {
          const [energyStep, timeStep, parkingStep] = g.steps;
          const components = (energy: number, time: number, parking: number) => [
            { type: "ENERGY", price: energy, step_size: energyStep },
            { type: "TIME", price: time, step_size: timeStep },
            { type: "PARKING_TIME", price: parking, step_size: parkingStep },
          ];
          const elements: unknown[] = [{ price_components: [{ type: "FLAT", price: g.flat, step_size: 1 }] }];
          if (g.window)
            elements.push({
              price_components: components(g.window.energy, g.window.time, g.window.parking),
              restrictions: { start_time: hhmm(g.window.start), end_time: hhmm((g.window.start + g.window.len) % 24) },
            });
          elements.push({ price_components: components(g.energy, g.time, g.parking) });
          const json = { id: "s", currency: "EUR", elements, last_updated: "2026-12-03T00:00:00Z" };
          const readings: MeterReading[] = [{ t: DAY0 + BigInt(startTod), wh: 0n }];
          for (const leg of legs) {
            const a = readings[readings.length - 1]!;
            const dt = BigInt(leg.dt);
            const cap = (DRAWN * dt) / 3600n;
            readings.push({ t: a.t + dt, wh: a.wh + (BigInt(leg.wh) < cap ? BigInt(leg.wh) : cap) });
          }
          const r = checkOcpiProvable(json, readings, { tzOffset: BigInt(g.tzHours * 3600), ratedPowerW: RATED });
          if (r.imported === undefined) throw new Error(`import refused: ${r.reason}`);
          if (r.bill === undefined) {
            // Only a session longer than the chain's 16 points may stop short of a bill.
            expect(r.reason).to.contain("chain points");
            return;
          }
          expect(r.bill.amount, r.reason).to.equal(r.chainReference!.totalExclVat);
          expect(r.provable).to.equal(true);
          proved++;
          if (r.bill.stepNumerator > 0n) rounded++;
        },
      ),
      { numRuns: 300, seed: 20261203 },
    );
    expect(proved, "most sessions must be priced (not a vacuous property)").to.be.above(200);
    expect(rounded, "most bills must round a step up").to.be.above(100);
  });
});
