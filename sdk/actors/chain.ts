/**
 * Reading zkcharge state from the chain alone: the note tree and the pool's spent nullifiers,
 * a CPO's meter tree, its published tariffs. Everything a wallet or an operator needs is in the
 * contracts' events; nothing here trusts an off-chain server. Events are read in bounded block
 * ranges from `fromBlock` (sdk/actors/logs.ts); a wallet that syncs again keeps a PoolSync.
 */
import { toBeHex, zeroPadValue, type Interface, type Result } from "ethers";
import type { Pool, Registry } from "../../types/ethers-contracts/index.js";
import type { IRegistry } from "../../types/ethers-contracts/contracts/Registry.js";
import type { Tariff } from "../tariff/tariff.ts";
import { durationLimitFromWords, durationLimitWords } from "../core/hash.ts";
import { MeterTree } from "../core/tree.ts";
import { readLogs, type LogReaderOptions, type RawLog } from "./logs.ts";
import type { NoteOrigin, NoteProvenance } from "./privacy.ts";
import { PoolSync, lockedEscrow, type LockedEscrow, type NoteLeaf, type PoolState } from "./sync.ts";

export type { LockedEscrow, NoteLeaf, PoolState } from "./sync.ts";

/** Options of the readers below: where to start, and the ranged log reader's options (docs/sync.md). */
export interface ReadOptions extends LogReaderOptions {
  /** First block to read (the contract's deployment block; default 0). */
  fromBlock?: number;
}

/** Reads every log of `contract` with one of `events` (topic0) and `topic1` if given, decoded, in chain order. */
async function readEvents<C extends Pool | Registry>(
  contract: C,
  events: readonly string[],
  opts: ReadOptions,
  topic1?: bigint,
  toBlock?: number,
): Promise<{ name: string; args: Result; log: RawLog }[]> {
  const provider = contract.runner?.provider;
  if (!provider) throw new Error("the contract is not connected to a provider");
  const iface: Interface = contract.interface;
  const topics: (string | string[] | null)[] = [events.map((e) => iface.getEvent(e)!.topicHash)];
  if (topic1 !== undefined) topics.push(zeroPadValue(toBeHex(topic1), 32));
  const to = toBlock ?? (await provider.getBlockNumber());
  const logs = await readLogs(
    provider,
    { address: await contract.getAddress(), topics },
    opts.fromBlock ?? 0,
    to,
    opts,
  );
  return logs.map((log) => {
    const parsed = iface.parseLog(log)!;
    return { name: parsed.name, args: parsed.args, log };
  });
}

/**
 * Rebuilds the note tree and the spent-nullifier set from `NoteAdded` / `NullifierSpent` events, in bounded block
 * ranges, and checks the tree against the pool's root. For repeated syncs keep a {@link PoolSync} instead.
 */
export async function readPoolState(pool: Pool, opts: ReadOptions = {}): Promise<PoolState> {
  const sync = new PoolSync(pool, { ...opts, startBlock: opts.fromBlock ?? 0 });
  await sync.sync();
  return sync.state;
}

/** Rebuilds CPO `cpoId`'s meter tree from `MeterAdded` / `MeterRevoked` events (revoked leaves are 0). */
export async function readMeterTree(registry: Registry, cpoId: bigint, opts: ReadOptions = {}): Promise<MeterTree> {
  const events = await readEvents(registry, ["MeterAdded", "MeterRevoked"], opts, cpoId);
  const tree = new MeterTree();
  for (const { name, args } of events) {
    const leaf = args.getValue("leaf") as bigint;
    if (name === "MeterAdded") tree.insert(leaf);
    else tree.update(tree.indexOf(leaf), 0n);
  }
  if (tree.size > 0 && tree.root !== (await registry.meterRoot(cpoId))) {
    throw new Error(`meter tree of CPO ${cpoId} rebuilt from events does not match the registry's root`);
  }
  return tree;
}

/** The registry's struct for a tariff (band 0 start implicit; no duration limit = all five words 0). */
export function toTariffStruct(t: Tariff): IRegistry.TariffStruct {
  return {
    cpoId: t.cpoId,
    flatFee: t.flatFee,
    energyPrice: [...t.energyPrice],
    bandStart: [t.bandStart[1], t.bandStart[2], t.bandStart[3]],
    timePricePerHour: [...t.timePricePerHour],
    parkingPricePerHour: [...t.parkingPricePerHour],
    minPrice: t.minPrice,
    maxPrice: t.maxPrice,
    tzOffset: t.tzOffset,
    validFrom: t.validFrom,
    validTo: t.validTo,
    stepSize: [...t.stepSize],
    durationLimit: [...durationLimitWords(t.durationLimit)],
  };
}

/**
 * A tariff from the registry's struct as found in a `TariffPublished` event. Without a duration limit (all zeros)
 * the tariff has no `durationLimit` key at all, so it deep-equals a tariff that never had one.
 */
