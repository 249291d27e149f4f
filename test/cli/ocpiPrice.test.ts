/**
 * `zkcharge tariff price` and the refusals of `zkcharge tariff import`, run as real processes with no chain (a port
 * nobody listens on: a command that reached the network would fail differently). The import that publishes needs a
 * chain: test/cli/ocpiImport.test.ts.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { zkcharge as run, type Run } from "./harness.ts";

const zkcharge = (...args: string[]): Promise<Run> => run({ ...process.env, ZKCHARGE_RPC: "http://127.0.0.1:9" }, args);
/** `zkcharge tariff price --ocpi <tariff> --session <session> [more options]`. */
const price = (tariff: string, session: string, ...more: string[]): Promise<Run> =>
  zkcharge("tariff", "price", "--ocpi", tariff, "--session", session, ...more);

const pc = (type: string, price: number, step_size: number, vat?: number) => ({ type, price, step_size, vat });
/** The spec's step-size example tariff (mod_tariffs, "Example Tariff to explain the step_size"). */
const STEP_TARIFF = {
  id: "22",
  currency: "EUR",
  last_updated: "2018-12-18T17:07:11Z",
  elements: [
    {
      price_components: [pc("TIME", 1.2, 1800), pc("PARKING_TIME", 1.0, 900)],
      restrictions: { start_time: "00:00", end_time: "17:00" },
    },
    {
      price_components: [pc("TIME", 2.4, 900), pc("PARKING_TIME", 1.0, 900)],
      restrictions: { start_time: "17:00", end_time: "20:00" },
    },
    { price_components: [pc("TIME", 2.4, 900)], restrictions: { start_time: "20:00", end_time: "23:59" } },
  ],
};
/** Step sizes zkcharge proves: one per dimension, each dimension priced at every time of day. */
const STEPPED_TARIFF = {
  id: "stepped",
  currency: "EUR",
  last_updated: "2026-12-03T07:00:00Z",
  elements: [
    { price_components: [pc("FLAT", 0.5, 1)] },
    {
      price_components: [pc("ENERGY", 0.25, 500), pc("TIME", 1.2, 900)],
      restrictions: { start_time: "22:00", end_time: "06:00" },
    },
    { price_components: [pc("ENERGY", 0.39, 500), pc("TIME", 2.4, 900), pc("PARKING_TIME", 3.0, 300)] },
  ],
};
/**
 * A fast charger's blocking fee, as European CPOs publish it: 0.59/kWh, parking free for the first 2 hours after
 * plug-in, then 0.10 per minute (6.00/h, billed in minutes: one step for parking before and after the limit);
 * written with max_duration / min_duration 7200 (one duration limit). Shared with test/cli/ocpiImport.test.ts.
 */
const BLOCKING_FEE_PATH = fileURLToPath(new URL("../sdk/fixtures/ocpi/blocking_fee.json", import.meta.url));
const BLOCKING_FEE_TARIFF = JSON.parse(readFileSync(BLOCKING_FEE_PATH, "utf8")) as { elements: unknown[] };
/** A tariff zkcharge proves: a start fee, night and day energy, one time price for charging and parking. */
const PROVABLE_TARIFF = {
  id: "night-day",
  currency: "EUR",
  last_updated: "2023-09-27T11:36:01Z",
  elements: [
    { price_components: [pc("FLAT", 0.5, 1, 19)] },
    { price_components: [pc("ENERGY", 0.25, 1, 19)], restrictions: { start_time: "22:00", end_time: "06:00" } },
    { price_components: [pc("ENERGY", 0.39, 1, 19), pc("TIME", 1.2, 1, 19), pc("PARKING_TIME", 1.2, 1, 19)] },
  ],
};

