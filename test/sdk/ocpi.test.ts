/* eslint-disable @typescript-eslint/no-explicit-any -- the tests edit OCPI JSON freely, into invalid shapes too */
/**
 * OCPI 2.2.1 tariff import and CDR export (sdk/tariff/ocpi.ts). Spec sentences quoted beside cases are from
 * OCPI 2.2.1 mod_tariffs.asciidoc.
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { InvalidInputError } from "../../sdk/core/errors.ts";
import { applyVat, exportOcpiCdr, importOcpiTariff, UnsupportedTariffError } from "../../sdk/tariff/ocpi.ts";
import { priceOcpiSession, type MeterReading } from "../../sdk/tariff/ocpiPrice.ts";
import { boundaryChainPoints } from "../../sdk/tariff/ocpiProvable.ts";
import { computeBill, everyBand, type Point } from "../../sdk/tariff/tariff.ts";
import { demoTariff } from "../../dev/localNetwork.ts";
import { DAY0, HOUR } from "./helpers.ts";

const fixture = (name: string): any =>
  JSON.parse(readFileSync(new URL(`./fixtures/ocpi/${name}.json`, import.meta.url), "utf8"));
const OPTS = { cpoId: 7n, tzOffset: HOUR };
const RATED = 50_000n;
const P = (t: bigint, e: bigint): Point => ({ t, e });

function refusal(json: unknown, feature: string | RegExp): UnsupportedTariffError {
  let err: unknown;
  try {
    importOcpiTariff(json, OPTS);
  } catch (e) {
    err = e;
  }
  expect(err, "expected a refusal").to.be.instanceOf(UnsupportedTariffError);
  const u = err as UnsupportedTariffError;
  if (typeof feature === "string") expect(u.feature).to.equal(feature);
  else expect(u.feature).to.match(feature);
  expect(u.message).to.contain(u.feature);
  return u;
}

function badJson(json: unknown, path: string): void {
  expect(() => importOcpiTariff(json, OPTS)).to.throw(InvalidInputError, `OCPI tariff ${path}:`);
}

/** A deep copy of a fixture with `edit` applied. */
function edited(name: string, edit: (t: any) => void): any {
  const t = fixture(name);
  edit(t);
  return t;
}

