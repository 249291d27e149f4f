/**
 * Escrowed sessions: the driver locks a cap at plug-in (`driver lock`), the CPO checks it before switching on
 * (`cpo verify-escrow`) and closes it with the session end or, after the settle deadline, from the last live
 * tail (`cpo close`); the rest of the cap returns to the driver. Nobody closed by the claim deadline: the driver
 * takes it all back (`driver refund`).
 */
import { Option, type Command } from "commander";
import {
  EscrowStatus,
  formatAmount,
  readEscrow,
  roundDeadline,
  submitLock,
  type LiveEvidence,
  type SignedSession,
} from "../../sdk/index.ts";
import { HOUR } from "../../dev/localNetwork.ts";
import { defineCommand, runs } from "../context.ts";
import { CliError } from "../errors.ts";
import { detail, localDate, minutesUntil, printBill, proofLine, say, short, txLine } from "../format.ts";
import {
  escrowSession,
  findEscrow,
  findSession,
  needCpo,
  needDriver,
  needState,
  operatorOf,
  restoreSession,
  tariffOfEscrow,
  walletOf,
} from "../lookup.ts";
import { acceptLinkableOption, amountArg, option, type Parse, required, wholeArg } from "../options.ts";
import { enforcePrivacy } from "../privacy.ts";
import { relayerOption, submitThrough, submitterFor, viaText } from "../relay.ts";
import { attach, chainTime } from "../rpc.ts";
import type { EscrowRecord } from "../state.ts";
import { DEFAULT_RELAYER_FEE } from "./driver.ts";

const HEADING =
  "Escrowed sessions (lock a cap at plug-in, charge, the CPO closes; the rest of the cap returns to the driver):";
const MIN_SETTLE_WINDOW = 15n * 60n; // the pool's rules (docs/protocol.md, Escrowed sessions)
const MIN_CLAIM_HOURS = 24n;
const VERIFY_MIN_SECONDS_TO_SETTLE = HOUR; // what `cpo verify-escrow` requires before switching on
const DEFAULT_MIN_CAP = 10_000_000n;

interface LockOptions {
  acceptLinkable?: boolean;
  session: string;
  cap: bigint;
  settleMinutes: bigint;
  claimHours: bigint;
  fee: bigint;
  relayer?: string;
}

const claimHoursArg: Parse<bigint> = (text) => {
  const hours = wholeArg(365n * 24n)(text);
  if (hours < MIN_CLAIM_HOURS)
    throw new Error(`the pool requires at least ${MIN_CLAIM_HOURS} hours between the settle and claim deadlines`);
  return hours;
};

const escrowOption = () => required(new Option("--escrow <id>", "the escrow (id like e1, or its escrow id)"), "e1");

