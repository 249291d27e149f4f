/**
 * Withdrawing to an address through the relayer, as `zkcharge wallet withdraw` does: the relayer's signed quote
 * first (its fee shown, with what the recipient gets), then the withdrawal proved here (Web Worker) with that fee,
 * relayed, and the relayer's job followed until it is mined. The driver's address never appears: the relayer pays
 * the gas and takes the fee from the spent notes.
 */
import { useState } from "preact/hooks";
import { isAddress } from "ethers";
import {
  RelayerClient,
  formatAmount,
  parseAmount,
  transactRelayRequest,
  type Driver,
  type SignedQuote,
} from "../../sdk/index.ts";
import type { Chain } from "./chain.ts";
import { withArtifactCheck } from "./prover.ts";
import { Proving, Status, useElapsed, useOp } from "./ui.tsx";

/** How long to follow the relayer's job. */
const JOB_TIMEOUT_MS = 120_000;

interface Quoted {
  to: string;
  /** What leaves the private balance (the recipient gets this less the fee). */
  amount: bigint;
  quote: SignedQuote;
}

export function Withdraw({ chain, driver, onDone }: { chain: Chain; driver: Driver; onDone: () => Promise<void> }) {
  const [op, run] = useOp();
  const [quoted, setQuoted] = useState<Quoted | undefined>();
  const [proving, setProving] = useState(false);
  const elapsed = useElapsed(proving);
  const relayerUrl = chain.config.relayer;

  const getQuote = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const to = String(form.get("withdraw-to") ?? "").trim();
    const amountText = String(form.get("withdraw-amount") ?? "");
    setQuoted(undefined);
    void run("Asking the relayer for its fee…", async () => {
      if (!isAddress(to)) throw new Error(`"${to}" is not an address (0x followed by 40 hex digits).`);
      const amount = parseAmount(amountText);
      if (amount === 0n) throw new Error("Enter an amount above zero.");
      const relayer = new RelayerClient(relayerUrl!, { timeoutMs: 30_000 });
      await relayer.serving(chain.chainId, chain.config.deployment.addresses.pool);
      const quote = await relayer.quote("transact");
      if (quote.fee >= amount)
        throw new Error(
          `The relayer's fee ${formatAmount(quote.fee)} is not below ${formatAmount(amount)}: nothing would arrive.`,
        );
      setQuoted({ to, amount, quote });
      return undefined;
    });
  };

  const confirm = (e: Event) => {
    e.preventDefault();
    if (!quoted) return;
    const acceptLinkable = new FormData(e.currentTarget as HTMLFormElement).get("withdraw-linkable") === "on";
    const { to, amount, quote } = quoted;
    const net = amount - quote.fee;
    void run("Checking the balance…", async () => {
      const relayer = new RelayerClient(relayerUrl!, { timeoutMs: 30_000 });
      await driver.sync();
      setProving(true);
      let tx;
      try {
        // The SDK refuses an amount above what the notes hold before it proves anything.
        tx = await withArtifactCheck(() =>
          driver.prepareWithdraw({ to, amount: net, relayer: quote.relayer, fee: quote.fee }),
        );
      } finally {
        setProving(false);
      }
      if (tx.privacy.linkable && !acceptLinkable)
        throw new Error(
          `This withdrawal could be linked to you: ${tx.privacy.warnings.map((w) => `${w.message} (${w.advice})`).join("; ")}. ` +
            "Nothing was sent. Follow the advice, or tick “Withdraw even if it is linkable”.",
        );
      const accepted = await relayer.relay(transactRelayRequest(tx, quote));
      const job = await relayer.waitForJob(accepted.id, { timeoutMs: JOB_TIMEOUT_MS });
      setQuoted(undefined);
      await onDone();
      return `Withdrew ${formatAmount(net)} to ${to} (relayer fee ${formatAmount(quote.fee)}): relayer job ${job.id} mined in ${job.txHash}.`;
    });
  };

  if (!relayerUrl)
    return (
      <section class="card">
        <h2>Withdraw</h2>
        <p>This site names no relayer (zkcharge.json "relayer"), so it cannot withdraw.</p>
      </section>
    );
  return (
    <section class="card" aria-labelledby="withdraw-title">
      <h2 id="withdraw-title">Withdraw to an address</h2>
      <p class="hint">
        Through the relayer at <span class="mono">{relayerUrl}</span>: it submits the proof and pays the gas, and its
        fee comes out of the amount. The address and amount are public; which notes paid them is not.
      </p>
      <form onSubmit={getQuote}>
        <label for="withdraw-to">Recipient address</label>
        <input id="withdraw-to" name="withdraw-to" placeholder="0x…" spellcheck={false} required />
        <label for="withdraw-amount">Amount to take out of your balance (EUR)</label>
        <input id="withdraw-amount" name="withdraw-amount" inputMode="decimal" placeholder="10.00" required />
        <button type="submit" disabled={op.busy !== undefined}>
          Get the relayer's quote
        </button>
      </form>
      {quoted && (
        <form onSubmit={confirm} data-testid="withdraw-quote" data-fee={quoted.quote.fee.toString()}>
          <p>
            Relayer fee <strong>{formatAmount(quoted.quote.fee)}</strong>: the recipient gets{" "}
            <strong>{formatAmount(quoted.amount - quoted.quote.fee)}</strong> of the {formatAmount(quoted.amount)}.
          </p>
          <label class="check">
            <input type="checkbox" name="withdraw-linkable" /> Withdraw even if it is linkable
          </label>
          <button type="submit" disabled={op.busy !== undefined}>
            Prove and withdraw
          </button>
        </form>
      )}
      {proving ? <Proving what="Proving the withdrawal in this browser…" seconds={elapsed} /> : <Status {...op} />}
    </section>
  );
}
