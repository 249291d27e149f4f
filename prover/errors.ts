/**
 * Error types of the prover library, and their transport across the worker boundary.
 *
 * Every error thrown by `prover/` is one of these classes (or a plain `Error` from snarkjs with its message kept),
 * so callers can `instanceof`-test them, and errors raised inside a prover worker are rebuilt as the same class.
 */

/** The command that rebuilds every circuit artifact. */
export const REBUILD_COMMAND = "npm run build:circuits";

/**
 * A circuit artifact is missing, unreadable or does not match its manifest (`build/circuits/manifest.json`, or
 * the one the caller pinned). The message names the file and tells to run `npm run build:circuits`.
 */
export class StaleArtifactsError extends Error {
  override name = "StaleArtifactsError";
  /**
   * Where the offending file is, as its artifact source names it (an absolute path for files, a URL for a URL
   * source); the manifest itself when the manifest is the problem.
   */
  readonly file: string;
  /** Short reason, e.g. `sha256 mismatch` or `missing`. */
  readonly reason: string;

  /**
   * @param file - location of the file that is missing or stale
   * @param reason - what is wrong with it
   */
  constructor(file: string, reason: string) {
    super(`circuit artifact ${file}: ${reason}; run \`${REBUILD_COMMAND}\` to rebuild the circuit artifacts`);
    this.file = file;
    this.reason = reason;
  }
}

/** One problem found in a proof input: the signal it concerns (as `name` or `name[i][j]`) and what is wrong. */
export interface InputProblem {
  /** Signal name with flattened array indices, e.g. `pathElements[3]`; the bare name for whole-signal problems. */
  signal: string;
  /** Human-readable description, e.g. `is negative (-1)`. */
  problem: string;
  /**
   * Set when input values are missing but their signals could not be named (no `.sym` at hand): how many values
   * are missing. `nameMissingInputs` (witness.ts) replaces such a problem with named ones.
   */
  missingValues?: number;
}

/**
 * A circuit input was rejected before witness generation: a value outside `[0, r)`, a value that is not an
 * integer, an unknown (extra) signal, a missing signal or an array of the wrong length. Every problem is named.
 */
export class InputError extends Error {
  override name = "InputError";
  /** Circuit name (e.g. `pay`). */
  readonly circuit: string;
  /** All problems found (at least one). */
  readonly problems: InputProblem[];

  /**
   * @param circuit - circuit name
   * @param problems - the problems found, at least one
   */
  constructor(circuit: string, problems: InputProblem[]) {
    const lines = problems.map((p) => `${p.signal}: ${p.problem}`);
    super(
      problems.length === 1
        ? `${circuit}: invalid input signal ${lines[0]}`
        : `${circuit}: ${problems.length} invalid input signals:\n  ${lines.join("\n  ")}`,
    );
    this.circuit = circuit;
    this.problems = problems;
  }
}

/**
 * Witness generation failed inside the circuit's wasm (typically a failing circom `assert`, or a constraint
 * `===` that does not hold). The message names the circuit and the innermost failing template and line as circom
 * reports them; `originalMessage` keeps circom's text verbatim.
 */
export class WitnessError extends Error {
  override name = "WitnessError";
  /** Circuit name (e.g. `pay`). */
  readonly circuit: string;
  /** Innermost failing template without circom's instance suffix (e.g. `RangeGuard`), if circom reported one. */
  readonly template: string | undefined;
  /** circom's template instance name (e.g. `RangeGuard_0`), if reported. */
  readonly templateInstance: string | undefined;
  /** Source line circom reported for the innermost failing template, if any. */
  readonly line: number | undefined;
  /** circom's verbatim error text (e.g. `Assert Failed.\nError in template RangeGuard_0 line: 7\n...`). */
  readonly originalMessage: string;

  /**
   * @param circuit - circuit name
   * @param originalMessage - circom's error text, verbatim
   */
  constructor(circuit: string, originalMessage: string) {
    const parsed = parseCircomError(originalMessage);
    const where =
      parsed.templateInstance !== undefined
        ? ` in template ${parsed.template} (${parsed.templateInstance}) line ${parsed.line}`
        : "";
    const trace = parsed.trace.length > 1 ? ` [trace: ${parsed.trace.join(" <- ")}]` : "";
    super(`${circuit}: witness generation failed: ${parsed.kind}${where}${trace}\ncircom: ${originalMessage.trim()}`);
    this.circuit = circuit;
    this.template = parsed.template;
    this.templateInstance = parsed.templateInstance;
    this.line = parsed.line;
    this.originalMessage = originalMessage;
  }
}

interface ParsedCircomError {
  kind: string;
  template: string | undefined;
  templateInstance: string | undefined;
  line: number | undefined;
  trace: string[];
}

/** Extract `Error in template X_n line: L` frames (innermost first, as circom prints them). */
function parseCircomError(text: string): ParsedCircomError {
  const frames = [...text.matchAll(/Error in template (\S+) line: (\d+)/g)];
  const firstLine = text.split("\n")[0]?.trim() ?? "";
  const kind = (firstLine.replace(/\.$/, "") || "error").toLowerCase();
  const trace = frames.map((m) => `${m[1]}:${m[2]}`);
  const inner = frames[0];
  if (inner === undefined) return { kind, template: undefined, templateInstance: undefined, line: undefined, trace };
  const instance = inner[1]!;
  return {
    kind,
    template: instance.replace(/_\d+$/, ""),
    templateInstance: instance,
    line: Number(inner[2]),
    trace,
  };
}

/** Structured-clone-safe form of an error, sent from a prover worker to the main thread. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** Constructor arguments for the known error classes. */
  args?: unknown[];
}

/** Serialize an error thrown in a worker so that {@link deserializeError} can rebuild it with its class. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof StaleArtifactsError) {
    return { name: err.name, message: err.message, stack: err.stack, args: [err.file, err.reason] };
  }
  if (err instanceof InputError) {
    return { name: err.name, message: err.message, stack: err.stack, args: [err.circuit, err.problems] };
  }
  if (err instanceof WitnessError) {
    return { name: err.name, message: err.message, stack: err.stack, args: [err.circuit, err.originalMessage] };
  }
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: "Error", message: String(err) };
}

/** Rebuild an error serialized by {@link serializeError}, keeping its class, message and the worker's stack. */
export function deserializeError(s: SerializedError): Error {
  let err: Error;
  const args = s.args ?? [];
  switch (s.name) {
    case "StaleArtifactsError":
      err = new StaleArtifactsError(args[0] as string, args[1] as string);
      break;
    case "InputError":
      err = new InputError(args[0] as string, args[1] as InputProblem[]);
      break;
    case "WitnessError":
      err = new WitnessError(args[0] as string, args[1] as string);
      break;
    default:
      err = new Error(s.message);
      if (s.name !== "Error") err.name = s.name;
  }
  if (s.stack !== undefined) err.stack = `${s.stack}\n    --- rethrown from prover worker ---\n${err.stack ?? ""}`;
  return err;
}
