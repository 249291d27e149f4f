/**
 * `ocmf verify <file|->`: OCMF records from calibrated meters checked as transparency software checks them, with
 * what such software shows (meter, readings, times, transactions, pagination, error flags) and a verdict per record.
 * No chain and no state file: it reads the file and the key registry (`--keys`) and nothing else.
 *
 * Exit codes: 0 every record valid, 2 at least one invalid, 3 none invalid but at least one cannot be verified (no
 * key in the registry), 1 the input or the key file cannot be read at all (like every other command's error).
 */
import { readFileSync } from "node:fs";
import { Option, type Command } from "commander";
import {
  verifyOcmf,
  type OcmfReading,
  type OcmfRecordResult,
  type OcmfReport,
  type OcmfTransaction,
} from "../../sdk/index.ts";
import { defineCommand } from "../context.ts";
import { CliError } from "../errors.ts";
import { detail, kwh, say } from "../format.ts";

const HEADING = "OCMF records (no chain, no state file):";

/** Exit codes of `ocmf verify`, also in docs/ocmf.md. */
export const OCMF_EXIT = { invalid: 2, cannotVerify: 3 } as const;

interface VerifyOptions {
  keys?: string;
  lenientSignature?: boolean;
}

const SYNC = { U: "unsynchronised", I: "informative clock", S: "synchronised", R: "relative, lawful duration" };
const FORMAT = {
  records: "OCMF records",
  "json-array": "a JSON array of OCMF records",
  "ocpp-signed-meter-value": "OCPP signedMeterValue",
};
const TX = {
  B: "begin",
  C: "charging",
  X: "error, transaction continues",
  E: "end",
  L: "end (local)",
  R: "end (remote)",
  A: "end (aborted by error)",
  P: "end (power failure)",
  S: "suspended",
  T: "tariff change",
};