describe("sdk/tariff/ocpi: importOcpiTariff maps what zkcharge prices exactly", () => {
  it("one ENERGY component: 0.25 EUR/kWh, 20 kWh cost 5.00 EUR excl. VAT, 5.50 incl. 10% VAT", () => {
    // "price: Price per unit (excl. VAT) for this tariff dimension." / "ENERGY: Defined in kWh, step_size multiplier: 1 Wh"
    const imp = importOcpiTariff(fixture("simple_energy"), OPTS);
    expect(imp.tariff.energyPrice).to.deep.equal([250_000n, 250_000n, 250_000n, 250_000n]);
    expect(imp.tariff.flatFee).to.equal(0n);
    expect(imp.vat).to.equal("10");
    const points = [P(DAY0 + 10n * HOUR, 1_000n), P(DAY0 + 11n * HOUR, 21_000n)];
    const bill = computeBill(points, imp.tariff, RATED);
    expect(bill.amount).to.equal(5_000_000n);
    const cdr = exportOcpiCdr(bill, { points, imported: imp });
    expect(cdr.total_cost).to.deep.equal({ excl_vat: 5, incl_vat: 5.5 });
    expect(cdr.total_energy).to.equal(20);
    expect(cdr.total_time).to.equal(1);
    expect(cdr.charging_periods).to.deep.equal([
      {
        start_date_time: "2023-11-15T10:00:00Z",
        dimensions: [
          { type: "ENERGY", volume: 20 },
          { type: "TIME", volume: 1 },
        ],
        tariff_id: "11",
      },
    ]);
  });

  it("FLAT + ENERGY + TIME equal to PARKING_TIME + max_price, validity from start/end_date_time", () => {
    const imp = importOcpiTariff(fixture("flat_energy_time"), OPTS);
    const t = imp.tariff;
    expect([t.flatFee, t.timePricePerHour, t.minPrice, t.maxPrice]).to.deep.equal([
      500_000n,
      everyBand(2_000_000n),
      0n,
      20_000_000n,
    ]);
    expect(t.validFrom).to.equal(BigInt(Date.parse("2023-10-01T00:00:00Z") / 1000));
    expect(t.validTo).to.equal(BigInt(Date.parse("2024-01-01T00:00:00Z") / 1000));
    // 1 h charging 20 kWh, then 30 min plugged in at 0 kW: 0.50 + 20 * 0.25 + 1.5 h * 2.00 = 8.50 EUR excl. VAT.
    const points = [P(DAY0 + 9n * HOUR, 0n), P(DAY0 + 10n * HOUR, 20_000n), P(DAY0 + 10n * HOUR + 1800n, 20_000n)];
    const bill = computeBill(points, t, RATED);
    expect(bill.amount).to.equal(8_500_000n);
    const cdr = exportOcpiCdr(bill, { points, imported: imp });
    expect(cdr.exact.exclVatUnits).to.equal(bill.amount);
    expect(cdr.exact.inclVatUnits).to.equal(10_200_000n); // 20 % VAT once on the total
    expect(cdr.total_cost).to.deep.equal({ excl_vat: 8.5, incl_vat: 10.2 });
    expect(cdr.total_fixed_cost).to.deep.equal({ excl_vat: 0.5, incl_vat: 0.6 });
    expect(cdr.total_parking_time).to.equal(0.5);
    expect(cdr.charging_periods[1]!.dimensions).to.deep.equal([
      { type: "ENERGY", volume: 0 },
      { type: "PARKING_TIME", volume: 0.5 },
    ]);
    // The sum of the periods' dimensions is the totals.
    const sum = (type: string) =>
      cdr.charging_periods
        .flatMap((p) => p.dimensions)
        .filter((d) => d.type === type)
        .reduce((s, d) => s + d.volume, 0);
    expect(sum("ENERGY")).to.equal(cdr.total_energy);
    expect(sum("TIME") + sum("PARKING_TIME")).to.equal(cdr.total_time);
  });

  it("max_price caps the session: 'a Charging Session with this tariff will NOT cost more than this amount'", () => {
    const imp = importOcpiTariff(fixture("flat_energy_time"), OPTS);
    const points = [P(DAY0 + 9n * HOUR, 0n), P(DAY0 + 11n * HOUR, 90_000n)]; // 0.50 + 22.50 + 4.00 > 20.00
    const bill = computeBill(points, imp.tariff, RATED);
    expect([bill.capped, bill.amount]).to.deep.equal([true, 20_000_000n]);
    expect(exportOcpiCdr(bill, { points, imported: imp }).total_cost).to.deep.equal({ excl_vat: 20, incl_vat: 24 });
  });

  it("time-of-day ENERGY prices become bands; the first matching element wins, the unrestricted one is the default", () => {
    // "the first Tariff Element with that Dimension in the list with matching Tariff Restrictions will be used."
    const imp = importOcpiTariff(fixture("time_of_day_energy"), OPTS);
    expect(imp.tariff.bandStart).to.deep.equal([0n, 7n * HOUR, 17n * HOUR, 20n * HOUR]);
    expect(imp.tariff.energyPrice).to.deep.equal([200_000n, 300_000n, 450_000n, 300_000n]);
    // Local 16:30-17:30 (UTC+1), 5 kWh before 17:00 and 5 kWh after: 1.50 + 2.25 = 3.75 EUR.
    const points = [
      P(DAY0 + 15n * HOUR + 1800n, 0n),
      P(DAY0 + 16n * HOUR, 5_000n),
      P(DAY0 + 16n * HOUR + 1800n, 10_000n),
    ];
    const bill = computeBill(points, imp.tariff, RATED);
    expect(bill.amount).to.equal(3_750_000n);
    expect(bill.perInterval.map((i) => i.band)).to.deep.equal([1, 2]);
    const cdr = exportOcpiCdr(bill, { points, imported: imp });
    expect(cdr.exact.inclVatUnits).to.equal(4_537_500n); // 3.75 * 1.21
    expect(cdr.charging_periods.map((p) => p.start_date_time)).to.deep.equal([
      "2023-11-15T15:30:00Z",
      "2023-11-15T16:00:00Z",
    ]);
  });

  it("a restriction over midnight (start_time after end_time) and no default: unmatched hours cost nothing", () => {
    // "When no Tariff Element with a specific Dimension is found for which the Restrictions match, and there is
    // no Tariff Element in the list with the given Dimension without Restrictions, there will be no costs for that Tariff Dimension."
    const json = edited("time_of_day_energy", (t) => {
      t.elements = [
        {
          price_components: [{ type: "ENERGY", price: 0.2, vat: 21, step_size: 1 }],
          restrictions: { start_time: "22:00", end_time: "07:00" },
        },
      ];
    });
    const imp = importOcpiTariff(json, OPTS);
    expect(imp.tariff.bandStart).to.deep.equal([0n, 7n * HOUR, 22n * HOUR, 22n * HOUR + 1n]);
    expect(imp.tariff.energyPrice).to.deep.equal([200_000n, 0n, 200_000n, 200_000n]);
  });

  it("a FLAT 0.00 tariff is free: 'a Tariff with type = FLAT and price = 0.00 has to be provided'", () => {
    const json = edited("simple_energy", (t) => {
      t.elements = [{ price_components: [{ type: "FLAT", price: 0, step_size: 0 }] }];
    });
    const imp = importOcpiTariff(json, OPTS);
    expect(imp.vat).to.equal(null);
    const points = [P(DAY0 + 10n * HOUR, 0n), P(DAY0 + 11n * HOUR, 20_000n)];
    const bill = computeBill(points, imp.tariff, RATED);
    expect(bill.amount).to.equal(0n);
    expect(exportOcpiCdr(bill, { points, imported: imp }).total_cost).to.deep.equal({ excl_vat: 0 });
  });

  it("accepts JSON text and prices with up to 6 decimals exactly", () => {
    const text = JSON.stringify(
      edited("simple_energy", (t) => {
        t.elements[0].price_components[0].price = 0.123456;
      }),
    );
    expect(importOcpiTariff(text, OPTS).tariff.energyPrice[0]).to.equal(123_456n);
  });
  it("min_price ('a Charging Session with this tariff will at least cost this amount') as the floor", () => {
    const imp = importOcpiTariff(
      edited("simple_energy", (t) => {
        t.min_price = { excl_vat: 2, incl_vat: 2.2 };
      }),
      OPTS,
    );
    expect(imp.tariff.minPrice).to.equal(2_000_000n);
    // 1 kWh at 0.25 is below the floor: 2.00 excl. VAT.
    const bill = computeBill([P(DAY0 + 9n * HOUR, 0n), P(DAY0 + 10n * HOUR, 1_000n)], imp.tariff, RATED);
    expect([bill.bill, bill.amount, bill.raised]).to.deep.equal([250_000n, 2_000_000n, true]);
  });

  it("TIME and PARKING_TIME by time of day (start_time/end_time) become per-band time prices", () => {
    // A daytime blocking fee: 2.00 EUR/h between 08:00 and 18:00 local, time free otherwise.
    const imp = importOcpiTariff(
      edited("flat_energy_time", (t) => {
        t.elements[2].restrictions = { start_time: "08:00", end_time: "18:00" };
      }),
      OPTS,
    );
    const t = imp.tariff;
    expect(t.bandStart.slice(0, 3)).to.deep.equal([0n, 8n * HOUR, 18n * HOUR]);
    expect(t.timePricePerHour.slice(0, 3)).to.deep.equal([0n, 2_000_000n, 0n]);
    expect(new Set(t.energyPrice)).to.deep.equal(new Set([250_000n]));
    // 17:30-18:30 local (UTC+1): half an hour of time at 2.00, then free. Chain points at 18:00 and at 18:00:01,
    // where the importer pads the fourth band (the circuit needs four increasing starts).
    const points = [
      P(DAY0 + 16n * HOUR + 1800n, 0n),
      P(DAY0 + 17n * HOUR, 5_000n),
      P(DAY0 + 17n * HOUR + 1n, 5_000n),
      P(DAY0 + 17n * HOUR + 1800n, 10_000n),
    ];
    const bill = computeBill(points, t, RATED);
    expect(bill.amount).to.equal(500_000n + 10n * 250_000n + 1_000_000n);
  });
  it("the dev CPO's tariff (dev/localNetwork.ts) is its OCPI Tariff object imported, four bands exactly", () => {
    expect(demoTariff(1_000n)).to.deep.equal({
      flatFee: 500_000n,
      energyPrice: [250_000n, 390_000n, 450_000n, 300_000n],
      bandStart: [0n, 7n * HOUR, 17n * HOUR, 22n * HOUR],
      timePricePerHour: everyBand(120_000n),
      parkingPricePerHour: everyBand(120_000n),
      minPrice: 0n,
      maxPrice: 0n,
      tzOffset: HOUR,
      validFrom: 1_000n,
      validTo: 1_000n + 180n * 86_400n,
      stepSize: [1n, 1n, 1n],
    });
  });
});

