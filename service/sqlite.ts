/**
 * The embedded SQLite database of each zkcharge service (station, relayer, charger), opened one way: WAL and
 * `synchronous = FULL`, so what a service acknowledged is on disk; a versioned schema (`schema_version` holds the
 * number of migrations applied), migrated forward on open, each migration in its own transaction; and a database
 * newer than the program refused with the way out named.
 */
import { DatabaseSync } from "node:sqlite";

/** How {@link openSqlite} opens a service's database. */
export interface SqliteSchema {
  /** What the database is, for messages ("station", "job"). */
  database: string;
  /** The program that owns it, for messages ("station", "relayer"). */
  program: string;
  /** Schema migrations, in order; never edit one that shipped, append a new one. */
  migrations: readonly string[];
  /** Enforce foreign keys (`PRAGMA foreign_keys = ON`). */
  foreignKeys?: boolean;
}

/** Opens (creating it if missing) and migrates the SQLite file `path` to the latest schema of `schema`. */
export function openSqlite(path: string, schema: SqliteSchema): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec(
    `PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;${schema.foreignKeys ? " PRAGMA foreign_keys = ON;" : ""}`,
  );
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  let version = schemaVersion(db);
  const latest = schema.migrations.length;
  if (version > latest) {
    db.close();
    throw new Error(
      `the ${schema.database} database has schema version ${version}, newer than this ${schema.program}'s ${latest}: upgrade the ${schema.program}`,
    );
  }
  while (version < latest) {
    const next = version;
    inTransaction(db, () => {
      db.exec(schema.migrations[next]!);
      db.exec("DELETE FROM schema_version");
      db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(next + 1);
    });
    version += 1;
  }
  return db;
}

/** The number of migrations applied to `db`. */
export function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare("SELECT version FROM schema_version").get() as { version: number } | undefined;
  return row?.version ?? 0;
}

/** Runs `run` in one `BEGIN IMMEDIATE` transaction: committed if it returns, rolled back if it throws. */
export function inTransaction<T>(db: DatabaseSync, run: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = run();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
