/**
 * Shared fixtures and builders of the contract tests. Hashes come from the SDK (sdk/hash.ts), so every test that
 * compares an on-chain hash with these also checks Solidity = TypeScript.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { LeanIMT } from "@zk-kit/lean-imt";
import { ZeroAddress, type BigNumberish } from "ethers";
import { deployZkcharge, type DeployOptions, type ZkchargeDeployment } from "../../sdk/deploy.ts";
import { FIELD_MODULUS } from "../../sdk/constants.ts";
import { merkleNode, tariffHash as sdkTariffHash } from "../../sdk/hash.ts";
import type { IPool, IRegistry, MockVerifier } from "../../types/ethers-contracts/index.js";

export const R = FIELD_MODULUS;
export const MAX_VALUE = (1n << 64n) - 1n;

/** A LeanIMT over H_2, as the SDK and the circuits build it. */
export function newTree(): LeanIMT<bigint> {
  return new LeanIMT<bigint>((a, b) => merkleNode(a, b));
}

export type TariffStruct = IRegistry.TariffStruct;

/** A valid tariff of `cpoId` starting at `validFrom`. */
export function makeTariff(cpoId: bigint, validFrom: bigint, over: Partial<Record<keyof TariffStruct, unknown>> = {}): {
  cpoId: bigint;
  flatFee: bigint;
  energyPrice: [bigint, bigint, bigint, bigint];
  bandStart: [bigint, bigint, bigint];
  timePricePerHour: bigint;
  maxPrice: bigint;
  tzOffset: bigint;
  validFrom: bigint;
  validTo: bigint;
} {
  return {
    cpoId,
    flatFee: 500_000n,
    energyPrice: [250_000n, 390_000n, 450_000n, 310_000n],
    bandStart: [21_600n, 43_200n, 64_800n],
    timePricePerHour: 60_000n,
    maxPrice: 40_000_000n,
    tzOffset: 3_600n,
    validFrom,
    validTo: validFrom + 180n * 86_400n,
    ...(over as object),
  };
}

/** The SDK tariff hash of a contract-shaped tariff (the SDK carries bandStart[0] = 0 explicitly). */
export function sdkHashOfTariff(t: ReturnType<typeof makeTariff>): bigint {
  return sdkTariffHash({ ...t, bandStart: [0n, ...t.bandStart] } as never);
}

/** Deployment with the real (generated) verifiers. */
export async function deployReal(ethers: HardhatEthers, opts: DeployOptions = {}): Promise<ZkchargeDeployment> {
  return deployZkcharge(ethers, opts);
}

/** Deployment whose pool accepts every proof (MockVerifier), to test effects without circuits. */
export async function deployMock(
  ethers: HardhatEthers,
  opts: DeployOptions = {},
): Promise<ZkchargeDeployment & { mock: MockVerifier }> {
  const mock = await ethers.deployContract("MockVerifier");
  const address = await mock.getAddress();
  const d = await deployZkcharge(ethers, { payVerifier: address, transactVerifier: address, ...opts });
  return { ...d, mock };
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
export type TransactPublicValue = {
  noteRoot: bigint;
  noteTreeSize: bigint;
  inputNullifiers: [bigint, bigint];
  outputCommitments: [bigint, bigint];
  publicAmount: bigint;
  extDataHash: bigint;
};

/** The pay public signals as an array in circuit order. */
export function paySignals(p: PayPublicValue): bigint[] {
  return [
    p.noteRoot, p.noteTreeSize, p.nullifier, p.changeCommitment, p.meterRoot, p.cpoId,
    p.tariffHash, p.sessionId, p.amount, p.fee, p.extDataHash,
  ];
}

/** The transact public signals as an array in circuit order. */
export function transactSignals(p: TransactPublicValue): bigint[] {
  return [
    p.noteRoot, p.noteTreeSize, p.inputNullifiers[0], p.inputNullifiers[1],
    p.outputCommitments[0], p.outputCommitments[1], p.publicAmount, p.extDataHash,
  ];
}

/** `(extAmount - fee) mod r`. */
export function publicAmount(extAmount: bigint, fee: bigint): bigint {
  return (((extAmount - fee) % R) + R) % R;
}

export function big(x: BigNumberish): bigint {
  return BigInt(x);
}
