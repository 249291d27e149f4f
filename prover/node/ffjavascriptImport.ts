/**
 * Importing ffjavascript (snarkjs's, or circomlibjs's own copy) inside a `worker_threads` worker.
 *
 * ffjavascript pins `web-worker@1.2.0`, whose Node entry decides at load time, from
 * `worker_threads.isMainThread`, whether it is the parent side (a `Worker` class) or the inside of a thread it
 * spawned itself (and then fails on the missing `workerData.mod` in any other worker thread, and takes over the
 * thread's message port; fixed upstream only after 1.2.0). So `isMainThread` reads `true` while the module (and
 * with it web-worker) is first evaluated, which makes web-worker take its parent side: threads ffjavascript starts
 * then become nested workers of this one, and they get `workerData.mod` as usual.
 */
import { createRequire } from "node:module";

/** Runs `load` (an `import()` of a module that loads ffjavascript) as if in the main thread; see the module doc. */
export async function importAsParentThread<T>(load: () => Promise<T>): Promise<T> {
  const threads = createRequire(import.meta.url)("node:worker_threads") as { isMainThread: boolean };
  const saved = threads.isMainThread;
  threads.isMainThread = true;
  try {
    return await load();
  } finally {
    threads.isMainThread = saved;
  }
}
