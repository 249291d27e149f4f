/**
 * OCMF records read exactly as the Open Charge Metering Format specifies (SAFE e.V., OCMF 1.3, file OCMF-en.md of
 * github.com/SAFE-eV/OCMF-Open-Charge-Metering-Format; sections and tables cited as "OCMF <section>" / "Table n").
 *
 * A record is `OCMF|<payload data section>|<signature section>`; the signed bytes are the payload section's text as
 * written (UTF-8), never a re-serialisation. Every field is checked against its table (type, cardinality, the values
 * the spec lists); a rule broken is an {@link OcmfEncodingError} naming the field. Fields without a default in the
 * spec stay `undefined` when absent. Browser-safe. Signatures and verdicts: ocmfVerify.ts.
 */
import { JsonNumber, parseExactJson, type ExactJson } from "./exactJson.ts";
import { OCMF_DEFAULT_ALGORITHM, OcmfEncodingError, isOcmfAlgorithm, type OcmfAlgorithm } from "./ocmfCrypto.ts";

/** TX, the reading's reason (Table 7). */
export type OcmfTransactionCode = "B" | "C" | "X" | "E" | "L" | "R" | "A" | "P" | "S" | "T";
/** TX codes that end a transaction: E and its more precise forms L, R, A, P (Table 7). */
export const OCMF_END_CODES: readonly OcmfTransactionCode[] = ["E", "L", "R", "A", "P"];
/** ST, the meter's state (Table 10); only G is a meter working correctly. */
export type OcmfMeterState = "N" | "G" | "T" | "D" | "R" | "M" | "X" | "I" | "O" | "S" | "E" | "F";
/** TM's synchronisation state (Table 19): Unknown/unsynchronised, Informative, Synchronised, Relative. */
export type OcmfTimeSync = "U" | "I" | "S" | "R";

const TX_CODES = ["B", "C", "X", "E", "L", "R", "A", "P", "S", "T"] as const;
const METER_STATES = ["N", "G", "T", "D", "R", "M", "X", "I", "O", "S", "E", "F"] as const;
/** Table 11. */
const IDENTIFICATION_LEVELS = [
  "NONE",
  "HEARSAY",
  "TRUSTED",
  "VERIFIED",
  "CERTIFIED",
  "SECURE",
  "MISMATCH",
  "INVALID",
  "OUTDATED",
  "UNKNOWN",
];
/** Tables 13 to 16. */
const IDENTIFICATION_FLAGS = [
  ...["RFID_NONE", "RFID_PLAIN", "RFID_RELATED", "RFID_PSK"],
  ...["OCPP_NONE", "OCPP_RS", "OCPP_AUTH", "OCPP_RS_TLS", "OCPP_AUTH_TLS", "OCPP_CACHE", "OCPP_WHITELIST"],
  "OCPP_CERTIFIED",
  ...["ISO15118_NONE", "ISO15118_PNC", "PLMN_NONE", "PLMN_RING", "PLMN_SMS"],
];
/** Table 17. */
const IDENTIFICATION_TYPES = [
  ...["NONE", "DENIED", "UNDEFINED", "ISO14443", "ISO15693", "EMAID", "EVCCID", "EVCOID", "ISO7812", "CARD_TXN_NR"],
  ...["CENTRAL", "CENTRAL_1", "CENTRAL_2", "LOCAL", "LOCAL_1", "LOCAL_2", "PHONE_NUMBER", "KEY_CODE"],
];
/** Table 18. */
const CHARGE_POINT_TYPES = ["EVSEID", "CBIDC"];

/** TM (Table 7): the reading's time as written and what it means. */
export interface OcmfTime {
  /** The text as written, e.g. `2018-07-24T13:22:04,000+0200 S`. */
  readonly text: string;
  /** Milliseconds since the Unix epoch (UTC). */
  readonly unixMs: number;
  /** The written offset from UTC in minutes (+0200 is 120). */
  readonly offsetMinutes: number;
  /** The synchronisation state (Table 19). */
  readonly sync: OcmfTimeSync;
}