describe("sdk/tariff/ocpi: TIME (charging) and PARKING_TIME (not charging) priced apart", () => {
  // OCPI 2.2.1 TariffDimensionType: "TIME: Time charging: defined in hours, step_size multiplier: 1 second" and
  // "PARKING_TIME: Time not charging: defined in hours, step_size multiplier: 1 second". zkcharge: an interval that
  // adds energy is charging, one that adds none (de = 0) is parking, as the reference decides (energy flows or not).
  const noTime = (t: any) => t.elements.splice(2, 1);

  it("PARKING_TIME with its own price: 20 kWh in 1 h then 40 min parked at 5.00/h", () => {
    // The spec's "Simple Tariff example with parking" prices "PARKING_TIME" on its own (step_size 1 here, the
    // circuit bills every second): 0.25/kWh, 2.00/h charging, 5.00/h parked.
    const imp = importOcpiTariff(
      edited("parking_priced", (t) => {
        t.elements[2].price_components[0].step_size = 1;
      }),
      OPTS,
    );
    expect(imp.tariff.timePricePerHour).to.deep.equal(everyBand(2_000_000n));
    expect(imp.tariff.parkingPricePerHour).to.deep.equal(everyBand(5_000_000n));
    const points = [P(DAY0 + 10n * HOUR, 0n), P(DAY0 + 11n * HOUR, 20_000n), P(DAY0 + 11n * HOUR + 2400n, 20_000n)];
    const bill = computeBill(points, imp.tariff, RATED);
    // 20 * 0.25 + 1 h * 2.00 + 40 min * 5.00/h = 5.00 + 2.00 + 3.333333 (floored once) = 10.333333 EUR.
    expect(bill.amount).to.equal(10_333_333n);
    expect(bill.perInterval.map((i) => i.parked)).to.deep.equal([false, true]);
  });

  it("TIME alone: 'the driver will not be billed for time they are not charging: PARKING_TIME'", () => {
    // Spec "Simple Tariff example 2 euro per hour": "As this is tariff only has a TIME price_component, the driver
    // will not be billed for time they are not charging: PARKING_TIME". Absent PARKING_TIME = parking price 0.
    const imp = importOcpiTariff(
      edited("flat_energy_time", (t) => {
        t.elements[2].price_components.pop();
      }),
      OPTS,
    );
    expect(imp.tariff.timePricePerHour).to.deep.equal(everyBand(2_000_000n));
    expect(imp.tariff.parkingPricePerHour).to.deep.equal(everyBand(0n));
    // 1 h charging 10 kWh, then 30 min parked: 0.50 + 2.50 + 2.00 (parking free).
    const points = [P(DAY0 + 10n * HOUR, 0n), P(DAY0 + 11n * HOUR, 10_000n), P(DAY0 + 11n * HOUR + 1800n, 10_000n)];
    expect(computeBill(points, imp.tariff, RATED).amount).to.equal(5_000_000n);
  });

  it("PARKING_TIME alone: charging time is free ('there will be no costs for that Tariff Dimension')", () => {
    // "If no Tariff Element with the Dimension matches, there will be no costs for that Tariff Dimension."
    const imp = importOcpiTariff(
      edited("flat_energy_time", (t) => {
        t.elements[2].price_components.shift();
      }),
      OPTS,
    );
    expect(imp.tariff.timePricePerHour).to.deep.equal(everyBand(0n));
    expect(imp.tariff.parkingPricePerHour).to.deep.equal(everyBand(2_000_000n));
    const points = [P(DAY0 + 10n * HOUR, 0n), P(DAY0 + 11n * HOUR, 10_000n), P(DAY0 + 11n * HOUR + 1800n, 10_000n)];
    expect(computeBill(points, imp.tariff, RATED).amount).to.equal(500_000n + 2_500_000n + 1_000_000n);
    // Neither TIME nor PARKING_TIME: time is free.
    expect(importOcpiTariff(edited("flat_energy_time", noTime), OPTS).tariff.parkingPricePerHour).to.deep.equal(
      everyBand(0n),
    );
  });

  it("TIME and PARKING_TIME differing by time of day make bands where either changes", () => {
    // "the first Tariff Element with that Dimension in the list with matching Tariff Restrictions will be used":
    // TIME 2.50/h 08:00-18:00 (then 2.00), PARKING_TIME 2.00/h all day.
    const imp = importOcpiTariff(
      edited("flat_energy_time", (t) => {
        t.elements.splice(2, 0, {
          price_components: [{ type: "TIME", price: 2.5, vat: 20.0, step_size: 1 }],
          restrictions: { start_time: "08:00", end_time: "18:00" },
        });
      }),
      OPTS,
    );
    expect(imp.tariff.bandStart.slice(0, 3)).to.deep.equal([0n, 8n * HOUR, 18n * HOUR]);
    expect(imp.tariff.timePricePerHour.slice(0, 3)).to.deep.equal([2_000_000n, 2_500_000n, 2_000_000n]);
    expect(imp.tariff.parkingPricePerHour).to.deep.equal(everyBand(2_000_000n));
  });

  it("refuses more than 4 bands counting PARKING_TIME windows, naming all three dimensions", () => {
    const e = refusal(
      edited("time_of_day_energy", (t) => {
        t.elements.push({
          price_components: [
            { type: "PARKING_TIME", price: 1, vat: t.elements[0].price_components[0].vat, step_size: 1 },
          ],
          restrictions: { start_time: "12:00", end_time: "13:00" },
        });
      }),
      "elements[].restrictions.start_time/end_time (ENERGY, TIME, PARKING_TIME)",
    );
    expect(e.message).to.contain("12:00");
  });
});

