/**
 * The wallet's live-session loop (sdk/actors/liveFollow.ts) on recorded streams, without processes (unit tier): the
 * records are a real meter's (EdDSA-Poseidon signatures), the stream is what the station's live API sends. An
 * honest session is accepted to its end; a limit stops it; each way a charger can cheat (power above the rating,
 * a bad signature, a time going back, a missing chain point at a band boundary, a tariff other than the offered
 * one) makes the wallet ask for a stop once, naming the rule, and the bill stays the one of the readings that held.
 */
import { expect } from "chai";
import {
  LiveSessionVerifier,
  Meter,
  computeBill,
  encodeSignedMeterValue,
  followSession,
  type LiveMessage,
  type LiveRecord,
  type StopCause,
  type Tariff,
} from "../../sdk/index.ts";
import { CPO, RATED, SESSION, T0, honestLiveSession, liveTariff as tariff } from "../fixtures/liveSession.ts";

/** The honest session's records. */
const honest = (meter: Meter, under: Tariff = tariff): LiveRecord[] => honestLiveSession(meter, under).records;

/** The live API's messages for `records` signed by `meter`, seqNo from 0, then the stream ends. */
async function* stream(records: LiveRecord[], meter: Meter): AsyncGenerator<LiveMessage> {
  for (const [seqNo, record] of records.entries())
    yield {
      type: "reading",
      reading: { seqNo, signedMeterValue: encodeSignedMeterValue(record, meter.publicKey), receivedAt: 0 },
      bill: 0n,
    };
}

describe("wallet: following a live session (recorded streams)", function () {
  this.timeout(60_000);
  const meter = new Meter({ cpoId: CPO, ratedPowerW: RATED });
  const terms = { sessionId: SESSION, cpoId: CPO, ratedPowerW: RATED, meterPublicKey: meter.publicKey, tariff };

  async function run(records: LiveRecord[], extra: { stopAfterWh?: bigint } = {}) {
    const verifier = new LiveSessionVerifier(terms);
    const accepted: number[] = [];
    const stops: [StopCause, string][] = [];
    const outcome = await followSession({
      verifier,
      stream: stream(records, meter),
      lastSeqNo: -1,
      ...extra,
      onAccepted: (r) => void accepted.push(r.seqNo),
      requestStop: async (cause, reason) => void stops.push([cause, reason]),
    });
    return { verifier, accepted, stops, outcome };
  }

  it("accepts an honest session to its end and asks for no stop", async function () {
    const records = honest(meter);
    const { verifier, accepted, stops, outcome } = await run(records);
    expect(outcome.ended).to.equal(true);
    expect(outcome.violation).to.equal(undefined);
    expect(stops).to.deep.equal([]);
    expect(accepted).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(verifier.session()!.points.map((p) => p.e)).to.deep.equal([500n, 600n, 660n]);
  });

  it("stops once when the energy limit is reached, and still takes the session end", async function () {
    const { stops, outcome } = await run(honest(meter), { stopAfterWh: 50n });
    expect(stops).to.have.length(1);
    expect(stops[0]![0]).to.equal("limit");
    expect(stops[0]![1]).to.match(/60 Wh delivered/);
    expect(outcome.ended).to.equal(true);
  });

  it("skips readings it verified already (a resumed stream), verifying the rest", async function () {
    const records = honest(meter);
    const verifier = new LiveSessionVerifier(terms);
    const accepted: number[] = [];
    // The first three were verified before the crash; the station replays from seqNo 0.
    for (const r of records.slice(0, 3)) verifier.accept(r, meter.publicKey);
    const outcome = await followSession({
      verifier,
      stream: stream(records, meter),
      lastSeqNo: 2,
      onAccepted: (r) => void accepted.push(r.seqNo),
      requestStop: async () => {},
    });
    expect(accepted).to.deep.equal([3, 4, 5]);
    expect(outcome.ended).to.equal(true);
  });

  const tail = (records: LiveRecord[]) => records[2]!;
  const cheats: [string, (records: LiveRecord[]) => LiveRecord, RegExp][] = [
    ["a reading above the rated power", (r) => ({ ...tail(r), e: tail(r).e + 10_000n }), /exceeds the rating 22000 W/],
    [
      "a bad signature",
      (r) => ({ ...tail(r), signature: { ...tail(r).signature, S: tail(r).signature.S + 1n } }),
      /bad meter signature/,
    ],
    ["a time going back", (r) => ({ ...tail(r), t: T0 + 15n }), /time goes back/],
    [
      "a missing chain point at a band boundary",
      (r) => ({ ...tail(r), t: T0 + 65n, e: 590n }),
      /chain point at the tariff boundary .* is missing/,
    ],
    [
      "a tariff other than the offered one",
      () => honest(meter, { ...tariff, energyPrice: [900n, 900n, 900n, 900n] })[2]!,
      /bad meter signature or chain/,
    ],
  ];
  for (const [what, forge, rule] of cheats) {
    it(`stops on ${what}, names the rule and never counts that reading`, async function () {
      const records = honest(meter);
      // The cheating reading replaces the honest one at seqNo 2; the honest readings go on after it.
      const cheated = [...records.slice(0, 2), forge(records), ...records.slice(2)];
      const { verifier, accepted, stops, outcome } = await run(cheated);
      expect(outcome.violation?.seqNo).to.equal(2);
      expect(outcome.violation?.rule).to.match(rule);
      expect(stops).to.have.length(1);
      expect(stops[0]![0]).to.equal("violation");
      expect(stops[0]![1]).to.match(rule);
      expect(accepted).to.not.include(2);
      // What is paid is the bill of the readings that held: the honest session's, never the forged reading's.
      expect(outcome.ended).to.equal(true);
      const honestBill = computeBill(verifier.session()!.points, tariff, RATED).amount;
      expect(verifier.runningBill()!.amount).to.equal(honestBill);
      const forged = forge(records);
      const before = verifier.session()!.points.filter((p) => p.t < forged.t);
      // Had it been counted, the bill would not even be provable: the circuit's rating check refuses it too.
      if (forged.e > 600n)
        expect(() => computeBill([...before, { t: forged.t, e: forged.e }], tariff, RATED)).to.throw(
          /above the meter's rating/,
        );
    });
  }

  it("reports a refused start and a close by the station", async function () {
    const verifier = new LiveSessionVerifier(terms);
    async function* refused(): AsyncGenerator<LiveMessage> {
      yield { type: "state", state: "rejected", reason: "charger refused" };
    }
    const a = await followSession({
      verifier,
      stream: refused(),
      lastSeqNo: -1,
      onAccepted: () => {},
      requestStop: async () => {},
    });
    expect(a.rejected).to.equal("charger refused");
    async function* closed(): AsyncGenerator<LiveMessage> {
      yield { type: "closed", txHash: "0xab", amount: 5n, refund: 7n };
    }
    const b = await followSession({
      verifier,
      stream: closed(),
      lastSeqNo: -1,
      onAccepted: () => {},
      requestStop: async () => {},
    });
    expect(b.closed).to.deep.equal({ txHash: "0xab", amount: 5n, refund: 7n });
  });
});
