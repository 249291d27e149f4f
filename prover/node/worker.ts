/**
 * Node prover worker (runs in a `worker_threads` Worker started by `pool.ts`): the shared task runner
 * (`../runner.ts`: witness generation, Groth16 proving and verification on checked bytes) behind a
 * `parentPort`, so the caller's thread stays responsive and snarkjs' curve threads never live in it.
 *
 * Messages are `WorkerRequest` in, `WorkerResponse` out (`../protocol.ts`); `{ op: "close" }` terminates the
 * curve and lets the worker exit.
 */
import { parentPort } from "node:worker_threads";
import { serveTasks, type Snarkjs } from "../runner.ts";
import { importAsParentThread } from "./ffjavascriptImport.ts";

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

/** Imports snarkjs inside this worker thread (see ffjavascriptImport.ts for why it needs care). */
const loadSnarkjs = (): Promise<Snarkjs> => importAsParentThread(() => import("snarkjs"));

port.on(
  "message",
  serveTasks({
    loadSnarkjs,
    post: (msg) => port.postMessage(msg),
    exit: () => port.close(),
  }),
);
