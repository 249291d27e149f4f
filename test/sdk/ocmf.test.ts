/**
 * OCMF records parsed and verified as OCMF 1.3 and transparency software say, on records written and signed here:
 * every field and its default, reading inheritance, RV into integer Wh without rounding, TM, every algorithm, and a
 * verdict for every failure class (bad signature, bad encoding, broken pagination, error flags, unsynchronised
 * pricing time, unpaired begin / end, no key); the three input formats.
 */
import { expect } from "chai";
import { InvalidInputError } from "../../sdk/core/errors.ts";
import { JsonNumber } from "../../sdk/meter/exactJson.ts";
import { parseOcmf, parseOcmfEnergy, parseOcmfTime } from "../../sdk/meter/ocmf.ts";
import { OCMF_ALGORITHMS, OcmfEncodingError, bytesToHex, signEcdsa } from "../../sdk/meter/ocmfCrypto.ts";
import { readOcmfInput } from "../../sdk/meter/ocmfInput.ts";
import { verifyOcmf, type OcmfProblemCode, type OcmfReport } from "../../sdk/meter/ocmfVerify.ts";
import { payload, reading, signRecord, testMeter, transaction } from "../fixtures/ocmf.ts";

/** OCMF 1.3, Figure 1 ("Example File"), as printed: pretty, with a signature that is not ours. */
const SPEC_EXAMPLE = `OCMF|{
    "FV": "1.0",
    "GI": "ABL SBC-301",
    "GS": "808829900001",
    "GV": "1.4p3",
    "PG": "T12345",
    "MV": "Phoenix Contact",
    "MM": "EEM-350-D-MCB",
    "MS": "BQ27400330016",
    "MF": "1.0",
    "IS": true,
    "IL": "VERIFIED",
    "IF": [
        "RFID_PLAIN",
        "OCPP_RS_TLS"
    ],
    "IT": "ISO14443",
    "ID": "1F2D3A4F5506C7",
    "TT": "Tarif 1",
    "LC": {
        "LN": "cable_name",
        "LI": 1,
        "LR": 2,
        "LU": "mOhm"
    },
    "RD": [
        {
            "TM": "2018-07-24T13:22:04,000+0200 S",
            "TX": "B",
            "RV": 2935.6,
            "RI": "1-b:1.8.0",
            "RU": "kWh",
            "RT": "DC",
            "EF": "",
            "ST": "G"
        },
        {
            "TM": "2018-07-24T13:26:04,000+0200 S",
            "TX": "E",
            "RV": 2965.1,
            "CL": 0.5,
            "RI": "1-b:1.8.0",
            "RU": "kWh",
            "RT": "DC",
            "EF": "",
            "ST": "G"
        }
    ]
}|{
    "SD": "887FABF407AC82782EEFFF2220C2F856AEB0BC22364BBCC6B55761911ED651D1A922BADA88818C9671AFEE7094D7F536"
}`;

const METER = testMeter();
const KEYS = { MS1: METER.publicKeyHex };

/** The problem codes of record `i`. */
const codes = (report: OcmfReport, i: number): OcmfProblemCode[] =>
  report.records[i]!.verdict.problems.map((p) => p.code);
const statuses = (report: OcmfReport): string[] => report.records.map((r) => r.verdict.status);
const lines = (records: string[]): string => records.join("\n");

/** `payload` with its readings replaced. */
const parseWith = (fields: Record<string, unknown>, readings: object[] = [reading()]): ReturnType<typeof parseOcmf> =>
  parseOcmf(signRecord(METER, payload(10, readings, fields)));

