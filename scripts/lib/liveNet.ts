/**
 * A live zkcharge network on 127.0.0.1, every party its own process (for `npm run demo:live` and the wallet's live
 * tests): a `hardhat node` (or anvil), zkcharge deployed by configuration (`scripts/deploy.ts`), a CPO registered with one
 * meter per charger and a tariff, the relayer service, the station service (OCPP CSMS + driver API), one charger
 * process per meter, and a driver wallet file. Each process runs in its own process group and is killed by its PID
 * ({@link LiveNet.stop}, also after a failure). The CPO's, relayer's and meters' keys are encrypted key files; the
 * accounts are the dev node's well-known ones (dev chain only).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Contract, JsonRpcProvider, Wallet, encryptKeystoreJsonSync } from "ethers";
import {
  Meter,
  Operator,
  Pool__factory,
  Registry__factory,
  parseDeploymentRecord,
  tariffToJson,
  type Tariff,
} from "../../sdk/index.ts";
import { WalletStore } from "../../cli/walletStore.ts";
import { startNodeProcess, type NodeKind } from "../../dev/nodes.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
/** The dev node's well-known accounts 1 (CPO admin) and 3 (relayer): the default mnemonic of `hardhat node` and anvil. */
const CPO_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/** Account 2, the payer (tokens are minted to it; unlocked on the dev node). */
export const LIVE_PAYER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const RELAYER_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
/** Passphrases of the key files this network writes (a dev network's, in the environment of its processes). */
export const PASSPHRASES = {
  cpo: "cpo passphrase",
  relayer: "relayer passphrase",
  meter: "meter passphrase",
  wallet: "wallet passphrase",
};
export const RATED_POWER_W = 22000n;

/** A child process in its own process group, with its output so far. */
export class Proc {
  readonly name: string;
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<number | null>;
  #echo: ((line: string) => void) | undefined;

