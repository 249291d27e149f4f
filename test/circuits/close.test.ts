/**
 * The close circuit (settle an escrow from the meter's session-end record, mode 0, or a live tail, mode 1)
 * against the soundness checklist: honest closes pass with exactly the SDK's public signals and
 * amount = min(bill, cap), and each cheat is rejected by the template that holds the rule it breaks.
 * Honest witnesses come from buildCloseWitness over real meter sessions; a cheat starts from one and swaps
 * in readings the meter key signed without the MeterSession checks (signChain / signLiveTail).
 */
import { expect } from "chai";
import { buildCloseWitness, type EscrowTerms } from "../../sdk/proofs/closeInput.ts";
import { closeSignalArray } from "../../sdk/proofs/publicSignals.ts";
import { sessionBillInputs, type SessionRecord } from "../../sdk/proofs/sessionInput.ts";
import { FIELD_MODULUS, TAGS } from "../../sdk/core/constants.ts";
import { InvalidInputError, InvalidReadingsError } from "../../sdk/core/errors.ts";
import { meterLeaf, poseidon, precommitment, sessionId as makeSessionId } from "../../sdk/core/hash.ts";
import type { LiveEvidence, LiveTail } from "../../sdk/meter/record.ts";
import { Note } from "../../sdk/core/note.ts";
import { computeBill, everyBand, type Point, type Tariff } from "../../sdk/tariff/tariff.ts";
import { MeterTree } from "../../sdk/core/tree.ts";
import {
  CPO_ID,
  RATED_POWER_W,
  SESSION_START,
  payScenario,
  scenarioTariff,
  signChain,
  signLiveTail,
} from "../fixtures/session.ts";
import { expectAccepted, expectRejected } from "./helpers.ts";
import { simulateCharging } from "../../sdk/meter/simulator.ts";

type Input = Record<string, bigint | bigint[]>;

const MAX = (1n << 64n) - 1n;
const REFUND_BLINDING = 123_456_789n;
const BILL = 6_086_233n; // the scenario session's bill (test/circuits/pay.test.ts)
const boundary = SESSION_START + 30n * 60n; // 17:00 local
const SIG = ["ForceEqualIfEnabled", "EdDSAPoseidonVerifier"];

/** The pay scenario's driver, meter and session, with an escrow of `cap` for that session. */
function closeScenario() {
  const s = payScenario();
  const escrowOf = (cap: bigint): EscrowTerms => ({
    refundPrecommitment: precommitment(s.identity.commitment, REFUND_BLINDING),
    cap,
    cpoId: CPO_ID,
    sessionId: s.session.sessionId,
  });
  const close = (record: SessionRecord, cap: bigint) =>
    buildCloseWitness({ escrow: escrowOf(cap), record, meterPath: s.request.meterPath, extDataHash: 4242n });
  /** The driver's refund note of `value` (what the refund commitment must open to). */
  const refundNote = (value: bigint) => new Note(value, REFUND_BLINDING, s.identity.commitment);
  /** The same session, still running at 17:10 local: chain points 16:30 and 17:00 and a live tail at 17:10. */
  const liveEvidence = (): LiveEvidence => {
    const live = s.meter.startSession({
      sessionId: s.session.sessionId,
      tariff: s.tariff,
      t: SESSION_START,
      e: 1_000_000n,
    });
    const readings = simulateCharging(live, { to: SESSION_START + 40n * 60n, powerW: 11_000n, stepSeconds: 300n });
    const tail = readings.at(-1)!;
    expect(tail.kind).to.equal("live");
    return live.evidence(tail as LiveTail);
  };
  /** Readings the meter key signed for this session's chain, without the MeterSession checks. */
  const signed = (points: Point[], opts: { tariff?: Tariff; sessionId?: bigint; n?: number } = {}) =>
    signChain({
      sessionId: opts.sessionId ?? s.session.sessionId,
      cpoId: CPO_ID,
      meterLeaf: s.meter.leaf,
      tariff: opts.tariff ?? s.tariff,
      points,
      n: opts.n,
    });
  const signedTail = (points: Point[], tail: Point, tariff: Tariff = s.tariff) =>
    signLiveTail({
      sessionId: s.session.sessionId,
      cpoId: CPO_ID,
      meterLeaf: s.meter.leaf,
      tariff,
      points,
      tail,
    });

  /**
   * A cheater's raw witness input: the escrow of `cap`, `record`'s readings and signature (no SDK checks),
   * a claimed `amount` and the refund commitment H(TAG_NOTE, P, cap - amount mod r) it implies.
   */
  const raw = (record: SessionRecord, cap: bigint, amount: bigint, mode?: bigint): Input => {
    const meter = sessionBillInputs(record, s.request.meterPath);
    const live = "tail" in record;
    const P = escrowOf(cap).refundPrecommitment;
    return {
      ...escrowOf(cap),
      meterRoot: meter.meterRoot,
      tariffHash: record.tariffHash,
      mode: mode ?? (live ? 1n : 0n),
      amount,
      refundCommitment: refundCommitmentOf(P, cap - amount),
      extDataHash: 4242n,
      ...meter.inputs,
      tTail: live ? record.tail.t : 0n,
      eTail: live ? record.tail.e : 0n,
    };
  };
  return { ...s, escrowOf, close, refundNote, liveEvidence, signed, signedTail, raw };
}

