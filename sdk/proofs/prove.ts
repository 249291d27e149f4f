/**
 * The one place where the SDK's typed proofs meet the proof engine: prove a circuit from a checked witness, make
 * sure the circuit's public signals are exactly the ones the SDK computed, and verify against the circuit's
 * verification key. `provePay`, `proveLock`, `proveClose`, `proveTransact` (and their `verify*`) are built on it.
 */
import {
  generateProof,
  verifyProof,
  type CircuitInput,
  type Groth16Proof,
  type ProverOptions,
  type SolidityCalldata,
} from "../../prover/index.ts";
import { ZkchargeError } from "../core/errors.ts";

/** The circuits the SDK proves. */
export type CircuitName = "pay" | "transact" | "lock" | "close";

/** How long proving took on this device (for benchmarks; never hand these to a counterparty). */
export interface ProofTimings {
  /** Witness computation, milliseconds. */
  witnessMs: number;
  /** `groth16.prove`, milliseconds. */
  proveMs: number;
  /** One-off prover start-up in a fresh worker, milliseconds (0 when warm). */
  setupMs: number;
}

/** A Groth16 proof with its named public signals. */
export interface ProofWithSignals<S> {
  /** The proof as snarkjs returns it (what `verify*` and a relayer's local check take). */
  proof: Groth16Proof;
  /** The public signals by name. */
  publicSignals: S;
}

/** What every `prove*` returns: the proof, its public signals, and the proof formatted for the contracts. */
export interface ProvedCircuit<S> extends ProofWithSignals<S> {
  /** The proof points as the Solidity verifier (and so the pool) takes them. */
  calldata: SolidityCalldata;
  /** Prover timings on this device. */
  timings: ProofTimings;
}

/** The circuit's public signals differ from what the SDK computed: the SDK and the circuit disagree (a bug). */
export class PublicSignalMismatchError extends ZkchargeError {
  /** @param message which circuit and which signal */
  constructor(message: string) {
    super("PUBLIC_SIGNAL_MISMATCH", message);
  }
}

/**
 * Proves `circuit` for a checked witness input and checks the circuit's public signals against `expected`
 * (the same values, in circuit order, named by `names`).
 */
export async function proveCircuit<S>(
  circuit: CircuitName,
  input: CircuitInput,
  publicSignals: S,
  expected: readonly bigint[],
  names: readonly string[],
  options: ProverOptions = {},
): Promise<ProvedCircuit<S>> {
  const generated = await generateProof(circuit, input, options);
  generated.publicSignals.forEach((value, i) => {
    if (value !== expected[i]) {
      throw new PublicSignalMismatchError(
        `${circuit}: the circuit output ${names[i] ?? `signal ${i}`} = ${value}, the SDK computed ${expected[i]}`,
      );
    }
  });
  const { witnessMs, proveMs, setupMs } = generated;
  return {
    proof: generated.proof,
    publicSignals,
    calldata: generated.calldata,
    timings: { witnessMs, proveMs, setupMs },
  };
}

/** Verifies a proof of `circuit` against its verification key, with the public signals in circuit order. */
export function verifyCircuit(
  circuit: CircuitName,
  proof: Groth16Proof,
  signals: readonly bigint[],
  options: ProverOptions = {},
): Promise<boolean> {
  return verifyProof(circuit, proof, signals, options);
}
