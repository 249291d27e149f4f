/**
 * {@link JobStore} on an embedded SQLite database (`node:sqlite`, Node 22): one file, WAL journal, synchronous
 * writes (`synchronous = FULL`) so a job or a signed transaction is on disk before the relayer acts on it. The
 * schema is versioned: `schema_version` holds the number of {@link MIGRATIONS} applied, each run in a transaction.
 */
import type { DatabaseSync } from "node:sqlite";
import { inTransaction, openSqlite, schemaVersion } from "../service/sqlite.ts";
import type { JobStatus, RelayOperation } from "../sdk/index.ts";
import type { Attempt, Job, JobStore, NewJob } from "./store.ts";

/** Schema migrations, in order; never edit one that shipped, append a new one. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     operation TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'mined', 'failed')),
     reason TEXT,
     to_address TEXT NOT NULL,
     data TEXT NOT NULL,
     gas_limit TEXT NOT NULL,
     nonce INTEGER,
     nonce_free INTEGER NOT NULL DEFAULT 0,
     mined_hash TEXT,
     block_number INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX jobs_live ON jobs (status, created_at);
   CREATE TABLE job_keys (
     key TEXT NOT NULL,
     job_id TEXT NOT NULL REFERENCES jobs (id),
     PRIMARY KEY (key, job_id)
   );
   CREATE TABLE attempts (
     job_id TEXT NOT NULL REFERENCES jobs (id),
     seq INTEGER NOT NULL,
     hash TEXT NOT NULL,
     raw TEXT NOT NULL,
     max_fee_per_gas TEXT NOT NULL,
     max_priority_fee_per_gas TEXT NOT NULL,
     signed_at INTEGER NOT NULL,
     PRIMARY KEY (job_id, seq)
   );`,
];

interface JobRow {
  id: string;
  operation: string;
  status: string;
  reason: string | null;
  to_address: string;
  data: string;
  gas_limit: string;
  nonce: number | null;
  mined_hash: string | null;
  block_number: number | null;
  created_at: number;
  updated_at: number;
}

interface AttemptRow {
  hash: string;
  raw: string;
  max_fee_per_gas: string;
  max_priority_fee_per_gas: string;
  signed_at: number;
}

/** A {@link JobStore} in the SQLite file `path` (created, and migrated to the latest schema, on open). */
export class SqliteJobStore implements JobStore {
  readonly #db: DatabaseSync;
  #closed = false;

  constructor(path: string) {
    this.#db = openSqlite(path, { database: "job", program: "relayer", migrations: MIGRATIONS, foreignKeys: true });
  }

  /** The schema version of the open database. */
  get schemaVersion(): number {
    return schemaVersion(this.#db);
  }

  #transaction<T>(run: () => T): T {
    return inTransaction(this.#db, run);
  }

  #load(row: JobRow): Job {
    const keys = (
      this.#db.prepare("SELECT key FROM job_keys WHERE job_id = ? ORDER BY key").all(row.id) as {
        key: string;
      }[]
    ).map((k) => k.key);
    const attempts = (
      this.#db.prepare("SELECT * FROM attempts WHERE job_id = ? ORDER BY seq").all(row.id) as unknown as AttemptRow[]
    ).map((a): Attempt => ({
      hash: a.hash,
      raw: a.raw,
      maxFeePerGas: BigInt(a.max_fee_per_gas),
      maxPriorityFeePerGas: BigInt(a.max_priority_fee_per_gas),
      signedAt: a.signed_at,
    }));
    return {
      id: row.id,
      operation: row.operation as RelayOperation,
      status: row.status as JobStatus,
      ...(row.reason !== null ? { reason: row.reason } : {}),
      keys,
      to: row.to_address,
      data: row.data,
      gasLimit: BigInt(row.gas_limit),
      ...(row.nonce !== null ? { nonce: row.nonce } : {}),
      attempts,
      ...(row.mined_hash !== null ? { minedHash: row.mined_hash } : {}),
      ...(row.block_number !== null ? { blockNumber: row.block_number } : {}),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  #getSync(id: string): Job | undefined {
    const row = this.#db.prepare("SELECT * FROM jobs WHERE id = ?").get(id) as unknown as JobRow | undefined;
    return row ? this.#load(row) : undefined;
  }

