/**
 * Incremental wallet sync of one pool: the note leaves, spent nullifiers and escrow events, read from the pool's
 * events in bounded block ranges (sdk/actors/logs.ts), kept behind a {@link SyncStore} with a cursor so a second
 * sync reads only new blocks, rolled back on chain reorganisations (stored block hashes compared with the
 * chain's), and checked against the pool's root after every change. docs/sync.md describes the whole scheme.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { getAddress, type Block, type Provider } from "ethers";
import type { Pool } from "../../types/ethers-contracts/index.js";
import { buildNoteTree, prepareOffThread } from "../core/offThread.ts";
import { NoteTree } from "../core/tree.ts";
import { ZkchargeError } from "../core/errors.ts";
import { readLogs, type LogReaderOptions, type RawLog } from "./logs.ts";

/** A leaf of the note tree as the pool announced it. */
export interface NoteLeaf {
  index: number;
  commitment: bigint;
  /** Encrypted opening (only its owner can read it). */
  encryptedOpening: string;
  blockNumber: number;
  /** The transaction that inserted the leaf (its other events tell how the note was made). */
  transactionHash: string;
}

/** The pool's note tree and spent nullifiers, rebuilt from its events. */
export interface PoolState {
  tree: NoteTree;
  leaves: NoteLeaf[];
  spent: Set<bigint>;
}

/** An escrow as its `EscrowLocked` event announced it. */
export interface LockedEscrow {
  escrowId: bigint;
  cpoId: bigint;
  sessionId: bigint;
  refundPrecommitment: bigint;
  cap: bigint;
  settleDeadline: bigint;
  claimDeadline: bigint;
  /** Encrypted refund opening (blinding and cap), readable by the owner only. */
  encryptedRefund: string;
}

/** A {@link LockedEscrow} from the decoded arguments of an `EscrowLocked` event. */
export function lockedEscrow(a: Record<string, unknown>): LockedEscrow {
  const n = (k: string) => a[k] as bigint;
  return {
    escrowId: n("escrowId"),
    cpoId: n("cpoId"),
    sessionId: n("sessionId"),
    refundPrecommitment: n("refundPrecommitment"),
    cap: n("cap"),
    settleDeadline: n("settleDeadline"),
    claimDeadline: n("claimDeadline"),
    encryptedRefund: a.encryptedRefund as string,
  };
}

/** Format tag of a {@link SyncSnapshot}; a snapshot with another tag is refused. */
export const SYNC_SNAPSHOT_FORMAT = "zkcharge.pool-sync.v1";

/** Default number of recent blocks whose hashes are kept, i.e. the deepest reorganisation rolled back. */
export const DEFAULT_REORG_DEPTH = 64;

/**
 * What a {@link SyncStore} persists: JSON only (numbers, strings, arrays), field elements as 0x-hex. `checksum`
 * is the SHA-256 of the JSON of every other field, so a truncated or damaged copy is refused, never half-used.
 */
export interface SyncSnapshot {
  format: typeof SYNC_SNAPSHOT_FORMAT;
  chainId: string;
  pool: string;
  startBlock: number;
  /** `[number, hash]` of the last synced blocks, ascending; the last one is the cursor (synced head). */
  blocks: [number, string][];
  /** `[commitment, encryptedOpening, blockNumber, transactionHash]` per leaf, in index order. */
  leaves: [string, string, number, string][];
  /** The note tree's nodes (`MerkleTree.exportNodes`), so a restart does not hash the whole tree again. */
  tree: string;
  /** `[nullifier, blockNumber]`, in chain order. */
  spent: [string, number][];
  /** Escrow events in chain order: `EscrowLocked` fields as hex strings, and the block. */
  locked: { fields: string[]; encryptedRefund: string; blockNumber: number }[];
  /** `[escrowId, amount, mode, blockNumber]` of `EscrowClosed`. */
  closed: [string, string, number, number][];
  /** `[escrowId, blockNumber]` of `EscrowRefunded`. */
  refunded: [string, number][];
  checksum: string;
}

