/**
 * The CPO dashboard (`#/cpo`): for a charge point operator, its station's chargers and sessions (readings, bills,
 * escrows and their deadlines) from the station's admin API (adminClient.ts, with the operator's admin token, kept
 * in memory only), and from the chain with the SDK's readers its earnings (payments, the pool balance, earnings per
 * day), withdrawals, escrows, meters and tariffs. Meters, tariffs and withdrawals are the CPO's own transactions
 * (cpoRegistry.tsx). A wrong token shows why and nothing else.
 */
import { useCallback, useEffect, useState } from "preact/hooks";
import {
  formatAmount,
  readCpoWithdrawals,
  readEscrowEvents,
  readPayments,
  readRegistry,
  type CpoWithdrawal,
  type LockedEscrow,
  type PublicPayment,
  type RegisteredCpo,
} from "../../sdk/index.ts";
import { AdminClient, type AdminCharger, type AdminSession, type AdminSessionSummary } from "./adminClient.ts";
import { chainTime, type Chain } from "./chain.ts";
import { ChargerCodes } from "./chargerCodes.tsx";
import { EarningsChart, earningsPerDay } from "./charts.tsx";
import { Meters, SignerChoice, Tariffs, WithdrawEarnings, useCpoSigner } from "./cpoRegistry.tsx";
import { SessionDetail, SessionsTable } from "./cpoSessions.tsx";
import { dateTime, kw, plainError, short } from "./format.ts";
import { Status } from "./ui.tsx";

/** What the station's admin API shows. */
interface StationView {
  cpoId: bigint;
  chargers: AdminCharger[];
  sessions: AdminSessionSummary[];
}

/** What the chain shows about this CPO. */
interface ChainView {
  cpo?: RegisteredCpo;
  payments: PublicPayment[];
  withdrawals: CpoWithdrawal[];
  escrows: LockedEscrow[];
  closed: Map<bigint, { amount: bigint; mode: bigint }>;
  refunded: Set<bigint>;
  balance: bigint;
  now: bigint;
}

async function readStation(client: AdminClient): Promise<StationView> {
  const station = await client.station();
  const [chargers, sessions] = await Promise.all([client.chargers(), client.sessions()]);
  return { cpoId: BigInt(station.cpoId), chargers, sessions };
}

async function readChain(chain: Chain, cpoId: bigint): Promise<ChainView> {
  const opts = { fromBlock: chain.fromBlock };
  const [cpos, payments, withdrawals, escrows, balance, now] = await Promise.all([
    readRegistry(chain.registry, opts),
    readPayments(chain.pool, opts),
    readCpoWithdrawals(chain.pool, cpoId, opts),
    readEscrowEvents(chain.pool, opts),
    chain.pool.cpoBalance(cpoId),
    chainTime(chain),
  ]);
  return {
    cpo: cpos.find((c) => c.cpoId === cpoId),
    payments: payments.filter((p) => p.cpoId === cpoId),
    withdrawals,
    escrows: escrows.locked.filter((e) => e.cpoId === cpoId),
    closed: escrows.closed,
    refunded: escrows.refunded,
    balance,
    now,
  };
}

/** Milliseconds between refreshes of the station's view while the dashboard is open. */
const REFRESH_MS = 5000;

