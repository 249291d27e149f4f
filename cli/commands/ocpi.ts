/**
 * OCPI 2.2.1 tariffs (docs/ocpi.md): `tariff import --ocpi <file>` publishes an OCPI Tariff the circuit can price,
 * through `tariff publish`'s path, or refuses it naming the OCPI feature; `tariff price --ocpi <file> --session
 * <file>` prices a session with the OCPI reference pricer, period by period, and says whether zkcharge proves that
 * price today (no chain, no state).
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import {
  checkOcpiProvable,
  formatAmount,
  importOcpiTariff,
  parseOcpiTariff,
  parseSessionReadings,
  type MeterReading,
  type OcpiPrice,
  type PricedDimension,
  type Rational,
} from "../../sdk/index.ts";
import { demoTariff } from "../../dev/localNetwork.ts";
import { defineCommand, runs } from "../context.ts";
import { detail, hhmm, kwh, say, tzText } from "../format.ts";
import { needState } from "../lookup.ts";
import { option, required, utcOffsetArg, wholeArg, type Parse } from "../options.ts";
import { publishTariff } from "./cpo.ts";

const HEADING = "Charge point operator (account 1):";
const MAX_POWER_W = (1n << 24n) - 1n; // the circuit's ratedPower range
const DEFAULT_TZ = demoTariff(0n).tzOffset;

/** A JSON file's parsed content. */
function jsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** An OCPI Tariff file, checked against the OCPI schema (a bad field is named by its JSON path). */
const ocpiFileArg: Parse<unknown> = (path) => {
  const json = jsonFile(path);
  parseOcpiTariff(json);
  return json;
};

/** An OCPI Tariff file zkcharge can price: refused here, before any state or network, naming the OCPI feature. */
const importableOcpiFileArg: Parse<unknown> = (path) => {
  const json = ocpiFileArg(path);
  importOcpiTariff(json, { cpoId: 1n, tzOffset: 0n }); // the time zone changes no refusal
  return json;
};

/** A session file (docs/ocpi.md, "Session input"). */
const sessionFileArg: Parse<MeterReading[]> = (path) => parseSessionReadings(jsonFile(path));

/** Base units (exact) as an amount, floored to a base unit for display. */
const money = (r: Rational): string => formatAmount(r.n / r.d);
/** Seconds as `H:MM:SS` (floored). */
function duration(r: Rational): string {
  const s = r.n / r.d;
  return `${s / 3600n}:${String((s / 60n) % 60n).padStart(2, "0")}:${String(s % 60n).padStart(2, "0")}`;
}

function dimensionLine(d: PricedDimension): string {
  const volume = (v: Rational) => (d.type === "ENERGY" ? kwh(v.n / v.d) : duration(v));
  const unit = d.type === "ENERGY" ? "kWh" : "h";
  const step = d.billed.n * d.volume.d !== d.volume.n * d.billed.d ? ` (billed ${volume(d.billed)}, step_size)` : "";
  const vat = d.vat === null ? "" : `, VAT ${Number(d.vat.n) / Number(d.vat.d)}%`;
  return `${d.type} ${volume(d.volume)}${step} @ ${money(d.price)}/${unit} (elements[${d.element}]${vat}) = ${money(d.costExclVat)}`;
}

function printPrice(p: OcpiPrice, tz: bigint): void {
  const incl = p.totalInclVat === null ? "no VAT given" : `${formatAmount(p.totalInclVat)} incl. VAT`;
  say(`OCPI tariff ${p.tariffId} (${tzText(tz)}): ${formatAmount(p.totalExclVat)} excl. VAT, ${incl}`);
  if (p.flat) detail(`FLAT (elements[${p.flat.element}]) ${money(p.flat.costExclVat)}`);
  for (const period of p.periods) {
    const local = (t: Rational) => hhmm(t.n / t.d + tz);
    detail(
      `${local(period.start)}-${local(period.end)} ${period.charging ? "charging" : "parked"}, ${kwh(period.energyWh.n / period.energyWh.d)} in ${duration(period.durationS)}`,
    );
    const priced = period.dimensions.filter((d) => d.volume.n !== 0n || d.billed.n !== 0n);
    for (const d of priced) detail(`    ${dimensionLine(d)}`);
    if (priced.length === 0) detail("    free (no element prices this period)");
  }
  if (p.minPriceApplied) detail(`min_price applied (before: ${money(p.exact.exclVat)} excl. VAT)`);
  if (p.maxPriceApplied) detail(`max_price applied (before: ${money(p.exact.exclVat)} excl. VAT)`);
  detail(
    `totals: ${kwh(p.energyWh.n / p.energyWh.d)}, charging ${duration(p.chargingS)}, parked ${duration(p.parkingS)}`,
  );
  detail("totals are the exact prices floored to a base unit (0.000001); lines above are floored for display");
}