/** A file's text, `-` for standard input; a read failure names the file. */
export function readText(path: string, what: string): string {
  try {
    return readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** The `--keys` file: a JSON object from meter identifier (MS, GS, GS/MS or CI) to public key. */
export function readKeys(path: string | undefined): Record<string, string> {
  if (path === undefined) return {};
  let json: unknown;
  try {
    json = JSON.parse(readText(path, "key file"));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`--keys: ${path} is not JSON: ${(error as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new CliError(`--keys: ${path} must be a JSON object from meter identifier to public key`);
  return json as Record<string, string>;
}

function readingLine(n: number, r: OcmfReading): string {
  const tx = r.tx === undefined ? "fiscal" : `${r.tx} ${TX[r.tx]}`;
  const energy =
    r.energy === undefined
      ? "no value (error event)"
      : `${r.energy.text} ${r.energy.unit}` +
        (r.energy.wh === undefined ? " (finer than 1 Wh: no integer Wh)" : ` = ${r.energy.wh} Wh`);
  const extra = [r.ri, r.rt, r.cl === undefined ? undefined : `loss ${r.cl}`].filter((x) => x !== undefined);
  const flags = `ST ${r.st}` + (r.ef === "" ? "" : `, EF ${r.ef}`);
  return `reading ${n}: ${tx}, ${r.time.text} (${SYNC[r.time.sync]}), ${energy}${extra.length ? `, ${extra.join(" ")}` : ""}, ${flags}`;
}

function printRecord(result: OcmfRecordResult): void {
  const v = result.verdict;
  const status = v.status === "cannot-verify" ? `cannot verify: ${v.reason}` : v.status;
  say(`Record ${result.index + 1} (${result.source}): ${status}`);
  const r = result.record;
  if (r) {
    const p = r.payload;
    const named = (parts: (string | undefined)[]): string => parts.filter((x) => x !== undefined).join(" ");
    detail(`meter ${p.MS ?? "-"} (${named([p.MV, p.MM]) || "vendor, model not given"}, firmware ${p.MF ?? "-"})`);
    if (p.GS !== undefined || p.GI !== undefined)
      detail(`gateway ${p.GS ?? "-"} (${named([p.GI, p.GV]) || "not identified"})`);
    detail(
      `pagination ${p.PG}, format ${p.FV ?? "not given"}, signature ${r.signature.SA}` +
        (result.keyId === undefined ? "" : `, key "${result.keyId}" from the registry`),
    );
    if (result.embeddedKeyMatches === false)
      detail("the public key sent along differs from the registry's (the registry's was used)");
    if (p.IS !== undefined)
      detail(
        `user assignment: ${p.IS ? "assigned" : "not assigned"}${p.IL ? ` (${p.IL})` : ""}, ${p.IT}` +
          (p.ID === undefined ? "" : ` ${p.ID}`) +
          (p.IF.length ? ` [${p.IF.join(", ")}]` : "") +
          (p.TT === undefined ? "" : `, tariff "${p.TT}"`),
      );
    if (p.CI !== undefined) detail(`charge point ${p.CT ?? ""} ${p.CI}`.replace("  ", " "));
    p.readings.forEach((reading, i) => detail(readingLine(i + 1, reading)));
  }
  for (const problem of v.problems)
    detail(`${v.status === "invalid" ? "invalid" : "also"}: ${problem.code}: ${problem.message}`);
}

function printTransaction(t: OcmfTransaction): void {
  const first = t.readings[0]!.reading;
  const last = t.readings.at(-1)!.reading;
  const records = t.records.map((i) => i + 1).join(", ");
  detail(
    `meter ${t.signer}: records ${records}, begin ${first.time.text}` +
      (t.complete ? `, end (${last.tx}) ${last.time.text}` : ", NO END") +
      (t.energyWh === undefined ? "" : `, ${kwh(t.energyWh)}`) +
      `, pagination ${t.paginationContinuous ? "continuous" : "BROKEN"}` +
      (t.valid ? "" : ", NOT ESTABLISHED (a record of it is not valid)"),
  );
  for (const { record, reading } of t.readings)
    if (reading.tx === "T") detail(`    tariff change at ${reading.time.text} (record ${record + 1})`);
}

function printReport(report: OcmfReport, path: string): void {
  say(
    `OCMF check of ${path === "-" ? "standard input" : path}: ${report.records.length} record(s) (${FORMAT[report.format]})`,
  );
  report.records.forEach(printRecord);
  if (report.transactions.length > 0) {
    say("Transactions:");
    report.transactions.forEach(printTransaction);
  }
  say(`Verdicts: ${report.valid} valid, ${report.invalid} invalid, ${report.cannotVerify} cannot verify`);
}

/** Declares `ocmf verify` under `root`. */
export function registerOcmfCommands(root: Command): void {
  defineCommand(
    root,
    "ocmf verify",
    "check OCMF records (one per line, a JSON array, or OCPP signedMeterValue JSON) against a key registry",
  )
    .helpGroup(HEADING)
    .argument("<file>", "the records; - reads standard input")
    .addOption(
      new Option(
        "--keys <file>",
        'key registry: JSON {"<meter serial MS, gateway serial GS, GS/MS or CI>": "<public key: hex or base64 DER ' +
          'SPKI, or a hex SEC 1 point>"}; without a key a record cannot be verified',
      ),
    )
    .addOption(
      new Option("--lenient-signature", "also accept a bare r||s signature and DER integers with extra leading zeros"),
    )
    .addHelpText(
      "after",
      "\nExit code: 0 every record valid, 2 at least one invalid, 3 none invalid but some cannot be verified (no key),\n" +
        "1 the file or the key file cannot be read or is no OCMF input at all.",
    )
    .action((path: string, o: VerifyOptions) => {
      const keys = readKeys(o.keys);
      const report = verifyOcmf(readText(path, "file"), keys, { lenientSignature: o.lenientSignature ?? false });
      printReport(report, path);
      const n = report.records.length;
      if (report.invalid > 0) throw new CliError(`${report.invalid} of ${n} record(s) invalid`, OCMF_EXIT.invalid);
      if (report.cannotVerify > 0)
        throw new CliError(`${report.cannotVerify} of ${n} record(s) cannot be verified`, OCMF_EXIT.cannotVerify);
    });
}
