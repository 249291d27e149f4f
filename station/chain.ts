/**
 * The station's chain side: the CPO admin account (an encrypted ethers JSON keystore, docs/keys.md; passphrase from
 * ZKCHARGE_PASSPHRASE_CPO or ZKCHARGE_PASSPHRASE), the deployment record of the chain it serves, and the SDK's
 * {@link Operator} for its CPO. RPC calls that fail for the network's sake (not a revert, not a refusal) are retried
 * with exponential backoff, bounded.
 */
import { existsSync, readFileSync } from "node:fs";
import { JsonRpcProvider, ZeroAddress } from "ethers";
import {
  Operator,
  Pool__factory,
  Registry__factory,
  ZkchargeError,
  loadAccount,
  parseDeploymentRecord,
  passphraseVariables,
  readPassphrase,
} from "../sdk/index.ts";

/** The station cannot start its chain side; the message names the cause. */
export class ChainStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChainStartError";
  }
}

/** What {@link connectStationChain} needs. */
export interface StationChainOptions {
  rpc: string;
  /** `deployments/<chainId>.json` as `npm run deploy` writes it. */
  deployment: string;
  /** The CPO admin account's encrypted keystore. */
  keystore: string;
  cpoId: bigint;
}

/** The connected chain side. */
export interface StationChain {
  operator: Operator;
  provider: JsonRpcProvider;
  chainId: bigint;
  pool: string;
  registry: string;
  /** The latest block's timestamp (the chain's clock, which deadlines are measured by). */
  chainTime(): Promise<bigint>;
  close(): void;
}

/** Errors worth another try: the node did not answer or answered with a transport failure. */
export function isTransient(error: unknown): boolean {
  if (error instanceof ZkchargeError) return false;
  const e = error as { code?: string; message?: string };
  if (e.code !== undefined && ["NETWORK_ERROR", "SERVER_ERROR", "TIMEOUT"].includes(e.code)) return true;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket hang up|fetch failed|EPIPE/i.test(e.message ?? "");
}

/** Options of {@link withRetry}. */
export interface RetryOptions {
  attempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  log?: (message: string) => void;
}

/** Runs `fn`, retrying transient failures ({@link isTransient}) with exponential backoff; rethrows the last. */
export async function withRetry<T>(what: string, fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 6;
  let delay = opts.initialDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || !isTransient(error)) throw error;
      opts.log?.(`${what}: ${(error as Error).message}; retry ${attempt} in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, opts.maxDelayMs ?? 5000);
    }
  }
}

/**
 * Opens the CPO keystore, reads the deployment record, checks the node's chain and that the account is the CPO's
 * admin, and builds the {@link Operator}.
 * @throws ChainStartError naming the cause (a missing file, a wrong passphrase, another chain, not the admin...)
 */
export async function connectStationChain(opts: StationChainOptions): Promise<StationChain> {
  if (!existsSync(opts.deployment)) throw new ChainStartError(`deployment record ${opts.deployment} not found`);
  let record: ReturnType<typeof parseDeploymentRecord>;
  try {
    record = parseDeploymentRecord(readFileSync(opts.deployment, "utf8"), opts.deployment);
  } catch (error) {
    throw new ChainStartError((error as Error).message);
  }
  let wallet: Awaited<ReturnType<typeof loadAccount>>;
  try {
    const passphrase = await readPassphrase({
      what: `the CPO admin keystore ${opts.keystore}`,
      variables: passphraseVariables("cpo"),
    });
    wallet = await loadAccount(opts.keystore, passphrase);
  } catch (error) {
    if (error instanceof ZkchargeError) throw new ChainStartError(error.message);
    throw error;
  }
  const provider = new JsonRpcProvider(opts.rpc, undefined, {
    staticNetwork: true,
    pollingInterval: 500,
    cacheTimeout: -1,
  });
  try {
    let chainId: bigint;
    try {
      chainId = BigInt((await provider.send("eth_chainId", [])) as string);
    } catch (error) {
      throw new ChainStartError(`the node at ${opts.rpc} does not answer: ${(error as Error).message}`);
    }
    if (BigInt(record.chainId) !== chainId)
      throw new ChainStartError(
        `deployment record ${opts.deployment} is for chain ${record.chainId}, but ${opts.rpc} is chain ${chainId}`,
      );
    const signer = wallet.connect(provider);
    const registry = Registry__factory.connect(record.addresses.registry, provider);
    const pool = Pool__factory.connect(record.addresses.pool, provider);
    const [admin] = await registry.cpo(opts.cpoId);
    if (admin === ZeroAddress) throw new ChainStartError(`CPO ${opts.cpoId} is not registered on chain ${chainId}`);
    if (admin !== signer.address)
      throw new ChainStartError(
        `the keystore ${opts.keystore} holds ${signer.address}, not CPO ${opts.cpoId}'s admin ${admin}`,
      );
    const operator = new Operator({ cpoId: opts.cpoId, registry, pool, signer });
    return {
      operator,
      provider,
      chainId,
      pool: record.addresses.pool,
      registry: record.addresses.registry,
      chainTime: async () => BigInt((await provider.getBlock("latest"))!.timestamp),
      close: () => provider.destroy(),
    };
  } catch (error) {
    provider.destroy();
    throw error;
  }
}
