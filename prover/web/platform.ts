/**
 * `#prover-platform` outside Node (see `../platform.ts`): proofs in Web Workers; no default artifact source, since
 * only the app knows where it serves (or keeps) the circuit files.
 */
import type { Platform } from "../platform.ts";
import { WebWorkerBackend } from "./backend.ts";

/** The browser platform defaults. */
export const platform: Platform = {
  defaultSource() {
    throw new Error(
      "prover: no default artifact source outside Node; pass { source: urlSource(<URL of build/circuits/>) } " +
        "or memorySource(...) (and, ideally, a pinned manifest)",
    );
  },
  rootSource(root) {
    throw new Error(
      `prover: the root option (${JSON.stringify(root)}) reads files and works only in Node; pass { source }`,
    );
  },
  createBackend: () => new WebWorkerBackend(),
};
