/**
 * Shared fixtures and builders of the contract tests. Hashes come from the SDK (sdk/hash.ts), so every test that
 * compares an on-chain hash with these also checks Solidity = TypeScript.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { LeanIMT } from "@zk-kit/lean-imt";
import { ZeroAddress, type BigNumberish } from "ethers";
import type { TransactPublicSignals } from "../../sdk/proofs/publicSignals.ts";
import { deployZkcharge, type DeployOptions, type ZkchargeDeployment } from "../../dev/deploy.ts";
import { FIELD_MODULUS, NOTE_TREE_DEPTH } from "../../sdk/core/constants.ts";
import { durationLimitFromWords, merkleNode, tariffHash as sdkTariffHash } from "../../sdk/core/hash.ts";
import { hasSibling, rootFromPath, type MerklePath } from "../../sdk/core/tree.ts";
import type { IPool, IRegistry } from "../../types/ethers-contracts/index.js";

export const R = FIELD_MODULUS;
export const MAX_VALUE = (1n << 64n) - 1n;

/** A LeanIMT over H_2, as the SDK and the circuits build it. */
export function newTree(): LeanIMT<bigint> {
  return new LeanIMT<bigint>((a, b) => merkleNode(a, b));
}

export type TariffStruct = IRegistry.TariffStruct;

/** A valid tariff of `cpoId` starting at `validFrom` (no duration limit unless `over` gives one). */
export function makeTariff(
  cpoId: bigint,
  validFrom: bigint,
  over: Partial<Record<keyof TariffStruct, unknown>> = {},
): {
  cpoId: bigint;
  flatFee: bigint;
  energyPrice: [bigint, bigint, bigint, bigint];
  bandStart: [bigint, bigint, bigint];
  timePricePerHour: [bigint, bigint, bigint, bigint];
  parkingPricePerHour: [bigint, bigint, bigint, bigint];
  minPrice: bigint;
  maxPrice: bigint;
  tzOffset: bigint;
  validFrom: bigint;
  validTo: bigint;
  stepSize: [bigint, bigint, bigint];
  durationLimit: [bigint, bigint, bigint, bigint, bigint];
} {
  return {
    cpoId,
    flatFee: 500_000n,
    energyPrice: [250_000n, 390_000n, 450_000n, 310_000n],
    bandStart: [21_600n, 43_200n, 64_800n],
    timePricePerHour: [60_000n, 60_000n, 60_000n, 60_000n],
    parkingPricePerHour: [30_000n, 30_000n, 30_000n, 30_000n],
    minPrice: 0n,
    maxPrice: 40_000_000n,
    tzOffset: 3_600n,
    validFrom,
    validTo: validFrom + 180n * 86_400n,
    stepSize: [1n, 1n, 1n],
    durationLimit: [0n, 0n, 0n, 0n, 0n],
    ...(over as object),
  };
}

/**
 * The SDK tariff hash of a contract-shaped tariff (the SDK carries bandStart[0] = 0 explicitly and the duration
 * limit as an object, absent when its words are all 0).
 */
export function sdkHashOfTariff(t: ReturnType<typeof makeTariff>): bigint {
  const { durationLimit, ...rest } = t;
  const limit = durationLimitFromWords(durationLimit);
  return sdkTariffHash({
    ...rest,
    bandStart: [0n, ...t.bandStart],
    ...(limit !== undefined ? { durationLimit: limit } : {}),
  } as never);
}

/** Deployment with the real (generated) verifiers. */
export async function deployReal(ethers: HardhatEthers, opts: DeployOptions = {}): Promise<ZkchargeDeployment> {
  return deployZkcharge(ethers, opts);
}

/** A dummy proof (never valid). */
export const ZERO_PROOF: IPool.ProofStruct = {
  a: [0n, 0n],
  b: [
    [0n, 0n],
    [0n, 0n],
  ],
  c: [0n, 0n],
};

export interface ExtDataValue {
  recipient: string;
  relayer: string;
  extAmount: bigint;
  encryptedOutput1: string;
  encryptedOutput2: string;
}

export function extData(over: Partial<ExtDataValue> = {}): ExtDataValue {
  return {
    recipient: ZeroAddress,
    relayer: ZeroAddress,
    extAmount: 0n,
    encryptedOutput1: "0x",
    encryptedOutput2: "0x",
    ...over,
  };
}

export type PayPublicValue = { [K in keyof IPool.PayPublicStruct]: bigint };
export type TransactPublicValue = TransactPublicSignals;

/** `(extAmount - fee) mod r`. */
export function publicAmount(extAmount: bigint, fee: bigint): bigint {
  return (((extAmount - fee) % R) + R) % R;
}

export function big(x: BigNumberish): bigint {
  return BigInt(x);
}

/**
 * The note tree of a pool whose stored size was moved to `base` over arbitrary stored side nodes (the gas test's
 * large pools): the first `base` leaves are unknown, but every complete subtree of them that a later leaf's path
 * needs is the stored side node of its level (`sideNodes[l]` where bit `l` of `base` is 1), so the leaves
 * appended from `base` on get real paths and roots, as a proof needs them.
 */
export class TailTree {
  readonly base: bigint;
  readonly #sideNodes: readonly bigint[];
  readonly #leaves: bigint[] = [];

  /** @param sideNodes the stored `sideNodes[0..NOTE_TREE_DEPTH]` when the size was set to `base` */
  constructor(base: bigint, sideNodes: readonly bigint[]) {
    this.base = base;
    this.#sideNodes = sideNodes;
  }

  get size(): bigint {
    return this.base + BigInt(this.#leaves.length);
  }

  /** Appends a leaf; returns its index. */
  insert(leaf: bigint): bigint {
    this.#leaves.push(leaf);
    return this.size - 1n;
  }

  get root(): bigint {
    const depth = this.size === 1n ? 0 : (this.size - 1n).toString(2).length;
    return this.#node(depth, 0n)!;
  }

  /** The circuit path of leaf `index` (>= base) against the current root. */
  path(index: bigint): MerklePath {
    if (index < this.base || index >= this.size) throw new Error(`leaf ${index} is not in the known tail`);
    const siblings: bigint[] = [];
    for (let level = 0; level < NOTE_TREE_DEPTH; level++) {
      siblings.push(hasSibling(index, this.size, level) ? this.#node(level, (index >> BigInt(level)) ^ 1n)! : 0n);
    }
    const path = { leaf: this.#leaves[Number(index - this.base)]!, leafIndex: index, treeSize: this.size, siblings };
    if (rootFromPath(path) !== this.root) throw new Error("internal: TailTree path does not lead to its root");
    return path;
  }

  /** Node `j` of level `level` (null when it holds no leaf). */
  #node(level: number, j: bigint): bigint | null {
    const l = BigInt(level);
    if (j << l >= this.size) return null;
    if ((j + 1n) << l <= this.base) {
      if (((this.base >> l) & 1n) === 1n && j === (this.base >> l) - 1n) return this.#sideNodes[level]!;
      throw new Error(`internal: node ${j} of level ${level} lies in the unknown prefix`);
    }
    if (level === 0) return this.#leaves[Number(j - this.base)]!;
    const left = this.#node(level - 1, 2n * j)!;
    const right = this.#node(level - 1, 2n * j + 1n);
    return right === null ? left : merkleNode(left, right);
  }
}
