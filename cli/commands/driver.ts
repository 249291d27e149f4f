/**
 * The driver, a Semaphore identity kept in the state file (it has no account; the payer funds its deposits and
 * the relayer submits for it): `driver new`, `deposit`, `pay`, `balance`, `withdraw`.
 */
import { Option, type Command } from "commander";
import {
  Driver,
  DriverIdentity,
  EscrowStatus,
  InvalidInputError,
  formatAmount,
  submitTransaction,
  transactRelayRequest,
  type Transaction,
} from "../../sdk/index.ts";
import { defineCommand, needPlaintextAllowed, runs } from "../context.ts";
import { CliError } from "../errors.ts";
import { detail, localDate, printBill, proofLine, say, short, txLine } from "../format.ts";
import { findSession, needCpo, needDriver, needState, operatorOf, tariffOfEscrow, walletOf } from "../lookup.ts";
import { acceptLinkableOption, addressArg, amountArg, option, required } from "../options.ts";
import { enforcePrivacy } from "../privacy.ts";
import { relayerOption, submitThrough, submitterFor, viaText } from "../relay.ts";
import { attach, chainTime, tokenBalance } from "../rpc.ts";
import type { CliState } from "../state.ts";

const HEADING = "Driver (a Semaphore identity in the state file):";
/** What the relayer takes for submitting a withdrawal, a lock or a refund, unless --fee says otherwise. */
export const DEFAULT_RELAYER_FEE = 20_000n;

/** The driver's escrows as rebuilt from events, with the state's handles where known; `now` is the chain time. */
function printDriverEscrows(state: CliState, driver: Driver, now: bigint): void {
  for (const e of driver.escrows) {
    const rec = (state.escrows ?? []).find((r) => r.escrowId === e.escrowId);
    const name = rec ? `escrow ${rec.id} (session ${rec.sessionRef})` : `escrow ${short(e.escrowId)}`;
    const tariff = rec ? tariffOfEscrow(state, rec) : state.tariffs.at(-1)?.tariff;
    const when = (t: bigint) => (tariff ? localDate(t, tariff) : t.toString());
    if (e.status === EscrowStatus.Open) {
      // Past the claim deadline nobody can close it any more: the driver may take it back at once.
      const refund =
        now > e.claimDeadline
          ? `refundable now: \`driver refund --escrow ${rec?.id ?? e.escrowId}\``
          : `refundable after ${when(e.claimDeadline)}`;
      detail(`${name}: open, ${formatAmount(e.cap)} locked (settle by ${when(e.settleDeadline)}, ${refund})`);
    } else if (e.status === EscrowStatus.Refunded) {
      detail(`${name}: refunded, ${formatAmount(e.cap)} back in the wallet`);
    } else {
      const how =
        rec?.closeMode === "tail"
          ? "closed from a live tail"
          : rec?.closeMode === "final"
            ? "closed by the session end"
            : "closed";
      detail(
        `${name}: ${how}, charged ${formatAmount(e.charged ?? 0n)} of ${formatAmount(e.cap)}, ` +
          `refund ${formatAmount(e.cap - (e.charged ?? 0n))} back in the wallet`,
      );
    }
  }
}

