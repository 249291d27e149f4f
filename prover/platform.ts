/**
 * What differs between Node and the browser for the prover, resolved through package.json `"imports"`:
 * `#prover-platform` is `node/platform.ts` under the `node` condition (files of the repository, `worker_threads`)
 * and `web/platform.ts` otherwise (no default source, Web Workers). So `index.ts` and `artifacts.ts` import no
 * Node built-in, and a browser bundle never sees one.
 */
import type { ProverBackend } from "./backend.ts";
import type { ArtifactSource } from "./sources.ts";

/** The platform defaults of the prover. */
export interface Platform {
  /** The artifact source used when the caller passes none. */
  defaultSource(): ArtifactSource;
  /** The source for the Node-only `root` option (a directory holding `build/circuits/`). */
  rootSource(root: string): ArtifactSource;
  /** The backend used when the caller passes none (created once, on first use). */
  createBackend(): ProverBackend;
}
