/**
 * `npm run station -- --chargers FILE --tariff FILE --db FILE [--port P] [--admin-port P] [--rpc URL --deployment
 * FILE --cpo-keystore FILE --cpo-id N --api-port P]`: the CPO's station service: the OCPP 2.0.1 CSMS for the chargers
 * in FILE (docs/ocpp.md), a local admin API on 127.0.0.1 and, with the chain options, the driver API and the escrow
 * policies (docs/live.md). Without the chain options only the OCPP side and the admin API run. Bad options or
 * files: a message naming the cause on stderr, exit code 1.
 *
 * The chargers file: `{ "CS001": { "meterPublicKey": ["<Ax>", "<Ay>"], "ratedPowerW": "22000" } }` (decimal
 * strings: the meter key and rating the CPO registered in its meter leaf). The tariff file: the tariff as the SDK's
 * `tariffToJson` writes it.
 */
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import {
  ZkchargeError,
  meterLeaf,
  passphraseVariables,
  readMeterTree,
  tariffFromJson,
  tariffHash,
  type Tariff,
} from "../sdk/index.ts";
import { ADMIN_TOKEN_MIN_LENGTH, startAdmin } from "./admin.ts";
import { ChainStartError, connectStationChain, type StationChain } from "./chain.ts";
import { startCsms, type ChargerEntry } from "./csms.ts";
import { DEFAULT_DRIVER_LIMITS, buildDriverApi } from "./driverApi.ts";
import { Settlement } from "./settlement.ts";
import { SqliteStationStore } from "./sqliteStore.ts";

/** The environment variable holding the admin API's bearer token (never an argument: `ps` would show it). */
const ADMIN_TOKEN_VARIABLE = "ZKCHARGE_STATION_ADMIN_TOKEN";

const integer = (name: string) => (value: string) => {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError(`${name} must be an integer, got "${value}"`);
  return Number(value);
};

const big = (name: string) => (value: string) => {
  if (!/^[0-9]{1,30}$/.test(value)) throw new InvalidArgumentError(`${name} must be an integer, got "${value}"`);
  return BigInt(value);
};

/** An option taking a non-negative integer as a bigint, with its default shown in --help. */
const bigOption = (flags: string, description: string, fallback: bigint) =>
  new Option(flags, description).argParser(big(flags.split(" ")[0]!)).default(fallback, String(fallback));

const program = new Command("zkcharge-station")
  .description(
    "The zkcharge station service: the OCPP 2.0.1 CSMS (checks and stores every signed meter reading), a local admin " +
      "API and, given --rpc, --deployment, --cpo-keystore and --cpo-id, the driver API (offers, sessions against an " +
      "escrow checked on-chain, live readings, closes) with its escrow policies. The CPO keystore is unlocked with " +
      `${passphraseVariables("cpo").join(" or ")} (or a prompt on a terminal). With ${ADMIN_TOKEN_VARIABLE} set, ` +
      "every admin API request must carry it as a bearer token.",
  )
  .requiredOption("--chargers <file>", 'allowed chargers: { "<id>": { "meterPublicKey": [Ax, Ay], "ratedPowerW": W } }')
  .requiredOption("--tariff <file>", "the tariff offered (JSON, bigints as decimal strings)")
  .requiredOption("--db <file>", "the station database (SQLite; created if missing)")
  .option("--host <host>", "address the OCPP endpoint listens on", "127.0.0.1")
  .option("--port <port>", "OCPP port (0: any free port)", integer("--port"), 9000)
  .option("--admin-port <port>", "admin API port on 127.0.0.1 (0: any free port)", integer("--admin-port"), 0)
  .option("--heartbeat <seconds>", "heartbeat interval given to chargers", integer("--heartbeat"), 60)
  .option("--rpc <url>", "driver API: JSON-RPC endpoint of the chain")
  .option("--deployment <file>", "driver API: the deployment record (deployments/<chainId>.json)")
  .option("--cpo-keystore <file>", "driver API: the CPO admin account's encrypted JSON keystore")
  .option("--cpo-id <id>", "driver API: this station's CPO id (the tariff's and the meters')", big("--cpo-id"))
  .option("--api-host <host>", "address the driver API listens on", "127.0.0.1")
  .option("--api-port <port>", "driver API port (0: any free port)", integer("--api-port"), 8090)
  .option("--name <name>", "the station's name in GET /api/v1/station", "zkcharge station")
  .addOption(bigOption("--min-cap <units>", "smallest escrow cap accepted, token base units", 1_000_000n))
  .addOption(
    bigOption("--min-seconds-to-settle <s>", "least time left before the escrow's settle deadline at start", 3600n),
  )
  .option(
    "--close-grace <s>",
    "seconds the driver has after a session end to hand its close",
    integer("--close-grace"),
    300,
  )
  .addOption(
    bigOption("--reading-interval <s>", "the chargers' reading interval the cap policy assumes at least, seconds", 5n),
  )
  .option(
    "--rate-per-minute <n>",
    "driver API: POST requests per minute a client gets back (GETs: 10x)",
    integer("--rate-per-minute"),
    DEFAULT_DRIVER_LIMITS.write.perMinute,
  )
  .option(
    "--cors-origins <list>",
    "driver API: comma-separated origins browser wallets may call from (default: any origin)",
  )
  .option(
    "--admin-cors-origins <list>",
    `admin API: comma-separated origins the CPO dashboard may call it from (needs ${ADMIN_TOKEN_VARIABLE}; default: none)`,
  )
  .option("--quiet", "log nothing but the listening lines and errors");

