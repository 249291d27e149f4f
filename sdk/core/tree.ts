/**
 * LeanIMT Merkle trees over `merkleNode` (note tree and per-CPO meter trees), and the fixed-depth path the
 * circuit's LeanIMT template takes.
 */
import { LeanIMT } from "@zk-kit/lean-imt";
import { METER_TREE_DEPTH, NOTE_TREE_DEPTH } from "./constants.ts";
import { InvalidInputError } from "./errors.ts";
import { assertFieldElement } from "./field.ts";
import { merkleNode } from "./hash.ts";

/**
 * A membership path as the circuit takes it. At level `i` with path bit `b_i` (bit `i` of `leafIndex`):
 * if `b_i = 1` the sibling is the left node; if `b_i = 0` the sibling is the right node when
 * `prefix_i + 2^i < treeSize` (`prefix_i` = leafIndex with its low `i` bits cleared), else 0 and the node is
 * carried up unhashed.
 */
export interface MerklePath {
  /** The leaf proven. */
  leaf: bigint;
  /** Its index; its bits are the path bits. */
  leafIndex: bigint;
  /** Number of leaves of the tree at the root proven against. */
  treeSize: bigint;
  /** Exactly `depth` siblings, bottom-up, 0 where there is none. */
  siblings: bigint[];
}

/** True when level `level` of a path for `leafIndex` in a tree of `treeSize` leaves has a hashed sibling. */
export function hasSibling(leafIndex: bigint, treeSize: bigint, level: number): boolean {
  const bit = (leafIndex >> BigInt(level)) & 1n;
  if (bit === 1n) return true;
  const prefix = (leafIndex >> BigInt(level)) << BigInt(level);
  return prefix + (1n << BigInt(level)) < treeSize;
}

function checkShape(leafIndex: bigint, treeSize: bigint, depth: number): void {
  if (!Number.isInteger(depth) || depth < 1 || depth > 64)
    throw new InvalidInputError(`tree depth ${depth} must be 1..64`);
  if (treeSize > 1n << BigInt(depth)) throw new InvalidInputError(`tree size ${treeSize} exceeds 2^${depth} leaves`);
  if (leafIndex < 0n || leafIndex >= treeSize) {
    throw new InvalidInputError(`leaf index ${leafIndex} is outside the tree of ${treeSize} leaves`);
  }
}

/**
 * Recomputes the root from a {@link MerklePath} with the circuit's rule (siblings at levels without one are ignored).
 * @throws InvalidInputError if `leafIndex >= treeSize` or the size does not fit the path's depth
 */
export function rootFromPath(path: MerklePath): bigint {
  const depth = path.siblings.length;
  checkShape(path.leafIndex, path.treeSize, depth);
  let node = path.leaf;
  for (let i = 0; i < depth; i++) {
    if (!hasSibling(path.leafIndex, path.treeSize, i)) continue;
    const sibling = path.siblings[i]!;
    node = ((path.leafIndex >> BigInt(i)) & 1n) === 1n ? merkleNode(sibling, node) : merkleNode(node, sibling);
  }
  return node;
}

/**
 * Every level of the LeanIMT over `leaves`, bottom-up: level 0 is the leaves, each next level hashes pairs and
 * carries a last odd node up unhashed, the last level is the root (LeanIMT's node layout; `[[]]` when empty).
 * Level `l` of an aligned block of `2^k` leaves (`l <= k`) is the same slice of the whole tree's level `l`, so
 * blocks can be hashed apart (on worker threads: sdk/core/offThread.ts) and joined.
 * @param node the pair hash: {@link merkleNode}, or a faster implementation of exactly it for field elements (a
 *   task worker's WebAssembly Poseidon, which does not refuse other values: `restoreLevels` does)
 */
export function treeLevels(
  leaves: readonly bigint[],
  node: (left: bigint, right: bigint) => bigint = merkleNode,
): bigint[][] {
  const levels: bigint[][] = [[...leaves]];
  for (let row = levels[0]!; row.length > 1;) {
    const up: bigint[] = new Array<bigint>(Math.ceil(row.length / 2));
    for (let i = 0; i < up.length; i++) {
      const right = row[2 * i + 1];
      up[i] = right === undefined ? row[2 * i]! : node(row[2 * i]!, right);
    }
    levels.push(up);
    row = up;
  }
  return levels;
}

