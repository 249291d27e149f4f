/**
 * The signing gateway on OCMF records written and signed here: a transaction across the 17:00 band boundary becomes
 * a session the meter checks accept, billed as the OCMF readings say; every refusal names its cause; the OCMF digest
 * follows its documented definition, changes with any byte of any record used and is stable otherwise.
 */
import { createHash } from "node:crypto";
import { expect } from "chai";
import { FIELD_MODULUS } from "../../sdk/core/constants.ts";
import { OCMF_DIGEST_DOMAIN, chainFinal, ocmfDigest } from "../../sdk/core/hash.ts";
import { OcmfRefusedError, signOcmfSession, type GatewayInput } from "../../sdk/meter/gateway.ts";
import { Meter } from "../../sdk/meter/meter.ts";
import { parseOcmf } from "../../sdk/meter/ocmf.ts";
import { computeChain, verifySignedSession, type SignedSession } from "../../sdk/meter/record.ts";
import { computeBill } from "../../sdk/tariff/tariff.ts";
import { payload, reading, signRecord, testMeter, type TestMeter } from "../fixtures/ocmf.ts";
import { CPO_ID, RATED_POWER_W, SESSION_START, scenarioTariff } from "../fixtures/session.ts";

const ocmfMeter = testMeter();
const keys = { "GW1/MS1": ocmfMeter.publicKeyHex };
const gatewayMeter = new Meter({ cpoId: CPO_ID, ratedPowerW: RATED_POWER_W, privateKey: new Uint8Array(32).fill(9) });
const tariff = scenarioTariff(); // bands from local 00/07/17/22, UTC+1; SESSION_START is 16:30 local

/** 2026-11-25 local (UTC+1) time `hh:mm:ss[,mmm]` written as OCMF TM with time state `sync`. */
const at = (hms: string, sync = "S") => `2026-11-25T${hms.includes(",") ? hms : `${hms},000`}+0100 ${sync}`;

/** Begin 16:30 at 1.5 kWh, a reading at 16:45, tariff change at 17:00 at 7 kWh, end 17:45 at 15.25 kWh. */
function records(signer: TestMeter = ocmfMeter, change: Record<number, Record<string, unknown>> = {}, first = 10) {
  const readings = [
    reading({ TM: at("16:30:00"), TX: "B", RV: 1.5 }),
    reading({ TM: at("16:45:00"), TX: "C", RV: 4.25 }),
    reading({ TM: at("17:00:00"), TX: "T", RV: 7 }),
    reading({ TM: at("17:45:00"), TX: "E", RV: 15.25 }),
  ];
  return readings.map((r, i) => signRecord(signer, payload(first + i, [{ ...r, ...change[i] }])));
}

const input = (overrides: Partial<GatewayInput> = {}): GatewayInput => ({
  records: records(),
  keys,
  meter: gatewayMeter,
  sessionId: 42n,
  tariff,
  ...overrides,
});

/** H_n of a signed session's chain. */
function computeChainHead(s: SignedSession): bigint {
  return computeChain(s.sessionId, s.cpoId, s.meterLeaf, s.tariffHash, s.points)[s.n]!;
}

/** The refusal's reasons, joined. */
function refusal(args: GatewayInput): string {
  try {
    signOcmfSession(args);
  } catch (error) {
    expect(error).to.be.instanceOf(OcmfRefusedError);
    return (error as OcmfRefusedError).reasons.join("\n");
  }
  throw new Error("the gateway signed");
}

/** The definition of docs/ocmf.md, written again with node:crypto. */
function digestByHand(payloads: string[]): bigint {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const parts = [Buffer.from(OCMF_DIGEST_DOMAIN, "ascii"), u32(payloads.length)];
  for (const p of payloads) parts.push(u32(Buffer.byteLength(p)), Buffer.from(p, "utf8"));
  return BigInt("0x" + createHash("sha256").update(Buffer.concat(parts)).digest("hex")) % FIELD_MODULUS;
}