/** `--tz`: both commands read OCPI restrictions in the Location's local time. */
function tzOption() {
  return option(
    "--tz <offset>",
    "the Location's time zone as a UTC offset (restrictions are local)",
    utcOffsetArg,
  ).default(DEFAULT_TZ, tzText(DEFAULT_TZ).slice(3));
}

/** Registers `tariff import` and `tariff price`. */
export function registerOcpiCommands(root: Command): void {
  runs<{ ocpi: unknown; tz: bigint; validDays: bigint }>(
    defineCommand(
      root,
      "tariff import",
      "publish an OCPI 2.2.1 Tariff (JSON file) as a zkcharge tariff, or refuse it naming the OCPI feature zkcharge cannot price",
    )
      .helpGroup(HEADING)
      .addOption(
        required(option("--ocpi <file>", "the OCPI Tariff object, JSON", importableOcpiFileArg), "tariff.json"),
      )
      .addOption(tzOption())
      .addOption(
        option(
          "--valid-days <n>",
          "validity from now, in days (within the tariff's own dates)",
          wholeArg(36_500n),
        ).default(180n, "180"),
      ),
    async (ctx, maybe, o) => {
      const state = needState(ctx, maybe);
      const imported = importOcpiTariff(o.ocpi, { cpoId: 1n, tzOffset: o.tz });
      const { cpoId: _cpo, validFrom, validTo, ...prices } = imported.tariff;
      say(`OCPI tariff ${imported.ocpiId} imported: zkcharge prices it exactly (VAT ${imported.vat ?? "none"}%)`);
      return publishTariff(ctx, state, prices, o.validDays, { notBefore: validFrom, notAfter: validTo });
    },
  );

  runs<{ ocpi: unknown; session: MeterReading[]; tz: bigint; ratedPowerW: bigint }>(
    defineCommand(
      root,
      "tariff price",
      "price a session under an OCPI 2.2.1 Tariff as OCPI defines it, period by period, and say whether zkcharge proves that price today (no chain needed)",
    )
      .helpGroup(HEADING)
      .addOption(required(option("--ocpi <file>", "the OCPI Tariff object, JSON", ocpiFileArg), "tariff.json"))
      .addOption(
        required(
          option(
            "--session <file>",
            'the metered session, JSON: {"readings": [{"time": "2023-11-15T16:30:00Z", "wh": 0}, ...]} (docs/ocpi.md)',
            sessionFileArg,
          ),
          "session.json",
        ),
      )
      .addOption(tzOption())
      .addOption(
        option("--rated-power-w <W>", "the meter's rated power for the circuit's check", wholeArg(MAX_POWER_W)).default(
          MAX_POWER_W,
          String(MAX_POWER_W),
        ),
      ),
    async (_ctx, _state, o) => {
      const check = checkOcpiProvable(o.ocpi, o.session, { tzOffset: o.tz, ratedPowerW: o.ratedPowerW });
      printPrice(check.reference, o.tz);
      if (check.provable) {
        say(`Provable by zkcharge today: yes (${check.reason})`);
        detail(`zkcharge bill ${formatAmount(check.bill!.amount)} over ${check.chainPoints!.length} chain points`);
        if (check.chainReference!.totalExclVat !== check.reference.totalExclVat)
          detail(
            `the meter's chain points (a whole Wh at each tariff boundary) price it at ${formatAmount(check.chainReference!.totalExclVat)}`,
          );
      } else {
        say(`Provable by zkcharge today: no (${check.reason})`);
      }
      return undefined;
    },
    { reconcile: false },
  );
}
