/**
 * Where relay jobs live: the storage seam of the relayer. The service talks only to {@link JobStore}, so an
 * embedded database (sqliteStore.ts, `node:sqlite`) can be replaced by PostgreSQL without touching the rest.
 *
 * Invariants every implementation keeps:
 * - a job is stored before anything is signed for it, and every signed transaction (raw bytes, hash, nonce, fees)
 *   is stored before it is broadcast, so a restarted relayer re-broadcasts exactly those bytes;
 * - at most one live (queued or sent) job per nullifier key: {@link JobStore.createOrGet} is atomic.
 */
import type { JobStatus, RelayJob, RelayOperation } from "../sdk/index.ts";

/** One signed transaction of a job (the first, then one per fee bump; all with the job's nonce). */
export interface Attempt {
  hash: string;
  raw: string;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  /** Unix ms when it was signed (and then broadcast). */
  signedAt: number;
}

/** A job as stored. */
export interface Job {
  id: string;
  operation: RelayOperation;
  status: JobStatus;
  reason?: string;
  /** The nullifiers (or `escrow:<id>` for a close) the job spends: one live job per key. */
  keys: string[];
  /** The pool call, ABI-encoded. */
  to: string;
  data: string;
  gasLimit: bigint;
  nonce?: number;
  attempts: Attempt[];
  minedHash?: string;
  blockNumber?: number;
  createdAt: number;
  updatedAt: number;
}

/** What the service stores for a new job. */
export type NewJob = Pick<Job, "id" | "operation" | "keys" | "to" | "data" | "gasLimit">;

/** The relayer's job storage (async, so a networked database fits). */
export interface JobStore {
  /**
   * Stores `job` as queued unless a live job holds one of its keys; atomically.
   * @returns the stored job and `created: true`, or the live job holding a key and `created: false`
   */
  createOrGet(job: NewJob): Promise<{ job: Job; created: boolean }>;
  /** The live or mined job holding one of `keys`, if any. */
  find(keys: readonly string[]): Promise<Job | undefined>;
  /** The job with this id. */
  get(id: string): Promise<Job | undefined>;
  /** Live jobs (queued or sent), oldest first. */
  live(): Promise<Job[]>;
  /** How many jobs are live. */
  liveCount(): Promise<number>;
  /** The highest nonce of any job that may still be mined or was (every job but those failed unbroadcast). */
  maxNonce(): Promise<number | undefined>;
  /** Records a signed transaction (and, on the first, the job's nonce) before it is broadcast. */
  addAttempt(id: string, nonce: number, attempt: Attempt): Promise<void>;
  /** The node accepted the job's transaction. */
  markSent(id: string): Promise<void>;
  /** The job's transaction `hash` is in block `blockNumber` with status 1. */
  markMined(id: string, hash: string, blockNumber: number): Promise<void>;
  /** Mined jobs whose block is `fromBlock` or later (the ones a reorganisation may still undo). */
  minedSince(fromBlock: number): Promise<Job[]>;
  /** A reorganisation dropped the block of a mined job: it is sent again (its stored transactions stand). */
  markReorged(id: string): Promise<void>;
  /**
   * The job failed for `reason`. `nonceFree`: no transaction of the job ever reached a node, so its nonce may be
   * used again.
   */
  markFailed(
    id: string,
    reason: string,
    opts?: { hash?: string; blockNumber?: number; nonceFree?: boolean },
  ): Promise<void>;
  close(): Promise<void>;
}

/** A stored job as `GET /jobs/:id` shows it. */
export function publicJob(job: Job): RelayJob {
  return {
    id: job.id,
    operation: job.operation,
    status: job.status,
    ...(job.reason !== undefined ? { reason: job.reason } : {}),
    txHashes: job.attempts.map((a) => a.hash),
    ...(job.minedHash !== undefined ? { txHash: job.minedHash } : {}),
    ...(job.blockNumber !== undefined ? { blockNumber: job.blockNumber } : {}),
    ...(job.nonce !== undefined ? { nonce: job.nonce } : {}),
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}