describe("sdk/tariff/ocpi: step_size imported and priced as OCPI rounds it", () => {
  const S = DAY0 + 10n * HOUR; // 11:00 local

  it("PARKING_TIME step_size 300 ('This unit will be billed in this step_size blocks.'): 6 min parked bill as 10", () => {
    // "step_size: Minimum amount to be billed. This unit will be billed in this step_size blocks."
    const t = importOcpiTariff(fixture("parking_priced"), OPTS).tariff;
    expect(t.stepSize).to.deep.equal([1n, 1n, 300n]);
    // 10 kWh in 1 h at 0.25 + 1 h at 2.00 + 6 min parked, billed as 10 min at 5.00 = 5.333333
    const bill = computeBill([P(S, 0n), P(S + HOUR, 10_000n), P(S + HOUR + 360n, 10_000n)], t, RATED);
    expect(bill.stepExtra).to.deep.equal([0n, 0n, 240n]);
    expect(bill.amount).to.equal(5_333_333n);
  });

  it("step_size 0 and 1 bill the exact volume: both import, to the same tariff", () => {
    const with0 = edited("simple_energy", (t) => {
      t.elements[0].price_components[0].step_size = 0;
    });
    expect(importOcpiTariff(with0, OPTS).tariff).to.deep.equal(importOcpiTariff(fixture("simple_energy"), OPTS).tariff);
  });

  it("step_size 300 on TIME ('If 6 minutes were used, 10 minutes (2 blocks of step_size) will be billed.')", () => {
    const t = importOcpiTariff(
      edited("flat_energy_time", (x) => {
        x.elements[2].price_components[0].step_size = 300;
      }),
      OPTS,
    ).tariff;
    expect(t.stepSize).to.deep.equal([1n, 300n, 1n]);
    // 0.50 + 1 kWh at 0.25 + 10 min at 2.00/h = 1.083333
    const bill = computeBill([P(S, 0n), P(S + 360n, 1_000n)], t, RATED);
    expect(bill.stepExtra).to.deep.equal([0n, 240n, 0n]);
    expect(bill.amount).to.equal(1_083_333n);
  });

  it("step_size 25 on ENERGY ('When step_size = 25, then the same amount would be billed for 101 to 125 Wh')", () => {
    const t = importOcpiTariff(
      edited("simple_energy", (x) => {
        x.elements[0].price_components[0].step_size = 25;
      }),
      OPTS,
    ).tariff;
    expect(t.stepSize).to.deep.equal([25n, 1n, 1n]);
    const amount = (wh: bigint) => computeBill([P(S, 0n), P(S + HOUR, wh)], t, RATED).amount;
    // 0.25 EUR/kWh: 100 Wh = 0.025; 101..125 Wh = 0.03125; 126 Wh = 150 Wh = 0.0375; 0 Wh = 0
    expect([0n, 100n, 101n, 125n, 126n].map(amount)).to.deep.equal([0n, 25_000n, 31_250n, 31_250n, 37_500n]);
  });
});

describe("sdk/tariff/ocpi: step_size the circuit cannot round as OCPI does, refused by name", () => {
  it("a step that differs by time of day (the circuit has one per dimension)", () => {
    const u = refusal(
      {
        ...fixture("simple_energy"),
        elements: [
          {
            price_components: [{ type: "ENERGY", price: 0.2, step_size: 500 }],
            restrictions: { start_time: "22:00", end_time: "06:00" },
          },
          { price_components: [{ type: "ENERGY", price: 0.3, step_size: 100 }] },
        ],
      },
      "elements[0].price_components[0].step_size 500 on ENERGY",
    );
    expect(u.message).to.contain("elements[1].price_components[0].step_size is 100 at 06:00");
  });

  it("a stepped dimension unpriced at some time of day (OCPI then rounds each run on its own)", () => {
    const u = refusal(
      {
        ...fixture("simple_energy"),
        elements: [
          { price_components: [{ type: "ENERGY", price: 0.3, step_size: 1 }] },
          {
            price_components: [{ type: "TIME", price: 2, step_size: 300 }],
            restrictions: { start_time: "08:00", end_time: "20:00" },
          },
        ],
      },
      "elements[1].price_components[0].step_size 300 on TIME",
    );
    expect(u.message).to.contain("TIME is unpriced from 00:00");
  });

  it("a step above 2^32 (the registry's bound)", () => {
    refusal(
      edited("simple_energy", (t) => {
        t.elements[0].price_components[0].step_size = 2 ** 32 + 1;
      }),
      `elements[0].price_components[0].step_size ${2 ** 32 + 1} on ENERGY`,
    );
  });
});

