/**
 * Node prover worker (runs in a `worker_threads` Worker started by `pool.ts`): the shared task runner
 * (`../runner.ts`: witness generation, Groth16 proving and verification on checked bytes) behind a
 * `parentPort`, so the caller's thread stays responsive and snarkjs' curve threads never live in it.
 *
 * Messages are `WorkerRequest` in, `WorkerResponse` out (`../protocol.ts`); `{ op: "close" }` terminates the
 * curve and lets the worker exit.
 */
import { createRequire } from "node:module";
import { parentPort } from "node:worker_threads";
import { serveTasks, type Snarkjs } from "../runner.ts";

export type {
  ProveRequest,
  ProveResult,
  VerifyRequest,
  WarmupRequest,
  WitnessRequest,
  WorkerRequest,
  WorkerResponse,
  WorkerTask,
} from "../protocol.ts";

const port = parentPort;
if (port === null) throw new Error("prover/node/worker.ts must run in a worker thread");

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
async function loadSnarkjs(): Promise<Snarkjs> {
  const threads = createRequire(import.meta.url)("node:worker_threads") as { isMainThread: boolean };
  const saved = threads.isMainThread;
  threads.isMainThread = true;
  try {
    return await import("snarkjs");
  } finally {
    threads.isMainThread = saved;
  }
}

port.on(
  "message",
  serveTasks({
    loadSnarkjs,
    post: (msg) => port.postMessage(msg),
    exit: () => port.close(),
  }),
);
