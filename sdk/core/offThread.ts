/**
 * A wallet's heavy, parallel work off the caller's thread: trial decryption of many ciphertexts and the note tree
 * of many leaves, on the worker threads of `#task-pool` (sdk/node/taskPool.ts in Node, min(2, cores) workers) and
 * in-thread where there is none (a browser, one core, or too little work to pay for the hand-over). The results are
 * exactly {@link decryptNotes}' and `new NoteTree(leaves)`'s.
 *
 * This module is also the workers' task module: they import it and call {@link decryptBatch} and {@link hashBlock}.
 */
import { sharedTaskPool } from "#task-pool";
import { decryptMany, decryptNotes, noteFromOpening } from "./encryption.ts";
import type { Note } from "./note.ts";
import { NoteTree, treeLevels } from "./tree.ts";

/** Below this many items the work stays in-thread: handing it to workers would cost more than it saves. */
const MIN_OFF_THREAD = 2_048;

/** Tuning of {@link decryptNotesOffThread} and {@link buildNoteTree} (the defaults suit a wallet). */
export interface OffThreadOptions {
  /** Fewer items than this are handled in-thread (default 2,048). */
  minItems?: number;
  /** Leaves per block hashed on a worker, a power of 2 (default: about 8 blocks per worker, at least 256). */
  blockLeaves?: number;
}

/**
 * Task (on a worker): {@link decryptMany} of ciphertexts packed one after another in `packed`; `ends[i]` is where
 * ciphertext `i` ends. Opened with the worker's native primitives (`#worker-kernels`), same result.
 */
export async function decryptBatch(
  packed: ArrayBuffer,
  ends: Uint32Array,
  secretKey: Uint8Array,
): Promise<(Uint8Array | null)[]> {
  const { symmetricPrimitives } = await import("#worker-kernels");
  const bytes = new Uint8Array(packed);
  return decryptMany(
    Array.from(ends, (end, i) => bytes.subarray(i === 0 ? 0 : ends[i - 1]!, end)),
    secretKey,
    symmetricPrimitives,
  );
}

/**
 * Task (on a worker): the levels of an aligned block of leaves ({@link treeLevels}) above the leaves, hashed by the
 * worker's WebAssembly Poseidon (`#worker-kernels`), node for node what `merkleNode` gives for field elements (a
 * leaf that is not one is refused by `restoreLevels` when the blocks are joined).
 */
export async function hashBlock(leaves: bigint[]): Promise<bigint[][]> {
  const { merkleNodeHasher } = await import("#worker-kernels");
  return treeLevels(leaves, await merkleNodeHasher()).slice(1);
}

const pool = () => sharedTaskPool(import.meta.url);

/**
 * Starts the worker threads now, if there are any and `items` is enough work for them, so that they are ready
 * (their modules loaded: seconds under load) when the work comes; call it while reading what they will work on.
 */
export function prepareOffThread(items: number): void {
  if (items >= MIN_OFF_THREAD) pool()?.start();
}

/**
 * {@link decryptNotes} on worker threads where there are: ciphertexts in a few batches per worker, each packed
 * into one transferred `ArrayBuffer`. Same result, element for element.
 */
export async function decryptNotesOffThread(
  ciphertexts: readonly Uint8Array[],
  recipientSecretKey: Uint8Array,
  idc: bigint,
  opts: OffThreadOptions = {},
): Promise<(Note | null)[]> {
  const workers = ciphertexts.length >= (opts.minItems ?? MIN_OFF_THREAD) ? pool() : undefined;
  if (!workers) return decryptNotes(ciphertexts, recipientSecretKey, idc);
  const size = Math.ceil(ciphertexts.length / (workers.size * 4));
  const batches: Promise<(Uint8Array | null)[]>[] = [];
  for (let start = 0; start < ciphertexts.length; start += size) {
    const batch = ciphertexts.slice(start, start + size);
    const ends = new Uint32Array(batch.length);
    let total = 0;
    batch.forEach((c, i) => (ends[i] = total += c.length));
    const packed = new Uint8Array(total);
    batch.forEach((c, i) => packed.set(c, i === 0 ? 0 : ends[i - 1]!));
    batches.push(
      workers.run("decryptBatch", [packed.buffer, ends, new Uint8Array(recipientSecretKey)], [packed.buffer]),
    );
  }
  return (await Promise.all(batches)).flat().map((opening) => noteFromOpening(opening, idc));
}

/**
 * `new NoteTree(leaves)`, node for node, with the hashing on worker threads where there are: aligned blocks of
 * `2^k` leaves are hashed apart (a few per worker), the levels above them here, and the nodes imported.
 * @throws InvalidInputError if a leaf is not a field element or there are too many for the tree
 */
export async function buildNoteTree(leaves: readonly bigint[], opts: OffThreadOptions = {}): Promise<NoteTree> {
  const workers = leaves.length >= Math.max(2, opts.minItems ?? MIN_OFF_THREAD) ? pool() : undefined;
  if (!workers) return new NoteTree(leaves);
  const tree = new NoteTree();
  // Blocks of 2^k leaves, about 8 per worker: far fewer hand-overs than leaves, small enough to share out evenly;
  // at most the whole tree (k = its height: one block).
  const height = Math.ceil(Math.log2(leaves.length));
  const wanted = opts.blockLeaves ?? Math.max(256, leaves.length / (workers.size * 8));
  const k = Math.min(height, Math.max(0, Math.ceil(Math.log2(wanted))));
  const block = 2 ** k;
  const parts: Promise<bigint[][]>[] = [];
  for (let start = 0; start < leaves.length; start += block) {
    parts.push(workers.run("hashBlock", [leaves.slice(start, start + block)]));
  }
  const blocks = await Promise.all(parts);
  // Levels 1..k are the blocks' levels side by side; a last, partial block has fewer levels, and its root is
  // carried up unhashed, as LeanIMT carries a node without a sibling.
  const levels: bigint[][] = [[...leaves]];
  const last = blocks.at(-1)!;
  const lastRoot = last.length > 0 ? last.at(-1)![0]! : leaves.at(-1)!;
  for (let level = 1; level <= k; level++) {
    levels.push(blocks.flatMap((b) => b[level - 1] ?? [lastRoot]));
  }
  levels.push(...treeLevels(levels[k]!).slice(1));
  tree.restoreLevels(levels);
  return tree;
}