/** RV with RU (Table 7): the value exactly as written and, where exact, as integer Wh. */
export interface OcmfEnergy {
  /** RV's number text as written, e.g. `2935.60`: its digits are the meter's stated precision. */
  readonly text: string;
  /** RU: kWh or Wh (Table 20). */
  readonly unit: "kWh" | "Wh";
  /** The value is `digits * 10^exponent` of `unit`, exactly. */
  readonly digits: bigint;
  readonly exponent: number;
  /**
   * The value in Wh when it is a whole number of Wh; undefined when it has a non-zero fraction of a Wh (zkcharge
   * bills integer Wh and never rounds a calibrated reading: see docs/ocmf.md, "Rounding").
   */
  readonly wh: bigint | undefined;
}

/** One reading of RD (Table 7) after inheritance: the fields it wrote, and the ones it took from the reading before. */
export interface OcmfReading {
  readonly time: OcmfTime;
  /** TX; undefined when the record has no transaction reference (fiscal metering). */
  readonly tx: OcmfTransactionCode | undefined;
  /** RV and RU; undefined for a reading that only signals an error event (RV omitted, Table 7). */
  readonly energy: OcmfEnergy | undefined;
  /** RI, the OBIS code of the quantity read, e.g. `1-b:1.8.0`. */
  readonly ri: string | undefined;
  /** RT: AC or DC (Table 21); no default. */
  readonly rt: "AC" | "DC" | undefined;
  /** CL, cumulated cable loss in RU, as written (OCMF 1.2, Table 7). */
  readonly cl: string | undefined;
  /** EF: the quantities no longer usable for billing, `E` energy and `t` time; "" when absent. */
  readonly ef: string;
  /** ST (Table 10). */
  readonly st: OcmfMeterState;
  /** Names of the fields this reading took from the reading before it (OCMF "Readings"). */
  readonly inherited: readonly string[];
}

/** The payload data section (Tables 1 to 7), every field checked. */
export interface OcmfPayload {
  /** Table 1: format version, gateway identification, serial, version. */
  readonly FV?: string;
  readonly GI?: string;
  readonly GS?: string;
  readonly GV?: string;
  /** Table 2: PG as written, e.g. `T12345`, and its parts. */
  readonly PG: string;
  readonly pagination: { readonly context: "T" | "F"; readonly counter: number };
  /** Table 3: meter vendor, model, serial, firmware. */
  readonly MV?: string;
  readonly MM?: string;
  readonly MS?: string;
  readonly MF?: string;
  /** Table 4: user assignment, present exactly when the record has a transaction reference. */
  readonly IS?: boolean;
  readonly IL?: string;
  /** IF: identification flags (tables 13 to 16); `[]` when absent. */
  readonly IF: readonly string[];
  readonly IT?: string;
  readonly ID?: string;
  readonly TT?: string;
  /** Table 5: charge controller firmware, cable loss compensation (kept as written). */
  readonly CF?: string;
  readonly LC?: ExactJson;
  /** Table 6: charge point identification type and identification. */
  readonly CT?: string;
  readonly CI?: string;
  /** RD, one or more readings. */
  readonly readings: readonly OcmfReading[];
  /** Top-level names starting with U to Z, reserved for vendors (OCMF "Extension Points in Payload Data Section"). */
  readonly extensions: Readonly<Record<string, ExactJson>>;
}

/** The signature section (Table 8) with the defaults the spec gives. */
export interface OcmfSignature {
  /** SA; default ECDSA-secp256r1-SHA256 (Table 22). */
  readonly SA: OcmfAlgorithm;
  /** SE; default hex. */
  readonly SE: "hex" | "base64";
  /** SM; default application/x-der, the only value defined. */
  readonly SM: "application/x-der";
  /** SD, the signature data as written. */
  readonly SD: string;
  /** Names starting with U to Z (vendors) or A to F (later processing), unsigned by definition. */
  readonly extensions: Readonly<Record<string, ExactJson>>;
}

/** One OCMF record, parsed. */
export interface OcmfRecord {
  /** The payload section exactly as written: what the meter signed (as UTF-8). */
  readonly payloadText: string;
  readonly payload: OcmfPayload;
  readonly signature: OcmfSignature;
}

type JsonObject = { [name: string]: ExactJson };

function isObject(v: ExactJson | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);
}

/** Field readers that name the field and its table in errors. */
class Fields {
  private readonly seen = new Set<string>();

  constructor(
    private readonly obj: JsonObject,
    private readonly where: string,
  ) {}

  has(name: string): boolean {
    return Object.hasOwn(this.obj, name);
  }