/** Where a {@link PoolSync} keeps its snapshot: a file, IndexedDB, memory... Saves must be atomic. */
export interface SyncStore {
  /** The last saved snapshot as parsed JSON, or `undefined` if none was saved. May throw on unreadable data. */
  load(): Promise<unknown>;
  /** Replaces the snapshot (all or nothing). */
  save(snapshot: SyncSnapshot): Promise<void>;
}

/** A {@link SyncStore} in memory (kept as JSON text, so what is loaded is a copy of what was saved). */
export class MemorySyncStore implements SyncStore {
  #json: string | undefined;

  async load(): Promise<unknown> {
    return this.#json === undefined ? undefined : JSON.parse(this.#json);
  }

  async save(snapshot: SyncSnapshot): Promise<void> {
    this.#json = JSON.stringify(snapshot);
  }
}

/** The chain changed under the wallet more deeply than it can roll back, or the snapshot cannot be trusted. */
export class SyncError extends ZkchargeError {
  /** @param code `REORG_TOO_DEEP`, `STORE_CORRUPT`, `ROOT_MISMATCH`, `EVENTS_INCOMPLETE` or `CHAIN_UNSTABLE` */
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** Options of {@link PoolSync}; every field is optional. Log-reader options: see {@link LogReaderOptions}. */
export interface PoolSyncOptions extends LogReaderOptions {
  /** First block to read (the pool's deployment block; default 0). */
  startBlock?: number;
  /** Sync up to `latest - confirmations` (default 0). */
  confirmations?: number;
  /** Where the snapshot is saved after every change (default: nowhere, the state lives in memory only). */
  store?: SyncStore;
  /** Recent block hashes kept, i.e. the deepest reorganisation rolled back (default {@link DEFAULT_REORG_DEPTH}). */
  reorgDepth?: number;
  /**
   * A reorganisation deeper than `reorgDepth`: `"error"` (default) throws {@link SyncError} `REORG_TOO_DEEP`;
   * `"resync"` forgets everything and reads again from `startBlock`.
   */
  onDeepReorg?: "error" | "resync";
  /** A snapshot that fails its checks: `"error"` (default) throws `STORE_CORRUPT`; `"resync"` starts over. */
  onCorruptStore?: "error" | "resync";
}

/** What one {@link PoolSync.sync} did. */
export interface SyncResult {
  /** The block synced through (the cursor). */
  head: number;
  /** Blocks read this time (`fromBlock > toBlock` when there was nothing new). */
  fromBlock: number;
  toBlock: number;
  /** Leaves below this index are the same as before the call; the ones from it on are new (or replaced). */
  firstNewLeaf: number;
  /** Leaves in the tree now. */
  leafCount: number;
  /** The reorganisation rolled back, if any. */
  reorg?: { ancestor: number; droppedLeaves: number };
  /** True when the snapshot was unusable and the sync started over (`onCorruptStore: "resync"`). */
  resynced?: boolean;
}

interface Counts {
  leaves: number;
  spent: number;
  locked: number;
  closed: number;
  refunded: number;
}

interface Escrows {
  locked: (LockedEscrow & { blockNumber: number })[];
  closed: { escrowId: bigint; amount: bigint; mode: bigint; blockNumber: number }[];
  refunded: { escrowId: bigint; blockNumber: number }[];
}

const hex = (x: bigint) => "0x" + x.toString(16);
const POOL_EVENTS = ["NoteAdded", "NullifierSpent", "EscrowLocked", "EscrowClosed", "EscrowRefunded"] as const;
const MAX_CHAIN_MOVES = 3;

class ChainMoved extends Error {}

/** `NoteAdded(uint256 indexed index, uint256 commitment, bytes encryptedOpening)` without the generic ABI decoder. */
function decodeNoteAdded(log: RawLog): { index: bigint; commitment: bigint; encryptedOpening: string } | undefined {
  const d = log.data;
  if (log.topics.length !== 2 || d.length < 194 || d.slice(66, 130) !== "0".repeat(62) + "40") return undefined;
  const length = parseInt(d.slice(130, 194), 16);
  const end = 194 + 2 * length;
  if (!Number.isSafeInteger(length) || d.length < end || d.length > end + 64) return undefined;
  return {
    index: BigInt(log.topics[1]!),
    commitment: BigInt("0x" + d.slice(2, 66)),
    encryptedOpening: "0x" + d.slice(194, end),
  };
}

/**
 * A wallet's view of one pool, kept up to date incrementally. `sync()` reads only the blocks after its cursor,
 * rolls back reorganised blocks, checks the rebuilt note tree against the pool's root and saves the snapshot; a
 * failed sync leaves the cursor and the store where they were.
 */
export class PoolSync {
  readonly pool: Pool;
  readonly #provider: Provider;
  readonly #opts: PoolSyncOptions;
  readonly #store: SyncStore | undefined;
  readonly #startBlock: number;
  readonly #depth: number;
  #chainId = "";
  #address = "";
  #loaded = false;
  /** The tree matched the pool's root at the head (false until checked after a load or a change). */
  #verified = false;
  #blocks: [number, string][] = [];
  #leaves: NoteLeaf[] = [];
  #tree = new NoteTree();
  #spentList: [bigint, number][] = [];
  #spent = new Set<bigint>();
  #escrows: Escrows = { locked: [], closed: [], refunded: [] };
  #queue: Promise<unknown> = Promise.resolve();
  /** `[revision, leaves kept]` of the last rollbacks (reorganisations, failed syncs, resets), oldest first. */
  #rollbacks: [number, number][] = [];
  #revision = 0;
  /** A block known to exist (one of the wallet's own transactions is in it): the next sync reads at least that far. */
  #seenBlock = -1;
  /** `eth_getLogs` requests made so far (for tests and the bench). */
  requests = 0;

