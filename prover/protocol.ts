/**
 * The messages between the prover's host thread and a prover worker (a Node `worker_threads` Worker or a browser
 * Web Worker). Tasks carry bytes, never paths: a worker has no file system in the browser, and the host has
 * already checked every byte against the manifest's sha256.
 *
 * Bytes are keyed by their sha256, and a worker keeps what it was sent (the wasm compiled, the zkey as is), so a
 * `WorkerPool` sends each worker each file once: copying a 20 MB zkey into a worker costs up to 0.2 s, per proof.
 * A task handed to a `ProverBackend` always has its bytes; only the pool leaves out what the worker holds.
 */
import type { Groth16Proof, VerificationKey } from "snarkjs";
import type { SerializedError } from "./errors.ts";
import type { NormalizedInput } from "./field.ts";

/** Prove: compute the witness, then `snarkjs.groth16.prove`. */
export interface ProveRequest {
  op: "prove";
  circuit: string;
  /** The checked witness wasm (left out if the worker holds `wasmKey`). */
  wasm?: Uint8Array;
  /** Cache key of the compiled wasm in the worker: the wasm's sha256 (compiled once per worker). */
  wasmKey: string;
  /** The checked proving key (left out if the worker holds `zkeyKey`). */
  zkey?: Uint8Array;
  /** Cache key of the zkey in the worker: its sha256. */
  zkeyKey: string;
  /** Where the zkey came from, for error messages. */
  zkeyName: string;
  input: NormalizedInput;
}

/** Result of a {@link ProveRequest}. */
export interface ProveResult {
  proof: Groth16Proof;
  publicSignals: string[];
  witnessMs: number;
  proveMs: number;
  /** One-off snarkjs import and BN254 curve build in a fresh worker (0 once warm); not part of `proveMs`. */
  setupMs: number;
}

/** Load snarkjs and build the BN254 curve now, so the first proof's timing is the proof alone. */
export interface WarmupRequest {
  op: "warmup";
}

/** Verify a proof with `snarkjs.groth16.verify`. */
export interface VerifyRequest {
  op: "verify";
  vkey: VerificationKey;
  proof: Groth16Proof;
  publicSignals: string[];
}

/** Compute the witness only. */
export interface WitnessRequest {
  op: "witness";
  circuit: string;
  /** As in {@link ProveRequest}. */
  wasm?: Uint8Array;
  wasmKey: string;
  input: NormalizedInput;
}

/** A task for a prover worker. */
export type WorkerTask = ProveRequest | VerifyRequest | WitnessRequest | WarmupRequest;
/** Message from the host to a worker; `{ op: "close" }` terminates snarkjs' curve threads and ends the worker. */
export type WorkerRequest = { id: number; task: WorkerTask } | { op: "close" };
/** Message from a worker to the host (`closed` answers `{ op: "close" }` where there is no exit event: browsers). */
export type WorkerResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: SerializedError }
  | { log: string }
  | { closed: true };
