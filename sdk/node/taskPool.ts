/**
 * Node-only adapter behind `#task-pool` (see sdk/core/offThread.ts): a small pool of `worker_threads` workers that
 * each import one browser-safe task module (by URL) and run its exported functions on messages, so CPU-heavy work
 * (trial decryption, tree hashing) leaves the caller's thread and uses the other cores. Arguments and results are
 * structured-cloned; `ArrayBuffer`s given as `transfer` (and those a task returns) are moved, not copied.
 *
 * Workers start on first use and are `unref()`ed while idle, so a script that is done exits without closing the
 * pool. In a browser `taskPool.browser.ts` gives no pool and the caller runs the task in its own thread.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { defaultWorkerExecArgv } from "../../prover/node/pool.ts";

/** Workers running one task module; `run` queues a call and resolves with its result. */
export interface TaskPool {
  /** Number of workers (tasks run at once). */
  readonly size: number;
  /**
   * Calls the task module's export `name` with `args` on a free worker.
   * @param transfer buffers in `args` to move to the worker (they are unusable here afterwards)
   * @throws Error with the worker's message when the task throws or the worker dies
   */
  run<R>(name: string, args: unknown[], transfer?: ArrayBuffer[]): Promise<R>;
  /** Starts every worker now (they load the task module while the caller does other work), idle until used. */
  start(): void;
  /** Stops the workers (queued and running tasks are rejected). */
  close(): Promise<void>;
}

type Reply = { id: number; result?: unknown; error?: string };
interface Job {
  id: number;
  name: string;
  args: unknown[];
  transfer: ArrayBuffer[];
  resolve: (value: unknown) => void;
  reject: (e: Error) => void;
}

const WORKER_URL = new URL(import.meta.url.endsWith(".ts") ? "./taskWorker.ts" : "./taskWorker.js", import.meta.url);

class WorkerTaskPool implements TaskPool {
  readonly size: number;
  readonly #module: string;
  readonly #idle: Worker[] = [];
  readonly #all = new Set<Worker>();
  readonly #running = new Map<Worker, Job>();
  readonly #queue: Job[] = [];
  #nextId = 0;

  constructor(module: string, size: number) {
    this.#module = module;
    this.size = size;
  }

  run<R>(name: string, args: unknown[], transfer: ArrayBuffer[] = []): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, name, args, transfer, resolve: resolve as (v: unknown) => void, reject });
      this.#dispatch();
    });
  }

  start(): void {
    while (this.#all.size < this.size) {
      const worker = this.#spawn();
      worker.unref();
      this.#idle.push(worker);
    }
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const worker = this.#idle.pop() ?? (this.#all.size < this.size ? this.#spawn() : undefined);
      if (!worker) return;
      const job = this.#queue.shift()!;
      this.#running.set(worker, job);
      worker.ref();
      worker.postMessage({ id: job.id, name: job.name, args: job.args }, job.transfer);
    }
  }

  #spawn(): Worker {
    const worker = new Worker(WORKER_URL, { execArgv: defaultWorkerExecArgv(), workerData: { module: this.#module } });
    this.#all.add(worker);
    const fail = (e: Error) => {
      this.#all.delete(worker);
      if (this.#idle.includes(worker)) this.#idle.splice(this.#idle.indexOf(worker), 1);
      const job = this.#running.get(worker);
      this.#running.delete(worker);
      job?.reject(e);
      this.#dispatch();
    };
    worker.on("message", (reply: Reply) => {
      const job = this.#running.get(worker);
      this.#running.delete(worker);
      worker.unref();
      this.#idle.push(worker);
      if (job && reply.id === job.id) {
        if (reply.error !== undefined) job.reject(new Error(`worker task ${job.name} failed: ${reply.error}`));
        else job.resolve(reply.result);
      }
      this.#dispatch();
    });
    worker.on("error", (e) => fail(new Error(`task worker crashed: ${e.message}`, { cause: e })));
    worker.on("exit", (code) => fail(new Error(`task worker exited (code ${code}) while running a task`)));
    return worker;
  }

  async close(): Promise<void> {
    for (const job of this.#queue.splice(0)) job.reject(new Error("task pool closed"));
    const workers = [...this.#all];
    this.#all.clear();
    this.#idle.length = 0;
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

const pools = new Map<string, TaskPool>();

/**
 * The process's pool for the task module at `moduleUrl` (created on first call): min(2, cores) workers, or none
 * (`undefined`) on a single core, where a worker would only add its start-up to the same work.
 */
export function sharedTaskPool(moduleUrl: string): TaskPool | undefined {
  const size = Math.min(2, availableParallelism());
  if (size < 2) return undefined;
  let pool = pools.get(moduleUrl);
  if (!pool) pools.set(moduleUrl, (pool = new WorkerTaskPool(moduleUrl, size)));
  return pool;
}