export function CpoDashboard({ chain }: { chain: Chain }) {
  const [client, setClient] = useState<AdminClient | undefined>();
  const [station, setStation] = useState<StationView | undefined>();
  const [onChain, setOnChain] = useState<ChainView | undefined>();
  const [connectError, setConnectError] = useState<string | undefined>();
  const [connecting, setConnecting] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [shown, setShown] = useState<string | undefined>();
  const [detail, setDetail] = useState<AdminSession | undefined>();

  const connect = (e: Event) => {
    e.preventDefault();
    const f = e.currentTarget as HTMLFormElement;
    const v = (name: string) => (f.elements.namedItem(name) as HTMLInputElement).value;
    setConnecting(true);
    setConnectError(undefined);
    void (async () => {
      try {
        const c = new AdminClient(v("admin-url").trim(), v("admin-token"));
        const view = await readStation(c);
        setClient(c);
        setStation(view);
        setOnChain(await readChain(chain, view.cpoId));
      } catch (err) {
        // Nothing from a station that refused us stays on the page.
        setClient(undefined);
        setStation(undefined);
        setOnChain(undefined);
        setConnectError(plainError(err));
      } finally {
        setConnecting(false);
      }
    })();
  };

  const refreshStation = useCallback(async () => {
    if (!client) return;
    try {
      setStation(await readStation(client));
      if (shown) setDetail(await client.session(shown));
      setError(undefined);
    } catch (err) {
      setError(plainError(err));
    }
  }, [client, shown]);

  const refreshChain = useCallback(async () => {
    if (!station) return;
    setOnChain(await readChain(chain, station.cpoId));
  }, [chain, station?.cpoId]);

  useEffect(() => {
    if (!client) return;
    const t = setInterval(() => void refreshStation(), REFRESH_MS);
    return () => clearInterval(t);
  }, [client, refreshStation]);

  const show = (sessionId: string) => {
    setShown(sessionId);
    setDetail(undefined);
    client
      ?.session(sessionId)
      .then(setDetail)
      .catch((err: unknown) => setError(plainError(err)));
  };

  /** A start or stop by hand: the charger's answer in words, then the station read again. */
  const [handDone, setHandDone] = useState<string | undefined>();
  const byHand = async (what: string, request: () => Promise<{ status: string }>) => {
    setError(undefined);
    setHandDone(what);
    try {
      const { status } = await request();
      setHandDone(
        status === "Accepted" ? `${what.replace("…", "")}: the charger accepted.` : `The charger answered: ${status}.`,
      );
      await refreshStation();
    } catch (err) {
      setHandDone(undefined);
      setError(plainError(err));
    }
  };

  const [signerKind, setSignerKind, operatorOf] = useCpoSigner(chain, onChain?.cpo);
  const ratingOf = (chargerId: string) => {
    const r = station?.chargers.find((c) => c.id === chargerId)?.ratedPowerW;
    return r === undefined ? undefined : BigInt(r);
  };

  return (
    <div class="cpo">
      <div class="toolbar">
        <h1>CPO dashboard</h1>
        {client && (
          <button
            type="button"
            onClick={() =>
              void Promise.all([refreshStation(), refreshChain()]).catch((err: unknown) => setError(plainError(err)))
            }
          >
            Refresh
          </button>
        )}
      </div>
      <section class="card" aria-labelledby="connect-title">
        <h2 id="connect-title">Station</h2>
        <p class="hint">
          The station's admin API and the admin token the station was started with (ZKCHARGE_STATION_ADMIN_TOKEN). The
          token stays in this page's memory; it is never stored or sent anywhere else.
        </p>
        <form onSubmit={connect} data-testid="admin-connect">
          <label for="admin-url">Admin API address</label>
          <input id="admin-url" name="admin-url" placeholder="http://127.0.0.1:9100" required />
          <label for="admin-token">Admin token</label>
          <input id="admin-token" name="admin-token" type="password" autocomplete="off" required />
          <button type="submit" disabled={connecting}>
            {connecting ? "Connecting…" : "Connect"}
          </button>
        </form>
        <Status error={connectError} busy={connecting ? "Reading the station and the chain…" : undefined} />
      </section>
      {error !== undefined && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {station && onChain && (
        <>
          <section aria-labelledby="overview-title" class="cards">
            <h2 id="overview-title">CPO {station.cpoId.toString()}</h2>
            <dl>
              <div>
                <dt>Chargers connected</dt>
                <dd data-testid="chargers-connected">
                  {station.chargers.filter((c) => c.connected).length} / {station.chargers.length}
                </dd>
              </div>
              <div>
                <dt>Sessions charging</dt>
                <dd>{station.sessions.filter((s) => s.state === "open" || s.state === "requested").length}</dd>
              </div>
              <div>
                <dt>Earned (all payments)</dt>
                <dd data-testid="earned" data-amount={onChain.payments.reduce((s, p) => s + p.amount, 0n).toString()}>
                  {formatAmount(onChain.payments.reduce((s, p) => s + p.amount, 0n))}
                </dd>
              </div>
              <div>
                <dt>In the pool, to withdraw</dt>
                <dd data-testid="cpo-balance" data-amount={onChain.balance.toString()}>
                  {formatAmount(onChain.balance)}
                </dd>
              </div>
              <div>
                <dt>Withdrawn</dt>
                <dd data-testid="withdrawn">{formatAmount(onChain.withdrawals.reduce((s, w) => s + w.amount, 0n))}</dd>
              </div>
            </dl>
          </section>

          <section class="card" aria-labelledby="chargers-title">
            <h2 id="chargers-title">Chargers</h2>
            <div class="scroll">
              <table data-testid="chargers">
                <thead>
                  <tr>
                    <th scope="col">Charger</th>
                    <th scope="col">Connected</th>
                    <th scope="col">Status</th>
                    <th scope="col">Rating</th>
                    <th scope="col">By hand</th>
                  </tr>
                </thead>
                <tbody>
                  {station.chargers.map((c) => (
                    <tr key={c.id} data-charger={c.id}>
                      <td>{c.id}</td>
                      <td>{c.connected ? "connected" : "offline"}</td>
                      <td>{c.status ?? "–"}</td>
                      <td class="num">{kw(BigInt(c.ratedPowerW))}</td>
                      <td>
                        {c.connected && c.status === "Available" && (
                          <button
                            type="button"
                            class="small"
                            data-testid="start-charger"
                            onClick={() => void byHand(`Starting ${c.id}…`, () => client!.startCharger(c.id))}
                          >
                            Start (no escrow)
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>

          <ChargerCodes chargerIds={station.chargers.map((c) => c.id)} station={chain.config.station ?? ""} />

          <section class="card" aria-labelledby="sessions-title">
            <h2 id="sessions-title">Sessions</h2>
            <SessionsTable
              sessions={station.sessions}
              shown={shown}
              onShow={show}
              onStop={(id) => void byHand("Stopping the session…", () => client!.stopSession(id))}
            />
            {handDone && (
              <p role="status" class="done" data-testid="by-hand">
                {handDone}
              </p>
            )}
          </section>
          {detail && <SessionDetail session={detail} ratedPowerW={ratingOf(detail.chargerId)} />}

          <section class="card" aria-labelledby="earnings-title">
            <h2 id="earnings-title">Earnings</h2>
            <EarningsChart days={earningsPerDay(onChain.payments, onChain.now)} />
            {onChain.cpo && (
              <WithdrawEarnings
                cpo={onChain.cpo}
                balance={onChain.balance}
                operatorOf={operatorOf}
                onDone={refreshChain}
              />
            )}
            <h3>Payments</h3>
            {onChain.payments.length === 0 ? (
              <p>No payment yet.</p>
            ) : (
              <div class="scroll">
                <table data-testid="cpo-payments">
                  <thead>
                    <tr>
                      <th scope="col">Time</th>
                      <th scope="col">Session</th>
                      <th scope="col">How</th>
                      <th scope="col">Amount</th>
                    </tr>
                  </thead>
                  <tbody>
                    {[...onChain.payments].reverse().map((p) => (
                      <tr key={p.transactionHash}>
                        <td>{dateTime(p.time)}</td>
                        <td title={p.sessionId.toString()}>{short(p.sessionId)}</td>
                        <td>
                          {p.kind === "pay"
                            ? "pay proof"
                            : p.kind === "escrow-end"
                              ? "escrow, session end"
                              : "escrow, live tail"}
                        </td>
                        <td class="num">{formatAmount(p.amount)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            <h3>Withdrawals</h3>
            {onChain.withdrawals.length === 0 ? (
              <p>No withdrawal yet.</p>
            ) : (
              <div class="scroll">
                <table data-testid="withdrawals">
                  <thead>
                    <tr>
                      <th scope="col">Time</th>
                      <th scope="col">To</th>
                      <th scope="col">Amount</th>
                    </tr>
                  </thead>
                  <tbody>
                    {onChain.withdrawals.map((w) => (
                      <tr key={w.transactionHash}>
                        <td>{dateTime(w.time)}</td>
                        <td class="mono">{w.payout}</td>
                        <td class="num">{formatAmount(w.amount)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>

          <section class="card" aria-labelledby="escrows-title">
            <h2 id="escrows-title">Escrows on chain</h2>
            {onChain.escrows.length === 0 ? (
              <p>No escrow for this CPO yet.</p>
            ) : (
              <div class="scroll">
                <table data-testid="cpo-escrows">
                  <thead>
                    <tr>
                      <th scope="col">Escrow</th>
                      <th scope="col">Session</th>
                      <th scope="col">Cap</th>
                      <th scope="col">Settle by</th>
                      <th scope="col">Claim by</th>
                      <th scope="col">State</th>
                    </tr>
                  </thead>
                  <tbody>
                    {onChain.escrows.map((e) => {
                      const closed = onChain.closed.get(e.escrowId);
                      const state = closed
                        ? `closed, ${formatAmount(closed.amount)} charged`
                        : onChain.refunded.has(e.escrowId)
                          ? "refunded to the driver"
                          : e.claimDeadline <= onChain.now
                            ? "open, claim deadline passed: the driver may take it back"
                            : e.settleDeadline <= onChain.now
                              ? "open, settle deadline passed: close it from the last live tail"
                              : "open";
                      return (
                        <tr key={e.escrowId.toString()} data-escrow={e.escrowId.toString()}>
                          <td title={e.escrowId.toString()}>{short(e.escrowId)}</td>
                          <td title={e.sessionId.toString()}>{short(e.sessionId)}</td>
                          <td class="num">{formatAmount(e.cap)}</td>
                          <td>{dateTime(e.settleDeadline)}</td>
                          <td>{dateTime(e.claimDeadline)}</td>
                          <td>{state}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </section>

          {onChain.cpo ? (
            <>
              <section class="card" aria-labelledby="signing-title">
                <h2 id="signing-title">Signing</h2>
                <SignerChoice chain={chain} cpo={onChain.cpo} kind={signerKind} onKind={setSignerKind} />
              </section>
              <Meters cpo={onChain.cpo} operatorOf={operatorOf} onDone={refreshChain} />
              <Tariffs chain={chain} cpo={onChain.cpo} operatorOf={operatorOf} onDone={refreshChain} />
            </>
          ) : (
            <p role="alert" class="error">
              CPO {station.cpoId.toString()} is not in this site's registry: is the station on another chain?
            </p>
          )}
        </>
      )}
    </div>
  );
}
