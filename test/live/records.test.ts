/**
 * Live records on the wire, without processes (unit tier): the signedMeterValue encoding round-trips and refuses
 * what it does not write; the verifier accepts a meter's honest session and refuses each way of cheating, naming
 * the rule; the charger's TransactionEvents pass ocpp-rpc's strict OCPP 2.0.1 schema.
 */
import { expect } from "chai";
import ocpp from "ocpp-rpc";
import {
  ENCODING_METHOD,
  InvalidInputError,
  LiveSessionVerifier,
  Meter,
  SIGNING_METHOD,
  decodeSignedMeterValue,
  encodeSignedMeterValue,
  tariffFromJson,
  tariffToJson,
  computeBill,
  verifyLiveEvidence,
  verifySignedSession,
  type LiveRecord,
  type Tariff,
} from "../../sdk/index.ts";
import { transactionEvent } from "../../charger/events.ts";

import { CPO, RATED, T0, honestLiveSession as honestSession, liveTariff as tariff } from "../fixtures/liveSession.ts";

describe("live records (signedMeterValue) and their checks", function () {
  const meter = new Meter({ cpoId: CPO, ratedPowerW: RATED });
  const other = new Meter({ cpoId: CPO, ratedPowerW: RATED });
  const terms = { sessionId: 42n, cpoId: CPO, ratedPowerW: RATED, meterPublicKey: meter.publicKey, tariff };

  it("encodes a record as base64 JSON under the zkcharge methods and decodes it back exactly", function () {
    for (const record of honestSession(meter).records) {
      const value = encodeSignedMeterValue(record, meter.publicKey);
      expect(value.signingMethod).to.equal(SIGNING_METHOD);
      expect(value.encodingMethod).to.equal(ENCODING_METHOD);
      expect(value.signedMeterData.length).to.be.below(2500);
      const decoded = decodeSignedMeterValue(value);
      expect(decoded.record).to.deep.equal(record);
      expect(decoded.publicKey).to.deep.equal(meter.publicKey);
    }
  });

  it("refuses another method, non-base64, non-JSON, unknown fields and bad numbers, naming the field", function () {
    const value = encodeSignedMeterValue(honestSession(meter).records[0]!, meter.publicKey);
    const json = JSON.parse(atob(value.signedMeterData)) as Record<string, unknown>;
    const withData = (o: unknown) => ({ ...value, signedMeterData: btoa(JSON.stringify(o)) });
    const cases: [object, RegExp][] = [
      [{ ...value, signingMethod: "ECDSA-secp256r1-SHA256" }, /signingMethod/],
      [{ ...value, encodingMethod: "OCMF" }, /encodingMethod/],
      [{ ...value, signedMeterData: "%%%" }, /not base64/],
      [{ ...value, signedMeterData: btoa("{") }, /not JSON/],
      [withData({ ...json, extra: 1 }), /extra: unknown field/],
      [withData({ ...json, t: -5 }), /t must be a decimal string/],
      [withData({ ...json, v: 2 }), /version/],
      [withData({ ...json, kind: "bonus" }), /kind/],
      [{ ...value, signedMeterData: "A".repeat(2504) }, /at most 2500/],
    ];
    for (const [bad, message] of cases)
      expect(() => decodeSignedMeterValue(bad as typeof value)).to.throw(InvalidInputError, message);
  });

  it("round-trips a tariff through JSON; refuses a tariff JSON without parkingPricePerHour or stepSize by name", function () {
    expect(tariffFromJson(JSON.parse(JSON.stringify(tariffToJson(tariff))))).to.deep.equal(tariff);
    const older: Record<string, unknown> = { ...tariffToJson(tariff) };
    delete older.parkingPricePerHour;
    expect(() => tariffFromJson(older)).to.throw(InvalidInputError, /parkingPricePerHour is missing.*predates parking/);
    const short = { ...tariffToJson(tariff), parkingPricePerHour: ["0", "0", "0"] };
    expect(() => tariffFromJson(short)).to.throw(InvalidInputError, /tariff.parkingPricePerHour must be 4 decimal/);
    const beforeSteps: Record<string, unknown> = { ...tariffToJson(tariff) };
    delete beforeSteps.stepSize;
    expect(() => tariffFromJson(beforeSteps)).to.throw(InvalidInputError, /stepSize is missing.*predates step sizes/);
    const badStep = { ...tariffToJson(tariff), stepSize: ["1", "x", "1"] };
    expect(() => tariffFromJson(badStep)).to.throw(InvalidInputError, /tariff.stepSize\[1\]/);
  });

  it("round-trips a tariff's duration limit; refuses a malformed one by field", function () {
    const limited: Tariff = { ...tariff, durationLimit: { seconds: 14_400n, parkingPricePerHour: 6_000_000n } };
    const json = tariffToJson(limited);
    expect(json.durationLimit).to.deep.equal({ seconds: "14400", parkingPricePerHour: "6000000" });
    expect(tariffFromJson(JSON.parse(JSON.stringify(json)))).to.deep.equal(limited);
    expect(tariffToJson(tariff)).to.not.have.property("durationLimit");
    const bad: [unknown, RegExp][] = [
      [["14400"], /durationLimit must be an object/],
      [{ seconds: "14400", blockingFee: "1" }, /durationLimit.blockingFee is not a duration limit field/],
      [{ seconds: "x", energyPrice: "1" }, /durationLimit.seconds/],
      [{ seconds: "60" }, /durationLimit: sets no price/],
      [{ seconds: "0", energyPrice: "1" }, /durationLimit.seconds: must be at least 1/],
    ];
    for (const [durationLimit, message] of bad)
      expect(() => tariffFromJson({ ...json, durationLimit })).to.throw(Error, message);
  });

  it("accepts an honest session's records in order, its chain points and end included", function () {
    const verifier = new LiveSessionVerifier(terms);
    for (const record of honestSession(meter).records) verifier.accept(record, meter.publicKey);
    expect(verifier.ended).to.equal(true);
    expect(verifier.points.map((p) => p.t - T0)).to.deep.equal([10n, 60n, 80n]);
  });

  it("yields after each reading the live evidence and running bill a close would use, and the session end", function () {
    const { session, records } = honestSession(meter);
    const verifier = new LiveSessionVerifier(terms);
    expect(verifier.evidence()).to.equal(undefined);
    expect(verifier.runningBill()).to.equal(undefined);
    for (const record of records.slice(0, -1)) {
      verifier.accept(record, meter.publicKey);
      const evidence = verifier.evidence()!;
      expect(verifyLiveEvidence(evidence)).to.equal(true);
      expect(evidence.tail).to.deep.equal({ t: record.t, e: record.e });
      expect(verifier.runningBill()!.amount).to.equal(
        computeBill([...evidence.points, evidence.tail], tariff, RATED).amount,
      );
      expect(verifier.session()).to.equal(undefined);
    }
    verifier.accept(records[records.length - 1]!, meter.publicKey);
    expect(verifier.evidence()).to.equal(undefined);
    const end = verifier.session()!;
    expect(verifySignedSession(end)).to.equal(true);
    expect(end.points).to.deep.equal(session.points);
    expect(verifier.runningBill()!.amount).to.equal(computeBill(session.points, tariff, RATED).amount);
    // A tampered tail does not verify as evidence: the check the station's close rests on.
    expect(verifySignedSession({ ...end, final: end.final + 1n })).to.equal(false);
  });

  it("refuses each way of cheating, naming the rule, and stays usable after a refusal", function () {
    const { records } = honestSession(meter);
    const verifier = new LiveSessionVerifier(terms);
    verifier.accept(records[0]!, meter.publicKey);
    const tail = records[1]!;
    type Key = readonly [bigint, bigint];
    const refusals: [LiveRecord, RegExp, Key?][] = [
      [{ ...tail, signature: { ...tail.signature, S: tail.signature.S + 1n } }, /bad meter signature/],
      [{ ...tail, e: tail.e + 1n }, /bad meter signature/],
      [{ ...tail, t: T0 + 5n }, /time goes back/],
      [{ ...tail, e: 10n }, /energy goes back/],
      [{ ...tail, e: 500n + 10_000n }, /exceeds the rating/],
      [{ ...tail, sessionId: 43n }, /session 43/],
      [tail, /another key/, other.publicKey],
      [{ ...tail, t: T0 + 65n }, /chain point at the tariff boundary .* is missing/],
      [{ ...tail, kind: "point", k: 2 }, /must be at the tariff boundary/],
    ];
    for (const [record, message, key] of refusals)
      expect(() => verifier.accept(record, key ?? meter.publicKey)).to.throw(message);
    // Nothing of the refused records was kept: the honest session still goes through.
    for (const record of records.slice(1)) verifier.accept(record, meter.publicKey);
    expect(verifier.ended).to.equal(true);
    expect(() => verifier.accept(records[1]!, meter.publicKey)).to.throw(/already ended/);
  });

  it("checks signatures on a worker thread with the same verdicts, one record at a time", async function () {
    this.timeout(60_000);
    const { records } = honestSession(meter);
    const verifier = new LiveSessionVerifier(terms);
    await verifier.acceptOffThread(records[0]!, meter.publicKey);
    const tail = records[1]!;
    const forged = { ...tail, signature: { ...tail.signature, S: tail.signature.S + 1n } };
    let refused: Error | undefined;
    await verifier.acceptOffThread(forged, meter.publicKey).catch((e: Error) => (refused = e));
    expect(refused?.message).to.match(/bad meter signature/);
    // A second record while the first is still being checked is refused, and changes nothing.
    const first = verifier.acceptOffThread(tail, meter.publicKey);
    expect(() => verifier.accept(records[2]!, meter.publicKey)).to.throw(/one at a time/);
    await first;
    for (const record of records.slice(2)) await verifier.acceptOffThread(record, meter.publicKey);
    expect(verifier.ended).to.equal(true);
    const inThread = new LiveSessionVerifier(terms);
    for (const record of records) inThread.accept(record, meter.publicKey);
    expect(verifier.session()).to.deep.equal(inThread.session());
  });

  it("takes back already-checked records without their signatures, every other rule still checked", function () {
    const { records } = honestSession(meter);
    const verifier = new LiveSessionVerifier(terms);
    const tail = records[1]!;
    verifier.acceptChecked(records[0]!, meter.publicKey);
    // A bad signature is not looked at (it was checked when the record was stored) ...
    const unchecked = { ...tail, signature: { ...tail.signature, S: tail.signature.S + 1n } };
    // ... but time, energy, rating, chain and key still are.
    expect(() => verifier.acceptChecked({ ...tail, t: T0 + 5n }, meter.publicKey)).to.throw(/time goes back/);
    expect(() => verifier.acceptChecked(tail, other.publicKey)).to.throw(/another key/);
    verifier.acceptChecked(unchecked, meter.publicKey);
    expect(() => new LiveSessionVerifier(terms).accept(unchecked, meter.publicKey)).to.throw(/start point/);
    for (const record of records.slice(2)) verifier.acceptChecked(record, meter.publicKey);
    const checked = new LiveSessionVerifier(terms);
    for (const record of records) checked.accept(record, meter.publicKey);
    expect(verifier.points).to.deep.equal(checked.points);
    expect(verifier.runningBill()).to.deep.equal(checked.runningBill());
  });

  it("refuses a session whose first record is not its start point, and a record signed by another meter", function () {
    const { records } = honestSession(meter);
    expect(() => new LiveSessionVerifier(terms).accept(records[1]!, meter.publicKey)).to.throw(/start point/);
    const forged = honestSession(other).records[0]!;
    expect(() => new LiveSessionVerifier(terms).accept(forged, meter.publicKey)).to.throw(/bad meter signature/);
  });

  it("builds TransactionEvents that pass ocpp-rpc's strict OCPP 2.0.1 schema", async function () {
    // A real server and client over 127.0.0.1, both strict: the server stores what it is sent.
    const server = new ocpp.RPCServer({ protocols: ["ocpp2.0.1"], strictMode: true });
    const received: Record<string, unknown>[] = [];
    server.on("client", (client) =>
      client.handle("TransactionEvent", async ({ params }: { params?: Record<string, unknown> }) => {
        received.push(params!);
        return {};
      }),
    );
    const http = await server.listen(0, "127.0.0.1");
    const port = (http.address() as { port: number }).port;
    const client = new ocpp.RPCClient({
      endpoint: `ws://127.0.0.1:${port}/ocpp`,
      identity: "CS-UNIT",
      protocols: ["ocpp2.0.1"],
      strictMode: true,
      reconnect: false,
    } as unknown as ConstructorParameters<typeof ocpp.RPCClient>[0]);
    try {
      await client.connect();
      const { records } = honestSession(meter);
      for (const [i, record] of records.entries()) {
        const eventType = i === 0 ? "Started" : i === records.length - 1 ? "Ended" : "Updated";
        const payload = transactionEvent({
          eventType,
          seqNo: i,
          transactionId: "tx-1",
          remoteStartId: 9,
          offline: i === 2,
          record,
          publicKey: meter.publicKey,
        });
        await client.call("TransactionEvent", payload);
      }
      expect(received.map((p) => p.eventType)).to.deep.equal([
        "Started",
        ...records.slice(2).map(() => "Updated"),
        "Ended",
      ]);
      expect(received[2]!.offline).to.equal(true);
    } finally {
      await client.close({ force: true });
      await server.close({ force: true });
    }
  });
});
