/**
 * The station's signing gateway: verified OCMF records of one charging transaction, signed by a calibrated meter,
 * turned into the zkcharge chain the gateway's EdDSA-Poseidon key (registered as the meter leaf) signs. Every chain
 * point is an OCMF reading taken as written, never interpolated; a record that does not verify is refused and
 * nothing is signed. The result carries {@link ocmfDigest} of the records used, for binding into the signed chain.
 * docs/ocmf.md, "Gateway". Browser-safe.
 */
import { ZkchargeError } from "../core/errors.ts";
import { ocmfDigest } from "../core/hash.ts";
import { clock, timeOfDay, type Tariff } from "../tariff/tariff.ts";
import type { Meter, MeterSession } from "./meter.ts";
import { OCMF_END_CODES, type OcmfReading, type OcmfRecord } from "./ocmf.ts";
import type { OcmfInputRecord } from "./ocmfInput.ts";
import {
  verifyOcmf,
  type OcmfKeyRegistry,
  type OcmfReport,
  type OcmfTransaction,
  type OcmfVerifyOptions,
} from "./ocmfVerify.ts";
import type { SignedSession } from "./record.ts";

/** The gateway refuses to sign: `reasons` lists every cause found, each naming the record or reading. */
export class OcmfRefusedError extends ZkchargeError {
  /** One line per cause. */
  readonly reasons: readonly string[];

  /** @param reasons why nothing was signed, one cause each */
  constructor(reasons: readonly string[]) {
    super("OCMF_REFUSED", `the gateway refuses to sign: ${reasons.join("; ")}`);
    this.reasons = reasons;
  }
}

/** What {@link signOcmfSession} takes. */
export interface GatewayInput {
  /** The records: a file's text (any format `readOcmfInput` reads), or records as strings or parsed. */
  records: string | readonly (string | OcmfRecord)[];
  /** The CPO's key registry for the calibrated meters (as `verifyOcmf` takes it). */
  keys: OcmfKeyRegistry;
  /** The gateway's EdDSA-Poseidon key, registered as the meter leaf. */
  meter: Meter;
  /** The zkcharge session id (from the station's and the driver's nonces). */
  sessionId: bigint;
  /** The zkcharge tariff fixed at plug-in: its boundaries decide which readings become chain points. */
  tariff: Tariff;
  /** Signature options passed to `verifyOcmf` (strict DER by default). */
  verify?: OcmfVerifyOptions;
}

/** Where a chain point came from. */
export interface GatewayPointSource {
  /** Unix seconds and Wh, as in the chain. */
  readonly t: bigint;
  readonly e: bigint;
  /** The record's input index and source (`line 2`), and the reading's 1-based position in its RD. */
  readonly record: number;
  readonly source: string;
  readonly reading: number;
  /** The reading's TX code and TM as written. */
  readonly tx: string | undefined;
  readonly time: string;
}

/** A session signed by the gateway. */
export interface GatewaySession {
  /** The zkcharge session, signed with the gateway's key: what `provePay` takes. */
  readonly session: SignedSession;
  /** {@link ocmfDigest} of the transaction's records, in input order (signed into the session-end record, checked by the pay and close proofs). */
  readonly ocmfDigest: bigint;
  /** Input indexes of the records the digest covers: every record of the transaction. */
  readonly records: readonly number[];
  /** One entry per chain point, in chain order. */
  readonly points: readonly GatewayPointSource[];
  /** The verification report the decision rests on. */
  readonly report: OcmfReport;
}

/** The unsigned signature section rebuilt for a parsed record (its extensions are unsigned and dropped). */
function recordText(record: OcmfRecord): string {
  const { SA, SE, SM, SD } = record.signature;
  return `OCMF|${record.payloadText}|${JSON.stringify({ SA, SE, SM, SD })}`;
}

function inputOf(records: GatewayInput["records"]): string | OcmfInputRecord[] {
  if (typeof records === "string") return records;
  return records.map((r, i) => ({ source: `[${i}]`, text: typeof r === "string" ? r : recordText(r) }));
}

/** Every record valid, and all of them one complete transaction: otherwise the reasons to refuse. */
function oneTransaction(report: OcmfReport): OcmfTransaction {
  if (report.records.length === 0) throw new OcmfRefusedError(["no OCMF record in the input"]);
  const reasons: string[] = [];
  for (const r of report.records) {
    const v = r.verdict;
    if (v.status === "valid") continue;
    const causes = v.problems.map((p) => `${p.code}: ${p.message}`);
    if (v.status === "cannot-verify") causes.unshift(`cannot verify: ${v.reason}`);
    reasons.push(`${r.source}: ${causes.join(", ")}`);
  }
  if (reasons.length > 0) throw new OcmfRefusedError(reasons);
  const txs = report.transactions;
  if (txs.length === 0) throw new OcmfRefusedError(["no transaction (no begin reading TX B) in the records"]);
  if (txs.length > 1) {
    const list = txs.map((t) => `${t.signer} records ${t.records.map((i) => report.records[i]!.source).join(", ")}`);
    throw new OcmfRefusedError([`records of ${txs.length} transactions mixed (${list.join("; ")}): give one`]);
  }
  const tx = txs[0]!;
  const outside = report.records.filter((r) => !tx.records.includes(r.index)).map((r) => r.source);
  if (outside.length > 0)
    throw new OcmfRefusedError([`${outside.join(", ")}: not part of the transaction (no reading with a TX code)`]);
  if (!tx.complete || !tx.paginationContinuous || !tx.valid)
    throw new OcmfRefusedError(["the transaction is not complete, continuous and valid"]);
  return tx;
}