describe("sdk/tariff/ocpi: one duration limit (min_duration / max_duration) imported and priced as OCPI does", () => {
  // min_duration: "Minimum duration in seconds the Charging Session MUST last (inclusive). When the duration of a
  //  Charging Session is longer than the defined value, this TariffElement is or becomes active. Before that moment,
  //  this TariffElement is not yet active."
  // max_duration: "Maximum duration in seconds the Charging Session MUST last (exclusive). When the duration of a
  //  Charging Session is shorter than the defined value, this TariffElement is or becomes active. After that moment,
  //  this TariffElement is no longer active."
  const pc = (type: string, price: number, step_size = 1) => ({ type, price, step_size });
  const ocpiTariff = (elements: any[]) => ({
    id: "d",
    currency: "EUR",
    elements,
    last_updated: "2026-12-03T00:00:00Z",
  });
  /** Readings from local time `hh:mm` on DAY0 (UTC+1), then legs of `[seconds, Wh]`. */
  const session = (hh: number, mm: number, legs: [bigint, bigint][]): MeterReading[] => {
    const out: MeterReading[] = [{ t: DAY0 - HOUR + BigInt(hh) * HOUR + BigInt(mm) * 60n, wh: 0n }];
    for (const [dt, de] of legs) {
      const a = out[out.length - 1]!;
      out.push({ t: a.t + dt, wh: a.wh + de });
    }
    return out;
  };
  /**
   * The session's bill on the meter's chain points (a point at every band boundary and at the duration limit),
   * checked equal to the reference's total excl. VAT for those points; returns the amount and the bill.
   */
  const billed = (json: unknown, readings: MeterReading[]) => {
    const imp = importOcpiTariff(json, OPTS);
    const points = boundaryChainPoints(readings, imp.tariff);
    const bill = computeBill(points, imp.tariff, RATED);
    const ref = priceOcpiSession(
      json,
      points.map((p) => ({ t: p.t, wh: p.e })),
      { tzOffset: OPTS.tzOffset },
    );
    expect(bill.amount, "computeBill = the OCPI reference").to.equal(ref.totalExclVat);
    return { amount: bill.amount, bill, points };
  };

  it("a blocking fee: parking free for 4 h, then 6.00/h (max_duration and min_duration 14400)", () => {
    const json = ocpiTariff([
      { price_components: [pc("ENERGY", 0.35)] },
      { price_components: [pc("PARKING_TIME", 0)], restrictions: { max_duration: 14400 } },
      { price_components: [pc("PARKING_TIME", 6)], restrictions: { min_duration: 14400 } },
    ]);
    const t = importOcpiTariff(json, OPTS).tariff;
    expect(t.energyPrice).to.deep.equal(everyBand(350_000n));
    expect(t.parkingPricePerHour).to.deep.equal(everyBand(0n));
    expect(t.durationLimit).to.deep.equal({ seconds: 14_400n, parkingPricePerHour: 6_000_000n });
    // 30 kWh in 2 h, then parked 3 h: the last hour is at 6.00/h. 10.50 + 6.00.
    const crossing = billed(
      json,
      session(10, 0, [
        [2n * HOUR, 30_000n],
        [3n * HOUR, 0n],
      ]),
    );
    expect(crossing.amount).to.equal(16_500_000n);
    expect(crossing.points.map((p) => p.t - crossing.points[0]!.t)).to.deep.equal([0n, 7200n, 14_400n, 18_000n]);
    expect(crossing.bill.perInterval.map((i) => i.afterLimit)).to.deep.equal([false, false, true]);
    // Parked until 3:59:59, not reaching the limit: energy only.
    expect(
      billed(
        json,
        session(10, 0, [
          [HOUR, 20_000n],
          [3n * HOUR - 1n, 0n],
        ]),
      ).amount,
    ).to.equal(7_000_000n);
    // Chain points built by hand, one exactly at the limit: "inclusive", an interval starting there is after it.
    const t0 = DAY0 + 9n * HOUR;
    const hand = [P(t0, 0n), P(t0 + 2n * HOUR, 30_000n), P(t0 + 4n * HOUR, 30_000n), P(t0 + 5n * HOUR, 30_000n)];
    const ref = priceOcpiSession(
      json,
      hand.map((p) => ({ t: p.t, wh: p.e })),
      { tzOffset: OPTS.tzOffset },
    );
    expect(computeBill(hand, t, RATED).amount).to.equal(ref.totalExclVat);
    expect(ref.totalExclVat).to.equal(16_500_000n);
  });

  it("the first 30 min of energy free (the spec's max_duration example with one limit), then 0.25/kWh", () => {
    // The spec's example: "For a charging session with a duration of 40 minutes where 5 kWh are charged during the
    //  first 30 minutes and another 1.2 kWh in the remaining 10 minutes of the session, this tariff will result in
    //  costs of 0.30 euro" (its third element, 0.40 after 60 min, would be a second limit: refused below).
    const json = ocpiTariff([
      { price_components: [{ ...pc("ENERGY", 0), vat: 20 }], restrictions: { max_duration: 1800 } },
      { price_components: [{ ...pc("ENERGY", 0.25), vat: 20 }] },
    ]);
    const imp = importOcpiTariff(json, OPTS);
    expect(imp.tariff.energyPrice).to.deep.equal(everyBand(0n));
    expect(imp.tariff.durationLimit).to.deep.equal({ seconds: 1800n, energyPrice: 250_000n });
    expect(imp.vat).to.equal("20");
    const crossing = session(10, 0, [
      [1800n, 5_000n],
      [600n, 1_200n],
    ]);
    expect(billed(json, crossing).amount).to.equal(300_000n);
    // 45 min at constant power: the meter's chain point at 30 min splits 9 kWh as 6 + 3 kWh.
    const split = billed(json, session(10, 0, [[2700n, 9_000n]]));
    expect(split.points.map((p) => p.e)).to.deep.equal([0n, 6_000n, 9_000n]);
    expect(split.amount).to.equal(750_000n);
    expect(billed(json, session(10, 0, [[1799n, 9_000n]])).amount).to.equal(0n);
  });

  it("time-of-day bands before the limit; after 2 h one ENERGY price, PARKING_TIME keeping its bands", () => {
    // "the first Tariff Element with that Dimension in the list with matching Tariff Restrictions will be used":
    // from 2 h on the min_duration element comes first for ENERGY at every time of day.
    const json = edited("time_of_day_energy", (t) => {
      t.elements.unshift({
        price_components: [{ type: "ENERGY", price: 0.5, vat: 21, step_size: 1 }],
        restrictions: { min_duration: 7200 },
      });
      t.elements.push({
        price_components: [{ type: "PARKING_TIME", price: 1, vat: 21, step_size: 1 }],
        restrictions: { start_time: "07:00", end_time: "20:00" },
      });
    });
    const t = importOcpiTariff(json, OPTS).tariff;
    expect(t.bandStart).to.deep.equal([0n, 7n * HOUR, 17n * HOUR, 20n * HOUR]);
    expect(t.energyPrice).to.deep.equal([200_000n, 300_000n, 450_000n, 300_000n]);
    expect(t.parkingPricePerHour).to.deep.equal([0n, 1_000_000n, 1_000_000n, 0n]);
    expect(t.durationLimit).to.deep.equal({ seconds: 7200n, energyPrice: 500_000n });
    // From 15:30: 5 kWh by 16:30, parked to 17:00, 10 kWh to 18:30 (band 17:00, limit 17:30), parked to 20:30.
    const crossing = billed(
      json,
      session(15, 30, [
        [HOUR, 5_000n],
        [1800n, 0n],
        [5400n, 10_000n],
        [2n * HOUR, 0n],
      ]),
    );
    // 5 kWh at 0.30 + 0.5 h parked + 10/3 kWh at 0.45 (17:00-17:30) + 20/3 kWh at 0.50 (after) + 1.5 h parked
    // at 1.00/h (18:30-20:00) and 0.5 h free (20:00-20:30); the meter floors the interpolated registers to a Wh.
    expect(crossing.bill.perInterval.map((i) => [i.band, i.afterLimit])).to.deep.equal([
      [1, false],
      [1, false],
      [2, false],
      [2, true],
      [2, true],
      [3, true],
    ]);
    expect(crossing.amount).to.equal(1_500_000n + 500_000n + 1_499_850n + 3_333_500n + 1_500_000n);
    // 15:30-17:15, 10.5 kWh: 9 kWh at 0.30 before the 17:00 band, 1.5 kWh at 0.45 after it, before the limit.
    expect(billed(json, session(15, 30, [[6300n, 10_500n]])).amount).to.equal(2_700_000n + 675_000n);
  });

  it("TIME priced only after the limit; min_duration 0 and max_duration 0 read as the reference does", () => {
    const json = ocpiTariff([
      // max_duration 0: the session is never shorter than 0 s, so this element never applies.
      { price_components: [pc("ENERGY", 9)], restrictions: { max_duration: 0 } },
      // min_duration 0: every session lasts at least 0 s, no restriction.
      { price_components: [pc("ENERGY", 0.3)], restrictions: { min_duration: 0 } },
      { price_components: [pc("TIME", 2.4)], restrictions: { min_duration: 3600 } },
    ]);
    const t = importOcpiTariff(json, OPTS).tariff;
    expect([t.energyPrice, t.timePricePerHour]).to.deep.equal([everyBand(300_000n), everyBand(0n)]);
    expect(t.durationLimit).to.deep.equal({ seconds: 3600n, timePricePerHour: 2_400_000n });
    // 20 kWh in 1.5 h: 6.00 + 0.5 h at 2.40/h.
    expect(billed(json, session(8, 0, [[5400n, 20_000n]])).amount).to.equal(7_200_000n);
    expect(billed(json, session(8, 0, [[3600n, 20_000n]])).amount).to.equal(6_000_000n);
  });

  it("a limit that changes no price imports without a limit", () => {
    const json = ocpiTariff([
      { price_components: [pc("ENERGY", 0.3)], restrictions: { max_duration: 3600 } },
      { price_components: [pc("ENERGY", 0.3)] },
    ]);
    const t = importOcpiTariff(json, OPTS).tariff;
    expect(t.durationLimit).to.equal(undefined);
    expect(t.energyPrice).to.deep.equal(everyBand(300_000n));
    expect(billed(json, session(8, 0, [[7200n, 20_000n]])).amount).to.equal(6_000_000n);
  });

  it("step sizes with a limit: one step per dimension, priced before and after it (one OCPI run)", () => {
    // "step_size: Minimum amount to be billed. This unit will be billed in this step_size blocks."
    const json = ocpiTariff([
      { price_components: [pc("PARKING_TIME", 0, 900)], restrictions: { max_duration: 7200 } },
      { price_components: [pc("PARKING_TIME", 4, 900)], restrictions: { min_duration: 7200 } },
      { price_components: [pc("ENERGY", 0.3)] },
    ]);
    const t = importOcpiTariff(json, OPTS).tariff;
    expect(t.stepSize).to.deep.equal([1n, 1n, 900n]);
    expect(t.durationLimit).to.deep.equal({ seconds: 7200n, parkingPricePerHour: 4_000_000n });
    // 1 h charging 10 kWh, then parked 1 h 20 min: 20 min after the limit, rounded up to 30 min at 4.00/h.
    expect(
      billed(
        json,
        session(8, 0, [
          [HOUR, 10_000n],
          [4800n, 0n],
        ]),
      ).amount,
    ).to.equal(3_000_000n + 2_000_000n);
    // Parked 50 min, before the limit: 60 min billed at 0.00.
    expect(
      billed(
        json,
        session(8, 0, [
          [HOUR, 10_000n],
          [3000n, 0n],
        ]),
      ).amount,
    ).to.equal(3_000_000n);
  });
});

