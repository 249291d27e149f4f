/**
 * `npm run demo:live`: live charging with every party its own process on 127.0.0.1 (issue 17): a `hardhat node`,
 * zkcharge deployed by configuration, a CPO with two meters and a tariff, the relayer service, the station service
 * (OCPP CSMS + driver API), two charger processes and the driver's wallet (`zkcharge wallet ...`, its own encrypted
 * key store). Three sessions:
 *
 * 1. ends normally (the wallet stops after 20 s, as a driver unplugging) and is settled by the wallet's close proof;
 * 2. the driver stops it early (Ctrl-C: SIGINT to the wallet process) and it is settled the same way;
 * 3. the driver vanishes (`kill -9` of the wallet) and the charger is cut off (`kill -9`): after the settle deadline
 *    (time travel on the dev node: evm_increaseTime / evm_mine) the station closes it from the last live tail, and
 *    `wallet resume` finds it closed.
 *
 * After each, the pool invariant: the pool's token balance = the driver's notes + open escrows + CPO earnings.
 * Every process is killed by its PID at the end, also on failure.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonRpcProvider, Wallet } from "ethers";
import {
  Driver,
  EscrowStatus,
  Operator,
  Pool__factory,
  Registry__factory,
  formatAmount,
  readEscrow,
} from "../sdk/index.ts";
import { rpcCall } from "../dev/nodes.ts";
import { openWalletFile, runWallet, startLiveNet, type LiveNet, type Proc } from "./lib/liveNet.ts";

const say = (line: string) => console.log(line);
const show = (out: string) => {
  for (const line of out.split("\n")) if (line.trim()) console.log(`  | ${line}`);
};
/** Shows a finished wallet command's output; fails the demo if it failed. */
const must = (r: { code: number | null; out: string }, what: string) => {
  show(r.out);
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code})`);
};

/** The pool invariant, from the chain and the driver's wallet (opened read-only: its sync goes to memory). */
async function invariant(net: LiveNet, what: string): Promise<void> {
  const provider = new JsonRpcProvider(net.rpc, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const store = await openWalletFile(net);
    const chain = store.data.chain!;
    await store.close();
    const pool = Pool__factory.connect(chain.pool, provider);
    const registry = Registry__factory.connect(await pool.registry(), provider);
    const driver = new Driver(store.identity, pool, {}, { startBlock: chain.deploymentBlock });
    await driver.sync();
    const token = await pool.token();
    const erc20 = new (await import("ethers")).Contract(
      token,
      ["function balanceOf(address) view returns (uint256)"],
      provider,
    );
    const poolHolds = (await erc20.getFunction("balanceOf")(chain.pool)) as bigint;
    const operator = new Operator({
      cpoId: net.cpoId,
      registry,
      pool,
      signer: Wallet.createRandom().connect(provider),
    });
    const earnings = await operator.earnings();
    const open = driver.escrows.filter((e) => e.status === EscrowStatus.Open).reduce((s, e) => s + e.cap, 0n);
    const holds = driver.balance + open + earnings;
    say(
      `  invariant after ${what}: pool holds ${formatAmount(poolHolds)} = driver's notes ${formatAmount(driver.balance)} + ` +
        `open escrows ${formatAmount(open)} + CPO earnings ${formatAmount(earnings)}${poolHolds === holds ? "" : "  MISMATCH"}`,
    );
    if (poolHolds !== holds) throw new Error(`pool invariant broken after ${what}`);
  } finally {
    provider.destroy();
  }
}

/** Waits (bounded) until the wallet process printed `pattern`. */
async function waitOut(p: Proc, pattern: RegExp, ms = 180_000): Promise<void> {
  await p.waitFor(pattern, ms);
}

