/**
 * {@link StationStore} on an embedded SQLite database (`node:sqlite`): WAL, `synchronous = FULL` so a reading is on
 * disk before it is acknowledged. Versioned schema: `schema_version` holds the number of {@link MIGRATIONS} applied.
 */
import type { DatabaseSync } from "node:sqlite";
import { inTransaction, openSqlite, schemaVersion } from "../service/sqlite.ts";
import type { Refusal, StationStore, StoredClose, StoredOffer, StoredReading, StoredSession } from "./store.ts";

/** Schema migrations, in order; never edit one that shipped, append a new one. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE sessions (
     session_id TEXT PRIMARY KEY,
     charger_id TEXT NOT NULL,
     remote_start_id INTEGER NOT NULL,
     tariff TEXT NOT NULL,
     transaction_id TEXT UNIQUE,
     state TEXT NOT NULL CHECK (state IN ('requested', 'open', 'ended', 'rejected')),
     requested_at INTEGER NOT NULL
   );
   CREATE TABLE readings (
     transaction_id TEXT NOT NULL,
     seq_no INTEGER NOT NULL,
     event_type TEXT NOT NULL,
     kind TEXT NOT NULL,
     k INTEGER NOT NULL,
     t TEXT NOT NULL,
     e TEXT NOT NULL,
     signed_meter_data TEXT NOT NULL,
     public_key TEXT NOT NULL,
     received_at INTEGER NOT NULL,
     PRIMARY KEY (transaction_id, seq_no)
   );
   CREATE TABLE refusals (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     charger_id TEXT NOT NULL,
     transaction_id TEXT,
     seq_no INTEGER,
     reason TEXT NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE TABLE charger_status (charger_id TEXT PRIMARY KEY, status TEXT NOT NULL, at INTEGER NOT NULL);`,
  // 2: the driver API and the chain side: offered nonces, each session's escrow, why the station stopped it, closes.
  `CREATE TABLE offers (
     station_nonce TEXT PRIMARY KEY,
     charger_id TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     used_by TEXT UNIQUE
   );
   CREATE TABLE escrows (
     session_id TEXT PRIMARY KEY REFERENCES sessions (session_id),
     escrow_id TEXT NOT NULL UNIQUE,
     cap TEXT NOT NULL,
     settle_deadline TEXT NOT NULL,
     claim_deadline TEXT NOT NULL,
     refund_precommitment TEXT NOT NULL,
     station_nonce TEXT NOT NULL UNIQUE,
     driver_nonce TEXT NOT NULL,
     token_hash TEXT NOT NULL
   );
   ALTER TABLE sessions ADD COLUMN stopped_by TEXT;
   CREATE TABLE closes (
     session_id TEXT PRIMARY KEY REFERENCES sessions (session_id),
     escrow_id TEXT NOT NULL,
     closed_by TEXT NOT NULL CHECK (closed_by IN ('driver', 'station')),
     mode INTEGER NOT NULL CHECK (mode IN (0, 1)),
     state TEXT NOT NULL CHECK (state IN ('submitting', 'confirmed', 'failed')),
     tx_hash TEXT,
     amount TEXT,
     refund TEXT,
     error TEXT,
     at INTEGER NOT NULL
   );`,
];

/** The session columns with its escrow's, if any. */
const SESSION_SELECT = `SELECT s.*, x.escrow_id, x.cap, x.settle_deadline, x.claim_deadline, x.refund_precommitment,
  x.station_nonce, x.driver_nonce, x.token_hash FROM sessions s LEFT JOIN escrows x ON x.session_id = s.session_id`;

interface SessionRow {
  session_id: string;
  charger_id: string;
  remote_start_id: number;
  tariff: string;
  transaction_id: string | null;
  state: StoredSession["state"];
  requested_at: number;
  stopped_by: string | null;
  escrow_id: string | null;
  cap: string;
  settle_deadline: string;
  claim_deadline: string;
  refund_precommitment: string;
  station_nonce: string;
  driver_nonce: string;
  token_hash: string;
}

interface CloseRow {
  session_id: string;
  escrow_id: string;
  closed_by: StoredClose["by"];
  mode: 0 | 1;
  state: StoredClose["state"];
  tx_hash: string | null;
  amount: string | null;
  refund: string | null;
  error: string | null;
  at: number;
}

interface ReadingRow {
  transaction_id: string;
  seq_no: number;
  event_type: string;
  kind: string;
  k: number;
  t: string;
  e: string;
  signed_meter_data: string;
  public_key: string;
  received_at: number;
}

const session = (r: SessionRow): StoredSession => ({
  sessionId: r.session_id,
  chargerId: r.charger_id,
  remoteStartId: r.remote_start_id,
  tariff: JSON.parse(r.tariff) as unknown,
  ...(r.transaction_id !== null ? { transactionId: r.transaction_id } : {}),
  state: r.state,
  requestedAt: r.requested_at,
  ...(r.stopped_by !== null ? { stoppedBy: r.stopped_by } : {}),
  ...(r.escrow_id !== null
    ? {
        escrow: {
          escrowId: r.escrow_id,
          cap: r.cap,
          settleDeadline: r.settle_deadline,
          claimDeadline: r.claim_deadline,
          refundPrecommitment: r.refund_precommitment,
          stationNonce: r.station_nonce,
          driverNonce: r.driver_nonce,
          tokenHash: r.token_hash,
        },
      }
    : {}),
});

