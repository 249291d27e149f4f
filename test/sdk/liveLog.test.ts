/**
 * sdk/meter/liveLog.ts: a started session persisted as its reading log and rebuilt on the meter (as the CLI and a
 * station service do between processes) is the same session: the same chain points, the same last live tail
 * (signature included), and it charges on and ends exactly as the original would.
 */
import { expect } from "chai";
import { InvalidReadingsError, MeterError } from "../../sdk/core/errors.ts";
import { Meter } from "../../sdk/meter/meter.ts";
import { verifyLiveEvidence, type LiveTail } from "../../sdk/meter/record.ts";
import { simulateCharging } from "../../sdk/meter/simulator.ts";
import {
  appendReadings,
  billSoFar,
  chainPointsOf,
  restoreLiveSession,
  startLiveSessionLog,
} from "../../sdk/meter/liveLog.ts";
import { computeBill } from "../../sdk/tariff/tariff.ts";
import { DAY0, HOUR, sampleTariff } from "./helpers.ts";

describe("sdk/meter/liveLog", () => {
  const tariff = sampleTariff(); // UTC+1, boundaries at local 00/06/12/18
  const meter = () => new Meter({ cpoId: 7n, ratedPowerW: 22_000n, privateKey: new Uint8Array(32).fill(9) });
  const start = DAY0 + 4n * HOUR; // 05:00 local: the 06:00 boundary comes after an hour

  it("rebuilds a session from its log: same chain points, same last live tail, same end", () => {
    const original = meter().startSession({ sessionId: 42n, tariff, t: start, e: 1_000n });
    let log = startLiveSessionLog(original);
    expect(log).to.deep.equal({ sessionId: 42n, tariff, start: { t: start, e: 1_000n }, readings: [] });
    const readings = simulateCharging(original, { to: start + 90n * 60n, powerW: 11_000n, stepSeconds: 600n }); // 05:00-06:30
    log = appendReadings(log, readings);
    expect(log.readings).to.deep.equal(readings.map((r) => ({ t: r.t, e: r.e })));

    const restored = restoreLiveSession(meter(), log);
    expect(chainPointsOf(log)).to.deep.equal(original.points);
    expect(restored.session.points).to.deep.equal(original.points);
    expect(restored.session.head).to.equal(original.head);
    expect(restored.session.lastReading).to.deep.equal(original.lastReading);
    expect(restored.liveTails).to.equal(readings.filter((r) => r.kind === "live").length);
    const tail = readings.at(-1) as LiveTail;
    expect(tail.kind).to.equal("live");
    expect(restored.lastTail).to.deep.equal(tail); // EdDSA is deterministic: the very tail the meter signed
    expect(verifyLiveEvidence(restored.session.evidence(restored.lastTail!))).to.equal(true);
    expect(billSoFar(restored.session, restored.lastTail)).to.deep.equal(
      computeBill([...original.points, { t: tail.t, e: tail.e }], tariff, 22_000n),
    );

    // It charges on and ends as the original does.
    const more = (s: typeof original) =>
      simulateCharging(s, { to: start + 2n * HOUR, powerW: 7_000n, stepSeconds: 600n });
    expect(more(restored.session)).to.deep.equal(more(original));
    expect(restored.session.end(start + 2n * HOUR, original.lastReading.e)).to.deep.equal(
      original.end(start + 2n * HOUR, original.lastReading.e),
    );
  });

  it("has no last tail when the last reading is a chain point, and none for a log without readings", () => {
    const s = meter().startSession({ sessionId: 43n, tariff, t: start, e: 1_000n });
    const log = startLiveSessionLog(s);
    const empty = restoreLiveSession(meter(), log);
    expect(empty).to.include({ lastTail: undefined, liveTails: 0 });
    expect(empty.session.points).to.deep.equal([{ t: start, e: 1_000n }]);
    const readings = simulateCharging(s, { to: start + HOUR, powerW: 11_000n, stepSeconds: 1200n }); // ends on 06:00
    expect(readings.at(-1)!.kind).to.equal("point");
    const restored = restoreLiveSession(meter(), appendReadings(log, readings));
    expect(restored.lastTail).to.equal(undefined);
    expect(restored.liveTails).to.equal(2);
    expect(billSoFar(restored.session, undefined)).to.deep.equal(computeBill(s.points, tariff, 22_000n));
  });

  it("refuses a log the meter could not have recorded", () => {
    const s = meter().startSession({ sessionId: 44n, tariff, t: start, e: 1_000n });
    const log = appendReadings(
      startLiveSessionLog(s),
      simulateCharging(s, { to: start + 90n * 60n, powerW: 11_000n, stepSeconds: 600n }),
    );
    const boundary = DAY0 + 5n * HOUR;
    const tampered = { ...log, readings: log.readings.map((r) => (r.t === boundary ? { ...r, e: r.e + 50_000n } : r)) };
    expect(() => restoreLiveSession(meter(), tampered)).to.throw(InvalidReadingsError, /more than the meter's rating/);
    const other = new Meter({ cpoId: 8n, ratedPowerW: 22_000n });
    expect(() => restoreLiveSession(other, log)).to.throw(MeterError, /tariff belongs to CPO 7/);
    s.addReading(start + 100n * 60n, s.lastReading.e + 10n);
    expect(() => startLiveSessionLog(s)).to.throw(MeterError, /already has readings/);
  });
});
