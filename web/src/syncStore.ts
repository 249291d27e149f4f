/**
 * The wallet's sync cursor and leaf cache in IndexedDB: the SDK's `SyncStore` (docs/sync.md), one snapshot per chain
 * and pool, saved all-or-nothing in one transaction. The snapshot holds only public chain data (leaves, encrypted
 * openings, nullifiers, escrow events), so it is not encrypted; the SDK checks its checksum and the pool's root
 * before trusting it, and starts over on a damaged one.
 */
import type { SyncSnapshot, SyncStore } from "../../sdk/index.ts";

const DB = "zkcharge";
const STORE = "pool-sync";

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`IndexedDB is unavailable: ${req.error?.message ?? "unknown error"}`));
  });
}

/** Runs one request in a transaction and resolves when the transaction has committed. */
async function inStore<T>(mode: IDBTransactionMode, op: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = op(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(new Error(`IndexedDB: ${tx.error?.message ?? "transaction failed"}`));
      tx.onabort = () => reject(new Error(`IndexedDB: ${tx.error?.message ?? "transaction aborted"}`));
    });
  } finally {
    db.close();
  }
}

/** A `SyncStore` in this browser's IndexedDB, under `key` (e.g. `31337:0xpool`). */
export class IndexedDbSyncStore implements SyncStore {
  constructor(readonly key: string) {}

  /** The stored snapshot, or `undefined` (IndexedDB keeps the JSON value as a structured clone). */
  load(): Promise<unknown> {
    return inStore("readonly", (s) => s.get(this.key));
  }

  async save(snapshot: SyncSnapshot): Promise<void> {
    await inStore("readwrite", (s) => s.put(snapshot, this.key));
  }
}
