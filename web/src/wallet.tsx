/**
 * The driver's wallet: create or import a Semaphore identity kept encrypted in this browser (walletStore.ts),
 * unlock it with the passphrase, export the encrypted backup, deposit (from an injected EIP-1193 wallet, or on dev
 * chains from the node's unlocked dev account: signer.ts), sync notes from the pool's events and show the private balance, pay a finished session from the
 * station's receipt with a proof made here, in a Web Worker (prover.ts), and withdraw through the relayer. The
 * same unlocked wallet serves the Charge and History screens (charge.tsx, history.tsx): one `screen` prop, so
 * moving between them keeps it unlocked.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import {
  Driver,
  DriverIdentity,
  KeyFileFormatError,
  decryptWallet,
  formatAmount,
  handover,
  parseAmount,
  parseSessionReceipt,
  sendAndWait,
  toWire,
  type Payment,
} from "../../sdk/index.ts";
import type { Chain } from "./chain.ts";
import { ChargePage } from "./charge.tsx";
import { HistoryPage, sessionsOf, withSession, type WebSession } from "./history.tsx";
import { browserProver, withArtifactCheck } from "./prover.ts";
import { devSigner, injectedProvider, signerOf, type SignerKind } from "./signer.ts";
import { IndexedDbSyncStore } from "./syncStore.ts";
import { Status, useElapsed, useOp } from "./ui.tsx";
import {
  noteScanStore,
  openWallet,
  saveNewWallet,
  saveWalletData,
  storedWallet,
  walletKey,
  type OpenWallet,
} from "./walletStore.ts";
import { Withdraw } from "./withdraw.tsx";

const MIN_PASSPHRASE = 8;

/** The wallet's screens: its home (balance, deposit, pay, withdraw, backup), Charge and History. */
export type WalletScreen = "wallet" | "charge" | "history";

export function WalletPage({ chain, screen }: { chain: Chain; screen: WalletScreen }) {
  const key = walletKey(chain.chainId, chain.config.deployment.addresses.pool);
  const [text, setText] = useState<string | null>(() => storedWallet(key));
  const [wallet, setWallet] = useState<OpenWallet | undefined>();
  if (text === null) return <CreateWallet storageKey={key} onCreated={(t, w) => (setText(t), setWallet(w))} />;
  if (wallet === undefined) return <UnlockWallet storageKey={key} text={text} onUnlocked={setWallet} />;
  return (
    <WalletHome
      chain={chain}
      wallet={wallet}
      text={text}
      screen={screen}
      onSealed={setText}
      onLock={() => {
        wallet.unlocked.lock();
        setWallet(undefined);
      }}
    />
  );
}