export function fromTariffStruct(s: IRegistry.TariffStructOutput): Tariff {
  const durationLimit = durationLimitFromWords([...s.durationLimit]);
  return {
    cpoId: s.cpoId,
    flatFee: s.flatFee,
    energyPrice: [s.energyPrice[0]!, s.energyPrice[1]!, s.energyPrice[2]!, s.energyPrice[3]!],
    bandStart: [0n, s.bandStart[0]!, s.bandStart[1]!, s.bandStart[2]!],
    timePricePerHour: [s.timePricePerHour[0]!, s.timePricePerHour[1]!, s.timePricePerHour[2]!, s.timePricePerHour[3]!],
    parkingPricePerHour: [
      s.parkingPricePerHour[0]!,
      s.parkingPricePerHour[1]!,
      s.parkingPricePerHour[2]!,
      s.parkingPricePerHour[3]!,
    ],
    minPrice: s.minPrice,
    maxPrice: s.maxPrice,
    tzOffset: s.tzOffset,
    validFrom: s.validFrom,
    validTo: s.validTo,
    stepSize: [s.stepSize[0]!, s.stepSize[1]!, s.stepSize[2]!],
    ...(durationLimit !== undefined ? { durationLimit } : {}),
  };
}

/** Every tariff CPO `cpoId` published, by hash, read from `TariffPublished` events. */
export async function readTariffs(
  registry: Registry,
  cpoId: bigint,
  opts: ReadOptions = {},
): Promise<Map<bigint, Tariff>> {
  const events = await readEvents(registry, ["TariffPublished"], opts, cpoId);
  return new Map(
    events.map(({ args }) => [
      args.getValue("tariffHash") as bigint,
      fromTariffStruct(args.getValue("tariff") as IRegistry.TariffStructOutput),
    ]),
  );
}

/** Every escrow the pool locked, and which were closed (with the amount charged) or refunded. */
export async function readEscrowEvents(
  pool: Pool,
  opts: ReadOptions = {},
): Promise<{
  locked: LockedEscrow[];
  closed: Map<bigint, { amount: bigint; mode: bigint }>;
  refunded: Set<bigint>;
}> {
  const events = await readEvents(pool, ["EscrowLocked", "EscrowClosed", "EscrowRefunded"], opts);
  const of = (name: string) => events.filter((e) => e.name === name).map((e) => e.args);
  return {
    locked: of("EscrowLocked").map((a) => lockedEscrow(a.toObject())),
    closed: new Map(
      of("EscrowClosed").map((a) => [
        a.getValue("escrowId") as bigint,
        { amount: a.getValue("amount") as bigint, mode: BigInt(a.getValue("mode") as bigint) },
      ]),
    ),
    refunded: new Set(of("EscrowRefunded").map((a) => a.getValue("escrowId") as bigint)),
  };
}

/**
 * How and when each of `leaves` was created (for {@link assessSpend}): the kind of transaction that inserted it,
 * told by the pool's other events in the same transaction, and its block time.
 */
