/**
 * A small witness calculator for circom 2 wasm (the same wasm ABI as circom's generated
 * `witness_calculator.js` and snarkjs' `wtns calculate`), with three differences that matter here:
 * inputs are checked by name and length before anything runs (every problem named), a failing `assert` becomes a
 * {@link WitnessError} instead of a console dump, and both the bigint witness and the binary `.wtns` image that
 * `snarkjs.groth16.prove` reads are produced in one pass.
 *
 * Portable: it works on bytes (the wasm, optionally the `.sym`) and runs in Node, browsers and workers alike.
 */
import { InputError, WitnessError, type InputProblem } from "./errors.ts";
import { BN254_R, type NormalizedInput } from "./field.ts";

/** Exports of a circom >= 2.0.7 witness wasm that this calculator uses. */
interface CircomWasmExports {
  getVersion(): number;
  getFieldNumLen32(): number;
  getRawPrime(): void;
  readSharedRWMemory(i: number): number;
  writeSharedRWMemory(i: number, v: number): void;
  init(sanityCheck: number): void;
  setInputSignal(hMSB: number, hLSB: number, pos: number): void;
  getInputSignalSize(hMSB: number, hLSB: number): number;
  getInputSize(): number;
  getWitnessSize(): number;
  getWitness(i: number): void;
  getMessageChar(): number;
}

/** Output of {@link computeWitness}. */
export interface WitnessOutput {
  /** The full witness: `witness[0] = 1`, then public outputs, public inputs, private signals. */
  witness: bigint[];
  /** The same witness as a binary `.wtns` file image (for `snarkjs.groth16.prove`). */
  wtns: Uint8Array;
  /** Lines printed by circom `log()` calls during the computation. */
  logs: string[];
}

/** Options for {@link computeWitness}. */
export interface WitnessOptions {
  /**
   * The circuit's `.sym` file (bytes or text); used only to name missing input signals. Without it a missing
   * signal is still reported, as a count (see {@link nameMissingInputs} to name them afterwards).
   */
  sym?: Uint8Array | string;
  /** Run circom's runtime sanity checks (default true). */
  sanityCheck?: boolean;
  /** Called with each line a circom `log()` prints (default: collected only, see {@link WitnessOutput.logs}). */
  onLog?: (line: string) => void;
}

const moduleCache = new Map<string, Promise<WebAssembly.Module>>();

/**
 * Compile (once per thread and cache key) a witness wasm. Compiling takes a few hundred milliseconds for the
 * zkcharge circuits, so every proof after the first reuses the module.
 *
 * @param wasm - the bytes of `<name>.wasm`
 * @param cacheKey - key of the compiled module in the cache: the wasm's sha256 (bytes with the same key are not
 *   compiled again)
 */
export function compileWitnessWasm(wasm: Uint8Array, cacheKey: string): Promise<WebAssembly.Module> {
  let m = moduleCache.get(cacheKey);
  if (m === undefined) {
    m = WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
    m.catch(() => moduleCache.delete(cacheKey));
    moduleCache.set(cacheKey, m);
  }
  return m;
}

/**
 * The module {@link compileWitnessWasm} compiled (or is compiling) under `cacheKey` in this thread, if any.
 *
 * @param cacheKey - the key it was compiled under (the wasm's sha256)
 */
export function cachedWitnessWasm(cacheKey: string): Promise<WebAssembly.Module> | undefined {
  return moduleCache.get(cacheKey);
}

