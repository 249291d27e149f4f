/**
 * `zkcharge session from-ocmf` against a Hardhat JSON-RPC server: OCMF records of a simulated calibrated meter,
 * across the 17:00 band boundary, signed into a session by the gateway (the state file's meter key) and paid with
 * `driver pay`; a forged record is refused with its reason and leaves the state file byte-identical.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseState, type CliState } from "../../cli/state.ts";
import { HOUR, nextLocalTime } from "../../dev/localNetwork.ts";
import { SimulatedOcmfMeter } from "../../dev/ocmfMeter.ts";
import { startNode, zkcharge } from "./harness.ts";

describe("zkcharge session from-ocmf against a Hardhat JSON-RPC server", function () {
  this.timeout(120_000);
  let node: Awaited<ReturnType<typeof startNode>>;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    node = await startNode();
    dir = mkdtempSync(join(tmpdir(), "zkcharge-gateway-"));
    env = { ...process.env, ZKCHARGE_RPC: node.rpc };
  });
  after(async () => {
    await node?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("signs a session from OCMF records and pays it; refuses a forged record", async () => {
    const statePath = join(dir, "state.json");
    const run = (...args: string[]) => zkcharge(env, [...args, "--state", statePath]);
    const ok = async (...args: string[]) => {
      const r = await run(...args);
      expect(r.code, `zkcharge ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`).to.equal(0);
      return r.stdout;
    };
    await ok("deploy");
    await ok("cpo", "register");
    await ok("meter", "add", "--power-w", "22000");
    await ok("tariff", "publish");
    await ok("driver", "new");
    await ok("driver", "deposit", "--amount", "20.00");

    const state = (): CliState => parseState(readFileSync(statePath, "utf8"));
    const tariff = state().tariffs.at(-1)!.tariff;
    const start = nextLocalTime(tariff.validFrom + HOUR, 16n * HOUR + 30n * 60n, tariff.tzOffset); // 16:30 local
    const ocmf = new SimulatedOcmfMeter();
    const records = ocmf.transaction(
      [
        { t: start, wh: 5_000_000n, tx: "B" },
        { t: start + 900n, wh: 5_002_750n, tx: "C" },
        { t: start + 1800n, wh: 5_005_500n, tx: "T" }, // 17:00 local, the band boundary
        { t: start + 4200n, wh: 5_012_833n, tx: "E" },
      ],
      tariff.tzOffset,
    );
    const recordsPath = join(dir, "records.txt");
    const keysPath = join(dir, "keys.json");
    writeFileSync(keysPath, JSON.stringify(ocmf.registry));

    // A record whose register was changed after signing: refused, nothing signed, the state file untouched.
    writeFileSync(recordsPath, records.map((r, i) => (i === 2 ? r.replace("5005.5", "5004.5") : r)).join("\n"));
    const before = readFileSync(statePath);
    const refused = await run("session", "from-ocmf", recordsPath, "--keys", keysPath);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/the gateway refuses to sign .*\n {2}line 3: bad-signature/);
    expect(readFileSync(statePath).equals(before), "state file changed").to.equal(true);

    writeFileSync(recordsPath, records.join("\n"));
    let out = await ok("session", "from-ocmf", recordsPath, "--keys", keysPath, "--session", "4242");
    expect(out).to.match(
      /Session s1 on meter m1 from 4 OCMF record\(s\) of SIM-GW-1\/SIM-METER-1, all valid: 16:30-17:40/,
    );
    expect(out).to.match(/12\.833 kWh, bill 6\.08485 EUR/);
    expect(out).to.match(/chain point 2: 17:00 +register 5005\.500 kWh +from line 3 reading 1 \(TX T\)/);
    expect(out).to.match(/OCMF digest 0x[0-9a-f]{64} of the records used/);
    const s1 = state().sessions[0]!;
    expect(s1.session!.sessionId).to.equal(4242n);
    expect(s1.session!.points.map((p) => p.t)).to.deep.equal([start, start + 1800n, start + 4200n]);
    expect(s1.session!.ocmfDigest).to.be.a("bigint").and.not.equal(0n);

    out = await ok("driver", "pay", "--session", "4242", "--accept-linkable");
    expect(out).to.match(/CPO submitted it, 6\.08485 EUR paid/);
    expect(state().sessions[0]!.status).to.equal("paid");
  });
});