describe("sdk/tariff/ocpi: duration restrictions the circuit cannot price, refused by name", () => {
  const pc = (type: string, price: number, step_size = 1) => ({ type, price, step_size });
  const ocpiTariff = (elements: any[]) => ({
    id: "d",
    currency: "EUR",
    elements,
    last_updated: "2026-12-03T00:00:00Z",
  });

  it("two different limits: the spec's 'first hour free' (3600 and 10800) and its max_duration example", () => {
    // tariff_7_first_hour_kwh_free (with `restrictions`, as docs/ocpi.md says): parking free for the first hour,
    // 2.00/h until 3 h, 3.00/h after.
    const firstHourFree = ocpiTariff([
      { price_components: [pc("PARKING_TIME", 0, 60)], restrictions: { min_duration: 0, max_duration: 3600 } },
      { price_components: [pc("PARKING_TIME", 2, 60)], restrictions: { min_duration: 3600, max_duration: 10800 } },
      { price_components: [pc("PARKING_TIME", 3, 60)], restrictions: { min_duration: 10800 } },
      { price_components: [pc("ENERGY", 0, 1)], restrictions: { max_kwh: 1 } },
      { price_components: [pc("ENERGY", 0.2, 1)], restrictions: { min_kwh: 1 } },
    ]);
    const u = refusal(firstHourFree, "elements[1].restrictions.max_duration");
    expect(u.message).to.contain(
      "10800 s is a second duration limit besides elements[0].restrictions.max_duration 3600 s: the session-bill circuit has one duration limit",
    );
    expect(u.message).to.contain("a second would cost about as much again");
    refusal(
      ocpiTariff([
        { price_components: [pc("ENERGY", 0)], restrictions: { max_duration: 1800 } },
        { price_components: [pc("ENERGY", 0.25)], restrictions: { max_duration: 3600 } },
        { price_components: [pc("ENERGY", 0.4)] },
      ]),
      "elements[1].restrictions.max_duration",
    );
  });

  it("a FLAT fee in a duration-restricted element", () => {
    const u = refusal(
      ocpiTariff([
        { price_components: [pc("FLAT", 5)], restrictions: { min_duration: 3600 } },
        { price_components: [pc("ENERGY", 0.3)] },
      ]),
      "elements[0].restrictions.min_duration on FLAT",
    );
    expect(u.message).to.contain("a duration-dependent flat fee is not supported");
    refusal(
      ocpiTariff([
        { price_components: [pc("FLAT", 1), pc("ENERGY", 0)], restrictions: { max_duration: 1800 } },
        { price_components: [pc("ENERGY", 0.3)] },
      ]),
      "elements[0].restrictions.max_duration on FLAT",
    );
    // min_duration 0 always holds: a FLAT there is the session's flat fee.
    const t = importOcpiTariff(
      ocpiTariff([{ price_components: [pc("FLAT", 1), pc("ENERGY", 0.3)], restrictions: { min_duration: 0 } }]),
      OPTS,
    ).tariff;
    expect([t.flatFee, t.durationLimit]).to.deep.equal([1_000_000n, undefined]);
  });

  it("an after-limit price that changes by time of day", () => {
    const u = refusal(
      ocpiTariff([
        { price_components: [pc("ENERGY", 0.35)] },
        { price_components: [pc("PARKING_TIME", 0)], restrictions: { max_duration: 14400 } },
        {
          price_components: [pc("PARKING_TIME", 6)],
          restrictions: { min_duration: 14400, start_time: "08:00", end_time: "18:00" },
        },
      ]),
      "elements[2].price_components[0] PARKING_TIME",
    );
    expect(u.message).to.contain(
      "after the duration limit (elements[1].restrictions.max_duration 14400 s) PARKING_TIME changes at 08:00 (0 to 6000000 base units); the circuit has one price per dimension after the limit",
    );
    // Band prices before the limit that an after-limit element overrides only at some times of day.
    refusal(
      edited("time_of_day_energy", (t) => {
        t.elements[1].restrictions.min_duration = 1800;
      }),
      "elements[2].price_components[0] ENERGY",
    );
  });

  it("a step_size above 1 on a dimension unpriced after the limit (OCPI ends the run there)", () => {
    const u = refusal(
      ocpiTariff([{ price_components: [pc("ENERGY", 0.3, 100)], restrictions: { max_duration: 3600 } }]),
      "elements[0].price_components[0].step_size 100 on ENERGY",
    );
    expect(u.message).to.contain(
      "ENERGY is unpriced from 00:00 after the duration limit, so OCPI rounds each run of priced periods on its own",
    );
    // A step that differs after the limit.
    refusal(
      ocpiTariff([
        { price_components: [pc("TIME", 1, 300)], restrictions: { max_duration: 3600 } },
        { price_components: [pc("TIME", 2, 600)] },
      ]),
      "elements[0].price_components[0].step_size 300 on TIME",
    );
  });
});