describe("sdk/meter/gateway", () => {
  it("signs a transaction across the 17:00 boundary from its readings, billed as OCMF says", () => {
    const signed = signOcmfSession(input());
    const { session } = signed;
    expect(verifySignedSession(session)).to.equal(true);
    expect(session.meterLeaf).to.equal(gatewayMeter.leaf);
    expect(session.sessionId).to.equal(42n);
    // Begin, the T reading exactly at 17:00 local (16:00 UTC), end; the 16:45 reading is skipped.
    expect(session.points).to.deep.equal([
      { t: SESSION_START, e: 1500n },
      { t: SESSION_START + 1800n, e: 7000n },
      { t: SESSION_START + 4500n, e: 15_250n },
    ]);
    expect(signed.points.map((p) => [p.source, p.tx])).to.deep.equal([
      ["[0]", "B"],
      ["[2]", "T"],
      ["[3]", "E"],
    ]);
    // By hand: (0.50 EUR * D + 5500 Wh * 0.39 * 3600 + 1800 s * 0.12/h * 1000 + 8250 Wh * 0.45 * 3600
    // + 2700 s * 0.12/h * 1000) / D = 23.427e12 / 3.6e6 = 6 507 500 (6.5075 EUR).
    expect(computeBill(session.points, tariff, session.ratedPowerW).amount).to.equal(6_507_500n);
    expect(signed.report.transactions[0]!.energyWh).to.equal(15_250n - 1500n);
    expect(signed.records).to.deep.equal([0, 1, 2, 3]);
  });

  it("takes any reading at the boundary instant, parsed records too, and ends exactly at a boundary", () => {
    const viaCharging = signOcmfSession(input({ records: records(ocmfMeter, { 2: { TX: "C" } }) }));
    expect(viaCharging.session.points[1]).to.deep.equal({ t: SESSION_START + 1800n, e: 7000n });
    const parsed = signOcmfSession(input({ records: records().map(parseOcmf) }));
    expect(parsed.session.points).to.deep.equal(viaCharging.session.points);
    // The end at 17:00 is the boundary itself: two points, no stray tariff change.
    const endAtBoundary = signOcmfSession(
      input({
        records: records()
          .slice(0, 2)
          .concat(records(ocmfMeter, { 2: { TX: "E" } })[2]!),
      }),
    );
    expect(endAtBoundary.session.points.map((p) => p.t)).to.deep.equal([SESSION_START, SESSION_START + 1800n]);
    expect(verifySignedSession(endAtBoundary.session)).to.equal(true);
  });

  it("refuses a record that fails verification with its verdict's reasons", () => {
    const other = testMeter();
    const forged = records();
    forged[2] = records(other)[2]!; // same payload, signed by a key the registry does not hold
    expect(refusal(input({ records: forged }))).to.match(/^\[2\]: bad-signature/);
    expect(refusal(input({ keys: {} }))).to.match(/cannot verify: no key in the registry for GW1\/MS1/);
    const gap = records().filter((_, i) => i !== 1); // T10, T12, T13
    expect(refusal(input({ records: gap }))).to.match(/broken-pagination: PG T12 follows T10/);
    expect(refusal(input({ records: records(ocmfMeter, { 2: { EF: "E" } }) }))).to.match(
      /error-flag: reading 1: EF "E"/,
    );
    expect(refusal(input({ records: records(ocmfMeter, { 1: { ST: "F" } }) }))).to.match(/error-flag.*READ_ERROR/);
    expect(refusal(input({ records: records(ocmfMeter, { 2: { TM: at("17:00:00", "U") } }) }))).to.match(
      /unsynchronised-time: reading 1 \(TX T\)/,
    );
    expect(refusal(input({ records: records().slice(0, 3) }))).to.match(/unpaired-transaction: .*no end record/);
    expect(refusal(input({ records: records().slice(1) }))).to.match(
      /unpaired-transaction: reading 1: TX C without a begin/,
    );
  });

  it("refuses an unsynchronised, sub-second or sub-Wh reading where the chain needs it", () => {
    // A C reading is not pricing to OCMF, but at the boundary it becomes a chain point.
    const uAtBoundary = records(ocmfMeter, { 2: { TX: "C", TM: at("17:00:00", "U") } });
    expect(refusal(input({ records: uAtBoundary }))).to.match(/\[2\] reading 1 .*time state U is not synchronised/);
    const relative = records(ocmfMeter, { 0: { TM: at("16:30:00", "R") } });
    expect(refusal(input({ records: relative }))).to.match(/\[0\] reading 1 .*time state R/);
    expect(refusal(input({ records: records(ocmfMeter, { 0: { TM: at("16:30:00,250") } }) }))).to.match(
      /16:30:00,250.*whole seconds/,
    );
    expect(refusal(input({ records: records(ocmfMeter, { 2: { RV: 7.0005 } }) }))).to.match(
      /\[2\] reading 1 \(TX T.*RV 7.0005 kWh is not a whole number of Wh/,
    );
    // A skipped reading needs none of that.
    const skippedOdd = records(ocmfMeter, { 1: { TM: at("16:45:00,250"), RV: 4.2505 } });
    expect(signOcmfSession(input({ records: skippedOdd })).session.n).to.equal(3);
  });

  it("refuses a missing boundary reading, naming the boundary, and a tariff change off the tariff's boundaries", () => {
    const noBoundary = records(ocmfMeter, { 2: { TX: "C", TM: at("16:59:59") } });
    expect(refusal(input({ records: noBoundary }))).to.equal(
      "no OCMF reading at the tariff boundary 2026-11-25T16:00:00.000Z (17:00:00 local): the gateway never interpolates a reading",
    );
    const halfSecondLate = records(ocmfMeter, { 2: { TM: at("17:00:00,500") } });
    expect(refusal(input({ records: halfSecondLate }))).to.match(
      /no OCMF reading at the tariff boundary .*17:00:00 local/,
    );
    // A tariff change at the begin's instant is no divergence: the whole session follows it.
    const begin = [
      reading({ TM: at("16:30:00"), TX: "B", RV: 1.5 }),
      reading({ TM: at("16:30:00"), TX: "T", RV: 1.5 }),
    ];
    const beginAndChange = [signRecord(ocmfMeter, payload(10, begin)), ...records().slice(1)];
    expect(signOcmfSession(input({ records: beginAndChange })).session.points).to.deep.equal(
      signOcmfSession(input()).session.points,
    );
    const stray = records(ocmfMeter, { 1: { TX: "T" } });
    expect(refusal(input({ records: stray }))).to.match(
      /tariff change \(TX T\) at 2026-11-25T16:45:00,000\+0100 S is not a boundary/,
    );
  });

  it("refuses records of two transactions, and records outside the transaction", () => {
    const later = records(
      ocmfMeter,
      {
        0: { TM: at("18:30:00"), RV: 16 },
        1: { TM: at("18:45:00"), RV: 17 },
        2: { TM: at("19:00:00"), TX: "C", RV: 18 },
        3: { TM: at("19:10:00"), RV: 19 },
      },
      14,
    );
    expect(refusal(input({ records: [...records(), ...later] }))).to.match(/records of 2 transactions mixed/);
    const otherMeter = testMeter();
    const times = ["16:30:00", "16:45:00", "17:00:00", "17:45:00"];
    const ms2 = times.map((tm, i) =>
      signRecord(otherMeter, payload(10 + i, [reading({ TM: at(tm), TX: "BCTE"[i], RV: i + 1 })], { MS: "MS2" })),
    );
    const bothKeys = { ...keys, "GW1/MS2": otherMeter.publicKeyHex };
    expect(refusal(input({ records: [...records(), ...ms2], keys: bothKeys }))).to.match(
      /records of 2 transactions mixed \(GW1\/MS1 records \[0\], \[1\], \[2\], \[3\]; GW1\/MS2/,
    );
    const noTransaction = { IS: undefined, IL: undefined, IF: undefined, IT: undefined, ID: undefined };
    const fiscal = signRecord(
      ocmfMeter,
      payload("F3", [reading({ TX: undefined, TM: at("18:00:00") })], noTransaction),
    );
    expect(refusal(input({ records: [...records(), fiscal] }))).to.match(/\[4\]: not part of the transaction/);
    expect(refusal(input({ records: [] }))).to.equal("no OCMF record in the input");
  });

  it("refuses a tariff of another CPO or not valid at the begin", () => {
    expect(refusal(input({ tariff: scenarioTariff({ cpoId: 2n }) }))).to.match(
      /begin 2026-11-25T16:30:00,000\+0100 S: tariff belongs to CPO 2, the meter to CPO 1/,
    );
    const tooLate = scenarioTariff({ validFrom: SESSION_START + 1n });
    expect(refusal(input({ tariff: tooLate }))).to.match(/outside the tariff's validity window/);
  });

  it("refuses readings the meter cannot sign: more power than its rating", () => {
    const small = new Meter({ cpoId: CPO_ID, ratedPowerW: 7000n, privateKey: new Uint8Array(32).fill(9) });
    expect(refusal(input({ meter: small }))).to.match(/the meter refuses .*more than the meter's rating 7000 W/);
  });

  it("digest: the documented definition, every byte of every record counts, stable otherwise", () => {
    const recs = records();
    const payloads = recs.map((r) => parseOcmf(r).payloadText);
    const signed = signOcmfSession(input({ records: recs }));
    expect(signed.ocmfDigest).to.equal(digestByHand(payloads));
    expect(signed.ocmfDigest < FIELD_MODULUS).to.equal(true);
    // Signed into the session-end record: the gateway's signature names exactly these records.
    expect(signed.session.ocmfDigest).to.equal(signed.ocmfDigest);
    expect(signed.session.final).to.equal(
      chainFinal(computeChainHead(signed.session), BigInt(signed.session.n), signed.ocmfDigest),
    );
    expect(verifySignedSession(signed.session)).to.equal(true);
    expect(verifySignedSession({ ...signed.session, ocmfDigest: signed.ocmfDigest + 1n })).to.equal(false);
    expect(verifySignedSession({ ...signed.session, ocmfDigest: 0n })).to.equal(false);
    // Stable: the same records as parsed records, as one file, under another session id and another gateway key.
    const again = signOcmfSession(
      input({
        records: recs.join("\n"),
        sessionId: 7n,
        meter: new Meter({ cpoId: CPO_ID, ratedPowerW: RATED_POWER_W }),
      }),
    );
    expect(again.ocmfDigest).to.equal(signed.ocmfDigest);
    expect(signOcmfSession(input({ records: recs.map(parseOcmf) })).ocmfDigest).to.equal(signed.ocmfDigest);
    // Any byte: flip each bit-0 of every byte of every payload.
    const bytes = payloads.map((p) => new TextEncoder().encode(p));
    const seen = new Set([ocmfDigest(bytes)]);
    bytes.forEach((b, i) => {
      for (let j = 0; j < b.length; j++) {
        const changed = bytes.map((x) => x.slice());
        changed[i]![j]! ^= 1;
        seen.add(ocmfDigest(changed));
      }
    });
    expect(seen.size).to.equal(1 + bytes.reduce((n, b) => n + b.length, 0));
    // Through the gateway: the same readings written with one more space in record 1 sign the same chain, another digest.
    const spaced = recs.slice();
    spaced[1] = signRecord(ocmfMeter, parseOcmf(recs[1]!).payloadText.replace('"FV":', '"FV": '));
    const respaced = signOcmfSession(input({ records: spaced }));
    expect(respaced.session.points).to.deep.equal(signed.session.points);
    expect(respaced.ocmfDigest).to.not.equal(signed.ocmfDigest);
    // Order, count and boundaries between records count.
    const enc = (xs: string[]) => ocmfDigest(xs.map((x) => new TextEncoder().encode(x)));
    expect(enc(["ab", "c"])).to.not.equal(enc(["a", "bc"]));
    expect(enc(["a", "b"])).to.not.equal(enc(["b", "a"]));
    expect(enc(["a"])).to.not.equal(enc(["a", ""]));
    expect(() => ocmfDigest([])).to.throw(/at least one record/);
  });
});