export async function readNoteProvenance(
  pool: Pool,
  leaves: readonly NoteLeaf[],
  opts: LogReaderOptions = {},
): Promise<NoteProvenance[]> {
  if (leaves.length === 0) return [];
  const from = Math.min(...leaves.map((l) => l.blockNumber));
  const to = Math.max(...leaves.map((l) => l.blockNumber));
  const kinds = ["Deposited", "SessionPaid", "EscrowLocked", "EscrowClosed", "EscrowRefunded"] as const;
  const events = await readEvents(pool, kinds, { ...opts, fromBlock: from }, undefined, to);
  const [deposits, pays, locks, closes, refunds] = kinds.map(
    (kind) => new Set(events.filter((e) => e.name === kind).map((e) => e.log.transactionHash)),
  ) as [Set<string>, Set<string>, Set<string>, Set<string>, Set<string>];
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

/** Block time (unix seconds) of each of `blocks`, one `getBlock` per distinct block. */
async function blockTimes(pool: Pool | Registry, blocks: Iterable<number>): Promise<Map<number, bigint>> {
  const provider = pool.runner?.provider;
  if (!provider) throw new Error("the contract is not connected to a provider");
  const times = new Map<number, bigint>();
  for (const n of new Set(blocks)) {
    const block = await provider.getBlock(n);
    if (!block) throw new Error(`block ${n} is not available from the provider`);
    times.set(n, BigInt(block.timestamp));
  }
  return times;
}

/** A session payment as the chain shows it to everyone (`SessionPaid`, or an escrow's close). */
export interface PublicPayment {
  /** How it was paid: a pay proof, or an escrow closed with the session end (`escrow-end`) or a live tail. */
  kind: "pay" | "escrow-end" | "escrow-tail";
  cpoId: bigint;
  sessionId: bigint;
  /** The tariff it was billed with (a pay names it; an escrow close proves it without naming it: `undefined`). */
  tariffHash?: bigint;
  /** Credited to the CPO, token base units. */
  amount: bigint;
  /** Relayer fee of a pay (0 for escrow closes). */
  fee: bigint;
  blockNumber: number;
  transactionHash: string;
  /** Block time, unix seconds. */
  time: bigint;
}

/**
 * Every session payment of the pool, in chain order: pays (`SessionPaid`) and escrow closes (`EscrowClosed`),
 * with their block times. Exactly what any observer can read; nothing here links a payment to a driver.
 */
export async function readPayments(pool: Pool, opts: ReadOptions = {}): Promise<PublicPayment[]> {
  const events = await readEvents(pool, ["SessionPaid", "EscrowClosed"], opts);
  const times = await blockTimes(
    pool,
    events.map((e) => e.log.blockNumber),
  );
  return events.map(({ name, args, log }) => {
    const v = (k: string) => args.getValue(k) as bigint;
    const common = {
      cpoId: v("cpoId"),
      sessionId: v("sessionId"),
      amount: v("amount"),
      blockNumber: log.blockNumber,
      transactionHash: log.transactionHash,
      time: times.get(log.blockNumber)!,
    };
    return name === "SessionPaid"
      ? { kind: "pay", ...common, tariffHash: v("tariffHash"), fee: v("fee") }
      : { kind: BigInt(v("mode")) === 0n ? "escrow-end" : "escrow-tail", ...common, fee: 0n };
  });
}

/** A CPO's withdrawal of its earnings (`CpoWithdrawal`): the whole balance, to its payout address then. */
export interface CpoWithdrawal {
  cpoId: bigint;
  payout: string;
  amount: bigint;
  blockNumber: number;
  transactionHash: string;
  /** Block time, unix seconds. */
  time: bigint;
}

/** Every withdrawal CPO `cpoId` made from the pool, in chain order, with its block time. */
export async function readCpoWithdrawals(pool: Pool, cpoId: bigint, opts: ReadOptions = {}): Promise<CpoWithdrawal[]> {
  const events = await readEvents(pool, ["CpoWithdrawal"], opts, cpoId);
  const times = await blockTimes(
    pool,
    events.map((e) => e.log.blockNumber),
  );
  return events.map(({ args, log }) => ({
    cpoId,
    payout: args.getValue("payout") as string,
    amount: args.getValue("amount") as bigint,
    blockNumber: log.blockNumber,
    transactionHash: log.transactionHash,
    time: times.get(log.blockNumber)!,
  }));
}

/** A meter of a CPO as the registry announced it. */
export interface RegisteredMeter {
  index: number;
  leaf: bigint;
  publicKey: [bigint, bigint];
  ratedPowerW: bigint;
  /** True once `MeterRevoked` named its leaf. */
  revoked: boolean;
}

/** A CPO in the registry: who administers it, where it is paid, its meters and its tariffs by hash. */
export interface RegisteredCpo {
  cpoId: bigint;
  admin: string;
  payout: string;
  meters: RegisteredMeter[];
  tariffs: Map<bigint, Tariff>;
  /** Block time of the registration, unix seconds. */
  registeredAt: bigint;
}

/** Every CPO of the registry with its meters (revoked ones marked) and published tariffs, from events alone. */
export async function readRegistry(registry: Registry, opts: ReadOptions = {}): Promise<RegisteredCpo[]> {
  const events = await readEvents(
    registry,
    ["CpoRegistered", "PayoutChanged", "MeterAdded", "MeterRevoked", "TariffPublished"],
    opts,
  );
  const registrations = events.filter((e) => e.name === "CpoRegistered");
  const times = await blockTimes(
    registry,
    registrations.map((e) => e.log.blockNumber),
  );
  const cpos = new Map<bigint, RegisteredCpo>();
  for (const { name, args, log } of events) {
    const cpoId = args.getValue("cpoId") as bigint;
    if (name === "CpoRegistered") {
      cpos.set(cpoId, {
        cpoId,
        admin: args.getValue("admin") as string,
        payout: args.getValue("payout") as string,
        meters: [],
        tariffs: new Map(),
        registeredAt: times.get(log.blockNumber)!,
      });
      continue;
    }
    const cpo = cpos.get(cpoId);
    if (!cpo) continue; // an event of a CPO registered before fromBlock
    if (name === "PayoutChanged") cpo.payout = args.getValue("payout") as string;
    else if (name === "MeterAdded") {
      cpo.meters.push({
        index: Number(args.getValue("index") as bigint),
        leaf: args.getValue("leaf") as bigint,
        publicKey: [args.getValue("ax") as bigint, args.getValue("ay") as bigint],
        ratedPowerW: args.getValue("ratedPowerW") as bigint,
        revoked: false,
      });
    } else if (name === "MeterRevoked") {
      const leaf = args.getValue("leaf") as bigint;
      for (const m of cpo.meters) if (m.leaf === leaf) m.revoked = true;
    } else {
      cpo.tariffs.set(
        args.getValue("tariffHash") as bigint,
        fromTariffStruct(args.getValue("tariff") as IRegistry.TariffStructOutput),
      );
    }
  }
  return [...cpos.values()];
}