  /**
   * @param pool the pool contract (or anything with its events and root functions), connected to a provider
   * @param opts see {@link PoolSyncOptions}
   */
  constructor(pool: Pool, opts: PoolSyncOptions = {}) {
    const provider = pool.runner?.provider;
    if (!provider) throw new Error("PoolSync: the pool contract is not connected to a provider");
    this.pool = pool;
    this.#provider = provider;
    this.#opts = opts;
    this.#store = opts.store;
    this.#startBlock = opts.startBlock ?? 0;
    this.#depth = Math.max(1, opts.reorgDepth ?? DEFAULT_REORG_DEPTH);
  }

  /** The note tree, its leaves and the spent nullifiers as of the last sync (live objects: do not modify). */
  get state(): PoolState {
    return { tree: this.#tree, leaves: this.#leaves, spent: this.#spent };
  }

  /** Escrow events as of the last sync, in the shape of {@link readEscrowEvents}. */
  get escrows(): {
    locked: LockedEscrow[];
    closed: Map<bigint, { amount: bigint; mode: bigint }>;
    refunded: Set<bigint>;
  } {
    return {
      locked: this.#escrows.locked.map(({ blockNumber: _b, ...e }) => e),
      closed: new Map(this.#escrows.closed.map((c) => [c.escrowId, { amount: c.amount, mode: c.mode }])),
      refunded: new Set(this.#escrows.refunded.map((r) => r.escrowId)),
    };
  }

  /** Counts rollbacks: pass it to {@link unchangedLeaves} later to learn which leaves are still the same. */
  get revision(): number {
    return this.#revision;
  }

  /**
   * How many leading leaves are the same now as at `revision` (a consumer that trial-decrypted leaves then need
   * only look again from there): everything, unless a reorganisation or reset dropped leaves since.
   */
  unchangedLeaves(revision: number): number {
    const oldest = this.#rollbacks[0];
    if (oldest && revision < oldest[0] - 1) return 0; // older than the history kept: assume everything changed
    let kept = Infinity;
    for (const [rev, n] of this.#rollbacks) if (rev > revision) kept = Math.min(kept, n);
    return kept;
  }

  #dropped(kept: number): void {
    this.#rollbacks.push([++this.#revision, kept]);
    if (this.#rollbacks.length > 64) this.#rollbacks.shift();
  }

  /** The block synced through, or `undefined` before the first sync. */
  get head(): number | undefined {
    return this.#blocks.at(-1)?.[0];
  }

  /**
   * Brings the state up to `latest - confirmations`. Calls are serialised: a sync started while another runs waits
   * for it.
   * @throws SyncError on a reorganisation deeper than `reorgDepth` (unless `onDeepReorg: "resync"`), a corrupt
   *   snapshot (unless `onCorruptStore: "resync"`), incomplete events or a root the pool does not know
   * @throws LogReadError when a block range cannot be read
   */
  sync(): Promise<SyncResult> {
    const run = this.#queue.then(() => this.#syncRetrying());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Tells the sync that block `blockNumber` exists (a receipt of the wallet's own transaction names it), so that the
   * next sync reads at least that far even when the provider answers "latest" from a cache older than the
   * transaction (ethers caches identical requests for `cacheTimeout`, 250 ms by default).
   */
  sawBlock(blockNumber: number): void {
    this.#seenBlock = Math.max(this.#seenBlock, blockNumber);
  }

  /** Forgets everything (memory and store): the next sync reads from the start block again. */
  async reset(): Promise<void> {
    await this.#queue;
    this.#clear();
    this.#loaded = true;
    await this.#save();
  }

  #clear(): void {
    this.#dropped(0);
    this.#blocks = [];
    this.#leaves = [];
    this.#tree = new NoteTree();
    this.#spentList = [];
    this.#spent = new Set();
    this.#escrows = { locked: [], closed: [], refunded: [] };
    this.#verified = false;
  }

  async #syncRetrying(): Promise<SyncResult> {
    for (let i = 1; ; i++) {
      try {
        return await this.#syncOnce();
      } catch (e) {
        if (!(e instanceof ChainMoved)) throw e;
        if (i >= MAX_CHAIN_MOVES) {
          throw new SyncError(
            "CHAIN_UNSTABLE",
            `the chain reorganised during each of ${i} sync attempts (${e.message}); try again later`,
          );
        }
      }
    }
  }

  async #block(tag: number | "latest"): Promise<Block | null> {
    return this.#provider.getBlock(tag);
  }

  async #syncOnce(): Promise<SyncResult> {
    let resynced: boolean | undefined;
    if (!this.#loaded) resynced = await this.#load();
    let latest = await this.#block("latest");
    if (!latest?.hash) throw new Error("the provider returned no latest block");
    if (latest.number < this.#seenBlock) {
      // A stale "latest": ask for the known block by number (a reorganisation may have dropped it: keep "latest").
      const seen = await this.#block(this.#seenBlock);
      if (seen?.hash) latest = seen;
    }
    const confirmations = this.#opts.confirmations ?? 0;
    const target = confirmations > 0 ? await this.#block(Math.max(0, latest.number - confirmations)) : latest;
    if (!target?.hash) throw new Error(`the provider returned no block ${latest.number - confirmations}`);

    const leavesBefore = this.#leaves.length;
    let firstNewLeaf = leavesBefore;
    let reorg: SyncResult["reorg"];
    const head = this.#blocks.at(-1);
    if (head) {
      const chainHash =
        head[0] === latest.number
          ? latest.hash
          : head[0] === target.number
            ? target.hash
            : (await this.#block(head[0]))?.hash;
      if (chainHash !== head[1]) {
        reorg = await this.#rollBack();
        firstNewLeaf = this.#leaves.length;
      }
    }
    const from = this.#blocks.length > 0 ? this.#blocks.at(-1)![0] + 1 : this.#startBlock;
    const to = target.number;

    const pending: RawLog[] = [];
    if (from <= to) {
      const cold = this.#leaves.length === 0;
      const topics = [POOL_EVENTS.map((name) => this.pool.interface.getEvent(name).topicHash)];
      await readLogs(this.#provider, { address: this.#address, topics }, from, to, this.#readerOptions(), (logs) => {
        for (const l of logs) pending.push(l);
        // A cold sync of many events builds the whole tree (and its wallet decrypts every leaf): the worker
        // threads load while the rest is read.
        if (cold) prepareOffThread(pending.length);
      });
      // Hashes of the newest blocks: kept for the next reorg check, and compared with what the logs carry.
      const low = Math.max(from, to - this.#depth + 1);
      const fetched = await Promise.all(
        Array.from({ length: to - low }, (_, i) => this.#block(low + i).then((b) => [low + i, b?.hash] as const)),
      );
      const after = await this.#block(to);
      if (after?.hash !== target.hash) throw new ChainMoved(`block ${to} changed while it was read`);
      const gone = fetched.find(([, h]) => h === undefined);
      if (gone) throw new ChainMoved(`block ${gone[0]} disappeared while it was read`);
      const hashes = new Map<number, string>(fetched as [number, string][]);
      hashes.set(to, target.hash);
      for (const l of pending) {
        const known = hashes.get(l.blockNumber);
        if (known !== undefined && known !== l.blockHash) throw new ChainMoved(`block ${l.blockNumber} changed`);
      }
      const oldBlocks = this.#blocks.length;
      const oldCounts = this.#counts();
      try {
        await this.#grow(this.#apply(pending));
        for (const [n, h] of [...hashes].sort((a, b) => a[0] - b[0])) this.#blocks.push([n, h]);
        await this.#checkRoot(to);
      } catch (e) {
        this.#truncate(oldCounts);
        this.#blocks.length = oldBlocks;
        throw e;
      }
      this.#trimBlocks();
      await this.#save();
    } else if (!this.#verified || reorg) {
      await this.#checkRoot(this.head ?? to);
      if (reorg) await this.#save();
    }
    return {
      head: this.head ?? to,
      fromBlock: from,
      toBlock: to,
      firstNewLeaf,
      leafCount: this.#leaves.length,
      reorg,
      resynced,
    };
  }

  #readerOptions(): LogReaderOptions {
    const onRequest = this.#opts.onRequest;
    return {
      ...this.#opts,
      onRequest: (a, b) => {
        this.requests++;
        onRequest?.(a, b);
      },
    };
  }

  #counts(): Counts {
    return {
      leaves: this.#leaves.length,
      spent: this.#spentList.length,
      locked: this.#escrows.locked.length,
      closed: this.#escrows.closed.length,
      refunded: this.#escrows.refunded.length,
    };
  }

  /** Drops everything past `counts` (entries are in chain order) and rebuilds the tree if leaves went. */
  #truncate(counts: Counts): void {
    for (const [nullifier] of this.#spentList.splice(counts.spent)) this.#spent.delete(nullifier);
    this.#escrows.locked.length = counts.locked;
    this.#escrows.closed.length = counts.closed;
    this.#escrows.refunded.length = counts.refunded;
    if (this.#leaves.length !== counts.leaves || this.#tree.size !== counts.leaves) {
      this.#dropped(counts.leaves);
      this.#leaves.length = counts.leaves;
      this.#tree.truncate(Math.min(counts.leaves, this.#tree.size));
      if (this.#tree.size !== counts.leaves) this.#tree = new NoteTree(this.#leaves.map((l) => l.commitment));
    }
    this.#verified = false;
  }

  /** Adds the events to the state; returns the new leaves' commitments (for {@link #grow}). */
  #apply(logs: readonly RawLog[]): bigint[] {
    const iface = this.pool.interface;
    const [noteAdded, nullifierSpent, escrowLocked, escrowClosed, escrowRefunded] = POOL_EVENTS.map(
      (name) => iface.getEvent(name).topicHash,
    );
    const added: bigint[] = [];
    for (const log of logs) {
      const topic = log.topics[0];
      if (topic === noteAdded) {
        const ev =
          decodeNoteAdded(log) ?? (iface.parseLog(log)!.args as unknown as ReturnType<typeof decodeNoteAdded>)!;
        if (ev.index !== BigInt(this.#leaves.length)) {
          throw new SyncError(
            "EVENTS_INCOMPLETE",
            `note tree events are incomplete: expected leaf ${this.#leaves.length}, got leaf ${ev.index} in block ${log.blockNumber}`,
          );
        }
        this.#leaves.push({
          index: this.#leaves.length,
          commitment: ev.commitment,
          encryptedOpening: ev.encryptedOpening,
          blockNumber: log.blockNumber,
          transactionHash: log.transactionHash,
        });
        added.push(ev.commitment);
        continue;
      }
      const ev = iface.parseLog(log);
      if (!ev) continue;
      if (topic === nullifierSpent) {
        this.#spentList.push([ev.args.nullifier as bigint, log.blockNumber]);
        this.#spent.add(ev.args.nullifier as bigint);
      } else if (topic === escrowLocked) {
        this.#escrows.locked.push({ ...lockedEscrow(ev.args.toObject()), blockNumber: log.blockNumber });
      } else if (topic === escrowClosed) {
        const a = ev.args;
        this.#escrows.closed.push({
          escrowId: a.escrowId,
          amount: a.amount,
          mode: BigInt(a.mode),
          blockNumber: log.blockNumber,
        });
      } else if (topic === escrowRefunded) {
        this.#escrows.refunded.push({ escrowId: ev.args.escrowId, blockNumber: log.blockNumber });
      }
    }
    return added;
  }

