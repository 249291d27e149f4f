/**
 * `npm run charger -- --station ws://127.0.0.1:P/ocpp --id CS001 --meter-key FILE --db FILE --rated-power-w 22000
 * --cpo-id N`: one charging station (docs/ocpp.md). The meter key file is an encrypted JSON keystore whose 32-byte
 * private key is the meter's EdDSA-Poseidon seed; its passphrase comes from ZKCHARGE_PASSPHRASE_METER (or
 * ZKCHARGE_PASSPHRASE) or the terminal. Bad options or a wrong passphrase: a message on stderr, exit code 1.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import {
  Meter,
  ZkchargeError,
  encodeMeterPublicKey,
  loadAccount,
  passphraseVariables,
  readPassphrase,
} from "../sdk/index.ts";
import { ChargingStation } from "./charger.ts";
import { ChargerStore } from "./store.ts";
import { CHARGER_FAULTS, FAULTS_VARIABLE, type ChargerFault } from "./faults.ts";

const integer = (name: string, min: bigint) => (value: string) => {
  if (!/^[0-9]+$/.test(value) || BigInt(value) < min)
    throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got "${value}"`);
  return BigInt(value);
};

const program = new Command("zkcharge-charger")
  .description(
    "An OCPP 2.0.1 charging station with a zkcharge meter: signs every reading and delivers it through an offline queue.\n" +
      `The meter key (an encrypted JSON keystore) is unlocked with ${passphraseVariables("meter").join(" or ")}.`,
  )
  .requiredOption("--station <url>", "the CSMS's OCPP endpoint, e.g. ws://127.0.0.1:9000/ocpp")
  .requiredOption("--id <identity>", "this charging station's OCPP identity")
  .requiredOption("--meter-key <file>", "the meter's encrypted key file")
  .option("--db <file>", "the charger's database (SQLite; created if missing): session and offline queue")
  .requiredOption(
    "--rated-power-w <watts>",
    "the meter's rated power (part of its leaf)",
    integer("--rated-power-w", 1n),
  )
  .requiredOption("--cpo-id <id>", "the CPO the meter is registered under", integer("--cpo-id", 0n))
  .addOption(
    new Option("--reading-interval <ms>", "milliseconds between live readings")
      .argParser(integer("--reading-interval", 100n))
      .default(5000n, "5000"),
  )
  .addOption(
    new Option("--fault <kind>", `tests only (needs ${FAULTS_VARIABLE}=1): cheat this way`).choices(CHARGER_FAULTS),
  )
  .option("--print-key", "print the meter's public key and leaf, then exit")
  .option("--quiet", "log nothing but the start line and errors");

program.parse();
const o = program.opts<{
  station: string;
  id: string;
  meterKey: string;
  db?: string;
  ratedPowerW: bigint;
  cpoId: bigint;
  readingInterval: bigint;
  printKey?: boolean;
  quiet?: boolean;
  fault?: ChargerFault;
}>();
if (o.fault !== undefined && process.env[FAULTS_VARIABLE] !== "1") {
  console.error(`zkcharge-charger: error: --fault is for tests only: set ${FAULTS_VARIABLE}=1 to cheat on purpose`);
  process.exit(1);
}

const stamp = () => new Date().toISOString();
const log = o.quiet ? () => {} : (message: string) => console.log(`${stamp()} ${o.id}: ${message}`);

try {
  const passphrase = await readPassphrase({
    what: `the meter key ${o.meterKey}`,
    variables: passphraseVariables("meter"),
  });
  const account = await loadAccount(o.meterKey, passphrase);
  const meter = new Meter({
    cpoId: o.cpoId,
    ratedPowerW: o.ratedPowerW,
    privateKey: Buffer.from(account.privateKey.slice(2), "hex"),
  });
  if (o.printKey) {
    console.log(
      JSON.stringify({
        meterPublicKey: meter.publicKey.map(String),
        publicKey: encodeMeterPublicKey(meter.publicKey),
        leaf: meter.leaf.toString(),
      }),
    );
    process.exit(0);
  }
  if (o.db === undefined) throw new InvalidArgumentError("--db <file> is required");
  const store = new ChargerStore(o.db);
  const charger = new ChargingStation({
    endpoint: o.station,
    identity: o.id,
    meter,
    store,
    readingIntervalMs: Number(o.readingInterval),
    log,
    fault: o.fault,
  });
  console.log(`zkcharge charger ${o.id} (meter leaf ${meter.leaf}) connecting to ${o.station}`);
  const stop = (signal: string) => {
    log(`${signal}: stopping (${charger.queued} events stay queued)`);
    setTimeout(() => process.exit(1), 5000).unref();
    charger.close().then(
      () => {
        store.close();
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  await charger.start();
} catch (error) {
  if (error instanceof ZkchargeError || error instanceof InvalidArgumentError) {
    console.error(`zkcharge-charger: error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
