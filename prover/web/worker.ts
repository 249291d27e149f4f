/**
 * Browser prover worker (a module Web Worker started by `backend.ts`): the shared task runner (`../runner.ts`)
 * behind `postMessage`. snarkjs resolves to its browser build here (the `browser` export condition), which makes
 * its BN254 curve threads nested Web Workers of this one.
 */
import { serveTasks } from "../runner.ts";

/** The parts of a dedicated worker's global scope used here (the DOM lib types `self` as a Window). */
interface DedicatedWorkerScope {
  postMessage(message: unknown): void;
  close(): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

const scope = globalThis as unknown as DedicatedWorkerScope;

const handle = serveTasks({
  loadSnarkjs: () => import("snarkjs"),
  post: (msg) => scope.postMessage(msg),
  exit: () => scope.close(),
});

scope.addEventListener("message", (event) => handle(event.data));