const started = Date.now();
const dir = mkdtempSync(join(tmpdir(), "zkcharge-demo-live-"));
say(`zkcharge live demo: every party its own process on 127.0.0.1 (files in ${dir})\n`);
let net: LiveNet | undefined;
let failed = false;
try {
  net = await startLiveNet({ dir, chargers: ["CS001", "CS002"], log: (l) => say(`  ${l}`) });
  const charge = (charger: string, extra: string[] = []) => [
    "charge",
    ...["--station", net!.station, "--charger", charger, "--cap", "10.00", "--relayer", net!.relayer],
    "--accept-linkable", // a demo locks right after its deposit: the wallet's privacy report says so, shown above
    ...extra,
  ];

  say("\nThe driver's wallet: a new encrypted key store and a deposit (paid by the dev payer account)");
  // scrypt cost 2^14 rather than 2^17: the demo runs a dozen short wallet processes, each deriving the key once.
  must(await runWallet(net, ["create", "--scrypt-log-n", "14"]), "wallet create");
  must(await runWallet(net, ["deposit", "--amount", "40.00"]), "wallet deposit");
  must(await runWallet(net, ["info"]), "wallet info");
  await invariant(net, "the deposit");

  say("\n1. A session that ends normally (the driver unplugs after 20 s) and is settled by the wallet's close proof");
  must(await runWallet(net, charge("CS001", ["--stop-after-seconds", "20"])), "session 1");
  await invariant(net, "session 1");

  say("\n2. A session the driver stops early (Ctrl-C: SIGINT to the wallet process after 8 s of charging)");
  const w2 = net.wallet$(charge("CS002"), "wallet-s2");
  await waitOut(w2, /meter #\d+ live/);
  await new Promise((r) => setTimeout(r, 8000));
  // To the wallet's tsx process only, which hands it on once: a SIGINT to the whole group reaches the wallet twice,
  // and on a loaded machine the second can come more than a second later, when it means "leave now".
  process.kill(w2.pid, "SIGINT");
  const code2 = await w2.exited;
  show(w2.stdout + w2.stderr);
  if (code2 !== 0) throw new Error(`session 2 failed (exit ${code2})`);
  await invariant(net, "session 2");

  say("\n3. A session whose driver vanishes (kill -9 of the wallet) and whose charger is cut off (kill -9)");
  const w3 = net.wallet$(charge("CS001"), "wallet-s3");
  await waitOut(w3, /meter #3 /);
  await w3.kill("SIGKILL");
  show(w3.stdout);
  say(`  wallet (pid ${w3.pid}) killed with SIGKILL mid-session`);
  await net.procs.get("CS001")!.kill("SIGKILL");
  say("  charger CS001 killed with SIGKILL: no session end will come");
  const store = await openWalletFile(net);
  const s3 = store.session();
  await store.close();
  const provider = new JsonRpcProvider(net.rpc, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const pool = Pool__factory.connect(s3.pool, provider);
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    const jump = BigInt(s3.settleDeadline) - now + 60n;
    await rpcCall(net.rpc, "evm_increaseTime", [Number(jump)]);
    await rpcCall(net.rpc, "evm_mine", []);
    say(`  dev chain: evm_increaseTime ${jump} s + evm_mine: past the settle deadline`);
    const deadline = Date.now() + 180_000;
    for (;;) {
      const e = await readEscrow(pool, BigInt(s3.escrowId!));
      if (e.status !== EscrowStatus.Open) break;
      if (Date.now() > deadline) throw new Error("the station did not close session 3's escrow within 180 s");
      await new Promise((r) => setTimeout(r, 1000));
    }
    say("  the station closed the escrow from the last live tail");
  } finally {
    provider.destroy();
  }
  must(await runWallet(net, ["resume", "--session", s3.id]), "wallet resume");
  await invariant(net, "session 3");

  say("\nThe driver withdraws the rest to an address through the relayer");
  must(
    await runWallet(net, [
      "withdraw",
      "--to",
      "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
      "--relayer",
      net.relayer,
      "--accept-linkable",
    ]),
    "wallet withdraw",
  );
  await invariant(net, "the withdrawal");

  say("\nThe wallet's history");
  must(await runWallet(net, ["sessions"]), "wallet sessions");
  say(`\nDone in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} catch (error) {
  failed = true;
  console.error(`demo:live failed: ${(error as Error).message}`);
  if (net)
    for (const p of net.procs.values())
      if (p.stderr.trim()) console.error(`--- ${p.name} stderr:\n${p.stderr.slice(-2000)}`);
} finally {
  await net?.stop();
  say(
    `every process killed by its PID (${[...(net?.procs.values() ?? [])].map((p) => `${p.name} ${p.pid}`).join(", ")})`,
  );
}
process.exit(failed ? 1 : 0);
