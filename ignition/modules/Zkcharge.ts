/**
 * Hardhat Ignition modules for zkcharge: the four Poseidon libraries, the four Groth16 verifiers, the Registry and
 * the Pool (and, on dev chains only, the test token). `npm run deploy -- --network <name>` (scripts/deploy.ts)
 * picks the module and its parameters (ignition/parameters/<network>.json); `npx hardhat ignition deploy
 * ignition/modules/Zkcharge.ts --network <name> --parameters ignition/parameters/<name>.json` deploys the
 * production shape as well, without the safety checks of scripts/deploy.ts.
 *
 * Poseidon bytecode: the libraries are deployed from the bytecode `poseidon-solidity` ships (the code at its
 * canonical CREATE2 addresses), not from this project's compilation, which costs 1.6x-2.4x more gas per hash
 * (dev/deploy.ts says why). Where the canonical addresses already hold that code, the module links them instead
 * of deploying (`poseidon: "canonical"`).
 *
 * Two modules share one body, so their contracts are the same by construction (the Poseidon source does not change
 * a module's id: whether the canonical libraries exist is a property of the chain, fixed for its journal):
 * - `Zkcharge`: the settlement token is a parameter (`Zkcharge.token`, an existing ERC-20 with 6 decimals);
 * - `ZkchargeDev`: deploys a fresh `TestToken` (mintable by anyone: dev and test chains only).
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import poseidonSolidity from "poseidon-solidity";
import type { Artifact, ContractFuture } from "@nomicfoundation/ignition-core";

/** The Poseidon libraries, by the number of inputs + 1 (`PoseidonT3` hashes two). */
export const POSEIDON_LIBRARIES = ["PoseidonT3", "PoseidonT4", "PoseidonT5", "PoseidonT6"] as const;
export type PoseidonLibraryName = (typeof POSEIDON_LIBRARIES)[number];

/** How the module gets the Poseidon libraries. */
export type PoseidonSource = "deploy" | "canonical";

/** `hash(uint256[k]) pure returns (uint256)`: the whole ABI of a `PoseidonT{k+1}` library. */
function poseidonAbi(inputs: number) {
  return [
    {
      type: "function",
      name: "hash",
      stateMutability: "pure",
      inputs: [{ name: "", type: `uint256[${inputs}]`, internalType: `uint256[${inputs}]` }],
      outputs: [{ name: "", type: "uint256", internalType: "uint256" }],
    },
  ] as const;
}

/** An Ignition artifact for library `name` with the creation code poseidon-solidity ships. */
export function poseidonArtifact(name: PoseidonLibraryName): Artifact {
  const shipped = (poseidonSolidity as Record<PoseidonLibraryName, { bytecode: string }>)[name];
  return {
    _format: "hh-sol-artifact-1",
    contractName: name,
    sourceName: `poseidon-solidity/${name}.sol`,
    abi: [...poseidonAbi(Number(name.slice("PoseidonT".length)) - 1)],
    bytecode: shipped.bytecode,
    linkReferences: {},
    // Not shipped, and not used to deploy (only to verify source code, which these libraries do not need).
    deployedBytecode: "0x",
    deployedLinkReferences: {},
  };
}

/** The canonical (CREATE2) address of each Poseidon library. */
export function canonicalPoseidonAddress(name: PoseidonLibraryName): string {
  return (poseidonSolidity as Record<PoseidonLibraryName, { address: string }>)[name].address;
}

type Builder = Parameters<Parameters<typeof buildModule>[1]>[0];

/** The body both modules share: libraries, verifiers, Registry and Pool on `token`. */
function zkchargeContracts(
  m: Builder,
  token: ContractFuture<string> | ReturnType<Builder["getParameter"]>,
  poseidon: PoseidonSource,
) {
  const lib = Object.fromEntries(
    POSEIDON_LIBRARIES.map((name) => [
      name,
      poseidon === "canonical"
        ? m.contractAt(name, poseidonArtifact(name), canonicalPoseidonAddress(name))
        : m.library(name, poseidonArtifact(name)),
    ]),
  ) as Record<PoseidonLibraryName, ContractFuture<string>>;

  const payVerifier = m.contract("PayVerifier");
  const transactVerifier = m.contract("TransactVerifier");
  const lockVerifier = m.contract("LockVerifier");
  const closeVerifier = m.contract("CloseVerifier");
  const registry = m.contract("Registry", [], {
    libraries: { PoseidonT3: lib.PoseidonT3, PoseidonT6: lib.PoseidonT6 },
  });
  const pool = m.contract("Pool", [token, registry, payVerifier, transactVerifier, lockVerifier, closeVerifier], {
    libraries: { PoseidonT3: lib.PoseidonT3, PoseidonT4: lib.PoseidonT4 },
  });
  return { ...lib, payVerifier, transactVerifier, lockVerifier, closeVerifier, registry, pool };
}

/** The production module: the settlement token is the parameter `token` (an address). */
export function zkchargeModule(poseidon: PoseidonSource = "deploy") {
  return buildModule("Zkcharge", (m) => zkchargeContracts(m, m.getParameter<string>("token"), poseidon));
}

/** The dev-chain module: a fresh `TestToken` as the settlement token. */
export function zkchargeDevModule(poseidon: PoseidonSource = "deploy") {
  return buildModule("ZkchargeDev", (m) => {
    const token = m.contract("TestToken");
    return { token, ...zkchargeContracts(m, token, poseidon) };
  });
}

export default zkchargeModule();