  private take(name: string): ExactJson | undefined {
    this.seen.add(name);
    return this.obj[name];
  }

  fail(name: string, message: string): never {
    throw new OcmfEncodingError(`${this.where} ${name}: ${message}`);
  }

  string(name: string, allowed?: readonly string[]): string | undefined {
    const v = this.take(name);
    if (v === undefined) return undefined;
    if (typeof v !== "string") this.fail(name, "must be a string");
    if (allowed && !allowed.includes(v)) this.fail(name, `"${v}" is not one of ${allowed.join(", ")}`);
    return v;
  }

  requiredString(name: string, allowed?: readonly string[]): string {
    return this.string(name, allowed) ?? this.fail(name, "is missing (cardinality 1..1)");
  }

  boolean(name: string): boolean | undefined {
    const v = this.take(name);
    if (v !== undefined && typeof v !== "boolean") this.fail(name, "must be true or false");
    return v as boolean | undefined;
  }

  number(name: string): string | undefined {
    const v = this.take(name);
    if (v === undefined) return undefined;
    if (!(v instanceof JsonNumber)) this.fail(name, "must be a JSON number");
    return v.text;
  }

  raw(name: string): ExactJson | undefined {
    return this.take(name);
  }

  /** Names not read by now: the vendor ones (`reserved` initial letters) kept, anything else refused. */
  rest(reserved: RegExp): Record<string, ExactJson> {
    const out: Record<string, ExactJson> = {};
    for (const name of Object.keys(this.obj)) {
      if (this.seen.has(name)) continue;
      if (!reserved.test(name)) this.fail(name, "is not an OCMF 1.3 field nor in a reserved extension range");
      out[name] = this.obj[name]!;
    }
    return out;
  }
}

/**
 * Splits and parses one OCMF record.
 * @param text `OCMF|{...}|{...}`; white space around the whole record is ignored, inside the payload it is signed
 * @throws OcmfEncodingError naming the section and field that break the spec
 */
export function parseOcmf(text: string): OcmfRecord {
  const record = text.trim();
  // OCMF "Sections" and "Header": the header is the string OCMF; "|" separates sections and may not occur in them.
  const first = record.indexOf("|");
  const last = record.lastIndexOf("|");
  if (first < 0 || record.slice(0, first) !== "OCMF")
    throw new OcmfEncodingError('record: does not start with the header "OCMF|"');
  if (last === first) throw new OcmfEncodingError("record: no signature section (expected OCMF|<payload>|<signature>)");
  const payloadText = record.slice(first + 1, last);
  if (payloadText.includes("|"))
    throw new OcmfEncodingError('record: more than three sections ("|" is not allowed inside a section)');
  const payloadJson = parseExactJson(payloadText, "payload section");
  const signatureJson = parseExactJson(record.slice(last + 1), "signature section");
  if (!isObject(payloadJson)) throw new OcmfEncodingError("payload section: must be a JSON object");
  if (!isObject(signatureJson)) throw new OcmfEncodingError("signature section: must be a JSON object");
  return { payloadText, payload: parsePayload(payloadJson), signature: parseSignature(signatureJson) };
}