/** circom's FNV-1a 64-bit hash of a signal name, split into (MSB, LSB) 32-bit halves. */
export function fnvHash(name: string): [number, number] {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < name.length; i++) {
    h ^= BigInt(name.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return [Number(h >> 32n), Number(h & 0xffffffffn)];
}

class CircomRuntimeFailure extends Error {}

/**
 * Compute the witness of a circuit for an already normalized input.
 *
 * @param circuit - circuit name, used in error messages
 * @param module - the compiled witness wasm ({@link compileWitnessWasm})
 * @param input - input from `normalizeInput`: each signal flattened to field elements
 * @param options - see {@link WitnessOptions}
 * @throws InputError for unknown signals, wrong array lengths or missing signals (all named)
 * @throws WitnessError when the circuit's wasm fails (a failing `assert`, an unsatisfied `===`, ...)
 */
export function computeWitness(
  circuit: string,
  module: WebAssembly.Module,
  input: NormalizedInput,
  options: WitnessOptions = {},
): WitnessOutput {
  const logs: string[] = [];
  let errStr = "";
  let msgStr = "";
  // Set right after instantiation; the runtime callbacks below only run later, from inside the wasm.
  let exports: CircomWasmExports | undefined = undefined;
  const getMessage = (): string => {
    let s = "";
    for (let c = exports!.getMessageChar(); c !== 0; c = exports!.getMessageChar()) s += String.fromCharCode(c);
    return s;
  };
  const emit = (line: string): void => {
    logs.push(line);
    options.onLog?.(line);
  };
  const runtime = {
    exceptionHandler(code: number): never {
      const kinds: Record<number, string> = {
        1: "Signal not found.",
        2: "Too many signals set.",
        3: "Signal already set.",
        4: "Assert Failed.",
        5: "Not enough memory.",
        6: "Input signal array access exceeds the size.",
      };
      throw new CircomRuntimeFailure(`${kinds[code] ?? `Unknown error (code ${code}).`}\n${errStr}`);
    },
    printErrorMessage(): void {
      errStr += getMessage() + "\n";
    },
    writeBufferMessage(): void {
      const msg = getMessage();
      if (msg === "\n") {
        emit(msgStr);
        msgStr = "";
      } else {
        msgStr += (msgStr !== "" ? " " : "") + msg;
      }
    },
    showSharedRWMemory(): void {
      msgStr += (msgStr !== "" ? " " : "") + readField(exports!, n32).toString();
    },
  };
  const instance = instantiate(circuit, module, runtime);
  exports = instance.exports;
  const { n32, prime } = instance;

  // Check every signal by name and length before running anything.
  const problems: InputProblem[] = [];
  const entries: Array<[number, number, bigint[]]> = [];
  let covered = 0; // declared sizes of the input signals named in `input`
  for (const [name, values] of Object.entries(input)) {
    const [msb, lsb] = fnvHash(name);
    const size = exports.getInputSignalSize(msb, lsb);
    if (size <= 0) {
      // circom 2.2 answers 0 (older versions -1) for a name that is not an input of the main component.
      problems.push({ signal: name, problem: "is not an input signal of the circuit (extra signal)" });
    } else {
      covered += size;
      if (values.length !== size) {
        problems.push({ signal: name, problem: `has ${values.length} value(s), the circuit expects ${size}` });
      } else {
        entries.push([msb, lsb, values]);
      }
    }
  }
  const inputSize = exports.getInputSize();
  if (covered < inputSize) {
    const missing = options.sym === undefined ? [] : missingSignals(exports, options.sym, new Set(Object.keys(input)));
    for (const m of missing) problems.push({ signal: m, problem: "is missing" });
    if (missing.length === 0) {
      problems.push({
        signal: "(input)",
        problem: `input signals covering ${inputSize - covered} of the circuit's ${inputSize} input values are missing (keep <name>.sym beside the wasm to have them named)`,
        missingValues: inputSize - covered,
      });
    }
  }
  if (problems.length > 0) throw new InputError(circuit, problems);

  try {
    exports.init(options.sanityCheck === false ? 0 : 1);
    for (const [msb, lsb, values] of entries) {
      values.forEach((v, i) => {
        writeField(exports!, n32, v);
        exports!.setInputSignal(msb, lsb, i);
      });
    }
    const nWitness = exports.getWitnessSize();
    const n8 = n32 * 4;
    // .wtns v2 image: header, section 1 (n8, prime, nWitness), section 2 (witness values, little-endian).
    const headerBytes = 12 + 12 + 4 + n8 + 4 + 12;
    const wtns = new Uint8Array(headerBytes + n8 * nWitness);
    const dv = new DataView(wtns.buffer);
    wtns.set([0x77, 0x74, 0x6e, 0x73], 0); // "wtns"
    dv.setUint32(4, 2, true); // version
    dv.setUint32(8, 2, true); // sections
    dv.setUint32(12, 1, true);
    dv.setBigUint64(16, BigInt(8 + n8), true);
    dv.setUint32(24, n8, true);
    writeLE(dv, 28, prime, n32);
    dv.setUint32(28 + n8, nWitness, true);
    dv.setUint32(32 + n8, 2, true);
    dv.setBigUint64(36 + n8, BigInt(n8 * nWitness), true);
    const witness = new Array<bigint>(nWitness);
    let pos = headerBytes;
    for (let i = 0; i < nWitness; i++) {
      exports.getWitness(i);
      let v = 0n;
      for (let j = 0; j < n32; j++) {
        const limb = exports.readSharedRWMemory(j) >>> 0;
        dv.setUint32(pos + 4 * j, limb, true);
        v |= BigInt(limb) << BigInt(32 * j);
      }
      witness[i] = v;
      pos += n8;
    }
    if (msgStr !== "") emit(msgStr);
    return { witness, wtns, logs };
  } catch (err) {
    if (msgStr !== "") emit(msgStr);
    if (err instanceof CircomRuntimeFailure) throw new WitnessError(circuit, err.message);
    if (err instanceof WebAssembly.RuntimeError) {
      throw new WitnessError(circuit, `wasm trap: ${err.message}\n${errStr}`);
    }
    throw err;
  }
}

function readField(exports: CircomWasmExports, n32: number): bigint {
  let v = 0n;
  for (let j = 0; j < n32; j++) v |= BigInt(exports.readSharedRWMemory(j) >>> 0) << BigInt(32 * j);
  return v;
}

function writeField(exports: CircomWasmExports, n32: number, v: bigint): void {
  for (let j = 0; j < n32; j++) exports.writeSharedRWMemory(j, Number((v >> BigInt(32 * j)) & 0xffffffffn));
}

function writeLE(dv: DataView, offset: number, v: bigint, n32: number): void {
  for (let j = 0; j < n32; j++) dv.setUint32(offset + 4 * j, Number((v >> BigInt(32 * j)) & 0xffffffffn), true);
}

/** No-op circom runtime imports, for an instance that only answers questions about its signals. */
const QUIET_RUNTIME = {
  exceptionHandler(code: number): never {
    throw new CircomRuntimeFailure(`circom runtime error (code ${code})`);
  },
  printErrorMessage(): void {},
  writeBufferMessage(): void {},
  showSharedRWMemory(): void {},
};

/** Instantiate a witness wasm and check that it has the circom >= 2.1 ABI and works over BN254's scalar field. */
function instantiate(
  circuit: string,
  module: WebAssembly.Module,
  runtime: Record<string, (...args: never[]) => unknown>,
): { exports: CircomWasmExports; n32: number; prime: bigint } {
  const imports: WebAssembly.Imports = { runtime };
  if (WebAssembly.Module.imports(module).some((i) => i.module === "env" && i.name === "memory")) {
    imports.env = { memory: new WebAssembly.Memory({ initial: 32767 }) };
  }
  const exports = new WebAssembly.Instance(module, imports).exports as unknown as CircomWasmExports;
  if (typeof exports.getInputSignalSize !== "function" || exports.getVersion() !== 2) {
    throw new Error(`${circuit}: unsupported witness wasm (need circom >= 2.1)`);
  }
  const n32 = exports.getFieldNumLen32();
  exports.getRawPrime();
  const prime = readField(exports, n32);
  if (prime !== BN254_R) throw new Error(`${circuit}: witness wasm is not over the BN254 scalar field`);
  return { exports, n32, prime };
}

/** Names of the main component's input signals that `given` lacks, found via the `.sym` file. */
function missingSignals(exports: CircomWasmExports, sym: Uint8Array | string, given: Set<string>): string[] {
  const text = typeof sym === "string" ? sym : new TextDecoder().decode(sym);
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const label = line.split(",")[3];
    if (label === undefined || !label.startsWith("main.")) continue;
    const base = label.slice(5).replace(/\[.*$/, "");
    if (!base.includes(".")) names.add(base);
  }
  return [...names].filter((n) => !given.has(n) && exports.getInputSignalSize(...fnvHash(n)) > 0);
}

/**
 * Name the missing signals of an {@link InputError} that only counted them (computed without the `.sym`, e.g. in
 * a prover worker): the counting problem is replaced by one `is missing` problem per signal, in place.
 *
 * @param err - the error from {@link computeWitness}
 * @param module - the circuit's compiled witness wasm
 * @param sym - the circuit's `.sym` file (bytes or text)
 * @param given - the signal names the input had
 * @returns a new InputError with the names, or `err` itself if it had no counted-only problem or nothing matched
 */
export function nameMissingInputs(
  err: InputError,
  module: WebAssembly.Module,
  sym: Uint8Array | string,
  given: Iterable<string>,
): InputError {
  const i = err.problems.findIndex((p) => p.missingValues !== undefined);
  if (i < 0) return err;
  const missing = missingSignals(instantiate(err.circuit, module, QUIET_RUNTIME).exports, sym, new Set(given));
  if (missing.length === 0) return err;
  return new InputError(err.circuit, [
    ...err.problems.slice(0, i),
    ...missing.map((signal) => ({ signal, problem: "is missing" })),
    ...err.problems.slice(i + 1),
  ]);
}
