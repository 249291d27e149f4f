/**
 * What the live tests share: the station and charger processes (`station/main.ts`, `charger/main.ts`) on
 * 127.0.0.1, each in its own process group and killed by its PID; meter keys in encrypted key files; a tariff with
 * band boundaries a few seconds ahead, so that a short session crosses them; the station's admin API.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { Meter, tariffToJson, type Tariff } from "../../sdk/index.ts";
import { ROOT } from "../cli/harness.ts";
import { Child, writeKeystore } from "../relayer/harness.ts";

export { Child };
export const TSX = join(ROOT, "node_modules", ".bin", "tsx");
export const PASSPHRASE = "meter key passphrase";
export const CPO_ID = 7n;
export const RATED_POWER_W = 22000n;

/** A meter key written as an encrypted key file, and the meter it opens to. */
export function meterKey(file: string): Meter {
  const wallet = Wallet.createRandom();
  writeKeystore(file, wallet, PASSPHRASE);
  return new Meter({
    cpoId: CPO_ID,
    ratedPowerW: RATED_POWER_W,
    privateKey: Buffer.from(wallet.privateKey.slice(2), "hex"),
  });
}

/**
 * A tariff whose local clock reads 01:00:00 now, with band boundaries `firstInS` and `secondInS` seconds ahead;
 * and those two boundaries in unix seconds.
 */
export function nearBoundaryTariff(firstInS: number, secondInS: number): { tariff: Tariff; boundaries: bigint[] } {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const local = 3600n;
  const tzOffset = (((local - (now % 86400n)) % 86400n) + 86400n) % 86400n;
  const tariff: Tariff = {
    cpoId: CPO_ID,
    flatFee: 100n,
    energyPrice: [300n, 250n, 400n, 300n],
    bandStart: [0n, local + BigInt(firstInS), local + BigInt(secondInS), local + 20000n],
    timePricePerHour: [0n, 0n, 0n, 0n],
    parkingPricePerHour: [0n, 0n, 0n, 0n],
    minPrice: 0n,
    maxPrice: 0n,
    tzOffset,
    validFrom: now - 3600n,
    validTo: now + 86400n,
    stepSize: [1n, 1n, 1n],
  };
  return { tariff, boundaries: [now + BigInt(firstInS), now + BigInt(secondInS)] };
}

/** Writes the station's chargers and tariff files; returns their paths. */
export function stationFiles(
  dir: string,
  meters: Record<string, Meter>,
  tariff: Tariff,
): { chargers: string; tariff: string } {
  const chargers = join(dir, "chargers.json");
  const entries = Object.fromEntries(
    Object.entries(meters).map(([id, m]) => [
      id,
      { meterPublicKey: m.publicKey.map(String), ratedPowerW: String(m.ratedPowerW) },
    ]),
  );
  writeFileSync(chargers, JSON.stringify(entries));
  const tariffFile = join(dir, "tariff.json");
  writeFileSync(tariffFile, JSON.stringify(tariffToJson(tariff)));
  return { chargers, tariff: tariffFile };
}

/** The chain side of a station: its node, deployment, CPO and escrow policy (docs/live.md). */
export interface StationChainConfig {
  rpc: string;
  deployment: string;
  cpoKeystore: string;
  cpoId: bigint;
  minCap: bigint;
  minSecondsToSettle: number;
  /** Seconds after a session end before the station proves the close itself. */
  closeGrace: number;
  /** The charger's reading interval the cap policy assumes, seconds. */
  readingInterval: number;
  /** Write budget of a driver API client per minute. */
  ratePerMinute: number;
}

/** The station's command line (without its ports): files, database, heartbeat and, with `chain`, the driver API. */
export function stationArgs(o: {
  files: { chargers: string; tariff: string };
  db: string;
  heartbeat: number;
  chain?: StationChainConfig;
  /** Origins a browser wallet may call the driver API from (default any). */
  corsOrigins?: string;
  quiet?: boolean;
}): string[] {
  const args = ["--chargers", o.files.chargers, "--tariff", o.files.tariff, "--db", o.db, "--heartbeat"];
  args.push(String(o.heartbeat));
  if (o.chain) {
    const c = o.chain;
    args.push("--rpc", c.rpc, "--deployment", c.deployment, "--cpo-keystore", c.cpoKeystore);
    args.push("--cpo-id", String(c.cpoId), "--api-port", "0", "--min-cap", String(c.minCap));
    args.push("--min-seconds-to-settle", String(c.minSecondsToSettle), "--close-grace", String(c.closeGrace));
    args.push("--reading-interval", String(c.readingInterval), "--rate-per-minute", String(c.ratePerMinute));
  }
  if (o.corsOrigins) args.push("--cors-origins", o.corsOrigins);
  if (o.quiet) args.push("--quiet");
  return args;
}

/** Starts the station process on OCPP port `port` (with `env` added); returns once its endpoints listen. */
export async function startStation(
  args: string[],
  port: number,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: Child; ocpp: string; admin: string }> {
  const child = new Child(
    TSX,
    [join(ROOT, "station", "main.ts"), "--port", String(port), "--admin-port", "0", ...args],
    {
      ...process.env,
      ...env,
    },
  );
  try {
    const m = await child.waitFor(/OCPP listening on (ws:\/\/\S+), admin API on (http:\/\/\S+)/);
    return { child, ocpp: m[1]!, admin: m[2]! };
  } catch (error) {
    await child.kill("SIGKILL");
    throw error;
  }
}

/** Starts a charger process (readings every second). */
export function startCharger(args: string[]): Child {
  return new Child(
    TSX,
    [
      join(ROOT, "charger", "main.ts"),
      "--rated-power-w",
      String(RATED_POWER_W),
      "--cpo-id",
      String(CPO_ID),
      "--reading-interval",
      "1000",
      ...args,
    ],
    { ...process.env, ZKCHARGE_PASSPHRASE_METER: PASSPHRASE },
  );
}

/** A JSON request to the admin API. */
export async function admin<T>(
  url: string,
  method: "GET" | "POST",
  path: string,
): Promise<{ status: number; body: T }> {
  const res = await fetch(url + path, { method });
  return { status: res.status, body: (await res.json()) as T };
}

/** Polls `check` every 200 ms until it returns a value (at most `ms`). */
export async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
