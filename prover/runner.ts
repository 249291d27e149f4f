/**
 * The prover worker's work, shared by the Node worker (`node/worker.ts`) and the Web Worker (`web/worker.ts`):
 * witness generation, Groth16 proving and verification on bytes the host has already checked. Only how snarkjs is
 * imported and how messages travel differ between the two; that is what a {@link RunnerHost} supplies to
 * {@link serveTasks}.
 */
import { serializeError } from "./errors.ts";
import type { ProveResult, WorkerRequest, WorkerResponse, WorkerTask } from "./protocol.ts";
import { cachedWitnessWasm, compileWitnessWasm, computeWitness } from "./witness.ts";

/** The snarkjs module (its browser build in a Web Worker, its Node build in a worker thread). */
export type Snarkjs = typeof import("snarkjs");

/** What a worker provides to {@link serveTasks}. */
export interface RunnerHost {
  /** Import snarkjs (called once, lazily). */
  loadSnarkjs(): Promise<Snarkjs>;
  /** Send a message to the host thread. */
  post(msg: WorkerResponse): void;
  /** Stop receiving messages and end the worker (after the curve threads are gone). */
  exit(): void;
}

/**
 * Build the task runner for one worker: the returned function runs one {@link WorkerTask}. The compiled witness
 * wasm (in `witness.ts`) and the zkey are kept per sha256, snarkjs and its BN254 curve are loaded on first use.
 *
 * @param host - see {@link RunnerHost}
 */
export function createTaskRunner(
  host: Pick<RunnerHost, "loadSnarkjs" | "post">,
): (task: WorkerTask) => Promise<unknown> {
  let snarkjsPromise: Promise<Snarkjs> | undefined;
  let warm = false;
  /** zkeys by sha256: kept, so the host sends each one once (see protocol.ts). */
  const zkeys = new Map<string, Uint8Array>();

  function witnessModule(task: { wasm?: Uint8Array; wasmKey: string }): Promise<WebAssembly.Module> {
    if (task.wasm !== undefined) return compileWitnessWasm(task.wasm, task.wasmKey);
    return cachedWitnessWasm(task.wasmKey) ?? Promise.reject(new Error(`prover worker: no wasm ${task.wasmKey} held`));
  }

  function zkeyOf(task: { zkey?: Uint8Array; zkeyKey: string }): Uint8Array {
    if (task.zkey !== undefined) zkeys.set(task.zkeyKey, task.zkey);
    const zkey = zkeys.get(task.zkeyKey);
    if (zkey === undefined) throw new Error(`prover worker: no zkey ${task.zkeyKey} held`);
    return zkey;
  }

  /** Import snarkjs and build the (multi-threaded, cached) BN254 curve; returns the milliseconds spent, 0 if warm. */
  async function warmup(): Promise<{ snarkjs: Snarkjs; ms: number }> {
    const t0 = performance.now();
    snarkjsPromise ??= host.loadSnarkjs();
    const snarkjs = await snarkjsPromise;
    if (warm) return { snarkjs, ms: 0 };
    await snarkjs.curves.getCurveFromName("bn128");
    warm = true;
    return { snarkjs, ms: performance.now() - t0 };
  }

  return async function run(task: WorkerTask): Promise<unknown> {
    switch (task.op) {
      case "prove": {
        const zkey = zkeyOf(task);
        const module = await witnessModule(task);
        const t0 = performance.now();
        const { wtns } = computeWitness(task.circuit, module, task.input, {
          onLog: (log) => host.post({ log: `[${task.circuit}] ${log}` }),
        });
        const t1 = performance.now();
        const { snarkjs, ms: setupMs } = await warmup();
        const t2 = performance.now();
        let res: Awaited<ReturnType<Snarkjs["groth16"]["prove"]>>;
        try {
          res = await snarkjs.groth16.prove(zkey, wtns);
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          throw new Error(`${task.circuit}: snarkjs groth16.prove failed (${task.zkeyName}): ${msg}`, { cause: err });
        }
        const t3 = performance.now();
        return { ...res, witnessMs: t1 - t0, proveMs: t3 - t2, setupMs } satisfies ProveResult;
      }
      case "witness": {
        const module = await witnessModule(task);
        return computeWitness(task.circuit, module, task.input).witness;
      }
      case "verify":
        return await (await warmup()).snarkjs.groth16.verify(task.vkey, task.publicSignals, task.proof);
      case "warmup":
        await warmup();
        return null;
    }
  };
}

/**
 * The message handler of a prover worker: runs each task and posts its result (or its error, serialized so the
 * host rebuilds the same error class); on `{ op: "close" }` it terminates snarkjs' curve threads, answers
 * `closed` and exits.
 *
 * @param host - see {@link RunnerHost}
 * @returns the function to call with each message received from the host
 */
export function serveTasks(host: RunnerHost): (msg: WorkerRequest) => void {
  const run = createTaskRunner(host);
  return (msg) => {
    if ("op" in msg) {
      void (async () => {
        await globalThis.curve_bn128?.terminate();
        host.post({ closed: true });
        host.exit();
      })();
      return;
    }
    run(msg.task).then(
      (result) => host.post({ id: msg.id, ok: true, result }),
      (err: unknown) => host.post({ id: msg.id, ok: false, error: serializeError(err) }),
    );
  };
}