describe("sdk/tariff/ocpi: importOcpiTariff refuses what the circuit cannot price, naming the feature", () => {
  it("a min_price whose incl_vat is not excl_vat plus the VAT, and a min_price above max_price", () => {
    refusal(
      edited("simple_energy", (t) => {
        t.min_price = { excl_vat: 1, incl_vat: 1.2 };
      }),
      "min_price.incl_vat 1.2",
    );
    refusal(
      edited("flat_energy_time", (t) => {
        t.min_price = { excl_vat: 21, incl_vat: 25.2 };
      }),
      "min_price.excl_vat 21",
    );
  });

  const restriction = (r: object) =>
    edited("time_of_day_energy", (t) => {
      t.elements[1].restrictions = { ...t.elements[1].restrictions, ...r };
    });
  for (const [key, value] of [
    ["day_of_week", ["SATURDAY", "SUNDAY"]],
    ["min_kwh", 20],
    ["max_kwh", 50],
    ["min_power", 5],
    ["max_power", 20],
    ["min_current", 5],
    ["max_current", 32],
    ["start_date", "2023-12-24"],
    ["end_date", "2023-12-27"],
    ["reservation", "RESERVATION"],
  ] as const) {
    it(`restriction ${key}`, () => refusal(restriction({ [key]: value }), `elements[1].restrictions.${key}`));
  }

  it("day_of_week for some days: priced off-chain only, the refusal gives its measured circuit cost", () => {
    // "day_of_week: Which day(s) of the week this TariffElement is active."
    const u = refusal(restriction({ day_of_week: ["SATURDAY", "SUNDAY"] }), "elements[1].restrictions.day_of_week");
    expect(u.message).to.contain(
      "not provable: day_of_week costs 1510 constraints in pay (1567 in close), more than the 815 rows left",
    );
  });

  it("the rows-left figure in the refusals is pay's as built (build/circuits/manifest.json)", () => {
    const manifest = JSON.parse(
      readFileSync(new URL("../../build/circuits/manifest.json", import.meta.url), "utf8"),
    ) as { circuits: { pay: { constraints: number; publicSignals: string[] } } };
    const { constraints, publicSignals } = manifest.circuits.pay;
    // A 2^15 domain holds the constraints, one row per public input and one for the constant 1.
    const free = 32_768 - constraints - publicSignals.length - 1;
    const u = refusal(restriction({ day_of_week: ["SUNDAY"] }), "elements[1].restrictions.day_of_week");
    expect(u.message).to.contain(`more than the ${free} rows left in pay's 2^15 proving domain`);
  });

  it("energy and power limits: refused with one limit's cost measured on a circuit prototype", () => {
    expect(refusal(restriction({ max_kwh: 50 }), "elements[1].restrictions.max_kwh").message).to.contain(
      "has no energy-dependent prices yet (one limit measured at 266 constraints in pay on a prototype, 815 rows free: it fits, not built yet",
    );
    expect(refusal(restriction({ max_power: 20 }), "elements[1].restrictions.max_power").message).to.contain(
      "measured at 1089 constraints in pay on a prototype, more than the 815 rows left in pay's 2^15 proving domain",
    );
    expect(refusal(restriction({ max_current: 32 }), "elements[1].restrictions.max_current").message).to.match(
      /has no current-dependent prices yet$/,
    );
  });

  it("day_of_week listing all seven days is no restriction", () => {
    const all = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"];
    expect(importOcpiTariff(restriction({ day_of_week: all }), OPTS).tariff.energyPrice[2]).to.equal(450_000n);
  });

  it("currency not EUR", () =>
    refusal(
      edited("simple_energy", (t) => {
        t.currency = "CHF";
      }),
      "currency CHF",
    ));

  it("per-component VAT differences", () => {
    refusal(
      edited("flat_energy_time", (t) => {
        t.elements[0].price_components[0].vat = 19;
      }),
      "elements[1].price_components[0].vat 20",
    );
  });

  it("a price that is not a whole number of base units (7 decimals)", () => {
    refusal(
      edited("simple_energy", (t) => {
        t.elements[0].price_components[0].price = 0.1234567;
      }),
      "elements[0].price_components[0].price 0.1234567",
    );
  });

  it("more than 4 ENERGY price bands a day (an off-peak window over midnight needs a fifth)", () => {
    const e = refusal(
      edited("time_of_day_energy", (t) => {
        t.elements[0].restrictions = { start_time: "23:00", end_time: "07:00" };
      }),
      "elements[].restrictions.start_time/end_time (ENERGY, TIME, PARKING_TIME)",
    );
    expect(e.message).to.contain("00:00, 07:00, 17:00, 20:00, 23:00");
  });

  it("time-of-day FLAT fees", () => {
    refusal(
      edited("flat_energy_time", (t) => {
        t.elements[0].restrictions = { start_time: "08:00" };
      }),
      "elements[0].restrictions.start_time/end_time on FLAT",
    );
  });

  it("a max_price incl. VAT that is not excl. VAT plus the VAT ('they both apply')", () => {
    refusal(
      edited("flat_energy_time", (t) => {
        t.max_price.incl_vat = 23;
      }),
      "max_price.incl_vat 23",
    );
  });
});