describe("sdk: OCMF records: parsing (OCMF 1.3)", () => {
  it("reads the spec's example file: every field, the signature defaults, the second reading inheriting nothing it wrote", () => {
    const { payload: p, signature, payloadText } = parseOcmf(SPEC_EXAMPLE);
    expect(payloadText.startsWith('{\n    "FV": "1.0",')).to.equal(true);
    expect(payloadText.endsWith("    ]\n}")).to.equal(true);
    expect([p.FV, p.GI, p.GS, p.GV, p.PG]).to.deep.equal(["1.0", "ABL SBC-301", "808829900001", "1.4p3", "T12345"]);
    expect(p.pagination).to.deep.equal({ context: "T", counter: 12345 });
    expect([p.MV, p.MM, p.MS, p.MF]).to.deep.equal(["Phoenix Contact", "EEM-350-D-MCB", "BQ27400330016", "1.0"]);
    expect([p.IS, p.IL, p.IT, p.ID, p.TT]).to.deep.equal([true, "VERIFIED", "ISO14443", "1F2D3A4F5506C7", "Tarif 1"]);
    expect(p.IF).to.deep.equal(["RFID_PLAIN", "OCPP_RS_TLS"]);
    expect((p.LC as Record<string, unknown>).LR).to.deep.equal(new JsonNumber("2"));
    expect([p.CT, p.CI, p.CF]).to.deep.equal([undefined, undefined, undefined]);
    expect(signature).to.deep.include({ SA: "ECDSA-secp256r1-SHA256", SE: "hex", SM: "application/x-der" });
    const [begin, end] = p.readings;
    expect(begin!.time).to.deep.equal({
      text: "2018-07-24T13:22:04,000+0200 S",
      unixMs: Date.UTC(2018, 6, 24, 11, 22, 4),
      offsetMinutes: 120,
      sync: "S",
    });
    expect(begin!.energy).to.deep.equal({ text: "2935.6", unit: "kWh", digits: 29356n, exponent: -1, wh: 2_935_600n });
    expect([begin!.tx, begin!.ri, begin!.rt, begin!.ef, begin!.st, begin!.cl]).to.deep.equal([
      "B",
      "1-b:1.8.0",
      "DC",
      "",
      "G",
      undefined,
    ]);
    expect([end!.tx, end!.energy!.wh, end!.cl, end!.inherited]).to.deep.equal(["E", 2_965_100n, "0.5", []]);
  });

  it("fills omitted reading fields from the reading before, within one record only (OCMF 'Readings')", () => {
    const r = parseWith({}, [
      reading({ RT: "AC", EF: "" }),
      { TM: "2026-12-01T10:15:00,000+0100 S", TX: "C", RV: 3 },
      { TM: "2026-12-01T10:30:00,000+0100 S", RV: 4 },
      { TM: "2026-12-01T10:45:00,000+0100 S", TX: "E", RV: 5 },
    ]).payload.readings;
    expect(r.map((x) => x.tx)).to.deep.equal(["B", "C", "C", "E"]);
    expect(r.map((x) => [x.ri, x.energy!.unit, x.rt, x.st])).to.deep.equal(
      Array(4).fill(["1-b:1.8.0", "kWh", "AC", "G"]),
    );
    expect(r[2]!.inherited).to.deep.equal(["TX", "RI", "RU", "ST", "RT", "EF"]);
    expect(r.map((x) => x.energy!.wh)).to.deep.equal([1500n, 3000n, 4000n, 5000n]);
  });

  it("leaves fields without a default undefined, IF [] and the signature defaults in place; a fiscal record has no user fields", () => {
    const p = parseOcmf(
      signRecord(
        METER,
        { PG: "F7", MS: "MS1", RD: [{ TM: "2026-12-01T10:00:00,000+0000 S", RV: 0, RU: "Wh", ST: "G" }] },
        { writeSa: false },
      ),
    );
    expect(p.payload.pagination).to.deep.equal({ context: "F", counter: 7 });
    expect([p.payload.FV, p.payload.GS, p.payload.IS, p.payload.IT, p.payload.readings[0]!.tx]).to.deep.equal(
      Array(5).fill(undefined),
    );
    expect(p.payload.IF).to.deep.equal([]);
    expect(p.payload.readings[0]!.energy!.wh).to.equal(0n);
    expect(p.signature.SA).to.equal("ECDSA-secp256r1-SHA256");
  });

  it("keeps vendor extensions (U-Z in the payload, U-Z and A-F in the signature section)", () => {
    const record = signRecord(METER, payload(1, [reading()], { XVendor: { a: 1 } }));
    const withSig = record.replace('{"SA"', '{"Zx":"v","Ab":1,"SA"');
    const r = parseOcmf(withSig);
    expect(r.payload.extensions).to.have.keys("XVendor");
    expect(r.signature.extensions).to.have.keys("Zx", "Ab");
  });

  describe("RV into integer Wh: exact, never rounded", () => {
    const cases: [string, "kWh" | "Wh", bigint | undefined][] = [
      ["0", "kWh", 0n],
      ["0.00", "kWh", 0n],
      ["0e999999", "kWh", 0n],
      ["2935.60", "kWh", 2_935_600n],
      ["1E3", "Wh", 1000n],
      ["1e-3", "kWh", 1n],
      ["0.001", "kWh", 1n],
      ["12.000", "Wh", 12n],
      ["1.5e-3", "kWh", undefined],
      ["0.0001", "kWh", undefined],
      ["1234.5", "Wh", undefined],
      ["123456789012345678901234567", "Wh", 123_456_789_012_345_678_901_234_567n],
      ["9.99999999999999999999999e26", "kWh", 999_999_999_999_999_999_999_999_000_000n],
    ];
    for (const [text, unit, wh] of cases) {
      it(`${text} ${unit} is ${wh === undefined ? "finer than 1 Wh (no integer Wh)" : `${wh} Wh`}`, () => {
        const e = parseOcmfEnergy(text, unit);
        expect(e.wh).to.equal(wh);
        expect(e.text).to.equal(text);
      });
    }

    it("refuses a negative register, more than 30 digits of Wh, and RV as a string", () => {
      expect(() => parseOcmfEnergy("-1", "kWh")).to.throw(OcmfEncodingError, /negative/);
      expect(() => parseOcmfEnergy("1e28", "kWh")).to.throw(OcmfEncodingError, /more than 30 digits/);
      expect(() => parseOcmfEnergy("1e999999999999999999", "Wh")).to.throw(OcmfEncodingError, /out of range/);
      expect(() => parseWith({}, [reading({ RV: "1.5" })])).to.throw(OcmfEncodingError, /RV: must be a JSON number/);
      expect(() => parseWith({}, [reading({ RU: "varh" })])).to.throw(
        OcmfEncodingError,
        /RU: "varh" is not an energy unit/,
      );
      expect(() => parseWith({}, [reading({ RU: undefined })])).to.throw(OcmfEncodingError, /RU: is missing/);
    });

    it("keeps RV's text as written in the record (the payload is never re-serialised)", () => {
      const text = JSON.stringify(payload(1, [reading()])).replace('"RV":1.5', '"RV":1.50000');
      expect(parseOcmf(signRecord(METER, text)).payload.readings[0]!.energy!.text).to.equal("1.50000");
    });
  });

  describe("TM: milliseconds, offset, synchronisation state", () => {
    it("reads milliseconds and offsets east and west of UTC, and every state of Table 19", () => {
      expect(parseOcmfTime("2026-12-01T10:00:00,123+0000 S").unixMs).to.equal(Date.UTC(2026, 11, 1, 10, 0, 0, 123));
      expect(parseOcmfTime("2026-12-01T10:00:00,000-0530 S")).to.include({
        unixMs: Date.UTC(2026, 11, 1, 15, 30),
        offsetMinutes: -330,
      });
      expect(parseOcmfTime("2026-12-02T00:30:00,999+1400 S").unixMs).to.equal(Date.UTC(2026, 11, 1, 10, 30, 0, 999));
      expect(parseOcmfTime("2024-02-29T23:59:59,999+0100 R").unixMs).to.equal(Date.UTC(2024, 1, 29, 22, 59, 59, 999));
      expect(["U", "I", "S", "R"].map((s) => parseOcmfTime(`2026-12-01T10:00:00,000+0100 ${s}`).sync)).to.deep.equal([
        "U",
        "I",
        "S",
        "R",
      ]);
    });

    const bad = [
      "2026-12-01T10:00:00.000+0100 S", // a dot, not the comma of Table 7
      "2026-12-01T10:00:00,00+0100 S", // two digits of milliseconds
      "2026-12-01T10:00:00,000+01:00 S", // a colon in the offset
      "2026-12-01T10:00:00,000+0100", // no synchronisation state
      "2026-12-01T10:00:00,000+0100 X", // not a state of Table 19
      "2026-12-01T10:00:00,000Z S",
      "2023-02-29T10:00:00,000+0100 S",
      "2026-13-01T10:00:00,000+0100 S",
      "2026-12-01T24:00:00,000+0100 S",
      "2026-12-01T10:00:60,000+0100 S",
      "2026-12-01T10:00:00,000+1500 S",
    ];
    for (const text of bad) {
      it(`refuses ${text}`, () => {
        expect(() => parseOcmfTime(text)).to.throw(OcmfEncodingError, /TM/);
      });
    }
  });

  describe("refuses what breaks the format, naming the field", () => {
    const good = JSON.stringify(payload(10, [reading()]));
    const sig = '{"SD":"3006020101020101"}';
    const cases: [string, string, RegExp][] = [
      ["no header", `OCMX|${good}|${sig}`, /header "OCMF\|"/],
      ["no signature section", `OCMF|${good}`, /no signature section/],
      ["a pipe inside a section", `OCMF|${good.replace("Acme", "Ac|me")}|${sig}`, /more than three sections/],
      ["a member twice", `OCMF|${good.replace('"GS":"GW1"', '"GS":"GW1","GS":"GW2"')}|${sig}`, /"GS" given twice/],
      ["not JSON", `OCMF|{"PG":"T1",}|${sig}`, /payload section: expected a member name/],
      ["text after the JSON", `OCMF|${good} x|${sig}`, /unexpected text/],
      ["an unknown field", `OCMF|${good.replace('"FV"', '"QQ":1,"FV"')}|${sig}`, /QQ: is not an OCMF 1.3 field/],
      ["an unknown reading field", `OCMF|${good.replace('"ST":"G"', '"ST":"G","QQ":1')}|${sig}`, /RD\[0\] QQ/],
      ["PG missing", `OCMF|${good.replace('"PG":"T10",', "")}|${sig}`, /PG: is missing/],
      ["PG with a leading zero", `OCMF|${good.replace("T10", "T010")}|${sig}`, /PG: "T010"/],
      ["PG of another context", `OCMF|${good.replace("T10", "X10")}|${sig}`, /PG: "X10"/],
      ["the fiscal context with TX", `OCMF|${good.replace("T10", "F10")}|${sig}`, /PG: "F10" is the fiscal context/],
      [
        "no serial at all",
        `OCMF|${good.replace('"GS":"GW1",', "").replace('"MS":"MS1",', "")}|${sig}`,
        /MS: is missing, and so is GS/,
      ],
      ["IF not an array", `OCMF|${good.replace('["RFID_PLAIN"]', '"RFID_PLAIN"')}|${sig}`, /IF: must be an array/],
      [
        "IF of five",
        `OCMF|${good.replace('["RFID_PLAIN"]', JSON.stringify(Array(5).fill("RFID_PLAIN")))}|${sig}`,
        /at most 4/,
      ],
      ["IF unknown", `OCMF|${good.replace("RFID_PLAIN", "RFID_MAGIC")}|${sig}`, /"RFID_MAGIC" is in none/],
      ["IT unknown", `OCMF|${good.replace("ISO14443", "ISO9999")}|${sig}`, /IT: "ISO9999" is not one of/],
      ["IS missing with TX", `OCMF|${good.replace('"IS":true,', "")}|${sig}`, /IS: is missing, but the readings/],
      ["IS a string", `OCMF|${good.replace('"IS":true', '"IS":"true"')}|${sig}`, /IS: must be true or false/],
      ["RD empty", `OCMF|${good.replace(/"RD":\[.*\]/, '"RD":[]')}|${sig}`, /RD: must be an array of one or more/],
      ["TX unknown", `OCMF|${good.replace('"TX":"B"', '"TX":"Q"')}|${sig}`, /TX: "Q" is not one of/],
      ["ST missing", `OCMF|${good.replace(',"ST":"G"', "")}|${sig}`, /ST: is missing/],
      ["EF unknown", `OCMF|${good.replace('"ST":"G"', '"ST":"G","EF":"Ex"')}|${sig}`, /EF: "Ex"/],
      ["SA unknown", `OCMF|${good}|{"SA":"ECDSA-secp521r1-SHA512","SD":"00"}`, /SA: "ECDSA-secp521r1-SHA512" is none/],
      ["SE unknown", `OCMF|${good}|{"SE":"base32","SD":"00"}`, /SE: "base32"/],
      ["SM unknown", `OCMF|${good}|{"SM":"application/json","SD":"00"}`, /SM: "application\/json"/],
      ["SD missing", `OCMF|${good}|{"SA":"ECDSA-secp256r1-SHA256"}`, /SD: is missing/],
      ["a payload array", `OCMF|[1]|${sig}`, /payload section: must be a JSON object/],
    ];
    for (const [what, text, pattern] of cases) {
      it(what, () => {
        expect(() => parseOcmf(text)).to.throw(OcmfEncodingError, pattern);
      });
    }
  });
});

