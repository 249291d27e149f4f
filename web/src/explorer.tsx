/**
 * The explorer: the public view of the deployment, read from the chain's events through the SDK's readers
 * (payments, note tree, escrows, registry). It shows exactly what any observer can read; nothing here names a
 * driver, because the chain holds nothing that does.
 */
import { useCallback, useEffect, useState } from "preact/hooks";
import {
  formatAmount,
  readEscrowEvents,
  readPayments,
  readPoolState,
  readRegistry,
  type LockedEscrow,
  type PublicPayment,
  type RegisteredCpo,
} from "../../sdk/index.ts";
import type { Chain } from "./chain.ts";
import { dateTime, plainError, short, tariffBands, tariffZone } from "./format.ts";

interface View {
  head: number;
  payments: PublicPayment[];
  treeSize: number;
  spent: number;
  escrows: { locked: LockedEscrow[]; closed: Map<bigint, { amount: bigint }>; refunded: Set<bigint> };
  cpos: RegisteredCpo[];
}

async function readView(chain: Chain): Promise<View> {
  const opts = { fromBlock: chain.fromBlock };
  const head = await chain.provider.getBlockNumber();
  const [payments, state, escrows, cpos] = await Promise.all([
    readPayments(chain.pool, opts),
    readPoolState(chain.pool, opts),
    readEscrowEvents(chain.pool, opts),
    readRegistry(chain.registry, opts),
  ]);
  return { head, payments, treeSize: state.leaves.length, spent: state.spent.size, escrows, cpos };
}

const KIND: Record<PublicPayment["kind"], string> = {
  pay: "pay proof",
  "escrow-end": "escrow, session end",
  "escrow-tail": "escrow, live tail",
};

export function Explorer({ chain }: { chain: Chain }) {
  const [view, setView] = useState<View | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const refresh = useCallback(() => {
    setBusy(true);
    readView(chain)
      .then((v) => {
        setView(v);
        setError(undefined);
      })
      .catch((err: unknown) => setError(plainError(err)))
      .finally(() => setBusy(false));
  }, [chain]);
  useEffect(refresh, [refresh]);

  return (
    <div class="explorer">
      <div class="toolbar">
        <h1>Explorer</h1>
        <button type="button" onClick={refresh} disabled={busy} aria-busy={busy}>
          {busy ? "Reading the chain…" : "Refresh"}
        </button>
      </div>
      <p class="hint">
        Everything here is public: read from the chain's events, as anyone can.{" "}
        <a href="#/privacy">What the chain reveals, and what it does not.</a>
      </p>
      {error !== undefined && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {view && (
        <>
          <section aria-labelledby="pool-title" class="cards">
            <h2 id="pool-title" class="visually-hidden">
              Pool
            </h2>
            <dl>
              <div>
                <dt>Notes in the tree (anonymity set)</dt>
                <dd data-testid="tree-size">{view.treeSize}</dd>
              </div>
              <div>
                <dt>Notes spent (nullifiers)</dt>
                <dd>{view.spent}</dd>
              </div>
              <div>
                <dt>Payments</dt>
                <dd data-testid="payment-count">{view.payments.length}</dd>
              </div>
              <div>
                <dt>Escrows open / closed / refunded</dt>
                <dd data-testid="escrow-counts">
                  {view.escrows.locked.length - view.escrows.closed.size - view.escrows.refunded.size} /{" "}
                  {view.escrows.closed.size} / {view.escrows.refunded.size}
                </dd>
              </div>
              <div>
                <dt>Block</dt>
                <dd>{view.head}</dd>
              </div>
            </dl>
          </section>

          <section aria-labelledby="payments-title">
            <h2 id="payments-title">Payments</h2>
            {view.payments.length === 0 ? (
              <p>No session has been paid yet.</p>
            ) : (
              <div class="scroll">
                <table data-testid="payments">
                  <thead>
                    <tr>
                      <th scope="col">Time</th>
                      <th scope="col">CPO</th>
                      <th scope="col">Tariff</th>
                      <th scope="col">Session</th>
                      <th scope="col">Amount</th>
                      <th scope="col">Fee</th>
                      <th scope="col">How</th>
                    </tr>
                  </thead>
                  <tbody>
                    {[...view.payments].reverse().map((p) => (
                      <tr key={p.transactionHash}>
                        <td>{dateTime(p.time)}</td>
                        <td>{p.cpoId.toString()}</td>
                        <td title={p.tariffHash?.toString()}>{p.tariffHash ? short(p.tariffHash) : "(in proof)"}</td>
                        <td title={p.sessionId.toString()}>{short(p.sessionId)}</td>
                        <td class="num">{formatAmount(p.amount)}</td>
                        <td class="num">{formatAmount(p.fee)}</td>
                        <td>{KIND[p.kind]}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>

          <section aria-labelledby="escrows-title">
            <h2 id="escrows-title">Escrows</h2>
            {view.escrows.locked.length === 0 ? (
              <p>No escrow has been locked yet.</p>
            ) : (
              <div class="scroll">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">CPO</th>
                      <th scope="col">Session</th>
                      <th scope="col">Cap</th>
                      <th scope="col">Settle by</th>
                      <th scope="col">State</th>
                    </tr>
                  </thead>
                  <tbody>
                    {view.escrows.locked.map((e) => {
                      const closed = view.escrows.closed.get(e.escrowId);
                      const state = closed
                        ? `closed, ${formatAmount(closed.amount)} charged`
                        : view.escrows.refunded.has(e.escrowId)
                          ? "refunded"
                          : "open";
                      return (
                        <tr key={e.escrowId.toString()}>
                          <td>{e.cpoId.toString()}</td>
                          <td title={e.sessionId.toString()}>{short(e.sessionId)}</td>
                          <td class="num">{formatAmount(e.cap)}</td>
                          <td>{dateTime(e.settleDeadline)}</td>
                          <td>{state}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </section>

          <section aria-labelledby="registry-title">
            <h2 id="registry-title">Registry: charge point operators</h2>
            {view.cpos.length === 0 && <p>No CPO has registered yet.</p>}
            <ul class="cpos" data-testid="cpos">
              {view.cpos.map((cpo) => (
                <li key={cpo.cpoId.toString()} class="card">
                  <h3>CPO {cpo.cpoId.toString()}</h3>
                  <p class="mono">payout {cpo.payout}</p>
                  <h4>Meters</h4>
                  <ul>
                    {cpo.meters.map((m) => (
                      <li key={m.leaf.toString()}>
                        meter {m.index}: {Number(m.ratedPowerW) / 1000} kW{m.revoked ? " (revoked)" : ""}
                      </li>
                    ))}
                    {cpo.meters.length === 0 && <li>none</li>}
                  </ul>
                  <h4>Tariffs</h4>
                  <ul>
                    {[...cpo.tariffs].map(([hash, t]) => (
                      <li key={hash.toString()}>
                        <span title={hash.toString()}>tariff {short(hash)}</span>: {formatAmount(t.flatFee)} per
                        session; local time {tariffZone(t)}; valid {dateTime(t.validFrom)} to {dateTime(t.validTo)}
                        <ul>
                          {tariffBands(t).map((b) => (
                            <li>{b}</li>
                          ))}
                        </ul>
                      </li>
                    ))}
                    {cpo.tariffs.size === 0 && <li>none</li>}
                  </ul>
                </li>
              ))}
            </ul>
          </section>
        </>
      )}
    </div>
  );
}
