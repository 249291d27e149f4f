/**
 * OCMF records checked as transparency software checks them (OCMF 1.3, "Signing and Verification Process"): each
 * record's signature under the key a registry holds for its meter, and the records of one transaction together:
 * continuous pagination, a begin and an end, no error condition, one source. Every record gets a verdict: valid,
 * invalid with its reasons, or cannot verify (no key). A key inside the input (OCPP `publicKey`) is never used:
 * "the public key is verified via a separate transmission path" (same section). Browser-safe.
 */
import { InvalidInputError } from "../core/errors.ts";
import { OCMF_END_CODES, parseOcmf, type OcmfReading, type OcmfRecord } from "./ocmf.ts";
import { readOcmfInput, type OcmfInputFormat, type OcmfInputRecord } from "./ocmfInput.ts";
import {
  OcmfEncodingError,
  base64ToBytes,
  decodePublicKey,
  hexToBytes,
  isOcmfAlgorithm,
  verifyEcdsa,
  type DecodedPublicKey,
  type SignatureOptions,
} from "./ocmfCrypto.ts";

/** Why a record is not valid. */
export type OcmfProblemCode =
  /** The record (or its OCPP envelope, key or signature bytes) breaks the format. */
  | "bad-encoding"
  /** The signature does not verify under the registry's key. */
  | "bad-signature"
  /** The T-context PG counter of the transaction's records does not count up by one (a record missing or added). */
  | "broken-pagination"
  /** EF names a quantity no longer usable, ST is not G (OK), or TX is X (error during charging). */
  | "error-flag"
  /** A reading that prices the session (begin, tariff change, end) has time state U or I (Table 19). */
  | "unsynchronised-time"
  /** A begin without an end, an end or tariff change without a begin, a second begin before the end. */
  | "unpaired-transaction"
  /** Within a transaction, time runs backwards or the register decreases. */
  | "not-monotonic";

/** One reason, for machines (`code`) and people (`message`, naming the reading or record). */
export interface OcmfProblem {
  readonly code: OcmfProblemCode;
  readonly message: string;
}

/**
 * A record's verdict. `problems` lists everything found, also for `cannot-verify` (where nothing is established:
 * without the signature the data may say anything).
 */
export type OcmfVerdict =
  | { readonly status: "valid"; readonly problems: readonly [] }
  | { readonly status: "invalid"; readonly problems: readonly OcmfProblem[] }
  | { readonly status: "cannot-verify"; readonly reason: string; readonly problems: readonly OcmfProblem[] };

/** One record's result. */
export interface OcmfRecordResult {
  /** Position in the input, 0-based, and where it came from (`line 3`, `signedMeterValue[1]`). */
  readonly index: number;
  readonly source: string;
  /** The parsed record; undefined when it could not be parsed (then the verdict says why). */
  readonly record: OcmfRecord | undefined;
  /** The registry identifier whose key was used; undefined when none matched. */
  readonly keyId: string | undefined;
  /** Whether an OCPP `publicKey` sent along equals the registry's key (undefined if either is missing). */
  readonly embeddedKeyMatches: boolean | undefined;
  readonly verdict: OcmfVerdict;
}

/** A transaction as the records tell it: a begin, readings, an end, on one meter. */
export interface OcmfTransaction {
  /** The signer's identity (`GS/MS`), the same for every record of the transaction. */
  readonly signer: string;
  /** Indexes of its records, in input order. */
  readonly records: readonly number[];
  /** Its readings, in order, with the record index each came from. */
  readonly readings: readonly { readonly record: number; readonly reading: OcmfReading }[];
  /** Whether it has a begin and an end. */
  readonly complete: boolean;
  /** Whether the T-context PG counters count up by one from record to record. */
  readonly paginationContinuous: boolean;
  /** End register minus begin register in Wh, when both are exact and the transaction is complete. */
  readonly energyWh: bigint | undefined;
  /** Whether every one of its records is valid: only then is the transaction established. */
  readonly valid: boolean;
}