describe("sdk: OCMF records: verdicts", () => {
  for (const algorithm of OCMF_ALGORITHMS) {
    it(`${algorithm}: valid when signed, SD hex or base64; bad-signature when one payload byte changes`, () => {
      const meter = testMeter(algorithm);
      const keys = { MS1: meter.publicKeyHex };
      const hex = signRecord(meter, payload(10, [reading(), reading({ TX: "E", RV: 3 })]));
      const b64 = signRecord(meter, payload(11, [reading(), reading({ TX: "E", RV: 3 })]), { encoding: "base64" });
      const tampered = hex.replace('"RV":3', '"RV":4');
      const report = verifyOcmf(lines([hex, b64, tampered]), keys);
      expect(statuses(report)).to.deep.equal(["valid", "valid", "invalid"]);
      expect(report.records[2]!.verdict.problems[0]!.message).to.include(`${algorithm}) does not verify`);
      expect(report.transactions.map((t) => [t.complete, t.energyWh])).to.deep.equal([
        [true, 1500n],
        [true, 1500n],
        [true, 2500n],
      ]);
    });
  }

  it("the signed bytes are the payload as written: pretty-printing after signing breaks the signature", () => {
    const text = JSON.stringify(payload(10, [reading(), reading({ TX: "E", RV: 3 })]), null, 2);
    const record = signRecord(METER, text);
    expect(verifyOcmf(record, KEYS).records[0]!.verdict.status).to.equal("valid");
    const compacted = record.replace(text, JSON.stringify(JSON.parse(text)));
    expect(codes(verifyOcmf(compacted, KEYS), 0)).to.deep.equal(["bad-signature"]);
  });

  it("the default algorithm (SA omitted) is secp256r1; a key on another curve than SA is bad-encoding", () => {
    const record = signRecord(METER, payload(10, [reading(), reading({ TX: "E" })]), { writeSa: false });
    expect(verifyOcmf(record, KEYS).valid).to.equal(1);
    const k1 = testMeter("ECDSA-secp256k1-SHA256");
    const spkiOfP256 = "3059301306072a8648ce3d020106082a8648ce3d030107034200" + METER.publicKeyHex; // id-ecPublicKey, prime256v1
    const onK1 = signRecord(k1, payload(10, [reading(), reading({ TX: "E" })]));
    const report = verifyOcmf(onK1, { MS1: spkiOfP256 });
    expect(codes(report, 0)).to.deep.equal(["bad-encoding"]);
    expect(report.records[0]!.verdict.problems[0]!.message).to.match(/public key is on secp256r1 but SA names/);
  });

  it("a signature that is not strict DER is bad-encoding, unless the lenient option is on", () => {
    const text = JSON.stringify(payload(10, [reading(), reading({ TX: "E", RV: 3 })]));
    const der = signEcdsa(METER.algorithm, new TextEncoder().encode(text), METER.secretKey);
    const rLen = der[3]!;
    const padded = [0x02, rLen + 1, 0, ...der.subarray(4, 4 + rLen), ...der.subarray(4 + rLen)];
    const record = `OCMF|${text}|{"SD":"${bytesToHex(Uint8Array.of(0x30, padded.length, ...padded))}"}`;
    expect(codes(verifyOcmf(record, KEYS), 0)).to.deep.equal(["bad-encoding"]);
    expect(verifyOcmf(record, KEYS, { lenientSignature: true }).valid).to.equal(1);
    expect(codes(verifyOcmf(record.replace(/"SD":"[0-9a-f]+"/, '"SD":"zz"'), KEYS), 0)).to.deep.equal(["bad-encoding"]);
  });

  it("cannot verify without a registry key, even with a key sent along; never valid by the embedded key", () => {
    const record = signRecord(METER, payload(10, [reading(), reading({ TX: "E" })]));
    const ocpp = JSON.stringify({
      signedMeterData: Buffer.from(record).toString("base64"),
      signingMethod: "ECDSA-secp256r1-SHA256",
      encodingMethod: "OCMF",
      publicKey: Buffer.from(METER.publicKeyHex, "hex").toString("base64"),
    });
    const none = verifyOcmf(ocpp, {});
    expect(none.records[0]!.verdict).to.deep.include({ status: "cannot-verify" });
    expect((none.records[0]!.verdict as { reason: string }).reason).to.match(/GW1\/MS1, MS1, GW1.*not trusted/);
    expect(none.cannotVerify).to.equal(1);
    const withKey = verifyOcmf(ocpp, KEYS);
    expect([withKey.records[0]!.verdict.status, withKey.records[0]!.embeddedKeyMatches]).to.deep.equal(["valid", true]);
    const other = testMeter();
    const wrong = verifyOcmf(ocpp, { MS1: other.publicKeyHex });
    expect([codes(wrong, 0), wrong.records[0]!.embeddedKeyMatches]).to.deep.equal([["bad-signature"], false]);
  });

  it("looks a key up as GS/MS, then MS, then GS, then CI", () => {
    const records = lines(transaction(METER));
    const other = testMeter().publicKeyHex;
    expect(verifyOcmf(records, { "GW1/MS1": METER.publicKeyHex, MS1: other }).records[0]!.keyId).to.equal("GW1/MS1");
    expect(verifyOcmf(records, { GW1: METER.publicKeyHex }).valid).to.equal(3);
    const ci = signRecord(METER, payload(1, [reading(), reading({ TX: "E" })], { CT: "EVSEID", CI: "DE*ZKC*E1" }));
    expect(verifyOcmf(ci, { "DE*ZKC*E1": METER.publicKeyHex }).records[0]!.keyId).to.equal("DE*ZKC*E1");
  });

  it("a registry key that does not decode is refused up front, naming its identifier", () => {
    expect(() => verifyOcmf(lines(transaction(METER)), { MS1: "not a key" })).to.throw(InvalidInputError, /"MS1"/);
  });

  it("a transaction of three records with continuous pagination is valid, with its tariff change and energy", () => {
    const report = verifyOcmf(lines(transaction(METER)), KEYS);
    expect(statuses(report)).to.deep.equal(["valid", "valid", "valid"]);
    const [t] = report.transactions;
    expect(t).to.deep.include({
      signer: "GW1/MS1",
      complete: true,
      paginationContinuous: true,
      energyWh: 18_500n,
      valid: true,
    });
    expect(t!.readings.map((r) => r.reading.tx)).to.deep.equal(["B", "T", "E"]);
  });

  it("broken pagination: a record missing, or one added, between begin and end", () => {
    const [b, t, e] = transaction(METER);
    const missing = verifyOcmf(lines([b!, e!]), KEYS);
    expect(codes(missing, 1)).to.deep.equal(["broken-pagination"]);
    expect(missing.records[1]!.verdict.problems[0]!.message).to.equal(
      "PG T12 follows T10 in this transaction: expected T11",
    );
    expect(missing.transactions[0]).to.deep.include({ paginationContinuous: false, valid: false });
    const replayed = verifyOcmf(lines([b!, t!, t!, e!]), KEYS);
    expect(statuses(replayed)).to.deep.equal(["valid", "valid", "invalid", "valid"]);
    expect(replayed.records[2]!.verdict.problems[0]!.message).to.match(/PG T11 follows T11/);
    expect(replayed.transactions[0]!.paginationContinuous).to.equal(false);
  });

  it("error flags: EF E or t, ST other than G, TX X", () => {
    const record = (pg: number, r: object) => signRecord(METER, payload(pg, [reading(), reading({ TX: "E", ...r })]));
    const report = verifyOcmf(
      lines([record(1, { EF: "E" }), record(2, { EF: "Et" }), record(3, { ST: "M" }), record(4, { TX: "X" })]),
      KEYS,
    );
    expect([0, 1, 2].map((i) => codes(report, i))).to.deep.equal([["error-flag"], ["error-flag"], ["error-flag"]]);
    expect(report.records[1]!.verdict.problems[0]!.message).to.match(/EF "Et": energy and time no longer usable/);
    expect(report.records[2]!.verdict.problems[0]!.message).to.match(/ST M \(MANIPULATED\)/);
    // TX X is an error, and the transaction it is in then has no end.
    expect(codes(report, 3)).to.deep.equal(["error-flag", "unpaired-transaction"]);
  });

  it("an unsynchronised or informative time at begin, tariff change or end is invalid; during charging, or R, is not", () => {
    const at = (pg: number, sync: string, tx: string) =>
      signRecord(METER, payload(pg, [reading(), reading({ TX: tx, TM: `2026-12-01T11:00:00,000+0100 ${sync}` })]));
    const withEnd = (pg: number, sync: string, tx: string) =>
      signRecord(
        METER,
        payload(pg, [
          reading(),
          reading({ TX: tx, TM: `2026-12-01T11:00:00,000+0100 ${sync}` }),
          reading({ TX: "E", TM: "2026-12-01T12:00:00,000+0100 S" }),
        ]),
      );
    const report = verifyOcmf(
      lines([at(1, "U", "E"), at(2, "I", "E"), withEnd(3, "U", "T"), withEnd(4, "U", "C"), at(5, "R", "E")]),
      KEYS,
    );
    expect(report.records.map((_, i) => codes(report, i))).to.deep.equal([
      ["unsynchronised-time"],
      ["unsynchronised-time"],
      ["unsynchronised-time"],
      [],
      [],
    ]);
    expect(report.records[0]!.verdict.problems[0]!.message).to.match(/TX E.*unknown, unsynchronised/);
  });

  it("unpaired begin and end: a begin without an end, an end without a begin, a second begin", () => {
    const [b, t, e] = transaction(METER);
    const noEnd = verifyOcmf(lines([b!, t!]), KEYS);
    expect([codes(noEnd, 0), codes(noEnd, 1)]).to.deep.equal([["unpaired-transaction"], []]);
    expect(noEnd.transactions[0]).to.deep.include({ complete: false, energyWh: undefined });
    const noBegin = verifyOcmf(lines([t!, e!]), KEYS);
    expect([codes(noBegin, 0), codes(noBegin, 1)]).to.deep.equal([["unpaired-transaction"], ["unpaired-transaction"]]);
    expect(noBegin.records[0]!.verdict.problems[0]!.message).to.equal("reading 1: TX T without a begin (B)");
    const second = transaction(METER, 11);
    const twice = verifyOcmf(lines([b!, ...second]), KEYS);
    expect(statuses(twice)).to.deep.equal(["invalid", "invalid", "valid", "valid"]);
    expect(codes(twice, 1)).to.deep.equal(["unpaired-transaction"]);
  });

  it("a register running backwards or a time going back within a transaction is not-monotonic", () => {
    const back = signRecord(METER, payload(1, [reading({ RV: 5 }), reading({ TX: "E", RV: 4.999 })]));
    const early = signRecord(
      METER,
      payload(2, [reading(), reading({ TX: "E", TM: "2026-12-01T09:59:59,999+0100 S" })]),
    );
    const report = verifyOcmf(lines([back, early]), KEYS);
    expect([codes(report, 0), codes(report, 1)]).to.deep.equal([["not-monotonic"], ["not-monotonic"]]);
  });

  it("start and end in one record (MR), and two meters' transactions interleaved, pair per signer", () => {
    const other = testMeter();
    const mr = signRecord(other, payload(7, [reading(), reading({ TX: "E", RV: 2 })], { MS: "MS2" }));
    const [b, t, e] = transaction(METER);
    const report = verifyOcmf(lines([b!, mr, t!, e!]), { ...KEYS, MS2: other.publicKeyHex });
    expect(report.valid).to.equal(4);
    expect(report.transactions.map((x) => [x.signer, x.records, x.energyWh])).to.deep.equal([
      ["GW1/MS1", [0, 2, 3], 18_500n],
      ["GW1/MS2", [1], 500n],
    ]);
  });

  it("an end and a new begin in one record split its readings between the two transactions", () => {
    const endThenBegin = [
      reading({ TM: "2026-12-01T11:00:00,000+0100 S", TX: "E", RV: 3 }),
      reading({ TM: "2026-12-01T11:05:00,000+0100 S", TX: "B", RV: 3.25 }),
    ];
    const records = [
      signRecord(METER, payload(1, [reading()])),
      signRecord(METER, payload(2, endThenBegin)),
      signRecord(METER, payload(3, [reading({ TM: "2026-12-01T12:00:00,000+0100 S", TX: "E", RV: 4 })])),
    ];
    const report = verifyOcmf(lines(records), KEYS);
    expect(report.valid).to.equal(3);
    expect(report.transactions.map((t) => [t.records, t.readings.map((r) => r.reading.tx), t.energyWh])).to.deep.equal([
      [[0, 1], ["B", "E"], 1500n],
      [[1, 2], ["B", "E"], 750n],
    ]);
  });

  it("one unreadable record is invalid (bad-encoding) and the others are still verified", () => {
    const [b, t, e] = transaction(METER);
    const report = verifyOcmf(lines([b!, t!, "OCMF|{}|{}", e!]), KEYS);
    expect(statuses(report)).to.deep.equal(["valid", "valid", "invalid", "valid"]);
    expect(report.records[2]!.record).to.equal(undefined);
    expect(report.records[2]!.verdict.problems[0]!.message).to.match(/PG: is missing/);
  });
});