function parsePayload(obj: JsonObject): OcmfPayload {
  const f = new Fields(obj, "payload");
  const general = { FV: f.string("FV"), GI: f.string("GI"), GS: f.string("GS"), GV: f.string("GV") };
  // Table 2: an indicator letter and a number without leading zeros.
  const PG = f.requiredString("PG");
  const pg = /^([TF])(0|[1-9]\d*)$/.exec(PG);
  if (!pg || !Number.isSafeInteger(Number(pg[2])))
    f.fail("PG", `"${PG}" is not T or F followed by a number without leading zeros`);
  const meter = { MV: f.string("MV"), MM: f.string("MM"), MS: f.string("MS"), MF: f.string("MF") };
  // Table 3 marks MS 1..1, but "Meter Identification" makes it optional when the gateway is identified: one of the
  // two serials is mandatory (revision 0.4: "serial number mandatory for either gateway or meter").
  if (meter.MS === undefined && general.GS === undefined)
    f.fail("MS", "is missing, and so is GS: one serial is needed");
  const IS = f.boolean("IS");
  const IL = f.string("IL", IDENTIFICATION_LEVELS);
  const flags = f.raw("IF");
  if (flags !== undefined && (!Array.isArray(flags) || flags.some((x) => typeof x !== "string")))
    f.fail("IF", "must be an array of strings (also for one or no flag)");
  const IF = (flags ?? []) as string[];
  if (IF.length > 4) f.fail("IF", `has ${IF.length} flags, at most 4`);
  for (const flag of IF) if (!IDENTIFICATION_FLAGS.includes(flag)) f.fail("IF", `"${flag}" is in none of tables 13-16`);
  const IT = f.string("IT", IDENTIFICATION_TYPES);
  const user = { IS, IL, IF, IT, ID: f.string("ID"), TT: f.string("TT") };
  if (user.TT !== undefined && user.TT.length > 250) f.fail("TT", "is longer than 250 characters");
  const CF = f.string("CF");
  if (CF !== undefined && CF.length > 25) f.fail("CF", "is longer than 25 characters");
  const LC = f.raw("LC");
  if (LC !== undefined && !isObject(LC)) f.fail("LC", "must be an object (Table 24)");
  const chargePoint = { CT: f.string("CT", CHARGE_POINT_TYPES), CI: f.string("CI") };
  const rd = f.raw("RD");
  if (!Array.isArray(rd) || rd.length === 0) f.fail("RD", "must be an array of one or more readings");
  const readings = parseReadings(rd as ExactJson[]);
  // Table 4: the user assignment fields are there exactly when there is a transaction reference (TX).
  const hasTransaction = readings.some((r) => r.tx !== undefined);
  if (hasTransaction && IS === undefined) f.fail("IS", "is missing, but the readings have a transaction reference");
  if (hasTransaction && IT === undefined) f.fail("IT", "is missing, but the readings have a transaction reference");
  // Table 2: the F context counts readings independent of transactions; Table 7: TX is missing for those.
  if (hasTransaction && pg![1] === "F") f.fail("PG", `"${PG}" is the fiscal context, but a reading has TX`);
  if (!hasTransaction && (IS !== undefined || IT !== undefined))
    f.fail(IS !== undefined ? "IS" : "IT", "is present, but no reading has a transaction reference (TX)");
  const extensions = f.rest(/^[U-Z]/);
  return {
    ...general,
    PG,
    pagination: { context: pg![1] as "T" | "F", counter: Number(pg![2]) },
    ...meter,
    ...user,
    CF,
    LC,
    ...chargePoint,
    readings,
    extensions,
  };
}

/** OCMF "Readings": a field omitted in a reading has the value it had in the reading before, within one record. */
function parseReadings(rd: ExactJson[]): OcmfReading[] {
  const out: OcmfReading[] = [];
  let previous: JsonObject = Object.create(null);
  rd.forEach((item, i) => {
    const where = `payload RD[${i}]`;
    if (!isObject(item)) throw new OcmfEncodingError(`${where}: must be an object`);
    const own = new Fields(item, where);
    const inherited = Object.keys(previous).filter((name) => !own.has(name));
    const merged: JsonObject = Object.assign(Object.create(null), previous, item);
    const f = new Fields(merged, where);
    const tm = f.requiredString("TM");
    const tx = f.string("TX", TX_CODES) as OcmfTransactionCode | undefined;
    const rv = f.number("RV");
    const ru = f.string("RU");
    const ri = f.string("RI");
    const rt = f.string("RT", ["AC", "DC"]) as "AC" | "DC" | undefined;
    const cl = f.number("CL");
    const ef = f.string("EF") ?? "";
    if (!/^[Et]*$/.test(ef) || new Set(ef).size !== ef.length)
      f.fail("EF", `"${ef}" is not a set of the letters E (energy) and t (time)`);
    const st = f.requiredString("ST", METER_STATES) as OcmfMeterState;
    f.rest(/^$/);
    if (rv !== undefined && ru === undefined) f.fail("RU", "is missing (1..1 with RV)");
    if (ru !== undefined && ru !== "kWh" && ru !== "Wh")
      f.fail("RU", `"${ru}" is not an energy unit of Table 20 (kWh, Wh)`);
    out.push({
      time: parseOcmfTime(tm, `${where} TM`),
      tx,
      energy: rv === undefined ? undefined : parseOcmfEnergy(rv, ru as "kWh" | "Wh", `${where} RV`),
      ri,
      rt,
      cl,
      ef,
      st,
      inherited,
    });
    previous = merged;
  });
  return out;
}

