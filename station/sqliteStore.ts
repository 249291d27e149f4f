/**
 * {@link StationStore} on an embedded SQLite database (`node:sqlite`): WAL, `synchronous = FULL` so a reading is on
 * disk before it is acknowledged. Versioned schema: `schema_version` holds the number of {@link MIGRATIONS} applied.
 */
import { DatabaseSync } from "node:sqlite";
import type { Refusal, StationStore, StoredReading, StoredSession } from "./store.ts";

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
];

interface SessionRow {
  session_id: string;
  charger_id: string;
  remote_start_id: number;
  tariff: string;
  transaction_id: string | null;
  state: StoredSession["state"];
  requested_at: number;
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
    this.#db = new DatabaseSync(path);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
    this.#db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    let version = this.schemaVersion;
    if (version > MIGRATIONS.length) {
      throw new Error(
        `the station database has schema version ${version}, newer than this station's ${MIGRATIONS.length}: upgrade the station`,
      );
    }
    while (version < MIGRATIONS.length) {
      this.#transaction(() => {
        this.#db.exec(MIGRATIONS[version]!);
        this.#db.exec("DELETE FROM schema_version");
        this.#db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(version + 1);
      });
      version += 1;
    }
  }

  /** The schema version of the open database. */
  get schemaVersion(): number {
    const row = this.#db.prepare("SELECT version FROM schema_version").get() as { version: number } | undefined;
    return row?.version ?? 0;
  }

  #transaction<T>(run: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = run();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  async addSession(s: Omit<StoredSession, "state" | "transactionId">): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO sessions (session_id, charger_id, remote_start_id, tariff, state, requested_at)
         VALUES (?, ?, ?, ?, 'requested', ?)`,
      )
      .run(s.sessionId, s.chargerId, s.remoteStartId, JSON.stringify(s.tariff), s.requestedAt);
  }

  async session(sessionId: string): Promise<StoredSession | undefined> {
    const row = this.#db.prepare("SELECT * FROM sessions WHERE session_id = ?").get(sessionId) as
      SessionRow | undefined;
    return row && session(row);
  }

  async sessionOfTransaction(transactionId: string): Promise<StoredSession | undefined> {
    const row = this.#db.prepare("SELECT * FROM sessions WHERE transaction_id = ?").get(transactionId) as
      SessionRow | undefined;
    return row && session(row);
  }

  async openSessions(): Promise<StoredSession[]> {
    const rows = this.#db
      .prepare("SELECT * FROM sessions WHERE state IN ('requested', 'open') ORDER BY requested_at")
      .all() as unknown as SessionRow[];
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
