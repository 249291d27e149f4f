/**
 * Live meter records on the wire (docs/ocpp.md): every reading a charger sends in an OCPP 2.0.1 `signedMeterValue`
 * is one {@link LiveRecord}, signed by the meter, encoded as JSON in base64 (`ZKCHARGE-JSON-1`), and checked by
 * whoever receives it with a {@link LiveSessionVerifier}: meter signature, chain continuity, time and energy
 * non-decreasing, power within the rating, no tariff boundary skipped. The station and the driver's wallet run the
 * same checks.
 *
 * Every record is signed: a live tail over `liveTail(H_k, t, e)`; a chain point (start or tariff boundary) as the
 * tail at the point itself, `liveTail(H_k, t_k, e_k)`, which signs the new head; the end as `chainFinal(H_n, n,
 * ocmfDigest)`.
 */
import { InvalidInputError, InvalidReadingsError } from "../core/errors.ts";
import { chainStep, meterLeaf, tariffHash } from "../core/hash.ts";
import {
  computeBill,
  nextBoundaryAfter,
  validateTariff,
  type Bill,
  type Point,
  type Tariff,
} from "../tariff/tariff.ts";
import type { MeterSession } from "./meter.ts";
import { signedMessageHoldsOffThread } from "./offThread.ts";
import {
  computeChain,
  signedMessageHolds,
  type LiveEvidence,
  type LiveTail,
  type MeterSignature,
  type SignedMessageCheck,
  type SignedSession,
} from "./record.ts";

/** `signingMethod` of a zkcharge signed meter value. */
export const SIGNING_METHOD = "ZKCHARGE-EDDSA-POSEIDON";
/** `encodingMethod` of a zkcharge signed meter value: a {@link LiveRecord} as JSON, base64. */
export const ENCODING_METHOD = "ZKCHARGE-JSON-1";

/** What kind of reading a record is. */
export type LiveRecordKind = "point" | "live" | "end";

/** One signed reading as the meter sends it. */
export interface LiveRecord {
  kind: LiveRecordKind;
  sessionId: bigint;
  /** Chain points the signature covers: the point's own index for a point, `H_k` for a tail, `n` for the end. */
  k: number;
  /** Unix seconds and cumulative Wh. */
  t: bigint;
  e: bigint;
  /** The signed message (`liveTail(...)` or, for the end, `chainFinal(...)`). */
  message: bigint;
  /** For the end: the OCMF digest signed into the final record (0 for none). */
  ocmfDigest?: bigint;
  signature: MeterSignature;
}

/** OCPP 2.0.1 SignedMeterValueType. */
export interface SignedMeterValue {
  signedMeterData: string;
  signingMethod: string;
  encodingMethod: string;
  publicKey: string;
}

/** The largest `signedMeterData` / `publicKey` OCPP 2.0.1 allows. */
const OCPP_MAX_FIELD = 2500;

/** A live tail as the record of a plain reading between chain points. */
export function tailRecord(sessionId: bigint, tail: LiveTail): LiveRecord {
  return { kind: "live", sessionId, k: tail.k, t: tail.t, e: tail.e, message: tail.tail, signature: tail.signature };
}

/**
 * The record of the chain point `session` just recorded (its last point, which must be its last reading): the
 * meter signs the tail at the point itself, which binds the new head.
 */
export function pointRecord(session: MeterSession): LiveRecord {
  const points = session.points;
  const p = points[points.length - 1]!;
  const last = session.lastReading;
  if (last.t !== p.t || last.e !== p.e)
    throw new InvalidReadingsError("the session's last reading is not a chain point");
  const tail = session.addReading(p.t, p.e);
  if (tail.kind !== "live") throw new InvalidReadingsError(`the reading at ${p.t} did not sign as a tail`);
  return { ...tailRecord(session.sessionId, tail), kind: "point", k: points.length };
}

/** The record of a session end. */
export function endRecord(signed: SignedSession): LiveRecord {
  const p = signed.points[signed.points.length - 1]!;
  return {
    kind: "end",
    sessionId: signed.sessionId,
    k: signed.n,
    t: p.t,
    e: p.e,
    message: signed.final,
    ocmfDigest: signed.ocmfDigest,
    signature: signed.signature,
  };
}

const b64 = (text: string) => btoa(text);
function unb64(text: string, what: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0)
    throw new InvalidInputError(`${what} is not base64`);
  return atob(text);
}

/** The OCPP `publicKey` field of a meter key: base64 of `["Ax","Ay"]` (decimal). */
export function encodeMeterPublicKey(key: readonly [bigint, bigint]): string {
  return b64(JSON.stringify([key[0].toString(), key[1].toString()]));
}

