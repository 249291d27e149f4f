/**
 * Wallet sync at scale: a 100,000-note pool built in seconds on an anvil node started here on 127.0.0.1 (the
 * PoolEventsFixture emits the pool's `NoteAdded` events in batches, spread over many blocks, and answers the root
 * the SDK's NoteTree computed), then a wallet holding a few of the notes syncs through JSON-RPC: cold (from the
 * deployment block, median of `coldRuns`), warm (up to date, median of `warmRuns`) and restarted from a file store;
 * with the number of `eth_getLogs` calls and the widest range asked for. Also the parts: tree building and trial
 * decryption per note.
 *
 * `benchSyncProcess()` for bench/bench.ts (`benchSync()` in a process of its own); standalone: `npx tsx
 * bench/sync.ts` (SYNC_NOTES, default 100000).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { JsonRpcProvider, Network, Wallet, getBytes, hexlify, randomBytes, toBeHex } from "ethers";
import { Driver } from "../sdk/actors/driver.ts";
import type { NoteScanStore } from "../sdk/actors/noteScan.ts";
import { decryptNote, decryptNotes, encryptNote } from "../sdk/core/encryption.ts";
import { randomFieldElement } from "../sdk/core/field.ts";
import { DriverIdentity } from "../sdk/core/identity.ts";
import { Note } from "../sdk/core/note.ts";
import { NoteTree } from "../sdk/core/tree.ts";
import { JsonFileStore } from "../sdk/node/jsonFileStore.ts";
import { Pool__factory, PoolEventsFixture__factory } from "../types/ethers-contracts/index.js";
import { sample, type Sample } from "./stats.ts";

/** Options of {@link benchSync}. */
export interface SyncBenchOptions {
  /** Notes in the pool (default 100,000). */
  notes?: number;
  /** Notes per `emitNotes` transaction (default 500). */
  batch?: number;
  /** Empty blocks mined after each batch, to spread the events (default 25: 5,000 blocks for 100,000 notes; anvil mines about 100 empty blocks a second here). */
  gapBlocks?: number;
  coldRuns?: number;
  warmRuns?: number;
  log?: (line: string) => void;
}

/** What {@link benchSync} measured (times in ms). */
export interface SyncBenchResult {
  notes: number;
  blocks: number;
  walletNotes: number;
  buildChainMs: number;
  /** `new NoteTree(100k leaves)`: the Poseidon hashing a cold sync cannot avoid. */
  treeBuildMs: number;
  /** Trial decryption of one note not addressed to the wallet, µs: batched (as sync does) and one by one. */
  decryptUsPerNote: { batched: number; single: number };
  cold: Sample & { logsMs: Sample; getLogsCalls: number; widestRange: number };
  warm: Sample & { getLogsCalls: number };
  /** `trialDecrypted`: leaves the restarted wallet decrypted again (0 when its note scan is resumed). */
  restart: { loadAndSyncMs: number; storeBytes: number; getLogsCalls: number; trialDecrypted: number };
}

/** anvil's first well-known development account (public test key, dev chains only). */
const ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

async function startAnvil(): Promise<{ url: string; child: ChildProcess }> {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve(
    `@foundry-rs/anvil-${process.platform}-${process.arch === "x64" ? "amd64" : process.arch}/package.json`,
  );
  const bin = join(pkg, "..", "bin", "anvil");
  const child = spawn(
    bin,
    ["--host", "127.0.0.1", "--port", "0", "--gas-limit", "1000000000", "--no-request-size-limit"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("anvil did not start within 30 s")), 30_000);
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = out.match(/Listening on (127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
    });
    child.on("exit", (code) => reject(new Error(`anvil exited with ${code}: ${out}`)));
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return { url, child };
}

const now = () => performance.now();

