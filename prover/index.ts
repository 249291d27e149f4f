/**
 * zkcharge prover: Groth16 proofs for the zkcharge circuits (circom 2 + snarkjs), proved in workers. Portable: the
 * same code proves in Node (`worker_threads`) and in a browser (Web Workers).
 *
 * ```ts
 * import { generateProof, verifyProof } from "../prover/index.ts";
 * const { proof, publicSignals, calldata } = await generateProof("pay", input);
 * await verifyProof("pay", proof, publicSignals); // true
 *
 * // In a browser wallet: artifacts over HTTP, pinned by a manifest shipped with the app.
 * const options = { source: urlSource("https://wallet.example/circuits/"), manifest: pinnedManifest };
 * await generateProof("pay", input, options);
 * ```
 *
 * Artifacts come from an {@link ArtifactSource} (default in Node: the repository's `build/circuits/`, see
 * `artifacts.ts`) and every file is checked against the manifest's sha256 first. Inputs are range-checked
 * (`0 <= v < r`) and matched by name before any wasm runs. The default backend is chosen per platform through
 * package.json `"imports"` (`#prover-platform`), so this module imports no Node built-in; Node-only helpers
 * (file sources, the repository layout, the worker_threads pool) are in `node/index.ts`.
 */
import type { Groth16Proof } from "snarkjs";
import { platform } from "#prover-platform";
import { loadArtifacts, type ArtifactOptions, type CircuitArtifacts } from "./artifacts.ts";
import type { ProverBackend } from "./backend.ts";
import { InputError } from "./errors.ts";
import { normalizeInput, type CircuitInput, type NormalizedInput } from "./field.ts";
import type { ProveResult } from "./protocol.ts";
import { compileWitnessWasm, computeWitness, nameMissingInputs } from "./witness.ts";

export {
  loadArtifacts,
  clearArtifactsCache,
  resolveSource,
  type ArtifactOptions,
  type CircuitArtifacts,
  type Manifest,
  type ManifestCircuit,
  type ManifestHashes,
} from "./artifacts.ts";
export {
  urlSource,
  memorySource,
  circuitFiles,
  sha256Hex,
  MANIFEST_FILE,
  type ArtifactSource,
  type CircuitFiles,
  type UrlSourceOptions,
} from "./sources.ts";
export { StaleArtifactsError, InputError, WitnessError, REBUILD_COMMAND, type InputProblem } from "./errors.ts";
export { BN254_R, normalizeInput, type CircuitInput, type InputValue, type InputScalar } from "./field.ts";
export { WorkerPool, type ProverBackend, type WorkerEvents, type WorkerHandle } from "./backend.ts";
export { WebWorkerBackend, type WebWorkerBackendOptions } from "./web/backend.ts";
export type { ProveResult, WorkerTask } from "./protocol.ts";
export type { Groth16Proof } from "snarkjs";

/** Proof points as the snarkjs-generated Solidity verifier takes them (`verifyProof(a, b, c, pubSignals)`). */
export interface SolidityCalldata {
  a: [bigint, bigint];
  /** G2 point with each coordinate pair swapped (`[x.c1, x.c0]`), as the EVM pairing precompile expects. */
  b: [[bigint, bigint], [bigint, bigint]];
  c: [bigint, bigint];
}

/** Result of {@link generateProof}. */
export interface GeneratedProof {
  /** The snarkjs proof object (decimal strings), as `verifyProof` / `snarkjs.groth16.verify` take it. */
  proof: Groth16Proof;
  /** Public signals in circuit order (outputs, then public inputs; names in the manifest's `publicSignals`). */
  publicSignals: bigint[];
  /** The proof formatted for the Solidity verifier. */
  calldata: SolidityCalldata;
  /** Witness generation time in the worker, milliseconds. */
  witnessMs: number;
  /** `groth16.prove` time in the worker, milliseconds (excludes `setupMs`). */
  proveMs: number;
  /** One-off snarkjs import + BN254 curve build in a fresh worker, milliseconds; 0 once the worker is warm. */
  setupMs: number;
}

/** Options of {@link generateProof} and {@link verifyProof}: where the artifacts come from, where proofs run. */
export interface ProverOptions extends ArtifactOptions {
  /**
   * Where to prove and verify (default: a shared backend created on first use, see {@link getDefaultBackend}:
   * a `worker_threads` pool in Node, a Web Worker in browsers).
   */
  backend?: ProverBackend;
}

let defaultBackend: ProverBackend | undefined;

/**
 * The shared default backend, created on first use: in Node a `worker_threads` pool whose idle workers never keep
 * the process alive; elsewhere a Web Worker backend.
 */
export function getDefaultBackend(): ProverBackend {
  defaultBackend ??= platform.createBackend();
  return defaultBackend;
}

/**
 * Stop the default backend's workers and any BN254 curve threads snarkjs started in this thread. Optional for
 * scripts (idle workers do not hold the process open); useful in tests and long-running services.
 */
export async function shutdownProver(): Promise<void> {
  const backend = defaultBackend;
  defaultBackend = undefined;
  await backend?.close();
  await globalThis.curve_bn128?.terminate();
}

/**
 * If `err` counts missing input values without naming them (the worker has no `.sym`), name them from the
 * source's `.sym`, read now and only now; any other error is returned unchanged.
 */
async function withMissingNamed(err: unknown, art: CircuitArtifacts, input: NormalizedInput): Promise<unknown> {
  if (!(err instanceof InputError) || !err.problems.some((p) => p.missingValues !== undefined)) return err;
  const sym = await art.readSym();
  if (sym === undefined) return err;
  const module = await compileWitnessWasm(art.wasm, art.circuit.sha256.wasm);
  return nameMissingInputs(err, module, sym, Object.keys(input));
}

