/**
 * The lock circuit (spend one note into an escrow for one (cpoId, sessionId), with a public cap) against the
 * soundness checklist: an honest witness passes with exactly the SDK's public signals, and each cheat is
 * rejected by the template that holds the rule it breaks. Honest witnesses come from buildLockWitness over
 * real SDK objects; a cheat edits the witness input and recomputes only what the cheater controls
 * (nullifier, change commitment, refund precommitment, its own nonces) with the protocol hashes.
 *
 * The pool keeps one escrow per session, so the circuit must stop a stranger who saw a session id (in the
 * mempool) from locking it first: the proof takes the session's nonces privately and checks they hash to it.
 */
import { expect } from "chai";
import { buildLockWitness, type LockRequest } from "../../sdk/proofs/lockInput.ts";
import { LOCK_PUBLIC_SIGNALS, lockSignalArray } from "../../sdk/proofs/publicSignals.ts";
import { BABYJUB_SUBGROUP_ORDER, FIELD_MODULUS, TAGS } from "../../sdk/core/constants.ts";
import { InsufficientBalanceError, InvalidInputError } from "../../sdk/core/errors.ts";
import { poseidon, precommitment, sessionId as makeSessionId } from "../../sdk/core/hash.ts";
import { randomBits } from "../../sdk/core/field.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import { Note } from "../../sdk/core/note.ts";
import { CPO_ID, SCENARIO_NONCES, SESSION_START, payScenario } from "../fixtures/session.ts";
import { expectAccepted, expectRejected } from "./helpers.ts";

const MAX = (1n << 64n) - 1n;

type Input = Record<string, bigint | bigint[]>;

/** A driver with a 50 EUR note locking `cap` (+ a relayer fee) for the scenario session. */
function lockScenario(opts: { value?: bigint; cap?: bigint; fee?: bigint } = {}) {
  const s = payScenario({ value: opts.value });
  const request: LockRequest = {
    secretScalar: s.identity.secretScalar,
    note: s.note,
    notePath: s.request.notePath,
    cap: opts.cap ?? 20_000_000n,
    fee: opts.fee ?? 100_000n,
    cpoId: CPO_ID,
    ...SCENARIO_NONCES,
    sessionId: s.session.sessionId,
    settleDeadline: SESSION_START + 4n * 3600n,
    claimDeadline: SESSION_START + 28n * 3600n,
    changeBlinding: 987_654_321n,
    refundBlinding: 123_456_789n,
    extDataHash: 4242n,
  };
  return { ...s, request, witness: buildLockWitness(request) };
}

