/**
 * The zkcharge CLI's local state: one JSON file (bigints written as `"123n"` strings), replaced
 * atomically on every save (temp file in the same directory, fsync, rename, fsync of the directory),
 * so a crash or a kill leaves either the old or the new file, never a half-written one.
 *
 * The file holds secrets in plaintext (the driver's identity, the meters' private keys): a dev tool.
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { SignedSession } from "../sdk/meter/record.ts";
import type { Point, Tariff } from "../sdk/tariff/tariff.ts";

export const STATE_VERSION = 1;

export interface MeterRecord {
  /** Short handle, `m1`, `m2`, ... */
  id: string;
  leaf: bigint;
  cpoId: bigint;
  ratedPowerW: bigint;
  /** EdDSA-Poseidon private key, 0x-hex (plaintext). */
  privateKey: string;
  revoked: boolean;
  addedTx: string;
  revokedTx?: string;
}

export interface TariffRecord {
  hash: bigint;
  tariff: Tariff;
  tx: string;
}

/**
 * A session begun with `session start` (plug-in), kept as what replays the meter deterministically: the meter key
 * (by meter id), the session id, the tariff fixed at plug-in, the start point and every reading after it.
 */
export interface LiveSessionRecord {
  sessionId: bigint;
  tariff: Tariff;
  start: Point;
  /** Readings after the start point, in order (chain points at boundaries, live tails otherwise). */
  readings: Point[];
}

export interface SessionRecordEntry {
  /** Short handle, `s1`, `s2`, ... */
  id: string;
  meterId: string;
  /** The meter-signed session, once it ended (absent while a started session is open). */
  session?: SignedSession;
  /** The bill: of the ended session's readings, or what an escrow close charged. */
  amount?: bigint;
  /** started: plugged in, not ended (maybe live tails only); unpaid: ended; paid: by `driver pay` or an escrow close. */
  status: "started" | "unpaid" | "paid";
  /** The pay or close transaction. */
  payTx?: string;
  /** Present for sessions begun with `session start`. */
  live?: LiveSessionRecord;
}

export interface EscrowRecord {
  /** Short handle, `e1`, `e2`, ... */
  id: string;
  /** The escrow id on chain (the lock's nullifier). */
  escrowId: bigint;
  /** The session handle (`s2`) it pre-authorises. */
  sessionRef: string;
  cap: bigint;
  /** Relayer fee paid on top of the cap. */
  fee: bigint;
  settleDeadline: bigint;
  claimDeadline: bigint;
  lockTx: string;
  status: "open" | "closed" | "refunded";
  /** What the close charged (closed escrows). */
  charged?: bigint;
  /** Closed with the session-end record, or from the last live tail. */
  closeMode?: "final" | "tail";
  closeTx?: string;
  refundTx?: string;
}

export interface CliState {
  version: number;
  chainId: bigint;
  deployedAt: string;
  addresses: { token: string; registry: string; pool: string; payVerifier: string; transactVerifier: string };
  cpo?: { cpoId: bigint; admin: string; payout: string; tx: string };
  meters: MeterRecord[];
  tariffs: TariffRecord[];
  /** The driver's Semaphore identity export (plaintext secret). */
  driver?: { secret: string; createdAt: string };
  sessions: SessionRecordEntry[];
  /** Escrows locked with `driver lock` (absent in state files written before escrows existed). */
  escrows?: EscrowRecord[];
}

/** JSON text of a state, bigints as `"<digits>n"`. */
export function serializeState(state: CliState): string {
  return JSON.stringify(state, (_key, value: unknown) => (typeof value === "bigint" ? `${value}n` : value), 2) + "\n";
}

/** Parses {@link serializeState}'s output. */
export function parseState(text: string): CliState {
  const state = JSON.parse(text, (_key, value: unknown) =>
    typeof value === "string" && /^-?\d+n$/.test(value) ? BigInt(value.slice(0, -1)) : value) as CliState;
  if (state === null || typeof state !== "object" || state.version !== STATE_VERSION) {
    throw new Error(`unsupported state file (expected version ${STATE_VERSION})`);
  }
  return state;
}

/** Hooks for tests: `beforeRename` runs after the temp file is complete and synced, before it replaces the target. */
export interface AtomicWriteHooks {
  beforeRename?: (tempPath: string) => void;
}

/**
 * Replaces `path` with `data` atomically: writes a temp file next to it (mode 0600), fsyncs it, renames it over
 * `path` and fsyncs the directory. If anything fails before the rename, `path` is untouched and the temp file removed.
 */
export function writeFileAtomic(path: string, data: string, hooks: AtomicWriteHooks = {}): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const fd = openSync(temp, "wx", 0o600);
    try {
      const bytes = Buffer.from(data, "utf8");
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    hooks.beforeRename?.(temp);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  // Make the rename itself durable (not supported on every platform: best effort).
  try {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* directories cannot be opened for fsync on some platforms */
  }
}

/** Reads the state file, or `undefined` when it does not exist. */
export function loadState(path: string): CliState | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8");
  try {
    return parseState(text);
  } catch (error) {
    throw new Error(`state file ${path} is unreadable: ${(error as Error).message}`);
  }
}

/** Writes the state file atomically. */
export function saveState(path: string, state: CliState, hooks?: AtomicWriteHooks): void {
  writeFileAtomic(path, serializeState(state), hooks);
}