/** True when `nodes` have a LeanIMT's shape over exactly `leaves`. */
function holdsLeaves(nodes: unknown, leaves: readonly bigint[]): nodes is bigint[][] {
  return (
    Array.isArray(nodes) &&
    nodes.length > 0 &&
    nodes.every(
      (row: unknown, level) =>
        Array.isArray(row) &&
        row.length === Math.ceil(leaves.length / 2 ** level) &&
        row.every((v) => typeof v === "bigint"),
    ) &&
    (leaves.length <= 1 ? nodes.length === 1 : nodes.at(-1)!.length === 1 && nodes.at(-2)!.length === 2) &&
    (nodes[0] as bigint[]).every((leaf, i) => leaf === leaves[i])
  );
}

/** An append-only LeanIMT of field elements with a maximum circuit depth. */
export class MerkleTree {
  /** Circuit depth: the tree holds at most `2^depth` leaves and paths have `depth` siblings. */
  readonly depth: number;
  #tree: LeanIMT<bigint>;

  /**
   * @param depth circuit depth (e.g. NOTE_TREE_DEPTH or METER_TREE_DEPTH)
   * @param leaves initial leaves, inserted in order
   */
  constructor(depth: number, leaves: readonly bigint[] = []) {
    if (!Number.isInteger(depth) || depth < 1 || depth > 32)
      throw new InvalidInputError(`tree depth ${depth} must be 1..32`);
    this.depth = depth;
    this.#tree = new LeanIMT<bigint>(merkleNode);
    if (leaves.length > 0) this.insertMany(leaves);
  }

  /** Number of leaves. */
  get size(): number {
    return this.#tree.size;
  }

  /** Current root (0 for the empty tree, as the contract's LeanIMT). */
  get root(): bigint {
    return this.#tree.size === 0 ? 0n : this.#tree.root;
  }

  /** Copy of the leaves in insertion order. */
  get leaves(): bigint[] {
    return this.#tree.leaves;
  }

  /**
   * Appends a leaf; returns its index.
   * @throws InvalidInputError if the leaf is not a field element or the tree is full
   */
  insert(leaf: bigint): number {
    this.insertMany([leaf]);
    return this.size - 1;
  }

  /** Appends leaves in order (same root as inserting them one by one). */
  insertMany(leaves: readonly bigint[]): void {
    leaves.forEach((l, i) => assertFieldElement(l, `leaf ${i}`));
    if (BigInt(this.size + leaves.length) > 1n << BigInt(this.depth)) {
      throw new InvalidInputError(`tree of depth ${this.depth} is full (${this.size} leaves)`);
    }
    this.#tree.insertMany([...leaves]);
  }

