/**
 * The CPO's transactions on the dashboard, each signed by the CPO's admin account (signer.ts: an injected EIP-1193
 * wallet, or on dev chains the node's unlocked account) through the SDK's `Operator`: add and revoke meters,
 * publish a tariff (zkcharge JSON, or OCPI 2.2.1 JSON through the SDK's `importOcpiTariff`, which refuses what the
 * circuit cannot price by naming the OCPI feature), withdraw the earnings. Every input is checked before anything
 * is signed; a refusal says "Nothing was sent".
 */
import { useState } from "preact/hooks";
import {
  Operator,
  UnsupportedTariffError,
  formatAmount,
  importOcpiTariff,
  tariffFromJson,
  tariffWindow,
  validateTariff,
  type RegisteredCpo,
  type Tariff,
} from "../../sdk/index.ts";
import { chainTime, type Chain } from "./chain.ts";
import { dateTime, kw, short, tariffBands, tariffZone } from "./format.ts";
import { injectedProvider, signerOf, type SignerKind } from "./signer.ts";
import { Status, useOp } from "./ui.tsx";

/** The CPO's admin account as an `Operator`, signed by the chosen signer (which must hold the admin account). */
export type OperatorOf = () => Promise<Operator>;

/** The signer choice, and the `Operator` it gives for `cpo`. */
export function useCpoSigner(
  chain: Chain,
  cpo: RegisteredCpo | undefined,
): [SignerKind, (k: SignerKind) => void, OperatorOf] {
  const [kind, setKind] = useState<SignerKind>(injectedProvider() || chain.kind !== "dev" ? "injected" : "dev");
  const operatorOf = async () => {
    if (!cpo) throw new Error("The CPO is not in the registry. Nothing was sent.");
    const signer = await signerOf(chain, kind, cpo.admin);
    return new Operator({ cpoId: cpo.cpoId, registry: chain.registry, pool: chain.pool, signer });
  };
  return [kind, setKind, operatorOf];
}

/** Radio buttons: the injected wallet, or (dev chains) the node's unlocked account. */
export function SignerChoice({
  chain,
  cpo,
  kind,
  onKind,
}: {
  chain: Chain;
  cpo: RegisteredCpo;
  kind: SignerKind;
  onKind: (k: SignerKind) => void;
}) {
  return (
    <fieldset class="signer" data-testid="cpo-signer">
      <legend>Sign CPO {cpo.cpoId.toString()}'s transactions with its admin account</legend>
      <span class="mono">{cpo.admin}</span>
      <label class="check">
        <input
          type="radio"
          name="cpo-signer"
          value="injected"
          checked={kind === "injected"}
          onChange={() => onKind("injected")}
        />
        an injected wallet (EIP-1193){injectedProvider() ? "" : ": none found in this browser"}
      </label>
      {chain.kind === "dev" && (
        <label class="check">
          <input type="radio" name="cpo-signer" value="dev" checked={kind === "dev"} onChange={() => onKind("dev")} />
          dev chain: the account unlocked on the chain's node
        </label>
      )}
    </fieldset>
  );
}

/** Decimal text as a bigint field element, or a plain error naming `what`. */
function decimalField(text: string, what: string): bigint {
  const t = text.trim();
  if (!/^[0-9]{1,78}$/.test(t)) throw new Error(`${what} must be a decimal integer, got "${text}". Nothing was sent.`);
  return BigInt(t);
}