/** Builds the chain, measures, stops anvil. */
export async function benchSync(opts: SyncBenchOptions = {}): Promise<SyncBenchResult> {
  const N = opts.notes ?? 100_000;
  const batch = opts.batch ?? 500;
  const gap = opts.gapBlocks ?? 25;
  const log = opts.log ?? (() => {});
  const { url, child } = await startAnvil();
  const dir = await mkdtemp(join(tmpdir(), "zkcharge-bench-sync-"));
  const rpc = new JsonRpcProvider(url, Network.from(31337n), { staticNetwork: true, cacheTimeout: -1 });
  rpc.pollingInterval = 20; // anvil mines on arrival: receipts are there at once, not after ethers' 4 s poll
  try {
    // ------------------------------------------------------------ the chain
    const t0 = now();
    const deployer = new Wallet(ANVIL_KEY, rpc);
    const fixture = await new PoolEventsFixture__factory(deployer).deploy();
    await fixture.waitForDeployment();
    const startBlock = (await rpc.getBlockNumber()) - 1;
    const identity = DriverIdentity.random();
    const own = [1_000_000n, 2_000_000n, 3_000_000n, 4_000_000n, 5_000_000n].map((v) =>
      Note.random(identity.commitment, v),
    );
    const ownAt = new Map(own.map((n, i) => [Math.floor(((i + 0.5) * N) / own.length), n]));
    const commitments: bigint[] = [];
    const openings: string[] = [];
    for (let i = 0; i < N; i++) {
      const mine = ownAt.get(i);
      commitments.push(mine ? mine.commitment : randomFieldElement());
      openings.push(hexlify(mine ? encryptNote(mine, identity.encryptionPublicKey) : randomBytes(88)));
    }
    log(`  setup: deployed, ${N} notes generated in ${((now() - t0) / 1000).toFixed(1)} s`);
    let nonce = await deployer.getNonce();
    let mineMs = 0;
    for (let start = 0; start < N; start += batch) {
      const end = Math.min(N, start + batch);
      const tx = await fixture.emitNotes(start, commitments.slice(start, end), openings.slice(start, end), {
        nonce: nonce++,
        gasLimit: 900_000_000n,
      });
      await tx.wait();
      const tm = now();
      if (gap > 0) await rpc.send("anvil_mine", [toBeHex(gap)]);
      mineMs += now() - tm;
      if ((start / batch) % 40 === 0) log(`  chain: ${end} / ${N} notes (${(mineMs / 1000).toFixed(1)} s mining gaps)`);
    }
    // One of the wallet's notes is spent.
    const spentIndex = [...ownAt.keys()][0]!;
    await (
      await fixture.emitSpent([ownAt.get(spentIndex)!.nullifier(spentIndex, identity.secretScalar)], { nonce: nonce++ })
    ).wait();
    const tTree = now();
    const tree = new NoteTree(commitments);
    const treeBuildMs = now() - tTree;
    await (await fixture.setRoot(tree.root, tree.size, { nonce: nonce++ })).wait();
    const blocks = (await rpc.getBlockNumber()) - startBlock;
    const buildChainMs = now() - t0 - treeBuildMs;
    log(
      `  chain: ${N} notes over ${blocks} blocks in ${(buildChainMs / 1000).toFixed(1)} s; tree ${treeBuildMs.toFixed(0)} ms`,
    );

    // ------------------------------------------------------------ decryption per note
    const sampleCts = openings.slice(0, 2_000).map((o) => getBytes(o));
    const secret = identity.encryptionKeyPair.secretKey;
    let t = now();
    await decryptNotes(sampleCts, secret, identity.commitment);
    const batched = ((now() - t) * 1000) / sampleCts.length;
    t = now();
    for (const c of sampleCts.slice(0, 200)) decryptNote(c, secret, identity.commitment);
    const single = ((now() - t) * 1000) / 200;

    // ------------------------------------------------------------ syncs
    const pool = Pool__factory.connect(await fixture.getAddress(), rpc);
    const expected = own.reduce((s, n) => s + n.value, 0n) - ownAt.get(spentIndex)!.value;
    const coldMs: number[] = [];
    const logsMs: number[] = [];
    let calls = 0;
    let widest = 0;
    let driver: Driver | undefined;
    for (let run = 0; run < (opts.coldRuns ?? 3); run++) {
      const ranges: [number, number][] = [];
      driver = new Driver(identity, pool, {}, { startBlock, onRequest: (a, b) => ranges.push([a, b]) });
      const start = now();
      await driver.poolSync.sync();
      logsMs.push(now() - start);
      await driver.sync();
      coldMs.push(now() - start);
      if (driver.balance !== expected) throw new Error(`cold sync found ${driver.balance}, expected ${expected}`);
      calls = ranges.length;
      widest = Math.max(...ranges.map(([a, b]) => b - a + 1));
      log(
        `  cold sync ${run + 1}: ${coldMs.at(-1)!.toFixed(0)} ms (logs + tree + root check ${logsMs.at(-1)!.toFixed(0)} ms)`,
      );
    }
    const warmMs: number[] = [];
    const before = driver!.poolSync.requests;
    for (let run = 0; run < (opts.warmRuns ?? 5); run++) {
      const start = now();
      await driver!.sync();
      warmMs.push(now() - start);
    }
    const warmCalls = (driver!.poolSync.requests - before) / warmMs.length;

    const store = new JsonFileStore(join(dir, "wallet.json"));
    // The note scan holds openings; the CLI keeps it in its encrypted wallet file. Here it stays in memory: the
    // figure is the sync's, not the wallet file's encryption.
    let kept: unknown;
    const scanStore: NoteScanStore = { load: async () => kept, save: async (scan) => void (kept = scan) };
    const saver = new Driver(identity, pool, {}, { startBlock, store }, scanStore);
    await saver.sync();
    const restarted = new Driver(identity, pool, {}, { startBlock, store }, scanStore);
    t = now();
    await restarted.sync();
    const loadAndSyncMs = now() - t;
    if (restarted.balance !== expected) throw new Error("restarted wallet has a wrong balance");

    return {
      notes: N,
      blocks,
      walletNotes: own.length,
      buildChainMs,
      treeBuildMs,
      decryptUsPerNote: { batched, single },
      cold: { ...sample(coldMs), logsMs: sample(logsMs), getLogsCalls: calls, widestRange: widest },
      warm: { ...sample(warmMs), getLogsCalls: warmCalls },
      restart: {
        loadAndSyncMs,
        storeBytes: (await stat(store.path)).size,
        getLogsCalls: restarted.poolSync.requests,
        trialDecrypted: restarted.trialDecrypted,
      },
    };
  } finally {
    rpc.destroy();
    child.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * {@link benchSync} (default options, `notes` notes) in a process of its own, as a wallet runs: not in the heap of a
 * bench that has loaded every proving key and made dozens of proofs (whose major garbage collections then also walk
 * that heap; the cold sync measured 10.5 s there against 9.1 s alone, 2026-12-04). Progress lines go to `log`.
 * @throws Error with the child's output when it fails
 */
export function benchSyncProcess(notes: number, log: (line: string) => void): Promise<SyncBenchResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      env: { ...process.env, SYNC_NOTES: String(notes) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      const lines = stderr.split("\n");
      stderr = lines.pop()!;
      // Node's own warnings (e.g. node:sqlite's ExperimentalWarning) are not the bench's progress.
      for (const line of lines) if (line.trim() && !/^\((node:\d+|Use `node)/.test(line)) log(line.trim());
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) return reject(new Error(`bench/sync.ts exited with ${code}: ${stderr}${stdout}`));
      try {
        resolve(JSON.parse(stdout) as SyncBenchResult);
      } catch (e) {
        reject(new Error(`bench/sync.ts printed no result: ${stdout}`, { cause: e }));
      }
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchSync({ notes: Number(process.env.SYNC_NOTES ?? 100_000), log: (l) => console.error(l) });
  console.log(JSON.stringify(result, null, 2));
}
