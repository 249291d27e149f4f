/**
 * `npm run station -- --chargers FILE --tariff FILE --db FILE [--port P] [--admin-port P]`: the CPO's station
 * service, OCPP side (docs/ocpp.md): the CSMS for the chargers in FILE and a local admin API on 127.0.0.1. Bad
 * options or files: a message naming the cause on stderr, exit code 1.
 *
 * The chargers file: `{ "CS001": { "meterPublicKey": ["<Ax>", "<Ay>"], "ratedPowerW": "22000" } }` (decimal
 * strings: the meter key and rating the CPO registered in its meter leaf). The tariff file: the tariff as the SDK's
 * `tariffToJson` writes it.
 */
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { ZkchargeError, tariffFromJson } from "../sdk/index.ts";
import { startAdmin } from "./admin.ts";
import { startCsms, type ChargerEntry } from "./csms.ts";
import { SqliteStationStore } from "./sqliteStore.ts";

const integer = (name: string) => (value: string) => {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError(`${name} must be an integer, got "${value}"`);
  return Number(value);
};

const program = new Command("zkcharge-station")
  .description("The zkcharge station service (OCPP 2.0.1 CSMS): checks and stores every signed meter reading.")
  .requiredOption("--chargers <file>", 'allowed chargers: { "<id>": { "meterPublicKey": [Ax, Ay], "ratedPowerW": W } }')
  .requiredOption("--tariff <file>", "the tariff offered (JSON, bigints as decimal strings)")
  .requiredOption("--db <file>", "the station database (SQLite; created if missing)")
  .option("--host <host>", "address the OCPP endpoint listens on", "127.0.0.1")
  .option("--port <port>", "OCPP port (0: any free port)", integer("--port"), 9000)
  .option("--admin-port <port>", "admin API port on 127.0.0.1 (0: any free port)", integer("--admin-port"), 0)
  .option("--heartbeat <seconds>", "heartbeat interval given to chargers", integer("--heartbeat"), 60)
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

try {
  const chargers = parseChargers(readJson(o.chargers, "chargers file"));
  const tariff = tariffFromJson(readJson(o.tariff, "tariff file"));
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
  const admin = await startAdmin(csms, store, "127.0.0.1", o.adminPort);
  console.log(`zkcharge station: OCPP listening on ${csms.url}, admin API on ${admin.url}`);
  const stop = (signal: string) => {
    log(`${signal}: stopping`);
    setTimeout(() => process.exit(1), 5000).unref();
    Promise.all([csms.close(), admin.app.close()])
      .then(() => store.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
} catch (error) {
  if (error instanceof StartError || error instanceof ZkchargeError) {
    console.error(`zkcharge-station: error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
