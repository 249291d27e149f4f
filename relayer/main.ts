/**
 * `npm run relayer -- --rpc URL --pool ADDR|--deployment FILE --keystore FILE --db FILE [--port P] [--host H]`: the zkcharge relayer
 * service (docs/relayer.md). The keystore's passphrase comes from ZKCHARGE_RELAYER_PASSPHRASE. Bad options, a
 * wrong passphrase or an unreachable node: a message naming the cause on stderr, exit code 1.
 */
import { existsSync, readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { parseDeploymentRecord } from "../sdk/index.ts";
import { DEFAULT_FEE_POLICY } from "./fees.ts";
import { KeyLoadError, PASSPHRASE_ENV, loadRelayerKey } from "./key.ts";
import { DEFAULT_LIMITS } from "./server.ts";
import { RelayerStartError, startRelayer } from "./service.ts";

/** An option taking an integer >= `min`, with its default shown in --help. */
function integerOption(flags: string, description: string, fallback: bigint, min = 0n): Option {
  const name = flags.split(" ")[0]!;
  return new Option(flags, description)
    .argParser((value: string): bigint => {
      if (!/^[0-9]+$/.test(value) || BigInt(value) < min) {
        throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got "${value}"`);
      }
      return BigInt(value);
    })
    .default(fallback, String(fallback));
}

const program = new Command("zkcharge-relayer")
  .description(
    "Relays zkcharge proofs (transact / withdraw, lock, pay, close) to the pool, paying the gas and taking the quoted fee.\n" +
      `The keystore (an encrypted ethers JSON keystore) is unlocked with the passphrase in ${PASSPHRASE_ENV}.`,
  )
  .requiredOption("--rpc <url>", "JSON-RPC endpoint of the chain")
  .option("--pool <address>", "the pool contract (or --deployment)")
  .option("--deployment <file>", "the deployment record `npm run deploy` wrote (deployments/<chainId>.json): its pool")
  .requiredOption("--keystore <file>", "the relayer account's encrypted JSON keystore")
  .requiredOption("--db <file>", "the job database (SQLite; created if missing)")
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .addOption(integerOption("--port <port>", "port to listen on (0: any free port)", 8080n))
  .addOption(integerOption("--base-fee <units>", "fee on top of gas, token base units", DEFAULT_FEE_POLICY.baseFee))
  .addOption(
    integerOption(
      "--token-per-eth <units>",
      "token base units per ETH, to price the gas",
      DEFAULT_FEE_POLICY.tokenPerEth,
    ),
  )
  .addOption(integerOption("--margin <percent>", "margin on the gas cost", DEFAULT_FEE_POLICY.marginPercent))
  .addOption(
    integerOption("--quote-ttl <seconds>", "how long a quote is valid", DEFAULT_FEE_POLICY.quoteTtlSeconds, 1n),
  )
  .addOption(
    integerOption("--bump-after <seconds>", "re-send with higher fees after this long without a receipt", 30n, 1n),
  )
  .addOption(
    integerOption("--reorg-depth <blocks>", "watch a mined transaction this many blocks for a reorganisation", 12n, 0n),
  )
  .addOption(
    integerOption(
      "--rate-burst <n>",
      "POST requests a client may make at once",
      BigInt(DEFAULT_LIMITS.write.burst),
      1n,
    ),
  )
  .addOption(
    integerOption(
      "--rate-per-minute <n>",
      "POST requests per minute a client gets back",
      BigInt(DEFAULT_LIMITS.write.perMinute),
      1n,
    ),
  )
  .option("--cors-origins <list>", "comma-separated origins browser wallets may call from (default: any origin)")
  .option("--quiet", "log nothing but the listening line and errors");

program.parse();
const o = program.opts<{
  rpc: string;
  pool?: string;
  deployment?: string;
  keystore: string;
  db: string;
  host: string;
  port: bigint;
  baseFee: bigint;
  tokenPerEth: bigint;
  margin: bigint;
  quoteTtl: bigint;
  bumpAfter: bigint;
  reorgDepth: bigint;
  rateBurst: bigint;
  ratePerMinute: bigint;
  corsOrigins?: string;
  quiet?: boolean;
}>();

const stamp = () => new Date().toISOString();
const log = o.quiet ? undefined : (message: string) => console.log(`${stamp()} ${message}`);

/** The pool: --pool, or the deployment record's (checked against the node's chain id when the service starts). */
function poolAddress(): { pool: string; chainId?: bigint } {
  if (o.pool !== undefined && o.deployment !== undefined)
    throw new RelayerStartError("give --pool or --deployment, not both");
  if (o.pool !== undefined) return { pool: o.pool };
  if (o.deployment === undefined) throw new RelayerStartError("no pool: give --pool <address> or --deployment <file>");
  if (!existsSync(o.deployment)) throw new RelayerStartError(`deployment record ${o.deployment} not found`);
  try {
    const record = parseDeploymentRecord(readFileSync(o.deployment, "utf8"), o.deployment);
    return { pool: record.addresses.pool, chainId: BigInt(record.chainId) };
  } catch (error) {
    throw new RelayerStartError((error as Error).message);
  }
}

try {
  const { pool, chainId: recordChainId } = poolAddress();
  const signer = await loadRelayerKey(o.keystore);
  const relayer = await startRelayer({
    rpc: o.rpc,
    pool,
    signer,
    db: o.db,
    host: o.host,
    port: Number(o.port),
    fees: { baseFee: o.baseFee, tokenPerEth: o.tokenPerEth, marginPercent: o.margin, quoteTtlSeconds: o.quoteTtl },
    limits: { write: { burst: Number(o.rateBurst), perMinute: Number(o.ratePerMinute) } },
    sender: { bumpAfterMs: Number(o.bumpAfter) * 1000, reorgDepth: Number(o.reorgDepth) },
    corsOrigins: o.corsOrigins?.split(",").map((x) => x.trim()),
    log,
  });
  if (recordChainId !== undefined && recordChainId !== relayer.chainId) {
    await relayer.close();
    throw new RelayerStartError(
      `deployment record ${o.deployment} is for chain ${recordChainId}, but ${o.rpc} is chain ${relayer.chainId}`,
    );
  }
  console.log(
    `zkcharge relayer ${relayer.address} for pool ${pool} on chain ${relayer.chainId} listening on ${relayer.url}`,
  );
  const stop = (signal: string) => {
    log?.(`${signal}: stopping`);
    // A pass stuck on a silent node must not keep the process alive: what is stored is resumed at the next start.
    setTimeout(() => process.exit(1), 10_000).unref();
    relayer.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
} catch (error) {
  if (error instanceof KeyLoadError || error instanceof RelayerStartError) {
    console.error(`zkcharge-relayer: error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