export function registerDriverCommands(root: Command): void {
  runs<{ force?: boolean }>(
    defineCommand(root, "driver new", "create the driver's Semaphore identity (stored in plaintext in the state file)")
      .helpGroup(HEADING)
      .addOption(new Option("--force", "replace an existing identity (its notes become unreachable)")),
    async (ctx, maybe, o) => {
      const state = needState(ctx, maybe);
      needPlaintextAllowed(ctx, state, "the driver's identity secret");
      if (state.driver && !o.force) {
        throw new CliError(
          "a driver identity already exists in this state: pass --force to replace it (its notes become unreachable)",
        );
      }
      const identity = DriverIdentity.random();
      say("Driver identity created (Semaphore v4); its secret is stored in plaintext in the state file");
      detail(`identity commitment ${short(identity.commitment)} (never published)`);
      return { ...state, driver: { secret: identity.export(), createdAt: new Date().toISOString() } };
    },
    { reconcile: false },
  ); // offline: creates a key, acts on nothing paid or open

  runs<{ amount: bigint }>(
    defineCommand(root, "driver deposit", "deposit into a new private note, paid by the payer account (account 2)")
      .helpGroup(HEADING)
      .addOption(required(option("--amount <EUR>", "amount, e.g. 20.00", amountArg()), "20.00")),
    async (ctx, maybe, o) => {
      const state = needState(ctx, maybe);
      const identity = needDriver(state);
      const d = await attach(ctx, state);
      const payer = await d.signer(2);
      const funds = await tokenBalance(d, payer.address);
      if (funds < o.amount)
        throw new CliError(
          `the payer ${payer.address} holds ${formatAmount(funds)}, less than ${formatAmount(o.amount)}`,
        );
      const driver = walletOf(state, identity, d);
      const { receipt } = await driver.deposit(o.amount, payer);
      await driver.sync();
      say(`Deposited ${formatAmount(o.amount)} from the payer ${payer.address}`);
      txLine("deposit", receipt);
      detail(
        `driver's private balance: ${formatAmount(driver.balance)} in ${driver.notes.filter((n) => n.note.value > 0n).length} note(s)`,
      );
      return state;
    },
  );

  runs<{ session: string; acceptLinkable?: boolean }>(
    defineCommand(root, "driver pay", "prove the payment of an ended session; the CPO checks and submits it")
      .helpGroup(HEADING)
      .addOption(required(new Option("--session <id>", "the session (id like s1, or its session id)"), "s1"))
      .addOption(acceptLinkableOption()),
    async (ctx, maybe, o) => {
      const state = needState(ctx, maybe);
      const entry = findSession(state, o.session);
      if (entry.status === "paid") throw new CliError(`session ${entry.id} is already paid (tx ${entry.payTx})`);
      if (!entry.session) {
        throw new CliError(
          `session ${entry.id} has not ended: end it with \`session simulate --session ${entry.id} --minutes <n> --power-w <W>\``,
        );
      }
      const identity = needDriver(state);
      const cpo = needCpo(state);
      const d = await attach(ctx, state);
      const operator = operatorOf(d, cpo, await d.signer(1));
      const driver = walletOf(state, identity, d);
      const session = entry.session;
      const receipt = await operator.receipt(session);
      say(`Paying session ${entry.id}: the driver proves the bill from the meter-signed chain`);
      const started = Date.now();
      const payment = await driver.preparePayment(receipt);
      const wall = Date.now() - started;
      printBill(payment.bill, session.tariff);
      detail(`total ${formatAmount(payment.pub.amount)}`);
      proofLine(payment.witnessMs, payment.proveMs, wall);
      enforcePrivacy("pay", payment.privacy, o.acceptLinkable);
      await operator.checkPayment(payment, session);
      detail("CPO checked it: amount, tariff, meter root, note root, nullifier, session unpaid, proof");
      const paid = await operator.submitPayment(payment);
      txLine(`CPO submitted it, ${formatAmount(payment.pub.amount)} paid`, paid);
      await driver.sync();
      detail(`driver's private balance: ${formatAmount(driver.balance)}`);
      return {
        ...state,
        sessions: state.sessions.map((s) => (s.id === entry.id ? { ...s, status: "paid", payTx: paid.hash } : s)),
      };
    },
  );

  runs<object>(
    defineCommand(
      root,
      "driver balance",
      "rebuild the wallet from the pool's events; print the notes and escrows",
    ).helpGroup(HEADING),
    async (ctx, maybe) => {
      const state = needState(ctx, maybe);
      const identity = needDriver(state);
      const d = await attach(ctx, state);
      const driver = walletOf(state, identity, d);
      const started = Date.now();
      const notes = (await driver.sync()).filter((n) => n.note.value > 0n);
      say(
        `Driver balance: ${formatAmount(driver.balance)} in ${notes.length} note(s) (rebuilt from events in ${Date.now() - started} ms)`,
      );
      for (const n of notes) detail(`note #${n.leafIndex}: ${formatAmount(n.note.value)}`);
      printDriverEscrows(state, driver, await chainTime(d.provider));
      return undefined;
    },
  );

  runs<{ to: string; amount?: bigint; fee: bigint; relayer?: string; acceptLinkable?: boolean }>(
    defineCommand(
      root,
      "driver withdraw",
      "withdraw through a relayer service (--relayer URL: it quotes the fee and submits) or the relayer account 3",
    )
      .helpGroup(HEADING)
      .addOption(required(option("--to <addr>", "recipient address", addressArg), "0x..."))
      .addOption(option("--amount <EUR>", "amount (default: everything)", amountArg()))
      .addOption(
        option(
          "--fee <EUR>",
          "the relayer's fee (a --relayer service quotes its own)",
          amountArg({ positive: false }),
        ).default(DEFAULT_RELAYER_FEE, formatAmount(DEFAULT_RELAYER_FEE, "")),
      )
      .addOption(relayerOption())
      .addOption(acceptLinkableOption()),
    async (ctx, maybe, o) => {
      const state = needState(ctx, maybe);
      const identity = needDriver(state);
      const d = await attach(ctx, state);
      const driver = walletOf(state, identity, d);
      const submitter = await submitterFor(d, "transact", o.relayer, o.fee, ctx.watch.timeoutMs);
      const { relayer, fee } = submitter;
      const input = `${submitter.kind === "service" ? "quoted fee" : "--fee"} ${formatAmount(fee)}${o.amount === undefined ? " (withdrawing everything)" : `, --amount ${formatAmount(o.amount)}`}`;
      const started = Date.now();
      let withdrawal: Transaction;
      try {
        withdrawal = await driver.prepareWithdraw({ to: o.to, amount: o.amount, relayer, fee });
      } catch (error) {
        if (error instanceof InvalidInputError) throw new CliError(`${input}: ${error.message}`);
        throw error;
      }
      const wall = Date.now() - started;
      const out = -withdrawal.ext.extAmount;
      if (out <= 0n) throw new CliError(`${input}: the withdrawal would send ${formatAmount(out)}, nothing was sent`);
      say(`Withdrawing ${formatAmount(out)} to ${o.to} ${viaText(submitter)} (fee ${formatAmount(fee)})`);
      proofLine(withdrawal.witnessMs, withdrawal.proveMs, wall);
      enforcePrivacy("withdrawal", withdrawal.privacy, o.acceptLinkable);
      await submitThrough(
        submitter,
        "transact",
        (quote) => transactRelayRequest(withdrawal, quote),
        (signer) => submitTransaction(d.pool, withdrawal, signer),
        ctx.watch.timeoutMs,
      );
      await driver.sync();
      detail(
        `${o.to} now holds ${formatAmount(await tokenBalance(d, o.to))}; driver's private balance ${formatAmount(driver.balance)}`,
      );
      return state;
    },
  );
}
