/**
 * Contract-level invariant test of the Pool: a seeded random sequence of operations (deposit, pay,
 * transact merge / withdraw through a relayer, lock, close by session end or live tail, refund, CPO
 * withdraw, time travel) by 3 drivers and 2 CPOs on a real Hardhat chain with real proofs. Operations
 * that cannot apply are either skipped or submitted anyway and must revert with the custom error a
 * model of the pool's check order predicts; among them a second lock, with a real proof by a driver who knows
 * the session's nonces, for a session that already has an escrow (one escrow per session, ever: the outside
 * review's cap bypass). After every step:
 *   token.balanceOf(pool) == unspent notes (every driver's sync) + open escrows' caps + CPO balances,
 * every driver's balance and every escrow's status match the model, no session is paid twice
 * (SessionPaid / EscrowClosed) and no escrow ends twice (EscrowClosed / EscrowRefunded).
 *
 * ZKCHARGE_INVARIANT_OPS (default 300) and ZKCHARGE_INVARIANT_SEED (default fixed; "random" picks one)
 * override the run. The op sequence, amounts, times and session readings are deterministic given the
 * seed; only note blindings (the SDK's CSPRNG) differ between runs, which no decision depends on.
 *
 * Chain time is quantised so wall-clock drift cannot change a decision: step k runs at virtual time
 * T_k (T_0 + multiples of Q), every deadline sits at T_0 + (multiple of Q) + Q/2, and each step
 * asserts the chain never got Q/2 ahead of T_k.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { getAddress, hexlify, type Signer } from "ethers";
import { shutdownProver } from "../../prover/index.ts";
import {
  Driver,
  submitLock,
  submitTransaction,
  type Locking,
  type Payment,
  type Transaction,
} from "../../sdk/actors/driver.ts";
import { EscrowStatus, prepareClose, submitClose, type Closing } from "../../sdk/actors/escrow.ts";
import { decryptNote } from "../../sdk/core/encryption.ts";
import { InsufficientBalanceError, InvalidInputError } from "../../sdk/core/errors.ts";
import { sessionId as makeSessionId } from "../../sdk/core/hash.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import { Meter } from "../../sdk/meter/meter.ts";
import { type LiveEvidence, type LiveTail, type SignedSession } from "../../sdk/meter/record.ts";
import { Note } from "../../sdk/core/note.ts";
import { Operator } from "../../sdk/actors/operator.ts";
import { computeBill, type Tariff } from "../../sdk/tariff/tariff.ts";
import type { SessionNonces } from "../../sdk/proofs/lockInput.ts";
import { DAY, HOUR, nextLocalTime, setUpNetwork, type Network } from "../fixtures/chain.ts";
import { simulateCharging } from "../../sdk/meter/simulator.ts";

const { ethers, networkHelpers } = await network.create();

// ---------------------------------------------------------------- configuration

const OPS = Number(process.env.ZKCHARGE_INVARIANT_OPS ?? 300);
const SEED = (() => {
  const raw = process.env.ZKCHARGE_INVARIANT_SEED;
  if (raw === "random") return (Math.random() * 2 ** 32) >>> 0;
  return raw === undefined ? 0x2c0ffee : Number(raw) >>> 0;
})();
/** At most this many proofs (pay, transact, lock, close); proof ops fall back to cheap ones beyond it. */
const MAX_PROOFS = Number(process.env.ZKCHARGE_INVARIANT_PROOFS ?? Math.max(8, Math.ceil(OPS / 6.5)));
/** Time quantum: every step advances the chain by at least Q; deadlines sit at Q/2 offsets. */
const Q = 600n;
const HALF = Q / 2n;
const USDC = 1_000_000n;
const FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

// ---------------------------------------------------------------- seeded PRNG (mulberry32)

class Rng {
  #a: number;
  constructor(seed: number) {
    this.#a = seed >>> 0;
  }
  next(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    let t = this.#a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** Bigint in [lo, hi]. */
  big(lo: bigint, hi: bigint): bigint {
    const span = hi - lo + 1n;
    let x = 0n;
    for (let i = 0; i < 4; i++) x = (x << 32n) | BigInt(this.int(0, 0xffffffff));
    return lo + (x % span);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(0, items.length - 1)]!;
  }
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(0, 255));
  }
  bits(n: number): bigint {
    return BigInt(hexlify(this.bytes(Math.ceil(n / 8))));
  }
  weighted<T extends string>(weights: Record<T, number>): T {
    const entries = Object.entries(weights) as [T, number][];
    let r = this.next() * entries.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of entries) if ((r -= w) < 0) return k;
    return entries[entries.length - 1]![0];
  }
}

// ---------------------------------------------------------------- model

interface CpoModel {
  op: Operator;
  admin: Signer;
  adminAddress: string;
  payout: string;
  meter: Meter;
  tariff: Tariff;
  /** Expected pool.cpoBalance. */
  balance: bigint;
}

type Status = "open" | "closed" | "refunded";

interface EscrowModel {
  id: bigint;
  owner: number;
  cpo: number;
  sessionId: bigint;
  /** The nonces that make sessionId (what a lock proves). */
  nonces: SessionNonces;
  cap: bigint;
  settle: bigint;
  claim: bigint;
  status: Status;
  /** Status changed this step (checked against storage at the next invariant check). */
  touched: boolean;
  /** The session the meter records after plug-in. */
  start: bigint;
  minutes: bigint;
  powerW: bigint;
}

/** A consumed proof to replay, with how to predict its revert. */
type Stale =
  | { kind: "pay"; payment: Payment }
  | { kind: "transact"; tx: Transaction }
  | { kind: "lock"; lock: Locking }
  | { kind: "close"; closing: Closing };

