/**
 * The chain as the browser sees it: an ethers JsonRpcProvider on the configured RPC and the pool and registry
 * contracts of the deployment record, read-only. Nothing here signs: transactions from an account are signed by an
 * injected EIP-1193 wallet or, on dev chains, an account unlocked on the node (signer.ts).
 */
import { JsonRpcProvider } from "ethers";
import {
  DeploymentRecordError,
  Pool__factory,
  Registry__factory,
  chainKind,
  type ChainKind,
  type OfferChain,
  type Pool,
  type Registry,
} from "../../sdk/index.ts";
import type { SiteConfig } from "./config.ts";

/** A connection to the deployment's contracts. */
export interface Chain {
  config: SiteConfig;
  provider: JsonRpcProvider;
  pool: Pool;
  registry: Registry;
  chainId: bigint;
  kind: ChainKind;
  /** First block to scan for events (the record's deployment block). */
  fromBlock: number;
}

/** Connects to `config.rpc` and checks it is the chain the deployment record is for. */
export async function connectChain(config: SiteConfig): Promise<Chain> {
  const expected = BigInt(config.deployment.chainId);
  const provider = new JsonRpcProvider(config.rpc, expected, {
    staticNetwork: true,
    polling: true,
    cacheTimeout: -1, // a sync right after a transaction must see its block, not a cached head
  });
  let actual: bigint;
  try {
    actual = BigInt((await provider.send("eth_chainId", [])) as string);
  } catch {
    provider.destroy();
    throw new Error(`the chain's node at ${config.rpc} does not answer: is it running?`);
  }
  if (actual !== expected) {
    provider.destroy();
    throw new DeploymentRecordError(
      `the node at ${config.rpc} is chain ${actual}, but the site's deployment is for chain ${expected}`,
    );
  }
  const { pool, registry } = config.deployment.addresses;
  return {
    config,
    provider,
    pool: Pool__factory.connect(pool, provider),
    registry: Registry__factory.connect(registry, provider),
    chainId: actual,
    kind: chainKind(actual),
    fromBlock: config.deployment.deploymentBlock,
  };
}

/** The chain as the SDK's offer check takes it (`checkOffer`, `checkStation`, `meterPath`). */
export function offerChain(chain: Chain): OfferChain {
  return {
    chainId: chain.chainId,
    pool: chain.config.deployment.addresses.pool,
    registry: chain.registry,
    registryAddress: chain.config.deployment.addresses.registry,
    deploymentBlock: chain.fromBlock,
  };
}

/** The chain's time: the latest block's timestamp (what the pool's deadlines are measured against). */
export async function chainTime(chain: Chain): Promise<bigint> {
  const block = await chain.provider.getBlock("latest");
  if (!block) throw new Error(`the chain's node at ${chain.config.rpc} has no latest block`);
  return BigInt(block.timestamp);
}