const optional = <K extends string>(key: K, value: string | null): Partial<Record<K, string>> =>
  (value !== null ? { [key]: value } : {}) as Partial<Record<K, string>>;

const closeOf = (r: CloseRow): StoredClose => ({
  sessionId: r.session_id,
  escrowId: r.escrow_id,
  by: r.closed_by,
  mode: r.mode,
  state: r.state,
  ...optional("txHash", r.tx_hash),
  ...optional("amount", r.amount),
  ...optional("refund", r.refund),
  ...optional("error", r.error),
  at: r.at,
});

const reading = (r: ReadingRow): StoredReading => ({
  transactionId: r.transaction_id,
  seqNo: r.seq_no,
  eventType: r.event_type,
  kind: r.kind,
  k: r.k,
  t: r.t,
  e: r.e,
  signedMeterData: r.signed_meter_data,
  publicKey: r.public_key,
  receivedAt: r.received_at,
});

/** A {@link StationStore} in the SQLite file `path` (created, and migrated to the latest schema, on open). */
export class SqliteStationStore implements StationStore {
  readonly #db: DatabaseSync;

  constructor(path: string) {
    this.#db = openSqlite(path, { database: "station", program: "station", migrations: MIGRATIONS });
  }

  /** The schema version of the open database. */
  get schemaVersion(): number {
    return schemaVersion(this.#db);
  }

  #transaction<T>(run: () => T): T {
    return inTransaction(this.#db, run);
  }

  async addSession(s: Omit<StoredSession, "state" | "transactionId" | "stoppedBy">): Promise<void> {
    this.#transaction(() => this.#insertSession(s));
  }

  #insertSession(s: Omit<StoredSession, "state" | "transactionId" | "stoppedBy">): void {
    this.#db
      .prepare(
        `INSERT INTO sessions (session_id, charger_id, remote_start_id, tariff, state, requested_at)
         VALUES (?, ?, ?, ?, 'requested', ?)`,
      )
      .run(s.sessionId, s.chargerId, s.remoteStartId, JSON.stringify(s.tariff), s.requestedAt);
    const x = s.escrow;
    if (x)
      this.#db
        .prepare(
          `INSERT INTO escrows (session_id, escrow_id, cap, settle_deadline, claim_deadline, refund_precommitment,
             station_nonce, driver_nonce, token_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          s.sessionId,
          x.escrowId,
          x.cap,
          x.settleDeadline,
          x.claimDeadline,
          x.refundPrecommitment,
          x.stationNonce,
          x.driverNonce,
          x.tokenHash,
        );
  }

  async startWithOffer(s: Omit<StoredSession, "state" | "transactionId" | "stoppedBy">): Promise<boolean> {
    if (!s.escrow) throw new Error("a session started from an offer has an escrow");
    const nonce = s.escrow.stationNonce;
    return this.#transaction(() => {
      const used = this.#db
        .prepare("UPDATE offers SET used_by = ? WHERE station_nonce = ? AND used_by IS NULL")
        .run(s.sessionId, nonce);
      if (used.changes !== 1) return false;
      this.#insertSession(s);
      return true;
    });
  }

  async addOffer(o: Omit<StoredOffer, "usedBy">, now: number): Promise<void> {
    this.#transaction(() => {
      this.#db.prepare("DELETE FROM offers WHERE used_by IS NULL AND expires_at < ?").run(now);
      this.#db
        .prepare("INSERT INTO offers (station_nonce, charger_id, expires_at) VALUES (?, ?, ?)")
        .run(o.stationNonce, o.chargerId, o.expiresAt);
    });
  }

  async offer(stationNonce: string): Promise<StoredOffer | undefined> {
    const r = this.#db.prepare("SELECT * FROM offers WHERE station_nonce = ?").get(stationNonce) as
      { station_nonce: string; charger_id: string; expires_at: number; used_by: string | null } | undefined;
    if (!r) return undefined;
    return {
      stationNonce: r.station_nonce,
      chargerId: r.charger_id,
      expiresAt: r.expires_at,
      ...optional("usedBy", r.used_by),
    };
  }

  async setStoppedBy(sessionId: string, reason: string): Promise<void> {
    this.#db.prepare("UPDATE sessions SET stopped_by = ? WHERE session_id = ?").run(reason, sessionId);
  }

  async unsettledSessions(): Promise<StoredSession[]> {
    const rows = this.#db
      .prepare(
        `${SESSION_SELECT} LEFT JOIN closes c ON c.session_id = s.session_id
         WHERE x.escrow_id IS NOT NULL AND s.state != 'rejected' AND (c.state IS NULL OR c.state != 'confirmed')
         ORDER BY s.requested_at`,
      )
      .all() as unknown as SessionRow[];
    return rows.map(session);
  }

  async putClose(c: StoredClose): Promise<void> {
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO closes (session_id, escrow_id, closed_by, mode, state, tx_hash, amount, refund, error, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        c.sessionId,
        c.escrowId,
        c.by,
        c.mode,
        c.state,
        c.txHash ?? null,
        c.amount ?? null,
        c.refund ?? null,
        c.error ?? null,
        c.at,
      );
  }

  async closeOf(sessionId: string): Promise<StoredClose | undefined> {
    const row = this.#db.prepare("SELECT * FROM closes WHERE session_id = ?").get(sessionId) as CloseRow | undefined;
    return row && closeOf(row);
  }

  async statuses(): Promise<Map<string, string>> {
    const rows = this.#db.prepare("SELECT charger_id, status FROM charger_status").all() as unknown as {
      charger_id: string;
      status: string;
    }[];
    return new Map(rows.map((r) => [r.charger_id, r.status]));
  }

  async session(sessionId: string): Promise<StoredSession | undefined> {
    const row = this.#db.prepare(`${SESSION_SELECT} WHERE s.session_id = ?`).get(sessionId) as SessionRow | undefined;
    return row && session(row);
  }

  async sessionOfTransaction(transactionId: string): Promise<StoredSession | undefined> {
    const row = this.#db.prepare(`${SESSION_SELECT} WHERE s.transaction_id = ?`).get(transactionId) as
      SessionRow | undefined;
    return row && session(row);
  }

  async openSessions(): Promise<StoredSession[]> {
    const rows = this.#db
      .prepare(`${SESSION_SELECT} WHERE s.state IN ('requested', 'open') ORDER BY s.requested_at`)
      .all() as unknown as SessionRow[];
    return rows.map(session);
  }

  async recentSessions(limit: number): Promise<StoredSession[]> {
    const rows = this.#db
      .prepare(`${SESSION_SELECT} ORDER BY s.requested_at DESC, s.rowid DESC LIMIT ?`)
      .all(limit) as unknown as SessionRow[];
    return rows.map(session);
  }

  async bindTransaction(sessionId: string, transactionId: string): Promise<void> {
    this.#db
      .prepare("UPDATE sessions SET transaction_id = ?, state = 'open' WHERE session_id = ? AND state = 'requested'")
      .run(transactionId, sessionId);
  }

  async markRejected(sessionId: string): Promise<void> {
    this.#db
      .prepare("UPDATE sessions SET state = 'rejected' WHERE session_id = ? AND state = 'requested'")
      .run(sessionId);
  }

  async addReading(r: StoredReading): Promise<void> {
    this.#transaction(() => {
      this.#db
        .prepare(
          `INSERT INTO readings (transaction_id, seq_no, event_type, kind, k, t, e, signed_meter_data, public_key,
             received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          r.transactionId,
          r.seqNo,
          r.eventType,
          r.kind,
          r.k,
          r.t,
          r.e,
          r.signedMeterData,
          r.publicKey,
          r.receivedAt,
        );
      if (r.kind === "end")
        this.#db.prepare("UPDATE sessions SET state = 'ended' WHERE transaction_id = ?").run(r.transactionId);
    });
  }

  async reading(transactionId: string, seqNo: number): Promise<StoredReading | undefined> {
    const row = this.#db
      .prepare("SELECT * FROM readings WHERE transaction_id = ? AND seq_no = ?")
      .get(transactionId, seqNo) as ReadingRow | undefined;
    return row && reading(row);
  }

  async readings(transactionId: string): Promise<StoredReading[]> {
    const rows = this.#db
      .prepare("SELECT * FROM readings WHERE transaction_id = ? ORDER BY seq_no")
      .all(transactionId) as unknown as ReadingRow[];
    return rows.map(reading);
  }

  async lastSeqNo(transactionId: string): Promise<number | undefined> {
    const row = this.#db
      .prepare("SELECT MAX(seq_no) AS last FROM readings WHERE transaction_id = ?")
      .get(transactionId) as { last: number | null };
    return row.last ?? undefined;
  }

  async addRefusal(r: Refusal): Promise<void> {
    this.#db
      .prepare("INSERT INTO refusals (charger_id, transaction_id, seq_no, reason, at) VALUES (?, ?, ?, ?, ?)")
      .run(r.chargerId, r.transactionId ?? null, r.seqNo ?? null, r.reason, r.at);
  }

  async refusals(): Promise<Refusal[]> {
    const rows = this.#db.prepare("SELECT * FROM refusals ORDER BY id").all() as unknown as {
      charger_id: string;
      transaction_id: string | null;
      seq_no: number | null;
      reason: string;
      at: number;
    }[];
    return rows.map((r) => ({
      chargerId: r.charger_id,
      ...(r.transaction_id !== null ? { transactionId: r.transaction_id } : {}),
      ...(r.seq_no !== null ? { seqNo: r.seq_no } : {}),
      reason: r.reason,
      at: r.at,
    }));
  }

  async setStatus(chargerId: string, status: string, at: number): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO charger_status (charger_id, status, at) VALUES (?, ?, ?)
         ON CONFLICT (charger_id) DO UPDATE SET status = excluded.status, at = excluded.at`,
      )
      .run(chargerId, status, at);
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