/** Everything a check found. */
export interface OcmfReport {
  readonly format: OcmfInputFormat;
  readonly records: readonly OcmfRecordResult[];
  readonly transactions: readonly OcmfTransaction[];
  /** Counts of the verdicts. */
  readonly valid: number;
  readonly invalid: number;
  readonly cannotVerify: number;
}

/**
 * The CPO's published keys: identifier to public key (hex or base64 DER SubjectPublicKeyInfo, or a raw SEC 1 point
 * as hex). Identifiers are looked up per record in this order (OCMF "Relation of Serial Numbers, Charge Point and
 * Public Key"): `GS/MS` (a gateway serving several meters), MS (the meter's serial), GS (the gateway's), CI (the
 * charge point's identification).
 */
export type OcmfKeyRegistry = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

/** Options of {@link verifyOcmf}. */
export type OcmfVerifyOptions = SignatureOptions;

/** A registry's keys decoded once; a key that does not decode is refused up front, naming its identifier. */
function decodeRegistry(keys: OcmfKeyRegistry): Map<string, { text: string; key: DecodedPublicKey }> {
  const entries = keys instanceof Map ? [...keys.entries()] : Object.entries(keys);
  const out = new Map<string, { text: string; key: DecodedPublicKey }>();
  for (const [id, text] of entries) {
    if (typeof text !== "string") throw new InvalidInputError(`key registry: "${id}" is not a key string`);
    try {
      out.set(id, { text, key: decodePublicKey(text) });
    } catch (error) {
      throw new InvalidInputError(`key registry: "${id}": ${(error as Error).message}`);
    }
  }
  return out;
}

/** The identifiers a record's key may be registered under, most specific first. */
export function ocmfKeyIds(record: OcmfRecord): string[] {
  const { GS, MS, CI } = record.payload;
  return [GS !== undefined && MS !== undefined ? `${GS}/${MS}` : undefined, MS, GS, CI].filter(
    (x): x is string => x !== undefined,
  );
}

