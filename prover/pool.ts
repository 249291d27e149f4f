/**
 * A small pool of prover workers (`worker.ts` in `worker_threads`).
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
import { deserializeError } from "./errors.ts";
import type { WorkerRequest, WorkerResponse, WorkerTask } from "./worker.ts";

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

interface Task {
  id: number;
  task: WorkerTask;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  current: Task | undefined;
  closing: boolean;
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

/** A pool of prover workers; tasks are queued and run one per worker at a time. */
export class ProverPool {
  private readonly size: number;
  private readonly execArgv: string[];
  private readonly onLog: (line: string) => void;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  /** @param options - see {@link PoolOptions} */
  constructor(options: PoolOptions = {}) {
    this.size = Math.max(1, options.size ?? (availableParallelism() <= 3 ? 1 : 2));
    this.execArgv = options.execArgv ?? defaultWorkerExecArgv();
    this.onLog = options.onLog ?? ((line) => console.log(line));
  }

  /** Number of live workers. */
  get workers(): number {
    return this.slots.length;
  }

  /**
   * Run one task in a worker.
   *
   * @param task - the worker task
   * @returns the task's result; rejects with the worker's error rebuilt in its class (see `errors.ts`), or with an
   *   error if the worker dies
   */
  run<T>(task: WorkerTask): Promise<T> {
    if (this.closed) return Promise.reject(new Error("prover pool is closed"));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, resolve: resolve as (v: unknown) => void, reject });
      this.dispatch();
    });
  }

  /**
   * Start every worker (up to the pool size) and have each load snarkjs and build the BN254 curve, so the next
   * proofs pay neither the thread start nor the curve set-up (about 0.2 s and 0.3 s on 2 cores).
   */
  async warmup(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, () => this.run({ op: "warmup" })));
  }

  /** Reject queued tasks, let running ones finish, then stop every worker (curve threads terminated first). */
  async close(graceMs = 5000): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error("prover pool closed"));
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.current !== undefined) {
          await new Promise<void>((res) => slot.worker.once("message", () => res()).once("exit", () => res()));
        }
        await this.stop(slot, graceMs);
      }),
    );
  }

  private async stop(slot: Slot, graceMs: number): Promise<void> {
    slot.closing = true;
    const exited = new Promise<void>((res) => slot.worker.once("exit", () => res()));
    slot.worker.postMessage({ op: "close" } satisfies WorkerRequest);
    const timer = setTimeout(() => void slot.worker.terminate(), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.current === undefined && !s.closing);
      if (slot === undefined) {
        if (this.slots.length >= this.size) return;
        slot = this.spawn();
      }
      const task = this.queue.shift()!;
      slot.current = task;
      slot.worker.ref();
      slot.worker.postMessage({ id: task.id, task: task.task } satisfies WorkerRequest);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, { execArgv: this.execArgv });
    const slot: Slot = { worker, current: undefined, closing: false };
    this.slots.push(slot);
    worker.on("message", (msg: WorkerResponse) => {
      if ("log" in msg) {
        this.onLog(msg.log);
        return;
      }
      const task = slot.current;
      if (task === undefined || task.id !== msg.id) return;
      slot.current = undefined;
      worker.unref();
      if (msg.ok) task.resolve(msg.result);
      else task.reject(deserializeError(msg.error));
      this.dispatch();
    });
    const fail = (err: Error): void => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      const task = slot.current;
      slot.current = undefined;
      task?.reject(err);
      if (!this.closed) this.dispatch();
    };
    worker.on("error", (err) => fail(new Error(`prover worker crashed: ${err.message}`, { cause: err })));
    worker.on("messageerror", (err) => {
      fail(new Error(`prover worker message error: ${err.message}`));
      void worker.terminate();
    });
    worker.on("exit", (code) => fail(new Error(`prover worker exited (code ${code}) while running a task`)));
    return slot;
  }
}