describe("sdk: OCMF input formats", () => {
  const records = transaction(METER);

  it("records one per line, pretty-printed over several lines, as a JSON array, as OCPP signedMeterValue", () => {
    const pretty = signRecord(METER, JSON.stringify(payload(13, [reading(), reading({ TX: "E" })]), null, 4));
    const asLines = readOcmfInput(`\uFEFF\n${records.join("\r\n")}\n${pretty}\n`);
    expect(asLines.format).to.equal("records");
    expect(asLines.records.map((r) => r.source)).to.deep.equal(["line 2", "line 3", "line 4", "line 5"]);
    expect(verifyOcmf(asLines.records, KEYS).records.map((r) => r.verdict.status)).to.deep.equal(
      Array(4).fill("valid"),
    );
    const array = readOcmfInput(JSON.stringify(records));
    expect([array.format, array.records[2]!.source, array.records[2]!.text]).to.deep.equal([
      "json-array",
      "[2]",
      records[2],
    ]);
    const smv = (r: string) => ({ signedMeterData: Buffer.from(r).toString("base64"), encodingMethod: "OCMF" });
    const one = readOcmfInput(JSON.stringify(smv(records[0]!)));
    expect([one.format, one.records[0]!.text]).to.deep.equal(["ocpp-signed-meter-value", records[0]]);
    const many = readOcmfInput(JSON.stringify([smv(records[0]!), { signedMeterValue: smv(records[1]!) }]));
    expect(many.records.map((r) => [r.source, r.text])).to.deep.equal([
      ["signedMeterValue[0]", records[0]],
      ["signedMeterValue[1]", records[1]],
    ]);
  });

  it("an OCPP envelope that is not OCMF base64, or names another method than SA, makes that record bad-encoding", () => {
    const b64 = Buffer.from(records[0]!).toString("base64");
    const report = verifyOcmf(
      JSON.stringify([
        { signedMeterData: b64, encodingMethod: "EDL" },
        { signedMeterData: records[0], encodingMethod: "OCMF" },
        { signedMeterData: b64, encodingMethod: "OCMF", signingMethod: "ECDSA-brainpool256r1-SHA256" },
      ]),
      KEYS,
    );
    // Another spelling of the method says nothing checkable; an empty one means "in the record".
    const whole = Buffer.from(signRecord(METER, payload(10, [reading(), reading({ TX: "E" })]))).toString("base64");
    const spelt = (signingMethod: string) =>
      verifyOcmf(JSON.stringify({ signedMeterData: whole, encodingMethod: "OCMF", signingMethod }), KEYS).valid;
    expect([spelt("ECDSAP256SHA256"), spelt(""), spelt("ECDSA-secp256r1-SHA256")]).to.deep.equal([1, 1, 1]);
    expect(spelt("ECDSA-secp384r1-SHA256")).to.equal(0);
    const unkeyed = verifyOcmf(
      JSON.stringify({ signedMeterData: whole, encodingMethod: "OCMF", signingMethod: "ECDSA-secp384r1-SHA256" }),
      {},
    );
    expect([unkeyed.invalid, codes(unkeyed, 0)]).to.deep.equal([1, ["bad-encoding"]]);
    expect(report.records.map((_, i) => codes(report, i)[0])).to.deep.equal(Array(3).fill("bad-encoding"));
    const messages = report.records.map((r) => r.verdict.problems[0]!.message);
    expect(messages[0]).to.equal('encodingMethod is "EDL", not "OCMF"');
    expect(messages[1]).to.match(/not base64 \(it is a bare OCMF record/);
    expect(messages[2]).to.match(/signingMethod ECDSA-brainpool256r1-SHA256 is not the record's SA/);
  });

  const refused: [string, string, RegExp][] = [
    ["empty input", " \n", /OCMF input is empty/],
    ["plain text", "hello\nworld", /starts with "hello": expected OCMF records/],
    ["broken JSON", '["OCMF|', /looks like JSON but is not/],
    ["an empty array", "[]", /empty JSON array/],
    ["an array of numbers", "[1, 2]", /signedMeterValue\[0\]: expected an OCMF record string/],
    ["an object without signedMeterData", '{"meterValue": 1}', /no signedMeterData string/],
    ["a mixed array", JSON.stringify([records[0], 1]), /mixes record strings with other values/],
  ];
  for (const [what, text, pattern] of refused) {
    it(`refuses ${what} with a clear error`, () => {
      expect(() => readOcmfInput(text)).to.throw(InvalidInputError, pattern);
    });
  }
});