/** The signer a record names: gateway and meter serial (OCMF: "all data records must come from the same source"). */
function signerOf(record: OcmfRecord): string {
  return `${record.payload.GS ?? ""}/${record.payload.MS ?? ""}`;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** TX codes at which the session's price is fixed: its begin, a tariff change, its end (OCMF "Embedding in OCPP"). */
const PRICING_CODES = new Set(["B", "T", ...OCMF_END_CODES]);

const METER_STATE_NAMES: Record<string, string> = {
  N: "NOT_PRESENT",
  T: "TIMEOUT",
  D: "DISCONNECTED",
  R: "NOT_FOUND",
  M: "MANIPULATED",
  X: "EXCHANGED",
  I: "INCOMPATIBLE",
  O: "OUT_OF_RANGE",
  S: "SUBSTITUTE",
  E: "OTHER_ERROR",
  F: "READ_ERROR",
};

/** Problems one record shows by itself: error conditions and unsynchronised pricing times. */
function readingProblems(record: OcmfRecord): OcmfProblem[] {
  const out: OcmfProblem[] = [];
  record.payload.readings.forEach((r, i) => {
    // OCMF "Signing and Verification Process": "intermediate error conditions ... must lead to an error".
    if (r.ef !== "") {
      const what = [...r.ef].map((c) => (c === "E" ? "energy" : "time")).join(" and ");
      out.push({ code: "error-flag", message: `reading ${i + 1}: EF "${r.ef}": ${what} no longer usable for billing` });
    }
    if (r.st !== "G")
      out.push({
        code: "error-flag",
        message: `reading ${i + 1}: meter state ST ${r.st} (${METER_STATE_NAMES[r.st]})`,
      });
    if (r.tx === "X")
      out.push({ code: "error-flag", message: `reading ${i + 1}: TX X, error during charging (Table 7)` });
    if (r.tx !== undefined && PRICING_CODES.has(r.tx) && (r.time.sync === "U" || r.time.sync === "I")) {
      const state = r.time.sync === "U" ? "unknown, unsynchronised" : "informative (info clock)";
      out.push({
        code: "unsynchronised-time",
        message: `reading ${i + 1} (TX ${r.tx}) prices the session at a time that is ${state}: ${r.time.text}`,
      });
    }
  });
  return out;
}

interface Parsed {
  readonly index: number;
  readonly input: OcmfInputRecord;
  readonly record: OcmfRecord | undefined;
  readonly problems: OcmfProblem[];
}

/** Walks each signer's T-context records in input order and pairs begins with ends (OCMF Table 2 and Table 7). */
function pairTransactions(parsed: readonly Parsed[]): Omit<OcmfTransaction, "valid">[] {
  const bySigner = new Map<string, Parsed[]>();
  for (const p of parsed) {
    if (!p.record || p.record.payload.pagination.context !== "T") continue;
    if (!p.record.payload.readings.some((r) => r.tx !== undefined)) continue;
    const signer = signerOf(p.record);
    const list = bySigner.get(signer);
    if (list) list.push(p);
    else bySigner.set(signer, [p]);
  }
  const out: Omit<OcmfTransaction, "valid">[] = [];
  for (const [signer, records] of bySigner) {
    let open: { members: Parsed[]; readings: OcmfTransaction["readings"][number][]; continuous: boolean } | undefined;
    const close = (complete: boolean): void => {
      if (!open) return;
      const { members, readings } = open;
      const begin = readings[0]!.reading.energy?.wh;
      const end = readings.at(-1)!.reading.energy?.wh;
      out.push({
        signer,
        records: members.map((p) => p.index),
        readings,
        complete,
        paginationContinuous: open.continuous,
        energyWh: complete && begin !== undefined && end !== undefined ? end - begin : undefined,
      });
      if (!complete) {
        members[0]!.problems.push({
          code: "unpaired-transaction",
          message: `the transaction begun here (${members[0]!.record!.payload.PG}) has no end record`,
        });
      }
      open = undefined;
    };
    for (const p of records) {
      const payload = p.record!.payload;
      let previous: OcmfReading | undefined = open?.readings.at(-1)?.reading;
      if (open && payload.readings[0]!.tx !== "B") {
        const last = open.members.at(-1)!.record!.payload.pagination.counter;
        if (payload.pagination.counter !== last + 1) {
          open.continuous = false;
          p.problems.push({
            code: "broken-pagination",
            message: `PG ${payload.PG} follows T${last} in this transaction: expected T${last + 1}`,
          });
        }
      }
      for (const [i, r] of payload.readings.entries()) {
        const n = i + 1;
        if (r.tx === "B") {
          if (open) {
            p.problems.push({
              code: "unpaired-transaction",
              message: `reading ${n}: a begin while the transaction begun at ${open.members[0]!.record!.payload.PG} has not ended`,
            });
            close(false);
          }
          open = { members: [p], readings: [], continuous: true };
          previous = undefined;
        } else if (!open) {
          if (r.tx !== undefined)
            p.problems.push({ code: "unpaired-transaction", message: `reading ${n}: TX ${r.tx} without a begin (B)` });
          continue;
        } else if (!open.members.includes(p)) {
          open.members.push(p);
        }
        open.readings.push({ record: p.index, reading: r });
        if (previous) monotonic(previous, r, n, p.problems);
        previous = r;
        if (r.tx !== undefined && OCMF_END_CODES.includes(r.tx)) close(true);
      }
    }
    close(false);
  }
  return out;
}

/** Within a transaction time does not run backwards and the register does not decrease. */
function monotonic(before: OcmfReading, r: OcmfReading, n: number, problems: OcmfProblem[]): void {
  if (r.time.unixMs < before.time.unixMs)
    problems.push({ code: "not-monotonic", message: `reading ${n}: ${r.time.text} is before ${before.time.text}` });
  const [a, b] = [before.energy?.wh, r.energy?.wh];
  if (a !== undefined && b !== undefined && b < a)
    problems.push({ code: "not-monotonic", message: `reading ${n}: register ${b} Wh is below the previous ${a} Wh` });
}

/** Checks one record's signature; a problem, or undefined when it verifies. */
function signatureProblem(
  record: OcmfRecord,
  key: DecodedPublicKey,
  options: OcmfVerifyOptions,
): OcmfProblem | undefined {
  const { SA, SE, SD } = record.signature;
  try {
    const signature = SE === "hex" ? hexToBytes(SD, "SD") : base64ToBytes(SD, "SD");
    const message = new TextEncoder().encode(record.payloadText);
    if (verifyEcdsa(SA, signature, message, key, options)) return undefined;
    return { code: "bad-signature", message: `the signature (${SA}) does not verify under the registry's key` };
  } catch (error) {
    if (error instanceof OcmfEncodingError) return { code: "bad-encoding", message: error.message };
    throw error;
  }
}

/**
 * Verifies OCMF records as transparency software does.
 * @param input the file's text (any format {@link readOcmfInput} recognises) or records already split
 * @param keys the CPO's key registry; a record whose meter has no key there cannot be verified
 * @throws InvalidInputError when the input is none of the formats, or a registry key does not decode
 */
export function verifyOcmf(
  input: string | readonly OcmfInputRecord[],
  keys: OcmfKeyRegistry,
  options: OcmfVerifyOptions = {},
): OcmfReport {
  const registry = decodeRegistry(keys);
  const read = typeof input === "string" ? readOcmfInput(input) : { format: "records" as const, records: input };
  const parsed: Parsed[] = read.records.map((item, index) => {
    if (item.text === undefined)
      return {
        index,
        input: item,
        record: undefined,
        problems: [{ code: "bad-encoding", message: item.envelopeError! }],
      };
    try {
      const record = parseOcmf(item.text);
      const problems = readingProblems(record);
      // Only an OCMF algorithm name can contradict SA; OCPP allows other spellings, which say nothing checkable.
      const method = item.signingMethod;
      if (method !== undefined && isOcmfAlgorithm(method) && method !== record.signature.SA)
        problems.unshift({
          code: "bad-encoding",
          message: `OCPP signingMethod ${method} is not the record's SA ${record.signature.SA}`,
        });
      return { index, input: item, record, problems };
    } catch (error) {
      if (!(error instanceof OcmfEncodingError)) throw error;
      return { index, input: item, record: undefined, problems: [{ code: "bad-encoding", message: error.message }] };
    }
  });
  const transactions = pairTransactions(parsed);
  const records = parsed.map((p): OcmfRecordResult => {
    const keyId = p.record && ocmfKeyIds(p.record).find((id) => registry.has(id));
    const entry = keyId === undefined ? undefined : registry.get(keyId)!;
    let embeddedKeyMatches: boolean | undefined;
    if (entry && p.input.embeddedPublicKey !== undefined) {
      try {
        embeddedKeyMatches = sameBytes(decodePublicKey(p.input.embeddedPublicKey).point, entry.key.point);
      } catch {
        embeddedKeyMatches = false;
      }
    }
    const base = { index: p.index, source: p.input.source, record: p.record, keyId, embeddedKeyMatches };
    const problems = p.problems;
    // A broken format needs no key to be seen; anything else the record says is unestablished without one.
    if (!p.record || problems.some((x) => x.code === "bad-encoding"))
      return { ...base, verdict: { status: "invalid", problems } };
    if (!entry) {
      const ids = ocmfKeyIds(p.record).join(", ");
      const reason =
        `no key in the registry for ${ids}` +
        (p.input.embeddedPublicKey ? " (the key sent along with the record is not trusted by itself)" : "");
      return { ...base, verdict: { status: "cannot-verify", reason, problems } };
    }
    const bad = signatureProblem(p.record, entry.key, options);
    if (bad) problems.unshift(bad);
    return {
      ...base,
      verdict: problems.length === 0 ? { status: "valid", problems: [] } : { status: "invalid", problems },
    };
  });
  const count = (s: OcmfVerdict["status"]): number => records.filter((r) => r.verdict.status === s).length;
  return {
    format: read.format,
    records,
    transactions: transactions.map((t) => ({
      ...t,
      valid: t.records.every((i) => records[i]!.verdict.status === "valid"),
    })),
    valid: count("valid"),
    invalid: count("invalid"),
    cannotVerify: count("cannot-verify"),
  };
}