export function registerEscrowCommands(root: Command): void {
  runs<LockOptions>(
    defineCommand(
      root,
      "driver lock",
      "lock up to --cap for a started session, submitted by a relayer service (--relayer) or the relayer account 3",
    )
      .helpGroup(HEADING)
      .addOption(required(new Option("--session <id>", "a session begun with `session start`, before charging"), "s2"))
      .addOption(required(option("--cap <EUR>", "the most the session may charge", amountArg()), "20.00"))
      .addOption(
        option(
          "--settle-minutes <n>",
          "settle deadline = session start + this, rounded up to the 15-minute grid (so it does not tell when you plugged in)",
          wholeArg(30n * 24n * 60n),
        ).default(120n, "120"),
      )
      .addOption(
        option(
          "--claim-hours <n>",
          `claim deadline = settle deadline + this (>= ${MIN_CLAIM_HOURS})`,
          claimHoursArg,
        ).default(48n, "48"),
      )
      .addOption(
        option(
          "--fee <EUR>",
          "the relayer's fee on top of the cap (a --relayer service quotes its own)",
          amountArg({ positive: false }),
        ).default(DEFAULT_RELAYER_FEE, formatAmount(DEFAULT_RELAYER_FEE, "")),
      )
      .addOption(relayerOption())
      .addOption(acceptLinkableOption()),
    async (ctx, maybe, o) => {
      const state = needState(ctx, maybe);
      const entry = findSession(state, o.session);
      if (!entry.live)
        throw new CliError(
          `session ${entry.id} was not begun with \`session start\`: lock at plug-in, before charging`,
        );
      if (entry.status !== "started")
        throw new CliError(
          `session ${entry.id} has ${entry.status === "paid" ? "been paid" : "ended"}: lock before charging`,
        );
      if (!entry.nonces)
        throw new CliError(
          `session ${entry.id} has no session nonces in the state file (started by an older zkcharge): start a new one`,
        );
      const open = (state.escrows ?? []).find((e) => e.sessionRef === entry.id && e.status === "open");
      if (open) throw new CliError(`session ${entry.id} already has the open escrow ${open.id}`);
      const identity = needDriver(state);
      const cpo = needCpo(state);
      const { tariff } = entry.live;
      const settleDeadline = roundDeadline(entry.live.start.t + o.settleMinutes * 60n);
      const claimDeadline = settleDeadline + o.claimHours * HOUR;
      const d = await attach(ctx, state);
      const now = await chainTime(d.provider);
      if (settleDeadline < now + MIN_SETTLE_WINDOW) {
        throw new CliError(
          `the settle deadline ${localDate(settleDeadline, tariff)} would be less than 15 min after the chain time ` +
            `${localDate(now, tariff)} (local): raise --settle-minutes`,
        );
      }
      const submitter = await submitterFor(d, "lock", o.relayer, o.fee, ctx.watch.timeoutMs);
      const { relayer, fee } = submitter;
      const driver = walletOf(state, identity, d);
      const started = Date.now();
      const lock = await driver.prepareLock({
        cpoId: cpo.cpoId,
        ...entry.nonces,
        sessionId: entry.live.sessionId,
        cap: o.cap,
        settleDeadline,
        claimDeadline,
        fee,
        relayer,
      });
      const wall = Date.now() - started;
      enforcePrivacy("lock", lock.privacy, o.acceptLinkable);
      const lockTx = await submitThrough(
        submitter,
        "lock",
        (quote) => ({ operation: "lock", proof: lock.groth16, publicSignals: lock.pub, extData: lock.ext, quote }),
        (signer) => submitLock(d.pool, lock, signer),
        ctx.watch.timeoutMs,
      );
      const id = `e${(state.escrows ?? []).length + 1}`;
      say(
        `Escrow ${id} locked for session ${entry.id}: cap ${formatAmount(o.cap)}, ${viaText(submitter)} (fee ${formatAmount(fee)})`,
      );
      detail(`escrow id ${short(lock.escrowId)} (the lock's nullifier)`);
      detail(
        `settle deadline ${localDate(settleDeadline, tariff)}, claim deadline ${localDate(claimDeadline, tariff)} (local)`,
      );
      proofLine(lock.witnessMs, lock.proveMs, wall);
      await driver.sync();
      detail(`driver's private balance: ${formatAmount(driver.balance)} (+ ${formatAmount(o.cap)} in escrow)`);
      const escrow: EscrowRecord = {
        id,
        escrowId: lock.escrowId,
        sessionRef: entry.id,
        cap: o.cap,
        fee,
        settleDeadline,
        claimDeadline,
        lockTx,
        status: "open",
      };
      return { ...state, escrows: [...(state.escrows ?? []), escrow] };
    },
  );

  runs<{ escrow: string; minCap: bigint }>(
    defineCommand(
      root,
      "cpo verify-escrow",
      "the CPO's check before switching on: open, this CPO and session, cap >= --min-cap, >= 60 min to the settle deadline",
    )
      .helpGroup(HEADING)
      .addOption(escrowOption())
      .addOption(
        option("--min-cap <EUR>", "the least cap the CPO accepts", amountArg()).default(
          DEFAULT_MIN_CAP,
          formatAmount(DEFAULT_MIN_CAP, ""),
        ),
      ),
    async (ctx, maybe, o) => {
      const state = needState(ctx, maybe);
      const escrow = findEscrow(state, o.escrow);
      const cpo = needCpo(state);
      const entry = escrowSession(state, escrow);
      const sessionId = entry.live?.sessionId ?? entry.session!.sessionId;
      const tariff = tariffOfEscrow(state, escrow);
      const d = await attach(ctx, state);
      const operator = operatorOf(d, cpo, await d.signer(1));
      const onChain = await operator.verifyEscrow(escrow.escrowId, {
        sessionId,
        minCap: o.minCap,
        minSecondsToSettle: VERIFY_MIN_SECONDS_TO_SETTLE,
      });
      const now = await chainTime(d.provider);
      say(`Escrow ${escrow.id} OK for session ${entry.id}: switch the charger on`);
      detail(`open, for CPO ${onChain.cpoId} and session ${short(sessionId)} (unpaid)`);
      detail(`cap ${formatAmount(onChain.cap)} >= ${formatAmount(o.minCap)} required`);
      detail(
        `settle deadline ${localDate(onChain.settleDeadline, tariff)} local, ${minutesUntil(now, onChain.settleDeadline)} min from chain time ` +
          `(>= ${VERIFY_MIN_SECONDS_TO_SETTLE / 60n} required)`,
      );
      return undefined;
    },
  );

  runs<{ escrow: string; tail?: boolean }>(
    defineCommand(root, "cpo close", "prove and submit the close of an escrow with the session-end record")
      .helpGroup(HEADING)
      .addOption(escrowOption())
      .addOption(
        new Option(
          "--tail",
          "close from the last live tail instead (the driver disappeared), only after the settle deadline",
        ),
      ),
    async (ctx, maybe, o) => {
      const state = needState(ctx, maybe);
      const escrow = findEscrow(state, o.escrow);
      const tail = o.tail === true;
      if (escrow.status !== "open") throw new CliError(`escrow ${escrow.id} is already ${escrow.status}`);
      const cpo = needCpo(state);
      const entry = escrowSession(state, escrow);
      let record: SignedSession | LiveEvidence;
      let tailFrom: bigint | undefined;
      if (tail) {
        if (entry.session)
          throw new CliError(`session ${entry.id} ended: close with its session-end record (drop --tail)`);
        if (!entry.live) throw new CliError(`session ${entry.id} has no live readings`);
        const { session: live, lastTail } = restoreSession(state, entry);
        if (!lastTail) {
          throw new CliError(
            `session ${entry.id} has no live tail after its last chain point: ` +
              `\`session simulate --session ${entry.id} --minutes <n> --power-w <W> --keep-open\``,
          );
        }
        record = live.evidence(lastTail);
        tailFrom = record.points.at(-1)!.t;
      } else {
        if (!entry.session) {
          throw new CliError(
            `session ${entry.id} has not ended (no session-end record): end it with \`session simulate --session ${entry.id}\`, ` +
              "or close from the last live tail with --tail after the settle deadline",
          );
        }
        record = entry.session;
      }
      const tariff = record.tariff;
      const d = await attach(ctx, state);
      const onChain = await readEscrow(d.pool, escrow.escrowId);
      if (onChain.status !== EscrowStatus.Open)
        throw new CliError(`escrow ${escrow.id} is no longer open on chain (${EscrowStatus[onChain.status]})`);
      const now = await chainTime(d.provider);
      if (now > escrow.claimDeadline) {
        throw new CliError(
          `the claim deadline ${localDate(escrow.claimDeadline, tariff)} has passed (chain time ${localDate(now, tariff)}): ` +
            "the escrow can only be refunded to the driver",
        );
      }
      if (tail && now <= escrow.settleDeadline) {
        throw new CliError(
          `a live tail closes only after the settle deadline ${localDate(escrow.settleDeadline, tariff)} (chain time ` +
            `${localDate(now, tariff)}, local): wait, or on a dev chain \`zkcharge chain advance --minutes ${minutesUntil(now, escrow.settleDeadline) + 1n}\``,
        );
      }
      const operator = operatorOf(d, cpo, await d.signer(1));
      say(
        `Closing escrow ${escrow.id} (session ${entry.id}) ${tail ? "from the last live tail (the driver disappeared)" : "with the session-end record"}`,
      );
      const started = Date.now();
      const { closing, receipt } = await operator.close(escrow.escrowId, record);
      const wall = Date.now() - started;
      printBill(closing.bill, tariff, tailFrom);
      const refund = escrow.cap - closing.pub.amount;
      detail(
        `charged ${formatAmount(closing.pub.amount)} of the ${formatAmount(escrow.cap)} cap, refund ${formatAmount(refund)} to the driver as a note`,
      );
      detail(`proof: prove ${Math.round(closing.proveMs)} ms (${(wall / 1000).toFixed(1)} s, no driver secret needed)`);
      txLine(`CPO submitted close`, receipt);
      detail(`CPO earnings in the pool: ${formatAmount(await operator.earnings())}`);
      const closed: EscrowRecord = {
        ...escrow,
        status: "closed",
        charged: closing.pub.amount,
        closeMode: tail ? "tail" : "final",
        closeTx: receipt.hash,
      };
      return {
        ...state,
        escrows: (state.escrows ?? []).map((e) => (e.id === escrow.id ? closed : e)),
        sessions: state.sessions.map((s) =>
          s.id === entry.id ? { ...s, status: "paid", amount: closing.pub.amount, payTx: receipt.hash } : s,
        ),
      };
    },
  );

  runs<{ escrow: string }>(
    defineCommand(
      root,
      "driver refund",
      "refund an escrow nobody closed, after its claim deadline (submitted by the relayer)",
    )
      .helpGroup(HEADING)
      .addOption(escrowOption()),
    async (ctx, maybe, o) => {
      const state = needState(ctx, maybe);
      const escrow = findEscrow(state, o.escrow);
      if (escrow.status !== "open") throw new CliError(`escrow ${escrow.id} is already ${escrow.status}`);
      const identity = needDriver(state);
      const tariff = tariffOfEscrow(state, escrow);
      const d = await attach(ctx, state);
      const now = await chainTime(d.provider);
      if (now <= escrow.claimDeadline) {
        throw new CliError(
          `escrow ${escrow.id} refunds only after its claim deadline ${localDate(escrow.claimDeadline, tariff)} (chain time ` +
            `${localDate(now, tariff)}, local): the CPO may still close it; on a dev chain \`zkcharge chain advance --minutes ` +
            `${minutesUntil(now, escrow.claimDeadline) + 1n}\``,
        );
      }
      const relayer = await d.signer(3);
      const driver = walletOf(state, identity, d);
      const receipt = await driver.refund(escrow.escrowId, relayer);
      say(
        `Escrow ${escrow.id} refunded: ${formatAmount(escrow.cap)} back to the driver as a note (submitted by the relayer ${relayer.address})`,
      );
      txLine("refund", receipt);
      await driver.sync();
      detail(`driver's private balance: ${formatAmount(driver.balance)}`);
      const refunded: EscrowRecord = { ...escrow, status: "refunded", refundTx: receipt.hash };
      return { ...state, escrows: (state.escrows ?? []).map((e) => (e.id === escrow.id ? refunded : e)) };
    },
  );
}
