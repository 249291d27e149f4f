/**
 * Reading zkcharge state from the chain alone: the note tree and the pool's spent nullifiers,
 * a CPO's meter tree, its published tariffs. Everything a wallet or an operator needs is in the
 * contracts' events; nothing here trusts an off-chain server.
 */
import type { Pool, Registry } from "../../types/ethers-contracts/index.js";
import type { IRegistry } from "../../types/ethers-contracts/contracts/Registry.js";
import type { Tariff } from "../tariff/tariff.ts";
import { MeterTree, NoteTree } from "../core/tree.ts";
import type { NoteOrigin, NoteProvenance } from "./privacy.ts";

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

/** Rebuilds the note tree and the spent-nullifier set from `NoteAdded` / `NullifierSpent` events. */
export async function readPoolState(pool: Pool): Promise<PoolState> {
  const [added, spentEvents] = await Promise.all([
    pool.queryFilter(pool.filters.NoteAdded(), 0),
    pool.queryFilter(pool.filters.NullifierSpent(), 0),
  ]);
  const leaves = added
    .map((ev) => ({
      index: Number(ev.args.index),
      commitment: ev.args.commitment,
      encryptedOpening: ev.args.encryptedOpening,
      blockNumber: ev.blockNumber,
      transactionHash: ev.transactionHash,
    }))
    .sort((a, b) => a.index - b.index);
  leaves.forEach((leaf, i) => {
    if (leaf.index !== i) throw new Error(`note tree events are incomplete: missing leaf ${i}`);
  });
  const tree = new NoteTree(leaves.map((l) => l.commitment));
  const onChainRoot = await pool.noteRoot();
  if (tree.root !== onChainRoot) throw new Error("note tree rebuilt from events does not match the pool's root");
  return { tree, leaves, spent: new Set(spentEvents.map((ev) => ev.args.nullifier)) };
}

/** Rebuilds CPO `cpoId`'s meter tree from `MeterAdded` / `MeterRevoked` events (revoked leaves are 0). */
export async function readMeterTree(registry: Registry, cpoId: bigint): Promise<MeterTree> {
  const [added, revoked] = await Promise.all([
    registry.queryFilter(registry.filters.MeterAdded(cpoId), 0),
    registry.queryFilter(registry.filters.MeterRevoked(cpoId), 0),
  ]);
  const events = [...added.map((ev) => ({ ev, add: true })), ...revoked.map((ev) => ({ ev, add: false }))].sort(
    (a, b) => a.ev.blockNumber - b.ev.blockNumber || a.ev.index - b.ev.index,
  );
  const tree = new MeterTree();
  for (const { ev, add } of events) {
    const leaf = ev.args.leaf as bigint;
    if (add) tree.insert(leaf);
    else tree.update(tree.indexOf(leaf), 0n);
  }
  if (tree.size > 0 && tree.root !== (await registry.meterRoot(cpoId))) {
    throw new Error(`meter tree of CPO ${cpoId} rebuilt from events does not match the registry's root`);
  }
  return tree;
}

/** The registry's struct for a tariff (band 0 start implicit). */
export function toTariffStruct(t: Tariff): IRegistry.TariffStruct {
  return {
    cpoId: t.cpoId,
    flatFee: t.flatFee,
    energyPrice: [...t.energyPrice],
    bandStart: [t.bandStart[1], t.bandStart[2], t.bandStart[3]],
    timePricePerHour: [...t.timePricePerHour],
    minPrice: t.minPrice,
    maxPrice: t.maxPrice,
    tzOffset: t.tzOffset,
    validFrom: t.validFrom,
    validTo: t.validTo,
  };
}