/** H_3(TAG_NOTE, P, v mod r) without the SDK's 64-bit check (to forge negative refunds). */
const refundCommitmentOf = (P: bigint, v: bigint) =>
  poseidon([TAGS.note, P, ((v % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS]);

/** Accepted, with exactly the SDK's public signals at witness[1..10]. */
async function expectHonest(w: ReturnType<typeof buildCloseWitness>): Promise<bigint[]> {
  const witness = await expectAccepted("close", w.input);
  expect(witness.slice(1, 11)).to.deep.equal(closeSignalArray(w.publicSignals));
  return witness;
}

/** Rejected with innermost template one of `inner`, reached through template `via`. */
const expectRejectedVia = (input: Input, inner: string[], via: string) => expectRejected("close", input, inner, via);

describe("close circuit", function () {
  this.timeout(120_000);

  describe("mode 0: the session-end record", () => {
    it("bill < cap: charges the bill and refunds cap - bill to the escrow owner's note", async () => {
      const s = closeScenario();
      const w = s.close(s.session, 10_000_000n);
      expect(w.publicSignals.mode).to.equal(0n);
      expect(w.publicSignals.amount).to.equal(BILL);
      expect(w.publicSignals.refundCommitment).to.equal(s.refundNote(10_000_000n - BILL).commitment);
      await expectHonest(w);
    });

    it("bill > cap: charges the cap, refunds 0", async () => {
      const s = closeScenario();
      const w = s.close(s.session, 5_000_000n);
      expect(w.bill.amount).to.equal(BILL);
      expect(w.publicSignals.amount).to.equal(5_000_000n);
      expect(w.publicSignals.refundCommitment).to.equal(s.refundNote(0n).commitment);
      await expectHonest(w);
    });

    it("bill == cap, and the edge caps 2^64 - 1 (whole bill) and 0 (nothing charged)", async () => {
      const s = closeScenario();
      const exact = s.close(s.session, BILL);
      expect(exact.publicSignals.amount).to.equal(BILL);
      expect(exact.publicSignals.refundCommitment).to.equal(s.refundNote(0n).commitment);
      await expectHonest(exact);
      const top = s.close(s.session, MAX);
      expect(top.publicSignals.amount).to.equal(BILL);
      expect(top.publicSignals.refundCommitment).to.equal(s.refundNote(MAX - BILL).commitment);
      await expectHonest(top);
      // cap 0 is refused by the pool's lock (1 <= cap); the circuit alone settles it as min(bill, 0) = 0.
      const zero = s.close(s.session, 0n);
      expect(zero.publicSignals.amount).to.equal(0n);
      await expectHonest(zero);
    });

    it("rejects a cap of 2^64", async () => {
      const s = closeScenario();
      const input = s.raw(s.session, 1n << 64n, BILL);
      await expectRejectedVia(input, ["Num2Bits"], "Close");
    });

    it("rejects a non-zero tail reading (the tail must be zero in mode 0)", async () => {
      const s = closeScenario();
      const { input } = s.close(s.session, 10_000_000n);
      const last = s.session.points.at(-1)!;
      await expectRejected("close", { ...input, tTail: last.t + 60n }, ["TailCharge"]);
      await expectRejected("close", { ...input, eTail: last.e }, ["TailCharge"]);
    });

    it("rejects a prefix of the chain passed off as final", async () => {
      const s = closeScenario();
      const n = s.session.n - 1;
      const prefix = { ...s.session, points: s.session.points.slice(0, n), n }; // keeps the full session's signature
      const bill = computeBill(prefix.points, s.tariff, RATED_POWER_W).amount;
      expect(bill).to.be.lessThan(BILL);
      await expectRejected("close", s.raw(prefix, 10_000_000n, bill), SIG);
    });
  });

  describe("mode 1: a live tail", () => {
    it("bills the tail interval on top of the chain points, as computeBill over points + tail", async () => {
      const s = closeScenario();
      const ev = s.liveEvidence();
      expect(ev.n).to.equal(2); // 16:30 start, 17:00 boundary
      const w = s.close(ev, 10_000_000n);
      const withTail = computeBill([...ev.points, ev.tail], s.tariff, RATED_POWER_W).amount;
      const withoutTail = computeBill(ev.points, s.tariff, RATED_POWER_W).amount;
      expect(withTail).to.be.greaterThan(withoutTail);
      expect(w.publicSignals.mode).to.equal(1n);
      expect(w.publicSignals.amount).to.equal(withTail);
      expect(w.publicSignals.refundCommitment).to.equal(s.refundNote(10_000_000n - withTail).commitment);
      const witness = await expectHonest(w);
      expect(witness[8]).to.equal(withTail);
    });

    it("charges the cap when the live bill is above it, and accepts a tail exactly on a band boundary", async () => {
      const s = closeScenario();
      const capped = s.close(s.liveEvidence(), 1_000_000n);
      expect(capped.publicSignals.amount).to.equal(1_000_000n);
      await expectHonest(capped);
      const onBoundary = s.close(s.signedTail([{ t: SESSION_START, e: 0n }], { t: boundary, e: 1_000n }), 10_000_000n);
      expect(onBoundary.bill.perInterval.map((i) => i.band)).to.deep.equal([1]);
      await expectHonest(onBoundary);
    });

    it("bills a parked tail (no energy since the last chain point) at the parking price, not the time price", async () => {
      const s = closeScenario();
      const tariff = scenarioTariff({ parkingPricePerHour: everyBand(3_000_000n) });
      const points = [
        { t: SESSION_START, e: 0n },
        { t: boundary, e: 2_000n },
      ];
      const tail = { t: boundary + 1_200n, e: 2_000n };
      const record = s.signedTail(points, tail, tariff);
      const w = s.close(record, 10_000_000n);
      expect(w.bill.perInterval.map((i) => [i.parked, i.timeNumerator])).to.deep.equal([
        [false, 1_800n * 120_000n * 1000n],
        [true, 1_200n * 3_000_000n * 1000n],
      ]);
      await expectHonest(w);
      const asCharging = computeBill(
        [...points, tail],
        { ...tariff, parkingPricePerHour: tariff.timePricePerHour },
        RATED_POWER_W,
      );
      expect(asCharging.amount).to.be.below(w.publicSignals.amount);
      await expectRejected("close", s.raw(record, 10_000_000n, asCharging.amount), ["Close"]);
    });

    it("rounds the step sizes up with the tail, at the tail's band price; without the round-up, or at the chain's price, rejected", async () => {
      const s = closeScenario();
      // 16:30-17:00 charging 2,001 Wh in band 1 (0.39 EUR/kWh), then a tail 17:00-17:10 adding 500 Wh in band 2 (0.45).
      const tariff = scenarioTariff({ stepSize: [1_000n, 900n, 300n] });
      const points = [
        { t: SESSION_START, e: 0n },
        { t: boundary, e: 2_001n },
      ];
      const tail = { t: boundary + 600n, e: 2_501n };
      const record = s.signedTail(points, tail, tariff);
      const w = s.close(record, 10_000_000n);
      // 2,501 Wh -> 3,000 at 0.45 (the tail's band); 40 min charging -> 45 at 0.12/h; nothing parked.
      expect(w.bill.stepExtra).to.deep.equal([499n, 300n, 0n]);
      expect(w.bill.stepNumerator).to.equal(499n * 450_000n * 3600n + 300n * 120_000n * 1000n);
      await expectHonest(w);
      const exact = computeBill([...points, tail], { ...tariff, stepSize: [1n, 1n, 1n] }, RATED_POWER_W).amount;
      const atChainPrice = (w.bill.numerator - 499n * 450_000n * 3600n + 499n * 390_000n * 3600n) / 3_600_000n;
      for (const wrong of [exact, atChainPrice]) {
        expect(wrong).to.be.below(w.publicSignals.amount);
        await expectRejected("close", s.raw(record, 10_000_000n, wrong), ["Close"]);
      }
    });

    it("a tail after the chain point at the duration limit takes the limit's price; the band's is rejected", async () => {
      const s = closeScenario();
      // A blocking fee: parked from 16:50 (the limit, 1,200 s after plug-in) at 3.00/h instead of the band's 0.12/h.
      const tariff = scenarioTariff({ durationLimit: { seconds: 1_200n, parkingPricePerHour: 3_000_000n } });
      const points = [
        { t: SESSION_START, e: 0n },
        { t: SESSION_START + 1_200n, e: 2_000n },
      ];
      const tail = { t: SESSION_START + 1_500n, e: 2_000n };
      const record = s.signedTail(points, tail, tariff);
      const w = s.close(record, 10_000_000n);
      expect(w.bill.perInterval.map((i) => [i.afterLimit, i.timeNumerator])).to.deep.equal([
        [false, 1_200n * 120_000n * 1000n],
        [true, 300n * 3_000_000n * 1000n],
      ]);
      await expectHonest(w);
      const atBand = computeBill([...points, tail], scenarioTariff(), RATED_POWER_W).amount;
      expect(atBand).to.be.below(w.publicSignals.amount);
      await expectRejected("close", s.raw(record, 10_000_000n, atBand), ["Close"]);
      // Without the hint the tail would have to end by the limit.
      await expectRejected(
        "close",
        { ...s.raw(record, 10_000_000n, atBand), durationLimitPoint: new Array(15).fill(0n) },
        ["SessionBill"],
      );
    });

    it("rejects a tail that runs past the duration limit with no chain point at it, even by one second", async () => {
      const s = closeScenario();
      const tariff = scenarioTariff({ durationLimit: { seconds: 1_200n, parkingPricePerHour: 3_000_000n } });
      const ev = s.signedTail([{ t: SESSION_START, e: 0n }], { t: SESSION_START + 1_201n, e: 1_000n }, tariff);
      expect(() => s.close(ev, 10_000_000n)).to.throw(InvalidReadingsError, /straddles the duration limit/);
      const atBand = computeBill([{ t: SESSION_START, e: 0n }, ev.tail], scenarioTariff(), RATED_POWER_W).amount;
      await expectRejected("close", s.raw(ev, 10_000_000n, atBand), ["SessionBill"]);
    });

    it("rejects a tail that straddles a band boundary, even by one second", async () => {
      const s = closeScenario();
      const ev = s.signedTail([{ t: SESSION_START, e: 0n }], { t: boundary + 1n, e: 1_000n });
      expect(() => s.close(ev, 10_000_000n)).to.throw(InvalidReadingsError, /straddles/);
      const sloppy = computeBill(
        [
          { t: SESSION_START, e: 0n },
          { t: boundary, e: 1_000n },
        ],
        s.tariff,
        RATED_POWER_W,
      ).amount;
      await expectRejectedVia(s.raw(ev, 10_000_000n, sloppy), ["IntervalPrice"], "TailCharge");
    });

    it("rejects a tail above the meter's rating by 1 Wh, and accepts exactly the rating", async () => {
      const s = closeScenario();
      const atRating = (RATED_POWER_W * 600n) / 3600n;
      const start = [{ t: SESSION_START, e: 0n }];
      await expectHonest(s.close(s.signedTail(start, { t: SESSION_START + 600n, e: atRating }), 10_000_000n));
      const over = s.signedTail(start, { t: SESSION_START + 600n, e: atRating + 1n });
      expect(() => s.close(over, 10_000_000n)).to.throw(InvalidReadingsError, /rating/);
      const bill = computeBill([...start, { t: SESSION_START + 600n, e: atRating }], s.tariff, RATED_POWER_W).amount;
      await expectRejected("close", s.raw(over, 10_000_000n, bill), ["TailCharge"]);
    });

    it("rejects a tail going backwards in time or in energy (the difference would wrap the field)", async () => {
      const s = closeScenario();
      const points = [
        { t: SESSION_START, e: 1_000n },
        { t: SESSION_START + 60n, e: 1_100n },
      ];
      const bill = computeBill(points, s.tariff, RATED_POWER_W).amount;
      const past = s.signedTail(points, { t: SESSION_START + 59n, e: 1_100n });
      await expectRejectedVia(s.raw(past, 10_000_000n, bill), ["Num2Bits"], "TailCharge");
      const drained = s.signedTail(points, { t: SESSION_START + 120n, e: 1_099n });
      await expectRejectedVia(s.raw(drained, 10_000_000n, bill), ["Num2Bits"], "TailCharge");
    });
  });

  describe("which signature closes", () => {
    it("rejects a live tail's signature presented as a session-end record (mode 0)", async () => {
      const s = closeScenario();
      const ev = s.liveEvidence();
      const bill = computeBill(ev.points, s.tariff, RATED_POWER_W).amount;
      await expectRejected("close", { ...s.raw(ev, 10_000_000n, bill, 0n), tTail: 0n, eTail: 0n }, SIG);
    });

    it("rejects a session-end signature presented as a live tail (mode 1)", async () => {
      const s = closeScenario();
      const last = s.session.points.at(-1)!;
      const tail = { t: last.t + 60n, e: last.e + 100n };
      const bill = computeBill([...s.session.points, tail], s.tariff, RATED_POWER_W).amount;
      await expectRejected("close", { ...s.raw(s.session, 10_000_000n, bill, 1n), tTail: tail.t, eTail: tail.e }, SIG);
    });

    it("rejects mode = 2", async () => {
      const s = closeScenario();
      const { input } = s.close(s.session, 10_000_000n);
      await expectRejected("close", { ...input, mode: 2n }, ["Close"]);
    });
  });

  describe("amount and refund", () => {
    it("rejects charging a bill above the cap (amount = bill > cap)", async () => {
      const s = closeScenario();
      await expectRejected("close", s.raw(s.session, 5_000_000n, BILL), ["Close"]);
      // 2^64 - 1 escrow cannot be charged 2^64 either (amount is bound to min(bill, cap)).
      await expectRejected("close", s.raw(s.session, MAX, MAX), ["Close"]);
    });

    it("rejects a refund worth more than cap - amount, and an undercharged bill", async () => {
      const s = closeScenario();
      const w = s.close(s.session, 10_000_000n);
      const P = w.publicSignals.refundPrecommitment;
      await expectRejected("close", { ...w.input, refundCommitment: refundCommitmentOf(P, 10_000_000n - BILL + 1n) }, [
        "Close",
      ]);
      await expectRejected("close", { ...w.input, refundCommitment: refundCommitmentOf(P, 10_000_000n) }, ["Close"]);
      await expectRejected("close", s.raw(s.session, 10_000_000n, BILL - 1n), ["Close"]);
      // Bill above the cap: the whole cap is charged, nothing may come back.
      const capped = s.close(s.session, 5_000_000n);
      await expectRejected("close", { ...capped.input, refundCommitment: refundCommitmentOf(P, 1n) }, ["Close"]);
    });
  });

  describe("whose readings", () => {
    it("rejects another session's readings (the escrow's sessionId differs from the chain's)", async () => {
      const s = closeScenario();
      const other = s.signed(s.session.points, { sessionId: makeSessionId(1n, 2n) });
      expect(() =>
        buildCloseWitness({
          escrow: s.escrowOf(10_000_000n),
          record: other,
          meterPath: s.request.meterPath,
          extDataHash: 4242n,
        }),
      ).to.throw(InvalidInputError, /session/);
      const input = s.raw(other, 10_000_000n, BILL);
      expect(input.sessionId).to.equal(s.session.sessionId);
      await expectRejected("close", input, SIG);
      // Same with a live tail of the other session.
      const ev = signLiveTail({
        sessionId: makeSessionId(1n, 2n),
        cpoId: CPO_ID,
        meterLeaf: s.meter.leaf,
        tariff: s.tariff,
        points: s.session.points.slice(0, 2),
        tail: { t: boundary + 60n, e: s.session.points[1]!.e + 100n },
      });
      const bill = computeBill([...ev.points, ev.tail], s.tariff, RATED_POWER_W).amount;
      await expectRejected("close", s.raw(ev, 10_000_000n, bill), SIG);
    });

    it("rejects a meter leaf of another CPO (the same key registered under CPO 2)", async () => {
      const s = closeScenario();
      const { input } = s.close(s.session, 10_000_000n);
      const leaf2 = meterLeaf(s.meter.publicKey[0], s.meter.publicKey[1], 2n, RATED_POWER_W);
      const tree2 = new MeterTree([leaf2, 888n]);
      const path = tree2.path(0);
      await expectRejected(
        "close",
        {
          ...input,
          meterRoot: tree2.root,
          meterIndex: path.leafIndex,
          meterTreeSize: path.treeSize,
          meterSiblings: path.siblings,
        },
        ["MeterMembership"],
      );
    });

    it("rejects a meter missing from the CPO's meter tree under the public meter root", async () => {
      const s = closeScenario();
      const lonely = new MeterTree([555n, 777n, s.meter.leaf]);
      const input = buildCloseWitness({
        escrow: s.escrowOf(10_000_000n),
        record: s.session,
        meterPath: lonely.path(2),
        extDataHash: 4242n,
      }).input;
      await expectRejected("close", { ...input, meterRoot: s.meterTree.root }, ["MeterMembership"]);
    });

    it("rejects the tariff of another CPO, even when the meter signed it into the chain", async () => {
      const s = closeScenario();
      const t2 = scenarioTariff({ cpoId: 2n, energyPrice: [1n, 1n, 1n, 1n] });
      const session = s.signed(s.session.points, { tariff: t2 });
      expect(() => s.close(session, 10_000_000n)).to.throw(InvalidInputError);
      const bill = computeBill(session.points, t2, RATED_POWER_W).amount;
      await expectRejected("close", s.raw(session, 10_000_000n, bill), ["TariffHash"]);
    });
  });
});
