/**
 * A task worker (runs in a `worker_threads` Worker started by `taskPool.ts`): imports the task module named in
 * `workerData.module` and answers each `{ id, name, args }` with `{ id, result }` or `{ id, error }`, moving the
 * `ArrayBuffer`s of a result back instead of copying them.
 */
import { parentPort, workerData } from "node:worker_threads";

const port = parentPort;
if (port === null) throw new Error("sdk/node/taskWorker.ts must run in a worker thread");
const tasks = (await import((workerData as { module: string }).module)) as Record<string, unknown>;

/** The buffers of a result (itself, or the items of a list) to transfer. */
function buffers(result: unknown): ArrayBuffer[] {
  if (result instanceof ArrayBuffer) return [result];
  if (Array.isArray(result)) return result.filter((x): x is ArrayBuffer => x instanceof ArrayBuffer);
  return [];
}

port.on("message", (msg: { id: number; name: string; args: unknown[] }) => {
  void (async () => {
    try {
      const task = tasks[msg.name];
      if (typeof task !== "function") throw new Error(`the task module has no function ${msg.name}`);
      const result: unknown = await (task as (...args: unknown[]) => unknown)(...msg.args);
      port.postMessage({ id: msg.id, result }, buffers(result));
    } catch (e) {
      port.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
    }
  })();
});
