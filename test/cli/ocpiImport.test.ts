/**
 * `zkcharge tariff import --ocpi` against a Hardhat JSON-RPC server (proofs tier: it needs a chain): an OCPI Tariff
 * zkcharge can price is published through `tariff publish`'s path and lands in the state file with the imported
 * prices (and test/sdk/fixtures/ocpi/blocking_fee.json with its duration limit); one whose dates have passed is
 * refused with the state file left as it was.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseState } from "../../cli/state.ts";
import { everyBand } from "../../sdk/index.ts";
import { startNode, zkcharge } from "./harness.ts";

const pc = (type: string, price: number) => ({ type, price, vat: 19, step_size: 1 });
const TARIFF = {
  id: "night-day",
  currency: "EUR",
  last_updated: "2023-09-27T11:36:01Z",
  max_price: { excl_vat: 30 },
  elements: [
    { price_components: [pc("FLAT", 0.5)] },
    { price_components: [pc("ENERGY", 0.25)], restrictions: { start_time: "22:00", end_time: "06:00" } },
    { price_components: [pc("ENERGY", 0.39), pc("TIME", 1.2), pc("PARKING_TIME", 1.2)] },
  ],
};

describe("zkcharge tariff import --ocpi against a Hardhat JSON-RPC server", function () {
  this.timeout(180_000);
  let node: Awaited<ReturnType<typeof startNode>>;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let statePath: string;

  before(async () => {
    node = await startNode();
    dir = mkdtempSync(join(tmpdir(), "zkcharge-ocpi-import-"));
    statePath = join(dir, "state.json");
    env = { ...process.env, ZKCHARGE_RPC: node.rpc };
  });
  after(async () => {
    await node?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("publishes an importable OCPI tariff; refuses an expired one, state untouched", async () => {
    const ok = async (...args: string[]) => {
      const r = await zkcharge(env, [...args, "--state", statePath]);
      expect(r.code, `zkcharge ${args.join(" ")}:\n${r.stdout}\n${r.stderr}`).to.equal(0);
      return r.stdout;
    };
    await ok("deploy");
    await ok("cpo", "register");
    const path = join(dir, "tariff.json");
    writeFileSync(path, JSON.stringify(TARIFF));
    const out = await ok("tariff", "import", "--ocpi", path, "--tz", "+02:00", "--valid-days", "30");
    expect(out).to.contain("OCPI tariff night-day imported: zkcharge prices it exactly (VAT 19%)");
    expect(out).to.match(/Tariff published: \S+ \(UTC\+02:00, valid 30 days\)/);
    expect(out).to.contain("flat fee 0.50 EUR, capped at 30.00 EUR");
    expect(out).to.contain("band 0: 00:00-06:00  0.25 EUR/kWh, 1.20 EUR/h charging, 1.20 EUR/h parked");
    expect(out).to.contain("band 1: 06:00-22:00  0.39 EUR/kWh, 1.20 EUR/h charging, 1.20 EUR/h parked");
    const [published] = parseState(readFileSync(statePath, "utf8")).tariffs;
    expect(published!.tariff).to.deep.include({ flatFee: 500_000n, minPrice: 0n, tzOffset: 7200n });
    expect(published!.tariff.timePricePerHour).to.deep.equal(everyBand(1_200_000n));
    expect(published!.tariff.energyPrice).to.deep.equal([250_000n, 390_000n, 250_000n, 250_000n]);

    // A blocking fee (parking free for 2 h after plug-in, then 6.00/h in minutes) publishes with its duration limit.
    const blocking = fileURLToPath(new URL("../sdk/fixtures/ocpi/blocking_fee.json", import.meta.url));
    const blockingOut = await ok("tariff", "import", "--ocpi", blocking, "--valid-days", "30");
    expect(blockingOut).to.contain("OCPI tariff hpc-blocking imported: zkcharge prices it exactly (VAT 19%)");
    expect(blockingOut).to.contain("billed in steps of 1 Wh, 1 s charging, 60 s parked");
    expect(blockingOut).to.contain("from 2 h after plug-in: 6.00 EUR/h parked");
    const second = parseState(readFileSync(statePath, "utf8")).tariffs[1]!.tariff;
    expect(second.durationLimit).to.deep.equal({ seconds: 7200n, parkingPricePerHour: 6_000_000n });
    expect(second.parkingPricePerHour).to.deep.equal(everyBand(0n));

    writeFileSync(path, JSON.stringify({ ...TARIFF, end_date_time: "2024-01-01T00:00:00Z" }));
    const before = readFileSync(statePath);
    const expired = await zkcharge(env, ["tariff", "import", "--ocpi", path, "--state", statePath]);
    expect(expired.code).to.equal(1);
    expect(expired.stderr).to.match(
      /zkcharge: error: the tariff's validity ends at unix 1704067200, before it could start/,
    );
    expect(readFileSync(statePath).equals(before), "state file changed").to.equal(true);
  });
});
