/**
 * Prover worker (runs in a `worker_threads` Worker started by `pool.ts`): witness generation, Groth16 proving and
 * verification happen here so the caller's thread stays responsive and snarkjs' curve threads never live in it.
 *
 * Messages are {@link WorkerRequest} in, {@link WorkerResponse} out; `{ op: "close" }` terminates the curve and
 * lets the worker exit.
 */
import { createRequire } from "node:module";
import { parentPort } from "node:worker_threads";
import type { Groth16Proof, VerificationKey } from "snarkjs";
import { serializeError, type SerializedError } from "./errors.ts";
import type { NormalizedInput } from "./field.ts";
import { compileWitnessWasm, computeWitness } from "./witness.ts";

/** Prove: compute the witness, then `snarkjs.groth16.prove`. */
export interface ProveRequest {
  op: "prove";
  circuit: string;
  wasmPath: string;
  /** Cache key for the compiled wasm (its sha256). */
  wasmKey: string;
  zkeyPath: string;
  symPath: string;
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
  wasmPath: string;
  wasmKey: string;
  symPath: string;
  input: NormalizedInput;
}

/** A task for the worker. */
export type WorkerTask = ProveRequest | VerifyRequest | WitnessRequest | WarmupRequest;
/** Message from the pool to the worker. */
export type WorkerRequest = { id: number; task: WorkerTask } | { op: "close" };
/** Message from the worker to the pool. */
export type WorkerResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: SerializedError }
  | { log: string };

const port = parentPort;
if (port === null) throw new Error("prover/worker.ts must run in a worker thread");

type Snarkjs = typeof import("snarkjs");
let snarkjsPromise: Promise<Snarkjs> | undefined;
let warm = false;

/** Import snarkjs and build the (multi-threaded, cached) BN254 curve; returns the milliseconds spent, 0 if warm. */
async function warmup(): Promise<{ snarkjs: Snarkjs; ms: number }> {
  const t0 = performance.now();
  const snarkjs = await loadSnarkjs();
  if (warm) return { snarkjs, ms: 0 };
  await snarkjs.curves.getCurveFromName("bn128");
  warm = true;
  return { snarkjs, ms: performance.now() - t0 };
}

/**
 * Import snarkjs inside this worker thread.
 *
 * ffjavascript pins `web-worker@1.2.0`, whose Node entry decides at load time, from
 * `worker_threads.isMainThread`, whether it is the parent side (a `Worker` class) or the inside of a thread it
 * spawned itself (and then crashes with "Cannot destructure property 'mod' of 'threads.workerData'" in any other
 * worker thread; fixed upstream only after 1.2.0). So `isMainThread` reads `true` while snarkjs (and with it
 * web-worker) is first evaluated, which makes web-worker take its parent side here: ffjavascript's curve threads
 * then become nested workers of this one, and they get `workerData.mod` as usual.
 */
function loadSnarkjs(): Promise<Snarkjs> {
  snarkjsPromise ??= (async () => {
    const threads = createRequire(import.meta.url)("node:worker_threads") as { isMainThread: boolean };
    const saved = threads.isMainThread;
    threads.isMainThread = true;
    try {
      return await import("snarkjs");
    } finally {
      threads.isMainThread = saved;
    }
  })();
  return snarkjsPromise;
}

async function run(task: WorkerTask): Promise<unknown> {
  switch (task.op) {
    case "prove": {
      const module = await compileWitnessWasm(task.wasmPath, task.wasmKey);
      const t0 = performance.now();
      const { wtns } = computeWitness(task.circuit, module, task.input, {
        symPath: task.symPath,
        onLog: (log) => port!.postMessage({ log: `[${task.circuit}] ${log}` } satisfies WorkerResponse),
      });
      const t1 = performance.now();
      const { snarkjs, ms: setupMs } = await warmup();
      const t2 = performance.now();
      let res: Awaited<ReturnType<Snarkjs["groth16"]["prove"]>>;
      try {
        res = await snarkjs.groth16.prove(task.zkeyPath, wtns);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        throw new Error(`${task.circuit}: snarkjs groth16.prove failed (${task.zkeyPath}): ${msg}`, { cause: err });
      }
      const t3 = performance.now();
      return { ...res, witnessMs: t1 - t0, proveMs: t3 - t2, setupMs } satisfies ProveResult;
    }
    case "witness": {
      const module = await compileWitnessWasm(task.wasmPath, task.wasmKey);
      return computeWitness(task.circuit, module, task.input, { symPath: task.symPath }).witness;
    }
    case "verify":
      return await (await warmup()).snarkjs.groth16.verify(task.vkey, task.publicSignals, task.proof);
    case "warmup":
      await warmup();
      return null;
  }
}

port.on("message", (msg: WorkerRequest) => {
  if ("op" in msg) {
    void (async () => {
      await globalThis.curve_bn128?.terminate();
      port.close();
    })();
    return;
  }
  run(msg.task).then(
    (result) => port.postMessage({ id: msg.id, ok: true, result } satisfies WorkerResponse),
    (err: unknown) => port.postMessage({ id: msg.id, ok: false, error: serializeError(err) } satisfies WorkerResponse),
  );
});
