/**
 * `#prover-platform` under Node (see `../platform.ts`): artifacts from the repository's `build/circuits/` (or a
 * `root` option's), proofs in a `worker_threads` pool.
 */
import type { Platform } from "../platform.ts";
import type { ArtifactSource } from "../sources.ts";
import { artifactsDir, fileSource } from "./fileSource.ts";
import { ProverPool } from "./pool.ts";

// One source object per directory, so loadArtifacts' per-source cache holds across calls with the same root.
const sources = new Map<string, ArtifactSource>();
function sourceFor(dir: string): ArtifactSource {
  let s = sources.get(dir);
  if (s === undefined) sources.set(dir, (s = fileSource(dir)));
  return s;
}

/** The Node platform defaults. */
export const platform: Platform = {
  defaultSource: () => sourceFor(artifactsDir()),
  rootSource: (root) => sourceFor(artifactsDir(root)),
  createBackend: () => new ProverPool(),
};