/** @throws InvalidInputError if `text` is not a key {@link encodeMeterPublicKey} writes */
export function decodeMeterPublicKey(text: string): [bigint, bigint] {
  const raw = parseJson(unb64(text, "publicKey"), "publicKey");
  if (!Array.isArray(raw) || raw.length !== 2) throw new InvalidInputError("publicKey must be [Ax, Ay]");
  return [decimal(raw[0], "publicKey Ax"), decimal(raw[1], "publicKey Ay")];
}

/** The `signedMeterValue` of `record` signed by the meter with public key `publicKey`. */
export function encodeSignedMeterValue(record: LiveRecord, publicKey: readonly [bigint, bigint]): SignedMeterValue {
  const json = {
    v: 1,
    kind: record.kind,
    sessionId: record.sessionId.toString(),
    k: record.k,
    t: record.t.toString(),
    e: record.e.toString(),
    message: record.message.toString(),
    ...(record.ocmfDigest !== undefined ? { ocmfDigest: record.ocmfDigest.toString() } : {}),
    signature: { R8: record.signature.R8.map(String), S: record.signature.S.toString() },
  };
  return {
    signedMeterData: b64(JSON.stringify(json)),
    signingMethod: SIGNING_METHOD,
    encodingMethod: ENCODING_METHOD,
    publicKey: encodeMeterPublicKey(publicKey),
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidInputError(`${what} is not JSON`);
  }
}

function decimal(value: unknown, what: string): bigint {
  if (typeof value !== "string" || !/^(0|[1-9][0-9]{0,77})$/.test(value))
    throw new InvalidInputError(`${what} must be a decimal string`);
  return BigInt(value);
}

/**
 * The record and meter key of a `signedMeterValue`.
 * @throws InvalidInputError naming the field if it is not a `ZKCHARGE-EDDSA-POSEIDON` / `ZKCHARGE-JSON-1` record
 */
export function decodeSignedMeterValue(value: SignedMeterValue): { record: LiveRecord; publicKey: [bigint, bigint] } {
  if (value.signingMethod !== SIGNING_METHOD)
    throw new InvalidInputError(`signingMethod ${JSON.stringify(value.signingMethod)} is not ${SIGNING_METHOD}`);
  if (value.encodingMethod !== ENCODING_METHOD)
    throw new InvalidInputError(`encodingMethod ${JSON.stringify(value.encodingMethod)} is not ${ENCODING_METHOD}`);
  if (value.signedMeterData.length > OCPP_MAX_FIELD || value.publicKey.length > OCPP_MAX_FIELD)
    throw new InvalidInputError(`signedMeterData and publicKey are at most ${OCPP_MAX_FIELD} characters`);
  const raw = parseJson(unb64(value.signedMeterData, "signedMeterData"), "signedMeterData");
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new InvalidInputError("signedMeterData must be a JSON object");
  const o = raw as Record<string, unknown>;
  const allowed = ["v", "kind", "sessionId", "k", "t", "e", "message", "ocmfDigest", "signature"];
  for (const key of Object.keys(o)) if (!allowed.includes(key)) throw new InvalidInputError(`${key}: unknown field`);
  if (o.v !== 1) throw new InvalidInputError(`record version ${JSON.stringify(o.v)} is not 1`);
  if (o.kind !== "point" && o.kind !== "live" && o.kind !== "end")
    throw new InvalidInputError(`kind ${JSON.stringify(o.kind)} is not point, live or end`);
  if (typeof o.k !== "number" || !Number.isSafeInteger(o.k) || o.k < 1 || o.k > 64)
    throw new InvalidInputError("k must be an integer 1..64");
  if (o.kind === "end" && o.ocmfDigest === undefined) throw new InvalidInputError("an end record needs ocmfDigest");
  if (o.kind !== "end" && o.ocmfDigest !== undefined) throw new InvalidInputError("only an end record has ocmfDigest");
  const sig = o.signature as { R8?: unknown; S?: unknown } | null;
  if (typeof sig !== "object" || sig === null || !Array.isArray(sig.R8) || sig.R8.length !== 2)
    throw new InvalidInputError("signature must be { R8: [x, y], S }");
  return {
    record: {
      kind: o.kind,
      sessionId: decimal(o.sessionId, "sessionId"),
      k: o.k,
      t: decimal(o.t, "t"),
      e: decimal(o.e, "e"),
      message: decimal(o.message, "message"),
      ...(o.ocmfDigest !== undefined ? { ocmfDigest: decimal(o.ocmfDigest, "ocmfDigest") } : {}),
      signature: {
        R8: [decimal(sig.R8[0], "signature R8.x"), decimal(sig.R8[1], "signature R8.y")],
        S: decimal(sig.S, "signature S"),
      },
    },
    publicKey: decodeMeterPublicKey(value.publicKey),
  };
}