/**
 * Prove `input` for circuit `name` in a worker: artifacts are checked, the input is range-checked and matched
 * against the circuit's input signals, the witness computed, then `snarkjs.groth16.prove` run.
 *
 * @param name - circuit name (`pay`, `transact`, ...)
 * @param input - signal name to value (bigint, safe integer, decimal or 0x-hex string; nested arrays for arrays)
 * @param options - `source` (or, in Node, `root`) and `manifest` for other artifacts, `backend` to run elsewhere
 * @throws StaleArtifactsError if an artifact is missing or differs from the manifest
 * @throws InputError naming each out-of-range, unparsable, extra or missing signal
 * @throws WitnessError if the circuit rejects the input (the failing template and line named)
 */
export async function generateProof(
  name: string,
  input: CircuitInput,
  options: ProverOptions = {},
): Promise<GeneratedProof> {
  const normalized = normalizeInput(name, input);
  const art = await loadArtifacts(name, options);
  const backend = options.backend ?? getDefaultBackend();
  let res: ProveResult;
  try {
    res = await backend.run<ProveResult>({
      op: "prove",
      circuit: name,
      wasm: art.wasm,
      wasmKey: art.circuit.sha256.wasm,
      zkey: art.zkey,
      zkeyKey: art.circuit.sha256.zkey,
      zkeyName: art.zkeyPath,
      input: normalized,
    });
  } catch (err) {
    throw await withMissingNamed(err, art, normalized);
  }
  const publicSignals = res.publicSignals.map((s) => BigInt(s));
  if (publicSignals.length !== art.vkey.nPublic) {
    throw new Error(`${name}: prover returned ${publicSignals.length} public signals, vkey has ${art.vkey.nPublic}`);
  }
  return {
    proof: res.proof,
    publicSignals,
    calldata: formatCalldata(res.proof),
    witnessMs: res.witnessMs,
    proveMs: res.proveMs,
    setupMs: res.setupMs,
  };
}

/**
 * Verify a Groth16 proof against the circuit's `verification_key.json` (in a worker, so no snarkjs curve threads
 * are left in the caller's).
 *
 * @param name - circuit name
 * @param proof - the snarkjs proof object
 * @param publicSignals - public signals in circuit order (bigint or decimal strings)
 * @param options - as for {@link generateProof}
 * @returns whether the proof verifies (false also for a public signal `>= r`)
 * @throws InputError if the number of public signals differs from the verification key's
 */
export async function verifyProof(
  name: string,
  proof: Groth16Proof,
  publicSignals: ReadonlyArray<bigint | string>,
  options: ProverOptions = {},
): Promise<boolean> {
  const art = await loadArtifacts(name, options);
  if (publicSignals.length !== art.vkey.nPublic) {
    throw new InputError(name, [
      {
        signal: "publicSignals",
        problem: `has ${publicSignals.length} value(s), the verification key expects ${art.vkey.nPublic}`,
      },
    ]);
  }
  const backend = options.backend ?? getDefaultBackend();
  return await backend.run<boolean>({
    op: "verify",
    vkey: art.vkey,
    proof,
    publicSignals: publicSignals.map((s) => BigInt(s).toString()),
  });
}

/** Options of {@link calculateWitness}. */
export interface WitnessCalcOptions extends ArtifactOptions {
  /** Called with each line a circom `log()` prints (default: ignored). */
  onLog?: (line: string) => void;
  /** Run circom's runtime sanity checks (default true). */
  sanityCheck?: boolean;
}

/**
 * Compute a circuit's full witness in the calling thread (for circuit tests: no proving key work, no worker).
 * `witness[0]` is 1, then the public outputs and inputs in `publicSignals` order, then private signals. (In a
 * browser, prefer a worker: on the main thread this blocks the page, and browsers may refuse to instantiate a
 * large wasm synchronously there.)
 *
 * @param name - circuit name
 * @param input - as for {@link generateProof}
 * @param options - `source` (or, in Node, `root`) and `manifest` for other artifacts
 * @throws StaleArtifactsError, InputError, or WitnessError naming the circuit and the failing template and line
 */
export async function calculateWitness(
  name: string,
  input: CircuitInput,
  options: WitnessCalcOptions = {},
): Promise<bigint[]> {
  const normalized = normalizeInput(name, input);
  const art = await loadArtifacts(name, options);
  const module = await compileWitnessWasm(art.wasm, art.circuit.sha256.wasm);
  try {
    return computeWitness(name, module, normalized, { sanityCheck: options.sanityCheck, onLog: options.onLog }).witness;
  } catch (err) {
    throw await withMissingNamed(err, art, normalized);
  }
}

/**
 * Format a snarkjs Groth16 proof for the Solidity verifier: affine points as bigints, with `b`'s coordinate pairs
 * swapped (`[[x1, x0], [y1, y0]]`), exactly as `snarkjs zkey export soliditycalldata` does.
 *
 * @param proof - the snarkjs proof object
 */
export function formatCalldata(proof: Groth16Proof): SolidityCalldata {
  const n = (s: string): bigint => BigInt(s);
  return {
    a: [n(proof.pi_a[0]), n(proof.pi_a[1])],
    b: [
      [n(proof.pi_b[0][1]), n(proof.pi_b[0][0])],
      [n(proof.pi_b[1][1]), n(proof.pi_b[1][0])],
    ],
    c: [n(proof.pi_c[0]), n(proof.pi_c[1])],
  };
}