/** A tariff from the registry's struct as found in a `TariffPublished` event. */
export function fromTariffStruct(s: IRegistry.TariffStructOutput): Tariff {
  return {
    cpoId: s.cpoId,
    flatFee: s.flatFee,
    energyPrice: [s.energyPrice[0]!, s.energyPrice[1]!, s.energyPrice[2]!, s.energyPrice[3]!],
    bandStart: [0n, s.bandStart[0]!, s.bandStart[1]!, s.bandStart[2]!],
    timePricePerHour: [s.timePricePerHour[0]!, s.timePricePerHour[1]!, s.timePricePerHour[2]!, s.timePricePerHour[3]!],
    minPrice: s.minPrice,
    maxPrice: s.maxPrice,
    tzOffset: s.tzOffset,
    validFrom: s.validFrom,
    validTo: s.validTo,
  };
}

/** Every tariff CPO `cpoId` published, by hash, read from `TariffPublished` events. */
export async function readTariffs(registry: Registry, cpoId: bigint): Promise<Map<bigint, Tariff>> {
  const events = await registry.queryFilter(registry.filters.TariffPublished(cpoId), 0);
  return new Map(events.map((ev) => [ev.args.tariffHash, fromTariffStruct(ev.args.tariff)]));
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

/** Every escrow the pool locked, and which were closed (with the amount charged) or refunded. */
export async function readEscrowEvents(pool: Pool): Promise<{
  locked: LockedEscrow[];
  closed: Map<bigint, { amount: bigint; mode: bigint }>;
  refunded: Set<bigint>;
}> {
  const [locked, closed, refunded] = await Promise.all([
    pool.queryFilter(pool.filters.EscrowLocked(), 0),
    pool.queryFilter(pool.filters.EscrowClosed(), 0),
    pool.queryFilter(pool.filters.EscrowRefunded(), 0),
  ]);
  return {
    locked: locked.map((ev) => ({
      escrowId: ev.args.escrowId,
      cpoId: ev.args.cpoId,
      sessionId: ev.args.sessionId,
      refundPrecommitment: ev.args.refundPrecommitment,
      cap: ev.args.cap,
      settleDeadline: ev.args.settleDeadline,
      claimDeadline: ev.args.claimDeadline,
      encryptedRefund: ev.args.encryptedRefund,
    })),
    closed: new Map(closed.map((ev) => [ev.args.escrowId, { amount: ev.args.amount, mode: BigInt(ev.args.mode) }])),
    refunded: new Set(refunded.map((ev) => ev.args.escrowId)),
  };
}

/**
 * How and when each of `leaves` was created (for {@link assessSpend}): the kind of transaction that inserted it,
 * told by the pool's other events in the same transaction, and its block time.
 */
export async function readNoteProvenance(pool: Pool, leaves: readonly NoteLeaf[]): Promise<NoteProvenance[]> {
  if (leaves.length === 0) return [];
  const from = Math.min(...leaves.map((l) => l.blockNumber));
  const to = Math.max(...leaves.map((l) => l.blockNumber));
  const hashes = async (filter: Parameters<Pool["queryFilter"]>[0]) =>
    new Set((await pool.queryFilter(filter, from, to)).map((ev) => ev.transactionHash));
  const [deposits, pays, locks, closes, refunds] = await Promise.all([
    hashes(pool.filters.Deposited()),
    hashes(pool.filters.SessionPaid()),
    hashes(pool.filters.EscrowLocked()),
    hashes(pool.filters.EscrowClosed()),
    hashes(pool.filters.EscrowRefunded()),
  ]);
  const origin = (tx: string): NoteOrigin =>
    deposits.has(tx)
      ? "deposit"
      : pays.has(tx)
        ? "pay"
        : locks.has(tx)
          ? "lock"
          : closes.has(tx)
            ? "close"
            : refunds.has(tx)
              ? "refund"
              : "transact";
  const provider = pool.runner?.provider;
  if (!provider) throw new Error("readNoteProvenance: the pool contract is not connected to a provider");
  const times = new Map<number, bigint>();
  for (const n of new Set(leaves.map((l) => l.blockNumber))) {
    const block = await provider.getBlock(n);
    if (!block) throw new Error(`block ${n} of a note leaf is not available from the provider`);
    times.set(n, BigInt(block.timestamp));
  }
  return leaves.map((l) => ({
    leafIndex: l.index,
    origin: origin(l.transactionHash),
    createdAt: times.get(l.blockNumber)!,
  }));
}