/** A tariff as JSON: decimal strings, arrays of them, and the duration limit as an object of them. */
export type TariffJson = Record<string, string | string[] | Record<string, string>>;

/** A tariff as JSON (bigints as decimal strings), e.g. in an OCPP customData or a file. */
export function tariffToJson(tariff: Tariff): TariffJson {
  const out: TariffJson = {};
  for (const [key, value] of Object.entries(tariff)) {
    if (value === undefined) continue;
    if (key === "durationLimit")
      out[key] = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, String(v as bigint)]));
    else out[key] = Array.isArray(value) ? value.map(String) : String(value as bigint);
  }
  return out;
}

/** The optional duration limit of a tariff's JSON ({@link tariffToJson}): an object of decimal strings. */
function durationLimitFromJson(v: unknown): Tariff["durationLimit"] {
  if (v === undefined) return undefined;
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new InvalidInputError("tariff.durationLimit must be an object of decimal strings");
  const o = v as Record<string, unknown>;
  const keys = ["seconds", "energyPrice", "timePricePerHour", "parkingPricePerHour"];
  const unknown = Object.keys(o).find((k) => !keys.includes(k));
  if (unknown !== undefined)
    throw new InvalidInputError(`tariff.durationLimit.${unknown} is not a duration limit field`);
  const opt = (k: string) => (o[k] === undefined ? {} : { [k]: decimal(o[k], `tariff.durationLimit.${k}`) });
  return {
    seconds: decimal(o.seconds, "tariff.durationLimit.seconds"),
    ...opt("energyPrice"),
    ...opt("timePricePerHour"),
    ...opt("parkingPricePerHour"),
  };
}

/**
 * @throws InvalidInputError / InvalidTariffError if `json` is not a tariff {@link tariffToJson} writes (a tariff
 *   without `parkingPricePerHour` or `stepSize`, written before them, is refused by name)
 */
export function tariffFromJson(json: unknown): Tariff {
  if (typeof json !== "object" || json === null) throw new InvalidInputError("a tariff must be a JSON object");
  const o = json as Record<string, unknown>;
  const scalar = (k: string) => decimal(o[k], `tariff.${k}`);
  const bands = (k: string) => {
    const v = o[k];
    // JSON written before the parking price existed: its hash is not one the registry publishes any more, so
    // refuse it rather than guess a parking price (0 or the time price would both be a different tariff).
    if (v === undefined && k === "parkingPricePerHour")
      throw new InvalidInputError(
        "tariff.parkingPricePerHour is missing: this tariff JSON predates parking prices; write it again from the published tariff",
      );
    if (!Array.isArray(v) || v.length !== 4) throw new InvalidInputError(`tariff.${k} must be 4 decimal strings`);
    return v.map((x, i) => decimal(x, `tariff.${k}[${i}]`)) as unknown as Tariff["bandStart"];
  };
  const steps = () => {
    const v = o.stepSize;
    // As for parking prices: JSON from before step sizes hashes to no tariff the registry publishes now.
    if (v === undefined)
      throw new InvalidInputError(
        "tariff.stepSize is missing: this tariff JSON predates step sizes; write it again from the published tariff",
      );
    if (!Array.isArray(v) || v.length !== 3) throw new InvalidInputError("tariff.stepSize must be 3 decimal strings");
    return v.map((x, i) => decimal(x, `tariff.stepSize[${i}]`)) as unknown as Tariff["stepSize"];
  };
  const tariff: Tariff = {
    cpoId: scalar("cpoId"),
    flatFee: scalar("flatFee"),
    energyPrice: bands("energyPrice"),
    bandStart: bands("bandStart"),
    timePricePerHour: bands("timePricePerHour"),
    parkingPricePerHour: bands("parkingPricePerHour"),
    minPrice: scalar("minPrice"),
    maxPrice: scalar("maxPrice"),
    tzOffset: scalar("tzOffset"),
    validFrom: scalar("validFrom"),
    validTo: scalar("validTo"),
    stepSize: steps(),
  };
  const durationLimit = durationLimitFromJson(o.durationLimit);
  if (durationLimit) tariff.durationLimit = durationLimit;
  validateTariff(tariff);
  return tariff;
}