  #findSync(keys: readonly string[]): Job | undefined {
    const find = this.#db.prepare(
      "SELECT j.id FROM job_keys k JOIN jobs j ON j.id = k.job_id WHERE k.key = ? AND j.status IN ('queued', 'sent', 'mined') ORDER BY j.created_at LIMIT 1",
    );
    for (const key of keys) {
      const hit = find.get(key) as { id: string } | undefined;
      if (hit) return this.#getSync(hit.id);
    }
    return undefined;
  }

  async find(keys: readonly string[]): Promise<Job | undefined> {
    return this.#findSync(keys);
  }

  async createOrGet(job: NewJob): Promise<{ job: Job; created: boolean }> {
    return this.#transaction(() => {
      const existing = this.#findSync(job.keys);
      if (existing) return { job: existing, created: false };
      const now = Date.now();
      this.#db
        .prepare(
          "INSERT INTO jobs (id, operation, status, to_address, data, gas_limit, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?)",
        )
        .run(job.id, job.operation, job.to, job.data, job.gasLimit.toString(), now, now);
      const addKey = this.#db.prepare("INSERT INTO job_keys (key, job_id) VALUES (?, ?)");
      for (const key of new Set(job.keys)) addKey.run(key, job.id);
      return { job: this.#getSync(job.id)!, created: true };
    });
  }

  async get(id: string): Promise<Job | undefined> {
    return this.#getSync(id);
  }

  async live(): Promise<Job[]> {
    const rows = this.#db
      .prepare("SELECT * FROM jobs WHERE status IN ('queued', 'sent') ORDER BY created_at, rowid")
      .all() as unknown as JobRow[];
    return rows.map((r) => this.#load(r));
  }

  async liveCount(): Promise<number> {
    const row = this.#db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'sent')").get() as {
      n: number;
    };
    return row.n;
  }

  async maxNonce(): Promise<number | undefined> {
    const row = this.#db
      .prepare("SELECT MAX(nonce) AS n FROM jobs WHERE nonce IS NOT NULL AND nonce_free = 0")
      .get() as { n: number | null };
    return row.n ?? undefined;
  }

  async addAttempt(id: string, nonce: number, attempt: Attempt): Promise<void> {
    this.#transaction(() => {
      const { n } = this.#db.prepare("SELECT COUNT(*) AS n FROM attempts WHERE job_id = ?").get(id) as { n: number };
      this.#db
        .prepare(
          "INSERT INTO attempts (job_id, seq, hash, raw, max_fee_per_gas, max_priority_fee_per_gas, signed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .run(
          id,
          n,
          attempt.hash,
          attempt.raw,
          attempt.maxFeePerGas.toString(),
          attempt.maxPriorityFeePerGas.toString(),
          attempt.signedAt,
        );
      this.#db.prepare("UPDATE jobs SET nonce = ?, updated_at = ? WHERE id = ?").run(nonce, Date.now(), id);
    });
  }

  async markSent(id: string): Promise<void> {
    this.#db
      .prepare("UPDATE jobs SET status = 'sent', updated_at = ? WHERE id = ? AND status = 'queued'")
      .run(Date.now(), id);
  }

  async markMined(id: string, hash: string, blockNumber: number): Promise<void> {
    this.#db
      .prepare("UPDATE jobs SET status = 'mined', mined_hash = ?, block_number = ?, updated_at = ? WHERE id = ?")
      .run(hash, blockNumber, Date.now(), id);
  }

  async minedSince(fromBlock: number): Promise<Job[]> {
    const rows = this.#db
      .prepare("SELECT * FROM jobs WHERE status = 'mined' AND block_number >= ? ORDER BY block_number, rowid")
      .all(fromBlock) as unknown as JobRow[];
    return rows.map((r) => this.#load(r));
  }

  async markReorged(id: string): Promise<void> {
    this.#db
      .prepare(
        "UPDATE jobs SET status = 'sent', mined_hash = NULL, block_number = NULL, updated_at = ? WHERE id = ? AND status = 'mined'",
      )
      .run(Date.now(), id);
  }

  async markFailed(
    id: string,
    reason: string,
    opts: { hash?: string; blockNumber?: number; nonceFree?: boolean } = {},
  ): Promise<void> {
    this.#db
      .prepare(
        "UPDATE jobs SET status = 'failed', reason = ?, mined_hash = ?, block_number = ?, nonce_free = ?, updated_at = ? WHERE id = ?",
      )
      .run(reason, opts.hash ?? null, opts.blockNumber ?? null, opts.nonceFree ? 1 : 0, Date.now(), id);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