function CreateWallet({
  storageKey,
  onCreated,
}: {
  storageKey: string;
  onCreated: (text: string, wallet: OpenWallet) => void;
}) {
  const [op, run] = useOp();
  const [mode, setMode] = useState<"create" | "import">("create");
  const create = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const pass = String(form.get("passphrase") ?? "");
    const again = String(form.get("again") ?? "");
    const backup = String(form.get("backup") ?? "").trim();
    void run(mode === "create" ? "Creating and encrypting your wallet…" : "Opening the backup…", async () => {
      if (pass.length < MIN_PASSPHRASE) {
        throw new Error(`Choose a passphrase of at least ${MIN_PASSPHRASE} characters.`);
      }
      let identity: DriverIdentity;
      if (mode === "import") {
        if (backup === "") throw new Error("Paste the backup file's text (or choose the file) first.");
        // The backup is the wallet file itself: it must open with this passphrase before anything is stored.
        try {
          identity = DriverIdentity.fromSecret((await decryptWallet(backup, pass)).identitySecret);
        } catch (err) {
          if (err instanceof KeyFileFormatError) {
            throw new Error("That is not a zkcharge wallet backup (expected the file the wallet exported).", {
              cause: err,
            });
          }
          throw err;
        }
      } else {
        if (pass !== again) throw new Error("The two passphrases differ: type the same one twice.");
        identity = DriverIdentity.random();
      }
      const { text, wallet } = await saveNewWallet(storageKey, identity, pass);
      onCreated(text, wallet);
      return undefined;
    });
  };
  const pickFile = async (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (file) (document.getElementById("backup") as HTMLTextAreaElement).value = await file.text();
  };
  return (
    <section class="card narrow" aria-labelledby="create-title">
      <h1 id="create-title">Your wallet</h1>
      <p>
        Your wallet is a secret identity kept in this browser, encrypted with your passphrase. It never leaves this
        device unless you export a backup.
      </p>
      <div role="tablist" class="tabs">
        <button type="button" role="tab" aria-selected={mode === "create"} onClick={() => setMode("create")}>
          Create a new wallet
        </button>
        <button type="button" role="tab" aria-selected={mode === "import"} onClick={() => setMode("import")}>
          Import a backup
        </button>
      </div>
      <form onSubmit={create}>
        {mode === "import" && (
          <>
            <label for="backup">Backup file (the text of the exported file)</label>
            <textarea id="backup" name="backup" rows={4} spellcheck={false} />
            <label for="backup-file">…or choose the file</label>
            <input id="backup-file" type="file" accept="application/json,.json" onChange={pickFile} />
          </>
        )}
        <label for="passphrase">{mode === "import" ? "The backup's passphrase" : "Passphrase"}</label>
        <input id="passphrase" name="passphrase" type="password" autocomplete="new-password" required />
        {mode === "create" && (
          <>
            <label for="again">Passphrase again</label>
            <input id="again" name="again" type="password" autocomplete="new-password" required />
          </>
        )}
        <button type="submit" disabled={op.busy !== undefined}>
          {mode === "create" ? "Create wallet" : "Import wallet"}
        </button>
      </form>
      <Status {...op} />
    </section>
  );
}

function UnlockWallet({
  storageKey,
  text,
  onUnlocked,
}: {
  storageKey: string;
  text: string;
  onUnlocked: (wallet: OpenWallet) => void;
}) {
  const [op, run] = useOp();
  const unlock = (e: Event) => {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem("unlock") as HTMLInputElement;
    const pass = input.value;
    void run("Unlocking…", async () => {
      onUnlocked(await openWallet(storageKey, text, pass));
      return undefined;
    });
  };
  return (
    <section class="card narrow" aria-labelledby="unlock-title">
      <h1 id="unlock-title">Unlock your wallet</h1>
      <form onSubmit={unlock}>
        <label for="unlock">Passphrase</label>
        <input id="unlock" name="unlock" type="password" autocomplete="current-password" required />
        <button type="submit" disabled={op.busy !== undefined}>
          Unlock
        </button>
      </form>
      <Status {...op} />
    </section>
  );
}

