/**
 * The wallet's charging sessions, kept inside the encrypted wallet (its `data.sessions`, sealed again after each
 * change: walletStore.ts): what a driver looks back on (date, CPO, station, energy, amount, refund, state) and what a
 * session under way needs if the page is closed (nonces, escrow id). Nothing here is public chain data.
 */
import { formatAmount, type JsonValue, type TariffJson } from "../../sdk/index.ts";
import { dateTime, kwh } from "./format.ts";
import { dataRecords } from "./walletStore.ts";

/** Where a session stands. */
export type SessionState = "offered" | "locking" | "locked" | "charging" | "ended" | "closed" | "refused" | "stopped";

/** One session as the wallet keeps it (bigints as decimal strings: the store is JSON). */
export interface WebSession {
  id: string;
  createdAt: string;
  updatedAt: string;
  station: string;
  stationName: string;
  chargerId: string;
  cpoId: string;
  sessionId: string;
  stationNonce: string;
  driverNonce: string;
  cap: string;
  state: SessionState;
  /** The station's bearer token for this session: to follow it again after the page was closed. */
  token?: string;
  /** The offer's terms as checked against the registry: to verify the readings again after the page was closed. */
  terms?: SessionTerms;
  /** The relayer's fee for the lock. */
  fee?: string;
  escrowId?: string;
  lockTx?: string;
  /** Verified energy, Wh. */
  wh?: string;
  amount?: string;
  refund?: string;
  closeTx?: string;
  closedBy?: "wallet" | "station";
  /** What went wrong or why it stopped, in plain words. */
  note?: string;
}

/** What a session's readings are verified against (bigints as decimal strings; the tariff as `tariffToJson`). */
export interface SessionTerms {
  ratedPowerW: string;
  meterPublicKey: [string, string];
  meterLeaf: string;
  tariff: TariffJson;
}

/** Sessions the page was closed on while charging or before the close: they can be followed again and settled. */
export function resumable(sessions: readonly WebSession[]): WebSession[] {
  return sessions.filter(
    (s) =>
      (s.state === "charging" || s.state === "ended" || s.state === "stopped") &&
      s.token !== undefined &&
      s.terms !== undefined &&
      s.escrowId !== undefined,
  );
}

/** The sessions in the wallet's data (none in a wallet that never charged). */
export function sessionsOf(data: JsonValue): WebSession[] {
  const sessions = dataRecords(data).sessions;
  return Array.isArray(sessions) ? (sessions as unknown as WebSession[]) : [];
}

/** The wallet's data with `session` added or updated (by id). */
export function withSession(data: JsonValue, session: WebSession): JsonValue {
  const sessions = sessionsOf(data).filter((s) => s.id !== session.id);
  return { ...dataRecords(data), sessions: [...sessions, session] as unknown as JsonValue[] };
}

const STATE_WORDS: Record<SessionState, string> = {
  offered: "not locked",
  locking: "locking",
  locked: "locked, not started",
  charging: "charging (unfinished)",
  ended: "ended, not closed yet",
  closed: "closed",
  refused: "refused (cap back after the claim deadline)",
  stopped: "stopped early (the station closes it)",
};

/** The wallet's sessions, newest first. */
export function HistoryPage({ sessions }: { sessions: WebSession[] }) {
  const rows = [...sessions].reverse();
  return (
    <section class="card wide" aria-labelledby="history-title">
      <h1 id="history-title">History</h1>
      <p class="hint">
        Kept only in this browser, inside your encrypted wallet (and in its backup). The chain shows a payment to the
        CPO, never that it was you.
      </p>
      {rows.length === 0 ? (
        <p data-testid="history-empty">No sessions yet: charge at a station on the Charge screen.</p>
      ) : (
        <div class="scroll">
          <table data-testid="history">
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">CPO</th>
                <th scope="col">Station, charger</th>
                <th scope="col">Energy</th>
                <th scope="col">Amount</th>
                <th scope="col">Refund</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr data-session={s.id}>
                  <td>{dateTime(BigInt(Math.floor(Date.parse(s.createdAt) / 1000)))}</td>
                  <td>CPO {s.cpoId}</td>
                  <td>
                    {s.stationName}, {s.chargerId}
                  </td>
                  <td>{s.wh !== undefined ? kwh(BigInt(s.wh)) : "–"}</td>
                  <td>{s.amount !== undefined ? formatAmount(BigInt(s.amount)) : "–"}</td>
                  <td>{s.refund !== undefined ? formatAmount(BigInt(s.refund)) : "–"}</td>
                  <td>
                    {STATE_WORDS[s.state]}
                    {s.closedBy ? ` by the ${s.closedBy === "wallet" ? "wallet's proof" : "station"}` : ""}
                    {s.note ? `: ${s.note}` : ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