type Entry = OcmfTransaction["readings"][number];

/** A reading as a chain point, or the reason it cannot be one. */
function pointOf(report: OcmfReport, entry: Entry): GatewayPointSource {
  const result = report.records[entry.record]!;
  const r: OcmfReading = entry.reading;
  const n = result.record!.payload.readings.indexOf(r) + 1;
  const where = `${result.source} reading ${n} (TX ${r.tx ?? "none"}, ${r.time.text})`;
  if (r.energy === undefined) throw new OcmfRefusedError([`${where}: no register value RV, cannot be a chain point`]);
  if (r.energy.wh === undefined)
    throw new OcmfRefusedError([
      `${where}: RV ${r.energy.text} ${r.energy.unit} is not a whole number of Wh; zkcharge bills integer Wh and never rounds a calibrated reading`,
    ]);
  // The tariff prices by local time of day: only an absolute, synchronised time places a reading in its band.
  if (r.time.sync !== "S")
    throw new OcmfRefusedError([`${where}: time state ${r.time.sync} is not synchronised (S); cannot price by it`]);
  if (r.time.unixMs % 1000 !== 0)
    throw new OcmfRefusedError([
      `${where}: the chain counts whole seconds and the gateway does not round a calibrated time (it would move the bill)`,
    ]);
  return {
    t: BigInt(r.time.unixMs / 1000),
    e: r.energy.wh,
    record: entry.record,
    source: result.source,
    reading: n,
    tx: r.tx,
    time: r.time.text,
  };
}

function boundaryText(t: bigint, tariff: Tariff): string {
  return `${new Date(Number(t) * 1000).toISOString()} (${clock(timeOfDay(t, tariff))} local)`;
}

/**
 * Verifies OCMF records and signs the one transaction they hold as a zkcharge session: the begin reading starts
 * the chain, each tariff boundary (band start or local midnight) takes the transaction's reading at exactly that
 * instant (a tariff-change reading TX T first), the end reading ends it; readings in between are skipped.
 * @throws OcmfRefusedError when a record is not valid (its verdict's reasons), the records are not exactly one
 *   complete transaction, a needed boundary reading is missing (naming the boundary), a TX T reading is not at a
 *   zkcharge tariff boundary, a chain point reading is sub-Wh, sub-second or not synchronised, or the meter refuses
 *   the readings (tariff of another CPO or not valid at the begin, power above the rating, too many points)
 */
export function signOcmfSession(input: GatewayInput): GatewaySession {
  const { meter, tariff } = input;
  const report = verifyOcmf(inputOf(input.records), input.keys, input.verify);
  const tx = oneTransaction(report);
  const readings = tx.readings;
  const begin = pointOf(report, readings[0]!);
  const endEntry = readings.at(-1)!;
  if (readings[0]!.reading.tx !== "B" || !OCMF_END_CODES.includes(endEntry.reading.tx!))
    throw new OcmfRefusedError(["the transaction does not run from a begin (B) to an end reading"]);
  const end = pointOf(report, endEntry);
  const points = [begin];
  let live: MeterSession;
  try {
    live = meter.startSession({ sessionId: input.sessionId, tariff, t: begin.t, e: begin.e });
  } catch (error) {
    if (error instanceof ZkchargeError) throw new OcmfRefusedError([`begin ${begin.time}: ${error.message}`]);
    throw error;
  }
  // Where a tariff change may stand: at a boundary, at the end's boundary, or at the begin (the whole session follows).
  const boundaries = new Set<bigint>([begin.t]);
  try {
    for (let b = live.nextBoundary; b < end.t; b = live.nextBoundary) {
      boundaries.add(b);
      const there = readings.filter((x) => x.reading.time.unixMs === Number(b) * 1000);
      const pick = there.find((x) => x.reading.tx === "T") ?? there[0];
      if (!pick)
        throw new OcmfRefusedError([
          `no OCMF reading at the tariff boundary ${boundaryText(b, tariff)}: the gateway never interpolates a reading`,
        ]);
      const p = pointOf(report, pick);
      live.addReading(p.t, p.e);
      points.push(p);
    }
    boundaries.add(live.nextBoundary);
    const stray = readings.find(
      (x) =>
        x.reading.tx === "T" &&
        (x.reading.time.unixMs % 1000 !== 0 || !boundaries.has(BigInt(x.reading.time.unixMs / 1000))),
    );
    if (stray)
      throw new OcmfRefusedError([
        `tariff change (TX T) at ${stray.reading.time.text} is not a boundary of the zkcharge tariff: the two bills would diverge`,
      ]);
    const encoder = new TextEncoder();
    const digest = ocmfDigest(tx.records.map((i) => encoder.encode(report.records[i]!.record!.payloadText)));
    // The digest goes into the signed session-end record, which the pay and close proofs check.
    const session = live.end(end.t, end.e, digest);
    if (session.n > points.length) points.push(end);
    return { session, ocmfDigest: digest, records: tx.records, points, report };
  } catch (error) {
    if (error instanceof OcmfRefusedError || !(error instanceof ZkchargeError)) throw error;
    throw new OcmfRefusedError([`the meter refuses the transaction's readings: ${error.message}`]);
  }
}