/** What a verifier is told about a session before its first record. */
export interface VerifiedSessionTerms {
  sessionId: bigint;
  cpoId: bigint;
  ratedPowerW: bigint;
  /** The meter key the CPO registered for this charger (records signed by any other key are refused). */
  meterPublicKey: [bigint, bigint];
  /** The tariff fixed at plug-in. */
  tariff: Tariff;
}

/** What {@link LiveSessionVerifier} would hold after a record that passes its rules. */
interface NextState {
  points: Point[];
  /** `[H_0, ..., H_n]` over `points`. */
  heads: bigint[];
  /** The signature check left (the message from the head, and the meter's signature). */
  check: SignedMessageCheck;
}

/**
 * Checks a session's records one by one, in order, and keeps what the next check needs (chain points and their
 * heads, last reading). {@link accept} throws without changing anything when a record breaks a rule, so a refused
 * record can be followed by a good one. The chain heads are kept, so a record costs one hash and one signature
 * check, whatever the session's length.
 */
export class LiveSessionVerifier {
  readonly terms: VerifiedSessionTerms;
  readonly #leaf: bigint;
  readonly #tariffHash: bigint;
  /** The terms a meter could sign under at all (the tariff is this CPO's); if not, no signature holds. */
  readonly #termsHold: boolean;
  #points: Point[] = [];
  #heads: bigint[];
  #last: Point | undefined;
  #lastRecord: LiveRecord | undefined;
  #ended = false;
  /** An {@link acceptOffThread} is waiting for its signature check. */
  #checking = false;

  constructor(terms: VerifiedSessionTerms) {
    validateTariff(terms.tariff);
    this.terms = terms;
    this.#leaf = meterLeaf(terms.meterPublicKey[0], terms.meterPublicKey[1], terms.cpoId, terms.ratedPowerW);
    this.#tariffHash = tariffHash(terms.tariff);
    this.#termsHold = terms.tariff.cpoId === terms.cpoId;
    this.#heads = computeChain(terms.sessionId, terms.cpoId, this.#leaf, this.#tariffHash, []);
  }

  /** Chain points accepted so far. */
  get points(): Point[] {
    return this.#points.map((p) => ({ ...p }));
  }

  /** The last accepted reading. */
  get lastReading(): Point | undefined {
    return this.#last && { ...this.#last };
  }

  /** True once the end record was accepted. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The last accepted record. */
  get lastRecord(): LiveRecord | undefined {
    return this.#lastRecord;
  }

