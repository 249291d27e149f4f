/**
 * `zkcharge ocmf verify` run as a real process on files in a temp directory (no chain: the command never touches the
 * network nor the state file): what it shows, and its exit code for valid (0), invalid (2), cannot verify (3) and
 * unreadable input or keys (1).
 */
import { expect } from "chai";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signRecord, payload, reading, testMeter, transaction } from "../fixtures/ocmf.ts";
import { zkcharge as run, type Run } from "./harness.ts";

describe("zkcharge ocmf verify", function () {
  this.timeout(120_000);
  let dir: string;
  const meter = testMeter();
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  // A port nobody listens on and a state path that must stay absent: the command needs neither.
  const zkcharge = (...args: string[]): Promise<Run> =>
    run({ ...process.env, ZKCHARGE_RPC: "http://127.0.0.1:9" }, ["--state", join(dir, "state.json"), ...args]);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zkcharge-ocmf-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("shows meter, readings, times, the transaction and its pagination, and exits 0 when every record is valid", async () => {
    const records = file("session.txt", transaction(meter).join("\n") + "\n");
    const keys = file("keys.json", JSON.stringify({ MS1: meter.publicKeyHex }));
    const r = await zkcharge("ocmf", "verify", records, "--keys", keys);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include("3 record(s) (OCMF records)");
    expect(r.stdout).to.include("Record 1 (line 1): valid");
    expect(r.stdout).to.include("meter MS1 (Acme M-1, firmware 2.1)");
    expect(r.stdout).to.include(
      'pagination T10, format 1.0, signature ECDSA-secp256r1-SHA256, key "MS1" from the registry',
    );
    expect(r.stdout).to.include(
      "reading 1: T tariff change, 2026-12-01T11:00:00,000+0100 S (synchronised), 12.25 kWh = 12250 Wh, 1-b:1.8.0, ST G",
    );
    expect(r.stdout).to.include("records 1, 2, 3, begin 2026-12-01T10:00:00,000+0100 S, end (E)");
    expect(r.stdout).to.include("18.500 kWh, pagination continuous");
    expect(r.stdout).to.include("Verdicts: 3 valid, 0 invalid, 0 cannot verify");
    expect(existsSync(join(dir, "state.json"))).to.equal(false);
  });

  it("exits 2 naming each invalid record's reasons; 3 when records only lack a key", async () => {
    const [b, , e] = transaction(meter);
    const flagged = signRecord(meter, payload(20, [reading(), reading({ TX: "E", EF: "E" })]));
    const records = file("bad.json", JSON.stringify([b, e!.replace('"RV":20', '"RV":21'), flagged]));
    const keys = file("keys.json", JSON.stringify({ MS1: meter.publicKeyHex }));
    const bad = await zkcharge("ocmf", "verify", records, "--keys", keys);
    expect(bad.code, bad.stderr).to.equal(2);
    expect(bad.stdout).to.include("(a JSON array of OCMF records)");
    expect(bad.stdout).to.include("Record 2 ([1]): invalid");
    expect(bad.stdout).to.include("invalid: bad-signature: the signature (ECDSA-secp256r1-SHA256) does not verify");
    expect(bad.stdout).to.include("invalid: broken-pagination: PG T12 follows T10 in this transaction: expected T11");
    expect(bad.stdout).to.include('invalid: error-flag: reading 2: EF "E": energy no longer usable for billing');
    expect(bad.stderr).to.include("zkcharge: error: 2 of 3 record(s) invalid");
    const unkeyed = await zkcharge("ocmf", "verify", file("ok.txt", transaction(meter).join("\n")));
    expect(unkeyed.code, unkeyed.stderr).to.equal(3);
    expect(unkeyed.stdout).to.include("cannot verify: no key in the registry for GW1/MS1, MS1, GW1");
    expect(unkeyed.stderr).to.include("3 of 3 record(s) cannot be verified");
  });

  it("exits 1 with one line for input that is no OCMF at all, a missing file, or a bad key file", async () => {
    const garbage = await zkcharge("ocmf", "verify", file("notes.txt", "charging went fine\n"));
    expect([garbage.code, garbage.stderr.trim()]).to.deep.equal([
      1,
      'zkcharge: error: OCMF input starts with "charging went fine": expected OCMF records (OCMF|...|...), ' +
        "a JSON array of record strings, or OCPP signedMeterValue JSON",
    ]);
    const missing = await zkcharge("ocmf", "verify", join(dir, "nope.txt"));
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/cannot read file .*nope\.txt: ENOENT/);
    // "-" reads standard input, which the harness leaves empty.
    const stdin = await zkcharge("ocmf", "verify", "-");
    expect([stdin.code, stdin.stderr.trim()]).to.deep.equal([1, "zkcharge: error: OCMF input is empty"]);
    const records = file("session.txt", transaction(meter).join("\n"));
    const badKey = await zkcharge("ocmf", "verify", records, "--keys", file("k.json", '{"MS1": "zz"}'));
    expect([badKey.code, badKey.stderr.trim()]).to.deep.equal([
      1,
      'zkcharge: error: key registry: "MS1": public key is not base64',
    ]);
  });
});
