/**
 * Browser and bundler build of `#task-pool` (see sdk/node/taskPool.ts): no worker pool, so callers run their tasks
 * in their own thread (a page's wallet syncs fewer notes at a time than a fresh Node wallet of a large pool).
 */

/** The interface of sdk/node/taskPool.ts's pool (never created here). */
export interface TaskPool {
  readonly size: number;
  run<R>(name: string, args: unknown[], transfer?: ArrayBuffer[]): Promise<R>;
  start(): void;
  close(): Promise<void>;
}

/** No pool in a browser: the caller runs the task in-thread. */
export function sharedTaskPool(_moduleUrl: string): TaskPool | undefined {
  return undefined;
}
