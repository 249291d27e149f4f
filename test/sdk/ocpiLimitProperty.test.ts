/**
 * Property: for random OCPI tariffs with one duration limit L (`min_duration` / `max_duration`, written either way,
 * with `min_duration: 0` and never-applying `max_duration: 0` elements mixed in), a random subset of the dimensions
 * priced apart after L, optional time-of-day prices before it and optional step sizes, every tariff zkcharge imports
 * is billed by the circuit's rule (computeBill of the import over the meter's chain points, one taken at the limit)
 * exactly as the OCPI reference pricer (priceOcpiSession) prices those points, to the base unit; sessions cross the
 * limit or end before it.
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
// 0.00 .. 999.99 EUR, often one of a few, so that a price after the limit can equal the one before it.
const price = fc.oneof(
  fc.constantFrom(0, 0.25, 1),
  fc.integer({ min: 0, max: 99_999 }).map((c) => c / 100),
);
const step = fc.oneof(fc.constant(1), fc.constant(0), fc.integer({ min: 2, max: 3_600 }));
const DIMENSIONS = ["ENERGY", "TIME", "PARKING_TIME"] as const;
type Prices = [number, number, number];

const tariffArb = fc.record({
  flat: fc.option(price, { nil: undefined }),
  limit: fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 601, max: 14_400 })),
  // Written as an element with min_duration L before the others ("min"), or as the others restricted to
  // max_duration L with the after-limit element last ("max").
  style: fc.constantFrom("min" as const, "max" as const),
  // The price after L of each dimension, or undefined: it keeps its prices of before the limit.
  after: fc.tuple(
    fc.option(price, { nil: undefined }),
    fc.option(price, { nil: undefined }),
    fc.option(price, { nil: undefined }),
  ),
  // Steps are drawn rarely, since a step needs its dimension priced at every time of day before and after L.
  steps: fc.oneof(
    { arbitrary: fc.constant<Prices>([1, 1, 1]), weight: 2 },
    { arbitrary: fc.tuple(step, step, step), weight: 1 },
  ),
  prices: fc.tuple(price, price, price),
  // Which dimensions the default element prices (an unpriced one is free where no element has it).
  priced: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
  window: fc.option(
    fc.record({
      start: fc.integer({ min: 0, max: 23 }),
      len: fc.integer({ min: 1, max: 23 }),
      prices: fc.tuple(price, price, price),
    }),
    { nil: undefined },
  ),
  // Sometimes the after-limit element holds only in a time-of-day window: after L its dimensions then fall back to
  // the elements of before the limit elsewhere, which the circuit prices only when that is one price all day.
  afterWindow: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 4 },
    {
      arbitrary: fc.record({ start: fc.integer({ min: 0, max: 23 }), len: fc.integer({ min: 1, max: 23 }) }),
      weight: 1,
    },
  ),
  minZero: fc.boolean(),
  never: fc.option(fc.tuple(price, price, price), { nil: undefined }),
  tzHours: fc.integer({ min: 0, max: 23 }),
});

describe("sdk/tariff: one duration limit priced by the circuit's rule = the OCPI reference (property)", () => {
  it("computeBill over the chain points equals priceOcpiSession, before and after the limit", () => {
    let runs = 0;
    let accepted = 0;
    let limited = 0;
    let crossed = 0;
    fc.assert(
      fc.property(
        tariffArb,
        fc.integer({ min: 0, max: 86_399 }),
        // Legs of (seconds, Wh): parked (0 Wh) a third of the time; energy capped at the rating below.
        fc.array(
          fc.record({
            dt: fc.integer({ min: 1, max: 6_000 }),
            wh: fc.oneof(
              { arbitrary: fc.constant(0), weight: 1 },
              { arbitrary: fc.integer({ min: 1, max: 60_000 }), weight: 2 },
            ),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        (g, startTod, legs) => {
          runs++;
          const L = g.limit;
          const components = (prices: readonly (number | undefined)[]) =>
            DIMENSIONS.flatMap((type, k) =>
              prices[k] === undefined ? [] : [{ type, price: prices[k]!, step_size: g.steps[k]! }],
            );
          const overridden = (k: number) => g.after[k] !== undefined;
          // "max" style: a dimension set after the limit is priced before it by elements with max_duration L.
          const beforeOnly = (k: number) => g.style === "max" && overridden(k);
          const elements: unknown[] = [];
          if (g.flat !== undefined)
            elements.push({
              price_components: [{ type: "FLAT", price: g.flat, step_size: 1 }],
              ...(g.minZero ? { restrictions: { min_duration: 0 } } : {}),
            });
          if (g.never) elements.push({ price_components: components(g.never), restrictions: { max_duration: 0 } });
          const afterTime = g.afterWindow && {
            start_time: hhmm(g.afterWindow.start),
            end_time: hhmm((g.afterWindow.start + g.afterWindow.len) % 24),
          };
          if (g.style === "min" && g.after.some((p) => p !== undefined))
            elements.push({ price_components: components(g.after), restrictions: { min_duration: L, ...afterTime } });
          // The elements of before the limit, split by whether their dimension is restricted to it.
          const pushSplit = (prices: readonly (number | undefined)[], restrictions: object) => {
            for (const before of [true, false]) {
              const cs = components(prices.map((p, k) => (beforeOnly(k) === before ? p : undefined)));
              if (cs.length === 0) continue;
              const r = { ...restrictions, ...(before ? { max_duration: L } : g.minZero ? { min_duration: 0 } : {}) };
              elements.push({ price_components: cs, ...(Object.keys(r).length ? { restrictions: r } : {}) });
            }
          };
          if (g.window)
            pushSplit(g.window.prices, {
              start_time: hhmm(g.window.start),
              end_time: hhmm((g.window.start + g.window.len) % 24),
            });
          pushSplit(
            g.prices.map((p, k) => (g.priced[k] ? p : undefined)),
            {},
          );
          if (g.style === "max" && g.after.some((p) => p !== undefined))
            elements.push({ price_components: components(g.after), ...(afterTime ? { restrictions: afterTime } : {}) });
          if (elements.length === 0) elements.push({ price_components: [{ type: "ENERGY", price: 0, step_size: 1 }] });
          const json = { id: "l", currency: "EUR", elements, last_updated: "2026-12-03T00:00:00Z" };

          const readings: MeterReading[] = [{ t: DAY0 + BigInt(startTod), wh: 0n }];
          for (const leg of legs) {
            const a = readings[readings.length - 1]!;
            const dt = BigInt(leg.dt);
            const cap = (DRAWN * dt) / 3600n;
            readings.push({ t: a.t + dt, wh: a.wh + (BigInt(leg.wh) < cap ? BigInt(leg.wh) : cap) });
          }
          const r = checkOcpiProvable(json, readings, { tzOffset: BigInt(g.tzHours * 3600), ratedPowerW: RATED });
          if (r.imported === undefined) {
            // A step on a dimension unpriced somewhere (before or after L) may refuse any of these tariffs; only
            // the after-limit window can make a price after L change by time of day, or make a fifth band.
            const step = /^OCPI elements\[\d+\]\.price_components\[\d+\]\.step_size \d+ on [A-Z_]+: not provable/;
            if (!step.test(r.reason)) {
              expect(g.afterWindow, r.reason).to.not.equal(undefined);
              expect(r.reason).to.match(/ [A-Z_]+: after the duration limit .* changes at |the circuit has 4 bands/);
            }
            return;
          }
          accepted++;
          const limit = r.imported.tariff.durationLimit;
          if (limit) {
            limited++;
            expect(limit.seconds).to.equal(BigInt(L));
          }
          if (r.bill === undefined) {
            // Only a session longer than the chain's 16 points may stop short of a bill.
            expect(r.reason).to.contain("chain points");
            return;
          }
          expect(r.bill.amount, r.reason).to.equal(r.chainReference!.totalExclVat);
          expect(r.provable).to.equal(true);
          if (limit && r.bill.perInterval.some((i) => i.afterLimit)) crossed++;
        },
      ),
      { numRuns: 200, seed: 20261204 },
    );
    expect(accepted, "a good share of the tariffs must import (not a vacuous property)").to.be.above(runs / 2);
    expect(limited, "most imports must keep a duration limit").to.be.above(accepted / 2);
    expect(crossed, "many sessions must be billed past the limit").to.be.above(runs / 4);
  });
});
