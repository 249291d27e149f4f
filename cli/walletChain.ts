/**
 * The wallet's chain connection: `--rpc` and the deployment record (`--deployment`, default
 * `deployments/<chainId>.json`, as `zkcharge attach` reads it; docs/deployment.md), with no state file. A wallet
 * used on one pool refuses another (its notes would not be there).
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  Driver,
  Pool__factory,
  Registry__factory,
  parseDeploymentRecord,
  type DeploymentRecord,
  type OfferChain,
  type Pool,
} from "../sdk/index.ts";
import { CliError } from "./errors.ts";
import { connect, type Chain, type Endpoint } from "./rpc.ts";
import type { WalletStore } from "./walletStore.ts";

/** A connected node with the deployment's contracts. */
export interface WalletDeployment extends OfferChain {
  chain: Chain;
  record: DeploymentRecord;
  poolContract: Pool;
}

/**
 * Connects to `ctx.rpc` and reads the deployment record `path` (default `deployments/<chainId>.json`).
 * @throws CliError if the record is missing, malformed, for another chain, or its pool is not on the node
 */
export async function attachDeployment(ctx: Endpoint, path: string | undefined): Promise<WalletDeployment> {
  const chain = await connect(ctx);
  const file = resolve(path ?? `${process.env.ZKCHARGE_DEPLOYMENTS ?? "deployments"}/${chain.chainId}.json`);
  if (!existsSync(file)) {
    chain.provider.destroy();
    throw new CliError(
      `no deployment record ${file} for chain ${chain.chainId}: deploy with \`npm run deploy -- --network <name>\`, ` +
        "or pass --deployment",
    );
  }
  let record: DeploymentRecord;
  try {
    record = parseDeploymentRecord(readFileSync(file, "utf8"), file, chain.chainId);
  } catch (error) {
    chain.provider.destroy();
    throw new CliError((error as Error).message);
  }
  const a = record.addresses;
  if ((await chain.provider.getCode(a.pool)) === "0x") {
    chain.provider.destroy();
    throw new CliError(`deployment record ${file}: no contract at the pool ${a.pool} on ${ctx.rpc} (node restarted?)`);
  }
  const pool = Pool__factory.connect(a.pool, chain.provider);
  const registry = Registry__factory.connect(a.registry, chain.provider);
  return {
    chain,
    record,
    pool: a.pool,
    poolContract: pool,
    registry,
    chainId: chain.chainId,
    registryAddress: a.registry,
    deploymentBlock: record.deploymentBlock,
  };
}

/**
 * The wallet's {@link Driver} on `d`'s pool, its sync snapshot kept in the wallet file. The first use records the
 * chain and pool in the wallet; a later use on another refuses.
 */
export async function driverOf(store: WalletStore, d: WalletDeployment): Promise<Driver> {
  const pool = d.record.addresses.pool;
  const known = store.data.chain;
  if (known && (BigInt(known.chainId) !== d.chainId || known.pool.toLowerCase() !== pool.toLowerCase()))
    throw new CliError(
      `the wallet ${store.path} holds notes on pool ${known.pool} (chain ${known.chainId}), not on ${pool} (chain ${d.chainId}): ` +
        "use another wallet file for another deployment",
    );
  if (!known)
    await store.update((data) => ({
      ...data,
      chain: { chainId: d.chainId.toString(), pool, deploymentBlock: d.deploymentBlock },
    }));
  return new Driver(
    store.identity,
    d.poolContract,
    {},
    { startBlock: d.deploymentBlock, store: store.syncStore() },
    store.noteScanStore(),
  );
}
