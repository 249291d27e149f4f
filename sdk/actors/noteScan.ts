/**
 * What a wallet's trial decryption found, kept between runs: how many leading leaves of the note tree were
 * trial-decrypted, a digest of those leaves, and the notes among them that are the wallet's. A {@link Driver} that
 * is given a {@link NoteScanStore} resumes from it after a restart instead of decrypting every leaf again (at
 * 100,000 leaves that is seconds of X25519 per command); it trusts nothing in it that the chain does not confirm:
 * the digest must match the leaves as synced now, and every note must be the leaf it claims to be.
 *
 * The notes' openings are secrets (value and blinding): a scan belongs in an encrypted store (the CLI wallet's
 * file, the browser's encrypted wallet), never beside the public sync snapshot in a plaintext file.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { bigintToBytes } from "../core/field.ts";
import { SyncError, type NoteLeaf } from "./sync.ts";

/** Format tag of a {@link NoteScan}; a scan with another tag is refused. */
export const NOTE_SCAN_FORMAT = "zkcharge.note-scan.v1";

/** A wallet's trial decryption as it persists it (JSON only; bigints as decimal strings). */
export interface NoteScan {
  format: typeof NOTE_SCAN_FORMAT;
  /** Leaves `[0, scanned)` were trial-decrypted. */
  scanned: number;
  /** {@link leavesDigest} of those leaves: the scan is of this tree's leaves, not of a reorganised one. */
  leavesDigest: string;
  /** The wallet's notes among them: `[leafIndex, value, blinding]`, value and blinding as decimal strings. */
  found: [number, string, string][];
}

/** Where a wallet keeps its {@link NoteScan}: it holds note openings, so it must be encrypted at rest. */
export interface NoteScanStore {
  /** The last saved scan as parsed JSON, or `undefined` if none was saved. */
  load(): Promise<unknown>;
  /** Replaces the scan (all or nothing). */
  save(scan: NoteScan): Promise<void>;
}

/** SHA-256 over the commitments (32 bytes big-endian each) of `leaves[0, count)`, as hex. */
export function leavesDigest(leaves: readonly NoteLeaf[], count: number): string {
  const bytes = new Uint8Array(count * 32);
  for (let i = 0; i < count; i++) bytes.set(bigintToBytes(leaves[i]!.commitment, 32), i * 32);
  return bytesToHex(sha256(bytes));
}

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

/**
 * Checks the shape of a stored scan (what {@link NoteScanStore.load} returned).
 * @throws SyncError `STORE_CORRUPT` naming the field that is wrong
 */
export function parseNoteScan(raw: unknown): NoteScan {
  const corrupt = (why: string) => new SyncError("STORE_CORRUPT", `stored note scan: ${why}`);
  if (typeof raw !== "object" || raw === null) throw corrupt("not an object");
  const s = raw as Partial<NoteScan>;
  if (s.format !== NOTE_SCAN_FORMAT) throw corrupt(`format is ${JSON.stringify(s.format)}, not ${NOTE_SCAN_FORMAT}`);
  if (!Number.isSafeInteger(s.scanned) || s.scanned! < 0) throw corrupt("scanned is not a count of leaves");
  if (typeof s.leavesDigest !== "string" || !/^[0-9a-f]{64}$/.test(s.leavesDigest))
    throw corrupt("leavesDigest is not a SHA-256 in hex");
  if (!Array.isArray(s.found)) throw corrupt("found is not a list");
  s.found.forEach((f, i) => {
    const ok =
      Array.isArray(f) &&
      f.length === 3 &&
      Number.isSafeInteger(f[0]) &&
      f[0] >= 0 &&
      f[0] < s.scanned! &&
      typeof f[1] === "string" &&
      DECIMAL.test(f[1]) &&
      typeof f[2] === "string" &&
      DECIMAL.test(f[2]);
    if (!ok) throw corrupt(`found[${i}] is not [leafIndex below scanned, value, blinding]`);
  });
  return s as NoteScan;
}
