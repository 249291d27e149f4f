/**
 * The relayer put together: the provider, the pool, the job store, the sender loop and the HTTP server. The
 * command line (main.ts) and the bench start it through {@link startRelayer}.
 */
import { FetchRequest, JsonRpcProvider, getAddress, isAddress, type Signer } from "ethers";
import { Pool__factory, shutdownProver, type FeePolicy, type ProverOptions } from "../sdk/index.ts";
import type { CheckContext } from "./checks.ts";
import { DEFAULT_FEE_POLICY } from "./fees.ts";
import { Sender, type SenderOptions } from "./sender.ts";
import { DEFAULT_LIMITS, buildServer, type ServerLimits } from "./server.ts";
import { SqliteJobStore } from "./sqliteStore.ts";
import type { JobStore } from "./store.ts";

/** Refused to start; the message names the cause. */
export class RelayerStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RelayerStartError";
  }
}

/** What {@link startRelayer} takes. */
export interface RelayerConfig {
  /** JSON-RPC endpoint. */
  rpc: string;
  /** Bound on each JSON-RPC request, ms (default 30 000). */
  rpcTimeoutMs?: number;
  /** The pool contract's address. */
  pool: string;
  /** The relayer's account (see key.ts). */
  signer: Signer;
  /** The job database file (SQLite), or a store of one's own. */
  db: string | JobStore;
  host: string;
  /** 0: any free port (the URL says which). */
  port: number;
  fees?: Partial<FeePolicy>;
  limits?: Partial<ServerLimits>;
  /** Origins a browser wallet may call from (CORS); default any origin. */
  corsOrigins?: string[];
  sender?: SenderOptions;
  prover?: ProverOptions;
  log?: (message: string) => void;
}

/** A running relayer. */
export interface RunningRelayer {
  url: string;
  address: string;
  chainId: bigint;
  /** Stops serving and sending, closes the store. */
  close(): Promise<void>;
}

/**
 * Connects to the chain, opens the store, starts the sender (which first re-broadcasts stored transactions) and
 * listens.
 * @throws RelayerStartError when the endpoint is unreachable, the pool is not a contract, or the port is taken
 */
export async function startRelayer(config: RelayerConfig): Promise<RunningRelayer> {
  if (!isAddress(config.pool)) throw new RelayerStartError(`--pool ${config.pool} is not an address`);
  // Every request to the node is bounded, so a node that stops answering stalls a check or a pass, not the relayer.
  const request = new FetchRequest(config.rpc);
  request.timeout = config.rpcTimeoutMs ?? 30_000;
  const provider = new JsonRpcProvider(request, undefined, { staticNetwork: true, pollingInterval: 500 });
  let chainId: bigint;
  try {
    chainId = BigInt(await withTimeout(provider.send("eth_chainId", []) as Promise<string>, 10_000));
  } catch (error) {
    provider.destroy();
    throw new RelayerStartError(`cannot reach the JSON-RPC endpoint ${config.rpc}: ${(error as Error).message}`);
  }
  const poolAddress = getAddress(config.pool);
  if ((await provider.getCode(poolAddress)) === "0x") {
    provider.destroy();
    throw new RelayerStartError(`no contract at --pool ${poolAddress} on chain ${chainId}`);
  }
  const signer = config.signer.connect(provider);
  const relayer = getAddress(await signer.getAddress());
  let store: JobStore;
  try {
    store = typeof config.db === "string" ? new SqliteJobStore(config.db) : config.db;
  } catch (error) {
    provider.destroy();
    throw new RelayerStartError(`cannot open the job database ${String(config.db)}: ${(error as Error).message}`);
  }
  const ctx: CheckContext = {
    chainId,
    poolAddress,
    relayer,
    pool: Pool__factory.connect(poolAddress, provider),
    provider,
    prover: config.prover,
  };
  const fees: FeePolicy = { ...DEFAULT_FEE_POLICY, ...config.fees };
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...config.limits };
  const sender = new Sender(store, signer, relayer, provider, chainId, { log: config.log, ...config.sender });
  const app = await buildServer({
    ctx,
    signer,
    store,
    sender,
    fees,
    limits,
    corsOrigins: config.corsOrigins,
    log: config.log,
  });
  let url: string;
  try {
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  } catch (error) {
    await store.close();
    provider.destroy();
    throw new RelayerStartError(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  }
  sender.start();
  let closed = false;
  return {
    url,
    address: relayer,
    chainId,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await sender.stop();
      await store.close();
      provider.destroy();
      await shutdownProver();
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e as Error)),
    );
  });
}
