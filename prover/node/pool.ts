/**
 * Node's prover backend: a small pool of `worker_threads` workers running `worker.ts` (queueing and error
 * transport are the portable `WorkerPool`'s, in `../backend.ts`).
 *
 * Loading: when this file runs as TypeScript (under `tsx`, `hardhat test`, or Node's type stripping), the worker is
 * `worker.ts` started with `execArgv: ["--import", <tsx loader URL>]`, the loader resolved from this package's
 * `node_modules/tsx`, so the worker can import the other `.ts` modules whatever loader the parent used; a compiled
 * build (`pool.js`) starts `worker.js` with no loader.
 *
 * Lifetime: idle workers are `unref()`ed, so a script that is done exits without calling {@link ProverPool.close};
 * a busy worker keeps the process alive until its task settles. `close()` asks each worker to terminate snarkjs'
 * curve threads and exit (forcing `terminate()` after a grace period).
 */
import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { WorkerPool, type WorkerEvents, type WorkerHandle } from "../backend.ts";
import type { WorkerRequest, WorkerResponse } from "../protocol.ts";

/** Options of {@link ProverPool}. */
export interface PoolOptions {
  /**
   * Maximum number of workers (default: 1 on machines with up to 3 cores, else 2). Each worker's snarkjs already
   * spreads one proof over every core, so more workers mostly add memory.
   */
  size?: number;
  /** Node options for the workers; replaces the default (the tsx loader when running as TypeScript). */
  execArgv?: string[];
  /** Sink for circom `log()` lines printed while proving (default `console.log`). */
  onLog?: (line: string) => void;
}

const isTypeScript = import.meta.url.endsWith(".ts");

/** URL of the worker entry point matching this module's flavour (`worker.ts` or `worker.js`). */
export const WORKER_URL: URL = new URL(isTypeScript ? "./worker.ts" : "./worker.js", import.meta.url);

/** The default worker `execArgv`: the tsx ESM/CJS loader when running as TypeScript, nothing otherwise. */
export function defaultWorkerExecArgv(): string[] {
  if (!isTypeScript) return [];
  const tsxLoader = createRequire(import.meta.url).resolve("tsx");
  return ["--import", pathToFileURL(tsxLoader).href];
}

/** A pool of `worker_threads` prover workers; tasks are queued and run one per worker at a time. */
export class ProverPool extends WorkerPool {
  /** @param options - see {@link PoolOptions} */
  constructor(options: PoolOptions = {}) {
    const execArgv = options.execArgv ?? defaultWorkerExecArgv();
    super(
      options.size ?? (availableParallelism() <= 3 ? 1 : 2),
      (events) => spawnThread(execArgv, events),
      options.onLog ?? ((line) => console.log(line)),
    );
  }
}

function spawnThread(execArgv: string[], events: WorkerEvents): WorkerHandle {
  const worker = new Worker(WORKER_URL, { execArgv });
  worker.on("message", (msg: WorkerResponse) => events.message(msg));
  worker.on("error", (err) => events.fail(new Error(`prover worker crashed: ${err.message}`, { cause: err })));
  worker.on("messageerror", (err) => {
    events.fail(new Error(`prover worker message error: ${err.message}`));
    void worker.terminate();
  });
  worker.on("exit", (code) => events.fail(new Error(`prover worker exited (code ${code}) while running a task`)));
  return {
    post: (msg: WorkerRequest) => worker.postMessage(msg),
    busy: () => worker.ref(),
    idle: () => worker.unref(),
    async stop(graceMs) {
      const exited = new Promise<void>((res) => worker.once("exit", () => res()));
      worker.postMessage({ op: "close" } satisfies WorkerRequest);
      const timer = setTimeout(() => void worker.terminate(), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
