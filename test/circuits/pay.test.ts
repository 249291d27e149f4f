/**
 * The pay circuit against the soundness checklist of the design brief: an honest witness passes,
 * and each cheat is rejected by the template that holds the rule it breaks. Witnesses only (no
 * proving key work); test/e2e covers real proofs on a real chain.
 */
import { createRequire } from "node:module";
import { expect } from "chai";
import type * as BabyJubjub from "@zk-kit/baby-jubjub";
import fc from "fast-check";
import { buildPayWitness, type PayRequest } from "../../sdk/proofs/payInput.ts";
import { paySignalArray } from "../../sdk/proofs/publicSignals.ts";
import { BABYJUB_SUBGROUP_ORDER, FIELD_MODULUS, TAGS } from "../../sdk/core/constants.ts";
import {
  identityCommitment,
  meterLeaf,
  durationLimitWords,
  poseidon,
  sessionId as makeSessionId,
  tariffHash,
} from "../../sdk/core/hash.ts";
import { Note } from "../../sdk/core/note.ts";
import { computeBill, everyBand, type Point } from "../../sdk/tariff/tariff.ts";
import { MeterTree, NoteTree } from "../../sdk/core/tree.ts";
import {
  CPO_ID,
  HOUR,
  RATED_POWER_W,
  SESSION_START,
  payScenario,
  scenarioTariff,
  signChain,
} from "../fixtures/session.ts";
import { expectAccepted, expectRejected } from "./helpers.ts";
import { simulateCharging } from "../../sdk/meter/simulator.ts";
import { slowPropertyRuns } from "../fixtures/property.ts";

const babyjub = createRequire(import.meta.url)("@zk-kit/baby-jubjub") as typeof BabyJubjub;

/** Builds the witness input for a request (through the SDK checks). */
function inputOf(request: PayRequest) {
  return buildPayWitness(request).input;
}

/** A request whose session is `points`, signed by the scenario meter (no SDK checks on the readings). */
function withPoints(
  points: Point[],
  opts: { tariff?: ReturnType<typeof scenarioTariff>; n?: number; value?: bigint } = {},
) {
  const s = payScenario(opts.value === undefined ? {} : { value: opts.value });
  const session = signChain({
    sessionId: s.session.sessionId,
    cpoId: CPO_ID,
    meterLeaf: s.meter.leaf,
    tariff: opts.tariff ?? s.tariff,
    points,
    n: opts.n,
  });
  return { s, session, request: { ...s.request, session } };
}

/**
 * Raw witness input for a session the SDK would refuse: fills the bill fields by hand (`limitPoint`: the duration
 * limit hint, all 0 unless given).
 */
function rawInput(request: PayRequest, amount: bigint, limitPoint: bigint[] = new Array<bigint>(15).fill(0n)) {
  const honest = payScenario();
  const base = buildPayWitness({
    ...honest.request,
    ...request,
    session: honest.session,
    note: request.note,
    notePath: request.notePath,
  }).input;
  const sess = request.session;
  const pad = (xs: bigint[]) => [...xs, ...new Array(16 - xs.length).fill(0n)];
  const change = new Note(request.note.value - amount - request.fee, request.changeBlinding, request.note.idc);
  return {
    ...base,
    sessionId: sess.sessionId,
    tariffHash: sess.tariffHash,
    flatFee: sess.tariff.flatFee,
    energyPrice: [...sess.tariff.energyPrice],
    bandStart: sess.tariff.bandStart.slice(1),
    timePricePerHour: [...sess.tariff.timePricePerHour],
    parkingPricePerHour: [...sess.tariff.parkingPricePerHour],
    minPrice: sess.tariff.minPrice,
    maxPrice: sess.tariff.maxPrice,
    tzOffset: sess.tariff.tzOffset,
    validFrom: sess.tariff.validFrom,
    validTo: sess.tariff.validTo,
    stepSize: [...sess.tariff.stepSize],
    durationLimit: [...durationLimitWords(sess.tariff.durationLimit)],
    durationLimitPoint: limitPoint,
    n: BigInt(sess.n),
    t: pad(sess.points.map((p) => p.t)),
    e: pad(sess.points.map((p) => p.e)),
    sigR8x: sess.signature.R8[0],
    sigR8y: sess.signature.R8[1],
    sigS: sess.signature.S,
    amount,
    changeCommitment: change.commitment,
  };
}

const boundary = SESSION_START + 30n * 60n; // 17:00 local