/** The CPO's meters: the registry's list, add one (its public key and rating), revoke one. */
export function Meters({
  cpo,
  operatorOf,
  onDone,
}: {
  cpo: RegisteredCpo;
  operatorOf: OperatorOf;
  onDone: () => Promise<void>;
}) {
  const [op, run] = useOp();
  const add = (e: Event) => {
    e.preventDefault();
    const f = e.currentTarget as HTMLFormElement;
    const v = (name: string) => (f.elements.namedItem(name) as HTMLInputElement).value;
    const [ax, ay, rating] = [v("meter-ax"), v("meter-ay"), v("meter-rating")];
    void run("Adding the meter: waiting for the transaction…", async () => {
      const publicKey: [bigint, bigint] = [decimalField(ax, "Ax"), decimalField(ay, "Ay")];
      const ratedPowerW = decimalField(rating, "The rated power");
      if (ratedPowerW === 0n || ratedPowerW >= 1n << 24n)
        throw new Error("The rated power must be 1 to 16777215 W (the circuit's range). Nothing was sent.");
      const operator = await operatorOf();
      const receipt = await operator.addMeter({ publicKey, ratedPowerW, cpoId: cpo.cpoId });
      await onDone();
      return `Meter added (${kw(ratedPowerW)}) in ${receipt.hash}.`;
    });
  };
  const revoke = (leaf: bigint, index: number) =>
    void run(`Revoking meter ${index}: waiting for the transaction…`, async () => {
      const receipt = await (await operatorOf()).revokeMeter(leaf);
      await onDone();
      return `Meter ${index} revoked in ${receipt.hash}: proofs over the old meter roots are refused from now on.`;
    });
  return (
    <section class="card" aria-labelledby="meters-title">
      <h2 id="meters-title">Meters</h2>
      <div class="scroll">
        <table data-testid="meters">
          <thead>
            <tr>
              <th scope="col">Meter</th>
              <th scope="col">Rating</th>
              <th scope="col">Key (Ax)</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {cpo.meters.map((m) => (
              <tr key={m.leaf.toString()} data-leaf={m.leaf.toString()}>
                <td>{m.index}</td>
                <td class="num">{kw(m.ratedPowerW)}</td>
                <td class="mono" title={m.publicKey[0].toString()}>
                  {short(m.publicKey[0])}
                </td>
                <td>
                  {m.revoked ? (
                    "revoked"
                  ) : (
                    <button
                      type="button"
                      class="small"
                      onClick={() => revoke(m.leaf, m.index)}
                      disabled={op.busy !== undefined}
                    >
                      Revoke meter {m.index}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form onSubmit={add} data-testid="add-meter">
        <h3>Add a meter</h3>
        <label for="meter-ax">Meter public key Ax (decimal)</label>
        <input id="meter-ax" name="meter-ax" inputMode="numeric" required />
        <label for="meter-ay">Meter public key Ay (decimal)</label>
        <input id="meter-ay" name="meter-ay" inputMode="numeric" required />
        <label for="meter-rating">Rated power (W)</label>
        <input id="meter-rating" name="meter-rating" inputMode="numeric" placeholder="22000" required />
        <button type="submit" disabled={op.busy !== undefined}>
          Add meter
        </button>
      </form>
      <Status {...op} />
    </section>
  );
}

/** The tariff in the form's text, for this CPO, priced but not yet windowed. */
function tariffOfText(
  text: string,
  format: "ocpi" | "zkcharge",
  cpoId: bigint,
  tzOffset: bigint,
): { tariff: Tariff; bounds: { notBefore?: bigint; notAfter?: bigint }; what: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`This is not JSON (${(error as Error).message}). Nothing was sent.`, { cause: error });
  }
  if (format === "zkcharge") return { tariff: { ...tariffFromJson(json), cpoId }, bounds: {}, what: "zkcharge tariff" };
  try {
    const imported = importOcpiTariff(json, { cpoId, tzOffset });
    const { validFrom, validTo } = imported.tariff;
    return {
      tariff: imported.tariff,
      bounds: { notBefore: validFrom, notAfter: validTo },
      what: `OCPI tariff ${imported.ocpiId} (VAT ${imported.vat ?? "none"}%, prices excl. VAT)`,
    };
  } catch (error) {
    if (error instanceof UnsupportedTariffError)
      throw new Error(
        `This OCPI tariff cannot be published: zkcharge cannot price ${error.feature} (${error.message}). Nothing was sent.`,
        { cause: error },
      );
    throw error;
  }
}

const UTC_OFFSETS = Array.from({ length: 27 }, (_, i) => i - 12); // UTC-12 to UTC+14, whole hours

/** The CPO's tariffs: the registry's list, and publish one from zkcharge or OCPI 2.2.1 JSON. */
export function Tariffs({
  chain,
  cpo,
  operatorOf,
  onDone,
}: {
  chain: Chain;
  cpo: RegisteredCpo;
  operatorOf: OperatorOf;
  onDone: () => Promise<void>;
}) {
  const [op, run] = useOp();
  const [preview, setPreview] = useState<{ tariff: Tariff; what: string } | undefined>();
  const here = -Math.round(new Date().getTimezoneOffset() / 60);
  const read = (f: HTMLFormElement) => {
    const v = (name: string) => (f.elements.namedItem(name) as HTMLInputElement).value;
    const hours = BigInt(v("tariff-tz"));
    return {
      text: v("tariff-json"),
      format: v("tariff-format") as "ocpi" | "zkcharge",
      tzOffset: (((hours * 3600n) % 86_400n) + 86_400n) % 86_400n,
      days: v("tariff-days"),
    };
  };
  const submit = (e: Event) => {
    e.preventDefault();
    const form = read(e.currentTarget as HTMLFormElement);
    setPreview(undefined);
    void run("Checking the tariff…", async () => {
      if (!/^[0-9]{1,5}$/.test(form.days.trim()) || BigInt(form.days.trim()) === 0n)
        throw new Error(`The validity must be a whole number of days, got "${form.days}". Nothing was sent.`);
      const { tariff, bounds, what } = tariffOfText(form.text, form.format, cpo.cpoId, form.tzOffset);
      const wall = BigInt(Math.floor(Date.now() / 1000));
      const now = await chainTime(chain);
      const window = tariffWindow(now > wall ? now : wall, BigInt(form.days.trim()), bounds);
      const full = { ...tariff, ...window };
      validateTariff(full); // before anything is signed
      setPreview({ tariff: full, what });
      const { cpoId: _cpo, ...terms } = full;
      void _cpo;
      const hash = await (await operatorOf()).publishTariff(terms);
      await onDone();
      return `Published ${what} as tariff ${short(hash)}.`;
    });
  };
  return (
    <section class="card" aria-labelledby="tariffs-title">
      <h2 id="tariffs-title">Tariffs</h2>
      <ul class="plain" data-testid="tariffs">
        {[...cpo.tariffs].map(([hash, t]) => (
          <li key={hash.toString()} data-hash={hash.toString()}>
            <span title={hash.toString()}>tariff {short(hash)}</span>: {formatAmount(t.flatFee)} per session; local time{" "}
            {tariffZone(t)}; valid {dateTime(t.validFrom)} to {dateTime(t.validTo)}
            <ul>
              {tariffBands(t).map((b) => (
                <li>{b}</li>
              ))}
            </ul>
          </li>
        ))}
        {cpo.tariffs.size === 0 && <li>none</li>}
      </ul>
      <form onSubmit={submit} data-testid="publish-tariff">
        <h3>Publish a tariff</h3>
        <label for="tariff-format">Format</label>
        <select id="tariff-format" name="tariff-format">
          <option value="ocpi">OCPI 2.2.1 Tariff (JSON)</option>
          <option value="zkcharge">zkcharge tariff (JSON, as tariffToJson writes it)</option>
        </select>
        <label for="tariff-file">Read from a file</label>
        <input
          id="tariff-file"
          type="file"
          accept="application/json,.json"
          onChange={async (e) => {
            const file = (e.currentTarget as HTMLInputElement).files?.[0];
            if (file) (document.getElementById("tariff-json") as HTMLTextAreaElement).value = await file.text();
          }}
        />
        <label for="tariff-json">Tariff (JSON)</label>
        <textarea id="tariff-json" name="tariff-json" rows={6} spellcheck={false} required />
        <label for="tariff-tz">Local time of the tariff's hours (OCPI restrictions are local)</label>
        <select id="tariff-tz" name="tariff-tz">
          {UTC_OFFSETS.map((h) => (
            <option value={h} selected={h === here}>
              UTC{h >= 0 ? "+" : "-"}
              {String(Math.abs(h)).padStart(2, "0")}:00
            </option>
          ))}
        </select>
        <label for="tariff-days">Valid for (days, from a minute after now)</label>
        <input id="tariff-days" name="tariff-days" inputMode="numeric" value="180" required />
        <button type="submit" disabled={op.busy !== undefined}>
          Check and publish
        </button>
      </form>
      {preview && (
        <div data-testid="tariff-preview">
          <p>
            {preview.what}: {formatAmount(preview.tariff.flatFee)} per session, local time {tariffZone(preview.tariff)},
            valid {dateTime(preview.tariff.validFrom)} to {dateTime(preview.tariff.validTo)}
          </p>
          <ul class="plain">
            {tariffBands(preview.tariff).map((b) => (
              <li>{b}</li>
            ))}
          </ul>
        </div>
      )}
      <Status {...op} />
    </section>
  );
}

/** Withdraw the CPO's whole balance in the pool to its payout address. */
export function WithdrawEarnings({
  cpo,
  balance,
  operatorOf,
  onDone,
}: {
  cpo: RegisteredCpo;
  balance: bigint;
  operatorOf: OperatorOf;
  onDone: () => Promise<void>;
}) {
  const [op, run] = useOp();
  const withdraw = () =>
    void run("Withdrawing: waiting for the transaction…", async () => {
      if (balance === 0n) throw new Error("There are no earnings to withdraw. Nothing was sent.");
      const receipt = await (await operatorOf()).withdraw();
      await onDone();
      return `Withdrew ${formatAmount(balance)} to ${cpo.payout} in ${receipt.hash}.`;
    });
  return (
    <>
      <button
        type="button"
        onClick={withdraw}
        disabled={op.busy !== undefined || balance === 0n}
        data-testid="withdraw-earnings"
      >
        Withdraw {formatAmount(balance)} to the payout address
      </button>
      <Status {...op} />
    </>
  );
}