  #chain(signature: MeterSignature) {
    const terms = this.terms;
    return {
      sessionId: terms.sessionId,
      cpoId: terms.cpoId,
      meterLeaf: this.#leaf,
      ratedPowerW: terms.ratedPowerW,
      tariff: terms.tariff,
      tariffHash: this.#tariffHash,
      points: this.points,
      n: this.#points.length,
      signature,
      meterPublicKey: terms.meterPublicKey,
    };
  }

  /**
   * The live evidence of the last accepted reading (a tail, or a chain point, which the meter signs as the tail
   * at itself): what a close after the settle deadline proves from. Undefined before the start point and after
   * the end (then {@link session} is the record to close with).
   */
  evidence(): LiveEvidence | undefined {
    const r = this.#lastRecord;
    if (r === undefined || r.kind === "end") return undefined;
    return { ...this.#chain(r.signature), tail: { t: r.t, e: r.e }, message: r.message };
  }

  /** The session-end record, once the end was accepted. */
  session(): SignedSession | undefined {
    const r = this.#lastRecord;
    if (r === undefined || r.kind !== "end") return undefined;
    return { ...this.#chain(r.signature), ocmfDigest: r.ocmfDigest ?? 0n, final: r.message };
  }

  /**
   * The bill so far: of the session end once it ended, else of the chain points and the last reading (what a
   * close from the last tail would charge before the escrow's cap). Undefined before the start point.
   */
  runningBill(): Bill | undefined {
    if (this.#last === undefined) return undefined;
    const points = this.#ended ? this.#points : [...this.#points, this.#last];
    return computeBill(points, this.terms.tariff, this.terms.ratedPowerW);
  }

  /**
   * Accepts `record` signed by `publicKey` if it extends the session.
   * @throws InvalidReadingsError saying which rule the record breaks
   */
  accept(record: LiveRecord, publicKey: readonly [bigint, bigint]): void {
    const next = this.#next(record, publicKey);
    if (!this.#termsHold || !signedMessageHolds(next.check)) refuse(record, "bad meter signature or chain");
    this.#commit(record, next);
  }

  /**
   * {@link accept}, with the signature check on a worker thread (sdk/meter/offThread.ts) while the caller serves
   * others; the same rules and verdict. One record at a time: the next waits for this one's promise.
   * @throws InvalidReadingsError saying which rule the record breaks; Error if another record is being checked
   */
  async acceptOffThread(record: LiveRecord, publicKey: readonly [bigint, bigint]): Promise<void> {
    const next = this.#next(record, publicKey);
    this.#checking = true;
    try {
      if (!this.#termsHold || !(await signedMessageHoldsOffThread(next.check)))
        refuse(record, "bad meter signature or chain");
    } finally {
      this.#checking = false;
    }
    this.#commit(record, next);
  }

  /**
   * Takes back a record this session's checks accepted before (read back from the station's own store after a
   * restart, or to replay a stream's running bill): every rule is checked again except the meter signature, which
   * was checked when the record arrived.
   * @throws InvalidReadingsError saying which rule the record breaks
   */
  acceptChecked(record: LiveRecord, publicKey: readonly [bigint, bigint]): void {
    this.#commit(record, this.#next(record, publicKey));
  }

  /** What the verifier holds after `record` if it passes every rule but the signature. */
  #next(record: LiveRecord, publicKey: readonly [bigint, bigint]): NextState {
    const why = (reason: string): never => refuse(record, reason);
    if (this.#checking) throw new Error("a record of this session is still being checked: accept one at a time");
    const terms = this.terms;
    if (this.#ended) why("the session already ended");
    if (record.sessionId !== terms.sessionId) why(`session ${record.sessionId} is not ${terms.sessionId}`);
    if (publicKey[0] !== terms.meterPublicKey[0] || publicKey[1] !== terms.meterPublicKey[1])
      why("signed by another key than this charger's registered meter");
    const last = this.#last;
    if (last === undefined && record.kind !== "point") why("the first reading must be the start point");
    if (last !== undefined) {
      if (record.t < last.t) why(`time goes back (previous reading at t=${last.t})`);
      if (record.e < last.e) why(`energy goes back (${record.e} Wh < ${last.e} Wh)`);
      if ((record.e - last.e) * 3600n > terms.ratedPowerW * (record.t - last.t))
        why(`${record.e - last.e} Wh in ${record.t - last.t} s exceeds the rating ${terms.ratedPowerW} W`);
    }
    const anchor = this.#points[this.#points.length - 1];
    const boundary = anchor && nextBoundaryAfter(anchor.t, terms.tariff, this.#points[0]!.t);
    const points = [...this.#points];
    if (record.kind === "point") {
      if (record.k !== points.length + 1) why(`chain point ${record.k}, expected ${points.length + 1}`);
      if (boundary !== undefined && record.t !== boundary)
        why(`a chain point must be at the tariff boundary t=${boundary}`);
      points.push({ t: record.t, e: record.e });
    } else if (boundary !== undefined && record.t > boundary) {
      why(`the chain point at the tariff boundary t=${boundary} is missing`);
    }
    if (record.kind === "live") {
      if (record.k !== points.length) why(`tail over ${record.k} points, the chain has ${points.length}`);
      if (record.t === boundary) why(`a reading at the tariff boundary t=${boundary} must be a chain point`);
    }
    if (record.kind === "end") {
      const p = points[points.length - 1]!;
      if (record.t !== p.t || record.e !== p.e) points.push({ t: record.t, e: record.e });
      if (record.k !== points.length) why(`end over ${record.k} points, the chain has ${points.length}`);
    }
    const heads = [...this.#heads];
    for (const p of points.slice(heads.length - 1)) heads.push(chainStep(heads[heads.length - 1]!, p.t, p.e));
    const n = points.length;
    const { message, signature } = record;
    const meterPublicKey = terms.meterPublicKey;
    const check: SignedMessageCheck =
      record.kind === "end"
        ? { head: heads[n]!, n, ocmfDigest: record.ocmfDigest ?? 0n, message, signature, meterPublicKey }
        : { head: heads[n]!, n, tail: { t: record.t, e: record.e }, message, signature, meterPublicKey };
    return { points, heads, check };
  }

  #commit(record: LiveRecord, next: NextState): void {
    this.#points = next.points;
    this.#heads = next.heads;
    this.#last = { t: record.t, e: record.e };
    this.#lastRecord = record;
    if (record.kind === "end") this.#ended = true;
  }
}

function refuse(record: LiveRecord, why: string): never {
  throw new InvalidReadingsError(`reading at t=${record.t} (${record.kind}): ${why}`);
}
