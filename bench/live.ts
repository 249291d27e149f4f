/**
 * Live sessions under load on loopback (issue 17): one station process (its own OS process, its CPO key in an
 * encrypted keystore, the chain a `hardhat node` process) serving `sessions` chargers at once, each sending a
 * signed reading per second, each followed by a driver over the station's WebSocket API that verifies every
 * reading (LiveSessionVerifier, as the wallet does). The chargers (OCPP 2.0.1 over ocpp-rpc) and the drivers run
 * in this process; the station is measured from /proc (CPU time of its process group, peak resident memory).
 *
 * Sessions start one by one (each needs a lock proof); the measured window starts once all are open and lasts
 * `seconds`. Latency of a reading = the driver's receipt - the moment the charger stored it for sending (after
 * signing), so it covers the OCPP hop, the station's checks and storage, and the push to the driver. Lost = a
 * seqNo the charger stored that the driver never received or received out of order. Then `closes` sessions are
 * stopped one at a time and timed from the stop request ("plug-out") to the station's answer to the driver's close
 * (proved from the session end, verified by the station, submitted and mined); the others are stopped.
 *
 * `benchLive()` is what bench/bench.ts calls; `tsx bench/live.ts [sessions] [seconds]` runs it alone.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { ChargingStation } from "../charger/charger.ts";
import { ChargerStore, type ChargerSession } from "../charger/store.ts";
import { shutdownProver } from "../prover/index.ts";
import {
  Driver,
  DriverIdentity,
  LiveSessionVerifier,
  Meter,
  Operator,
  Pool__factory,
  Registry__factory,
  StationClient,
  decodeSignedMeterValue,
  parseDeploymentRecord,
  prepareClose,
  randomBits,
  sessionId as makeSessionId,
  tariffFromJson,
  type Offer,
} from "../sdk/index.ts";
import { runFile } from "../test/cli/harness.ts";
import { freePort, startNodeProcess } from "../dev/nodes.ts";
import { writeKeystore } from "../test/relayer/harness.ts";
import { nearBoundaryTariff, startStation, stationArgs, stationFiles } from "../test/live/harness.ts";

/** The `q` quantile (nearest rank) of ascending `sorted`; NaN for none. */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** What {@link benchLive} measured. */
export interface LiveBench {
  sessions: number;
  /** Length of the measured window (all sessions open), s. */
  windowSeconds: number;
  /** Readings the drivers received and verified in the window, and their latency, ms. */
  readings: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** Readings stored by a charger and never delivered to its driver (in order), over the whole run. */
  lost: number;
  /** Readings a driver's verifier refused (must be 0). */
  refused: number;
  /** The station's CPU over the window, % of one core, and its peak resident memory, MiB. */
  stationCpuPercent: number;
  stationPeakRssMiB: number;
  /** Plug-out (stop request) to the station's answer to the driver's close (proved, checked, mined), ms each. */
  stopToCloseMs: number[];
  stopToCloseMedianMs: number;
}

const CPO_PASSPHRASE = "bench cpo";
const CAP = 2_000_000n; // 2.00 EUR per session; two minutes at 22 kW stay far below it
const DAY = 86_400n;

/** CPU ticks (utime + stime) and resident bytes of every process in process group `pgid`. */
function groupUsage(pgid: number): { ticks: number; rss: number } {
  let ticks = 0;
  let rss = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // Fields after the command (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== pgid) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
    rss += Number(fields[21]) * 4096;
  }
  return { ticks, rss };
}

/** A charger store that notes when each reading was stored for sending (the latency's start). */
class TimedChargerStore extends ChargerStore {
  readonly storedAt = new Map<string, number>();

  override record(session: ChargerSession, payload: Record<string, unknown>): void {
    super.record(session, payload);
    this.storedAt.set(`${session.sessionId}:${session.nextSeqNo - 1}`, Date.now());
  }
}

/**
 * Runs `sessions` (1..50) concurrent live sessions for `seconds` (10..600) and times `closes` of them.
 * @param options.log progress lines
 */
