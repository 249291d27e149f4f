/**
 * Relayer throughput on loopback: a `hardhat node` process (automine) and the relayer process (relayer/main.ts) on
 * 127.0.0.1; `jobs` withdrawals are proved first (one driver and one note each, all with one quote), then handed to
 * the relayer at once over HTTP and timed until the last is mined. Jobs per minute = jobs / that time; each job is
 * checked in full (quote, fee, ext data, root and nullifiers on-chain, Groth16, eth_estimateGas) and stored before
 * it is sent. `benchRelayer()` is what bench/bench.ts calls; `tsx bench/relayer.ts [jobs]` runs it alone.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonRpcProvider, Wallet } from "ethers";
import { network } from "hardhat";
import { Driver, transactRelayRequest, type Transaction } from "../sdk/actors/driver.ts";
import { RelayerClient } from "../sdk/actors/relayerClient.ts";
import { DriverIdentity } from "../sdk/core/identity.ts";
import { shutdownProver } from "../prover/index.ts";
import { PASSPHRASE_ENV } from "../relayer/key.ts";
import { setUpNetwork } from "../dev/localNetwork.ts";
import { startRelayerProcess, writeKeystore } from "../test/relayer/harness.ts";
import { startNodeProcess } from "../dev/nodes.ts";

/** What {@link benchRelayer} measured. */
export interface RelayerBench {
  jobs: number;
  /** From the first POST /relay to the last job mined, ms. */
  wallMs: number;
  jobsPerMinute: number;
  /** POST /relay round trip (all checks, stored), median and max, ms. */
  acceptMedianMs: number;
  acceptMaxMs: number;
  /** Proving the jobs beforehand (not part of the throughput), ms. */
  proveMs: number;
  node: "hardhat node (automine)";
}

/**
 * Measures relayer throughput with `jobs` (1..20) pre-proved withdrawals.
 * @param options.jobs how many (default 12)
 * @param options.log progress lines
 */
export async function benchRelayer(
  options: { jobs?: number; log?: (line: string) => void } = {},
): Promise<RelayerBench> {
  const jobs = Math.min(20, Math.max(1, options.jobs ?? 12));
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), "zkcharge-bench-relayer-"));
  const node = await startNodeProcess("hardhat");
  const connection = await network.create({ network: "localhost", override: { url: node.rpc } });
  const provider = new JsonRpcProvider(node.rpc, undefined, { staticNetwork: true });
  let relayer: Awaited<ReturnType<typeof startRelayerProcess>> | undefined;
  try {
    log("deploying to a hardhat node");
    const net = await setUpNetwork(connection.ethers);
    const pool = net.deployment.pool.connect(provider);
    const key = new Wallet(Wallet.createRandom().privateKey);
    const keystore = join(dir, "relayer.json");
    writeKeystore(keystore, key, "bench");
    await (await net.signers.deployer.sendTransaction({ to: key.address, value: 10n ** 19n })).wait();
    relayer = await startRelayerProcess(
      [
        ...["--rpc", node.rpc, "--pool", await pool.getAddress(), "--keystore", keystore, "--db", join(dir, "jobs.db")],
        ...["--quote-ttl", "900", "--token-per-eth", "10000000", "--rate-burst", "100", "--quiet"],
      ],
      { ...process.env, [PASSPHRASE_ENV]: "bench" },
    );
    const client = new RelayerClient(relayer.url);
    const quote = await client.quote("transact");

    log(`depositing and proving ${jobs} withdrawals`);
    const proved: Transaction[] = [];
    const proveStart = performance.now();
    for (let i = 0; i < jobs; i++) {
      const driver = new Driver(DriverIdentity.random(), pool);
      await driver.deposit(2_000_000n, net.signers.payer);
      proved.push(
        await driver.prepareWithdraw({ to: Wallet.createRandom().address, relayer: key.address, fee: quote.fee }),
      );
    }
    const proveMs = performance.now() - proveStart;

    log(`relaying ${jobs} jobs`);
    const start = performance.now();
    const accepts: number[] = [];
    const ids = await Promise.all(
      proved.map(async (tx) => {
        const t = performance.now();
        const { id } = await client.relay(transactRelayRequest(tx, quote));
        accepts.push(performance.now() - t);
        return id;
      }),
    );
    // One job polled at a time (they are sent in order), within the relayer's per-client read budget.
    for (const id of ids) await client.waitForJob(id, { timeoutMs: 300_000, pollMs: 150 });
    const wallMs = performance.now() - start;
    accepts.sort((a, b) => a - b);
    return {
      jobs,
      wallMs: Math.round(wallMs),
      jobsPerMinute: Math.round((jobs / wallMs) * 60_000 * 10) / 10,
      acceptMedianMs: Math.round(accepts[Math.floor(accepts.length / 2)]!),
      acceptMaxMs: Math.round(accepts.at(-1)!),
      proveMs: Math.round(proveMs),
      node: "hardhat node (automine)",
    };
  } finally {
    await relayer?.child.kill();
    provider.destroy();
    await connection.close();
    await node.stop();
    await shutdownProver();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchRelayer({
    jobs: process.argv[2] ? Number(process.argv[2]) : undefined,
    log: (line) => process.stderr.write(`[bench relayer] ${line}\n`),
  });
  console.log(JSON.stringify(result, null, 2));
}