describe("pay circuit", function () {
  this.timeout(120_000);

  it("accepts an honest session across a band boundary, with exactly the SDK's public signals", async () => {
    const s = payScenario();
    const w = buildPayWitness(s.request);
    const witness = await expectAccepted("pay", w.input);
    expect(witness.slice(1, 12)).to.deep.equal(paySignalArray(w.publicSignals));
    expect(w.bill.perInterval.map((i) => i.band)).to.deep.equal([1, 2]);
    expect(w.bill.amount).to.equal(6_086_233n);
  });

  describe("identity and note", () => {
    it("rejects scalar aliasing: s + l gives the same identity but must not spend", async () => {
      const s = payScenario();
      const input = inputOf(s.request);
      const aliased = s.request.secretScalar + BABYJUB_SUBGROUP_ORDER;
      const nf = poseidon([TAGS.nullifier, s.note.commitment, s.request.notePath.leafIndex, aliased]);
      await expectRejected("pay", { ...input, secret: aliased, nullifier: nf }, ["IdentityCommitment", "Num2Bits"]);
    });

    it("accepts the largest secret l - 1 and rejects l and r - 1", async () => {
      const edge = async (secret: bigint) => {
        const [Ax, Ay] = babyjub.mulPointEscalar(babyjub.Base8, secret);
        const note = Note.random(identityCommitment(Ax, Ay), 10_000_000n);
        const s = payScenario();
        const tree = new NoteTree([note.commitment]);
        const request = { ...s.request, note, notePath: tree.path(0) };
        const input = buildPayWitness({ ...request, secretScalar: 1n }).input; // nullifier recomputed below
        return { ...input, secret, nullifier: poseidon([TAGS.nullifier, note.commitment, 0n, secret]) };
      };
      await expectAccepted("pay", await edge(BABYJUB_SUBGROUP_ORDER - 1n));
      await expectRejected("pay", await edge(BABYJUB_SUBGROUP_ORDER), ["IdentityCommitment"]);
      await expectRejected("pay", await edge(FIELD_MODULUS - 1n), ["Num2Bits"]);
    });

    it("rejects a free leaf index (idx + 2^24) and an index past the tree size", async () => {
      const s = payScenario();
      const input = inputOf(s.request);
      const idx = s.request.notePath.leafIndex;
      const nf = (i: bigint) => poseidon([TAGS.nullifier, s.note.commitment, i, s.request.secretScalar]);
      await expectRejected("pay", { ...input, leafIndex: idx + (1n << 24n), nullifier: nf(idx + (1n << 24n)) }, [
        "Num2Bits",
      ]);
      await expectRejected(
        "pay",
        { ...input, leafIndex: s.request.notePath.treeSize, nullifier: nf(s.request.notePath.treeSize) },
        ["LeanIMTRoot"],
      );
    });

    it("rejects a note worth more than its commitment (value + 1)", async () => {
      const s = payScenario();
      const input = inputOf(s.request);
      const change = new Note(s.note.value + 1n - (input.amount as bigint), s.request.changeBlinding, s.note.idc);
      await expectRejected("pay", { ...input, value: s.note.value + 1n, changeCommitment: change.commitment }, [
        "NoteSpend",
      ]);
    });

    it("rejects a fee paid beyond the note (change would wrap), and fee = 2^64", async () => {
      const s = payScenario({ value: 7_000_000n });
      const input = inputOf(s.request);
      const amount = input.amount as bigint;
      const fee = s.note.value - amount + 1n; // change = -1 = r - 1
      const wrapped = poseidon([TAGS.note, s.note.precommitment, FIELD_MODULUS - 1n]);
      await expectRejected("pay", { ...input, fee, changeCommitment: wrapped }, ["Num2Bits"]);
      await expectRejected("pay", { ...input, fee: 1n << 64n }, ["Num2Bits"]);
    });

    it("accepts a note of 2^64 - 1 and a change of exactly 0", async () => {
      const big = payScenario({ value: (1n << 64n) - 1n });
      await expectAccepted("pay", inputOf(big.request));
      const s = payScenario();
      const amount = buildPayWitness(s.request).bill.amount;
      const exact = payScenario({ value: amount + 5n, fee: 5n });
      expect(buildPayWitness(exact.request).change.value).to.equal(0n);
      await expectAccepted("pay", inputOf(exact.request));
    });
  });

  describe("tariff", () => {
    it("rejects cheaper private tariff fields under the signed tariff hash", async () => {
      const s = payScenario();
      const input = inputOf(s.request);
      await expectRejected("pay", { ...input, energyPrice: [1n, 1n, 1n, 1n] }, ["TariffHash"]);
    });

    it("rejects a cheaper published tariff the meter did not sign into the chain", async () => {
      const s = payScenario();
      const cheap = scenarioTariff({ energyPrice: [1n, 1n, 1n, 1n] });
      const session = { ...s.session, tariff: cheap, tariffHash: tariffHash(cheap) };
      const bill = computeBill(session.points, cheap, RATED_POWER_W);
      await expectRejected("pay", rawInput({ ...s.request, session }, bill.amount), [
        "ForceEqualIfEnabled",
        "EdDSAPoseidonVerifier",
      ]);
    });

    it("rejects a retired tariff: session start after validTo, or before validFrom", async () => {
      const late = scenarioTariff({ validTo: SESSION_START - 1n });
      const { request } = withPoints(
        [
          { t: SESSION_START, e: 0n },
          { t: SESSION_START + 60n, e: 10n },
        ],
        { tariff: late },
      );
      const bill = computeBill(request.session.points, scenarioTariff(), RATED_POWER_W);
      await expectRejected("pay", rawInput(request, bill.amount), ["SessionBill"]);
      const early = scenarioTariff({ validFrom: SESSION_START + 1n });
      const r2 = withPoints(
        [
          { t: SESSION_START, e: 0n },
          { t: SESSION_START + 60n, e: 10n },
        ],
        { tariff: early },
      ).request;
      await expectRejected("pay", rawInput(r2, bill.amount), ["SessionBill"]);
    });

    it("accepts a start exactly at validFrom and at validTo", async () => {
      for (const tariff of [scenarioTariff({ validFrom: SESSION_START }), scenarioTariff({ validTo: SESSION_START })]) {
        const { request } = withPoints(
          [
            { t: SESSION_START, e: 0n },
            { t: SESSION_START + 60n, e: 10n },
          ],
          { tariff },
        );
        await expectAccepted("pay", inputOf(request));
      }
    });

    it("caps the amount at maxPrice, and bills the flat fee alone for a one-point session", async () => {
      const capped = withPoints(
        [
          { t: SESSION_START, e: 0n },
          { t: SESSION_START + 600n, e: 3_000n },
        ],
        { tariff: scenarioTariff({ maxPrice: 1_000_000n }) },
      ).request;
      const w = buildPayWitness(capped);
      expect(w.bill.capped).to.equal(true);
      expect(w.publicSignals.amount).to.equal(1_000_000n);
      await expectAccepted("pay", w.input);
      await expectRejected("pay", { ...w.input, amount: w.bill.bill }, ["Pay"]);
      const single = withPoints([{ t: SESSION_START, e: 0n }]).request;
      const w1 = buildPayWitness(single);
      expect(w1.publicSignals.amount).to.equal(500_000n);
      await expectAccepted("pay", w1.input);
    });
  });

  describe("OCMF evidence: the digest in the signed session-end record", () => {
    it("accepts the digest the meter signed, rejects another one and 0; edge digests r - 1 and 0 accepted", async () => {
      for (const digest of [0n, 1n, FIELD_MODULUS - 1n]) {
        const s = payScenario();
        const session = signChain({
          sessionId: s.session.sessionId,
          cpoId: CPO_ID,
          meterLeaf: s.meter.leaf,
          tariff: s.tariff,
          points: s.session.points,
          ocmfDigest: digest,
        });
        const w = buildPayWitness({ ...s.request, session });
        expect(w.input.ocmfDigest).to.equal(digest);
        await expectAccepted("pay", w.input);
        const other = digest === 0n ? 12_345n : 0n;
        await expectRejected("pay", { ...w.input, ocmfDigest: other }, [
          "ForceEqualIfEnabled",
          "EdDSAPoseidonVerifier",
        ]);
      }
    });
  });

  describe("tariff: OCPI min_price and time-of-day time prices", () => {
    const short = [
      { t: SESSION_START, e: 0n },
      { t: SESSION_START + 600n, e: 3_000n },
    ];

    it("raises the amount to minPrice; the bill itself, or the floor +- 1, is rejected", async () => {
      const raised = withPoints(short, { tariff: scenarioTariff({ minPrice: 5_000_000n }) }).request;
      const w = buildPayWitness(raised);
      expect([w.bill.raised, w.publicSignals.amount]).to.deep.equal([true, 5_000_000n]);
      await expectAccepted("pay", w.input);
      for (const amount of [w.bill.bill, 4_999_999n, 5_000_001n]) {
        await expectRejected("pay", { ...w.input, amount }, ["Pay"]);
      }
    });

    it("floors before it caps: minPrice = maxPrice fixes the amount; a floor 2^40 - 1 without a cap is accepted", async () => {
      const fixed = withPoints(short, { tariff: scenarioTariff({ minPrice: 7_000_000n, maxPrice: 7_000_000n }) });
      const w = buildPayWitness(fixed.request);
      expect(w.publicSignals.amount).to.equal(7_000_000n);
      await expectAccepted("pay", w.input);
      const top = (1n << 40n) - 1n;
      const huge = withPoints(short, { tariff: scenarioTariff({ minPrice: top }), value: top + 1n });
      const wt = buildPayWitness(huge.request);
      expect(wt.publicSignals.amount).to.equal(top);
      await expectAccepted("pay", wt.input);
    });

    it("bills each interval's time at its band's time price; another band's price is rejected", async () => {
      const tariff = scenarioTariff({ timePricePerHour: [0n, 600_000n, 3_000_000n, 0n] });
      // 16:30-17:00 in band 1 (0.60 EUR/h), 17:00-17:30 in band 2 (3.00 EUR/h).
      const points = [
        { t: SESSION_START, e: 0n },
        { t: boundary, e: 2_000n },
        { t: boundary + 1_800n, e: 4_000n },
      ];
      const { request } = withPoints(points, { tariff });
      const w = buildPayWitness(request);
      expect(w.bill.perInterval.map((i) => i.timeNumerator)).to.deep.equal([
        1_800n * 600_000n * 1000n,
        1_800n * 3_000_000n * 1000n,
      ]);
      await expectAccepted("pay", w.input);
      const flat = computeBill(points, scenarioTariff({ timePricePerHour: everyBand(600_000n) }), RATED_POWER_W);
      await expectRejected("pay", { ...w.input, amount: flat.amount }, ["Pay"]);
    });
  });

  describe("parking (OCPI PARKING_TIME: an interval that adds no energy)", () => {
    // 16:30-17:00 charging 2 kWh in band 1, 17:00-17:30 parked in band 2, 17:30-17:40 charging 1 kWh in band 2.
    const points = [
      { t: SESSION_START, e: 0n },
      { t: boundary, e: 2_000n },
      { t: boundary + 1_800n, e: 2_000n },
      { t: boundary + 2_400n, e: 3_000n },
    ];
    const timePricePerHour = [0n, 600_000n, 3_000_000n, 0n] as const;
    const parkingPricePerHour = [0n, 100_000n, 1_200_000n, 0n] as const;

    it("bills a parked interval at its band's parking price, a charging one at the time price; swaps are rejected", async () => {
      const tariff = scenarioTariff({ timePricePerHour, parkingPricePerHour });
      const w = buildPayWitness(withPoints(points, { tariff }).request);
      expect(w.bill.perInterval.map((i) => [i.parked, i.timeNumerator])).to.deep.equal([
        [false, 1_800n * 600_000n * 1000n],
        [true, 1_800n * 1_200_000n * 1000n],
        [false, 600n * 3_000_000n * 1000n],
      ]);
      await expectAccepted("pay", w.input);
      // The parked interval billed at the charging price (the old rule), and every interval at the parking price.
      const asCharging = computeBill(points, { ...tariff, parkingPricePerHour: timePricePerHour }, RATED_POWER_W);
      const asParked = computeBill(points, { ...tariff, timePricePerHour: parkingPricePerHour }, RATED_POWER_W);
      for (const wrong of [asCharging.amount, asParked.amount]) {
        expect(wrong).to.not.equal(w.bill.amount);
        await expectRejected("pay", { ...w.input, amount: wrong }, ["Pay"]);
      }
    });

    it("one Wh makes an interval charging: 1 Wh in the middle interval bills it at the time price", async () => {
      const tariff = scenarioTariff({ timePricePerHour, parkingPricePerHour });
      const oneWh = points.map((p, i) => (i >= 2 ? { ...p, e: p.e + 1n } : p));
      const w = buildPayWitness(withPoints(oneWh, { tariff }).request);
      expect(w.bill.perInterval[1]!.timeNumerator).to.equal(1_800n * 3_000_000n * 1000n);
      await expectAccepted("pay", w.input);
      const parkedBill = computeBill(points, tariff, RATED_POWER_W).amount;
      await expectRejected("pay", { ...w.input, amount: parkedBill + 1n }, ["Pay"]);
    });

    it("parking price edges: 0 and 2^32 - 1 are accepted, 2^32 is rejected by the tariff range check", async () => {
      const top = (1n << 32n) - 1n;
      for (const price of [0n, top]) {
        const tariff = scenarioTariff({ timePricePerHour, parkingPricePerHour: [price, price, price, price] });
        const w = buildPayWitness(withPoints(points, { tariff, value: 10n ** 12n }).request);
        expect(w.bill.perInterval[1]!.timeNumerator).to.equal(1_800n * price * 1000n);
        await expectAccepted("pay", w.input);
      }
      const over = scenarioTariff({ timePricePerHour, parkingPricePerHour: everyBand(1n << 32n) });
      expect(() => buildPayWitness(withPoints(points, { tariff: over }).request)).to.throw(/parkingPricePerHour/);
      const request = withPoints(points, { tariff: over, value: 10n ** 12n }).request;
      const amount = computeBill(points, { ...over, parkingPricePerHour: everyBand(top) }, RATED_POWER_W).amount;
      await expectRejected("pay", rawInput(request, amount + 900n), ["Num2Bits", "TariffHash"]);
    });
  });

  describe("step_size (OCPI): each dimension's session volume rounded up once, at its last interval's price", () => {
    // 16:30-17:00 charging 2,001 Wh in band 1, 17:00-17:07 parked in band 2, 17:07-17:10 charging 500 Wh in band 2.
    const points = [
      { t: SESSION_START, e: 0n },
      { t: boundary, e: 2_001n },
      { t: boundary + 420n, e: 2_001n },
      { t: boundary + 600n, e: 2_501n },
    ];
    const prices = {
      timePricePerHour: [0n, 600_000n, 3_000_000n, 0n] as const,
      parkingPricePerHour: [0n, 100_000n, 1_200_000n, 0n] as const,
    };
    const stepped = scenarioTariff({ ...prices, stepSize: [1_000n, 900n, 300n] });

    it("bills 2,501 Wh as 3,000, 33 min charging as 45 and 7 min parked as 10, at the last intervals' prices", async () => {
      const w = buildPayWitness(withPoints(points, { tariff: stepped }).request);
      expect(w.bill.stepExtra).to.deep.equal([499n, 720n, 180n]);
      // Every round-up at band 2's prices (the last charging and the last parked interval are both there).
      expect(w.bill.stepNumerator).to.equal(499n * 450_000n * 3600n + (720n * 3_000_000n + 180n * 1_200_000n) * 1000n);
      const witness = await expectAccepted("pay", w.input);
      expect(witness[9]).to.equal(w.bill.amount);
    });

    it("rejects the bill without the round-up, with one at the first interval's prices, and the bill +- 1", async () => {
      const w = buildPayWitness(withPoints(points, { tariff: stepped }).request);
      const exact = computeBill(points, { ...stepped, stepSize: [1n, 1n, 1n] }, RATED_POWER_W).amount;
      // At band 1's prices: 0.39 EUR/kWh, 0.60 EUR/h charging, 0.10 EUR/h parked.
      const atFirstPrices =
        (w.bill.numerator -
          w.bill.stepNumerator +
          499n * 390_000n * 3600n +
          (720n * 600_000n + 180n * 100_000n) * 1000n) /
        3_600_000n;
      for (const wrong of [exact, atFirstPrices, w.bill.amount - 1n, w.bill.amount + 1n]) {
        expect(wrong).to.not.equal(w.bill.amount);
        await expectRejected("pay", { ...w.input, amount: wrong }, ["Pay"]);
      }
    });

    it("rejects smaller step sizes than the signed tariff hash has (the round-up dropped)", async () => {
      const w = buildPayWitness(withPoints(points, { tariff: stepped }).request);
      const exact = computeBill(points, { ...stepped, stepSize: [1n, 1n, 1n] }, RATED_POWER_W).amount;
      for (const stepSize of [
        [1n, 900n, 300n],
        [1_000n, 1n, 300n],
        [1_000n, 900n, 1n],
      ]) {
        const cheaper = computeBill(points, { ...stepped, stepSize: stepSize as never }, RATED_POWER_W).amount;
        expect(cheaper).to.be.below(w.bill.amount).and.at.least(exact);
        await expectRejected("pay", { ...w.input, stepSize, amount: cheaper }, ["TariffHash"]);
      }
    });

    it("a volume already on a step adds nothing; a session with no energy rounds no energy up", async () => {
      const onSteps = [
        { t: SESSION_START, e: 0n },
        { t: SESSION_START + 900n, e: 2_000n },
        { t: SESSION_START + 1_200n, e: 2_000n },
      ];
      const w = buildPayWitness(withPoints(onSteps, { tariff: stepped }).request);
      expect(w.bill.stepExtra).to.deep.equal([0n, 0n, 0n]);
      await expectAccepted("pay", w.input);
      const parkedOnly = [
        { t: SESSION_START, e: 0n },
        { t: SESSION_START + 60n, e: 0n },
      ];
      const p = buildPayWitness(withPoints(parkedOnly, { tariff: stepped }).request);
      expect(p.bill.stepExtra).to.deep.equal([0n, 0n, 240n]);
      await expectAccepted("pay", p.input);
    });

    it("step size edges: 1 and 2^32 accepted, 0 and 2^32 + 1 rejected by the tariff range check", async () => {
      const top = 1n << 32n;
      for (const step of [1n, top - 1n, top]) {
        const tariff = scenarioTariff({ ...prices, stepSize: [step, step, step] });
        const w = buildPayWitness(withPoints(points, { tariff, value: 10n ** 15n }).request);
        expect(w.bill.stepExtra[0]).to.equal(step === 1n ? 0n : step - 2_501n);
        const witness = await expectAccepted("pay", w.input);
        expect(witness[9]).to.equal(w.bill.amount);
      }
      for (const step of [0n, top + 1n]) {
        const tariff = scenarioTariff({ ...prices, stepSize: [1n, step, 1n] });
        expect(() => buildPayWitness(withPoints(points, { tariff }).request)).to.throw(/stepSize\[1\]/);
        // The hash is of these very step sizes (signed by the meter): only the range check can refuse them.
        const request = withPoints(points, { tariff, value: 10n ** 15n }).request;
        const amount = computeBill(points, { ...tariff, stepSize: [1n, 1n, 1n] }, RATED_POWER_W).amount;
        await expectRejected("pay", rawInput(request, amount), ["Num2Bits"]);
      }
    });
  });

  describe("duration limit (OCPI min_duration / max_duration): the limit's prices from the chain point at it on", () => {
    // 16:30-16:50 charging 2,000 Wh (band 1), the limit at 16:50: energy 0.60/kWh and parking 6.00/h from there on
    // (the charging-time price stays the band's); 16:50-17:00 charging 500 Wh, 17:00-17:10 parked (band 2).
    const limit = { seconds: 1_200n, energyPrice: 600_000n, parkingPricePerHour: 6_000_000n };
    const limited = scenarioTariff({ durationLimit: limit });
    const points = [
      { t: SESSION_START, e: 0n },
      { t: SESSION_START + 1_200n, e: 2_000n },
      { t: boundary, e: 2_500n },
      { t: boundary + 600n, e: 2_500n },
    ];
    const hint = (...at: [number, bigint][]) => {
      const h = new Array<bigint>(15).fill(0n);
      for (const [j, v] of at) h[j] = v;
      return h;
    };

    it("accepts the SDK's bill: the hint marks the point at the limit, the intervals after it take its prices", async () => {
      const w = buildPayWitness(withPoints(points, { tariff: limited }).request);
      expect(w.input.durationLimitPoint).to.deep.equal(hint([0, 1n]));
      expect(w.bill.perInterval.map((iv) => iv.afterLimit)).to.deep.equal([false, true, true]);
      // 0.50 + 2 kWh at 0.39 + 0.5 kWh at 0.60 + 30 min charging at 0.12/h + 10 min parked at 6.00/h.
      expect(w.bill.amount).to.equal(500_000n + 780_000n + 300_000n + 60_000n + 1_000_000n);
      const witness = await expectAccepted("pay", w.input);
      expect(witness[9]).to.equal(w.bill.amount);
    });

    it("rejects the bill at band prices (no hint), the limit at a later point, two hinted points and a hint of 2", async () => {
      const w = buildPayWitness(withPoints(points, { tariff: limited }).request);
      const atBands = computeBill(points, scenarioTariff(), RATED_POWER_W).amount;
      expect(atBands).to.be.below(w.bill.amount);
      // Without the hint the session must end by the limit: it does not.
      await expectRejected("pay", { ...w.input, durationLimitPoint: hint(), amount: atBands }, ["SessionBill"]);
      // The limit's prices from 17:00 only (point 3 is not at t_1 + 1,200 s).
      const later = computeBill(
        points,
        scenarioTariff({ durationLimit: { ...limit, seconds: 1_800n } }),
        RATED_POWER_W,
      );
      expect(later.amount).to.be.below(w.bill.amount);
      await expectRejected("pay", { ...w.input, durationLimitPoint: hint([1, 1n]), amount: later.amount }, [
        "DurationLimitSplit",
      ]);
      await expectRejected("pay", { ...w.input, durationLimitPoint: hint([0, 1n], [1, 1n]) }, ["DurationLimitSplit"]);
      await expectRejected("pay", { ...w.input, durationLimitPoint: hint([0, 2n]) }, ["DurationLimitSplit"]);
      await expectRejected("pay", { ...w.input, durationLimitPoint: hint([0, FIELD_MODULUS - 1n]) }, [
        "DurationLimitSplit",
      ]);
      for (const wrong of [w.bill.amount - 1n, w.bill.amount + 1n])
        await expectRejected("pay", { ...w.input, amount: wrong }, ["Pay"]);
    });

    it("rejects a cheaper limit than the signed tariff hash has (later, lower price, a price unset)", async () => {
      const w = buildPayWitness(withPoints(points, { tariff: limited }).request);
      for (const cheaper of [
        { ...limit, parkingPricePerHour: 0n },
        { seconds: limit.seconds, energyPrice: limit.energyPrice },
      ]) {
        const amount = computeBill(points, scenarioTariff({ durationLimit: cheaper }), RATED_POWER_W).amount;
        expect(amount).to.be.below(w.bill.amount);
        const words = [...durationLimitWords(cheaper)];
        await expectRejected("pay", { ...w.input, durationLimit: words, amount }, ["TariffHash"]);
      }
      const none = computeBill(points, scenarioTariff(), RATED_POWER_W).amount;
      await expectRejected(
        "pay",
        { ...w.input, durationLimit: [0n, 0n, 0n, 0n, 0n], durationLimitPoint: hint(), amount: none },
        ["TariffHash"],
      );
    });

    it("a session that ends by the limit pays none of it; ending exactly on it passes with or without the hint", async () => {
      const w = buildPayWitness(withPoints(points.slice(0, 2), { tariff: limited }).request);
      expect(w.bill.amount).to.equal(500_000n + 780_000n + 40_000n);
      expect(w.input.durationLimitPoint).to.deep.equal(hint([0, 1n]));
      await expectAccepted("pay", w.input);
      await expectAccepted("pay", { ...w.input, durationLimitPoint: hint() });
      const short = buildPayWitness(
        withPoints([points[0]!, { t: SESSION_START + 1_199n, e: 1_999n }], { tariff: limited }).request,
      );
      expect(short.input.durationLimitPoint).to.deep.equal(hint());
      await expectAccepted("pay", short.input);
    });

    it("rejects an interval straddling the limit (no chain point there), even by one second", async () => {
      const straddling = [points[0]!, { t: SESSION_START + 1_201n, e: 2_000n }];
      const { request } = withPoints(straddling, { tariff: limited });
      expect(() => buildPayWitness(request)).to.throw(/straddles the duration limit/);
      // Billed at the band's prices throughout, as if the limit were not reached: the session is 1 s too long.
      const amount = computeBill(straddling, scenarioTariff(), RATED_POWER_W).amount;
      await expectRejected("pay", rawInput(request, amount), ["SessionBill"]);
    });

    it("no limit (seconds 0): a hinted point is rejected even at t_1 + 0", async () => {
      const zero = [points[0]!, { t: SESSION_START, e: 0n }, { t: SESSION_START + 600n, e: 1_000n }];
      const w = buildPayWitness(withPoints(zero).request);
      await expectAccepted("pay", w.input);
      await expectRejected("pay", { ...w.input, durationLimitPoint: hint([0, 1n]) }, ["DurationLimitSplit"]);
    });

    it("limit edges: seconds 1 and 2^32 - 1, prices 0 and 2^32 - 1 accepted; 2^32 rejected by the range checks", async () => {
      const top = (1n << 32n) - 1n;
      const early = [points[0]!, { t: SESSION_START + 1n, e: 0n }, { t: SESSION_START + 601n, e: 1_000n }];
      for (const [pts, durationLimit] of [
        [early, { seconds: 1n, energyPrice: top, timePricePerHour: 0n, parkingPricePerHour: top }],
        [points, { seconds: top, energyPrice: 0n, timePricePerHour: top, parkingPricePerHour: 0n }],
      ] as const) {
        const w = buildPayWitness(
          withPoints([...pts], { tariff: scenarioTariff({ durationLimit }), value: 10n ** 15n }).request,
        );
        const witness = await expectAccepted("pay", w.input);
        expect(witness[9]).to.equal(w.bill.amount);
      }
      // Out of range: the hash packs these very values (signed by the meter), so only the range checks refuse them
      // (2^32 seconds would alias one base unit of the energy price in the packing).
      for (const durationLimit of [
        { seconds: 1n << 32n, energyPrice: 1n },
        { seconds: 1_200n, energyPrice: 1n << 32n },
        { seconds: 1_200n, parkingPricePerHour: 1n << 32n },
      ]) {
        const { request } = withPoints(points.slice(0, 2), { tariff: scenarioTariff({ durationLimit }) });
        expect(() => buildPayWitness(request)).to.throw(/durationLimit/);
        const amount = computeBill(points.slice(0, 2), scenarioTariff(), RATED_POWER_W).amount;
        await expectRejected("pay", rawInput(request, amount), ["Num2Bits"]);
      }
    });
  });

  describe("the meter's chain point where charging stops (power drops to zero, OCPP SuspendedEV)", () => {
    it("bills the parking time from the moment of the change; the old meter's bill (charging throughout) is rejected", async () => {
      // 16:30-16:45 charging at 11 kW, 16:45-16:59 parked, all inside band 1 (17:00 is the next boundary).
      const tariff = scenarioTariff({
        timePricePerHour: everyBand(600_000n),
        parkingPricePerHour: everyBand(2_400_000n),
      });
      const s = payScenario();
      const live = s.meter.startSession({ sessionId: s.session.sessionId, tariff, t: SESSION_START, e: 0n });
      simulateCharging(live, { to: SESSION_START + 900n, powerW: 11_000n, stepSeconds: 300n });
      simulateCharging(live, { to: SESSION_START + 1_740n, powerW: 0n, stepSeconds: 300n });
      const session = live.end(SESSION_START + 1_740n, live.lastReading.e);
      expect(session.points.map((p) => p.t)).to.deep.equal([
        SESSION_START,
        SESSION_START + 900n,
        SESSION_START + 1_740n,
      ]);
      const w = buildPayWitness({ ...s.request, session });
      expect(w.bill.perInterval.map((iv) => [iv.dt, iv.parked, iv.timeNumerator])).to.deep.equal([
        [900n, false, 900n * 600_000n * 1000n],
        [840n, true, 840n * 2_400_000n * 1000n], // parked from 16:45:00, not from the next reading
      ]);
      const witness = await expectAccepted("pay", w.input);
      expect(witness[9]).to.equal(w.bill.amount);
      // Without the change point the whole 29 minutes add energy and bill at the charging time price.
      const withoutChange = computeBill([session.points[0]!, session.points[2]!], tariff, RATED_POWER_W);
      expect(withoutChange.perInterval.map((iv) => iv.parked)).to.deep.equal([false]);
      expect(withoutChange.amount).to.be.below(w.bill.amount);
      await expectRejected("pay", { ...w.input, amount: withoutChange.amount }, ["Pay"]);
    });
  });

  describe("meter readings", () => {
    it("rejects readings after n (padding must be zero)", async () => {
      const s = payScenario();
      const input = inputOf(s.request);
      const t = [...(input.t as bigint[])];
      const e = [...(input.e as bigint[])];
      t[s.session.n] = t[s.session.n - 1]! + 60n;
      e[s.session.n] = e[s.session.n - 1]! + 100n;
      await expectRejected("pay", { ...input, t, e }, ["SessionChain"]);
    });

    it("rejects a prefix of the session passed off as final", async () => {
      const s = payScenario();
      const input = inputOf(s.request);
      const n = s.session.n - 1;
      const t = (input.t as bigint[]).map((x, i) => (i < n ? x : 0n));
      const e = (input.e as bigint[]).map((x, i) => (i < n ? x : 0n));
      const prefix = { ...s.session, points: s.session.points.slice(0, n), n };
      const bill = computeBill(prefix.points, s.tariff, RATED_POWER_W);
      const change = new Note(s.note.value - bill.amount, s.request.changeBlinding, s.note.idc);
      await expectRejected(
        "pay",
        { ...input, n: BigInt(n), t, e, amount: bill.amount, changeCommitment: change.commitment },
        ["ForceEqualIfEnabled", "EdDSAPoseidonVerifier"],
      );
    });

    it("rejects the reading of another session, another meter, and another CPO", async () => {
      const s = payScenario();
      const input = inputOf(s.request);
      const sig = ["ForceEqualIfEnabled", "EdDSAPoseidonVerifier"];
      await expectRejected("pay", { ...input, sessionId: makeSessionId(1n, 2n) }, sig);

      // Meter B (in the tree too) signed it, but the chain names meter A's leaf: signature check fails.
      const keyB = Uint8Array.from({ length: 32 }, () => 9);
      const other = signChain({
        sessionId: s.session.sessionId,
        cpoId: CPO_ID,
        meterLeaf: s.meter.leaf,
        tariff: s.tariff,
        points: s.session.points,
        key: keyB,
      });
      await expectRejected(
        "pay",
        { ...input, sigR8x: other.signature.R8[0], sigR8y: other.signature.R8[1], sigS: other.signature.S },
        sig,
      );

      // CPO 2 with an identical tariff and meter key: its meter leaf is not in CPO 1's tree.
      const t2 = scenarioTariff({ cpoId: 2n });
      const leaf2 = meterLeaf(s.meter.publicKey[0], s.meter.publicKey[1], 2n, RATED_POWER_W);
      const session2 = signChain({
        sessionId: s.session.sessionId,
        cpoId: 2n,
        meterLeaf: leaf2,
        tariff: t2,
        points: s.session.points,
      });
      const raw = rawInput({ ...s.request, session: session2 }, input.amount as bigint);
      await expectRejected("pay", { ...raw, cpoId: 2n }, ["MeterMembership"]);
    });

    it("rejects a meter missing from the meter tree under the public meter root", async () => {
      const s = payScenario();
      const lonely = new MeterTree([555n, 777n, s.meter.leaf]);
      const input = inputOf({ ...s.request, meterPath: lonely.path(2) });
      await expectRejected("pay", { ...input, meterRoot: s.meterTree.root }, ["MeterMembership"]);
    });

    it("rejects an interval that straddles a band boundary, even by one second", async () => {
      const straddle = [
        { t: SESSION_START, e: 0n },
        { t: boundary + 1n, e: 1_000n },
      ];
      const { request } = withPoints(straddle);
      expect(() => buildPayWitness(request)).to.throw(/16:30:00-17:00:01 straddles/);
      const sloppy = computeBill(
        [
          { t: SESSION_START, e: 0n },
          { t: boundary, e: 1_000n },
        ],
        scenarioTariff(),
        RATED_POWER_W,
      ).amount;
      await expectRejected("pay", rawInput(request, sloppy), ["IntervalPrice"]);
    });

    it("accepts a reading exactly on the boundary (end-inclusive), and midnight as the last band's end", async () => {
      const exact = withPoints([
        { t: SESSION_START, e: 0n },
        { t: boundary, e: 1_000n },
        { t: boundary + 60n, e: 1_100n },
      ]).request;
      const w = buildPayWitness(exact);
      expect(w.bill.perInterval.map((i) => i.band)).to.deep.equal([1, 2]);
      await expectAccepted("pay", w.input);
      const midnight = SESSION_START + 7n * HOUR + 30n * 60n; // 00:00 local next day
      const late = withPoints(
        [
          { t: midnight - 600n, e: 0n },
          { t: midnight, e: 500n },
          { t: midnight + 60n, e: 600n },
        ],
        { tariff: scenarioTariff({ validFrom: SESSION_START }) },
      ).request;
      const wl = buildPayWitness(late);
      expect(wl.bill.perInterval.map((i) => i.band)).to.deep.equal([3, 0]);
      await expectAccepted("pay", wl.input);
    });

    it("rejects power above the meter's rating by 1 Wh, and accepts exactly the rating", async () => {
      const atRating = (RATED_POWER_W * 600n) / 3600n; // 3666 Wh in 600 s at 22 kW (floor)
      const ok = withPoints([
        { t: SESSION_START, e: 0n },
        { t: SESSION_START + 600n, e: atRating },
      ]).request;
      await expectAccepted("pay", inputOf(ok));
      const over = withPoints([
        { t: SESSION_START, e: 0n },
        { t: SESSION_START + 600n, e: atRating + 1n },
      ]).request;
      expect(() => buildPayWitness(over)).to.throw(/rating/);
      await expectRejected("pay", rawInput(over, buildPayWitness(ok).bill.amount), ["SessionBill"]);
    });

    it("rejects time or energy going backwards (the difference would wrap the field)", async () => {
      const back = withPoints([
        { t: SESSION_START, e: 1_000n },
        { t: SESSION_START + 60n, e: 999n },
      ]).request;
      await expectRejected("pay", rawInput(back, 500_000n), ["Num2Bits"]);
      const past = withPoints([
        { t: SESSION_START + 60n, e: 0n },
        { t: SESSION_START, e: 1n },
      ]).request;
      await expectRejected("pay", rawInput(past, 500_000n), ["Num2Bits"]);
    });

    it("range-checks the first reading: 2^40 - 1 is the last accepted time, 2^40 is refused", async () => {
      const top = (1n << 40n) - 1n;
      const tariff = scenarioTariff({ validFrom: top - 10n, validTo: top });
      const ok = withPoints([{ t: top, e: (1n << 40n) - 1n }], { tariff }).request;
      await expectAccepted("pay", inputOf(ok));
      const over = withPoints([{ t: 1n << 40n, e: 0n }], { tariff }).request;
      await expectRejected("pay", rawInput(over, 500_000n), ["Num2Bits", "SessionBill"]);
    });
  });

  it("agrees with the SDK's tariff calculator to the unit on random sessions, parked intervals, step sizes and duration limits included", async () => {
    let parked = 0;
    let rounded = 0;
    let afterLimit = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 0n, max: 22n * 3600n }), // start offset, seconds
        fc.array(
          fc.record({
            dt: fc.bigInt({ min: 0n, max: 5_000n }),
            // A third of the steps parked (0 W): intervals with de = 0 at the parking price.
            pw: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: RATED_POWER_W }), fc.bigInt({ min: 0n, max: 50n })),
          }),
          { minLength: 0, maxLength: 6 },
        ),
        fc.tuple(...[0, 1, 2, 3].map(() => fc.bigInt({ min: 0n, max: 1_000_000n }))),
        fc.tuple(...[0, 1, 2, 3].map(() => fc.bigInt({ min: 0n, max: 1_000_000n }))),
        fc.bigInt({ min: 0n, max: 3_000_000n }),
        fc.bigInt({ min: 0n, max: 3_000_000n }),
        fc.tuple(...[0, 1, 2].map(() => fc.oneof(fc.constant(1n), fc.bigInt({ min: 1n, max: 3_600n })))),
        // A duration limit half the time, with a random subset of its three prices.
        fc.option(
          fc.record({
            seconds: fc.bigInt({ min: 1n, max: 20_000n }),
            prices: fc.tuple(
              ...[0, 1, 2].map(() => fc.option(fc.bigInt({ min: 0n, max: 6_000_000n }), { nil: undefined })),
            ),
          }),
          { nil: undefined },
        ),
        async (offset, steps, timePrice, parkingPrice, minPrice, maxPrice, stepSize, limit) => {
          const [energyPrice, timePricePerHour, parkingPricePerHour] = limit?.prices ?? [];
          const durationLimit =
            limit && limit.prices.some((p) => p !== undefined)
              ? {
                  seconds: limit.seconds,
                  ...(energyPrice !== undefined ? { energyPrice } : {}),
                  ...(timePricePerHour !== undefined ? { timePricePerHour } : {}),
                  ...(parkingPricePerHour !== undefined ? { parkingPricePerHour } : {}),
                }
              : undefined;
          const tariff = scenarioTariff({
            ...(durationLimit ? { durationLimit } : {}),
            timePricePerHour: [timePrice[0]!, timePrice[1]!, timePrice[2]!, timePrice[3]!],
            parkingPricePerHour: [parkingPrice[0]!, parkingPrice[1]!, parkingPrice[2]!, parkingPrice[3]!],
            // The registry's rule: a floor at most the cap when a cap is set.
            minPrice: maxPrice > 0n && minPrice > maxPrice ? maxPrice : minPrice,
            maxPrice,
            validFrom: SESSION_START,
            validTo: SESSION_START + 86_400n,
            stepSize: [stepSize[0]!, stepSize[1]!, stepSize[2]!],
          });
          const s = payScenario();
          const meterSession = s.meter.startSession({
            sessionId: s.session.sessionId,
            tariff,
            t: SESSION_START + offset,
            e: 0n,
          });
          let t = SESSION_START + offset;
          let e = 0n;
          for (const step of steps) {
            if (meterSession.pointsLeft < 5) break; // boundaries, a state change and the duration limit
            const stop = t + step.dt;
            const readings = simulateCharging(meterSession, { to: stop, powerW: step.pw, stepSeconds: 900n });
            if (readings.length) ({ t, e } = readings.at(-1)!);
          }
          const session = meterSession.end(t, e);
          const w = buildPayWitness({ ...s.request, session });
          const witness = await expectAccepted("pay", w.input);
          const bill = computeBill(session.points, tariff, RATED_POWER_W);
          expect(witness[9]).to.equal(bill.amount);
          parked += bill.perInterval.filter((iv) => iv.parked && iv.dt > 0n).length;
          if (bill.stepNumerator > 0n) rounded++;
          if (bill.perInterval.some((iv) => iv.afterLimit)) afterLimit++;
        },
      ),
      slowPropertyRuns(12), // a witness and signed readings per run: fixed seed and count (ZKCHARGE_PROPERTY_*)
    );
    expect(parked, "some sessions must park (not a vacuous property)").to.be.above(0);
    expect(rounded, "some bills must round a step up").to.be.above(0);
    expect(afterLimit, "some sessions must go past a duration limit").to.be.above(0);
  });
});
