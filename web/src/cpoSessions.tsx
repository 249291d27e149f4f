/**
 * The station's sessions on the CPO dashboard, from its admin API: a table of the recent ones (charger, state,
 * readings, energy, escrow cap and deadlines, the close and its amount), and one session in detail: its power
 * curve (charts.tsx), bill and every stored reading.
 */
import { formatAmount } from "../../sdk/index.ts";
import type { AdminSession, AdminSessionSummary } from "./adminClient.ts";
import { PowerCurveChart, powerCurve } from "./charts.tsx";
import { dateTime, kw, kwh, short } from "./format.ts";

const STATE: Record<AdminSessionSummary["state"], string> = {
  requested: "starting",
  open: "charging",
  ended: "ended",
  rejected: "refused by the charger",
};

/** What became of a session's escrow, in words. */
function closeText(s: { close?: AdminSessionSummary["close"] }): string {
  const c = s.close;
  if (!c) return "not closed";
  const who = c.by === "driver" ? "driver's proof" : "station's proof";
  const from = c.mode === 0 ? "session end" : "last live tail";
  if (c.state === "confirmed") return `closed (${who}, ${from}), ${formatAmount(BigInt(c.amount ?? "0"))}`;
  if (c.state === "failed") return `close failed: ${c.error ?? "no reason stored"}`;
  return `closing (${who})`;
}

/** The recent sessions; `onShow` opens one in detail. */
export function SessionsTable({
  sessions,
  shown,
  onShow,
  onStop,
}: {
  sessions: AdminSessionSummary[];
  shown?: string;
  onShow: (sessionId: string) => void;
  /** Stops an open session by hand. */
  onStop: (sessionId: string) => void;
}) {
  if (sessions.length === 0) return <p>No session yet.</p>;
  return (
    <div class="scroll">
      <table data-testid="sessions">
        <thead>
          <tr>
            <th scope="col">Requested</th>
            <th scope="col">Charger</th>
            <th scope="col">State</th>
            <th scope="col">Readings</th>
            <th scope="col">Energy</th>
            <th scope="col">Escrow cap</th>
            <th scope="col">Settle by</th>
            <th scope="col">Claim by</th>
            <th scope="col">Bill</th>
            <th scope="col">Session</th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.sessionId} data-session={s.sessionId} aria-selected={s.sessionId === shown}>
              <td>{dateTime(BigInt(Math.floor(s.requestedAt / 1000)))}</td>
              <td>{s.chargerId}</td>
              <td>
                {STATE[s.state]}
                {s.stoppedBy ? ` (stopped: ${s.stoppedBy})` : ""}
              </td>
              <td class="num">{s.readings}</td>
              <td class="num">{s.energyWh !== undefined ? kwh(BigInt(s.energyWh)) : "–"}</td>
              <td class="num">{s.escrow ? formatAmount(BigInt(s.escrow.cap)) : "–"}</td>
              <td>{s.escrow ? dateTime(BigInt(s.escrow.settleDeadline)) : "–"}</td>
              <td>{s.escrow ? dateTime(BigInt(s.escrow.claimDeadline)) : "–"}</td>
              <td data-testid="session-close">{closeText(s)}</td>
              <td>
                <button type="button" class="small" onClick={() => onShow(s.sessionId)}>
                  Show {short(s.sessionId)}
                </button>
                {s.state === "open" && (
                  <button type="button" class="small" data-testid="stop-session" onClick={() => onStop(s.sessionId)}>
                    Stop
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One session: its bill, power curve and readings. */
export function SessionDetail({ session, ratedPowerW }: { session: AdminSession; ratedPowerW?: bigint }) {
  const readings = session.readings.map((r) => ({ t: BigInt(r.t), e: BigInt(r.e) }));
  const curve = powerCurve(readings);
  const energy = readings.length > 0 ? readings.at(-1)!.e - readings[0]!.e : 0n;
  return (
    <section class="card" aria-labelledby="session-title" data-testid="session-detail" data-session={session.sessionId}>
      <h2 id="session-title">
        Session <span title={session.sessionId}>{short(session.sessionId)}</span> on {session.chargerId}
      </h2>
      <dl class="meter">
        <div>
          <dt>State</dt>
          <dd>{STATE[session.state]}</dd>
        </div>
        <div>
          <dt>Energy</dt>
          <dd>{kwh(energy)}</dd>
        </div>
        <div>
          <dt>Bill of the stored readings</dt>
          <dd data-testid="session-bill" data-amount={session.bill ?? ""}>
            {session.bill !== undefined ? formatAmount(BigInt(session.bill)) : "–"}
          </dd>
        </div>
        <div>
          <dt>Escrow</dt>
          <dd>{session.escrow ? `cap ${formatAmount(BigInt(session.escrow.cap))}` : "none"}</dd>
        </div>
      </dl>
      <p data-testid="session-closed">{closeText(session)}</p>
      {session.close?.txHash && <p class="mono">close transaction {session.close.txHash}</p>}
      {curve.length > 0 && <PowerCurveChart points={curve} ratedPowerW={ratedPowerW} />}
      <details>
        <summary>{session.readings.length} signed readings</summary>
        <div class="scroll">
          <table data-testid="readings">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Kind</th>
                <th scope="col">Time</th>
                <th scope="col">Energy register</th>
                <th scope="col">Power since the one before</th>
              </tr>
            </thead>
            <tbody>
              {session.readings.map((r, i) => (
                <tr key={r.seqNo}>
                  <td>{r.seqNo}</td>
                  <td>{r.kind}</td>
                  <td>{new Date(Number(r.t) * 1000).toLocaleTimeString()}</td>
                  <td class="num">{kwh(BigInt(r.e))}</td>
                  <td class="num">{kw(curve[i]!.w)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}