  constructor(name: string, file: string, args: string[], env: NodeJS.ProcessEnv, echo?: (line: string) => void) {
    this.name = name;
    this.#echo = echo;
    this.child = spawn(file, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const take = (chunk: Buffer, into: "stdout" | "stderr") => {
      const text = chunk.toString();
      this[into] += text;
      if (this.#echo) for (const line of text.split("\n")) if (line.trim()) this.#echo(line);
    };
    this.child.stdout!.on("data", (d: Buffer) => take(d, "stdout"));
    this.child.stderr!.on("data", (d: Buffer) => take(d, "stderr"));
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Kills the process group by its PID (tsx runs the program in a child) and waits for the exit (bounded). */
  async kill(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      return; // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-this.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Waits (at most `ms`) for `pattern` in stdout; returns the match. */
  async waitFor(pattern: RegExp, ms = 120_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const m = this.stdout.match(pattern);
      if (m) return m;
      if (!this.running) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `${this.name}: no ${pattern} in ${ms} ms (exit ${this.child.exitCode}):\n${this.stdout}\n${this.stderr}`,
    );
  }
}

function keystore(file: string, key: string, passphrase: string): void {
  const wallet = new Wallet(key);
  writeFileSync(
    file,
    encryptKeystoreJsonSync({ address: wallet.address, privateKey: key }, passphrase, { scrypt: { N: 1 << 12 } }),
  );
}

/** Options of {@link startLiveNet}. */
export interface LiveNetOptions {
  /** Where every file goes (key files, databases, the deployment record). */
  dir: string;
  /** The EVM implementation the chain runs on (default a `hardhat node`). */
  node?: NodeKind;
  /** Charger identities (one meter each). */
  chargers: string[];
  /** Extra arguments per charger (e.g. a test's `--fault`). */
  chargerArgs?: Record<string, string[]>;
  /** Milliseconds between the chargers' readings. */
  readingIntervalMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Echo each process's output with its name (demo). */
  echo?: boolean;
  /** The chain's JSON-RPC port (default: a free one). */
  rpcPort?: number;
  /** Browser origins the station's admin API answers (the CPO dashboard's site; default: none). */
  adminCorsOrigins?: string[];
}

/** A running network. */
export interface LiveNet {
  rpc: string;
  deployment: string;
  cpoId: bigint;
  tariff: Tariff;
  relayer: string;
  station: string;
  /** The station's admin API (127.0.0.1) and its bearer token (fresh for each network). */
  admin: string;
  adminToken: string;
  wallet: string;
  /** Every process started, by name. */
  procs: Map<string, Proc>;
  /** The environment a `zkcharge wallet` process runs with. */
  walletEnv: NodeJS.ProcessEnv;
  /** Starts `zkcharge wallet <args>` (the wallet file and chain options added). */
  wallet$(args: string[], name?: string): Proc;
  /** Kills every process by its PID. */
  stop(): Promise<void>;
}

/** A tariff of CPO `cpoId` valid from `now` + 5 s (the registry takes no past start) for 30 days, with a band boundary `boundaryInS` seconds from now. */
export function liveTariff(cpoId: bigint, now: bigint, boundaryInS: bigint): Tariff {
  const local = 3600n; // the local clock reads 01:00 now
  return {
    cpoId,
    flatFee: 100_000n,
    energyPrice: [300_000n, 250_000n, 400_000n, 300_000n],
    bandStart: [0n, local + boundaryInS, local + 6n * 3600n, local + 12n * 3600n],
    timePricePerHour: [60_000n, 60_000n, 60_000n, 60_000n],
    parkingPricePerHour: [60_000n, 60_000n, 60_000n, 60_000n],
    minPrice: 0n,
    maxPrice: 0n,
    tzOffset: (((local - (now % 86400n)) % 86400n) + 86400n) % 86400n,
    validFrom: now + 5n,
    validTo: now + 30n * 86400n,
    stepSize: [1n, 1n, 1n],
  };
}

/** Starts the whole network; on a failure everything started so far is killed before the error is thrown. */
export async function startLiveNet(o: LiveNetOptions): Promise<LiveNet> {
  const log = o.log ?? (() => {});
  const procs = new Map<string, Proc>();
  let stopNode = async () => {};
  const stop = async () => {
    await Promise.all([...procs.values()].reverse().map((p) => p.kill("SIGKILL")));
    await stopNode();
  };
  const start = (name: string, file: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const p = new Proc(name, file, args, { ...process.env, ...env }, o.echo ? (l) => log(`[${name}] ${l}`) : undefined);
    procs.set(name, p);
    return p;
  };
  try {
    mkdirSync(o.dir, { recursive: true });
    const node = await startNodeProcess(o.node ?? "hardhat", { port: o.rpcPort });
    stopNode = node.stop;
    const rpcUrl = node.rpc;
    log(`chain: ${node.kind} node (pid ${node.pid}) on ${rpcUrl}`);
    const out = join(o.dir, "deployments");
    const deploy = start(
      "deploy",
      TSX,
      [join(ROOT, "scripts", "deploy.ts"), "--network", "localhost", "--rpc", rpcUrl, "--out", out],
      {
        ZKCHARGE_RPC: rpcUrl,
      },
    );
    const code = await deploy.exited;
    if (code !== 0) throw new Error(`deploy failed (${code}):\n${deploy.stdout}\n${deploy.stderr}`);
    const deployment = join(out, "31337.json");
    const record = parseDeploymentRecord(readFileSync(deployment, "utf8"), deployment, 31337n);
    log(`deployed by configuration: pool ${record.addresses.pool} (record ${deployment})`);

    const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    try {
      const admin = new Wallet(CPO_KEY, provider);
      const registry = Registry__factory.connect(record.addresses.registry, provider);
      const pool = Pool__factory.connect(record.addresses.pool, provider);
      const operator = await Operator.register({ registry, pool, signer: admin });
      const chainNow = BigInt((await provider.getBlock("latest"))!.timestamp);
      const wallNow = BigInt(Math.floor(Date.now() / 1000));
      const now = chainNow > wallNow ? chainNow : wallNow;
      const tariff = liveTariff(operator.cpoId, now, 40n);
      const entries: Record<string, { meterPublicKey: string[]; ratedPowerW: string }> = {};
      const meterKeys: Record<string, string> = {};
      for (const id of o.chargers) {
        const key = Wallet.createRandom();
        const meter = new Meter({
          cpoId: operator.cpoId,
          ratedPowerW: RATED_POWER_W,
          privateKey: Buffer.from(key.privateKey.slice(2), "hex"),
        });
        await operator.addMeter(meter);
        meterKeys[id] = join(o.dir, `${id}.meter.json`);
        keystore(meterKeys[id], key.privateKey, PASSPHRASES.meter);
        entries[id] = { meterPublicKey: meter.publicKey.map(String), ratedPowerW: String(RATED_POWER_W) };
      }
      const { cpoId: _cpo, ...terms } = tariff;
      void _cpo;
      await operator.publishTariff(terms);
      // The payer (account 2) funds the driver's deposits: the dev token's mint is open to anyone.
      const token = new Contract(record.addresses.token, ["function mint(address,uint256)"], admin);
      await (await token.getFunction("mint")(LIVE_PAYER, 1_000_000_000n)).wait();
      log(`CPO ${operator.cpoId} registered (admin ${admin.address}): ${o.chargers.length} meters, one tariff`);
      writeFileSync(join(o.dir, "chargers.json"), JSON.stringify(entries));
      writeFileSync(join(o.dir, "tariff.json"), JSON.stringify(tariffToJson(tariff)));
      keystore(join(o.dir, "cpo.keystore.json"), CPO_KEY, PASSPHRASES.cpo);
      keystore(join(o.dir, "relayer.keystore.json"), RELAYER_KEY, PASSPHRASES.relayer);

      const relayer = start(
        "relayer",
        TSX,
        [
          join(ROOT, "relayer", "main.ts"),
          "--rpc",
          rpcUrl,
          "--deployment",
          deployment,
          "--keystore",
          join(o.dir, "relayer.keystore.json"),
          "--db",
          join(o.dir, "relayer.db"),
          "--host",
          "127.0.0.1",
          "--port",
          "0",
        ],
        { ZKCHARGE_RELAYER_PASSPHRASE: PASSPHRASES.relayer },
      );
      const relayerUrl = (await relayer.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
      log(`relayer (pid ${relayer.pid}) on ${relayerUrl}`);

      const adminToken = randomBytes(32).toString("hex");
      const station = start(
        "station",
        TSX,
        [
          join(ROOT, "station", "main.ts"),
          ...[
            "--chargers",
            join(o.dir, "chargers.json"),
            "--tariff",
            join(o.dir, "tariff.json"),
            "--db",
            join(o.dir, "station.db"),
          ],
          ...["--port", "0", "--admin-port", "0", "--heartbeat", "5"],
          ...["--rpc", rpcUrl, "--deployment", deployment, "--cpo-keystore", join(o.dir, "cpo.keystore.json")],
          ...["--cpo-id", String(operator.cpoId), "--api-port", "0", "--close-grace", "120", "--reading-interval", "1"],
          ...(o.adminCorsOrigins ? ["--admin-cors-origins", o.adminCorsOrigins.join(",")] : []),
        ],
        {
          ZKCHARGE_PASSPHRASE_CPO: PASSPHRASES.cpo,
          ZKCHARGE_PASSPHRASE: PASSPHRASES.cpo,
          ZKCHARGE_STATION_ADMIN_TOKEN: adminToken,
        },
      );
      const api = (await station.waitFor(/driver API .* on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
      const [, ocpp, adminUrl] = await station.waitFor(/OCPP listening on (ws:\/\/\S+), admin API on (http:\/\/\S+)/);
      log(`station (pid ${station.pid}): driver API ${api}, OCPP ${ocpp}`);

      for (const id of o.chargers) {
        const c = start(
          id,
          TSX,
          [
            join(ROOT, "charger", "main.ts"),
            ...["--station", ocpp, "--id", id, "--meter-key", meterKeys[id]!, "--db", join(o.dir, `${id}.db`)],
            ...["--rated-power-w", String(RATED_POWER_W), "--cpo-id", String(operator.cpoId)],
            ...["--reading-interval", String(o.readingIntervalMs ?? 1000), ...(o.chargerArgs?.[id] ?? [])],
          ],
          {
            ZKCHARGE_PASSPHRASE_METER: PASSPHRASES.meter,
            // A test's cheating charger (charger/faults.ts) is allowed only when asked for.
            ...(o.chargerArgs?.[id]?.includes("--fault") ? { ZKCHARGE_DEV_FAULTS: "1" } : {}),
          },
        );
        await c.waitFor(/connected to /);
        log(`charger ${id} (pid ${c.pid}) connected`);
      }
      // The tariff starts at the chain's time, which a dev node runs ahead of the wall clock (a second per block
      // when blocks come faster); the chargers start sessions by the wall clock and refuse one before the tariff's
      // start. So the network is ready once the wall clock has reached it (bounded: the tariff is valid for days).
      const untilValid = Number(tariff.validFrom) * 1000 - Date.now();
      if (untilValid > 0) {
        log(`waiting ${Math.ceil(untilValid / 1000)} s for the wall clock to reach the tariff's start`);
        await new Promise((r) => setTimeout(r, Math.min(untilValid + 1000, 120_000)));
      }

      const wallet = join(o.dir, "driver.wallet.json");
      const walletEnv: NodeJS.ProcessEnv = { ZKCHARGE_PASSPHRASE_WALLET: PASSPHRASES.wallet, ZKCHARGE_RPC: rpcUrl };
      let runs = 0;
      const wallet$ = (args: string[], name = `wallet-${++runs}`) =>
        start(
          name,
          TSX,
          [
            join(ROOT, "cli", "zkcharge.ts"),
            "wallet",
            ...args,
            "--wallet",
            wallet,
            ...(args[0] === "create" || args[0] === "sessions" ? [] : ["--deployment", deployment]),
          ],
          walletEnv,
        );
      return {
        rpc: rpcUrl,
        deployment,
        cpoId: operator.cpoId,
        tariff,
        relayer: relayerUrl,
        station: api,
        admin: adminUrl!,
        adminToken,
        wallet,
        procs,
        walletEnv,
        wallet$,
        stop,
      };
    } finally {
      provider.destroy();
    }
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs a wallet command to its end (bounded: `ms`); returns its exit code and output. */
export async function runWallet(
  net: LiveNet,
  args: string[],
  ms = 300_000,
): Promise<{ code: number | null; out: string; proc: Proc }> {
  const proc = net.wallet$(args);
  const timer = setTimeout(() => void proc.kill("SIGKILL"), ms);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, out: proc.stdout + proc.stderr, proc };
}

/**
 * Opens the network's wallet file (for a look from outside the wallet process), waiting (at most 10 s) for a killed
 * wallet process to be gone: the kernel reaps it a moment after SIGKILL, and until then its lock holds.
 */
export async function openWalletFile(net: LiveNet): Promise<WalletStore> {
  for (let i = 0; ; i++) {
    try {
      return await WalletStore.open(net.wallet, PASSPHRASES.wallet);
    } catch (error) {
      if (i >= 50 || !/in use by process/.test(String(error))) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