export async function benchLive(
  options: { sessions?: number; seconds?: number; closes?: number; log?: (line: string) => void } = {},
): Promise<LiveBench> {
  const sessions = Math.min(50, Math.max(1, options.sessions ?? 50));
  const seconds = Math.min(600, Math.max(10, options.seconds ?? 120));
  const closes = Math.min(sessions, Math.max(0, options.closes ?? 5));
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), "zkcharge-bench-live-"));
  const node = await startNodeProcess("hardhat");
  const provider = new JsonRpcProvider(node.rpc, undefined, { staticNetwork: true, cacheTimeout: -1 });
  let station: Awaited<ReturnType<typeof startStation>> | undefined;
  const chargers: ChargingStation[] = [];
  const stores: TimedChargerStore[] = [];
  try {
    log("deploying to a hardhat node by config");
    const deployed = await runFile(
      "scripts/deploy.ts",
      ["--network", "localhost", "--rpc", node.rpc, "--out", join(dir, "deployments")],
      { ...process.env, ZKCHARGE_IGNITION_DIR: join(dir, "ignition") },
      180_000,
    );
    if (deployed.code !== 0) throw new Error(`deploy failed:\n${deployed.stdout}\n${deployed.stderr}`);
    const recordFile = join(dir, "deployments", "31337.json");
    const record = parseDeploymentRecord(readFileSync(recordFile, "utf8"), recordFile);
    const pool = Pool__factory.connect(record.addresses.pool, provider);
    const registry = Registry__factory.connect(record.addresses.registry, provider);
    const dev = await provider.getSigner(0);
    const submitter = await provider.getSigner(3);
    const cpoKey = Wallet.createRandom().connect(provider);
    await (await dev.sendTransaction({ to: cpoKey.address, value: 10n ** 20n })).wait();
    writeKeystore(join(dir, "cpo.json"), cpoKey, CPO_PASSPHRASE);
    const operator = await Operator.register({ registry, pool, signer: cpoKey });
    const cpoId = operator.cpoId;

    log(`registering ${sessions} meters and a tariff`);
    const ids = Array.from({ length: sessions }, (_, i) => `CS${String(i + 1).padStart(3, "0")}`);
    // The tariff before the meters: every transaction of a dev node moves its clock a second ahead of the wall
    // clock the chargers sign with, and the tariff is valid from the chain's now.
    const { cpoId: _unused, ...fields } = nearBoundaryTariff(10_000, 12_000).tariff; // no boundary in the run
    const chainNow = BigInt((await provider.getBlock("latest"))!.timestamp);
    fields.validFrom = chainNow + 2n;
    await operator.publishTariff(fields);
    const tariff = { ...fields, cpoId };
    const meters = ids.map(() => new Meter({ cpoId, ratedPowerW: 22_000n }));
    for (const m of meters) await operator.addMeter(m);
    const files = stationFiles(dir, Object.fromEntries(ids.map((id, i) => [id, meters[i]!])), tariff);

    log(`depositing for ${sessions} sessions`);
    const payer = await provider.getSigner(2);
    const token = new Contract(record.addresses.token, ["function mint(address,uint256)"], payer);
    const each = CAP + 100_000n;
    await (await token.getFunction("mint")(await payer.getAddress(), each * BigInt(sessions))).wait();
    const driver = new Driver(DriverIdentity.random(), pool);
    for (let i = 0; i < sessions; i++) await driver.deposit(each, payer);

    station = await startStation(
      stationArgs({
        files,
        db: join(dir, "station.db"),
        heartbeat: 60,
        chain: {
          rpc: node.rpc,
          deployment: recordFile,
          cpoKeystore: join(dir, "cpo.json"),
          cpoId,
          minCap: CAP,
          minSecondsToSettle: 600,
          closeGrace: 86_400, // the drivers close; the station must not prove closes of its own during the run
          readingInterval: 1,
          ratePerMinute: 100_000, // every driver here shares one address
        },
        quiet: true,
      }),
      await freePort(),
      { ZKCHARGE_PASSPHRASE_CPO: CPO_PASSPHRASE },
    );
    const api = /driver API for CPO \d+ on chain \d+ on (http:\/\/\S+)/.exec(station.child.stdout)?.[1];
    if (!api) throw new Error(`the station did not start its driver API:\n${station.child.stdout}`);
    const client = new StationClient(api);
    const pgid = station.child.pid;

    for (const [i, id] of ids.entries()) {
      const store = new TimedChargerStore(join(dir, `${id}.db`));
      stores.push(store);
      const charger = new ChargingStation({
        endpoint: station.ocpp,
        identity: id,
        meter: meters[i]!,
        store,
        readingIntervalMs: 1000,
      });
      chargers.push(charger);
      void charger.start();
    }
    const until = async (what: string, check: () => Promise<boolean>, ms: number) => {
      const deadline = Date.now() + ms;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`${what} not within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    await until(
      "every charger Available",
      async () => {
        const info = await client.info();
        return info.chargers.filter((c) => c.connected && c.status === "Available").length === sessions;
      },
      120_000,
    );
    const validInMs = Number(tariff.validFrom) * 1000 - Date.now();
    await until("the tariff valid", async () => BigInt(Date.now()) / 1000n > tariff.validFrom, validInMs + 30_000);

    // Per session: what the driver saw.
    interface Followed {
      sessionId: bigint;
      token: string;
      offer: Offer;
      verifier: LiveSessionVerifier;
      store: TimedChargerStore;
      nextSeqNo: number;
      lost: number;
      done: Promise<void>;
      stream: ReturnType<StationClient["live"]>;
    }
    const followed: Followed[] = [];
    const latencies: number[] = [];
    let windowOpen = false;
    let refused = 0;

    log(`starting ${sessions} sessions (a lock proof each)`);
    const tLocks = performance.now();
    for (const [i, id] of ids.entries()) {
      const offer = await client.offer(id);
      const driverNonce = randomBits(128);
      const settleDeadline = BigInt((await provider.getBlock("latest"))!.timestamp) + 2n * 3600n;
      const { escrowId } = await driver.lock(
        {
          stationNonce: offer.stationNonce,
          driverNonce,
          cpoId,
          cap: CAP,
          settleDeadline,
          claimDeadline: settleDeadline + DAY + 60n,
        },
        submitter,
      );
      const started = await client.start({ chargerId: id, stationNonce: offer.stationNonce, driverNonce, escrowId });
      const sessionId = makeSessionId(offer.stationNonce, driverNonce);
      const verifier = new LiveSessionVerifier({
        sessionId,
        cpoId,
        ratedPowerW: offer.ratedPowerW,
        meterPublicKey: offer.meterPublicKey,
        tariff: tariffFromJson(offer.tariff),
      });
      const stream = client.live(sessionId, started.token);
      const f: Followed = {
        sessionId,
        token: started.token,
        offer,
        verifier,
        store: stores[i]!,
        nextSeqNo: 0,
        lost: 0,
        stream,
        done: Promise.resolve(),
      };
      f.done = (async () => {
        for await (const m of stream) {
          if (m.type !== "reading") continue;
          const at = Date.now();
          const { seqNo } = m.reading;
          if (seqNo !== f.nextSeqNo) f.lost += Math.max(0, seqNo - f.nextSeqNo);
          f.nextSeqNo = seqNo + 1;
          try {
            const { record: r, publicKey } = decodeSignedMeterValue(m.reading.signedMeterValue);
            f.verifier.accept(r, publicKey);
          } catch {
            refused++;
          }
          const storedAt = f.store.storedAt.get(`${sessionId}:${seqNo}`);
          if (windowOpen && storedAt !== undefined) latencies.push(at - storedAt);
        }
      })().catch(() => {});
      followed.push(f);
      if ((i + 1) % 10 === 0) log(`  ${i + 1} sessions open`);
    }
    const lockSeconds = (performance.now() - tLocks) / 1000;
    log(`all ${sessions} sessions open after ${lockSeconds.toFixed(0)} s; measuring ${seconds} s`);

    const before = groupUsage(pgid);
    let peakRss = before.rss;
    windowOpen = true;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      peakRss = Math.max(peakRss, groupUsage(pgid).rss);
    }
    windowOpen = false;
    const windowMs = performance.now() - t0;
    const after = groupUsage(pgid);
    const cpuPercent = ((after.ticks - before.ticks) / 100 / (windowMs / 1000)) * 100;

    log(`stopping ${closes} sessions one at a time, each closed by its driver`);
    const stopToClose: number[] = [];
    for (const f of followed.slice(0, closes)) {
      const t = performance.now();
      await client.stop(f.sessionId, f.token);
      await until("the session end", async () => f.verifier.ended, 30_000);
      const end = f.verifier.session()!;
      const { meterPath } = await operator.receipt(end);
      const escrowId = (await client.status(f.sessionId, f.token)).escrowId;
      const closing = await prepareClose(pool, escrowId, end, meterPath);
      await client.close(f.sessionId, f.token, closing);
      stopToClose.push(performance.now() - t);
    }
    for (const f of followed.slice(closes)) await client.stop(f.sessionId, f.token).catch(() => {});
    await until("every session end", async () => followed.every((f) => f.verifier.ended), 60_000);
    for (const f of followed) f.stream.close();
    await Promise.all(followed.map((f) => f.done));
    // Readings the charger stored but the driver never saw (after the end nothing more is stored).
    const lost = followed.reduce((n, f) => n + f.lost + Math.max(0, f.store.storedAt.size - f.nextSeqNo), 0);

    const sorted = [...latencies].sort((a, b) => a - b);
    const sortedClose = [...stopToClose].sort((a, b) => a - b);
    return {
      sessions,
      windowSeconds: Math.round(windowMs / 1000),
      readings: latencies.length,
      latencyP50Ms: percentile(sorted, 0.5),
      latencyP99Ms: percentile(sorted, 0.99),
      latencyMaxMs: sorted[sorted.length - 1] ?? NaN,
      lost,
      refused,
      stationCpuPercent: Math.round(cpuPercent),
      stationPeakRssMiB: Math.round(peakRss / 2 ** 20),
      stopToCloseMs: stopToClose.map(Math.round),
      stopToCloseMedianMs: percentile(sortedClose, 0.5),
    };
  } finally {
    for (const c of chargers) await c.close().catch(() => {});
    for (const s of stores) s.close();
    await station?.child.kill("SIGKILL");
    provider.destroy();
    await node.stop();
    await shutdownProver();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [sessions, seconds] = process.argv.slice(2).map(Number);
  const result = await benchLive({ sessions, seconds, log: (line) => console.log(line) });
  console.log(JSON.stringify(result, null, 2));
}