  /**
   * Replaces leaf `index` (0 removes it, as LeanIMT's `remove` does on-chain: the shape stays).
   * @throws InvalidInputError if the index is outside the tree or the leaf is not a field element
   */
  update(index: number, leaf: bigint): void {
    assertFieldElement(leaf, "leaf");
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new InvalidInputError(`leaf index ${index} is outside the tree of ${this.size} leaves`);
    }
    this.#tree.update(index, leaf);
  }

  /**
   * Drops every leaf from index `size` on (a wallet rolling back a chain reorganisation). The kept nodes stay; only
   * the new right edge is hashed again (at most `depth` hashes, not a rebuild).
   * @throws InvalidInputError if `size` is not between 0 and the current size
   */
  truncate(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > this.size) {
      throw new InvalidInputError(`cannot truncate a tree of ${this.size} leaves to ${size}`);
    }
    if (size === this.size) return;
    const nodes = parseNodes(this.#tree.export());
    const kept: bigint[][] = [nodes[0]!.slice(0, size)];
    for (let level = 0; kept[level]!.length > 1; level++) {
      const below = kept[level]!;
      const row = nodes[level + 1]!.slice(0, Math.ceil(below.length / 2));
      const i = row.length - 1;
      const right = below[2 * i + 1];
      row[i] = right === undefined ? below[2 * i]! : merkleNode(below[2 * i]!, right);
      kept.push(row);
    }
    this.#tree = size === 0 ? new LeanIMT<bigint>(merkleNode) : LeanIMT.import(merkleNode, stringifyNodes(kept));
  }

  /** Every node of the tree, level by level (LeanIMT's export), to restore it later without hashing. */
  exportNodes(): string {
    return this.#tree.export();
  }

  /**
   * Replaces the tree with nodes from {@link exportNodes}, after checking that they hold exactly `leaves` and have
   * a LeanIMT's shape (inner nodes are taken as they are: check the root against the chain).
   * @throws InvalidInputError if the nodes are malformed, of another shape or hold other leaves
   */
  restoreNodes(json: string, leaves: readonly bigint[]): void {
    let nodes: bigint[][];
    try {
      nodes = parseNodes(json);
    } catch (e) {
      throw new InvalidInputError(`tree nodes are not valid: ${(e as Error).message}`);
    }
    if (!holdsLeaves(nodes, leaves)) {
      throw new InvalidInputError(`tree nodes do not hold the ${leaves.length} leaves given`);
    }
    if (BigInt(leaves.length) > 1n << BigInt(this.depth)) {
      throw new InvalidInputError(`tree of depth ${this.depth} cannot hold ${leaves.length} leaves`);
    }
    this.#tree = leaves.length === 0 ? new LeanIMT<bigint>(merkleNode) : LeanIMT.import(merkleNode, json);
  }

  /**
   * Replaces the tree with `levels` (as {@link treeLevels} gives them, e.g. hashed on worker threads), after the
   * same checks as {@link restoreNodes}: inner nodes are taken as they are.
   * @throws InvalidInputError if the levels are of another shape or the leaves are not field elements
   */
  restoreLevels(levels: bigint[][]): void {
    const leaves = levels[0] ?? [];
    leaves.forEach((l, i) => assertFieldElement(l, `leaf ${i}`));
    if (!holdsLeaves(levels, leaves)) throw new InvalidInputError(`tree levels do not have a LeanIMT's shape`);
    if (BigInt(leaves.length) > 1n << BigInt(this.depth)) {
      throw new InvalidInputError(`tree of depth ${this.depth} cannot hold ${leaves.length} leaves`);
    }
    this.#tree =
      leaves.length === 0 ? new LeanIMT<bigint>(merkleNode) : LeanIMT.import(merkleNode, stringifyNodes(levels));
  }

  /** Index of the first occurrence of `leaf`, or -1. */
  indexOf(leaf: bigint): number {
    return this.#tree.indexOf(leaf);
  }

  /**
   * The circuit path of leaf `index` against the current root, padded to `depth` siblings.
   * @param index leaf index
   * @param depth circuit depth (defaults to the tree's)
   * @throws InvalidInputError if the leaf does not exist or the tree is larger than `2^depth`
   */
  path(index: number, depth: number = this.depth): MerklePath {
    const leafIndex = BigInt(index);
    const treeSize = BigInt(this.size);
    checkShape(leafIndex, treeSize, depth);
    const proof = this.#tree.generateProof(index);
    const siblings: bigint[] = [];
    let used = 0;
    for (let i = 0; i < depth; i++) {
      siblings.push(hasSibling(leafIndex, treeSize, i) ? proof.siblings[used++]! : 0n);
    }
    if (used !== proof.siblings.length) throw new Error("internal: LeanIMT proof shape differs from the circuit rule");
    return { leaf: proof.leaf, leafIndex, treeSize, siblings };
  }
}

function parseNodes(json: string): bigint[][] {
  return JSON.parse(json, (_, v: unknown) => (typeof v === "string" ? BigInt(v) : v)) as bigint[][];
}

function stringifyNodes(nodes: bigint[][]): string {
  return JSON.stringify(nodes, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** The pool's note tree (depth NOTE_TREE_DEPTH). */
export class NoteTree extends MerkleTree {
  /** @param leaves note commitments in insertion order */
  constructor(leaves: readonly bigint[] = []) {
    super(NOTE_TREE_DEPTH, leaves);
  }
}

/** A CPO's meter tree (depth METER_TREE_DEPTH). */
export class MeterTree extends MerkleTree {
  /** @param leaves meter leaves in insertion order */
  constructor(leaves: readonly bigint[] = []) {
    super(METER_TREE_DEPTH, leaves);
  }
}

/**
 * The siblings of the levels that hash, bottom-up: the compressed proof `@zk-kit/lean-imt.sol`'s
 * `_update` / `_remove` take.
 */
export function compressedSiblings(path: MerklePath): bigint[] {
  return path.siblings.filter((_, level) => hasSibling(path.leafIndex, path.treeSize, level));
}
