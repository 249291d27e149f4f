/**
 * zkcharge prover: Groth16 proofs for the zkcharge circuits (circom 2 + snarkjs), proved in worker threads.
 *
 * ```ts
 * import { generateProof, verifyProof } from "../prover/index.ts";
 * const { proof, publicSignals, calldata } = await generateProof("pay", input);
 * await verifyProof("pay", proof, publicSignals); // true
 * ```
 *
 * Artifacts come from `build/circuits/` (see `artifacts.ts`) and are checked against the manifest first.
 * Inputs are range-checked (`0 <= v < r`) and matched by name before any wasm runs.
 */
import type { Groth16Proof } from "snarkjs";
import { loadArtifacts, type ArtifactOptions } from "./artifacts.ts";
import { InputError } from "./errors.ts";
import { normalizeInput, type CircuitInput } from "./field.ts";
import { ProverPool } from "./pool.ts";
import type { ProveResult } from "./worker.ts";
import { compileWitnessWasm, computeWitness } from "./witness.ts";

export {
  loadArtifacts,
  clearArtifactsCache,
  artifactPaths,
  sha256File,
  REPO_ROOT,
  type ArtifactOptions,
  type CircuitArtifacts,
  type Manifest,
  type ManifestCircuit,
  type ManifestHashes,
} from "./artifacts.ts";
export {
  StaleArtifactsError,
  InputError,
  WitnessError,
  REBUILD_COMMAND,
  type InputProblem,
} from "./errors.ts";
export { BN254_R, normalizeInput, type CircuitInput, type InputValue, type InputScalar } from "./field.ts";
export { ProverPool, type PoolOptions } from "./pool.ts";
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

/** Options of {@link generateProof} and {@link verifyProof}. */
export interface ProverOptions extends ArtifactOptions {
  /** Pool to run in (default: a process-wide pool created on first use, see {@link getDefaultPool}). */
  pool?: ProverPool;
}

let defaultPool: ProverPool | undefined;

/** The process-wide prover pool (created on first use; idle workers never keep the process alive). */
export function getDefaultPool(): ProverPool {
  defaultPool ??= new ProverPool();
  return defaultPool;
}

/**
 * Stop the default pool's workers and any BN254 curve threads snarkjs started in this thread. Optional for
 * scripts (idle workers do not hold the process open); useful in tests and long-running services.
 */
export async function shutdownProver(): Promise<void> {
  const pool = defaultPool;
  defaultPool = undefined;
  await pool?.close();
  await globalThis.curve_bn128?.terminate();
}

/**
 * Prove `input` for circuit `name` in a worker thread: artifacts are checked, the input is range-checked and
 * matched against the circuit's input signals, the witness computed, then `snarkjs.groth16.prove` run.
 *
 * @param name - circuit name (`pay`, `transact`, ...)
 * @param input - signal name to value (bigint, safe integer, decimal or 0x-hex string; nested arrays for arrays)
 * @param options - `root` for another artifacts tree, `pool` for another pool
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
  const pool = options.pool ?? getDefaultPool();
  const res = await pool.run<ProveResult>({
    op: "prove",
    circuit: name,
    wasmPath: art.wasmPath,
    wasmKey: art.circuit.sha256.wasm,
    zkeyPath: art.zkeyPath,
    symPath: art.symPath,
    input: normalized,
  });
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
 * Verify a Groth16 proof against the circuit's `verification_key.json` (in a worker thread, so no snarkjs curve
 * threads are left in the caller's).
 *
 * @param name - circuit name
 * @param proof - the snarkjs proof object
 * @param publicSignals - public signals in circuit order (bigint or decimal strings)
 * @param options - `root` for another artifacts tree, `pool` for another pool
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
  const pool = options.pool ?? getDefaultPool();
  return await pool.run<boolean>({
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
 * `witness[0]` is 1, then the public outputs and inputs in `publicSignals` order, then private signals.
 *
 * @param name - circuit name
 * @param input - as for {@link generateProof}
 * @param options - `root` for another artifacts tree
 * @throws StaleArtifactsError, InputError, or WitnessError naming the circuit and the failing template and line
 */
export async function calculateWitness(
  name: string,
  input: CircuitInput,
  options: WitnessCalcOptions = {},
): Promise<bigint[]> {
  const normalized = normalizeInput(name, input);
  const art = await loadArtifacts(name, options);
  const module = await compileWitnessWasm(art.wasmPath, art.circuit.sha256.wasm);
  const witnessOptions = { symPath: art.symPath, sanityCheck: options.sanityCheck, onLog: options.onLog };
  return computeWitness(name, module, normalized, witnessOptions).witness;
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