describe("sdk/tariff/ocpi: bad OCPI JSON is refused naming the path", () => {
  it("names the field", () => {
    badJson(
      edited("simple_energy", (t) => {
        t.elements[0].price_components[0].price = "0.25";
      }),
      "elements[0].price_components[0].price",
    );
    badJson(
      edited("simple_energy", (t) => {
        delete t.last_updated;
      }),
      "last_updated",
    );
    badJson(
      edited("simple_energy", (t) => {
        t.elements[0].price_components[0].type = "POWER";
      }),
      "elements[0].price_components[0].type",
    );
    badJson(
      edited("time_of_day_energy", (t) => {
        t.elements[1].restrictions.start_time = "5:00";
      }),
      "elements[1].restrictions.start_time",
    );
    badJson(
      edited("simple_energy", (t) => {
        t.elements = [];
      }),
      "elements",
    );
    badJson(
      edited("simple_energy", (t) => {
        t.max_price = { excl_vat: -1 };
      }),
      "max_price.excl_vat",
    );
  });

  it("names non-JSON text", () => {
    expect(() => importOcpiTariff("{not json", OPTS)).to.throw(InvalidInputError, "OCPI tariff is not JSON");
  });
});

describe("sdk/tariff/ocpi: applyVat", () => {
  it("rounds half up to a base unit, once on the total", () => {
    expect(applyVat(1n, "50")).to.equal(2n); // 1.5 -> 2
    expect(applyVat(1n, "49")).to.equal(1n); // 1.49 -> 1
    expect(applyVat(3n, "10")).to.equal(3n); // 3.3 -> 3
    expect(applyVat(1_000_000n, "21")).to.equal(1_210_000n);
    expect(applyVat(999n, "5.5")).to.equal(1054n); // 1053.945 -> 1054
    expect(applyVat(999n, null)).to.equal(999n);
  });
});