const GARBAGE_PROOF = {
  a: [0n, 0n] as [bigint, bigint],
  b: [
    [0n, 0n],
    [0n, 0n],
  ] as [[bigint, bigint], [bigint, bigint]],
  c: [0n, 0n] as [bigint, bigint],
};
const EMPTY_EXT = {
  recipient: ethers.ZeroAddress,
  relayer: ethers.ZeroAddress,
  extAmount: 0n,
  encryptedOutput1: "0x",
  encryptedOutput2: "0x",
};

type OpName =
  | "deposit"
  | "travel"
  | "refund"
  | "cpoWithdraw"
  | "fail"
  | "pay"
  | "merge"
  | "withdraw"
  | "lock"
  | "close0"
  | "close1";
const WEIGHTS: Record<OpName, number> = {
  deposit: 15,
  travel: 12,
  refund: 10,
  cpoWithdraw: 7,
  fail: 16,
  pay: 7,
  merge: 3,
  withdraw: 4,
  lock: 7,
  close0: 5,
  close1: 6,
};

describe(`pool invariant: ${OPS} random operations (seed ${SEED})`, function () {
  this.timeout(1_800_000);
  after(shutdownProver);

  it("keeps token balance == notes + open escrows + CPO balances, pays each session once, ends each escrow once", async () => {
    const started = Date.now();
    console.log(
      `      seed ${SEED} (ZKCHARGE_INVARIANT_SEED), ${OPS} ops (ZKCHARGE_INVARIANT_OPS), at most ${MAX_PROOFS} proofs`,
    );
    const rng = new Rng(SEED);

    // -------------------------------------------------------------- set-up: 2 CPOs, 3 drivers
    const net: Network = await setUpNetwork(ethers);
    const { pool, token, testToken } = net.deployment;
    const poolAddress = await pool.getAddress();
    const signers = await ethers.getSigners();
    const cpo2Admin = signers[6]!;
    const cpo2Payout = await signers[7]!.getAddress();
    const { relayer, payer, other, recipient, deployer, cpo: cpo1Admin } = net.signers;
    const payers = [payer, other];
    for (const p of payers) await (await testToken!.mint(await p.getAddress(), 100_000n * USDC)).wait();

    const op2 = await Operator.register({
      registry: net.deployment.registry,
      pool,
      signer: cpo2Admin,
      payout: cpo2Payout,
    });
    const meter2 = new Meter({ cpoId: op2.cpoId, ratedPowerW: 11_000n, privateKey: rng.bytes(32) });
    await op2.addMeter(meter2);
    const setupNow = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const tariff2Fields = {
      flatFee: 300_000n,
      energyPrice: [200_000n, 350_000n, 420_000n, 280_000n] as const,
      bandStart: [0n, 6n * HOUR, 18n * HOUR, 23n * HOUR] as const,
      timePricePerHour: [60_000n, 60_000n, 60_000n, 60_000n] as const,
      parkingPricePerHour: [30_000n, 30_000n, 30_000n, 30_000n] as const,
      minPrice: 0n,
      maxPrice: 6n * USDC,
      tzOffset: 0n,
      validFrom: setupNow + 60n,
      validTo: setupNow + 180n * DAY,
      stepSize: [1n, 1n, 1n] as const,
    };
    await op2.publishTariff(tariff2Fields);
    const cpos: CpoModel[] = [
      {
        op: net.operator,
        admin: cpo1Admin,
        adminAddress: await cpo1Admin.getAddress(),
        payout: await cpo1Admin.getAddress(),
        meter: net.meter,
        tariff: net.tariff,
        balance: 0n,
      },
      {
        op: op2,
        admin: cpo2Admin,
        adminAddress: await cpo2Admin.getAddress(),
        payout: cpo2Payout,
        meter: meter2,
        tariff: { ...tariff2Fields, cpoId: op2.cpoId },
        balance: 0n,
      },
    ];
    const validTo = net.tariff.validTo < cpos[1]!.tariff.validTo ? net.tariff.validTo : cpos[1]!.tariff.validTo;

    const drivers: Driver[] = [0, 1, 2].map(
      () =>
        new Driver(
          DriverIdentity.fromSecret(Buffer.from(rng.bytes(32)).toString("base64")),
          pool.connect(ethers.provider),
        ),
    );
    const expectedBalance = [0n, 0n, 0n];
    const submitters: Signer[] = [relayer, other, recipient, deployer, cpo1Admin, cpo2Admin];

    // Virtual clock: UTC 08:00 at least a day after setup, so times of day do not depend on the wall clock.
    let T = nextLocalTime(setupNow + DAY, 8n * HOUR, 0n);
    await networkHelpers.time.increaseTo(T);
    const T0 = T;

    // -------------------------------------------------------------- model state
    const escrows: EscrowModel[] = [];
    const paid = new Set<string>(); // `${cpoId}:${sessionId}` paid by pay or close (model)
    const sessionEscrow = new Map<string, bigint>(); // `${cpoId}:${sessionId}` -> its one escrow (model of pool.sessionEscrow)
    const sessionsSeen: { cpo: number; sessionId: bigint }[] = [];
    const stale: Stale[] = [];
    const seenPaid = new Set<string>(); // from events
    const seenEnded = new Set<bigint>(); // escrow ids closed or refunded, from events
    let lastBlock = await ethers.provider.getBlockNumber();
    let proofs = 0;
    const stats = new Map<string, number>();
    const count = (key: string) => stats.set(key, (stats.get(key) ?? 0) + 1);
    const proofMs = new Map<string, number[]>();
    const noteProof = (circuit: string, ms: number) => proofMs.set(circuit, [...(proofMs.get(circuit) ?? []), ms]);
    const key = (cpo: number, sessionId: bigint) => `${cpos[cpo]!.op.cpoId}:${sessionId}`;
    const openCaps = () => escrows.filter((e) => e.status === "open").reduce((s, e) => s + e.cap, 0n);

    async function expectRevert(p: Promise<unknown>, error: string, outcome: string): Promise<string> {
      await expect(p).to.be.revertedWithCustomError(pool, error);
      return `${outcome}:revert ${error}`;
    }
    async function expectSdkError(
      p: Promise<unknown>,
      type: new (...args: never[]) => Error,
      outcome: string,
    ): Promise<string> {
      const error = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `${outcome}: expected ${type.name}`).to.be.instanceOf(type);
      return `${outcome}:${type.name}`;
    }
    const fresh = (): bigint => rng.big(1n, FIELD - 1n);
    const newSessionId = (): bigint => makeSessionId(rng.bits(128), rng.bits(128));
    /** Fresh session nonces (the station's and the driver's) with the session id they make. */
    const newSession = (): SessionNonces & { sessionId: bigint } => {
      const nonces = { stationNonce: rng.bits(128), driverNonce: rng.bits(128) };
      return { ...nonces, sessionId: makeSessionId(nonces.stationNonce, nonces.driverNonce) };
    };
    const randomAddress = (): string => getAddress(hexlify(rng.bytes(20)));

    function signedSession(
      cpo: number,
      sessionId: bigint,
      start: bigint,
      minutes: bigint,
      powerW: bigint,
    ): SignedSession {
      const c = cpos[cpo]!;
      const live = c.meter.startSession({ sessionId, tariff: c.tariff, t: start, e: 5_000_000n });
      const readings = simulateCharging(live, { to: start + minutes * 60n, powerW, stepSeconds: 300n });
      const last = readings.at(-1)!;
      return live.end(last.t, last.e);
    }
    function liveEvidence(e: EscrowModel): LiveEvidence {
      const c = cpos[e.cpo]!;
      const live = c.meter.startSession({ sessionId: e.sessionId, tariff: c.tariff, t: e.start, e: 5_000_000n });
      const readings = simulateCharging(live, { to: e.start + e.minutes * 60n, powerW: e.powerW, stepSeconds: 300n });
      let last = readings.at(-1)!;
      if (last.kind !== "live") last = live.addReading(last.t + 60n, last.e);
      return live.evidence(last as LiveTail);
    }
    const billOf = (cpo: number, points: SignedSession["points"]) =>
      computeBill(points, cpos[cpo]!.tariff, cpos[cpo]!.meter.ratedPowerW).amount;

    // -------------------------------------------------------------- expected reverts (the pool's check order)
    /** Close with a garbage proof: the error the pool must raise before it looks at the proof. */
    function closeError(e: EscrowModel | undefined, mode: bigint, callerAddress: string): string {
      if (!e || e.status !== "open") return "Pool__EscrowNotOpen";
      if (paid.has(key(e.cpo, e.sessionId))) return "Pool__SessionAlreadyPaid";
      if (mode > 1n) return "Pool__InvalidMode";
      if (T > e.claim) return "Pool__ClaimDeadlinePassed";
      if (mode === 1n) {
        if (callerAddress !== cpos[e.cpo]!.adminAddress) return "Pool__NotCpoAdmin";
        if (T <= e.settle) return "Pool__BeforeSettleDeadline";
      }
      return "Pool__InvalidMeterRoot";
    }

    async function replay(s: Stale, by: Signer): Promise<string> {
      const size = await pool.noteTreeSize();
      switch (s.kind) {
        case "pay": {
          const err = size - s.payment.pub.noteTreeSize >= 256n ? "Pool__UnknownRoot" : "Pool__NullifierSpent";
          return expectRevert(pool.connect(by).pay(s.payment.proof, s.payment.pub, s.payment.ext), err, "replay pay");
        }
        case "transact":
          return expectRevert(submitTransaction(pool, s.tx, by), "Pool__NullifierSpent", "replay transact");
        case "lock": {
          const err = size - s.lock.pub.noteTreeSize >= 256n ? "Pool__UnknownRoot" : "Pool__NullifierSpent";
          return expectRevert(submitLock(pool, s.lock, by), err, "replay lock");
        }
        case "close":
          return expectRevert(submitClose(pool, s.closing, by), "Pool__EscrowNotOpen", "replay close");
      }
    }

    /** A cheap operation that must revert (or fail in the SDK) before any proof is made or checked. */
    async function cheapFailure(): Promise<string> {
      const by = rng.pick(submitters);
      const kind = rng.weighted({
        deposit0: 1,
        replay: stale.length > 0 ? 4 : 0,
        garbagePay: 2,
        garbageLock: 3,
        garbageClose: 4,
        sdk: 2,
      });
      switch (kind) {
        case "deposit0":
          return expectRevert(
            pool.connect(rng.pick(payers)).deposit(fresh(), 0n, "0x"),
            "Pool__AmountOutOfRange",
            "deposit 0",
          );
        case "replay":
          return replay(rng.pick(stale), by);
        case "garbagePay": {
          const [root, size] = [await pool.noteRoot(), await pool.noteTreeSize()];
          const c = rng.int(0, 1);
          const paidIds = sessionsSeen.filter((s) => paid.has(key(s.cpo, s.sessionId)));
          const target =
            paidIds.length > 0 && rng.chance(0.7) ? rng.pick(paidIds) : { cpo: c, sessionId: newSessionId() };
          const staleRoot = rng.chance(0.25);
          const pub = {
            noteRoot: staleRoot ? fresh() : root,
            noteTreeSize: size,
            nullifier: fresh(),
            changeCommitment: fresh(),
            meterRoot: 0n,
            cpoId: cpos[target.cpo]!.op.cpoId,
            tariffHash: 0n,
            sessionId: target.sessionId,
            amount: 1n,
            fee: 0n,
            extDataHash: 0n,
          };
          const err =
            staleRoot || size === 0n
              ? "Pool__UnknownRoot"
              : paid.has(key(target.cpo, target.sessionId))
                ? "Pool__SessionAlreadyPaid"
                : "Pool__InvalidMeterRoot";
          return expectRevert(pool.connect(by).pay(GARBAGE_PROOF, pub, EMPTY_EXT), err, "garbage pay");
        }
        case "garbageLock": {
          const [root, size] = [await pool.noteRoot(), await pool.noteTreeSize()];
          const cpoIdx = rng.int(0, 2); // 2: an unregistered CPO
          const cpoId = cpoIdx < 2 ? cpos[cpoIdx]!.op.cpoId : 99n;
          const paidIds = sessionsSeen.filter((s) => s.cpo === cpoIdx && paid.has(key(s.cpo, s.sessionId)));
          const held = escrows.filter((e) => e.cpo === cpoIdx); // sessions that have their escrow
          const sessionId =
            paidIds.length > 0 && rng.chance(0.4)
              ? rng.pick(paidIds).sessionId
              : held.length > 0 && rng.chance(0.4)
                ? rng.pick(held).sessionId
                : newSessionId();
          const cap = rng.chance(0.2) ? 0n : rng.big(1n, 10n * USDC);
          const shape = rng.weighted({ ok: 1, shortSettle: 2, shortClaim: 2 });
          const settle = shape === "shortSettle" ? T + HALF : T + 2n * Q + HALF;
          const claim = shape === "shortClaim" ? settle + DAY - Q : settle + DAY;
          const pub = {
            noteRoot: root,
            noteTreeSize: size,
            nullifier: fresh(),
            changeCommitment: fresh(),
            refundPrecommitment: fresh(),
            cap,
            fee: 0n,
            cpoId,
            sessionId,
            settleDeadline: settle,
            claimDeadline: claim,
            extDataHash: 0n,
          };
          const err =
            size === 0n
              ? "Pool__UnknownRoot" // an empty tree has no known root
              : cpoIdx < 2 && paid.has(key(cpoIdx, sessionId))
                ? "Pool__SessionAlreadyPaid"
                : cpoIdx < 2 && sessionEscrow.has(key(cpoIdx, sessionId))
                  ? "Pool__SessionHasEscrow"
                  : cpoIdx === 2
                    ? "Pool__UnknownCpo"
                    : cap === 0n
                      ? "Pool__AmountOutOfRange"
                      : shape === "shortSettle"
                        ? "Pool__SettleWindowTooShort"
                        : shape === "shortClaim"
                          ? "Pool__ClaimWindowTooShort"
                          : "Pool__ExtDataHashMismatch";
          return expectRevert(pool.connect(by).lock(GARBAGE_PROOF, pub, EMPTY_EXT), err, "garbage lock");
        }
        case "garbageClose": {
          const e = escrows.length > 0 && rng.chance(0.85) ? rng.pick(escrows) : undefined;
          const id = e?.id ?? fresh();
          const mode = rng.chance(0.1) ? 2n : BigInt(rng.int(0, 1));
          const caller = e && mode === 1n && rng.chance(0.5) ? cpos[e.cpo]!.admin : by;
          const err = closeError(e, mode, await caller.getAddress());
          const pub = { mode, meterRoot: 0n, tariffHash: 0n, amount: 0n, refundCommitment: 0n, extDataHash: 0n };
          return expectRevert(
            pool.connect(caller).close(id, GARBAGE_PROOF, pub, EMPTY_EXT),
            err,
            `garbage close m${mode}`,
          );
        }
        case "sdk": {
          // Asking for more than any note (or the two largest) holds fails in the wallet, before proving.
          const d = rng.int(0, 2);
          const driver = drivers[d]!;
          if (rng.chance(0.5)) {
            const top = notesOf(d)
              .map((n) => n.note.value)
              .sort((a, b) => (a > b ? -1 : 1));
            const two = (top[0] ?? 0n) + (top[1] ?? 0n);
            return expectSdkError(
              driver.prepareWithdraw({ to: randomAddress(), relayer: await relayer.getAddress(), amount: two + 1n }),
              InsufficientBalanceError,
              "withdraw too much",
            );
          }
          const max = notesOf(d).reduce((m, n) => (n.note.value > m ? n.note.value : m), 0n);
          return expectSdkError(
            driver.prepareLock({
              cpoId: cpos[0]!.op.cpoId,
              ...newSession(),
              cap: max + 1n,
              settleDeadline: T + 2n * Q + HALF,
              claimDeadline: T + 2n * Q + HALF + DAY,
            }),
            InsufficientBalanceError,
            "lock too much",
          );
        }
      }
      throw new Error(`unknown failure kind ${kind}`);
    }

    // -------------------------------------------------------------- operations
    const ops: Record<OpName, () => Promise<string | null>> = {
      async deposit() {
        const d = rng.int(0, 2);
        const value = rng.chance(0.15) ? rng.big(1n, 999_999n) : rng.big(1n, 40n) * USDC + rng.big(0n, 999_999n);
        await drivers[d]!.deposit(value, rng.pick(payers));
        expectedBalance[d]! += value;
        return "deposit:ok";
      },

      async travel() {
        const r = rng.next();
        const steps = r < 0.5 ? rng.int(1, 6) : r < 0.8 ? rng.int(6, 144) : rng.int(144, 432);
        let next = T + BigInt(steps) * Q;
        if (next + 10n * DAY > validTo) next = T + Q;
        T = next;
        await networkHelpers.time.increaseTo(T);
        return steps >= 144 ? "travel:days" : steps > 6 ? "travel:hours" : "travel:minutes";
      },

      async refund() {
        const by = rng.pick(submitters);
        const e = escrows.length > 0 && rng.chance(0.9) ? rng.pick(escrows) : undefined;
        if (!e) return expectRevert(pool.connect(by).refund(fresh()), "Pool__EscrowNotOpen", "refund unknown");
        if (e.status !== "open")
          return expectRevert(pool.connect(by).refund(e.id), "Pool__EscrowNotOpen", "refund ended");
        if (T <= e.claim)
          return expectRevert(pool.connect(by).refund(e.id), "Pool__BeforeClaimDeadline", "refund early");
        const owner = drivers[e.owner]!;
        const refundable = (await owner.refundable()).map((x) => x.escrowId);
        expect(refundable, "refundable() lists the escrow").to.include(e.id);
        await owner.refund(e.id, by);
        e.status = "refunded";
        e.touched = true;
        expectedBalance[e.owner]! += e.cap;
        return "refund:ok";
      },

      async cpoWithdraw() {
        const c = rng.int(0, 1);
        const cpo = cpos[c]!;
        if (rng.chance(0.25)) {
          const by = rng.pick(submitters.filter((s) => s !== cpo.admin));
          return expectRevert(pool.connect(by).withdraw(cpo.op.cpoId), "Pool__NotCpoAdmin", "cpo withdraw by other");
        }
        if (cpo.balance === 0n) return expectRevert(cpo.op.withdraw(), "Pool__NothingToWithdraw", "cpo withdraw empty");
        const before = await token.balanceOf(cpo.payout);
        await cpo.op.withdraw();
        expect(await token.balanceOf(cpo.payout), "payout received the CPO balance").to.equal(before + cpo.balance);
        cpo.balance = 0n;
        return "cpoWithdraw:ok";
      },

      fail: cheapFailure,

      async pay() {
        const d = rng.int(0, 2);
        const c = rng.int(0, 1);
        const driver = drivers[d]!;
        // Sometimes pay directly for a session some escrow of this CPO holds (the escrow must then be refunded).
        const squatted = escrows.filter((e) => e.cpo === c && e.status === "open" && !paid.has(key(c, e.sessionId)));
        const sessionId = squatted.length > 0 && rng.chance(0.25) ? rng.pick(squatted).sessionId : newSessionId();
        const start = T - BigInt(rng.int(3, 40)) * Q;
        const session = signedSession(c, sessionId, start, BigInt(rng.int(10, 150)), BigInt(rng.int(3_000, 22_000)));
        const fee = rng.chance(0.3) ? rng.big(1n, 50_000n) : 0n;
        const relayerAddress = await relayer.getAddress();
        const due = billOf(c, session.points) + fee;
        const { meterPath } = await cpos[c]!.op.receipt(session);
        const args = { session, meterPath, fee, relayer: fee > 0n ? relayerAddress : undefined };
        if (!notesOf(d).some((n) => n.note.value >= due)) {
          return expectSdkError(driver.preparePayment(args), InsufficientBalanceError, "pay unaffordable");
        }
        if (proofs >= MAX_PROOFS) return null;
        proofs++;
        const payment = await driver.preparePayment(args);
        noteProof("pay", payment.witnessMs + payment.proveMs);
        expect(payment.pub.amount + fee).to.equal(due);
        const before = await token.balanceOf(relayerAddress);
        if (fee > 0n) await (await pool.connect(relayer).pay(payment.proof, payment.pub, payment.ext)).wait();
        else await cpos[c]!.op.submitPayment(payment);
        expect(await token.balanceOf(relayerAddress)).to.equal(before + fee);
        expectedBalance[d]! -= due;
        cpos[c]!.balance += payment.pub.amount;
        paid.add(key(c, sessionId));
        sessionsSeen.push({ cpo: c, sessionId });
        stale.push({ kind: "pay", payment });
        return fee > 0n ? "pay:ok relayed" : "pay:ok";
      },

      async merge() {
        const d = rng.int(0, 2);
        const driver = drivers[d]!;
        if (notesOf(d).length < 2) return expectSdkError(driver.prepareMerge(), InvalidInputError, "merge single");
        if (proofs >= MAX_PROOFS) return null;
        const top = notesOf(d)
          .map((n) => n.note.value)
          .sort((a, b) => (a > b ? -1 : 1));
        const fee = top[0]! + top[1]! > 100_000n && rng.chance(0.5) ? rng.big(1n, 20_000n) : 0n;
        proofs++;
        const tx = await driver.prepareMerge({ fee, relayer: await relayer.getAddress() });
        noteProof("transact", tx.witnessMs + tx.proveMs);
        await submitTransaction(pool, tx, relayer);
        expectedBalance[d]! -= fee;
        stale.push({ kind: "transact", tx });
        return "merge:ok";
      },

      async withdraw() {
        const d = rng.int(0, 2);
        const driver = drivers[d]!;
        const top = notesOf(d)
          .map((n) => n.note.value)
          .sort((a, b) => (a > b ? -1 : 1));
        const available = (top[0] ?? 0n) + (top[1] ?? 0n);
        const to = randomAddress();
        const relayerAddress = await relayer.getAddress();
        const fee = rng.chance(0.5) ? rng.big(0n, 30_000n) : 0n;
        if (available <= fee) {
          return expectSdkError(
            driver.prepareWithdraw({ to, relayer: relayerAddress, fee, amount: 1n }),
            InsufficientBalanceError,
            "withdraw empty",
          );
        }
        if (proofs >= MAX_PROOFS) return null;
        const amount = rng.chance(0.2) ? available - fee : rng.big(1n, available - fee);
        proofs++;
        const tx = await driver.prepareWithdraw({ to, relayer: relayerAddress, fee, amount });
        noteProof("transact", tx.witnessMs + tx.proveMs);
        const before = await token.balanceOf(relayerAddress);
        await submitTransaction(pool, tx, relayer);
        expect(await token.balanceOf(to), "recipient got the withdrawal").to.equal(amount);
        expect(await token.balanceOf(relayerAddress)).to.equal(before + fee);
        expectedBalance[d]! -= amount + fee;
        stale.push({ kind: "transact", tx });
        return "withdraw:ok";
      },

      async lock() {
        const c = rng.int(0, 1);
        // Sometimes the review's attack: the owner of a session's escrow (open, or refunded and still unpaid)
        // locks a second one for it, often with a tiny cap; its proof is valid (it knows the nonces), the pool
        // must refuse it, and nothing moves.
        const held = escrows.filter((e) => e.cpo === c && e.status !== "closed" && !paid.has(key(c, e.sessionId)));
        const open = held.filter((e) => e.status === "open");
        const targets = open.length > 0 && rng.chance(0.8) ? open : held; // mostly an open escrow, as in the review
        const second = held.length > 0 && rng.chance(0.25) ? rng.pick(targets) : undefined;
        const d = second ? second.owner : rng.int(0, 2);
        const driver = drivers[d]!;
        const session = second ? { ...second.nonces, sessionId: second.sessionId } : newSession();
        const { sessionId } = session;
        const cap = second && rng.chance(0.6) ? 1n : rng.chance(0.2) ? rng.big(1n, USDC) : rng.big(1n, 20n) * USDC;
        const fee = rng.chance(0.3) ? rng.big(1n, 40_000n) : 0n;
        const settle = T + BigInt(rng.int(3, 24)) * Q + HALF;
        const claim = settle + DAY + BigInt(rng.int(0, 12)) * Q;
        const args = {
          cpoId: cpos[c]!.op.cpoId,
          ...session,
          cap,
          settleDeadline: settle,
          claimDeadline: claim,
          fee,
          relayer: fee > 0n ? await relayer.getAddress() : undefined,
        };
        if (!notesOf(d).some((n) => n.note.value >= cap + fee)) {
          return expectSdkError(driver.prepareLock(args), InsufficientBalanceError, "lock unaffordable");
        }
        if (proofs >= MAX_PROOFS) return null;
        proofs++;
        const lock = await driver.prepareLock(args);
        noteProof("lock", lock.witnessMs + lock.proveMs);
        if (second) {
          await expect(submitLock(pool, lock, rng.pick(submitters)))
            .to.be.revertedWithCustomError(pool, "Pool__SessionHasEscrow")
            .withArgs(cpos[c]!.op.cpoId, sessionId, second.id);
          expect(await pool.nullifierSpent(lock.escrowId), "a refused second lock spends nothing").to.equal(false);
          return `lock:second refused (${second.status})`;
        }
        await submitLock(pool, lock, relayer);
        await cpos[c]!.op.verifyEscrow(lock.escrowId, { sessionId, minCap: cap, minSecondsToSettle: 15n * 60n });
        sessionEscrow.set(key(c, sessionId), lock.escrowId);
        escrows.push({
          id: lock.escrowId,
          owner: d,
          cpo: c,
          sessionId,
          nonces: { stationNonce: session.stationNonce, driverNonce: session.driverNonce },
          cap,
          settle,
          claim,
          status: "open",
          touched: true,
          start: T + 60n,
          minutes: BigInt(rng.int(10, 150)),
          powerW: BigInt(rng.int(3_000, 22_000)),
        });
        sessionsSeen.push({ cpo: c, sessionId });
        expectedBalance[d]! -= cap + fee;
        stale.push({ kind: "lock", lock });
        return fee > 0n ? "lock:ok relayed" : "lock:ok";
      },

      async close0() {
        const open = escrows.filter((e) => e.status === "open" && !paid.has(key(e.cpo, e.sessionId)) && T <= e.claim);
        // Mostly the driver's own session end before the settle deadline; sometimes a late one (still allowed).
        const early = open.filter((e) => T <= e.settle);
        const candidates = early.length > 0 && rng.chance(0.7) ? early : open;
        if (candidates.length === 0 || proofs >= MAX_PROOFS) return null;
        const e = rng.pick(candidates);
        const session = signedSession(e.cpo, e.sessionId, e.start, e.minutes, e.powerW);
        const { meterPath } = await cpos[e.cpo]!.op.receipt(session);
        proofs++;
        const closing = await prepareClose(pool, e.id, session, meterPath);
        noteProof("close", closing.proveMs);
        const bill = billOf(e.cpo, session.points);
        const amount = bill < e.cap ? bill : e.cap;
        expect(closing.pub.amount, "close charges min(bill, cap)").to.equal(amount);
        await submitClose(pool, closing, rng.pick(submitters)); // anyone may close with the session end
        settleClose(e, amount, closing);
        return amount === e.cap ? "close0:ok capped" : "close0:ok";
      },

      async close1() {
        const open = escrows.filter((e) => e.status === "open" && !paid.has(key(e.cpo, e.sessionId)) && T <= e.claim);
        const due = open.filter((e) => T > e.settle);
        if (due.length === 0 || proofs >= MAX_PROOFS) return null;
        const e = rng.pick(due);
        const evidence = liveEvidence(e);
        const { meterPath } = await cpos[e.cpo]!.op.receipt(evidence);
        proofs++;
        const closing = await prepareClose(pool, e.id, evidence, meterPath);
        noteProof("close", closing.proveMs);
        const bill = billOf(e.cpo, [...evidence.points, evidence.tail]);
        const amount = bill < e.cap ? bill : e.cap;
        expect(closing.pub.amount, "live close charges min(bill, cap)").to.equal(amount);
        const outsider = rng.pick(submitters.filter((s) => s !== cpos[e.cpo]!.admin));
        await expect(submitClose(pool, closing, outsider)).to.be.revertedWithCustomError(pool, "Pool__NotCpoAdmin");
        await submitClose(pool, closing, cpos[e.cpo]!.admin);
        settleClose(e, amount, closing);
        return amount === e.cap ? "close1:ok capped" : "close1:ok";
      },
    };

    function settleClose(e: EscrowModel, amount: bigint, closing: Closing): void {
      e.status = "closed";
      e.touched = true;
      cpos[e.cpo]!.balance += amount;
      expectedBalance[e.owner]! += e.cap - amount;
      paid.add(key(e.cpo, e.sessionId));
      stale.push({ kind: "close", closing });
    }

    // -------------------------------------------------------------- the invariant
    // The pool's events, read incrementally (each block once): every leaf, decrypted once per driver,
    // every escrow with its owner (from its encrypted refund opening), spent nullifiers. A full
    // Driver.sync() per driver (events from block 0, tree rebuilt and checked against the root) is
    // cross-checked against it every SYNC_EVERY steps and at the end.
    interface Owned {
      note: Note;
      leafIndex: number;
      nullifier: bigint;
      owner: number;
    }
    const leafOwner: (Owned | undefined)[] = [];
    const leafByCommitment = new Map<bigint, number>();
    const spent = new Set<bigint>();
    const ledgerEscrows = new Map<bigint, { owner: number; cap: bigint; refund: Note; open: boolean }>();
    const SYNC_EVERY = 20;
    /** A driver's unspent notes as of the last invariant check (= now, at the start of a step). */
    const notesOf = (d: number): Owned[] =>
      leafOwner.filter((o): o is Owned => o!.owner === d && !spent.has(o!.nullifier));

    async function checkInvariant(step: number, fullSync: boolean): Promise<void> {
      const latest = (await ethers.provider.getBlock("latest"))!;
      expect(
        BigInt(latest.timestamp) < T + HALF,
        `step ${step}: chain time ran ${BigInt(latest.timestamp) - T} s past the step's`,
      ).to.equal(true);

      const to = latest.number;
      if (to > lastBlock) {
        const from = lastBlock + 1;
        const [addedEv, spentEv, lockedEv, paidEv, closedEv, refundedEv] = await Promise.all([
          pool.queryFilter(pool.filters.NoteAdded(), from, to),
          pool.queryFilter(pool.filters.NullifierSpent(), from, to),
          pool.queryFilter(pool.filters.EscrowLocked(), from, to),
          pool.queryFilter(pool.filters.SessionPaid(), from, to),
          pool.queryFilter(pool.filters.EscrowClosed(), from, to),
          pool.queryFilter(pool.filters.EscrowRefunded(), from, to),
        ]);
        for (const ev of [...addedEv].sort((a, b) => Number(a.args.index - b.args.index))) {
          const index = Number(ev.args.index);
          expect(index, "leaves arrive in order").to.equal(leafOwner.length);
          leafByCommitment.set(ev.args.commitment, index);
          let owned: Owned | undefined;
          if (ev.args.encryptedOpening !== "0x") {
            const bytes = Buffer.from(ev.args.encryptedOpening.slice(2), "hex");
            for (const [i, d] of drivers.entries()) {
              const note = decryptNote(bytes, d.identity.encryptionKeyPair.secretKey, d.identity.commitment);
              if (note && note.commitment === ev.args.commitment) {
                owned = { note, leafIndex: index, nullifier: note.nullifier(index, d.identity.secretScalar), owner: i };
                break;
              }
            }
          }
          leafOwner.push(owned); // refund leaves (empty opening) are filled in from their escrow below
        }
        for (const ev of spentEv) {
          expect(spent.has(ev.args.nullifier), `nullifier ${ev.args.nullifier} spent twice`).to.equal(false);
          spent.add(ev.args.nullifier);
        }
        for (const ev of lockedEv) {
          const bytes = Buffer.from(ev.args.encryptedRefund.slice(2), "hex");
          for (const [i, d] of drivers.entries()) {
            const refund = decryptNote(bytes, d.identity.encryptionKeyPair.secretKey, d.identity.commitment);
            if (refund && refund.precommitment === ev.args.refundPrecommitment && refund.value === ev.args.cap) {
              ledgerEscrows.set(ev.args.escrowId, { owner: i, cap: ev.args.cap, refund, open: true });
            }
          }
          expect(
            ledgerEscrows.has(ev.args.escrowId),
            `escrow ${ev.args.escrowId} belongs to one of the drivers`,
          ).to.equal(true);
        }
        const giveBack = (escrowId: bigint, value: bigint) => {
          const e = ledgerEscrows.get(escrowId);
          expect(e?.open, `escrow ${escrowId} ends once, from open`).to.equal(true);
          e!.open = false;
          if (value === 0n) return;
          const d = drivers[e!.owner]!;
          const note = new Note(value, e!.refund.blinding, d.identity.commitment);
          const index = leafByCommitment.get(note.commitment);
          expect(index, `escrow ${escrowId} returned ${value} as a note`).to.not.equal(undefined);
          leafOwner[index!] = {
            note,
            leafIndex: index!,
            nullifier: note.nullifier(index!, d.identity.secretScalar),
            owner: e!.owner,
          };
        };
        for (const ev of closedEv)
          giveBack(ev.args.escrowId, ledgerEscrows.get(ev.args.escrowId)!.cap - ev.args.amount);
        for (const ev of refundedEv) giveBack(ev.args.escrowId, ledgerEscrows.get(ev.args.escrowId)!.cap);

        for (const k of [...paidEv, ...closedEv].map((ev) => `${ev.args.cpoId}:${ev.args.sessionId}`)) {
          expect(seenPaid.has(k), `session ${k} paid twice`).to.equal(false);
          seenPaid.add(k);
        }
        for (const id of [...closedEv, ...refundedEv].map((ev) => ev.args.escrowId)) {
          expect(seenEnded.has(id), `escrow ${id} ended twice`).to.equal(false);
          seenEnded.add(id);
        }
        lastBlock = to;
      }
      expect(BigInt(leafOwner.length), "every leaf seen").to.equal(await pool.noteTreeSize());
      const orphan = leafOwner.findIndex((o) => o === undefined);
      expect(orphan, `leaf ${orphan} belongs to none of the drivers`).to.equal(-1);

      // Unspent notes by driver, open escrows, CPO balances.
      const unspent = [0n, 0n, 0n];
      for (const o of leafOwner) if (!spent.has(o!.nullifier)) unspent[o!.owner]! += o!.note.value;
      for (const i of [0, 1, 2]) expect(unspent[i], `driver ${i} balance`).to.equal(expectedBalance[i]);
      const notes = unspent.reduce((a, b) => a + b, 0n);
      let escrowed = 0n;
      for (const [id, e] of ledgerEscrows) {
        const model = escrows.find((m) => m.id === id);
        expect(model?.owner, `escrow ${id} owner`).to.equal(e.owner);
        expect(e.open, `escrow ${id} open`).to.equal(model!.status === "open");
        if (e.open) escrowed += e.cap;
      }
      expect(ledgerEscrows.size, "escrows (events vs model)").to.equal(escrows.length);
      let cpoTotal = 0n;
      for (const [i, c] of cpos.entries()) {
        const onChain = await pool.cpoBalance(c.op.cpoId);
        expect(onChain, `CPO ${i} balance`).to.equal(c.balance);
        cpoTotal += onChain;
      }
      const held = await token.balanceOf(poolAddress);
      expect(held, "token balance == unspent notes + open escrows + CPO balances").to.equal(
        notes + escrowed + cpoTotal,
      );
      expect(escrowed).to.equal(openCaps());

      for (const e of escrows) {
        if (e.status === "open" || e.touched) {
          const status = Number((await pool.escrow(e.id)).status);
          const want =
            e.status === "open"
              ? EscrowStatus.Open
              : e.status === "closed"
                ? EscrowStatus.Closed
                : EscrowStatus.Refunded;
          expect(status, `escrow ${e.id} status`).to.equal(want);
          expect(
            await pool.sessionEscrow(cpos[e.cpo]!.op.cpoId, e.sessionId),
            `escrow ${e.id} is its session's one escrow`,
          ).to.equal(e.id);
          e.touched = false;
        }
      }
      expect(seenPaid.size, "paid sessions (events vs model)").to.equal(paid.size);
      expect(seenEnded.size, "ended escrows (events vs model)").to.equal(
        escrows.filter((e) => e.status !== "open").length,
      );

      if (fullSync) {
        // The wallets' own view (Driver.sync from block 0) agrees with the incremental one.
        let synced = 0n;
        for (const [i, d] of drivers.entries()) {
          const owned = await d.sync();
          expect(owned.map((o) => o.nullifier).sort(), `driver ${i} notes (sync vs events)`).to.deep.equal(
            leafOwner
              .filter((o) => o!.owner === i && !spent.has(o!.nullifier))
              .map((o) => o!.nullifier)
              .sort(),
          );
          synced += d.balance + d.escrows.filter((e) => e.status === EscrowStatus.Open).reduce((s, e) => s + e.cap, 0n);
        }
        expect(held, "token balance == synced notes + open escrows + CPO balances").to.equal(synced + cpoTotal);
      }
    }

    // -------------------------------------------------------------- run
    await checkInvariant(-1, true);
    const trace: string[] = [];
    let invariantMs = 0;
    const opMs = new Map<string, number>();
    for (let step = 0; step < OPS; step++) {
      T += Q;
      await networkHelpers.time.increaseTo(T);
      const name = rng.weighted(WEIGHTS);
      let outcome: string;
      const opStart = Date.now();
      try {
        outcome = (await ops[name]()) ?? `${await cheapFailure()} (for ${name})`;
        trace.push(`${step}: ${outcome}`);
        opMs.set(name, (opMs.get(name) ?? 0) + Date.now() - opStart);
        const t = Date.now();
        await checkInvariant(step, step % SYNC_EVERY === SYNC_EVERY - 1 || step === OPS - 1);
        invariantMs += Date.now() - t;
      } catch (error) {
        console.log(
          `      seed ${SEED}: failed at step ${step} (${name}); last steps:\n        ${trace.slice(-10).join("\n        ")}`,
        );
        throw error;
      }
      count(outcome.replace(/ \(for .*\)$/, ""));
      if (outcome.endsWith(`(for ${name})`)) count(`(${name} not applicable: fell back to a cheap failure)`);
    }

    // -------------------------------------------------------------- report
    const ended = escrows.filter((e) => e.status !== "open").length;
    const elapsed = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `      ${OPS} ops in ${elapsed} s (invariant checks ${(invariantMs / 1000).toFixed(1)} s), ${proofs} proofs, ` +
        `${escrows.length} escrows (${ended} ended), ${paid.size} sessions paid, ${(T - T0) / 3600n} h of chain time`,
    );
    for (const [k, v] of [...stats.entries()].sort()) console.log(`        ${String(v).padStart(4)}  ${k}`);
    console.log(
      `      proofs (worker ms): ${[...proofMs.entries()].map(([k, v]) => `${k} ${v.length} x [${v.join(", ")}]`).join("; ")}`,
    );
    console.log(
      `      time by op: ${[...opMs.entries()].map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(", ")}`,
    );
    expect(proofs).to.be.greaterThan(0);
  });
});