program.parse();
const o = program.opts<{
  chargers: string;
  tariff: string;
  db: string;
  host: string;
  port: number;
  adminPort: number;
  heartbeat: number;
  rpc?: string;
  deployment?: string;
  cpoKeystore?: string;
  cpoId?: bigint;
  apiHost: string;
  apiPort: number;
  name: string;
  minCap: bigint;
  minSecondsToSettle: bigint;
  closeGrace: number;
  readingInterval: bigint;
  ratePerMinute: number;
  corsOrigins?: string;
  adminCorsOrigins?: string;
  quiet?: boolean;
}>();
const log = o.quiet ? () => {} : (message: string) => console.log(`${new Date().toISOString()} ${message}`);

class StartError extends Error {}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch (error) {
    throw new StartError(`${what} ${file}: ${(error as Error).message}`);
  }
}

function parseChargers(json: unknown): Map<string, ChargerEntry> {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new StartError(`${o.chargers}: must be an object of charger identities`);
  const out = new Map<string, ChargerEntry>();
  for (const [id, entry] of Object.entries(json as Record<string, unknown>)) {
    const e = entry as { meterPublicKey?: unknown; ratedPowerW?: unknown };
    const key = e?.meterPublicKey;
    const dec = (v: unknown) => typeof v === "string" && /^[0-9]{1,78}$/.test(v);
    if (!Array.isArray(key) || key.length !== 2 || !key.every(dec) || !dec(e.ratedPowerW))
      throw new StartError(`${o.chargers}: ${id} needs meterPublicKey [Ax, Ay] and ratedPowerW, decimal strings`);
    out.set(id, {
      meterPublicKey: [BigInt(key[0] as string), BigInt(key[1] as string)],
      ratedPowerW: BigInt(e.ratedPowerW as string),
    });
  }
  return out;
}

