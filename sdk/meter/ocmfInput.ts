/**
 * The files users bring to an OCMF check, told apart and split into records: OCMF records one after another (one per
 * line, or pretty-printed over several lines), a JSON array of record strings, or OCPP 2.0.1 `SignedMeterValueType`
 * JSON (one object or an array; also wrapped as `{"signedMeterValue": ...}` as in a SampledValue). Browser-safe.
 */
import { InvalidInputError } from "../core/errors.ts";
import { OcmfEncodingError, base64ToBytes } from "./ocmfCrypto.ts";

/** One record as it came in, before parsing. */
export interface OcmfInputRecord {
  /** Where it came from, for a person: `line 3`, `[2]`, `signedMeterValue[1]`. */
  readonly source: string;
  /** The record's text (`OCMF|...|...`); undefined when the envelope around it could not be decoded. */
  readonly text: string | undefined;
  /** Why the envelope could not be decoded (an OCPP `signedMeterData` that is not base64 UTF-8, say). */
  readonly envelopeError?: string;
  /** OCPP `publicKey` (base64), shown and compared, never trusted by itself. */
  readonly embeddedPublicKey?: string;
  /** OCPP `signingMethod`, compared with the record's SA. */
  readonly signingMethod?: string;
}

/** How the input was recognised. */
export type OcmfInputFormat = "records" | "json-array" | "ocpp-signed-meter-value";

/**
 * Recognises `text` and splits it into records.
 * @throws InvalidInputError when the input is none of the three formats (naming where it stopped being one)
 */
export function readOcmfInput(input: string): { format: OcmfInputFormat; records: OcmfInputRecord[] } {
  const text = input.replace(/^\uFEFF/, ""); // a byte order mark some editors write
  const start = text.trimStart();
  if (start === "") throw new InvalidInputError("OCMF input is empty");
  if (start.startsWith("OCMF|")) return { format: "records", records: splitRecords(text) };
  if (!start.startsWith("[") && !start.startsWith("{")) {
    throw new InvalidInputError(
      `OCMF input starts with "${start.split(/\r?\n/)[0]!.slice(0, 20)}": expected OCMF records (OCMF|...|...), ` +
        "a JSON array of record strings, or OCPP signedMeterValue JSON",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`OCMF input looks like JSON but is not: ${(error as Error).message}`);
  }
  const items = Array.isArray(json) ? json : [json];
  if (items.length === 0) throw new InvalidInputError("OCMF input is an empty JSON array");
  if (items.every((x) => typeof x === "string")) {
    if (!Array.isArray(json)) throw new InvalidInputError("OCMF input is a JSON string, not an array of records");
    return {
      format: "json-array",
      records: (items as string[]).map((t, i) => ({ source: `[${i}]`, text: t })),
    };
  }
  const records = items.map((item, i) => signedMeterValue(item, Array.isArray(json) ? `signedMeterValue[${i}]` : ""));
  return { format: "ocpp-signed-meter-value", records };
}

/** Records back to back: each starts at "OCMF|", which cannot occur inside a section (OCMF "JSON based OCMF Format"). */
function splitRecords(text: string): OcmfInputRecord[] {
  const out: OcmfInputRecord[] = [];
  const re = /OCMF\|/g;
  const starts: number[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push(m.index);
  let line = 1;
  let counted = 0;
  starts.forEach((at, i) => {
    for (; counted < at; counted++) if (text[counted] === "\n") line++;
    out.push({ source: `line ${line}`, text: text.slice(at, starts[i + 1] ?? text.length).trim() });
  });
  return out;
}

/** An OCPP 2.0.1 SignedMeterValueType (OCPP 2.0.1 part 2, 2.44), or a SampledValue-style wrapper around one. */
function signedMeterValue(item: unknown, at: string): OcmfInputRecord {
  const source = at || "signedMeterValue";
  if (typeof item === "string")
    throw new InvalidInputError(`${source}: the JSON array mixes record strings with other values`);
  if (typeof item !== "object" || item === null)
    throw new InvalidInputError(`${source}: expected an OCMF record string or an OCPP signedMeterValue object`);
  const wrapped = (item as { signedMeterValue?: unknown }).signedMeterValue;
  const v = (typeof wrapped === "object" && wrapped !== null ? wrapped : item) as Record<string, unknown>;
  if (typeof v.signedMeterData !== "string")
    throw new InvalidInputError(`${source}: no signedMeterData string (not an OCPP 2.0.1 SignedMeterValueType)`);
  const optional = (name: string): string | undefined => {
    if (v[name] === undefined) return undefined;
    if (typeof v[name] !== "string") throw new InvalidInputError(`${source}: ${name} must be a string`);
    return v[name];
  };
  const embeddedPublicKey = optional("publicKey") || undefined;
  const signingMethod = optional("signingMethod") || undefined;
  const encodingMethod = optional("encodingMethod");
  const base = { source, embeddedPublicKey, signingMethod };
  if (encodingMethod !== "OCMF")
    return {
      ...base,
      text: undefined,
      envelopeError: `encodingMethod is ${JSON.stringify(encodingMethod)}, not "OCMF"`,
    };
  try {
    const bytes = base64ToBytes(v.signedMeterData, "signedMeterData");
    return { ...base, text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch (error) {
    const why = error instanceof OcmfEncodingError ? error.message : "signedMeterData is not UTF-8 text";
    const hint = v.signedMeterData.startsWith("OCMF|") ? " (it is a bare OCMF record; OCPP 2.0.1 wants base64)" : "";
    return { ...base, text: undefined, envelopeError: why + hint };
  }
}