function WalletHome({
  chain,
  wallet,
  text,
  screen,
  onSealed,
  onLock,
}: {
  chain: Chain;
  wallet: OpenWallet;
  text: string;
  screen: WalletScreen;
  onSealed: (text: string) => void;
  onLock: () => void;
}) {
  const identity = wallet.identity;
  const [sessions, setSessions] = useState<WebSession[]>(() => sessionsOf(wallet.unlocked.contents.data));
  const saveSession = (s: WebSession) => {
    onSealed(saveWalletData(wallet, withSession(wallet.unlocked.contents.data, s)));
    setSessions(sessionsOf(wallet.unlocked.contents.data));
  };
  const prover = useMemo(() => browserProver(chain.config.circuits), [chain]);
  const driver = useMemo(
    () =>
      new Driver(
        identity,
        chain.pool,
        prover,
        {
          startBlock: chain.fromBlock,
          store: new IndexedDbSyncStore(`${chain.chainId}:${chain.config.deployment.addresses.pool.toLowerCase()}`),
          // Dev chains are reset at will, and a damaged cache is only a cache: read the events again.
          onDeepReorg: "resync",
          onCorruptStore: "resync",
        },
        noteScanStore(wallet, onSealed),
      ),
    [identity, chain, prover, wallet, onSealed],
  );
  useEffect(() => () => void prover.backend.close(), [prover]);
  const [balance, setBalance] = useState<{ value: bigint; notes: number } | undefined>();
  const [syncOp, runSync] = useOp();
  const sync = () =>
    runSync("Reading the pool's events…", async () => {
      await driver.sync();
      setBalance({ value: driver.balance, notes: driver.notes.length });
      return undefined;
    });
  useEffect(() => void sync(), [driver]);
  const backupUrl = useMemo(() => URL.createObjectURL(new Blob([text], { type: "application/json" })), [text]);
  const dev = chain.kind === "dev" && chain.config.devAccount !== undefined;

  const Title = screen === "wallet" ? "h1" : "h2";
  const balanceCard = (
    <section class="card" aria-labelledby="balance-title">
      <div class="toolbar">
        <Title id="balance-title">Private balance</Title>
        <button type="button" onClick={onLock}>
          Lock
        </button>
      </div>
      <p class="balance" data-testid="balance" aria-live="polite">
        {balance ? formatAmount(balance.value) : "…"}
      </p>
      <p class="hint">
        {balance ? `${balance.notes} unspent note${balance.notes === 1 ? "" : "s"}. ` : ""}Only this wallet can see it:
        the chain holds encrypted notes.
      </p>
      <button type="button" onClick={() => void sync()} disabled={syncOp.busy !== undefined}>
        Sync
      </button>
      <Status {...syncOp} />
    </section>
  );
  if (screen === "charge")
    return (
      <div class="wallet">
        {balanceCard}
        <ChargePage
          chain={chain}
          driver={driver}
          prover={prover}
          saveSession={saveSession}
          sessions={sessions}
          onSynced={sync}
        />
      </div>
    );
  if (screen === "history")
    return (
      <div class="wallet">
        <HistoryPage sessions={sessions} />
        {balanceCard}
      </div>
    );
  return (
    <div class="wallet">
      {balanceCard}
      <Deposit chain={chain} driver={driver} dev={dev} onDone={sync} />
      <PayReceipt chain={chain} driver={driver} dev={dev} onDone={sync} />
      <Withdraw chain={chain} driver={driver} onDone={sync} />
      <section class="card" aria-labelledby="backup-title">
        <h2 id="backup-title">Backup</h2>
        <p>
          The backup is your wallet file, encrypted with your passphrase (the same format as the zkcharge CLI's). Keep
          it and the passphrase apart: with both, anyone can spend your balance.
        </p>
        <a class="button" href={backupUrl} download="zkcharge-wallet.json">
          Download backup
        </a>
      </section>
    </div>
  );
}

function Deposit({
  chain,
  driver,
  dev,
  onDone,
}: {
  chain: Chain;
  driver: Driver;
  dev: boolean;
  onDone: () => Promise<void>;
}) {
  const [op, run] = useOp();
  const [kind, setKind] = useState<SignerKind>(dev ? "dev" : "injected");
  const submit = (e: Event) => {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem("amount") as HTMLInputElement;
    const amountText = input.value;
    void run("Depositing: approving the token, then the deposit…", async () => {
      const value = parseAmount(amountText);
      if (value === 0n) throw new Error("Enter an amount above zero.");
      const signer = await signerOf(chain, kind, kind === "dev" ? chain.config.devAccount : undefined);
      await driver.deposit(value, signer);
      await onDone();
      return `Deposited ${formatAmount(value)} from ${await signer.getAddress()} into a new private note.`;
    });
  };
  return (
    <section class="card" aria-labelledby="deposit-title">
      <h2 id="deposit-title">Deposit</h2>
      <p class="hint">
        Deposits are public (account and amount); what they fund later is not. Top up well before you charge.
      </p>
      <fieldset class="signer">
        <legend>Pay from</legend>
        <label class="check">
          <input
            type="radio"
            name="deposit-signer"
            value="injected"
            checked={kind === "injected"}
            onChange={() => setKind("injected")}
          />
          an injected wallet (EIP-1193){injectedProvider() ? "" : ": none found in this browser"}
        </label>
        {dev && (
          <label class="check">
            <input
              type="radio"
              name="deposit-signer"
              value="dev"
              checked={kind === "dev"}
              onChange={() => setKind("dev")}
            />
            dev chain: the node's dev account <span class="mono">{chain.config.devAccount}</span>
          </label>
        )}
      </fieldset>
      <form onSubmit={submit} class="inline">
        <label for="amount">Amount (EUR)</label>
        <input id="amount" name="amount" inputMode="decimal" placeholder="20.00" required />
        <button type="submit" disabled={op.busy !== undefined}>
          Deposit
        </button>
      </form>
      <Status {...op} />
    </section>
  );
}

function PayReceipt({
  chain,
  driver,
  dev,
  onDone,
}: {
  chain: Chain;
  driver: Driver;
  dev: boolean;
  onDone: () => Promise<void>;
}) {
  const [op, run] = useOp();
  const [proving, setProving] = useState(false);
  const [proof, setProof] = useState<{ payment: Payment; wallMs: number } | undefined>();
  const elapsed = useElapsed(proving);
  const submit = (e: Event) => {
    e.preventDefault();
    const area = (e.currentTarget as HTMLFormElement).elements.namedItem("receipt") as HTMLTextAreaElement;
    const receiptText = area.value;
    setProof(undefined);
    void run("Checking the receipt…", async () => {
      const receipt = parseSessionReceipt(receiptText);
      setProving(true);
      const started = performance.now();
      let payment: Payment;
      try {
        payment = await withArtifactCheck(() => driver.preparePayment(receipt));
      } finally {
        setProving(false);
      }
      const wallMs = Math.round(performance.now() - started);
      setProof({ payment, wallMs });
      if (!dev) return `Proof ready (${formatAmount(payment.pub.amount)}): hand it to the CPO or a relayer.`;
      const signer = await devSigner(chain, chain.config.devAccount!);
      await sendAndWait("pay", () => chain.pool.connect(signer).pay(payment.proof, payment.pub, payment.ext));
      await onDone();
      return `Paid ${formatAmount(payment.pub.amount)} to CPO ${payment.pub.cpoId}.`;
    });
  };
  return (
    <section class="card" aria-labelledby="pay-title">
      <h2 id="pay-title">Pay a finished session</h2>
      <p class="hint">
        Paste the receipt the station gave you. The bill is computed from the meter-signed readings and proved in this
        browser; only the CPO, tariff, session, amount and time become public.
        {dev && " Dev chain: the dev account submits it (elsewhere the CPO or a relayer does)."}
      </p>
      <form onSubmit={submit}>
        <label for="receipt">Session receipt (JSON)</label>
        <textarea id="receipt" name="receipt" rows={4} spellcheck={false} required />
        <button type="submit" disabled={op.busy !== undefined}>
          Prove and pay
        </button>
      </form>
      {proving ? (
        <p role="status" aria-live="polite" class="busy">
          <progress aria-label="Proving" /> Proving in this browser… {elapsed} s
        </p>
      ) : (
        <Status {...op} />
      )}
      {proof && (
        <details>
          <summary>
            Proof made in{" "}
            <output
              data-testid="pay-proof-ms"
              data-witness-ms={Math.round(proof.payment.witnessMs)}
              data-prove-ms={Math.round(proof.payment.proveMs)}
            >
              {proof.wallMs}
            </output>{" "}
            ms (witness {Math.round(proof.payment.witnessMs)} ms, prove {Math.round(proof.payment.proveMs)} ms)
          </summary>
          <pre class="mono">{JSON.stringify(toWire(handover(proof.payment)), null, 1)}</pre>
        </details>
      )}
    </section>
  );
}
