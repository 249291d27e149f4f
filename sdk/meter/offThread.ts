/**
 * A station's per-reading signature checks off its event loop: {@link signedMessageHolds} (one Poseidon hash and
 * one EdDSA-Poseidon check, a few ms) on the worker threads of `#task-pool` (sdk/node/taskPool.ts in Node,
 * min(2, cores) workers), or in-thread where there is none (a browser, one core). Many sessions' readings are then
 * checked at once on the other cores while the caller keeps serving; the verdict is the same function's.
 *
 * This module is also the workers' task module: they import it and call {@link checkSignedMessage}.
 */
import { sharedTaskPool } from "#task-pool";
import { signedMessageHolds, type SignedMessageCheck } from "./record.ts";

/** Task (on a worker): {@link signedMessageHolds}. */
export function checkSignedMessage(check: SignedMessageCheck): boolean {
  return signedMessageHolds(check);
}

/** {@link signedMessageHolds} on a worker thread where there is one, else here. */
export async function signedMessageHoldsOffThread(check: SignedMessageCheck): Promise<boolean> {
  const workers = sharedTaskPool(import.meta.url);
  if (!workers) return signedMessageHolds(check);
  return workers.run<boolean>("checkSignedMessage", [check]);
}

/** Starts the workers now (they load their modules, seconds under load), so the first readings do not wait. */
export function prepareSignatureWorkers(): void {
  sharedTaskPool(import.meta.url)?.start();
}