  /**
   * Adds the new leaves to the tree: one by one onto a larger tree; a tree built anew (on worker threads where there
   * are: sdk/core/offThread.ts) when there are more new leaves than old, as in a cold sync.
   */
  async #grow(added: readonly bigint[]): Promise<void> {
    if (added.length === 0) return;
    this.#verified = false;
    if (added.length > this.#tree.size) this.#tree = await buildNoteTree(this.#leaves.map((l) => l.commitment));
    else this.#tree.insertMany(added);
  }

  /** Walks back to the newest stored block the chain still has, and drops everything after it. */
  async #rollBack(): Promise<{ ancestor: number; droppedLeaves: number }> {
    const chain = await Promise.all(this.#blocks.map(([n]) => this.#block(n)));
    let i = this.#blocks.length - 1;
    while (i >= 0 && chain[i]?.hash !== this.#blocks[i]![1]) i--;
    const leavesBefore = this.#leaves.length;
    if (i < 0) {
      const [lo, hi] = [this.#blocks[0]![0], this.#blocks.at(-1)![0]];
      if (this.#opts.onDeepReorg === "resync") {
        this.#clear();
        return { ancestor: this.#startBlock - 1, droppedLeaves: leavesBefore };
      }
      throw new SyncError(
        "REORG_TOO_DEEP",
        `the chain no longer has any of the blocks ${lo}..${hi} this wallet synced last: a reorganisation deeper ` +
          `than ${this.#depth} blocks, or the RPC endpoint now serves another chain. Resync from scratch ` +
          `(PoolSync.reset(), or delete the sync store)`,
      );
    }
    const ancestor = this.#blocks[i]![0];
    const keep = <T>(list: T[], block: (x: T) => number) => {
      let n = list.length;
      while (n > 0 && block(list[n - 1]!) > ancestor) n--;
      return n;
    };
    this.#truncate({
      leaves: keep(this.#leaves, (l) => l.blockNumber),
      spent: keep(this.#spentList, (s) => s[1]),
      locked: keep(this.#escrows.locked, (e) => e.blockNumber),
      closed: keep(this.#escrows.closed, (e) => e.blockNumber),
      refunded: keep(this.#escrows.refunded, (e) => e.blockNumber),
    });
    this.#blocks.length = i + 1;
    return { ancestor, droppedLeaves: leavesBefore - this.#leaves.length };
  }

  #trimBlocks(): void {
    if (this.#blocks.length > this.#depth) this.#blocks.splice(0, this.#blocks.length - this.#depth);
  }

  /**
   * The tree must be the pool's at block `at`: same size and root, read at that block; where the provider no longer
   * has that block's state, the root must be one the pool still knows for that size (`isKnownRoot`).
   */
  async #checkRoot(at: number): Promise<void> {
    const [root, size] = [this.#tree.root, BigInt(this.#tree.size)];
    let onChain: [bigint, bigint] | undefined;
    try {
      onChain = await Promise.all([this.pool.noteRoot({ blockTag: at }), this.pool.noteTreeSize({ blockTag: at })]);
    } catch {
      onChain = undefined; // state of that block pruned: fall back to the root history
    }
    if (onChain) {
      if (onChain[1] !== size) {
        throw new SyncError(
          "EVENTS_INCOMPLETE",
          `the pool holds ${onChain[1]} notes at block ${at} but its events gave ${size}: the RPC endpoint returned incomplete logs`,
        );
      }
      if (onChain[0] !== root) {
        throw new SyncError(
          "ROOT_MISMATCH",
          `the note tree rebuilt from events (root ${hex(root)}, ${size} leaves) is not the pool's (root ${hex(onChain[0])}) at block ${at}`,
        );
      }
    } else if (size > 0n && !(await this.pool.isKnownRoot(root, size))) {
      throw new SyncError(
        "ROOT_MISMATCH",
        `the note tree rebuilt from events (root ${hex(root)}, ${size} leaves, block ${at}) is not a root the pool knows`,
      );
    }
    this.#verified = true;
  }

  // ---------------------------------------------------------------- snapshot

  /** Loads the store once; returns true when a bad snapshot was dropped (`onCorruptStore: "resync"`). */
  async #load(): Promise<boolean | undefined> {
    this.#chainId = (await this.#provider.getNetwork()).chainId.toString();
    this.#address = getAddress(await this.pool.getAddress());
    let raw: unknown;
    try {
      raw = await this.#store?.load();
      if (raw !== undefined) this.#restore(raw);
    } catch (e) {
      this.#clear();
      if (this.#opts.onCorruptStore === "resync") {
        this.#loaded = true;
        return true;
      }
      if (e instanceof SyncError) throw e;
      throw new SyncError(
        "STORE_CORRUPT",
        `the sync store cannot be read (${(e as Error).message}): delete it (or call PoolSync.reset()) to resync from scratch`,
      );
    }
    this.#loaded = true;
    return undefined;
  }

  #snapshot(): SyncSnapshot {
    const body: Omit<SyncSnapshot, "checksum"> = {
      format: SYNC_SNAPSHOT_FORMAT,
      chainId: this.#chainId,
      pool: this.#address,
      startBlock: this.#startBlock,
      blocks: this.#blocks.map(([n, h]) => [n, h]),
      leaves: this.#leaves.map((l) => [hex(l.commitment), l.encryptedOpening, l.blockNumber, l.transactionHash]),
      tree: this.#tree.exportNodes(),
      spent: this.#spentList.map(([n, b]) => [hex(n), b]),
      locked: this.#escrows.locked.map((e) => ({
        fields: [e.escrowId, e.cpoId, e.sessionId, e.refundPrecommitment, e.cap, e.settleDeadline, e.claimDeadline].map(
          hex,
        ),
        encryptedRefund: e.encryptedRefund,
        blockNumber: e.blockNumber,
      })),
      closed: this.#escrows.closed.map((c) => [hex(c.escrowId), hex(c.amount), Number(c.mode), c.blockNumber]),
      refunded: this.#escrows.refunded.map((r) => [hex(r.escrowId), r.blockNumber]),
    };
    return { ...body, checksum: checksum(body) };
  }

  async #save(): Promise<void> {
    await this.#store?.save(this.#snapshot());
  }

  /** Restores a snapshot after checking its format, checksum, chain, pool and shape. */
  #restore(raw: unknown): void {
    const corrupt = (why: string) =>
      new SyncError(
        "STORE_CORRUPT",
        `the sync snapshot is unusable (${why}): delete the store (or call PoolSync.reset()) to resync from scratch`,
      );
    if (typeof raw !== "object" || raw === null) throw corrupt("not an object");
    const { checksum: sum, ...body } = raw as SyncSnapshot;
    if (body.format !== SYNC_SNAPSHOT_FORMAT) throw corrupt(`format ${String(body.format)}`);
    if (typeof sum !== "string" || sum !== checksum(body)) throw corrupt("checksum mismatch: truncated or modified");
    if (body.chainId !== this.#chainId) {
      throw new SyncError(
        "STORE_CORRUPT",
        `the sync snapshot is for chain ${body.chainId}, the provider serves chain ${this.#chainId}`,
      );
    }
    if (getAddress(body.pool) !== this.#address) {
      throw new SyncError("STORE_CORRUPT", `the sync snapshot is for pool ${body.pool}, not ${this.#address}`);
    }
    if (body.startBlock !== this.#startBlock) {
      throw corrupt(`it starts at block ${body.startBlock}, this sync at ${this.#startBlock}`);
    }
    const big = (x: unknown, what: string): bigint => {
      if (typeof x !== "string" || !/^0x[0-9a-f]+$/.test(x)) throw corrupt(`${what} is not hex`);
      return BigInt(x);
    };
    const num = (x: unknown, what: string): number => {
      if (!Number.isSafeInteger(x) || (x as number) < 0) throw corrupt(`${what} is not a block number`);
      return x as number;
    };
    try {
      this.#blocks = body.blocks.map(([n, h], i) => {
        if (typeof h !== "string") throw corrupt(`block hash ${i}`);
        return [num(n, `block ${i}`), h];
      });
      this.#leaves = body.leaves.map(([c, o, b, t], i) => {
        if (typeof o !== "string" || typeof t !== "string") throw corrupt(`leaf ${i}`);
        return {
          index: i,
          commitment: big(c, `leaf ${i}`),
          encryptedOpening: o,
          blockNumber: num(b, `leaf ${i}`),
          transactionHash: t,
        };
      });
      this.#spentList = body.spent.map(([n, b], i) => [big(n, `nullifier ${i}`), num(b, `nullifier ${i}`)]);
      this.#spent = new Set(this.#spentList.map(([n]) => n));
      this.#escrows = {
        locked: body.locked.map((e, i) => {
          const f = e.fields.map((x) => big(x, `escrow ${i}`));
          if (f.length !== 7 || typeof e.encryptedRefund !== "string") throw corrupt(`escrow ${i}`);
          return {
            escrowId: f[0]!,
            cpoId: f[1]!,
            sessionId: f[2]!,
            refundPrecommitment: f[3]!,
            cap: f[4]!,
            settleDeadline: f[5]!,
            claimDeadline: f[6]!,
            encryptedRefund: e.encryptedRefund,
            blockNumber: num(e.blockNumber, `escrow ${i}`),
          };
        }),
        closed: body.closed.map(([id, amount, mode, b], i) => ({
          escrowId: big(id, `close ${i}`),
          amount: big(amount, `close ${i}`),
          mode: BigInt(num(mode, `close ${i}`)),
          blockNumber: num(b, `close ${i}`),
        })),
        refunded: body.refunded.map(([id, b], i) => ({
          escrowId: big(id, `refund ${i}`),
          blockNumber: num(b, `refund ${i}`),
        })),
      };
    } catch (e) {
      if (e instanceof SyncError) throw e;
      throw corrupt((e as Error).message);
    }
    const tree = new NoteTree();
    try {
      tree.restoreNodes(
        body.tree,
        this.#leaves.map((l) => l.commitment),
      );
    } catch (e) {
      throw corrupt((e as Error).message);
    }
    this.#tree = tree;
    this.#verified = false; // checked against the pool on the next sync
  }
}

function checksum(body: Omit<SyncSnapshot, "checksum">): string {
  return bytesToHex(sha256(utf8ToBytes(JSON.stringify(body))));
}
