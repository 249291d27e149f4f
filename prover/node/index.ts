/**
 * The prover's Node entry: everything of the portable `../index.ts`, plus what only Node has — file sources and
 * the repository layout (`fileSource.ts`) and the `worker_threads` pool (`pool.ts`). Scripts, tests and tools
 * import from here; the SDK and apps import `../index.ts`.
 */
export * from "../index.ts";
export { REPO_ROOT, artifactPaths, artifactsDir, fileSource, sha256File, type ArtifactPaths } from "./fileSource.ts";
export { ProverPool, WORKER_URL, defaultWorkerExecArgv, type PoolOptions } from "./pool.ts";
