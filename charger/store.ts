/**
 * What a charger keeps on disk (`node:sqlite`, WAL, synchronous = FULL): its energy register, the session in
 * progress (so a restarted charger resumes it) and the offline queue of TransactionEvents. A reading's new session
 * state and its event are written in one transaction before the event is sent; an event leaves the queue only when
 * the CSMS acknowledged it (or refused it for good, then it is kept in `refused` with the reason). Schema versioned
 * as the relayer's: `schema_version` holds the number of {@link MIGRATIONS} applied.
 */
import type { DatabaseSync } from "node:sqlite";
import { inTransaction, openSqlite, schemaVersion } from "../service/sqlite.ts";

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE sessions (
     transaction_id TEXT PRIMARY KEY,
     session_id TEXT NOT NULL,
     remote_start_id INTEGER NOT NULL,
     tariff TEXT NOT NULL,
     points TEXT NOT NULL,
     last TEXT NOT NULL,
     next_seq_no INTEGER NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('charging', 'ended'))
   );
   CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     transaction_id TEXT NOT NULL,
     seq_no INTEGER NOT NULL,
     payload TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     UNIQUE (transaction_id, seq_no)
   );
   CREATE TABLE refused (
     id INTEGER PRIMARY KEY,
     transaction_id TEXT NOT NULL,
     seq_no INTEGER NOT NULL,
     payload TEXT NOT NULL,
     reason TEXT NOT NULL,
     refused_at INTEGER NOT NULL
   );`,
];

/** A point as stored: decimal strings. */
export interface StoredPoint {
  t: string;
  e: string;
}

/** The session in progress as stored. */
export interface ChargerSession {
  transactionId: string;
  sessionId: string;
  remoteStartId: number;
  /** The tariff as `tariffToJson` writes it. */
  tariff: unknown;
  points: StoredPoint[];
  last: StoredPoint;
  nextSeqNo: number;
  state: "charging" | "ended";
}

/** A queued TransactionEvent. */
export interface QueuedEvent {
  id: number;
  transactionId: string;
  seqNo: number;
  payload: Record<string, unknown>;
}

interface SessionRow {
  transaction_id: string;
  session_id: string;
  remote_start_id: number;
  tariff: string;
  points: string;
  last: string;
  next_seq_no: number;
  state: "charging" | "ended";
}

/** The charger's database in the SQLite file `path` (created and migrated on open). */
export class ChargerStore {
  readonly #db: DatabaseSync;

  constructor(path: string) {
    this.#db = openSqlite(path, { database: "charger", program: "charger", migrations: MIGRATIONS });
  }

  /** The schema version of the open database. */
  get schemaVersion(): number {
    return schemaVersion(this.#db);
  }

  #transaction<T>(run: () => T): T {
    return inTransaction(this.#db, run);
  }

  /** The cumulative energy register in Wh (0 for a new charger). */
  get register(): bigint {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = 'register'").get() as
      { value: string } | undefined;
    return BigInt(row?.value ?? "0");
  }

  /** The session still charging, if any. */
  current(): ChargerSession | undefined {
    const row = this.#db.prepare("SELECT * FROM sessions WHERE state = 'charging'").get() as SessionRow | undefined;
    if (!row) return undefined;
    return {
      transactionId: row.transaction_id,
      sessionId: row.session_id,
      remoteStartId: row.remote_start_id,
      tariff: JSON.parse(row.tariff) as unknown,
      points: JSON.parse(row.points) as StoredPoint[],
      last: JSON.parse(row.last) as StoredPoint,
      nextSeqNo: row.next_seq_no,
      state: row.state,
    };
  }

  /**
   * Records a reading: the session's new state and its TransactionEvent (seqNo `session.nextSeqNo - 1`), in one
   * transaction; a session in state `ended` moves the energy register to its last reading.
   */
  record(session: ChargerSession, payload: Record<string, unknown>): void {
    this.#transaction(() => {
      this.#db
        .prepare(
          `INSERT INTO sessions (transaction_id, session_id, remote_start_id, tariff, points, last, next_seq_no, state)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (transaction_id) DO UPDATE SET points = excluded.points, last = excluded.last,
             next_seq_no = excluded.next_seq_no, state = excluded.state`,
        )
        .run(
          session.transactionId,
          session.sessionId,
          session.remoteStartId,
          JSON.stringify(session.tariff),
          JSON.stringify(session.points),
          JSON.stringify(session.last),
          session.nextSeqNo,
          session.state,
        );
      this.#db
        .prepare("INSERT INTO outbox (transaction_id, seq_no, payload, created_at) VALUES (?, ?, ?, ?)")
        .run(session.transactionId, session.nextSeqNo - 1, JSON.stringify(payload), Date.now());
      if (session.state === "ended")
        this.#db
          .prepare("INSERT INTO meta (key, value) VALUES ('register', ?) ON CONFLICT (key) DO UPDATE SET value = ?")
          .run(session.last.e, session.last.e);
    });
  }

  /** The oldest queued event (the queue is delivered in order). */
  next(): QueuedEvent | undefined {
    const row = this.#db.prepare("SELECT * FROM outbox ORDER BY id LIMIT 1").get() as
      { id: number; transaction_id: string; seq_no: number; payload: string } | undefined;
    if (!row) return undefined;
    return {
      id: row.id,
      transactionId: row.transaction_id,
      seqNo: row.seq_no,
      payload: JSON.parse(row.payload) as Record<string, unknown>,
    };
  }

  /** How many events wait for the CSMS. */
  get queued(): number {
    return (this.#db.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n;
  }

  /** The CSMS acknowledged event `id`. */
  acknowledge(id: number): void {
    this.#db.prepare("DELETE FROM outbox WHERE id = ?").run(id);
  }

  /** The CSMS refused event `id` for good: kept in `refused` with the reason, out of the queue. */
  refuse(id: number, reason: string): void {
    this.#transaction(() => {
      this.#db
        .prepare(
          `INSERT INTO refused (id, transaction_id, seq_no, payload, reason, refused_at)
           SELECT id, transaction_id, seq_no, payload, ?, ? FROM outbox WHERE id = ?`,
        )
        .run(reason, Date.now(), id);
      this.#db.prepare("DELETE FROM outbox WHERE id = ?").run(id);
    });
  }

  close(): void {
    this.#db.close();
  }
}