function parseSignature(obj: JsonObject): OcmfSignature {
  const f = new Fields(obj, "signature");
  const sa = f.string("SA") ?? OCMF_DEFAULT_ALGORITHM;
  if (!isOcmfAlgorithm(sa)) f.fail("SA", `"${sa}" is none of the algorithms of Table 22`);
  const SE = (f.string("SE", ["hex", "base64"]) ?? "hex") as "hex" | "base64";
  const SM = (f.string("SM", ["application/x-der"]) ?? "application/x-der") as "application/x-der";
  const SD = f.requiredString("SD");
  // OCMF "Extension Points in Signature Section": U-Z for vendors, A-F for later processing.
  return { SA: sa as OcmfAlgorithm, SE, SM, SD, extensions: f.rest(/^[U-ZA-F]/) };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * TM (Table 7): `YYYY-MM-DDThh:mm:ss,fff±hhmm S`, milliseconds with three digits after a comma, the offset as a sign
 * and four digits, then a space and the synchronisation state of Table 19.
 * @throws OcmfEncodingError when the text is not that, or names no real time (month 13, 30 February, offset +2500)
 */
export function parseOcmfTime(text: string, where = "TM"): OcmfTime {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2}),(\d{3})([+-])(\d{2})(\d{2}) ([UISR])$/.exec(text);
  if (!m) throw new OcmfEncodingError(`${where}: "${text}" is not YYYY-MM-DDThh:mm:ss,fff+hhmm and a state U/I/S/R`);
  const [year, month, day, hour, minute, second, ms, , oh, om] = m.slice(1).map(Number) as number[];
  const leap = year! % 4 === 0 && (year! % 100 !== 0 || year! % 400 === 0);
  const monthDays = month === 2 && leap ? 29 : DAYS_IN_MONTH[month! - 1];
  if (monthDays === undefined || day! < 1 || day! > monthDays || hour! > 23 || minute! > 59 || second! > 59)
    throw new OcmfEncodingError(`${where}: "${text}" is not a valid date and time`);
  if (oh! > 14 || om! > 59) throw new OcmfEncodingError(`${where}: "${text}" has an offset beyond ±14:59`);
  const offsetMinutes = (m[8] === "-" ? -1 : 1) * (oh! * 60 + om!);
  const unixMs = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!, ms!) - offsetMinutes * 60_000;
  return { text, unixMs, offsetMinutes, sync: m[11] as OcmfTimeSync };
}

/** Wh beyond this many decimal digits is no meter's register: refused rather than expanded (`1e999999` kWh). */
const MAX_WH_DIGITS = 30;

/**
 * RV with its unit as an exact decimal, and in Wh when exact. The number text is RFC 8259's (no sign is allowed:
 * registers do not run below zero). Rounding rule: none; a value with a non-zero fraction of a Wh keeps `wh`
 * undefined (see docs/ocmf.md).
 * @throws OcmfEncodingError for a negative value or one of more than {@link MAX_WH_DIGITS} digits of Wh
 */
export function parseOcmfEnergy(text: string, unit: "kWh" | "Wh", where = "RV"): OcmfEnergy {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) throw new OcmfEncodingError(`${where}: "${text}" is not a JSON number`);
  if (m[1]) throw new OcmfEncodingError(`${where}: ${text} is negative; a register reading cannot be`);
  const fraction = m[3] ?? "";
  const digits = BigInt(m[2]! + fraction);
  const written = Number(m[4] ?? "0");
  if (!Number.isSafeInteger(written)) throw new OcmfEncodingError(`${where}: exponent of ${text} out of range`);
  let exponent = written - fraction.length;
  if (digits === 0n) exponent = 0;
  // Normalise trailing zeros into the exponent so that 2935.60 kWh and 2935.6 kWh are the same Wh.
  let d = digits;
  let e = exponent + (unit === "kWh" ? 3 : 0);
  while (d !== 0n && d % 10n === 0n) {
    d /= 10n;
    e++;
  }
  if (d !== 0n && d.toString().length + e > MAX_WH_DIGITS)
    throw new OcmfEncodingError(`${where}: ${text} ${unit} has more than ${MAX_WH_DIGITS} digits of Wh`);
  const wh = e >= 0 ? d * 10n ** BigInt(e) : undefined;
  return { text, unit, digits, exponent, wh };
}