describe("zkcharge tariff price / tariff import refusals (no chain)", function () {
  this.timeout(120_000);
  let dir: string;
  const file = (name: string, value: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
    return path;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zkcharge-ocpi-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("prices the spec's step-size example #2 at 1.30 per period and says why zkcharge cannot prove it", async () => {
    // 16:35 local (UTC+01:00), 35 min charging: "The total for this charging session is therefore *1.30 euro*"
    const session = file("s.json", {
      readings: [
        { time: "2023-11-15T15:35:00Z", wh: 0 },
        { time: "2023-11-15T16:10:00Z", wh: 5000 },
      ],
    });
    const r = await price(file("step.json", STEP_TARIFF), session);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain("OCPI tariff 22 (UTC+01:00): 1.30 EUR excl. VAT, no VAT given");
    expect(r.stdout).to.match(/16:35-17:00 charging.*\n.*TIME 0:25:00 @ 1.20 EUR\/h \(elements\[0\]\) = 0.50 EUR/);
    expect(r.stdout).to.match(/TIME 0:10:00 \(billed 0:20:00, step_size\) @ 2.40 EUR\/h \(elements\[1\]\) = 0.80 EUR/);
    expect(r.stdout).to.contain(
      "Provable by zkcharge today: no (OCPI elements[0].price_components[0].step_size 1800 on TIME: not provable: TIME is unpriced from 23:59",
    );
  });

  it("proves step sizes that are the same all day: energy, charging and parking time rounded up once, as OCPI does", async () => {
    const session = file("s-step.json", {
      readings: [
        { time: "2023-11-15T20:30:00Z", wh: 0 },
        { time: "2023-11-15T21:00:00Z", wh: 10_990 },
        { time: "2023-11-15T21:07:00Z", wh: 10_990 },
        { time: "2023-11-15T22:10:00Z", wh: 15_001 },
      ],
    });
    const r = await price(file("steps.json", STEPPED_TARIFF), session);
    expect(r.code, r.stderr).to.equal(0);
    // 0.50 + 10.990 kWh * 0.39 + 0.5 h * 2.40 + 7 min parked billed as 10 at 3.00/h + 4.011 kWh billed as 4.510
    // (15.001 -> 15.5 kWh) at 0.25 + 63 min billed as 75 (93 -> 105 min) at 1.20/h = 9.1136
    expect(r.stdout).to.contain("OCPI tariff stepped (UTC+01:00): 9.1136 EUR excl. VAT");
    expect(r.stdout).to.contain("ENERGY 4.011 kWh (billed 4.510 kWh, step_size) @ 0.25 EUR/kWh");
    expect(r.stdout).to.contain("Provable by zkcharge today: yes");
    expect(r.stdout).to.contain("zkcharge bill 9.1136 EUR over 5 chain points");
  });

  it("says yes when the tariff imports and the circuit's bill equals the reference; no when the meter's rating is exceeded", async () => {
    const tariff = file("night-day.json", PROVABLE_TARIFF);
    // 21:30-22:00 local at 22 kW, then 22:00-23:00 at 4 kW, unix seconds and ISO mixed.
    const session = file("s2.json", {
      readings: [
        { time: "2023-11-15T20:30:00Z", wh: 0 },
        { time: 1_700_082_000, wh: 11_000 },
        { time: "2023-11-15T22:00:00Z", wh: 15_000 },
      ],
    });
    const r = await price(tariff, session);
    expect(r.code, r.stderr).to.equal(0);
    // 0.50 + 11 kWh * 0.39 + 4 kWh * 0.25 + 1.5 h * 1.20 = 7.59; * 1.19 = 9.0321
    expect(r.stdout).to.contain("OCPI tariff night-day (UTC+01:00): 7.59 EUR excl. VAT, 9.0321 EUR incl. VAT");
    expect(r.stdout).to.contain("Provable by zkcharge today: yes");
    expect(r.stdout).to.contain("zkcharge bill 7.59 EUR over");
    const slow = await price(tariff, session, "--rated-power-w", "11000");
    expect(slow.code, slow.stderr).to.equal(0);
    expect(slow.stdout).to.match(/Provable by zkcharge today: no \(interval 21:30:00-22:00:00 draws 22.0 kW, above/);
  });

  it("proves a blocking fee: parking free for 2 h after plug-in, then 6.00/h in minute steps", async () => {
    // 40 kWh in the first 50 min, then parked until 2:47 after plug-in: 47 min past the limit, billed in minutes.
    const session = file("s-block.json", {
      readings: [
        { time: "2026-12-04T09:00:00Z", wh: 0 },
        { time: "2026-12-04T09:50:00Z", wh: 40_000 },
        { time: "2026-12-04T11:46:30Z", wh: 40_000 },
      ],
    });
    const r = await price(BLOCKING_FEE_PATH, session);
    expect(r.code, r.stderr).to.equal(0);
    // 40 kWh * 0.59 = 23.60; parked past 2 h: 46.5 min billed as 47 min at 6.00/h = 4.70; 28.30 * 1.19 = 33.677
    expect(r.stdout).to.contain("OCPI tariff hpc-blocking (UTC+01:00): 28.30 EUR excl. VAT, 33.677 EUR incl. VAT");
    expect(r.stdout).to.match(
      /PARKING_TIME 0:46:30 \(billed 0:47:00, step_size\) @ 6.00 EUR\/h \(elements\[2\], VAT 19%\)/,
    );
    expect(r.stdout).to.contain("Provable by zkcharge today: yes");
    // Plug-in, the end of charging, the duration limit and the end.
    expect(r.stdout).to.contain("zkcharge bill 28.30 EUR over 4 chain points");
    // The same tariff with a second limit (a higher fee from 4 h on) is priced off-chain only, and says why.
    const twoLimits = {
      ...BLOCKING_FEE_TARIFF,
      elements: [
        ...BLOCKING_FEE_TARIFF.elements.slice(0, 2),
        { price_components: [pc("PARKING_TIME", 12, 60, 19)], restrictions: { min_duration: 14_400 } },
        BLOCKING_FEE_TARIFF.elements[2],
      ],
    };
    const two = await price(file("block2.json", twoLimits), session);
    expect(two.code, two.stderr).to.equal(0);
    expect(two.stdout).to.contain("28.30 EUR excl. VAT");
    expect(two.stdout).to.contain(
      "Provable by zkcharge today: no (OCPI elements[2].restrictions.min_duration: 14400 s is a second duration limit besides elements[1].restrictions.max_duration 7200 s",
    );
  });

  it("refuses bad input naming the option and the field: session file, OCPI file, an unsupported import", async () => {
    const badSession = await price(
      file("t.json", PROVABLE_TARIFF),
      file("bad.json", { readings: [{ time: "2023-11-15T20:30:00Z", wh: 1.5 }] }),
    );
    expect(badSession.code).to.equal(1);
    expect(badSession.stderr).to.contain("zkcharge: error: --session: session file readings.0.wh: Expected integer");
    const badTariff = await price(file("bad-t.json", { ...PROVABLE_TARIFF, elements: [] }), join(dir, "missing.json"));
    expect(badTariff.code).to.equal(1);
    expect(badTariff.stderr).to.contain("zkcharge: error: --ocpi: OCPI tariff elements: ");
    // Refused while parsing the options: no state file, no chain needed.
    const refused = await zkcharge("tariff", "import", "--ocpi", file("step2.json", STEP_TARIFF));
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain(
      "zkcharge: error: --ocpi: OCPI elements[0].price_components[0].step_size 1800 on TIME: not provable: TIME is unpriced from 23:59",
    );
    expect(refused.stdout).to.equal("");
  });
});
