/**
 * Where proofs run: a {@link ProverBackend}. Two ship with the prover, both pools of workers built on
 * {@link WorkerPool} here: `node/pool.ts` (`worker_threads`) and `web/backend.ts` (Web Workers). They differ only
 * in how a worker is started, talked to and stopped (a {@link WorkerHandle}); queueing, one task per worker at a
 * time, error transport and shutdown are written once, here.
 */
import { deserializeError } from "./errors.ts";
import type { WorkerRequest, WorkerResponse, WorkerTask } from "./protocol.ts";

/** Runs prover tasks somewhere other than the caller's thread. */
export interface ProverBackend {
  /**
   * Run one task.
   *
   * @param task - the task (bytes, not paths: see `protocol.ts`)
   * @returns the task's result; rejects with the worker's error rebuilt in its class (see `errors.ts`)
   */
  run<T>(task: WorkerTask): Promise<T>;
  /** Reject queued tasks, let running ones finish, then stop every worker. Later `run` calls reject. */
  close(): Promise<void>;
}

/** Callbacks a {@link WorkerHandle} reports to. */
export interface WorkerEvents {
  /** A message from the worker. */
  message(msg: WorkerResponse): void;
  /** The worker crashed or exited; it is gone (its running task, if any, fails with `err`). */
  fail(err: Error): void;
}

/** One started worker, as {@link WorkerPool} drives it. */
export interface WorkerHandle {
  /** Send a message to the worker. */
  post(msg: WorkerRequest): void;
  /** Called when a task starts (Node: keep the process alive while the worker is busy). */
  busy?(): void;
  /** Called when the worker is idle again (Node: let the process exit). */
  idle?(): void;
  /** Ask the worker to close (`{ op: "close" }`), forcing termination after `graceMs`; resolves once it is gone. */
  stop(graceMs: number): Promise<void>;
}

interface Task {
  id: number;
  task: WorkerTask;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  /** Resolves when the task settles either way (for `close()`). */
  settled: Promise<void>;
}

interface Slot {
  handle: WorkerHandle;
  current: Task | undefined;
  closing: boolean;
  /** Keys (`wasm:<sha256>`, `zkey:<sha256>`) of the bytes this worker holds: not sent to it again. */
  held: Set<string>;
}

/** The keys of the bytes a task carries. */
function byteKeys(task: WorkerTask): string[] {
  if (task.op === "prove") return [`wasm:${task.wasmKey}`, `zkey:${task.zkeyKey}`];
  if (task.op === "witness") return [`wasm:${task.wasmKey}`];
  return [];
}

/** `task` without the bytes the worker already holds. */
function withoutHeld(task: WorkerTask, held: Set<string>): WorkerTask {
  if (task.op === "prove") {
    return {
      ...task,
      wasm: held.has(`wasm:${task.wasmKey}`) ? undefined : task.wasm,
      zkey: held.has(`zkey:${task.zkeyKey}`) ? undefined : task.zkey,
    };
  }
  if (task.op === "witness") return { ...task, wasm: held.has(`wasm:${task.wasmKey}`) ? undefined : task.wasm };
  return task;
}

/**
 * A pool of prover workers; tasks are queued and run one per worker at a time. Each worker is sent each wasm and
 * zkey once (it keeps them by sha256, see `protocol.ts`).
 */
export class WorkerPool implements ProverBackend {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  /**
   * @param size - maximum number of workers (at least 1)
   * @param spawn - start one worker reporting to `events`
   * @param onLog - sink for circom `log()` lines printed in the workers
   */
  constructor(
    private readonly size: number,
    private readonly spawn: (events: WorkerEvents) => WorkerHandle,
    private readonly onLog: (line: string) => void,
  ) {
    this.size = Math.max(1, size);
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
      let settle!: () => void;
      const settled = new Promise<void>((res) => (settle = res));
      this.queue.push({
        id: this.nextId++,
        task,
        resolve: (v) => (settle(), resolve(v as T)),
        reject: (e) => (settle(), reject(e)),
        settled,
      });
      this.dispatch();
    });
  }

  /**
   * Start every worker (up to the pool size) and have each load snarkjs and build the BN254 curve, so the next
   * proofs pay neither the worker start nor the curve set-up (about 0.2 s and 0.3 s on 2 cores in Node).
   */
  async warmup(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, () => this.run({ op: "warmup" })));
  }

  /** Reject queued tasks, let running ones finish, then stop every worker (curve threads terminated first). */
  async close(graceMs = 5000): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error("prover pool closed"));
    await Promise.all(
      [...this.slots].map(async (slot) => {
        if (slot.current !== undefined) await slot.current.settled;
        slot.closing = true;
        await slot.handle.stop(graceMs);
        this.remove(slot);
      }),
    );
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.current === undefined && !s.closing);
      if (slot === undefined) {
        if (this.slots.length >= this.size) return;
        try {
          slot = this.start();
        } catch (err) {
          // A worker that cannot even start (no Worker support, bad URL): fail the task, not the whole pool.
          this.queue.shift()!.reject(err instanceof Error ? err : new Error(String(err)));
          continue;
        }
      }
      const task = this.queue.shift()!;
      slot.current = task;
      slot.handle.busy?.();
      slot.handle.post({ id: task.id, task: withoutHeld(task.task, slot.held) });
    }
  }

  private remove(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }

  private start(): Slot {
    // `spawn` may call back synchronously (a worker that cannot start), so the slot exists before it runs.
    const slot = { current: undefined, closing: false, held: new Set<string>() } as unknown as Slot;
    this.slots.push(slot);
    const events: WorkerEvents = {
      message: (msg) => {
        if ("log" in msg) {
          this.onLog(msg.log);
          return;
        }
        if ("closed" in msg) return;
        const task = slot.current;
        if (task === undefined || task.id !== msg.id) return;
        slot.current = undefined;
        slot.handle.idle?.();
        if (msg.ok) {
          // Only a task that went through proves the worker kept its bytes (a wasm that failed to compile is not).
          for (const key of byteKeys(task.task)) slot.held.add(key);
          task.resolve(msg.result);
        } else {
          task.reject(deserializeError(msg.error));
        }
        this.dispatch();
      },
      fail: (err) => {
        this.remove(slot);
        const task = slot.current;
        slot.current = undefined;
        task?.reject(err);
        if (!this.closed) this.dispatch();
      },
    };
    try {
      slot.handle = this.spawn(events);
    } catch (err) {
      this.remove(slot);
      throw err;
    }
    return slot;
  }
}
