/**
 * Input normalization: every circuit input value is parsed to a bigint and checked to lie in `[0, r)` before it
 * reaches the witness calculator (which would silently reduce it mod r, turning e.g. `-1` into `r - 1`).
 */
import { InputError, type InputProblem } from "./errors.ts";

/** BN254 scalar field modulus `r` (the circuits' native field). */
export const BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** One input value: a bigint, a safe integer number, or a decimal / `0x`-hex string. */
export type InputScalar = bigint | number | string;
/** A (possibly nested) array of input values, for array signals. */
export type InputValue = InputScalar | readonly InputValue[];
/** A circuit input: signal name to value (arrays for array signals, nested for multi-dimensional ones). */
export type CircuitInput = Readonly<Record<string, InputValue>>;
/** A validated input: signal name to its flattened (row-major) field elements. */
export type NormalizedInput = Record<string, bigint[]>;

/**
 * Parse and range-check every value of `input`.
 *
 * @param circuit - circuit name, used in error messages
 * @param input - the raw input object
 * @returns the input with each signal flattened to bigints in `[0, r)`
 * @throws InputError naming every offending signal (negative, `>= r`, non-integer, unparsable, empty array)
 */
export function normalizeInput(circuit: string, input: CircuitInput): NormalizedInput {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new InputError(circuit, [{ signal: "(input)", problem: "must be an object mapping signal names to values" }]);
  }
  const problems: InputProblem[] = [];
  const out: NormalizedInput = {};
  for (const [name, value] of Object.entries(input)) {
    const flat: bigint[] = [];
    flatten(name, value, flat, problems);
    out[name] = flat;
  }
  if (problems.length > 0) throw new InputError(circuit, problems);
  return out;
}

function flatten(path: string, value: unknown, flat: bigint[], problems: InputProblem[]): void {
  if (Array.isArray(value)) {
    if (value.length === 0) problems.push({ signal: path, problem: "is an empty array" });
    value.forEach((v, i) => flatten(`${path}[${i}]`, v, flat, problems));
    return;
  }
  const parsed = parseScalar(value);
  if (typeof parsed === "string") {
    problems.push({ signal: path, problem: parsed });
    return;
  }
  if (parsed < 0n) {
    problems.push({ signal: path, problem: `is negative (${parsed}); field elements must be in [0, r)` });
  } else if (parsed >= BN254_R) {
    problems.push({
      signal: path,
      problem: `is not below the BN254 field modulus r (${parsed} >= r); it would be silently reduced mod r`,
    });
  }
  flat.push(parsed);
}

/** Returns the bigint, or a problem description. */
function parseScalar(value: unknown): bigint | string {
  switch (typeof value) {
    case "bigint":
      return value;
    case "number":
      if (!Number.isInteger(value)) return `is not an integer (${value})`;
      if (!Number.isSafeInteger(value)) return `is a number beyond 2^53 (${value}); pass a bigint or a decimal string`;
      return BigInt(value);
    case "string": {
      const s = value.trim();
      if (/^-?[0-9]+$/.test(s)) return BigInt(s);
      if (/^0x[0-9a-fA-F]+$/.test(s)) return BigInt(s);
      return `is not a decimal or 0x-hex integer string (${JSON.stringify(value)})`;
    }
    default:
      return `has unsupported type ${value === null ? "null" : typeof value}`;
  }
}