/** The change commitment a cheater would publish for `value` (no SDK 64-bit check, so r - 1 can be forged). */
const changeOf = (note: Note, blinding: bigint, value: bigint, idc = note.idc) =>
  poseidon([TAGS.note, precommitment(idc, blinding), ((value % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS]);

/** Rejected with innermost template one of `inner`, reached through template `via`. */
const expectRejectedVia = (input: Input, inner: string[], via: string) => expectRejected("lock", input, inner, via);

describe("lock circuit", function () {
  this.timeout(120_000);

  describe("honest locks", () => {
    it("accepts an honest lock with exactly the SDK's public signals, in order", async () => {
      const s = lockScenario();
      const w = s.witness;
      const witness = await expectAccepted("lock", w.input);
      expect(witness.slice(1, 13)).to.deep.equal(lockSignalArray(w.publicSignals));
      expect(w.publicSignals.nullifier).to.equal(
        s.note.nullifier(s.request.notePath.leafIndex, s.identity.secretScalar),
      );
      expect(w.change.value).to.equal(50_000_000n - 20_000_000n - 100_000n);
      expect(w.refund.value).to.equal(20_000_000n);
      expect(w.publicSignals.refundPrecommitment).to.equal(w.refund.precommitment);
      expect(w.publicSignals.changeCommitment).to.equal(w.change.commitment);
    });

    it("accepts a cap of the whole note (change 0), also at 2^64 - 1", async () => {
      const whole = lockScenario({ cap: 50_000_000n, fee: 0n });
      expect(whole.witness.change.value).to.equal(0n);
      await expectAccepted("lock", whole.witness.input);
      const top = lockScenario({ value: MAX, cap: MAX, fee: 0n });
      expect(top.witness.change.value).to.equal(0n);
      const witness = await expectAccepted("lock", top.witness.input);
      expect(witness[6]).to.equal(MAX); // cap
    });

    it("binds cpoId and both deadlines as public signals (squared in the circuit), sessionId through its nonces", async () => {
      const s = lockScenario();
      const witness = await expectAccepted("lock", s.witness.input);
      const at = (name: (typeof LOCK_PUBLIC_SIGNALS)[number]) => witness[1 + LOCK_PUBLIC_SIGNALS.indexOf(name)];
      expect([
        at("cpoId"),
        at("sessionId"),
        at("settleDeadline"),
        at("claimDeadline"),
        at("extDataHash"),
      ]).to.deep.equal([CPO_ID, s.request.sessionId, s.request.settleDeadline, s.request.claimDeadline, 4242n]);
      expect(LOCK_PUBLIC_SIGNALS.indexOf("cpoId")).to.equal(7);
      expect(LOCK_PUBLIC_SIGNALS.indexOf("sessionId")).to.equal(8);
      // Only squared: another value is still a valid witness, but its square sits in the witness (the
      // constraint survived --O2), so the proof is bound to the public value.
      const other = 0xc0ffeen;
      const changed = await expectAccepted("lock", { ...s.witness.input, cpoId: other, settleDeadline: other + 1n });
      expect(changed).to.include(other * other);
      expect(changed).to.include((other + 1n) * (other + 1n));
      // sessionId is no longer free: it must be the hash of the nonces (see "session nonces" below).
      await expectRejected("lock", { ...s.witness.input, sessionId: other }, ["Lock"]);
    });
  });

  describe("identity and note", () => {
    it("rejects scalar aliasing: s + l gives the same identity but must not spend", async () => {
      const s = lockScenario();
      const aliased = s.identity.secretScalar + BABYJUB_SUBGROUP_ORDER;
      const nf = poseidon([TAGS.nullifier, s.note.commitment, s.request.notePath.leafIndex, aliased]);
      await expectRejectedVia(
        { ...s.witness.input, secret: aliased, nullifier: nf },
        ["IdentityCommitment", "Num2Bits"],
        "IdentityCommitment",
      );
    });

    it("rejects a free leaf index (idx + 2^24): one note, one escrow id", async () => {
      const s = lockScenario();
      const idx = s.request.notePath.leafIndex + (1n << 24n);
      const nf = poseidon([TAGS.nullifier, s.note.commitment, idx, s.identity.secretScalar]);
      await expectRejectedVia({ ...s.witness.input, leafIndex: idx, nullifier: nf }, ["Num2Bits"], "LeanIMTRoot");
    });

    it("rejects a note worth more than its commitment (value + 1, change recomputed)", async () => {
      const s = lockScenario();
      const value = s.note.value + 1n;
      const change = changeOf(s.note, s.request.changeBlinding, value - s.request.cap - s.request.fee);
      await expectRejected("lock", { ...s.witness.input, value, changeCommitment: change }, ["NoteSpend"]);
    });
  });

  describe("balance", () => {
    it("rejects cap + fee above the note value (change wraps to r - 1)", async () => {
      const s = lockScenario();
      expect(() => buildLockWitness({ ...s.request, cap: s.note.value - s.request.fee + 1n })).to.throw(
        InsufficientBalanceError,
      );
      const cap = s.note.value - s.request.fee + 1n;
      const change = changeOf(s.note, s.request.changeBlinding, -1n);
      await expectRejectedVia({ ...s.witness.input, cap, changeCommitment: change }, ["Num2Bits"], "NoteCommitment");
    });

    it("rejects cap = 2^64 and fee = 2^64 (even on a note that would cover them in the field)", async () => {
      const s = lockScenario();
      expect(() => buildLockWitness({ ...s.request, cap: 1n << 64n })).to.throw(InvalidInputError);
      const input = s.witness.input;
      await expectRejectedVia({ ...input, cap: 1n << 64n }, ["Num2Bits"], "Lock");
      await expectRejectedVia({ ...input, fee: 1n << 64n }, ["Num2Bits"], "Lock");
      // cap = fee = 2^64 - 1 on a 2^64 - 1 note: each fits, their sum does not.
      const top = lockScenario({ value: MAX, cap: MAX, fee: 0n });
      const change = changeOf(top.note, top.request.changeBlinding, MAX - MAX - MAX);
      await expectRejectedVia(
        { ...top.witness.input, fee: MAX, changeCommitment: change },
        ["Num2Bits"],
        "NoteCommitment",
      );
    });

    it("rejects a smaller public cap than the value moved out (change kept too low)", async () => {
      const s = lockScenario();
      // Public cap 1 EUR less than what left the note: 1 EUR would vanish from the pool's books.
      await expectRejected("lock", { ...s.witness.input, cap: s.request.cap - 1_000_000n }, ["Lock"]);
    });
  });

  describe("session nonces: only the session's driver (or station) can lock it", () => {
    it("computes the SDK's session id from the nonces (random 128-bit nonces and the edges)", async () => {
      const s = lockScenario();
      const top = (1n << 128n) - 1n;
      const pairs = [
        [0n, 0n],
        [top, top],
        [top, 0n],
        [randomBits(128), randomBits(128)],
        [randomBits(128), randomBits(128)],
      ];
      for (const [stationNonce, driverNonce] of pairs) {
        const w = buildLockWitness({
          ...s.request,
          stationNonce: stationNonce!,
          driverNonce: driverNonce!,
          sessionId: undefined,
        });
        expect(w.publicSignals.sessionId).to.equal(makeSessionId(stationNonce!, driverNonce!));
        const witness = await expectAccepted("lock", w.input);
        expect(witness[1 + LOCK_PUBLIC_SIGNALS.indexOf("sessionId")]).to.equal(
          makeSessionId(stationNonce!, driverNonce!),
        );
      }
    });

    it("rejects a stranger's lock of someone else's session id: it knows the id, not the nonces", async () => {
      // The stranger saw the victim's session id (e.g. in a pending lock) and owns its own note: everything
      // else in its witness is honest, only the nonces are guesses.
      const victim = lockScenario();
      const stranger = lockScenario();
      const target = victim.session.sessionId;
      for (const nonces of [
        { stationNonce: randomBits(128), driverNonce: randomBits(128) },
        { stationNonce: SCENARIO_NONCES.stationNonce, driverNonce: randomBits(128) }, // knows the station's half
        { stationNonce: SCENARIO_NONCES.driverNonce, driverNonce: SCENARIO_NONCES.stationNonce }, // swapped
        { stationNonce: SCENARIO_NONCES.stationNonce, driverNonce: SCENARIO_NONCES.driverNonce + 1n },
        { stationNonce: target, driverNonce: 0n }, // the id itself as a "nonce"
      ]) {
        await expectRejected("lock", { ...stranger.witness.input, ...nonces, sessionId: target }, ["Lock"]);
      }
      // With its own nonces the stranger proves its own session id, never the victim's.
      const own = { stationNonce: randomBits(128), driverNonce: randomBits(128) };
      const w = buildLockWitness({ ...stranger.request, ...own, sessionId: undefined });
      expect(w.publicSignals.sessionId).to.not.equal(target);
      await expectAccepted("lock", w.input);
    });

    it("the SDK refuses nonces that do not make the requested session id, and nonces wider than 128 bits", () => {
      const s = lockScenario();
      expect(() => buildLockWitness({ ...s.request, driverNonce: SCENARIO_NONCES.driverNonce + 1n })).to.throw(
        InvalidInputError,
        /do not make session/,
      );
      expect(() =>
        buildLockWitness({
          ...s.request,
          stationNonce: SCENARIO_NONCES.driverNonce,
          driverNonce: SCENARIO_NONCES.stationNonce,
        }),
      ).to.throw(InvalidInputError, /do not make session/);
      expect(() => buildLockWitness({ ...s.request, stationNonce: 1n << 128n, sessionId: undefined })).to.throw(
        InvalidInputError,
        /station nonce/,
      );
      expect(() => buildLockWitness({ ...s.request, driverNonce: -1n, sessionId: undefined })).to.throw(
        InvalidInputError,
        /driver nonce/,
      );
    });
  });

  describe("where the value goes", () => {
    it("rejects a refund precommitment of another identity: the refund must return to the spender", async () => {
      const s = lockScenario();
      const mallory = DriverIdentity.random();
      await expectRejected(
        "lock",
        {
          ...s.witness.input,
          refundPrecommitment: precommitment(mallory.commitment, s.request.refundBlinding),
        },
        ["Lock"],
      );
    });

    it("rejects change sent to another identity", async () => {
      const s = lockScenario();
      const mallory = DriverIdentity.random();
      const change = changeOf(s.note, s.request.changeBlinding, s.witness.change.value, mallory.commitment);
      await expectRejected("lock", { ...s.witness.input, changeCommitment: change }, ["Lock"]);
    });
  });
});