/** The chain side, if its options are given (all of them or none). */
async function chainSide(chargers: Map<string, ChargerEntry>, tariff: Tariff): Promise<StationChain | undefined> {
  const given = { "--rpc": o.rpc, "--deployment": o.deployment, "--cpo-keystore": o.cpoKeystore, "--cpo-id": o.cpoId };
  const missing = Object.entries(given).filter(([, v]) => v === undefined);
  if (missing.length === 4) return undefined;
  if (missing.length > 0)
    throw new StartError(
      `the driver API needs ${missing.map(([k]) => k).join(", ")} too (or none of the chain options)`,
    );
  const cpoId = o.cpoId!;
  if (tariff.cpoId !== cpoId) throw new StartError(`${o.tariff}: the tariff is CPO ${tariff.cpoId}'s, not ${cpoId}'s`);
  const chain = await connectStationChain({ rpc: o.rpc!, deployment: o.deployment!, keystore: o.cpoKeystore!, cpoId });
  try {
    const registry = chain.operator.registry;
    if ((await registry.tariffCpo(tariffHash(tariff))) !== cpoId)
      throw new StartError(`${o.tariff}: the tariff is not one CPO ${cpoId} published on chain ${chain.chainId}`);
    const tree = await readMeterTree(registry, cpoId);
    for (const [id, c] of chargers)
      if (tree.indexOf(meterLeaf(c.meterPublicKey[0], c.meterPublicKey[1], cpoId, c.ratedPowerW)) < 0)
        throw new StartError(`${o.chargers}: ${id}'s meter is not in CPO ${cpoId}'s meter tree (add it first)`);
  } catch (error) {
    chain.close();
    throw error;
  }
  return chain;
}

try {
  const adminToken = process.env[ADMIN_TOKEN_VARIABLE] || undefined;
  if (adminToken !== undefined && adminToken.length < ADMIN_TOKEN_MIN_LENGTH)
    throw new StartError(`${ADMIN_TOKEN_VARIABLE} must be at least ${ADMIN_TOKEN_MIN_LENGTH} characters`);
  const adminCorsOrigins = o.adminCorsOrigins?.split(",").map((x) => x.trim());
  if (adminCorsOrigins && adminToken === undefined)
    throw new StartError(
      `--admin-cors-origins needs ${ADMIN_TOKEN_VARIABLE}: browsers may call the admin API only with a token`,
    );
  const chargers = parseChargers(readJson(o.chargers, "chargers file"));
  const tariff = tariffFromJson(readJson(o.tariff, "tariff file"));
  const chain = await chainSide(chargers, tariff);
  const store = new SqliteStationStore(o.db);
  const csms = await startCsms({
    store,
    chargers,
    tariff,
    host: o.host,
    port: o.port,
    heartbeatSeconds: o.heartbeat,
    log,
  });
  const admin = await startAdmin({
    csms,
    store,
    chargers,
    tariff,
    host: "127.0.0.1",
    port: o.adminPort,
    token: adminToken,
    corsOrigins: adminCorsOrigins,
  });
  let settlement: Settlement | undefined;
  let api: Awaited<ReturnType<typeof buildDriverApi>> | undefined;
  if (chain) {
    settlement = new Settlement({
      store,
      csms,
      chain,
      chargers,
      closeGraceSeconds: o.closeGrace,
      readingIntervalSeconds: o.readingInterval,
      log,
    });
    settlement.start();
    api = await buildDriverApi({
      name: o.name,
      store,
      csms,
      chain,
      settlement,
      chargers,
      tariff,
      policy: { minCap: o.minCap, minSecondsToSettle: o.minSecondsToSettle },
      limits: {
        write: { burst: DEFAULT_DRIVER_LIMITS.write.burst, perMinute: o.ratePerMinute },
        read: { burst: DEFAULT_DRIVER_LIMITS.read.burst, perMinute: o.ratePerMinute * 10 },
      },
      corsOrigins: o.corsOrigins?.split(",").map((x) => x.trim()),
      log,
    });
    const url = await api.listen({ host: o.apiHost, port: o.apiPort });
    console.log(`zkcharge station: driver API for CPO ${o.cpoId} on chain ${chain.chainId} on ${url}`);
  }
  console.log(`zkcharge station: OCPP listening on ${csms.url}, admin API on ${admin.url}`);
  const stop = (signal: string) => {
    log(`${signal}: stopping`);
    setTimeout(() => process.exit(1), 5000).unref();
    settlement?.stop();
    Promise.all([csms.close(), admin.app.close(), api?.close()])
      .then(() => store.close())
      .then(() => chain?.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
} catch (error) {
  if (error instanceof StartError || error instanceof ChainStartError || error instanceof ZkchargeError) {
    console.error(`zkcharge-station: error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
