/**
 * The browser's prover backend: a pool of module Web Workers running `worker.ts` (the same task runner as the
 * Node worker; queueing and error transport are the portable `WorkerPool`'s, in `../backend.ts`).
 *
 * The worker is created as `new Worker(new URL("./worker.ts", import.meta.url), { type: "module" })`, the pattern
 * Vite, webpack 5 and Parcel recognise to bundle the worker along with the app. Other bundlers (esbuild, Rollup
 * without a plugin) need `prover/web/worker.ts` bundled as an entry of its own and its URL passed as
 * {@link WebWorkerBackendOptions.workerUrl}.
 */
import { WorkerPool, type WorkerEvents, type WorkerHandle } from "../backend.ts";
import type { WorkerRequest, WorkerResponse } from "../protocol.ts";

/** Options of {@link WebWorkerBackend}. */
export interface WebWorkerBackendOptions {
  /**
   * Maximum number of workers (default 1: snarkjs already spreads one proof over `navigator.hardwareConcurrency`
   * threads of its own, so more workers mostly add memory, which phones lack).
   */
  size?: number;
  /** URL of the bundled worker script (a module worker); default `./worker.ts` next to this file. */
  workerUrl?: string | URL;
  /** Create each worker yourself instead (e.g. a bundler's `?worker` import); overrides `workerUrl`. */
  createWorker?: () => Worker;
  /** Sink for circom `log()` lines printed while proving (default `console.log`). */
  onLog?: (line: string) => void;
}

/** A pool of Web Workers proving in the background of a page (or of another worker). */
export class WebWorkerBackend extends WorkerPool {
  /** @param options - see {@link WebWorkerBackendOptions} */
  constructor(options: WebWorkerBackendOptions = {}) {
    const url = options.workerUrl;
    const create: () => Worker =
      options.createWorker ??
      (url !== undefined
        ? () => new Worker(url, { type: "module" })
        : // Kept literal so that bundlers see (and bundle) the worker.
          () => new Worker(new URL("./worker.ts", import.meta.url), { type: "module" }));
    const spawn = (events: WorkerEvents): WorkerHandle => {
      if (options.createWorker === undefined && typeof Worker !== "function") {
        throw new Error("prover: this environment has no Web Workers; pass a ProverBackend as the backend option");
      }
      return spawnWebWorker(create, events);
    };
    super(options.size ?? 1, spawn, options.onLog ?? ((line) => console.log(line)));
  }
}

function spawnWebWorker(create: () => Worker, events: WorkerEvents): WorkerHandle {
  const worker = create();
  let onClosed: (() => void) | undefined;
  worker.onmessage = (e: MessageEvent<WorkerResponse>) => {
    if ("closed" in e.data) onClosed?.();
    events.message(e.data);
  };
  // The runner reports every task error as a message, so an error event means the worker itself broke (or its
  // script failed to load): it is not reused.
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    worker.terminate();
    events.fail(new Error(`prover worker crashed: ${e.message || "the worker script failed to load"}`));
  };
  worker.onmessageerror = () => {
    worker.terminate();
    events.fail(new Error("prover worker message error"));
  };
  return {
    post: (msg: WorkerRequest) => worker.postMessage(msg),
    async stop(graceMs) {
      // No exit event in browsers: the worker answers `closed` once its curve threads are gone.
      await new Promise<void>((res) => {
        onClosed = res;
        setTimeout(res, graceMs);
        worker.postMessage({ op: "close" } satisfies WorkerRequest);
      });
      worker.terminate();
    },
  };
}
